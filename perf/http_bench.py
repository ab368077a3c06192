"""Streamable HTTP side by side: mcprt, the official SDK (default configuration), FastMCP and the raw floor.

    .venv/bin/python -m perf.http_bench [--scenario call|await|read] [--concurrency 16] [--seconds 5]
                                        [--runs 3] [--wire 2025-11-25|2026-07-28]
                                        [--servers mcprt,official-sdk,fastmcp,floor]

`--wire 2026-07-28`: the modern, stateless wire (no session; `_meta` and Mcp-* headers on every request),
which mcprt and the official SDK serve beside the legacy one on the same endpoint.

Each server runs pinned to CPU 0 with one worker; the load generator runs on CPU 1. The servers take turns
(one run each, round robin); medians of the runs.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

import uvloop

from perf.loadgen import run_load
from perf.servers import start_http, stop

SERVERS = ["mcprt", "official-sdk", "fastmcp", "floor"]


def measure(name: str, scenario: str, concurrency: int, seconds: float, wire: str) -> dict[str, float]:
    process, port = start_http(name, cpu=0)
    try:
        time.sleep(0.3)
        url = f"http://127.0.0.1:{port}/mcp"
        return uvloop.run(run_load(url, concurrency, seconds, scenario, wire=wire))
    finally:
        stop(process)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scenario", choices=["call", "await", "read"], default="call")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--servers", default=",".join(SERVERS))
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--wire", choices=["2025-11-25", "2026-07-28"], default="2025-11-25")
    args = parser.parse_args()
    if (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {1})
    # Round robin (run 1 of every server, then run 2, ...): a machine whose speed drifts during the
    # benchmark shifts every server alike, so the ratios hold.
    names = args.servers.split(",")
    samples: dict[str, list[dict[str, float]]] = {name: [] for name in names}
    for _ in range(args.runs):
        for name in list(samples):
            try:
                samples[name].append(measure(name, args.scenario, args.concurrency, args.seconds, args.wire))
            except RuntimeError as exc:
                print(f"{name}: skipped ({exc})")
                del samples[name]
    results: dict[str, dict[str, float]] = {
        name: {key: statistics.median(r[key] for r in runs) for key in runs[0]}
        for name, runs in samples.items()
    }
    # Ratios are medians of the per-round ratios: each round's servers ran minutes apart at most, so a
    # drift of the machine's speed between rounds cancels out.
    def ratio(name: str, peer: str) -> float | None:
        if peer not in samples or name not in samples:
            return None
        pairs = zip(samples[name], samples[peer], strict=False)
        return statistics.median(mine["rps"] / theirs["rps"] for mine, theirs in pairs)
    what = {
        "call": "tools/call echo",
        "await": "tools/call echo after one await",
        "read": "resources/read 1 KiB",
    }[args.scenario]
    runs = f"{args.runs} runs x {args.seconds} s"
    print(f"Streamable HTTP {what} ({args.wire} wire), concurrency {args.concurrency}, {runs}, medians;")
    print("server on CPU 0")
    print("(ratios: the median of each round's ratio)")
    columns = ("req/s", "P50 ms", "P95 ms", "P99 ms", "errors", "% floor", "x SDK")
    print(f"{'server':14}" + "".join(f" {c:>8}" for c in columns))
    for name, r in results.items():
        vs_floor, vs_sdk = ratio(name, "floor"), ratio(name, "official-sdk")
        of_floor = f"{100 * vs_floor:.0f}%" if vs_floor is not None else "-"
        x_sdk = f"{vs_sdk:.1f}" if vs_sdk is not None else "-"
        r["vs_floor"] = vs_floor or 0.0
        r["vs_sdk"] = vs_sdk or 0.0
        print(
            f"{name:14} {r['rps']:9.0f} {r['p50_ms']:8.2f} {r['p95_ms']:8.2f} {r['p99_ms']:8.2f}"
            f" {r['errors']:7.0f} {of_floor:>8} {x_sdk:>7}"
        )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
