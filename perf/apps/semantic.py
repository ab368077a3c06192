"""The semantic cache benchmark's server: one tool per cache mode, each standing for a backend call of
MCPRT_BENCH_TOOL_MS milliseconds (100), each answering with the query it computed, so a client can tell a
cached answer (another query's) from its own. `round` is compared exactly: each round starts with empty
caches."""

from __future__ import annotations

import asyncio
import os

from runtime import Server

TOOL_SECONDS = float(os.environ.get("MCPRT_BENCH_TOOL_MS", "100")) / 1000
server = Server("semantic-bench", "1.0")


async def _answer(query: str, round: int) -> str:
    await asyncio.sleep(TOOL_SECONDS)
    return f"{round}|{query}"


@server.tool()
async def plain(query: str, round: int = 0) -> str:
    """No cache: every call runs."""
    return await _answer(query, round)


@server.tool(cache_ttl=float("inf"))
async def exact(query: str, round: int = 0) -> str:
    """The exact cache only: a repeat of the same arguments is answered from it."""
    return await _answer(query, round)


for threshold in (0.90, 0.92, 0.95):

    async def semantic(query: str, round: int = 0) -> str:
        return await _answer(query, round)

    server.add_tool(semantic, name=f"semantic_{round(threshold * 100)}", semantic_cache=threshold)
