"""A server of plain awaiting tools (no Context: read by the fast decoder of runtime/server/quick.py, run by
the runner) and a tool naming the worker process: for the cross-worker in-flight checks."""

from __future__ import annotations

import asyncio
import os

from runtime import Server

server = Server("waits", "1.0.0")


@server.tool()
async def nap(seconds: float) -> str:
    await asyncio.sleep(seconds)
    return f"napped {seconds} s"


@server.tool()
def worker_info() -> dict[str, int]:
    return {"pid": os.getpid()}
