"""--max-tasks bounds the tasks kept (running, or finished and not yet expired) with or without a
supervisor: N tasks are accepted, the next one is refused with a JSON-RPC error until one expires. Under
--workers 2 the bound holds across workers, and a result larger than a task record fails its task clearly."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from runtime import Client, McpError
from runtime.tasks import DEFAULT_MAX_TASKS, TaskRunner
from tests.cluster_support import ClusterServer, Conn, sse_data, start_session
from tests.conftest import RunningServer, serve_command

pytestmark = pytest.mark.timeout(90)
APP = "tests/apps/limits.py:server"
LIMIT = 3


def _json(body: bytes) -> Any:
    """A JSON response, or the last message of an SSE one."""
    if not body.startswith(b"{"):
        body = [e for e in sse_data(body) if b'"result"' in e or b'"error"' in e][-1]
    return json.loads(body)


async def _fill_to_the_edge(target: Any) -> None:
    async with Client(target) as client:
        for _ in range(LIMIT):  # each finishes at once, and is kept until its ttl passes
            await client.start_tool_task("quick", ttl_ms=1500)
        with pytest.raises(McpError) as refused:
            await client.start_tool_task("quick", ttl_ms=1500)
        assert refused.value.code == -32603 and refused.value.data == {"limit": LIMIT}
        assert f"limit {LIMIT}" in refused.value.message
        assert len(await client.list_tasks()) == LIMIT
        await asyncio.sleep(2.0)  # expired: room again
        task = await client.start_tool_task("quick", ttl_ms=60_000)
        assert (await client.task_result(task.task_id)).content[0].text == "done"


@pytest.mark.parametrize("transport", ["stdio", "http"])
async def test_max_tasks_without_a_supervisor(transport: str) -> None:
    if transport == "stdio":
        await _fill_to_the_edge(serve_command("--stdio", "--max-tasks", str(LIMIT), app=APP))
        return
    server = RunningServer("--max-tasks", str(LIMIT), app=APP)
    try:
        await _fill_to_the_edge(server.url)
    finally:
        server.stop()


def test_the_default_applies_to_the_library_runner_too() -> None:
    assert TaskRunner().max_tasks == DEFAULT_MAX_TASKS


async def test_max_tasks_across_two_workers() -> None:
    cluster = ClusterServer(2, APP, "--max-tasks", str(LIMIT), "--task-record-bytes", "4K")
    try:
        session = start_session(cluster.port)
        created = []
        for n in range(LIMIT + 1):
            conn = Conn(cluster.port, session)  # a new connection each: the workers share the bound
            message = {"jsonrpc": "2.0", "id": n + 1, "method": "tools/call"}
            message["params"] = {"name": "echo_any", "arguments": {"value": "x" * 8000}, "task": {}}
            status, _, body = conn.post(message)
            conn.close()
            assert status == 200
            created.append(body)
        answers = [_json(body) for body in created]
        assert all("task" in a["result"] for a in answers[:LIMIT]), answers
        assert answers[LIMIT]["error"]["code"] == -32603 and answers[LIMIT]["error"]["data"] == {
            "limit": LIMIT
        }
        # Each result (16 KB: the value twice) is larger than a 4 KiB record: its task failed, saying why.
        task_id = answers[0]["result"]["task"]["taskId"]
        conn = Conn(cluster.port, session)
        status, _, body = conn.post(
            {"jsonrpc": "2.0", "id": 99, "method": "tasks/result", "params": {"taskId": task_id}}
        )
        error = _json(body)["error"]
        assert "exceeds the shared task store's limit (4096)" in error["message"]
        status, _, body = conn.post(
            {"jsonrpc": "2.0", "id": 100, "method": "tasks/get", "params": {"taskId": task_id}}
        )
        assert _json(body)["result"]["status"] == "failed"
        conn.close()
    finally:
        assert cluster.stop() == 0
