"""Async handlers with and without await points: the first run inline, the second as tasks."""

import asyncio
import contextvars

from runtime import McpError, Server, ToolError

server = Server("inline-test", "1.0.0")
marker: contextvars.ContextVar[str] = contextvars.ContextVar("marker", default="unset")


@server.tool()
async def add(a: int, b: int) -> int:
    return a + b


@server.tool()
async def set_marker(value: str) -> str:
    """Returns the marker it saw, then sets it: a later call must not see it (each call has its own context)."""
    seen = marker.get()
    marker.set(value)
    return seen


@server.tool()
async def fails() -> str:
    raise ToolError("inline failure")


@server.tool()
async def refuses() -> str:
    raise McpError(-32602, "refused inline")


@server.tool()
async def in_task() -> str:
    await asyncio.sleep(0)
    return "task" if asyncio.current_task() is not None else "no task"


@server.resource("inline://text", mime_type="text/plain")
async def text() -> str:
    return "inline text"


@server.resource("inline://missing")
async def missing() -> str:
    raise McpError(-32002, "gone")


@server.tool()
async def raw_bytes() -> bytes:  # not a valid tool result: an internal error on every path
    return b"raw"  # type: ignore[return-value]


@server.tool()
async def awaits(text: str) -> str:
    await asyncio.sleep(0)
    return text


@server.tool()
async def sleeper(seconds: float) -> str:
    await asyncio.sleep(seconds)
    return "woke"
