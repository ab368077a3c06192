"""The semantic result cache on paraphrased calls: hit rate, false hits and latency, against the exact cache
and against no cache, in one run, on one server (`--workers 1`, MiniLM int8 on one thread).

    .venv/bin/python -m perf.semantic_cache_bench [--rounds 2] [--tool-ms 100]

Serves perf/apps/semantic.py over HTTP with our Client. Per round and per tool: for each labelled pair of
perf/semantic_pairs.py, the first text is called, then the second (timed: the "later call"), then the first
again (timed: an exact repeat). A later call is a hit when its answer is another query's; a hit on a
paraphrase pair is right, a hit on a different-meaning pair is a false hit. `round` is an integer argument, so
each round starts with empty caches (integers are compared exactly).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import time
from dataclasses import dataclass, field

from perf.semantic_pairs import DIFFERENT, PARAPHRASES
from perf.servers import PY, ROOT, free_port, stop
from runtime import Client

TOOLS = ["plain", "exact", "semantic_90", "semantic_92", "semantic_95"]


@dataclass
class Tally:
    later: list[float] = field(default_factory=list)  # seconds, every later call
    hit_later: list[float] = field(default_factory=list)
    miss_later: list[float] = field(default_factory=list)
    repeats: list[float] = field(default_factory=list)
    paraphrase_hits: int = 0
    paraphrases: int = 0
    false_hits: int = 0
    different: int = 0


def start(tool_ms: float) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "MCPRT_BENCH_TOOL_MS": str(tool_ms)}
    command = [PY, "-m", "runtime", "serve", "perf.apps.semantic:server", "--http", f"127.0.0.1:{port}"]
    process = subprocess.Popen([*command, "--workers", "1"], cwd=ROOT, env=env, stderr=subprocess.PIPE)
    assert process.stderr is not None
    for line in process.stderr:
        if b"serving" in line:
            return process, f"http://127.0.0.1:{port}/mcp"
    raise RuntimeError("the server did not start")


async def timed(client: Client, tool: str, query: str, round_: int) -> tuple[float, str]:
    begun = time.perf_counter()
    result = await client.call_tool(tool, {"query": query, "round": round_})
    elapsed = time.perf_counter() - begun
    return elapsed, result.content[0].text  # type: ignore[union-attr]


async def measure(url: str, rounds: int) -> dict[str, Tally]:
    tallies = {tool: Tally() for tool in TOOLS}
    async with Client(url) as client:
        begun = time.perf_counter()
        await client.call_tool("semantic_92", {"query": "warm up", "round": -1})
        print(f"first call of a semantic tool (loads MiniLM): {time.perf_counter() - begun:.2f} s")
        for round_ in range(rounds):
            for tool in TOOLS:
                tally = tallies[tool]
                for label, pairs in (("same", PARAPHRASES), ("different", DIFFERENT)):
                    for first, later in pairs:
                        await timed(client, tool, first, round_)
                        elapsed, answer = await timed(client, tool, later, round_)
                        hit = answer != f"{round_}|{later}"
                        tally.later.append(elapsed)
                        (tally.hit_later if hit else tally.miss_later).append(elapsed)
                        if label == "same":
                            tally.paraphrases += 1
                            tally.paraphrase_hits += hit
                        else:
                            tally.different += 1
                            tally.false_hits += hit
                        tally.repeats.append((await timed(client, tool, first, round_))[0])
    return tallies


def ms(values: list[float], q: float) -> str:
    if not values:
        return "-"
    ordered = sorted(values)
    return f"{ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1e3:.2f}"


def report(tallies: dict[str, Tally], tool_ms: float) -> None:
    floor = statistics.mean(tallies["plain"].later)
    print(
        f"tool cost {tool_ms:g} ms; later calls: {len(PARAPHRASES)} paraphrases + {len(DIFFERENT)} others "
        "per round"
    )
    print(
        "| tool | paraphrases hit | false hits | later call mean ms (vs no cache) | hit P50 / P99 ms "
        "| miss P50 / P99 ms | exact repeat P50 / P99 ms |"
    )
    print("|---|---|---|---|---|---|---|")
    for tool, t in tallies.items():
        mean = statistics.mean(t.later)
        print(
            f"| `{tool}` | {t.paraphrase_hits}/{t.paraphrases} ({t.paraphrase_hits / t.paraphrases:.0%}) "
            f"| {t.false_hits}/{t.different} | {mean * 1e3:.2f} ({mean / floor:.2f}x) "
            f"| {ms(t.hit_later, 0.5)} / {ms(t.hit_later, 0.99)} "
            f"| {ms(t.miss_later, 0.5)} / {ms(t.miss_later, 0.99)} "
            f"| {ms(t.repeats, 0.5)} / {ms(t.repeats, 0.99)} |"
        )


def lookup_alone(entries: int, dim: int = 384, lookups: int = 200) -> None:
    """`SharedVectors.best` over `entries` vectors of one tool in a real segment, in this process: the part
    of a semantic lookup that grows with the cache (the embedding does not)."""
    import numpy as np

    from ipc.vectors import SharedVectors

    name = f"/mcprt-bench-{os.getpid()}-vectors"
    vectors = SharedVectors.create(name, entries, dim)
    try:
        rng = np.random.default_rng(1)
        rows = rng.standard_normal((entries, dim)).astype(np.float32)
        rows /= np.linalg.norm(rows, axis=1, keepdims=True)
        for i, row in enumerate(rows):
            vectors.add("tool", 0, f't:tool:{{"i":{i}}}', row)
        times = []
        for i in range(lookups):
            query = rows[i % entries]
            begun = time.perf_counter()
            assert vectors.best("tool", 0, query, 0.99) is not None
            times.append(time.perf_counter() - begun)
        print(
            f"lookup alone at {entries} entries x {dim} floats: "
            f"P50 {ms(times, 0.5)} ms, P99 {ms(times, 0.99)} ms"
        )
    finally:
        vectors.close()
        vectors.unlink()


def scores() -> None:
    """The cosine similarity of each labelled pair as the cache computes it (MiniLM int8, `query: ...`)."""
    from router.embed import shared_default_embedder

    embedder = shared_default_embedder()
    for label, pairs in (("paraphrases", PARAPHRASES), ("different meanings", DIFFERENT)):
        values = []
        for first, later in pairs:
            a, b = embedder.embed([f"query: {first}", f"query: {later}"])
            values.append(float(a @ b))
        print(
            f"{label}: cosine {min(values):.3f} to {max(values):.3f}, median {statistics.median(values):.3f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--tool-ms", type=float, default=100.0, help="what one call of the tool costs (100)")
    args = parser.parse_args()
    scores()
    for entries in (1_000, 10_000):
        lookup_alone(entries)
    process, url = start(args.tool_ms)
    try:
        report(asyncio.run(measure(url, args.rounds)), args.tool_ms)
    finally:
        stop(process)


if __name__ == "__main__":
    main()
