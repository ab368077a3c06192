"""The gateway's cost per forwarded call: sequential tools/call round trips over stdio, to an upstream called
directly and to the same upstream through `mcprt gateway`, with the gateway's own ping as the floor.

    .venv/bin/python -m perf.gateway_bench [--seconds 3] [--runs 3] [--upstreams mcprt,everything]

Upstreams: `mcprt` (perf/apps/echo.py served over stdio: the fastest upstream there is, so the gateway's
share shows) and `everything` (the reference server-everything from npm, tests/node/everything, its `echo`).
For each, three measurements in the same run, one request at a time over stdio pipes, pre-encoded lines:

- direct: the upstream itself (the peer);
- gateway: the gateway's tools/call `<server>_echo`, forwarded to the upstream over stdio and back;
- gateway ping: a request the gateway answers itself (its floor: the pipe and the session, no upstream).

The gateway's overhead per call is gateway - direct (two more pipe hops, one more decode and encode).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from perf.servers import ROOT, STDIO
from perf.stdio_bench import read_answer

EVERYTHING_JS = (
    ROOT / "tests/node/everything/node_modules/@modelcontextprotocol/server-everything/dist/index.js"
)
UPSTREAMS: dict[str, tuple[list[str], str, str]] = {
    # name: (command, tool, arguments)
    "mcprt": (STDIO["mcprt"], "echo", '{"text":"hello"}'),
    "everything": (["node", str(EVERYTHING_JS), "stdio"], "echo", '{"message":"hello"}'),
}
INIT = (
    b'{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25",'
    b'"capabilities":{},"clientInfo":{"name":"bench","version":"1"}}}\n'
)
INITIALIZED = b'{"jsonrpc":"2.0","method":"notifications/initialized"}\n'


def call_line(tool: str, arguments: str) -> bytes:
    return (
        b'{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"'
        + tool.encode()
        + b'","arguments":'
        + arguments.encode()
        + b"}}\n"
    )


PING = b'{"jsonrpc":"2.0","id":%d,"method":"ping"}\n'


class Session:
    """One stdio server process, initialized, driven one request at a time."""

    def __init__(self, command: list[str]) -> None:
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=ROOT
        )
        assert self.process.stdin is not None and self.process.stdout is not None
        self.stdin, self.stdout = self.process.stdin, self.process.stdout
        self.next_id = 1
        self.stdin.write(INIT)
        self.stdin.flush()
        read_answer(self.stdout, 0)
        self.stdin.write(INITIALIZED)
        self.stdin.flush()

    def round_trips(self, template: bytes, seconds: float) -> list[float]:
        """Latencies (s) of sequential requests for `seconds`; the first answer is checked."""
        times: list[float] = []
        end = time.perf_counter() + seconds
        while True:
            request_id = self.next_id
            self.next_id += 1
            begin = time.perf_counter()
            self.stdin.write(template % request_id)
            self.stdin.flush()
            answer = read_answer(self.stdout, request_id)
            now = time.perf_counter()
            if not times and (b'"error"' in answer or b'"isError":true' in answer):
                raise RuntimeError(f"the request failed: {answer[:300]!r}")
            times.append(now - begin)
            if now >= end:
                return times

    def wait_for_tool(self, template: bytes, seconds: float = 20.0) -> None:
        """Until the call succeeds (the gateway lists an upstream's tools once it has connected)."""
        deadline = time.monotonic() + seconds
        while True:
            request_id = self.next_id
            self.next_id += 1
            self.stdin.write(template % request_id)
            self.stdin.flush()
            answer = read_answer(self.stdout, request_id)
            if b'"error"' not in answer and b'"isError":true' not in answer:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"the gateway never served the tool: {answer[:300]!r}")
            time.sleep(0.1)

    def close(self) -> None:
        self.stdin.close()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def summary(times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    return {
        "calls": len(ordered),
        "p50_us": statistics.median(ordered) * 1e6,
        "p99_us": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1e6,
        "per_s": len(ordered) / sum(ordered),
    }


def bench(name: str, seconds: float, config_dir: Path) -> dict[str, dict[str, float]]:
    command, tool, arguments = UPSTREAMS[name]
    config = config_dir / f"{name}.toml"
    config.write_text(
        f'[servers.up]\ncommand = {json.dumps(command)}\ncwd = {json.dumps(str(ROOT))}\nlog_level = "error"\n'
    )
    gateway_command = [sys.executable, "-m", "runtime", "gateway", str(config), "--stdio"]
    direct_call = call_line(tool, arguments)
    gateway_call = call_line(f"up_{tool}", arguments)
    upstream = Session(command)
    gateway = Session(gateway_command)
    try:
        gateway.wait_for_tool(gateway_call)
        upstream.round_trips(direct_call, 0.3)  # warm both
        gateway.round_trips(gateway_call, 0.3)
        # Interleaved in thirds so that a change of machine speed lands on all three alike.
        results: dict[str, list[float]] = {"direct": [], "gateway": [], "gateway ping": []}
        for _ in range(3):
            results["direct"] += upstream.round_trips(direct_call, seconds / 3)
            results["gateway"] += gateway.round_trips(gateway_call, seconds / 3)
            results["gateway ping"] += gateway.round_trips(PING, seconds / 3)
    finally:
        gateway.close()
        upstream.close()
    return {label: summary(times) for label, times in results.items()}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=3.0, help="per measurement and run (3)")
    parser.add_argument("--runs", type=int, default=3, help="runs; the median run of each is reported (3)")
    parser.add_argument("--upstreams", default="mcprt,everything", help="mcprt,everything")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        for name in args.upstreams.split(","):
            runs = [bench(name, args.seconds, Path(scratch)) for _ in range(args.runs)]
            print(f"upstream {name} (stdio), {args.runs} runs of {args.seconds:g} s, median run by P50:")
            print(f"  {'path':<14}{'P50 us':>10}{'P99 us':>10}{'calls/s':>10}")
            for label in ("direct", "gateway", "gateway ping"):
                ordered = sorted(runs, key=lambda run: run[label]["p50_us"])
                row = ordered[len(ordered) // 2][label]
                print(f"  {label:<14}{row['p50_us']:>10.0f}{row['p99_us']:>10.0f}{row['per_s']:>10.0f}")
            overheads = sorted(run["gateway"]["p50_us"] - run["direct"]["p50_us"] for run in runs)
            ratios = sorted(run["gateway"]["p50_us"] / run["direct"]["p50_us"] for run in runs)
            middle = overheads[len(overheads) // 2]
            print(
                f"  overhead per forwarded call (P50 gateway - direct): {middle:.0f} us"
                f" (runs {', '.join(f'{o:.0f}' for o in overheads)}); gateway/direct P50 ratio "
                f"{ratios[len(ratios) // 2]:.2f}"
            )


if __name__ == "__main__":
    main()
