"""Tool search over stdio: start-up with and without it, the first search (loading MiniLM) and later ones.

    .venv/bin/python -m perf.tool_search_bench [--searches 30]

Serves perf/apps/catalog.py (README "Tool search"); the start-up of perf/apps/echo.py (no tool search) is the
baseline.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time

from runtime import Client

APP = "perf.apps.catalog:server"
QUERIES = ["will it rain in London tomorrow", "print the text of notes.txt", "refund a payment"]


async def started(command: list[str]) -> float:
    begun = time.perf_counter()
    async with Client(command):
        return time.perf_counter() - begun


async def measure(searches: int) -> None:
    serve = [sys.executable, "-m", "runtime", "serve", APP, "--stdio"]
    plain = [sys.executable, "-m", "runtime", "serve", "perf.apps.echo:server", "--stdio"]
    baseline, searching = await started(plain), await started(serve)
    print(f"start: perf/apps/echo.py {baseline:.2f} s, with tool search {searching:.2f} s")
    async with Client(serve) as client:
        begun = time.perf_counter()
        await client.call_tool("search_tools", {"query": "post a note to the team on slack"})
        first = time.perf_counter() - begun
        times = []
        for i in range(searches):
            begun = time.perf_counter()
            await client.call_tool("search_tools", {"query": QUERIES[i % len(QUERIES)]})
            times.append(time.perf_counter() - begun)
    print(
        f"first search {first:.2f} s; then {searches} searches: "
        f"median {statistics.median(times) * 1e3:.1f} ms, max {max(times) * 1e3:.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--searches", type=int, default=30)
    asyncio.run(measure(parser.parse_args().searches))


if __name__ == "__main__":
    main()
