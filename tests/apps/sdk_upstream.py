"""An upstream written with the official Python SDK (`mcp`, its MCPServer, formerly FastMCP), served over stdio:
the gateway tests put it behind `mcprt gateway` next to the npm reference server."""

from __future__ import annotations

import asyncio

from mcp import types
from mcp.server.mcpserver import Context, MCPServer
from pydantic import BaseModel

server = MCPServer("sdk-upstream")


@server.tool()
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@server.tool()
async def count(steps: int, ctx: Context) -> str:
    """Count to `steps`, reporting progress and logging each step."""
    for step in range(1, steps + 1):
        await ctx.report_progress(step, steps, f"step {step}")
        await ctx.info(f"counted {step}")
        await asyncio.sleep(0.01)
    return f"counted to {steps}"


@server.tool()
async def ask_llm(question: str, ctx: Context) -> str:
    """Ask the client's LLM (sampling/createMessage)."""
    result = await ctx.session.create_message(
        [types.SamplingMessage(role="user", content=types.TextContent(type="text", text=question))],
        max_tokens=50,
        related_request_id=ctx.request_id,
    )
    content = result.content
    return content.text if isinstance(content, types.TextContent) else repr(content)


class Answer(BaseModel):
    name: str


@server.tool()
async def ask_user(ctx: Context) -> str:
    """Ask the user for a name (elicitation/create, form mode)."""
    answer = await ctx.elicit("What is your name?", Answer)
    if answer.action == "accept":
        return f"hello {answer.data.name}"
    return f"no name ({answer.action})"


CANCELLED: list[float] = []  # the seconds of each `sleep` that was cancelled


@server.tool()
async def roots(ctx: Context) -> list[str]:
    """The client's roots, asked during this call (roots/list)."""
    result = await ctx.session.list_roots()
    return [str(root.uri) for root in result.roots]


@server.tool()
async def sleep(seconds: float) -> str:
    """Sleep, to be cancelled."""
    try:
        await asyncio.sleep(seconds)
    except BaseException:  # the SDK cancels the handler on notifications/cancelled (anyio's own exception)
        CANCELLED.append(seconds)
        raise
    return "slept"


@server.tool()
def cancelled() -> list[float]:
    """The `sleep` calls cancelled so far."""
    return CANCELLED


GROWN: list[str] = []


@server.tool()
async def grow(ctx: Context) -> str:
    """Register a new tool `grown_<n>` and tell the client the list changed; returns its name."""
    name = f"grown_{len(GROWN) + 1}"
    GROWN.append(name)

    def grown() -> str:
        """A tool registered at run time."""
        return name

    server.add_tool(grown, name=name)
    await ctx.session.send_tool_list_changed()
    return name


@server.tool()
async def touch(uri: str, ctx: Context) -> str:
    """Tell the client that a resource changed (notifications/resources/updated)."""
    await ctx.session.send_resource_updated(uri)
    return "touched"


@server.resource("sdk://greeting", mime_type="text/plain")
def greeting() -> str:
    return "hello from the SDK"


@server.prompt()
def review(code: str) -> str:
    """Review some code."""
    return f"Please review: {code}"


if __name__ == "__main__":
    server.run("stdio")
