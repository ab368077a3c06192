"""A test app for the client's own checks: it sends requests the client did not declare support for
(bypassing the server's capability checks with `send_request`), reports who its client is, and has one tool
whose advertised outputSchema its results do not follow (as a buggy server's would)."""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec

from runtime import ClientRequestError, Context, Server
from runtime.protocol import types as t

server = Server("client-checks", "1.0")

COUNT_SCHEMA = {
    "type": "object",
    "properties": {"count": {"type": "integer"}},
    "required": ["count"],
}


async def _answer(ctx: Context, method: str, params: dict[str, Any]) -> str:
    try:
        result = await ctx.send_request(method, params, timeout=20)
    except ClientRequestError as exc:
        return f"error {exc.code}: {exc}"
    return f"result: {msgspec.json.encode(result).decode()}"


@server.tool()
async def elicit_in_mode(mode: str, ctx: Context) -> str:
    """Send elicitation/create in `mode` ("form", "url" or "none" for no mode field), declared or not."""
    params: dict[str, Any] = {"message": "Your name?"}
    if mode == "url":
        params |= {"mode": "url", "url": "https://example.com/connect", "elicitationId": "e-1"}
    else:
        params["requestedSchema"] = {"type": "object", "properties": {"name": {"type": "string"}}}
        if mode == "form":
            params["mode"] = "form"
    return await _answer(ctx, "elicitation/create", params)


@server.tool()
async def sample_with_tools(with_tools: bool, ctx: Context) -> str:
    """Send sampling/createMessage, with a `tools` array or without, declared or not."""
    params: dict[str, Any] = {
        "messages": [{"role": "user", "content": {"type": "text", "text": "Weather?"}}],
        "maxTokens": 10,
    }
    if with_tools:
        params["tools"] = [{"name": "get_weather", "inputSchema": {"type": "object"}}]
    return await _answer(ctx, "sampling/createMessage", params)


@server.tool()
def whoami(ctx: Context) -> dict[str, Any]:
    """The client info and capabilities of this session, and its id."""
    return {
        "session": ctx.session_id,
        "client": ctx.client_info,
        "capabilities": ctx.client_capabilities,
    }


@server.tool()
async def slow(seconds: float) -> str:
    await asyncio.sleep(seconds)
    return "done"


@server.tool(output_schema=COUNT_SCHEMA)
def honest_count(n: int) -> dict[str, Any]:
    """Follows its output schema for n >= 0; for n < 0 its result breaks it, which the server turns into
    an isError result."""
    return {"count": n} if n >= 0 else {"count": "negative"}


@server.tool()
def lying_count(value: Any, structured: bool = True) -> t.CallToolResult:
    """Its advertised outputSchema (below) says count is an integer; it returns whatever it is given."""
    text = msgspec.json.encode({"count": value}).decode()
    return t.CallToolResult(
        content=[t.TextContent(text=text)],
        structured_content={"count": value} if structured else None,
    )


# The server checks the results of tools registered with an output schema; a buggy server that does not
# is made by advertising the schema without registering it.
server._tools["lying_count"].definition["outputSchema"] = COUNT_SCHEMA
