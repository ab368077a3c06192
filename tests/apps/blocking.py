"""An app whose sync tools block a handler thread: `block` for 30 s (longer than any grace period the tests
give), `block_in_thread` the same through `asyncio.to_thread` (asyncio's default executor), `quick` for
half a second. Each says on stderr when it starts, so a test knows it is in flight."""

import asyncio
import os
import sys
import time

from runtime import Server

server = Server("blocking-test", "1.0.0")


def started(name: str) -> None:
    print(f"blocking-test: {name} started", file=sys.stderr, flush=True)


@server.tool()
def block() -> str:
    started("block")
    time.sleep(30)
    return "blocked"


@server.tool()
async def block_in_thread() -> str:
    started("block_in_thread")
    await asyncio.to_thread(time.sleep, 30)
    return "blocked"


@server.tool()
def quick() -> str:
    started("quick")
    time.sleep(0.5)
    return "quick"


@server.tool()
def worker_info() -> dict[str, int]:
    return {"pid": os.getpid()}
