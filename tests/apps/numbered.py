"""The app of tests/test_cluster_kill.py: tools that send numbered messages on the request's stream
(notifications/progress) and on the session's GET stream (notifications/message), and one that publishes a
server-wide event (notifications/resources/updated), so that a test can count every message it gets."""

from __future__ import annotations

import asyncio
import os

from runtime import Context, Server

server = Server("numbered-test", "1.0.0")
WATCHED = "test://watched"


@server.resource(WATCHED, mime_type="text/plain")
def watched() -> str:
    return "watched"


@server.tool()
def worker_info() -> dict[str, int]:
    return {"pid": os.getpid()}


@server.tool()
async def count_on_request(n: int, every: float, ctx: Context) -> str:
    """notifications/progress 1..n on this request's stream, one every `every` seconds."""
    for i in range(1, n + 1):
        ctx.report_progress(i, n)
        await asyncio.sleep(every)
    return "counted"


@server.tool()
async def count_on_session(n: int, every: float, ctx: Context) -> str:
    """notifications/message {"get": 1..n} on the session's GET stream, wherever that stream is."""
    unrelated = server.session_context(ctx.session)
    for i in range(1, n + 1):
        unrelated.notify("notifications/message", {"level": "info", "data": {"get": i}})
        await asyncio.sleep(every)
    return "counted"


@server.tool()
def touch() -> str:
    server.resource_updated(WATCHED)
    return "touched"
