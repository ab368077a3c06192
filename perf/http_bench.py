"""Streamable HTTP side by side: mcprt, the official SDK (default configuration), FastMCP and the raw floor.

    .venv/bin/python -m perf.http_bench [--scenario call|await|read] [--concurrency 16] [--seconds 5]
                                        [--runs 3] [--wire 2025-11-25|2026-07-28|both]
                                        [--servers mcprt,official-sdk,fastmcp,floor]
    .venv/bin/python -m perf.http_bench --servers mcprt,floor,floor+3,floor+15

`floor+N`: the floor spending N µs of CPU on each request (perf/peers/floor.py --work-us): beside the
floor, it shows how much work per request a fraction of the floor leaves room for (80% of it: about 3 µs
on the project's machine, where mcprt's whole MCP path is 10-14 µs, `perf.call_cpu`).
    .venv/bin/python -m perf.http_bench --auth [--runs 5] [--wire both]

`--wire 2026-07-28`: the modern, stateless wire (no session; `_meta` and Mcp-* headers on every request),
which mcprt and the official SDK serve beside the legacy one on the same endpoint. `both`: each round runs
every server on each wire.

`--auth`: the cost of authorization. A real authorization server (tests/auth_server.py, node-oidc-provider)
runs for the whole benchmark; one JWT access token (RS256, client_credentials) is issued per audience, and
sent on every request to `mcprt-auth` (the same app as `mcprt`, with --auth-issuer/--auth-audience) and to
`official-sdk-auth` (the SDK's MCPServer behind its bearer middleware, perf/peers/official_sdk_auth.py);
`mcprt` and `floor` get no token, `mcprt-token` (mcprt without authorization) gets mcprt-auth's token
anyway, which it ignores: mcprt-auth / mcprt-token is the cost of checking the token, apart from the cost of
carrying it. Reported: mcprt-auth / mcprt (what auth costs mcprt) and mcprt-auth /
official-sdk-auth, for each wire, and each server's CPU time per request (read from /proc). With --auth
the servers are started once and measured in turns, window after window (--keep-running; the SDK peers
are started anew for each window, see RESTARTED): many short rounds, each pair of windows seconds apart.

Each server runs pinned to CPU 0 with one worker; the load generator runs on CPU 1. The servers take turns
(one run each, round robin); medians of the runs.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import uvloop

from perf.loadgen import run_load
from perf.servers import start_http, stop

SERVERS = ["mcprt", "official-sdk", "fastmcp", "floor"]
AUTH_SERVERS = ["mcprt", "mcprt-token", "mcprt-auth", "official-sdk-auth", "floor"]
# `mcprt-token`: mcprt without authorization, sent mcprt-auth's Authorization line anyway (ignored): what
# carrying a ~700-byte JWT costs the server, the load generator and the kernel, apart from checking it.
SAME_AS = {"mcprt-token": "mcprt"}
WIRES = ["2025-11-25", "2026-07-28"]
# The audiences the tokens are issued for (what each server's `aud` check expects; the port in them need
# not be the one the server listens on).
AUDIENCES = {
    "mcprt-auth": "http://127.0.0.1:8000/mcp",
    "official-sdk-auth": "http://127.0.0.1:8001/mcp",
}
AUTH_SCOPE = "mcp:read mcp:write"
# Started anew for each window even with --keep-running: the official SDK kept running stalled after a
# few windows' worth of new sessions (the load generator's initialize timed out).
RESTARTED = frozenset({"official-sdk", "official-sdk-auth", "fastmcp"})


@contextlib.contextmanager
def authorization(names: list[str]) -> Iterator[tuple[str, dict[str, bytes]]]:
    """The authorization server, running: its issuer and, for each server that checks tokens, the raw
    `authorization` header line of a valid token for its audience. Stopped on leaving."""
    from tests.auth_server import AuthServer

    # A lifetime longer than any benchmark: no token expires in a measured window.
    with AuthServer.running({"alg": "RS256", "ttl": 6 * 3600}) as server:
        headers = {
            name: b"authorization: Bearer " + server.token(audience, AUTH_SCOPE).encode() + b"\r\n"
            for name, audience in AUDIENCES.items()
            if name in names or (name == "mcprt-auth" and "mcprt-token" in names)
        }
        if "mcprt-token" in names:
            headers["mcprt-token"] = headers["mcprt-auth"]
        yield server.issuer, headers


def start(name: str, issuer: str | None = None) -> tuple[subprocess.Popen[bytes], int]:
    auth = (issuer, AUDIENCES[name]) if issuer is not None and name in AUDIENCES else None
    process, port = start_http(SAME_AS.get(name, name), cpu=0, auth=auth)
    time.sleep(0.3)
    return process, port


def load(
    process: subprocess.Popen[bytes],
    port: int,
    scenario: str,
    concurrency: int,
    seconds: float,
    wire: str,
    headers: bytes = b"",
    warmup: float = 1.0,
) -> dict[str, float]:
    """One measured window against a running server: req/s, latencies, and its CPU µs per request."""
    window: list[tuple[float, float]] = []  # (wall, the server's CPU seconds) as the window opens, closes

    def on_window(_: bool) -> None:
        window.append((time.perf_counter(), cpu_seconds(process.pid)))

    url = f"http://127.0.0.1:{port}/mcp"
    try:
        result = uvloop.run(
            run_load(url, concurrency, seconds, scenario, warmup, on_window, wire=wire, headers=headers)
        )
    except (TimeoutError, OSError) as exc:
        raise RuntimeError(f"the load failed on the {wire} wire: {exc!r}") from None
    (wall0, cpu0), (wall1, cpu1) = window
    answered = result["rps"] * (wall1 - wall0)
    result["cpu_us"] = (cpu1 - cpu0) / answered * 1e6 if answered else 0.0
    return result


def measure(
    name: str,
    scenario: str,
    concurrency: int,
    seconds: float,
    wire: str,
    issuer: str | None = None,
    headers: bytes = b"",
) -> dict[str, float]:
    """A server started for one window, and stopped."""
    process, port = start(name, issuer)
    try:
        return load(process, port, scenario, concurrency, seconds, wire, headers)
    finally:
        stop(process)


def cpu_seconds(pid: int) -> float:
    """The CPU time (user + system) process `pid` has used: on a shared machine, the server's CPU per
    request is a steadier measure of its work than its throughput."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def ratio(samples: dict[str, list[dict[str, float]]], name: str, peer: str) -> float | None:
    """The median of the per-round ratios of req/s: each round's servers ran minutes apart at most, so a
    drift of the machine's speed between rounds cancels out."""
    if peer not in samples or name not in samples:
        return None
    pairs = zip(samples[name], samples[peer], strict=False)
    return statistics.median(mine["rps"] / theirs["rps"] if theirs["rps"] else 0.0 for mine, theirs in pairs)


