"""The benchmark app for mcprt: the same tool and resource every peer serves."""

import asyncio

from runtime import Server

server = Server("bench-echo", "1.0.0")


@server.tool()
async def echo(text: str) -> str:
    """Echo the text back."""
    return text


@server.tool()
async def echo_after_await(text: str) -> str:
    """Echo the text back after one suspension (a tool that awaits anything)."""
    await asyncio.sleep(0)
    return text


@server.resource("bench://static/1k", mime_type="text/plain")
async def static_1k() -> str:
    return "x" * 1024
