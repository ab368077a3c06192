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


@server.tool()
async def sleep(seconds: float) -> str:
    """Sleep, to be cancelled."""
    await asyncio.sleep(seconds)
    return "slept"


@server.tool()
async def grow(ctx: Context) -> str:
    """Register a new tool `grown` and tell the client the list changed."""

    def grown() -> str:
        """A tool registered at run time."""
        return "grown"

    server.add_tool(grown)
    await ctx.session.send_tool_list_changed()
    return "grew"


@server.resource("sdk://greeting", mime_type="text/plain")
def greeting() -> str:
    return "hello from the SDK"


@server.prompt()
def review(code: str) -> str:
    """Review some code."""
    return f"Please review: {code}"


if __name__ == "__main__":
    server.run("stdio")
