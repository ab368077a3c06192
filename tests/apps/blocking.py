"""An app whose sync tools block a handler thread: `block` for 30 s (longer than any grace period the tests
give), `block_in_thread` the same through `asyncio.to_thread` (asyncio's default executor), `quick` for
half a second; `block_loop` blocks the event loop itself for 30 s (an async tool calling time.sleep), and
`block_loop_deaf` does too after making its process ignore SIGTERM (only a kill ends it). Each says on
stderr when it starts, so a test knows it is in flight."""

import asyncio
import os
import signal
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
async def block_loop() -> str:
    started("block_loop")
    time.sleep(30)  # blocking the event loop is the point
    return "blocked"


@server.tool()
async def block_loop_deaf() -> str:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    started("block_loop_deaf")
    time.sleep(30)
    return "blocked"


@server.tool()
def quick() -> str:
    started("quick")
    time.sleep(0.5)
    return "quick"


@server.tool()
def worker_info() -> dict[str, int]:
    return {"pid": os.getpid()}


@server.tool()
async def sleepy() -> str:
    """Awaits for 30 s without blocking anything: cancelled when a stop's grace period ends."""
    started("sleepy")
    await asyncio.sleep(30)
    return "slept"
