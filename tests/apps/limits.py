"""A server for the limits and error-privacy tests: handlers that fail with a secret in their exception,
a tool whose own data holds `"isError":true`, and small tools to fill the task store or echo values."""

import asyncio
from typing import Any

from runtime import Server

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
