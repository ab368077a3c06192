"""Helpers for the multi-process tests: a real `mcprt serve --workers N` (supervisor + workers) and raw
HTTP connections whose worker is known (SO_REUSEPORT spreads connections over the workers; a keep-alive
connection stays on the worker that accepted it)."""

from __future__ import annotations

import http.client
import itertools
import json
import re
import subprocess
import sys
import threading
import time
from typing import Any

from tests.conftest import EVERYTHING

ACCEPT = "application/json, text/event-stream"
INIT = {
    "jsonrpc": "2.0",
    "id": 0,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-11-25",
        "capabilities": {"sampling": {}, "elicitation": {"form": {}}, "roots": {"listChanged": True}},
        "clientInfo": {"name": "cluster-test", "version": "1"},
    },
}


class ClusterServer:
    """`mcprt serve [APP] --http 127.0.0.1:0 --workers N` with its stderr collected (the supervisor's events).
    An app among `args` (a file.py or module:attr) is served, else the everything example."""

    def __init__(self, workers: int, *args: str) -> None:
        names_an_app = any(arg.endswith(".py") or ":" in arg for arg in args)
        command = [
            sys.executable,
            "-m",
            "runtime",
            "serve",
            *([] if names_an_app else [EVERYTHING]),
            "--http",
            "127.0.0.1:0",
            "--workers",
            str(workers),
        ]
        self.process = subprocess.Popen(
            [*command, *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        self.lines: list[str] = []
        self._ready = threading.Event()
        self.port = 0
        self.url = ""
        threading.Thread(target=self._read, daemon=True).start()
        if not self._ready.wait(60) or not self.port:
            self.stop()
            raise RuntimeError("cluster did not start:\n" + "".join(self.lines))

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line)
            match = re.search(r"serving .* at http://127\.0\.0\.1:(\d+)(/\S*)", line)
            if match:
                self.port = int(match.group(1))
                self.url = f"http://127.0.0.1:{self.port}{match.group(2)}"
                self._ready.set()
        self._ready.set()

    def log(self) -> str:
        return "".join(self.lines)

    def wait_for_log(self, pattern: str, timeout: float = 10.0, after: int = 0) -> re.Match[str] | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            match = re.search(pattern, "".join(self.lines[after:]))
            if match:
                return match
            time.sleep(0.02)
        return None

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


_request_ids = itertools.count(1000)


class Conn:
    """One keep-alive HTTP connection (so one worker) speaking MCP."""

    def __init__(self, port: int, session: dict[str, str] | None = None) -> None:
        self.http = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        self.session = dict(session or {})

    def post(self, message: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
        headers = {"Accept": ACCEPT, "Content-Type": "application/json", **self.session}
        self.http.request("POST", "/mcp", body=json.dumps(message), headers=headers)
        response = self.http.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()

    def call(self, name: str, arguments: dict[str, Any] | None = None) -> dict[str, Any]:
        message = {
            "jsonrpc": "2.0",
            "id": next(_request_ids),  # unique in the session, whichever thread or connection sends it
            "method": "tools/call",
            "params": {"name": name, "arguments": arguments or {}},
        }
        status, headers, body = self.post(message)
        assert status == 200, (status, body)
        if headers["content-type"].startswith("text/event-stream"):
            body = [e for e in sse_data(body) if b'"result"' in e or b'"error"' in e][-1]
        return json.loads(body)  # type: ignore[no-any-return]

    def pid(self) -> int:
        return int(self.call("worker_info")["result"]["structuredContent"]["pid"])

    def close(self) -> None:
        self.http.close()


def sse_data(body: bytes) -> list[bytes]:
    return [line[6:] for line in body.split(b"\n") if line.startswith(b"data: ") and len(line) > 6]


def start_session(port: int) -> dict[str, str]:
    conn = Conn(port)
    status, headers, _ = conn.post(INIT)
    assert status == 200
    session = {"Mcp-Session-Id": headers["mcp-session-id"], "MCP-Protocol-Version": "2025-11-25"}
    conn.session = session
    status, _, _ = conn.post({"jsonrpc": "2.0", "method": "notifications/initialized"})
    assert status == 202
    conn.close()
    return session


def conns_by_worker(port: int, session: dict[str, str], workers: int, limit: int = 200) -> dict[int, Conn]:
    """Open connections until one reaches each worker; returns pid -> connection."""
    found: dict[int, Conn] = {}
    for _ in range(limit):
        conn = Conn(port, session)
        pid = conn.pid()
        if pid in found:
            conn.close()
        else:
            found[pid] = conn
        if len(found) == workers:
            break
    return found


def stream_events(response: http.client.HTTPResponse) -> Any:
    """Yield (event id, data or None) for every SSE event as it arrives; None is an event without data (priming)."""
    event_id = None
    while True:
        line = response.readline()
        if not line:
            return
        line = line.rstrip(b"\r\n")
        if line.startswith(b"id: "):
            event_id = line[4:].decode()
        elif line.startswith(b"data:"):
            payload = line[5:].strip()
            yield event_id, (json.loads(payload) if payload else None)


def stream_lines(response: http.client.HTTPResponse) -> Any:
    """Yield (event id, data) pairs of an SSE response as they arrive, skipping events without data."""
    return ((event_id, data) for event_id, data in stream_events(response) if data is not None)


def send(conn: Conn, message: dict[str, Any]) -> None:
    """POST `message` on `conn` without reading the answer (so several can be in flight at once)."""
    headers = {"Accept": ACCEPT, "Content-Type": "application/json", **conn.session}
    conn.http.request("POST", "/mcp", body=json.dumps(message), headers=headers)


def answer(conn: Conn) -> dict[str, Any]:
    """The response to the request `send` sent (the last message of an SSE body)."""
    response = conn.http.getresponse()
    assert response.status == 200
    if response.getheader("content-type", "").startswith("text/event-stream"):
        replies: list[dict[str, Any]] = [
            d for _, d in stream_lines(response) if "id" in d and "method" not in d
        ]
        return replies[-1]
    return json.loads(response.read())  # type: ignore[no-any-return]
