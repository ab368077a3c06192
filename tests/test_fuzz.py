"""Bounded, seeded fuzzing of real servers (tests/fuzzgen.py generates, tests/fuzzrun.py sends and checks):
`serve --http` with one worker and with two, on both protocol wires, and `serve --stdio`. Any 5xx, exit,
hang, internal error, HTTP error body that is not a JSON-RPC error, or broken oracle fails, with the
smallest reproducer of each kind.
`python -m perf.fuzz --cases 100000` runs the same generator for longer."""

from __future__ import annotations

import json
import os

import pytest

from tests.cluster_support import ClusterServer
from tests.conftest import serve_command
from tests.fuzzrun import HttpFuzzer, Report, StdioFuzzer, http_alive, logged_errors, run

SEED = int(os.environ.get("MCPRT_FUZZ_SEED", "20251125"))
CASES = int(os.environ.get("MCPRT_FUZZ_CASES", "1200"))  # per target: a few thousand in all


@pytest.mark.slow
@pytest.mark.timeout(300)
@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("wire", ["2025-11-25", "2026-07-28"])
def test_fuzz_http(workers: int, wire: str) -> None:
    """On the 2026-07-28 wire the cases stand alone (no session), with `_meta` and the Mcp-* headers on
    most of them (fuzzgen.Generator.modern_case)."""
    server = ClusterServer(workers, "--no-pin")
    report = Report(f"http {wire} --workers {workers}")
    try:
        fuzzer = HttpFuzzer(server.port, SEED + workers, modern=wire == "2026-07-28")
        run(fuzzer, report, 0, CASES)
        fuzzer.close()
        alive = http_alive(server.port)
        running = server.process.poll() is None
    finally:
        server.stop()
    problems = [report.text()] if report.failures else []
    if alive is not None or not running:
        problems.append(f"after the run: {alive or 'the server exited'}")
    logged = logged_errors(server.lines)
    if logged:
        problems.append("the server logged:\n" + "\n".join(logged[:20]))
    assert not problems, "\n".join(problems)


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_fuzz_stdio() -> None:
    fuzzer = StdioFuzzer(serve_command("--stdio"), SEED)
    report = Report("stdio")
    try:
        run(fuzzer, report, 0, CASES)
        try:
            fuzzer.ping()
            alive = fuzzer.process.poll() is None
        except (TimeoutError, ConnectionError, OSError):
            alive = False
    finally:
        fuzzer.stop()
    problems = [report.text()] if report.failures else []
    if not alive:
        problems.append("after the run: the stdio server no longer answers a ping")
    logged = logged_errors(fuzzer.log)
    if logged:
        problems.append("the server logged:\n" + "\n".join(logged[:20]))
    assert not problems, "\n".join(problems)


def test_roots_list_changed_without_roots_capability_logs_nothing() -> None:
    """Found by the fuzz: the everything example's roots hook asked a client without the roots capability for its roots,
    and the failed hook task was logged as a traceback ("Task exception was never retrieved")."""
    fuzzer = StdioFuzzer(serve_command("--stdio"), SEED)  # initialized without capabilities
    try:
        fuzzer._send(b'{"jsonrpc":"2.0","method":"notifications/roots/list_changed"}')
        fuzzer.ping()
        fuzzer.ping()
    finally:
        fuzzer.stop()
    assert not logged_errors(fuzzer.log), fuzzer.log


def test_loopback_host_in_any_case_is_accepted(http_server) -> None:  # type: ignore[no-untyped-def]
    """Found by the fuzz: `Host: LocalHost` was refused with 421; host names are case-insensitive (RFC 9110
    4.2.3), so it names the loopback like `localhost`."""
    import http.client

    from tests.cluster_support import INIT

    conn = http.client.HTTPConnection("127.0.0.1", http_server.port, timeout=10)
    headers = {"Host": "LocalHost:1", "Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
    conn.request("POST", "/mcp", body=json.dumps(INIT), headers=headers)
    assert conn.getresponse().status == 200
    conn.close()
