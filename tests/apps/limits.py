"""A server for the limits and error-privacy tests: handlers that fail with a secret in their exception,
a tool whose own data holds `"isError":true`, and small tools to fill the task store or echo values."""

import asyncio
import os
from typing import Any

from runtime import Context, McpError, Server

server = Server("limits-test", "1.0.0")
SECRET = "secret-detail-123"


@server.tool(task_support="optional")
def leaky() -> str:
    raise RuntimeError(SECRET)


@server.tool()
async def leaky_inline() -> str:
    raise RuntimeError(SECRET)


@server.tool()
async def leaky_awaits() -> str:
    await asyncio.sleep(0)
    raise RuntimeError(SECRET)


@server.resource("limits://leaky")
def leaky_resource() -> str:
    raise RuntimeError(SECRET)


@server.prompt()
def leaky_prompt() -> str:
    raise RuntimeError(SECRET)


@server.tool(task_support="optional")
def reports_is_error() -> dict[str, Any]:
    """Succeeds; its structured content happens to hold the key isError set to true."""
    return {"isError": True, "note": 'text with "isError":true in it'}


@server.tool(task_support="optional")
async def quick() -> str:
    return "done"


@server.tool(task_support="optional")
async def echo_any(value: Any = None) -> dict[str, Any]:
    await asyncio.sleep(0)
    return {"value": value}


@server.tool()
async def asks(ctx: Context) -> dict[str, Any]:
    """Asks the client for a number (elicitation) and returns what it answered."""
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}}
    reply = await ctx.elicit("A number?", schema)
    return {"action": reply.action, "content": reply.content}


@server.tool()
async def sleeper(seconds: float) -> str:
    await asyncio.sleep(seconds)
    return "woke"


@server.tool(task_support="optional")
async def refuses_with(value: Any = None) -> str:
    await asyncio.sleep(0)
    raise McpError(-32602, "refused", {"value": value})


@server.tool()
def worker_info() -> dict[str, int]:
    """The serving process (tests/cluster_support.py tells workers apart by it)."""
    return {"pid": os.getpid()}