def report(
    samples: dict[str, list[dict[str, float]]], args: argparse.Namespace, wire: str
) -> dict[str, dict[str, float]]:
    results: dict[str, dict[str, float]] = {
        name: {key: statistics.median(r[key] for r in runs) for key in runs[0]}
        for name, runs in samples.items()
        if runs
    }
    what = {
        "call": "tools/call echo",
        "await": "tools/call echo after one await",
        "read": "resources/read 1 KiB",
    }[args.scenario]
    runs = f"{args.runs} runs x {args.seconds} s"
    print()
    print(f"Streamable HTTP {what} ({wire} wire), concurrency {args.concurrency}, {runs}, medians;")
    print(
        "server on CPU 0, one worker" + ("; a valid JWT on every request to the *-auth servers" * args.auth)
    )
    print("(ratios: the median of each round's ratio)")
    peer = "official-sdk-auth" if args.auth else "official-sdk"
    columns = ("req/s", "P50 ms", "P95 ms", "P99 ms", "errors", "CPU µs", "% floor", "x SDK")
    print(f"{'server':18}" + "".join(f" {c:>8}" for c in columns))
    for name, r in results.items():
        vs_floor, vs_sdk = ratio(samples, name, "floor"), ratio(samples, name, peer)
        of_floor = f"{100 * vs_floor:.0f}%" if vs_floor is not None else "-"
        x_sdk = f"{vs_sdk:.2f}" if vs_sdk is not None else "-"
        r["vs_floor"] = vs_floor or 0.0
        r["vs_sdk"] = vs_sdk or 0.0
        print(
            f"{name:18} {r['rps']:8.0f} {r['p50_ms']:8.2f} {r['p95_ms']:8.2f} {r['p99_ms']:8.2f}"
            f" {r['errors']:8.0f} {r['cpu_us']:8.1f} {of_floor:>8} {x_sdk:>8}"
        )
    if args.auth:
        cost = ratio(samples, "mcprt-auth", "mcprt")
        vs_sdk = ratio(samples, "mcprt-auth", "official-sdk-auth")
        if cost is not None:
            per_round = " ".join(
                f"{a['rps'] / b['rps']:.3f}"
                for a, b in zip(samples["mcprt-auth"], samples["mcprt"], strict=False)
            )
            verdict = "ok" if cost >= 0.95 else "OVER BUDGET"
            print(
                f"mcprt-auth / mcprt              {cost:.3f}"
                f"  (auth costs {100 * (1 - cost):.1f}%; budget 5%: {verdict})"
            )
            print(f"  per round                     {per_round}")
            results["mcprt-auth"]["vs_mcprt"] = cost
        if "mcprt-auth" in samples and "mcprt" in samples:
            cpu = statistics.median(
                a["cpu_us"] / b["cpu_us"] if b["cpu_us"] else 0.0
                for a, b in zip(samples["mcprt-auth"], samples["mcprt"], strict=False)
            )
            print(f"CPU per request, mcprt-auth / mcprt  {cpu:.3f}  (auth adds {100 * (cpu - 1):.1f}% CPU)")
            results["mcprt-auth"]["cpu_vs_mcprt"] = cpu
        checking = ratio(samples, "mcprt-auth", "mcprt-token")
        if checking is not None:
            verdict = "ok" if checking >= 0.95 else "OVER BUDGET"
            print(
                f"mcprt-auth / mcprt-token        {checking:.3f}"
                f"  (checking the token costs {100 * (1 - checking):.1f}%, carrying it aside; {verdict})"
            )
            results["mcprt-auth"]["vs_mcprt_token"] = checking
        if vs_sdk is not None:
            print(f"mcprt-auth / official-sdk-auth  {vs_sdk:.2f}")
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scenario", choices=["call", "await", "read"], default="call")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--servers", default=None, help=f"default {','.join(SERVERS)}; with --auth {','.join(AUTH_SERVERS)}"
    )
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument(
        "--wire", choices=[*WIRES, "both"], default=None, help="default 2025-11-25; with --auth both"
    )
    parser.add_argument(
        "--auth", action="store_true", help="the cost of bearer-token authorization (see above)"
    )
    parser.add_argument(
        "--keep-running",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="start each server once and measure it in turns (default with --auth), not once per run",
    )
    args = parser.parse_args()
    if args.keep_running is None:
        args.keep_running = args.auth
    names = (args.servers or ",".join(AUTH_SERVERS if args.auth else SERVERS)).split(",")
    wire_arg = args.wire or ("both" if args.auth else WIRES[0])
    wires = WIRES if wire_arg == "both" else [wire_arg]
    if (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {1})
    with contextlib.ExitStack() as stack:
        issuer: str | None = None
        headers: dict[str, bytes] = {}
        if args.auth:
            issuer, headers = stack.enter_context(authorization(names))
        samples: dict[str, dict[str, list[dict[str, float]]]] = {
            w: {name: [] for name in names} for w in wires
        }
        skipped: set[str] = set()
        running: dict[str, tuple[subprocess.Popen[bytes], int]] = {}
        if args.keep_running:  # started once, serving both wires in turn
            for name in names:
                if name in RESTARTED:
                    continue
                try:
                    running[name] = start(name, issuer)
                except RuntimeError as exc:
                    print(f"{name}: skipped ({exc})")
                    skipped.add(name)
                    continue
                stack.callback(stop, running[name][0])
        # Round robin (run 1 of every server on every wire, then run 2, ...): a machine whose speed drifts
        # during the benchmark shifts every server alike, so the ratios hold.
        for round in range(args.runs):
            for wire in wires:
                for name in names:
                    if name in skipped:
                        continue
                    header = headers.get(name, b"")
                    window = (args.scenario, args.concurrency, args.seconds, wire)
                    sample = None
                    for attempt in (1, 2):  # a busy machine: once more before giving up on the server
                        try:
                            if name in running:
                                process, port = running[name]
                                if process.poll() is not None:
                                    raise RuntimeError(f"exited with {process.returncode}")
                                sample = load(process, port, *window, header, 1.0 if round == 0 else 0.5)
                            else:
                                sample = measure(name, *window, issuer, header)
                            break
                        except RuntimeError as exc:
                            print(f"{name}: {exc}" + ("; once more" if attempt == 1 else "; skipped"))
                    if sample is None:
                        skipped.add(name)
                        continue
                    samples[wire][name].append(sample)
    results = {}
    for wire in wires:
        for name in skipped:
            samples[wire].pop(name, None)
        results[wire] = report(samples[wire], args, wire)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        out = results if len(wires) > 1 else results[wires[0]]
        args.json.write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
