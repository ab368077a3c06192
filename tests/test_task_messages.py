"""tasks.mdx: a task's messages (its input requests, progress, status) reach the client over HTTP with no
GET stream open: on the tasks/result response stream, queued until it opens, each naming its task."""

from __future__ import annotations

import http.client
import json
from typing import Any

import pytest

from tests.conftest import RunningServer

pytestmark = pytest.mark.timeout(60)
RELATED = "io.modelcontextprotocol/related-task"
HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


def post(server: RunningServer, body: Any, session: dict[str, str]) -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=20)
    conn.request("POST", "/mcp", body=json.dumps(body).encode(), headers={**HEADERS, **session})
    return conn.getresponse()


def events(response: http.client.HTTPResponse):  # type: ignore[no-untyped-def]
    for raw in response:
        line = raw.decode().rstrip("\r\n")
        if line.startswith("data: ") and line[6:].strip():
            yield json.loads(line[6:])


def test_elicitation_and_result_on_the_tasks_result_stream(http_server: RunningServer) -> None:
    init = post(http_server, {"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {"elicitation": {"form": {}}},
        "clientInfo": {"name": "t", "version": "1"}}}, {})
    session = {"Mcp-Session-Id": init.getheader("mcp-session-id"), "MCP-Protocol-Version": "2025-11-25"}
    init.read()
    post(http_server, {"jsonrpc": "2.0", "method": "notifications/initialized"}, session).read()
    created = json.loads(post(http_server, {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
        "name": "confirm_then_sum", "arguments": {"numbers": [1, 2]}, "task": {}}}, session).read())
    task_id = created["result"]["task"]["taskId"]
    # No GET stream: the elicitation waits for tasks/result and arrives on its stream.
    stream = events(post(http_server, {"jsonrpc": "2.0", "id": 2, "method": "tasks/result",
                                       "params": {"taskId": task_id}}, session))
    request = next(m for m in stream if m.get("method") == "elicitation/create")
    assert request["params"]["_meta"][RELATED] == {"taskId": task_id}
    answer = {"jsonrpc": "2.0", "id": request["id"], "result": {"action": "accept", "content": {"ok": True}}}
    assert post(http_server, answer, session).status == 202
    result = next(m for m in stream if m.get("id") == 2)
    assert result["result"]["content"][0]["text"] .startswith("sum=3")
    assert result["result"]["_meta"][RELATED] == {"taskId": task_id}


def test_progress_is_queued_until_tasks_result(http_server: RunningServer) -> None:
    init = post(http_server, {"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}, {})
    session = {"Mcp-Session-Id": init.getheader("mcp-session-id"), "MCP-Protocol-Version": "2025-11-25"}
    init.read()
    post(http_server, {"jsonrpc": "2.0", "method": "notifications/initialized"}, session).read()
    created = json.loads(post(http_server, {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
        "name": "slow", "arguments": {"seconds": 0.2}, "task": {}, "_meta": {"progressToken": "p"}}},
        session).read())
    task_id = created["result"]["task"]["taskId"]
    messages = list(events(post(http_server, {"jsonrpc": "2.0", "id": 2, "method": "tasks/result",
                                              "params": {"taskId": task_id}}, session)))
    progress = [m for m in messages if m.get("method") == "notifications/progress"]
    assert progress and all(m["params"]["_meta"][RELATED] == {"taskId": task_id} for m in progress)
    assert any(m.get("method") == "notifications/tasks/status" for m in messages)
    assert messages[-1]["id"] == 2 and messages[-1]["result"]["content"][0]["text"] == "slept 0.2 s"
