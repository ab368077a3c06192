"""One default for the largest message on every entry point: `mcprt serve --stdio`, `Server.run()` and
`serve --http` all take a message of exactly DEFAULT_MAX_MESSAGE_BYTES and refuse one byte more."""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
from typing import Any

import pytest

from runtime.protocol.scan import DEFAULT_MAX_MESSAGE_BYTES
from tests.cluster_support import ACCEPT, start_session
from tests.conftest import INIT, ROOT, RunningServer, serve_command

pytestmark = pytest.mark.timeout(120)
LIMIT = DEFAULT_MAX_MESSAGE_BYTES
APP = "tests/apps/limits.py:server"


def _call_of_size(size: int, request_id: int) -> bytes:
    """A tools/call of `echo_any` that is exactly `size` bytes long."""
    base = {"jsonrpc": "2.0", "id": request_id, "method": "tools/call", "params": {"name": "echo_any"}}

    def encoded(pad: int) -> bytes:
        return json.dumps({**base, "params": {**base["params"], "arguments": {"value": "x" * pad}}}).encode()

    data = encoded(size - len(encoded(0)))
    assert len(data) == size
    return data


def _stdio_exchange(command: list[str]) -> list[dict[str, Any]]:
    lines = [
        json.dumps(INIT).encode(),
        b'{"jsonrpc":"2.0","method":"notifications/initialized"}',
        _call_of_size(LIMIT, 1),
        _call_of_size(LIMIT + 1, 2),
        b'{"jsonrpc":"2.0","id":3,"method":"ping"}',
    ]
    done = subprocess.run(
        command, input=b"\n".join(lines) + b"\n", capture_output=True, timeout=90, cwd=ROOT, check=False
    )
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]


@pytest.mark.parametrize("entry", ["cli", "server.run"])
def test_stdio_entry_points_share_the_default(entry: str) -> None:
    if entry == "cli":
        command = serve_command("--stdio", app=APP)
    else:
        command = [sys.executable, "-c", "from tests.apps.limits import server; server.run()"]
    answers = {answer.get("id"): answer for answer in _stdio_exchange(command)}
    assert "error" not in answers[1]  # exactly at the limit: served
    echoed = answers[1]["result"]["structuredContent"]["value"]
    assert echoed == "x" * len(echoed) and len(echoed) > LIMIT - 200  # all of it
    assert answers[2]["error"]["code"] == -32600 and str(LIMIT) in answers[2]["error"]["message"]
    assert answers[3]["result"] == {}  # the session goes on


def test_http_body_limit_is_the_same_default() -> None:
    server = RunningServer(app=APP)
    try:
        session = start_session(server.port)
        headers = {"Accept": ACCEPT, "Content-Type": "application/json", **session}
        for size, status in ((LIMIT, 200), (LIMIT + 1, 413)):
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
            conn.request("POST", "/mcp", body=_call_of_size(size, size), headers=headers)
            response = conn.getresponse()
            body = response.read()
            assert response.status == status, (size, response.status, body[:200])
            if status == 413:
                assert json.loads(body)["error"]["code"] == -32600
            conn.close()
    finally:
        server.stop()
