"""Every example in examples/ runs with `mcprt serve examples/X.py` and does what its docstring says: each is
started over stdio with our Client, its tools listed and called."""

from __future__ import annotations

from typing import Any

import pytest

from runtime import Client
from runtime.protocol import types as t
from tests.conftest import ROOT, RunningServer, serve_command

EXAMPLES = ROOT / "examples"
pytestmark = pytest.mark.timeout(60)


def example(name: str, *args: str) -> list[str]:
    return serve_command("--stdio", *args, app=str(EXAMPLES / name))


def text(result: t.CallToolResult) -> str:
    first = result.content[0]
    assert isinstance(first, t.TextContent)
    return first.text


async def test_hello_greets() -> None:
    async with Client(example("hello.py")) as client:
        assert client.server_info is not None and client.server_info.name == "hello"
        tools = await client.list_tools()
        assert [tool.name for tool in tools] == ["greet"]
        assert tools[0].description == "Say hello to someone."
        result = await client.call_tool("greet", {"name": "Ada"})
        assert not result.is_error and text(result) == "Hello, Ada!"


@pytest.mark.parametrize("transport", ["stdio", "http"])
async def test_weather_tool_resource_prompt_completion(transport: str) -> None:
    server = RunningServer(app=str(EXAMPLES / "weather.py")) if transport == "http" else None
    logs: list[Any] = []
    try:
        target = server.url if server else example("weather.py")
        async with Client(target, on_log=logs.append) as client:
            (tool,) = await client.list_tools()
            assert tool.name == "forecast" and tool.output_schema is not None
            await client.set_log_level("info")
            result = await client.call_tool("forecast", {"city": "Porto"})
            assert result.structured_content == {"city": "Porto", "celsius": 24.0}
            assert [log.data for log in logs] == ["looking up Porto"]
            unknown = await client.call_tool("forecast", {"city": "Atlantis"})
            assert unknown.is_error and "no forecast for Atlantis" in text(unknown)

            (template,) = await client.list_resource_templates()
            assert template.uri_template == "weather://cities/{city}/today"
            read = await client.read_resource("weather://cities/Paris/today")
            assert read.contents[0]["text"] == "Sunny in Paris"

            (prompt,) = await client.list_prompts()
            assert prompt.name == "plan_trip"
            got = await client.get_prompt("plan_trip", {"city": "Prague", "days": "2"})
            message = got.messages[0].content
            assert isinstance(message, t.TextContent) and "2-day trip to Prague" in message.text
            completion = await client.complete({"type": "ref/prompt", "name": "plan_trip"}, "city", "p")
            assert completion.completion.values == ["Paris", "Porto", "Prague"]
    finally:
        if server is not None:
            server.stop()


async def test_progress_and_sampling_talks_back_while_running() -> None:
    asked: list[str] = []
    progress: list[tuple[float, float | None, str | None]] = []
    logs: list[Any] = []

    async def elicit(params: Any) -> dict[str, Any]:
        asked.append(params["message"])
        return {"action": "accept", "content": {"topic": "tides", "words": 20}}

    async def sample(params: Any) -> dict[str, Any]:
        prompt = params.messages[0].content.text
        return {"role": "assistant", "content": {"type": "text", "text": f"LLM: {prompt}"}, "model": "m"}

    def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append((value, total, message))

    async with Client(
        example("progress_and_sampling.py"), elicitation_handler=elicit, sampling_handler=sample, on_log=logs.append
    ) as client:
        assert [tool.name for tool in await client.list_tools()] == ["write_summary"]
        await client.set_log_level("debug")
        result = await client.call_tool("write_summary", {"steps": 3}, progress=on_progress)
        assert not result.is_error and text(result) == "LLM: Summarize tides in 20 words."
        assert asked == ["What should the summary be about?"]
        assert [value for value, _, _ in progress] == [1, 2, 3] and progress[-1][1] == 3
        assert [log.data for log in logs] == [
            "finished step 1", "finished step 2", "finished step 3", "summary written"
        ]


async def test_progress_and_sampling_respects_a_declined_form() -> None:
    async def decline(params: Any) -> dict[str, Any]:
        return {"action": "decline"}

    async def sample(params: Any) -> dict[str, Any]:
        raise AssertionError("no LLM call after the user declined")

    async with Client(
        example("progress_and_sampling.py"), elicitation_handler=decline, sampling_handler=sample
    ) as client:
        result = await client.call_tool("write_summary", {"steps": 1})
        assert text(result) == "No summary: the user chose decline."


async def test_everything_has_the_conformance_fixtures() -> None:
    async with Client(example("everything.py")) as client:
        names = {tool.name for tool in await client.list_tools()}
        assert {"test_simple_text", "test_tool_with_progress", "test_elicitation", "json_schema_2020_12_tool"} <= names
        uris = {resource.uri for resource in await client.list_resources()}
        assert {"test://static-text", "test://static-binary", "test://watched-resource"} <= uris


async def test_mcprt_serve_without_an_app_serves_the_small_default() -> None:
    # An installed mcprt has no examples/: `mcprt serve` alone serves runtime/default_app.py.
    command = serve_command("--stdio")
    command.remove(command[4])  # drop the app serve_command adds
    async with Client(command) as client:
        assert client.server_info is not None and client.server_info.name == "mcprt"
        assert [tool.name for tool in await client.list_tools()] == ["echo"]
        assert text(await client.call_tool("echo", {"text": "hi"})) == "hi"
        read = await client.read_resource("mcprt://about")
        assert read.contents and [p.name for p in await client.list_prompts()] == ["greet"]
