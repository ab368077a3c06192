"""The stdio transport byte by byte: framing, malformed input, limits, start-up and shutdown."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest

from tests.conftest import serve_command

pytestmark = pytest.mark.timeout(30)
INIT = (
    b'{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25",'
    b'"capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}\n'
)


def run(stdin: bytes, *args: str) -> tuple[list[dict], bytes, int]:
    proc = subprocess.run(serve_command("--stdio", *args), input=stdin, capture_output=True, timeout=20)
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    return lines, proc.stderr, proc.returncode


def test_nothing_is_written_before_the_first_message() -> None:
    lines, _, code = run(b"")
    assert lines == [] and code == 0


def test_malformed_lines_get_errors_and_the_session_goes_on() -> None:
    stdin = (
        INIT
        + b"{oops\n"
        + b"[1,2]\n"
        + b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"ok"}}}\n'
        + b"\n"
        + b'{"jsonrpc":"2.0","id":2,"method":"unknown/method"}\n'
    )
    lines, _, code = run(stdin)
    assert code == 0
    assert lines[0]["id"] == 0
    assert lines[1]["error"]["code"] == -32700 and "id" not in lines[1]
    assert lines[2]["error"]["code"] == -32600
    by_id = {line["id"]: line for line in lines[3:]}  # answers to concurrent requests come in any order
    assert by_id[1] == {"jsonrpc": "2.0", "id": 1, "result": {"content": [{"type": "text", "text": "ok"}]}}
    assert by_id[2]["error"]["code"] == -32601


def test_oversized_message_is_refused_without_losing_the_session() -> None:
    big = b'{"jsonrpc":"2.0","id":5,"method":"ping","params":{"_meta":{"x":"' + b"a" * 5000 + b'"}}}\n'
    stdin = INIT + big + b'{"jsonrpc":"2.0","id":6,"method":"ping"}\n'
    lines, _, _ = run(stdin, "--max-message-bytes", "1024")
    assert lines[1]["error"]["code"] == -32600 and "limit" in lines[1]["error"]["message"]
    assert lines[2] == {"jsonrpc": "2.0", "id": 6, "result": {}}


def test_crlf_and_utf8() -> None:
    call = (
        '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"日本"}}}'
    )
    stdin = INIT + call.encode() + b"\r\n"
    lines, _, _ = run(stdin)
    assert lines[1]["result"]["content"][0]["text"] == "日本"


def test_sigterm_exits_cleanly_and_logs_only_to_stderr() -> None:
    proc = subprocess.Popen(
        serve_command("--stdio"), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(INIT)
    proc.stdin.flush()
    first = proc.stdout.readline()
    assert json.loads(first)["id"] == 0
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=10) == 0
    assert proc.stdout.read() == b""


def test_start_up_answers_quickly() -> None:
    # Not a benchmark (see perf/): only a guard against an import-time regression of an order of magnitude.
    started = time.perf_counter()
    lines, _, _ = run(INIT)
    assert lines[0]["result"]["protocolVersion"] == "2025-11-25"
    assert time.perf_counter() - started < 5.0


def test_unknown_app_fails_with_a_clear_message() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "runtime", "serve", "no_such_module:server", "--stdio"],
        capture_output=True,
        timeout=20,
    )
    assert proc.returncode != 0 and b"cannot import" in proc.stderr and proc.stdout == b""


def nested(depth: int, request_id: int = 1) -> bytes:
    value = b"[" * depth + b"]" * depth
    return b'{"jsonrpc":"2.0","id":%d,"method":"ping","params":{"_meta":{"x":%s}}}\n' % (request_id, value)


@pytest.mark.parametrize("depth", [990, 10**4, 10**6])
def test_deep_nesting_is_refused_and_the_session_goes_on(depth: int) -> None:
    stdin = INIT + nested(depth) + b'{"jsonrpc":"2.0","id":2,"method":"ping"}\n'
    lines, _, code = run(stdin, "--max-message-bytes", str(4 * 10**6))
    assert code == 0
    assert lines[1]["id"] == 1 and lines[1]["error"]["code"] == -32600
    assert "nested deeper than 200 levels" in lines[1]["error"]["message"]
    assert lines[2] == {"jsonrpc": "2.0", "id": 2, "result": {}}


def test_nesting_limit_edge() -> None:
    # The message is level 1, params 2, _meta 3, x 4: x holding n arrays nests n + 3 deep.
    stdin = INIT + nested(197, 1) + nested(198, 2) + nested(5, 3)
    lines, _, _ = run(stdin, "--max-nesting-depth", "200")
    assert lines[1] == {"jsonrpc": "2.0", "id": 1, "result": {}}
    assert lines[2]["id"] == 2 and lines[2]["error"]["code"] == -32600
    lines, _, _ = run(INIT + nested(5, 3), "--max-nesting-depth", "7")
    assert lines[1]["id"] == 3 and lines[1]["error"]["code"] == -32600


def test_oversized_message_is_answered_with_its_id() -> None:
    padding = b"a" * 100_000
    id_first = b'{"jsonrpc":"2.0","id":"first","method":"ping","params":{"_meta":{"x":"' + padding + b'"}}}\n'
    # The TypeScript SDK writes the id last.
    id_last = b'{"method":"ping","params":{"_meta":{"x":"' + padding + b'","id":9}},"jsonrpc":"2.0","id":7}\n'
    no_id = b'{"jsonrpc":"2.0","method":"notifications/x","params":{"_meta":{"x":"' + padding + b'"}}}\n'
    nested_id_only = b'{"jsonrpc":"2.0","params":{"id":9,"x":"' + padding + b'"},"method":"ping"}\n'
    stdin = INIT + id_first + id_last + no_id + nested_id_only + b'{"jsonrpc":"2.0","id":6,"method":"ping"}\n'
    lines, _, _ = run(stdin, "--max-message-bytes", "1024")
    assert [line.get("id") for line in lines] == [0, "first", 7, None, None, 6]
    assert all(line["error"]["code"] == -32600 for line in lines[1:5])
    assert "id" not in lines[3] and "id" not in lines[4]


def test_oversized_message_in_one_piece_is_answered_with_its_id() -> None:
    big = b'{"method":"ping","params":{"_meta":{"x":"' + b"a" * 2000 + b'"}},"jsonrpc":"2.0","id":5}\n'
    lines, _, _ = run(INIT + big, "--max-message-bytes", "1024")
    assert lines[1]["id"] == 5 and lines[1]["error"]["code"] == -32600
