"""The soak's app: a tool whose answer streams as SSE (progress and a log message before the result)."""

import asyncio

from runtime import Context, Server

server = Server("bench-stream", "1.0.0")


@server.tool()
async def progress(steps: int, ctx: Context) -> str:
    """Report `steps` progress notifications, yielding to the loop between them, then answer."""
    ctx.info("started")
    for step in range(steps):
        ctx.report_progress(step + 1, steps)
        await asyncio.sleep(0)
    return f"{steps} steps"
