"""Integers beyond 64 bits (>= 2**64, <= -2**63-1) in what one worker hands to another under --workers 2:
a client's answer to a server request, notifications/cancelled and responses with such ids, tool arguments
and results of tasks kept in the shared task store, and task errors. msgpack holds 64-bit integers only:
each is served correctly or refused in spec shape, never a 500, a dropped message or a dead worker."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.cluster_support import ACCEPT, ClusterServer, Conn, conns_by_worker, start_session, stream_lines

pytestmark = pytest.mark.timeout(120)
APP = "tests/apps/limits.py:server"
BIG, SMALL = 2**64, -(2**63) - 1


@pytest.fixture(scope="module")
def cluster() -> Iterator[ClusterServer]:
    server = ClusterServer(2, APP)
    yield server
    assert server.stop() == 0


def _post(conn: Conn, message: dict[str, Any]) -> tuple[int, Any]:
    status, headers, body = conn.post(message)
    if headers.get("content-type", "").startswith("text/event-stream"):
        body = [line[6:] for line in body.split(b"\n") if line.startswith(b"data: {")][-1]
    return status, json.loads(body) if body else None


def _pair(cluster: ClusterServer) -> tuple[dict[str, str], Conn, Conn]:
    session = start_session(cluster.port)
    conns = list(conns_by_worker(cluster.port, session, 2).values())
    assert len(conns) == 2
    return session, conns[0], conns[1]


def test_a_client_answer_with_big_integers_reaches_the_other_worker(cluster: ClusterServer) -> None:
    session, here, there = _pair(cluster)
    for value in (BIG, SMALL):
        headers = {"Accept": ACCEPT, "Content-Type": "application/json", **session}
        call = {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "tools/call",
            "params": {"name": "asks", "arguments": {}},
        }
        here.http.request("POST", "/mcp", body=json.dumps(call), headers=headers)
        events = stream_lines(here.http.getresponse())
        _, ask = next(events)
        assert ask["method"] == "elicitation/create"
        answer = {"jsonrpc": "2.0", "id": ask["id"], "result": {"action": "accept", "content": {"n": value}}}
        status, _ = _post(there, answer)  # through the other worker: forwarded to the one that asked
        assert status == 202
        _, done = next(events)
        for _ in events:
            pass
        assert done["id"] == 1 and done["result"]["structuredContent"]["content"] == {"n": value}


def test_ids_beyond_64_bits(cluster: ClusterServer) -> None:
    session, here, there = _pair(cluster)
    # A response to no request of ours, with an id no worker makes: accepted and ignored.
    status, _ = _post(there, {"jsonrpc": "2.0", "id": BIG + 1, "result": {}})
    assert status == 202
    # A request with such an id is answered with it; notifications/cancelled naming it (through another
    # worker) cancels it.
    status, answer = _post(
        here, {"jsonrpc": "2.0", "id": BIG, "method": "tools/call", "params": {"name": "quick"}}
    )
    assert status == 200 and answer["id"] == BIG and answer["result"]["content"][0]["text"] == "done"
    headers = {"Accept": ACCEPT, "Content-Type": "application/json", **session}
    slow = {
        "jsonrpc": "2.0",
        "id": SMALL,
        "method": "tools/call",
        "params": {"name": "sleeper", "arguments": {"seconds": 30}},
    }
    started = time.monotonic()
    here.http.request("POST", "/mcp", body=json.dumps(slow), headers=headers)
    time.sleep(0.5)
    cancel = {
        "jsonrpc": "2.0",
        "method": "notifications/cancelled",
        "params": {"requestId": SMALL, "reason": "test"},
    }
    status, _ = _post(there, cancel)
    assert status == 202
    response = here.http.getresponse()
    response.read()
    assert time.monotonic() - started < 15  # cancelled, not slept out
    here.close()
    there.close()


def test_task_arguments_results_and_errors_beyond_64_bits(cluster: ClusterServer) -> None:
    _, here, there = _pair(cluster)
    for n, value in enumerate((BIG, SMALL, {"deep": [BIG, SMALL]})):
        call = {"name": "echo_any", "arguments": {"value": value}, "task": {}}
        status, created = _post(
            here, {"jsonrpc": "2.0", "id": 10 + n, "method": "tools/call", "params": call}
        )
        assert status == 200, created
        task_id = created["result"]["task"]["taskId"]
        status, result = _post(
            there, {"jsonrpc": "2.0", "id": 20 + n, "method": "tasks/result", "params": {"taskId": task_id}}
        )
        assert status == 200 and result["result"]["structuredContent"] == {"value": value}
        status, task = _post(
            there, {"jsonrpc": "2.0", "id": 30 + n, "method": "tasks/get", "params": {"taskId": task_id}}
        )
        assert task["result"]["status"] == "completed"
    # A task whose error data holds such an integer fails with its error (the data as far as it can go).
    call = {"name": "refuses_with", "arguments": {"value": BIG}, "task": {}}
    status, created = _post(here, {"jsonrpc": "2.0", "id": 40, "method": "tools/call", "params": call})
    task_id = created["result"]["task"]["taskId"]
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        status, task = _post(
            there, {"jsonrpc": "2.0", "id": 41, "method": "tasks/get", "params": {"taskId": task_id}}
        )
        if task["result"]["status"] != "working":
            break
        time.sleep(0.05)
    assert task["result"]["status"] == "failed"
    status, result = _post(
        there, {"jsonrpc": "2.0", "id": 42, "method": "tasks/result", "params": {"taskId": task_id}}
    )
    assert status == 200 and result["error"]["code"] == -32602 and result["error"]["message"] == "refused"
    here.close()
    there.close()


def test_no_worker_failed(cluster: ClusterServer) -> None:
    log = cluster.log()
    assert "exited" not in log and "Traceback" not in log and "bad cluster message" not in log, log
    assert "in the HTTP handler" not in log
