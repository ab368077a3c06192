"""No exception text reaches a client: a handler that raises is answered with a generic message and a
reference, and the server's log holds the exception under that reference (tools, tasks, resources,
prompts). A tool's own successful data never fails its task, whatever text it holds."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.cluster_support import Conn, sse_data, start_session
from tests.conftest import RunningServer

pytestmark = pytest.mark.timeout(60)
APP = "tests/apps/limits.py:server"
SECRET = "secret-detail-123"


@pytest.fixture(scope="module")
def server() -> Iterator[RunningServer]:
    running = RunningServer(app=APP)
    yield running
    running.stop()


def _answer(body: bytes) -> dict[str, Any]:
    if body.startswith(b"event:") or b"\ndata: " in body or body.startswith(b"id:"):
        body = [e for e in sse_data(body) if b'"result"' in e or b'"error"' in e][-1]
    return json.loads(body)  # type: ignore[no-any-return]


def _request(
    conn: Conn, request_id: int, method: str, params: dict[str, Any]
) -> tuple[bytes, dict[str, Any]]:
    status, _, body = conn.post({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params})
    assert status == 200, (status, body)
    return body, _answer(body)


def _wait_for_log(server: RunningServer, reference: str) -> str:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        log = "".join(server.lines)
        if reference in log and SECRET in log.split(reference, 1)[1]:
            return log
        time.sleep(0.05)
    raise AssertionError(f"reference {reference} with the exception not in the log:\n{''.join(server.lines)}")


def test_no_exception_text_reaches_the_client(server: RunningServer) -> None:
    conn = Conn(server.port, start_session(server.port))
    references = []
    for n, tool in enumerate(("leaky", "leaky_inline", "leaky_awaits")):
        raw, answer = _request(conn, 10 + n, "tools/call", {"name": tool, "arguments": {}})
        assert SECRET.encode() not in raw and "RuntimeError" not in raw.decode()
        result = answer["result"]
        assert result["isError"] is True
        references.append(re.search(r"reference ([0-9a-f]+)", result["content"][0]["text"]).group(1))  # type: ignore[union-attr]
    for n, (method, params) in enumerate(
        (("resources/read", {"uri": "limits://leaky"}), ("prompts/get", {"name": "leaky_prompt"}))
    ):
        raw, answer = _request(conn, 20 + n, method, params)
        assert SECRET.encode() not in raw and "RuntimeError" not in raw.decode()
        error = answer["error"]
        assert error["code"] == -32603 and error["data"]["reference"] in error["message"]
        references.append(error["data"]["reference"])
    # As a task: the failed task's status message and its tasks/result carry no exception text either.
    raw, created = _request(
        conn, 30, "tools/call", {"name": "leaky", "arguments": {}, "task": {"ttl": 60_000}}
    )
    task_id = created["result"]["task"]["taskId"]
    raw_result, task_result = _request(conn, 31, "tasks/result", {"taskId": task_id})
    raw_get, task = _request(conn, 32, "tasks/get", {"taskId": task_id})
    assert task["result"]["status"] == "failed"
    for body in (raw, raw_result, raw_get):
        assert SECRET.encode() not in body and "RuntimeError" not in body.decode()
    text = task_result["result"]["content"][0]["text"]
    references.append(re.search(r"reference ([0-9a-f]+)", text).group(1))  # type: ignore[union-attr]
    assert len(set(references)) == len(references)
    for reference in references:  # the log has each failure, traceback and text, under its reference
        log = _wait_for_log(server, reference)
    assert "Traceback" in log
    conn.close()


def test_a_tools_own_data_never_fails_its_task(server: RunningServer) -> None:
    conn = Conn(server.port, start_session(server.port))
    raw, created = _request(conn, 1, "tools/call", {"name": "reports_is_error", "arguments": {}, "task": {}})
    task_id = created["result"]["task"]["taskId"]
    raw, result = _request(conn, 2, "tasks/result", {"taskId": task_id})
    assert b'"isError":true' in raw  # the tool's data holds the very bytes the old check searched for
    assert result["result"]["structuredContent"]["isError"] is True
    _, task = _request(conn, 3, "tasks/get", {"taskId": task_id})
    assert task["result"]["status"] == "completed"
    # A real error result still fails its task.
    _, created = _request(conn, 4, "tools/call", {"name": "leaky", "arguments": {}, "task": {}})
    task_id = created["result"]["task"]["taskId"]
    _request(conn, 5, "tasks/result", {"taskId": task_id})
    _, task = _request(conn, 6, "tasks/get", {"taskId": task_id})
    assert task["result"]["status"] == "failed"
    conn.close()
