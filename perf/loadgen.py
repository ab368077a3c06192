"""An MCP-aware HTTP load generator: each connection initializes its own session (JSON or SSE answers,
Mcp-Session-Id captured), sends notifications/initialized, then issues one request at a time for a fixed
time. With `--wire 2026-07-28` there is no session: every request carries the per-request `_meta` and the
Mcp-Method / Mcp-Name headers, as a modern client sends them. uvloop + raw protocols + httptools, so that
the generator is not the bottleneck.

    .venv/bin/python -m perf.loadgen http://127.0.0.1:8000/mcp [--concurrency 16] [--seconds 5]
                                                               [--scenario call|read] [--wire 2026-07-28]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import cast
from urllib.parse import urlsplit

import httptools
import uvloop

INIT = (
    b'{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25",'
    b'"capabilities":{},"clientInfo":{"name":"loadgen","version":"1"}}}'
)
INITIALIZED = b'{"jsonrpc":"2.0","method":"notifications/initialized"}'
BODIES = {
    "call": b'{"jsonrpc":"2.0","id":%d,"method":"tools/call",'
    b'"params":{"name":"echo","arguments":{"text":"hello"}}}',
    "read": b'{"jsonrpc":"2.0","id":%d,"method":"resources/read","params":{"uri":"bench://static/1k"}}',
    "await": b'{"jsonrpc":"2.0","id":%d,"method":"tools/call",'
    b'"params":{"name":"echo_after_await","arguments":{"text":"hello"}}}',
}
EXPECT = {"call": b'"hello"', "read": b"xxxxxxxx", "await": b'"hello"'}
MODERN = "2026-07-28"
_META = (
    b'"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28",'
    b'"io.modelcontextprotocol/clientInfo":{"name":"loadgen","version":"1"},'
    b'"io.modelcontextprotocol/clientCapabilities":{}}'
)
MODERN_BODIES = {
    "call": b'{"jsonrpc":"2.0","id":%d,"method":"tools/call",'
    b'"params":{"name":"echo","arguments":{"text":"hello"},' + _META + b"}}",
    "read": b'{"jsonrpc":"2.0","id":%d,"method":"resources/read","params":{"uri":"bench://static/1k",'
    + _META
    + b"}}",
    "await": b'{"jsonrpc":"2.0","id":%d,"method":"tools/call",'
    b'"params":{"name":"echo_after_await","arguments":{"text":"hello"},' + _META + b"}}",
}
MODERN_HEADERS = {
    "call": b"mcp-protocol-version: 2026-07-28\r\nmcp-method: tools/call\r\nmcp-name: echo\r\n",
    "read": b"mcp-protocol-version: 2026-07-28\r\nmcp-method: resources/read\r\nmcp-name: bench://static/1k\r\n",
    "await": b"mcp-protocol-version: 2026-07-28\r\nmcp-method: tools/call\r\nmcp-name: echo_after_await\r\n",
}


@dataclass
class Stats:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    measuring: bool = False


class Connection(asyncio.Protocol):
    """One keep-alive connection driving one MCP session, one request at a time."""

    def __init__(
        self,
        host: bytes,
        path: bytes,
        scenario: str,
        stats: Stats,
        ready: asyncio.Future[None],
        wire: str = "2025-11-25",
        headers: bytes = b"",
    ) -> None:
        self.host = host
        self.extra_headers = headers  # sent on every request (e.g. an Authorization line)
        self.path = path
        self.modern = wire == MODERN
        self.body_template = MODERN_BODIES[scenario] if self.modern else BODIES[scenario]
        self.modern_headers = MODERN_HEADERS[scenario]
        self.expect = EXPECT[scenario]
        self.stats = stats
        self.ready = ready
        self.session = b""
        self.version = b""
        self.parser = httptools.HttpResponseParser(self)
        self.body: list[bytes] = []
        self.headers: dict[bytes, bytes] = {}
        self.next_id = 1
        self.sent_at = 0.0
        self.phase = "init"
        self.running = True

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # a TCP connection's
        if self.modern:  # no handshake: every request stands alone
            self.phase = "run"
            if not self.ready.done():
                self.ready.set_result(None)
            self.send_next()
            return
        self.post(INIT)

    def post(self, body: bytes) -> None:
        extra = self.extra_headers
        if self.modern:
            extra += self.modern_headers
        elif self.session:
            extra += b"mcp-session-id: " + self.session + b"\r\nmcp-protocol-version: 2025-11-25\r\n"
        self.sent_at = time.perf_counter()
        self.transport.write(
            b"POST "
            + self.path
            + b" HTTP/1.1\r\nhost: "
            + self.host
            + b"\r\ncontent-type: application/json\r\n"
            b"accept: application/json, text/event-stream\r\n"
            + extra
            + b"content-length: %d\r\n\r\n" % len(body)
            + body
        )

    def data_received(self, data: bytes) -> None:
        self.parser.feed_data(data)

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers[name.lower()] = value

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        now = time.perf_counter()
        status = self.parser.get_status_code()
        body = b"".join(self.body)
        self.body.clear()
        if self.phase == "init":
            self.session = self.headers.get(b"mcp-session-id", b"")
            self.phase = "initialized"
            self.post(INITIALIZED)
        elif self.phase == "initialized":
            self.phase = "run"
            if not self.ready.done():
                self.ready.set_result(None)
            self.send_next()
        else:
            if self.stats.measuring:
                if status == 200 and self.expect in body:
                    self.stats.latencies.append(now - self.sent_at)
                else:
                    self.stats.errors += 1
            self.send_next()
        self.headers = {}

    def send_next(self) -> None:
        if self.running:
            self.post(self.body_template % self.next_id)
            self.next_id += 1


async def run_load(
    url: str,
    concurrency: int,
    seconds: float,
    scenario: str,
    warmup: float = 1.0,
    on_window: Callable[[bool], None] | None = None,
    wire: str = "2025-11-25",
    headers: bytes = b"",
) -> dict[str, float]:
    """Drive the load; `on_window(True/False)` is called when the measured window opens and closes.
    `headers`: raw header lines sent on every request."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    loop = asyncio.get_running_loop()
    stats = Stats()
    connections: list[Connection] = []
    readies = []
    for _ in range(concurrency):
        ready: asyncio.Future[None] = loop.create_future()
        readies.append(ready)
        _, conn = await loop.create_connection(
            partial(
                Connection,
                f"{host}:{port}".encode(),
                (parts.path or "/").encode(),
                scenario,
                stats,
                ready,
                wire,
                headers,
            ),
            host,
            port,
        )
        connections.append(conn)
    await asyncio.wait_for(asyncio.gather(*readies), 30)
    await asyncio.sleep(warmup)
    if on_window is not None:
        on_window(True)
    stats.measuring = True
    begin = time.perf_counter()
    await asyncio.sleep(seconds)
    stats.measuring = False
    elapsed = time.perf_counter() - begin
    if on_window is not None:
        on_window(False)
    for conn in connections:
        conn.running = False
    await asyncio.sleep(0.2)
    for conn in connections:
        conn.transport.close()
    lat = sorted(stats.latencies)
    if not lat:
        return {"rps": 0.0, "p50_ms": 0.0, "p95_ms": 0.0, "p99_ms": 0.0, "errors": float(stats.errors)}
    return {
        "rps": len(lat) / elapsed,
        "p50_ms": lat[len(lat) // 2] * 1000,
        "p95_ms": lat[int(len(lat) * 0.95)] * 1000,
        "p99_ms": lat[int(len(lat) * 0.99)] * 1000,
        "errors": float(stats.errors),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("url")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--scenario", choices=sorted(BODIES), default="call")
    parser.add_argument("--wire", choices=["2025-11-25", MODERN], default="2025-11-25")
    args = parser.parse_args()
    result = uvloop.run(run_load(args.url, args.concurrency, args.seconds, args.scenario, wire=args.wire))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
