"""End to end: our Client against a real `mcprt serve` subprocess running examples/everything.py, over stdio and HTTP."""

from __future__ import annotations

import asyncio
import base64
from collections import UserList
from typing import Any

import pytest

from runtime import Client, McpError
from runtime.protocol import types as t

pytestmark = pytest.mark.timeout(60)


async def test_initialize_negotiates_latest(target: Any) -> None:
    async with Client(target) as client:
        assert client.protocol_version == "2025-11-25"
        assert client.server_info is not None and client.server_info.name == "mcprt-demo"
        assert client.server_info.title == "mcprt demo server"
        caps = client.server_capabilities
        assert caps is not None and caps.tools is not None and caps.resources is not None
        assert caps.resources.subscribe is True and caps.prompts is not None
        assert caps.logging is not None and caps.completions is not None
        assert client.instructions


@pytest.mark.parametrize("version", ["2025-06-18", "2025-03-26", "2024-11-05"])
async def test_older_versions_are_accepted(target: Any, version: str) -> None:
    async with Client(target, protocol_version=version) as client:
        assert client.protocol_version == version
        assert (await client.call_tool("echo", {"text": "old"})).content[0].text == "old"


async def test_unknown_version_gets_latest(target: Any) -> None:
    async with Client(target, protocol_version="1999-01-01") as client:
        assert client.protocol_version == "2025-11-25"


async def test_tools(target: Any) -> None:
    async with Client(target) as client:
        tools = {tool.name: tool for tool in await client.list_tools()}
        assert {"echo", "add", "test_simple_text", "json_schema_2020_12_tool"} <= tools.keys()
        assert tools["echo"].input_schema == {
            "type": "object",
            "properties": {"text": {"type": "string"}},
            "required": ["text"],
        }
        assert tools["echo"].annotations is not None and tools["echo"].annotations.read_only_hint is True
        assert tools["add"].output_schema is not None
        assert tools["add"].input_schema["properties"]["numbers"]["description"] == "numbers to add"
        schema = tools["json_schema_2020_12_tool"].input_schema
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert "$defs" in schema and schema["additionalProperties"] is False

        result = await client.call_tool("echo", {"text": "héllo"})
        assert result.content == [t.TextContent(text="héllo")] and not result.is_error

        added = await client.call_tool("add", {"numbers": [1, 2, 3.5]})
        assert added.structured_content == {"total": 6.5, "count": 3}

        image = await client.call_tool("test_image_content")
        assert isinstance(image.content[0], t.ImageContent) and image.content[0].mime_type == "image/png"
        assert base64.b64decode(image.content[0].data).startswith(b"\x89PNG")

        mixed = await client.call_tool("test_multiple_content_types")
        assert [type(c) for c in mixed.content] == [t.TextContent, t.ImageContent, t.EmbeddedResource]


async def test_tool_errors(target: Any) -> None:
    async with Client(target) as client:
        failed = await client.call_tool("test_error_handling")
        assert failed.is_error is True and "intentionally" in failed.content[0].text

        invalid = await client.call_tool("echo", {"text": 5})
        assert invalid.is_error is True
        assert (
            "Invalid arguments for tool 'echo'" in invalid.content[0].text
            and "text" in invalid.content[0].text
        )

        missing = await client.call_tool("echo", {})
        assert missing.is_error is True and "text" in missing.content[0].text

        with pytest.raises(McpError) as unknown:
            await client.call_tool("no_such_tool")
        assert unknown.value.code == -32602


async def test_progress_and_logging(target: Any) -> None:
    logs: list[t.LoggingMessageNotificationParams] = []
    progress: list[tuple[float, float | None, str | None]] = []
    async with Client(target, on_log=logs.append) as client:
        await client.set_log_level("debug")
        await client.call_tool("test_tool_with_logging")
        assert [m.data for m in logs] == [
            "Tool execution started",
            "Tool processing data",
            "Tool execution completed",
        ]
        await client.set_log_level("error")
        await client.call_tool("test_tool_with_logging")
        assert len(logs) == 3  # below the level: not sent

        def on_progress(value: float, total: float | None, message: str | None) -> None:
            progress.append((value, total, message))

        await client.call_tool("test_tool_with_progress", progress=on_progress)
        assert [(p[0], p[1]) for p in progress] == [(0, 100), (50, 100), (100, 100)]

        with pytest.raises(McpError) as bad_level:
            await client.set_log_level("loud")
        assert bad_level.value.code == -32602


