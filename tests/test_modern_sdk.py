"""The official Python SDK (2.3.0) client against `mcprt serve` over the MCP 2026-07-28 wire, over HTTP and
stdio: it probes server/discover, stays modern, and drives our handlers' elicitation, sampling and roots
through multi round-trip requests without either side doing anything special."""

from __future__ import annotations

import sys
from typing import Any

import pytest
from mcp import Client, types
from mcp.client.stdio import StdioServerParameters

from tests.conftest import EVERYTHING, RunningServer


async def _elicit(ctx: Any, params: Any) -> types.ElicitResult:
    return types.ElicitResult(action="accept", content={"name": "Ada", "color": "blue", "context": "tests"})


async def _sample(ctx: Any, params: Any) -> types.CreateMessageResult:
    return types.CreateMessageResult(
        role="assistant", content=types.TextContent(type="text", text="Paris"), model="test-model"
    )


async def _roots(ctx: Any) -> types.ListRootsResult:
    return types.ListRootsResult(roots=[types.Root(uri="file:///tmp")])


@pytest.fixture(params=["http", "stdio"])
def sdk_target(request: pytest.FixtureRequest) -> Any:
    if request.param == "stdio":
        yield StdioServerParameters(
            command=sys.executable, args=["-m", "runtime", "serve", EVERYTHING, "--stdio"]
        )
        return
    server = RunningServer()
    yield server.url
    server.stop()


async def test_the_official_client_speaks_2026_07_28_with_us(sdk_target: Any) -> None:
    logs: list[Any] = []

    async def log(params: Any) -> None:
        logs.append(params)

    async with Client(
        sdk_target,
        elicitation_callback=_elicit,
        sampling_callback=_sample,
        list_roots_callback=_roots,
        logging_callback=log,
        log_level="info",
    ) as client:
        assert client.session.protocol_version == "2026-07-28"  # discovered, not the legacy handshake
        assert any(tool.name == "test_custom_header" for tool in (await client.list_tools()).tools)
        texts = {}
        for name in (
            "test_input_required_result_elicitation",
            "test_input_required_result_multiple_inputs",
            "test_input_required_result_multi_round",
            "test_sampling",
            "test_custom_header",
        ):
            arguments = {
                "test_sampling": {"prompt": "hi"},
                "test_custom_header": {"region": "eu", "query": "q"},
            }
            result = await client.call_tool(name, arguments.get(name, {}))
            assert not result.is_error, (name, result)
            texts[name] = result.content[0].text  # type: ignore[union-attr]
        assert texts["test_input_required_result_elicitation"] == "Hello, Ada!"
        assert texts["test_input_required_result_multiple_inputs"] == "Paris Ada (1 roots)"
        assert texts["test_input_required_result_multi_round"] == "Ada likes blue"
        assert texts["test_sampling"] == "LLM response: Paris"
        await client.call_tool("test_tool_with_logging", {})
        assert logs  # at the level the client asked for on each request
        read = await client.read_resource("test://static-text")
        assert read.ttl_ms == 0 and read.cache_scope == "public"
        prompt = await client.get_prompt("test_input_required_result_prompt")
        assert prompt.messages[0].content.text == "Use this context: tests"  # type: ignore[union-attr]
