"""Sequential tools/call round trips over stdio: mcprt against the official SDK, FastMCP and the floor.

    .venv/bin/python perf/stdio_bench.py [--seconds 5] [--runs 3] [--servers mcprt,official-sdk,...]

Each server runs pinned to CPU 0, this driver on CPU 1. The driver writes pre-encoded request lines and
reads answer lines (skipping notifications), so what is measured is the server's per-message cost.
Also measured: start-up, from spawn to the initialize result.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import time
from pathlib import Path
from typing import IO

from perf.servers import ROOT, STDIO, pinned

INIT = (
    b'{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25",'
    b'"capabilities":{},"clientInfo":{"name":"bench","version":"1"}}}\n'
)
INITIALIZED = b'{"jsonrpc":"2.0","method":"notifications/initialized"}\n'
CALL = (
    b'{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hello"}}}\n'
)


def read_answer(stdout: IO[bytes], request_id: int) -> bytes:
    marker = b'"id":%d' % request_id
    while True:
        line = stdout.readline()
        if not line:
            raise RuntimeError("server closed stdout")
        if marker in line and b'"method"' not in line:
            return line


def pipelined(
    stdin: IO[bytes], stdout: IO[bytes], first_id: int, seconds: float, window: int
) -> tuple[int, float]:
    """Keep `window` requests outstanding; count answers. Measures the server's throughput, not the pipe's
    wake-up latency."""
    next_id = first_id
    for _ in range(window):
        stdin.write(CALL % next_id)
        next_id += 1
    stdin.flush()
    done = 0
    begin = time.perf_counter()
    end = begin + seconds
    while True:
        line = stdout.readline()
        if b'"result"' not in line:
            continue
        done += 1
        if time.perf_counter() >= end:
            break
        stdin.write(CALL % next_id)
        next_id += 1
        if done % 8 == 0:
            stdin.flush()
    elapsed = time.perf_counter() - begin
    stdin.flush()
    return done, elapsed


def one_run(name: str, seconds: float, window: int = 32) -> dict[str, float]:
    started = time.perf_counter()
    process = subprocess.Popen(
        pinned(STDIO[name], 0),
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    stdin, stdout = process.stdin, process.stdout
    assert stdin is not None and stdout is not None
    stdin.write(INIT)
    stdin.flush()
    read_answer(stdout, 0)
    startup = time.perf_counter() - started
    stdin.write(INITIALIZED)
    latencies: list[float] = []
    request_id = 1
    warm_until = time.perf_counter() + min(1.0, seconds / 5)
    while time.perf_counter() < warm_until:
        stdin.write(CALL % request_id)
        stdin.flush()
        read_answer(stdout, request_id)
        request_id += 1
    end = time.perf_counter() + seconds
    begin = time.perf_counter()
    while True:
        sent = time.perf_counter()
        if sent >= end:
            break
        stdin.write(CALL % request_id)
        stdin.flush()
        answer = read_answer(stdout, request_id)
        latencies.append(time.perf_counter() - sent)
        request_id += 1
    elapsed = time.perf_counter() - begin
    if b'"hello"' not in answer:
        raise RuntimeError(f"{name}: unexpected answer {answer[:200]!r}")
    done, pipelined_elapsed = pipelined(stdin, stdout, request_id, seconds, window)
    stdin.close()
    process.terminate()
    process.wait(10)
    latencies.sort()
    return {
        "rps": len(latencies) / elapsed,
        "pipelined_rps": done / pipelined_elapsed,
        "p50_us": latencies[len(latencies) // 2] * 1e6,
        "p99_us": latencies[int(len(latencies) * 0.99)] * 1e6,
        "startup_ms": startup * 1000,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--servers", default=",".join(STDIO))
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    args = parser.parse_args()
    os.sched_setaffinity(0, {1} if os.cpu_count() and os.cpu_count() > 1 else {0})  # type: ignore[operator]
    results: dict[str, dict[str, float]] = {}
    for name in args.servers.split(","):
        runs = [one_run(name, args.seconds) for _ in range(args.runs)]
        results[name] = {key: statistics.median(r[key] for r in runs) for key in runs[0]}
    base = results.get("mcprt", {})
    print(f"stdio tools/call echo, {args.runs} runs x {args.seconds} s each, medians; server on CPU 0")
    print("sequential = one request at a time; pipelined = 32 requests in flight")
    header = f"{'server':14} {'seq req/s':>10} {'P50 us':>8} {'P99 us':>8} {'pipelined':>10} {'start ms':>9}"
    print(header + f" {'mcprt x seq':>12} {'mcprt x pipe':>13}")
    for name, r in results.items():
        seq = f"{base['rps'] / r['rps']:.1f}" if base else "-"
        pipe = f"{base['pipelined_rps'] / r['pipelined_rps']:.1f}" if base else "-"
        print(
            f"{name:14} {r['rps']:10.0f} {r['p50_us']:8.0f} {r['p99_us']:8.0f} {r['pipelined_rps']:10.0f}"
            f" {r['startup_ms']:9.0f} {seq:>12} {pipe:>13}"
        )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
