"""Tools that wait until cancelled and count the cancellations: for the 2026-07-28 rule that a client
closing its connection (or the request's SSE stream) cancels the request."""

from __future__ import annotations

import asyncio

from runtime import Context, Server

server = Server("cancels", "1.0.0")
cancelled: list[str] = []
started: list[str] = []


@server.tool()
async def hold(stream: bool, ctx: Context) -> str:
    """Waits a minute; with `stream`, sends a progress first, so its answer is an SSE stream."""
    started.append("stream" if stream else "json")
    if stream:
        await ctx.report_progress(0, 1, "holding")
        await ctx.info("holding")
    try:
        await asyncio.sleep(60)
    except asyncio.CancelledError:
        cancelled.append("stream" if stream else "json")
        raise
    return "held"


@server.tool()
def cancellations() -> list[str]:
    return cancelled


@server.tool()
def holds_started() -> list[str]:
    return started
