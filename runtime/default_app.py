"""What `mcprt serve` serves when given no application: a small server to check a connection with. The
app with every feature (and the conformance fixtures) is examples/everything.py in the repository; the
examples/ folder also has small servers to copy from."""

from __future__ import annotations

from runtime.protocol import types as t
from runtime.server.app import Server

server = Server(
    "mcprt",
    "0.1.0",
    title="mcprt default server",
    instructions="mcprt's default server: name your own, e.g. `mcprt serve app.py:server`.",
)


@server.tool(annotations=t.ToolAnnotations(read_only_hint=True, idempotent_hint=True))
async def echo(text: str) -> str:
    """Echo the text back."""
    return text


@server.resource("mcprt://about", name="About", mime_type="text/plain")
def about() -> str:
    return "Served by mcprt. Write a server with runtime.Server and run it with `mcprt serve app.py:server`."


@server.prompt()
def greet(name: str) -> str:
    """A greeting to send to the model."""
    return f"Say hello to {name}."
