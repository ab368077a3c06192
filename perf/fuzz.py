"""The long fuzz: tests/test_fuzz.py's generator and checks with many more cases.

    .venv/bin/python -m perf.fuzz --cases 100000 [--seed N] [--seconds S]
                                  [--targets http1,http2,stdio,modern1,modern2]

`modernN`: the 2026-07-28 wire (no session; `_meta` and Mcp-* headers on most requests), N workers.

Prints, per target, each distinct failure with its smallest reproducer (seed:index replays it);
exits 1 if any.
"""

from __future__ import annotations

import argparse
import sys

from tests.cluster_support import ClusterServer
from tests.conftest import EVERYTHING
from tests.fuzzrun import HttpFuzzer, Report, StdioFuzzer, http_alive, logged_errors, run


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m perf.fuzz")
    parser.add_argument("--cases", type=int, default=100_000, help="cases per target (100000)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--first", type=int, default=0, help="first case index (replay: --first I --cases 1)")
    parser.add_argument("--seconds", type=float, default=None, help="stop each target after this long")
    parser.add_argument("--targets", default="http1,http2,stdio,modern1,modern2")
    parser.add_argument("--timeout", type=float, default=10.0, help="per request, s (10)")
    args = parser.parse_args()
    failed = False
    for target in args.targets.split(","):
        report = Report(target)
        if target.startswith(("http", "modern")):
            modern = target.startswith("modern")
            server = ClusterServer(int(target.removeprefix("modern" if modern else "http") or 1), "--no-pin")
            try:
                fuzzer = HttpFuzzer(server.port, args.seed, args.timeout, modern=modern)
                run(fuzzer, report, args.first, args.cases, args.seconds, progress=True)
                fuzzer.close()
                after = http_alive(server.port)
            finally:
                server.stop()
            log = server.lines
        else:
            command = [sys.executable, "-m", "runtime", "serve", str(EVERYTHING), "--stdio"]
            stdio = StdioFuzzer(command, args.seed, args.timeout)
            try:
                run(stdio, report, args.first, args.cases, args.seconds, progress=True)
                after = None if stdio.process.poll() is None else "the stdio server exited"
            finally:
                stdio.stop()
            log = stdio.log
        print(report.text())
        if after:
            print(f"after the run: {after}")
        for line in logged_errors(log)[:20]:
            print(f"logged: {line}")
        failed |= bool(report.failures or after)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