async def test_cancellation(target: Any) -> None:
    async with Client(target) as client:
        call = asyncio.ensure_future(client.call_tool("slow", {"seconds": 5}))
        await asyncio.sleep(0.3)
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        # The server dropped the cancelled call and still serves the session.
        assert (await client.call_tool("echo", {"text": "after"})).content[0].text == "after"

        with pytest.raises(TimeoutError):
            await client.call_tool("slow", {"seconds": 5}, timeout=0.2)
        await client.ping()


async def test_resources(target: Any) -> None:
    async with Client(target) as client:
        uris = {r.uri for r in await client.list_resources()}
        assert {"test://static-text", "test://static-binary", "test://watched-resource"} <= uris
        templates = await client.list_resource_templates()
        assert [tpl.uri_template for tpl in templates] == ["test://template/{id}/data"]

        text = await client.read_resource("test://static-text")
        assert text.contents[0]["text"] == "This is the content of the static text resource."
        assert text.contents[0]["mimeType"] == "text/plain"
        blob = await client.read_resource("test://static-binary")
        assert base64.b64decode(blob.contents[0]["blob"]).startswith(b"\x89PNG")
        templated = await client.read_resource("test://template/42/data")
        assert '"id":"42"' in templated.contents[0]["text"]
        assert templated.contents[0]["uri"] == "test://template/42/data"

        with pytest.raises(McpError) as missing:
            await client.read_resource("test://nothing-here")
        assert missing.value.code == -32002 and missing.value.data == {"uri": "test://nothing-here"}

        await client.subscribe("test://watched-resource")
        await client.unsubscribe("test://watched-resource")


async def test_prompts_and_completion(target: Any) -> None:
    async with Client(target) as client:
        prompts = {p.name: p for p in await client.list_prompts()}
        assert {"test_simple_prompt", "test_prompt_with_arguments"} <= prompts.keys()
        args = prompts["test_prompt_with_arguments"].arguments
        assert args is not None and [(a.name, a.required) for a in args] == [("arg1", True), ("arg2", True)]

        result = await client.get_prompt("test_prompt_with_arguments", {"arg1": "a", "arg2": "b"})
        assert result.messages[0].role == "user"
        assert result.messages[0].content.text == "Prompt with arguments: arg1='a', arg2='b'"
        with pytest.raises(McpError) as missing:
            await client.get_prompt("test_prompt_with_arguments", {"arg1": "a"})
        assert missing.value.code == -32602 and "arg2" in missing.value.message
        with pytest.raises(McpError):
            await client.get_prompt("no_such_prompt")

        done = await client.complete(
            {"type": "ref/prompt", "name": "test_prompt_with_arguments"}, "arg1", "b"
        )
        assert done.completion.values == ["blue"]
        ids = await client.complete({"type": "ref/resource", "uri": "test://template/{id}/data"}, "id", "1")
        assert len(ids.completion.values) == 100 and ids.completion.has_more is True
        assert ids.completion.total == 111


async def test_many_concurrent_requests(target: Any) -> None:
    async with Client(target) as client:
        results = await asyncio.gather(*(client.call_tool("echo", {"text": str(i)}) for i in range(200)))
        assert [r.content[0].text for r in results] == [str(i) for i in range(200)]


async def test_a_command_in_any_sequence_starts_a_stdio_server(stdio_command: list[str]) -> None:
    # A command is any Sequence[str] (the annotation says so), not only a list or a tuple.
    async with Client(UserList(stdio_command)) as client:
        assert client.server_info is not None and client.server_info.name == "mcprt-demo"
