"""lifecycle.mdx: the server sends no requests (sampling, elicitation, roots) before the client's
notifications/initialized; a request made earlier waits for it."""

from __future__ import annotations

import json
import select
import subprocess

import pytest

from tests.conftest import serve_command

pytestmark = pytest.mark.timeout(30)


def read_line(proc: subprocess.Popen[bytes], timeout: float) -> dict | None:
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    if not ready:
        return None
    return json.loads(proc.stdout.readline())


def send(proc: subprocess.Popen[bytes], message: dict) -> None:
    assert proc.stdin is not None
    proc.stdin.write(json.dumps(message).encode() + b"\n")
    proc.stdin.flush()


def test_sampling_waits_for_initialized() -> None:
    proc = subprocess.Popen(serve_command("--stdio"), stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        send(proc, {"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {"sampling": {}},
            "clientInfo": {"name": "early", "version": "1"}}})
        assert read_line(proc, 10)["id"] == 0  # type: ignore[index]
        send(proc, {"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                    "params": {"name": "test_sampling", "arguments": {"prompt": "hi"}}})
        assert read_line(proc, 1.0) is None  # held: the client has not said initialized
        send(proc, {"jsonrpc": "2.0", "method": "notifications/initialized"})
        request = read_line(proc, 10)
        assert request is not None and request["method"] == "sampling/createMessage"
        send(proc, {"jsonrpc": "2.0", "id": request["id"], "result": {
            "role": "assistant", "content": {"type": "text", "text": "hello"}, "model": "m"}})
        answer = read_line(proc, 10)
        assert answer is not None and answer["id"] == 1 and not answer["result"].get("isError")
    finally:
        proc.kill()
        proc.wait()
