"""Over stdio, stdout carries the protocol only: whatever the application writes to fd 1 (print, logging,
child processes, at import time) goes to stderr, and child processes do not read the client's messages."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.conftest import serve_command
from tests.test_stdio_raw import INIT

pytestmark = pytest.mark.timeout(60)
NOISY = str(Path(__file__).parent / "apps" / "noisy.py") + ":server"


def call(request_id: int, name: str) -> bytes:
    message = {"jsonrpc": "2.0", "id": request_id, "method": "tools/call", "params": {"name": name}}
    return json.dumps(message).encode() + b"\n"


def run_noisy(*names: str) -> tuple[list[dict], str]:
    stdin = INIT + b"".join(call(i + 1, name) for i, name in enumerate(names))
    proc = subprocess.run(serve_command("--stdio", app=NOISY), input=stdin, capture_output=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    # Every line on stdout is a JSON-RPC message: json.loads fails on anything else.
    return [json.loads(line) for line in proc.stdout.splitlines()], proc.stderr.decode()


def results(lines: list[dict]) -> dict[int, str]:
    return {
        line["id"]: line["result"]["content"][0]["text"] for line in lines if "result" in line and line["id"]
    }


def test_import_time_print_goes_to_stderr() -> None:
    lines, stderr = run_noisy()
    assert lines[0]["id"] == 0 and "printed at import time" in stderr


def test_print_in_a_tool_goes_to_stderr() -> None:
    lines, stderr = run_noisy("printing", "printing")
    assert results(lines) == {1: "printed", 2: "printed"}
    assert "printed by a tool" in stderr and "written to sys.__stdout__" in stderr


def test_child_process_output_goes_to_stderr_and_it_reads_no_messages() -> None:
    lines, stderr = run_noisy("child", "printing")
    assert results(lines) == {1: "child ran", 2: "printed"}
    assert "echoed by a child" in stderr


def test_logging_to_stdout_goes_to_stderr() -> None:
    lines, stderr = run_noisy("logs")
    assert results(lines) == {1: "logged"}
    assert "logged to stdout" in stderr
