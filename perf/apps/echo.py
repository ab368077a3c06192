"""The benchmark app for mcprt: the same tool and resource every peer serves."""

from runtime import Server

server = Server("bench-echo", "1.0.0")


@server.tool()
async def echo(text: str) -> str:
    """Echo the text back."""
    return text


@server.resource("bench://static/1k", mime_type="text/plain")
async def static_1k() -> str:
    return "x" * 1024
