"""Several worker processes: CPU cost per request of mcprt with 1 and 2 workers (what sharing sessions
across processes costs) and throughput with 2 workers, against the official SDK under `uvicorn --workers 2`,
in one run.

    .venv/bin/python -m perf.cluster_bench [--concurrency 32] [--seconds 5] [--runs 3] [--scenario call|await]
        [--only mcprt]

Neither the servers nor the load generator are pinned by the harness (mcprt pins its own workers). CPU per
request = CPU time of the server's whole process tree during the measured window / requests answered.
"""

from __future__ import annotations

import argparse
import statistics
import time

import psutil
import uvloop

from perf.loadgen import run_load
from perf.servers import start_http, stop

CONFIGS = [("mcprt", 1), ("mcprt", 2), ("official-sdk", 2)]


def tree_cpu(pid: int) -> float:
    root = psutil.Process(pid)
    total = 0.0
    for proc in [root, *root.children(recursive=True)]:
        try:
            times = proc.cpu_times()
            total += times.user + times.system
        except psutil.Error:
            pass
    return total


def measure(name: str, workers: int, concurrency: int, seconds: float, scenario: str) -> dict[str, float]:
    process, port = start_http(name, cpu=None, workers=workers)
    marks: list[float] = []
    try:
        time.sleep(1.0 if workers > 1 else 0.3)
        result = uvloop.run(
            run_load(
                f"http://127.0.0.1:{port}/mcp",
                concurrency,
                seconds,
                scenario,
                on_window=lambda opening: marks.append(tree_cpu(process.pid)),
            )
        )
    finally:
        stop(process)
    answered = result["rps"] * seconds
    result["cpu_us"] = (marks[1] - marks[0]) / answered * 1e6 if answered else 0.0
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--scenario", choices=["call", "await"], default="call", help="await: awaits once")
    parser.add_argument("--only", choices=["mcprt"], help="leave the SDK peer out (slow to start under load)")
    args = parser.parse_args()
    configs = [config for config in CONFIGS if args.only is None or config[0] == args.only]
    # Round robin (one run of each configuration, then the next round): drift shifts them all alike.
    samples: dict[tuple[str, int], list[dict[str, float]]] = {config: [] for config in configs}
    for _ in range(args.runs):
        for (name, workers), runs in samples.items():
            runs.append(measure(name, workers, args.concurrency, args.seconds, args.scenario))
    results = {
        config: {key: statistics.median(r[key] for r in runs) for key in runs[0]}
        for config, runs in samples.items()
    }
    sdk = results[("official-sdk", 2)]["rps"] if ("official-sdk", 2) in results else 0.0
    print(
        f"Streamable HTTP tools/call {'echo' if args.scenario == 'call' else 'echo_after_await'}, "
        f"concurrency {args.concurrency}, "
        f"{args.runs} runs x {args.seconds} s, medians; one session per connection"
    )
    columns = f"{'req/s':>9} {'P50 ms':>8} {'P99 ms':>8} {'errors':>7} {'CPU us/req':>11} {'x SDK':>7}"
    print(f"{'server':22} {columns}")
    for (name, workers), r in results.items():
        label = f"{name} --workers {workers}"
        print(
            f"{label:22} {r['rps']:9.0f} {r['p50_ms']:8.2f} {r['p99_ms']:8.2f} {r['errors']:7.0f} "
            f"{r['cpu_us']:11.1f} {r['rps'] / sdk if sdk else 0:7.1f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
