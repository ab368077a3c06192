"""Server-to-client requests (sampling, elicitation, roots) end to end, over stdio and Streamable HTTP,
with our Client and with the official SDK client."""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import pytest
from mcp import ClientSession, StdioServerParameters, types
from mcp.client.stdio import stdio_client

from runtime import Client, McpError
from runtime.protocol import types as t
from tests.conftest import EVERYTHING

pytestmark = pytest.mark.timeout(60)
ROOTS = [{"uri": "file:///work/project", "name": "project"}]


async def sample(params: t.CreateMessageRequestParams) -> dict[str, Any]:
    prompt = params.messages[0].content.text  # type: ignore[union-attr]
    return {
        "role": "assistant",
        "content": {"type": "text", "text": f"echo: {prompt}"},
        "model": "test-model",
    }


async def elicit(params: dict[str, Any]) -> dict[str, Any]:
    properties = params["requestedSchema"]["properties"]
    return {"action": "accept", "content": {name: f"<{name}>" for name in properties}}


async def test_sampling_elicitation_roots_with_our_client(target: Any) -> None:
    async with Client(target, sampling_handler=sample, elicitation_handler=elicit, roots=ROOTS) as client:
        sampled = await client.call_tool("test_sampling", {"prompt": "hello"})
        assert sampled.content[0].text == "LLM response: echo: hello"
        elicited = await client.call_tool("test_elicitation", {"message": "who are you?"})
        assert "action=accept" in elicited.content[0].text and "<username>" in elicited.content[0].text
        roots = await client.call_tool("list_roots")
        assert roots.structured_content == {"result": ["file:///work/project"]}


async def test_url_mode_elicitation(target: Any) -> None:
    seen: list[Any] = []

    async def elicit(params: dict[str, Any]) -> dict[str, Any]:
        seen.append(params)
        return {"action": "accept"}

    async with Client(
        target, elicitation_handler=elicit, on_notification=lambda m, p: seen.append((m, p))
    ) as client:
        result = await client.call_tool("connect_account")
        assert result.content[0].text == "connect: accept"
        assert seen[0]["mode"] == "url" and seen[0]["url"] == "https://example.com/connect"
        assert seen[0]["elicitationId"] == "demo-1"
        await asyncio.sleep(0.1)
        assert ("notifications/elicitation/complete", {"elicitationId": "demo-1"}) in seen
        with pytest.raises(McpError) as required:
            await client.call_tool("needs_authorization")
        assert required.value.code == -32042
        assert required.value.data["elicitations"][0]["elicitationId"] == "demo-2"

    async with Client(target, elicitation_handler=elicit, elicitation_modes=("form",)) as form_only:
        refused = await form_only.call_tool("connect_account")
        assert refused.is_error and "elicitation.url" in refused.content[0].text


async def test_requests_need_the_client_capability(target: Any) -> None:
    async with Client(target) as client:  # declares no sampling, elicitation or roots
        for tool, arguments in (("test_sampling", {"prompt": "x"}), ("test_elicitation", {"message": "x"})):
            result = await client.call_tool(tool, arguments)
            assert result.is_error and "did not declare" in result.content[0].text
        assert (await client.call_tool("list_roots")).is_error


async def test_client_errors_and_declines_reach_the_tool(target: Any) -> None:
    async def refuse(params: Any) -> dict[str, Any]:
        raise McpError(-1, "User rejected sampling")

    async def decline(params: dict[str, Any]) -> dict[str, Any]:
        return {"action": "decline"}

    async with Client(target, sampling_handler=refuse, elicitation_handler=decline) as client:
        refused = await client.call_tool("test_sampling", {"prompt": "x"})
        assert refused.is_error and "User rejected sampling" in refused.content[0].text
        declined = await client.call_tool("test_elicitation", {"message": "x"})
        assert "action=decline" in declined.content[0].text


async def test_official_sdk_client_answers_server_requests(http_server: Any) -> None:
    from mcp.client.streamable_http import streamable_http_client

    async def sampling_callback(
        context: Any, params: types.CreateMessageRequestParams
    ) -> types.CreateMessageResult:
        return types.CreateMessageResult(
            role="assistant", content=types.TextContent(type="text", text="from the SDK"), model="sdk"
        )

    async def elicitation_callback(context: Any, params: Any) -> types.ElicitResult:
        if getattr(params, "mode", "form") == "url":
            return types.ElicitResult(action="accept")
        return types.ElicitResult(action="accept", content={"username": "ada", "email": "ada@example.com"})

    async def roots_callback(context: Any) -> types.ListRootsResult:
        return types.ListRootsResult(roots=[types.Root(uri="file:///sdk/root")])

    callbacks = {
        "sampling_callback": sampling_callback,
        "elicitation_callback": elicitation_callback,
        "list_roots_callback": roots_callback,
    }
    stdio = StdioServerParameters(command=sys.executable, args=["-m", "runtime", "serve", EVERYTHING, "--stdio"])
    for transport in (stdio_client(stdio), streamable_http_client(http_server.url)):
        async with transport as streams, ClientSession(streams[0], streams[1], **callbacks) as session:
            await session.initialize()
            sampled = await session.call_tool("test_sampling", {"prompt": "p"})
            assert sampled.content[0].text == "LLM response: from the SDK"
            elicited = await session.call_tool("test_elicitation", {"message": "m"})
            assert "ada@example.com" in elicited.content[0].text
            connected = await session.call_tool("connect_account", {})
            assert connected.content[0].text == "connect: accept"
            roots = await session.call_tool("list_roots", {})
            assert roots.structured_content == {"result": ["file:///sdk/root"]}
