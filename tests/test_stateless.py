"""`--stateless` Streamable HTTP with the official Python SDK client: initialize answered, no session id,
every request served on its own, no tasks capability (nothing could bind a task to its requestor)."""

from __future__ import annotations

from typing import Any

import httpx2 as httpx
import pytest
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

from tests.conftest import RunningServer

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def stateless_server() -> Any:
    server = RunningServer("--stateless")
    yield server
    server.stop()


async def test_official_client_in_stateless_mode(stateless_server: RunningServer) -> None:
    session_ids: list[str | None] = []

    async def record(response: httpx.Response) -> None:
        session_ids.append(response.headers.get("mcp-session-id"))

    async with (
        httpx.AsyncClient(event_hooks={"response": [record]}) as http,
        streamable_http_client(stateless_server.url, http_client=http) as (read, write),
        ClientSession(read, write) as session,
    ):
        init = await session.initialize()
        assert init.protocol_version == "2025-11-25"
        assert init.capabilities.tasks is None  # not offered without sessions
        assert init.capabilities.tools is not None
        echoed = await session.call_tool("echo", {"text": "alone"})
        assert echoed.content[0].text == "alone" and not echoed.is_error
        tools = await session.list_tools()
        assert "echo" in {tool.name for tool in tools.tools}
        await session.send_ping()
    assert session_ids and all(value is None for value in session_ids)


async def test_stateless_task_request_runs_as_a_plain_call(stateless_server: RunningServer) -> None:
    """A task-augmented call to a server that offers no tasks is served normally (tasks.mdx)."""
    async with httpx.AsyncClient() as http:
        response = await http.post(
            stateless_server.url,
            json={
                "jsonrpc": "2.0",
                "id": 1,
                "method": "tools/call",
                "params": {"name": "slow", "arguments": {"seconds": 0.05}, "task": {"ttl": 1000}},
            },
            headers={"Accept": "application/json, text/event-stream", "MCP-Protocol-Version": "2025-11-25"},
        )
        result = response.json()["result"]
        assert "task" not in result and not result.get("isError")
        listed = await http.post(
            stateless_server.url,
            json={"jsonrpc": "2.0", "id": 2, "method": "tasks/list"},
            headers={"Accept": "application/json, text/event-stream", "MCP-Protocol-Version": "2025-11-25"},
        )
        assert listed.json()["error"]["code"] == -32601
