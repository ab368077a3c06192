"""The official Python SDK's client (`mcp` from PyPI) against our server over stdio and Streamable HTTP."""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import pytest
from mcp import ClientSession, StdioServerParameters, types
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client

from tests.conftest import EVERYTHING

pytestmark = pytest.mark.timeout(60)


def demo_params() -> StdioServerParameters:
    return StdioServerParameters(command=sys.executable, args=["-m", "runtime", "serve", EVERYTHING, "--stdio"])


@pytest.fixture(params=["stdio", "http"])
def sdk_transport(request: pytest.FixtureRequest, http_server: Any) -> Any:
    if request.param == "stdio":
        return stdio_client(demo_params())
    return streamable_http_client(http_server.url)


async def test_official_client_full_tour(sdk_transport: Any) -> None:
    logs: list[Any] = []
    progress: list[float] = []

    async def on_log(params: types.LoggingMessageNotificationParams) -> None:
        logs.append(params.data)

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append(value)

    async with (
        sdk_transport as (read, write),
        ClientSession(read, write, logging_callback=on_log) as session,
    ):
        init = await session.initialize()
        assert init.protocol_version == "2025-11-25"
        assert init.server_info.name == "mcprt-demo"

        tools = await session.list_tools()
        names = {tool.name for tool in tools.tools}
        assert {"echo", "add", "test_simple_text"} <= names

        echoed = await session.call_tool("echo", {"text": "from the SDK"})
        assert echoed.content[0].text == "from the SDK" and not echoed.is_error

        added = await session.call_tool("add", {"numbers": [2, 3]})
        assert added.structured_content == {"total": 5.0, "count": 2}

        failed = await session.call_tool("test_error_handling", {})
        assert failed.is_error

        await session.set_logging_level("debug")
        await session.call_tool("test_tool_with_logging", {})
        await asyncio.sleep(0.05)
        assert logs == ["Tool execution started", "Tool processing data", "Tool execution completed"]

        await session.call_tool("test_tool_with_progress", {}, progress_callback=on_progress)
        await asyncio.sleep(0.05)
        assert progress == [0, 50, 100]

        resources = await session.list_resources()
        assert any(str(r.uri) == "test://static-text" for r in resources.resources)
        templates = await session.list_resource_templates()
        assert templates.resource_templates[0].uri_template == "test://template/{id}/data"
        read = await session.read_resource("test://template/7/data")
        assert '"id":"7"' in read.contents[0].text
        await session.subscribe_resource("test://watched-resource")
        await session.unsubscribe_resource("test://watched-resource")

        prompts = await session.list_prompts()
        assert any(p.name == "test_simple_prompt" for p in prompts.prompts)
        prompt = await session.get_prompt("test_prompt_with_arguments", {"arg1": "x", "arg2": "y"})
        assert prompt.messages[0].content.text == "Prompt with arguments: arg1='x', arg2='y'"

        completion = await session.complete(
            types.PromptReference(type="ref/prompt", name="test_prompt_with_arguments"),
            {"name": "arg1", "value": "g"},
        )
        assert completion.completion.values == ["green"]

        await session.send_ping()
