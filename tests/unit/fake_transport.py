"""The one fake the standards allow: a transport under a protocol object. It records what the protocol
writes and asks (close, half-close, pause/resume reading); the protocol and everything above it are real.
Also a reader of the recorded bytes (httptools' response parser) and request builders."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httptools

from workers.httpd.protocol import HttpProtocol
from workers.httpd.types import Handler, HttpLimits


class FakeTransport(asyncio.Transport):
    """A connection without a socket. Like asyncio's, `close()` reports `connection_lost` on the next loop
    iteration (once); writes after it are dropped, as a closing transport drops them."""

    def __init__(self, peer: tuple[str, int] = ("127.0.0.1", 40000), half_close: bool = True) -> None:
        super().__init__()
        self.half_close = half_close  # what can_write_eof answers (a TLS transport cannot)
        self.out = bytearray()
        self.writes = 0
        self.closed = False
        self.eof = False
        self.paused = False
        self.pauses = 0
        self.resumes = 0
        self.write_limits: tuple[int | None, int | None] = (None, None)
        self.protocol: asyncio.Protocol | None = None
        self._peer = peer

    def write(self, data: bytes | bytearray | memoryview) -> None:
        assert not self.eof, "write after write_eof"
        if not self.closed:
            self.out += data
            self.writes += 1

    def writelines(self, parts: Any) -> None:
        for part in parts:
            self.write(part)

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        self.write_limits = (high, low)

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._peer if name == "peername" else default

    def pause_reading(self) -> None:
        self.paused = True
        self.pauses += 1

    def resume_reading(self) -> None:
        self.paused = False
        self.resumes += 1

    def is_reading(self) -> bool:
        return not self.paused

    def can_write_eof(self) -> bool:
        return self.half_close

    def write_eof(self) -> None:
        self.eof = True

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self.protocol is not None:
            asyncio.get_running_loop().call_soon(self.protocol.connection_lost, None)

    def abort(self) -> None:
        self.close()

    def is_closing(self) -> bool:
        return self.closed

    def take(self) -> bytes:
        """What was written since the last take."""
        data = bytes(self.out)
        self.out.clear()
        return data


def connect(
    handler: Handler, limits: HttpLimits | None = None, transport: FakeTransport | None = None
) -> tuple[HttpProtocol, FakeTransport]:
    conn = HttpProtocol(handler, limits or HttpLimits(), set())
    transport = transport or FakeTransport()
    transport.protocol = conn
    conn.connection_made(transport)
    return conn, transport


def hang_up(conn: HttpProtocol) -> None:
    """The end of a test: the connection goes, with its timers."""
    if not conn.lost:
        conn.connection_lost(None)


async def settle(until: Callable[[], bool] | None = None, rounds: int = 200) -> None:
    """Run the loop's ready callbacks (handler tasks, scheduled connection_lost) until `until()` holds; a
    bounded number of rounds, so a test that waits for what never happens fails instead of hanging."""
    for _ in range(rounds):
        await asyncio.sleep(0)
        if until is not None and until():
            return
    assert until is None, "the condition did not come true"


async def wait_until(condition: Callable[[], bool], timeout: float = 2.0) -> None:
    """For the timers (they run on the loop's clock): poll, with a generous bound for a loaded machine."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the condition did not come true in time"
        await asyncio.sleep(0.005)


# -- reading responses ---------------------------------------------------------------------------------------


@dataclass
class Response:
    status: int
    headers: dict[str, str]  # lower-case names; a repeated field keeps every value, ", "-joined
    body: bytes
    raw_headers: list[tuple[str, str]] = field(default_factory=list)
    complete: bool = False

    def json(self) -> Any:
        return json.loads(self.body)

    def events(self) -> list[dict[str, str]]:
        """The SSE events of a text/event-stream body."""
        found = []
        for block in self.body.decode().split("\n\n"):
            fields: dict[str, str] = {}
            for line in block.splitlines():
                name, _, value = line.partition(":")
                fields[name] = value.removeprefix(" ")
            if fields:
                found.append(fields)
        return found


class _Collector:
    def __init__(self) -> None:
        self.responses: list[Response] = []
        self._name = b""
        self.parser = httptools.HttpResponseParser(self)

    def on_message_begin(self) -> None:
        self.responses.append(Response(0, {}, b""))

    def on_header(self, name: bytes, value: bytes) -> None:
        self.responses[-1].raw_headers.append((name.decode("latin-1"), value.decode("latin-1")))

    def on_headers_complete(self) -> None:
        response = self.responses[-1]
        response.status = self.parser.get_status_code()
        for name, value in response.raw_headers:
            key = name.lower()
            response.headers[key] = f"{response.headers[key]}, {value}" if key in response.headers else value

    def on_body(self, body: bytes) -> None:
        self.responses[-1].body += body

    def on_message_complete(self) -> None:
        self.responses[-1].complete = True


def parse_responses(data: bytes) -> list[Response]:
    """Every response in `data`, in order; the last may be incomplete (an open SSE stream). Not for
    responses to HEAD (their content-length announces a body that is not there)."""
    collector = _Collector()
    if data:
        collector.parser.feed_data(data)
    return collector.responses


def one_response(data: bytes) -> Response:
    responses = parse_responses(data)
    assert len(responses) == 1, data[:500]
    return responses[0]


# -- building requests ---------------------------------------------------------------------------------------


def http_request(
    method: str,
    path: str = "/mcp",
    headers: list[tuple[str, str]] | None = None,
    body: bytes = b"",
    *,
    host: str | None = "127.0.0.1",
    version: str = "1.1",
    length: bool = True,
) -> bytes:
    """One request's bytes: Host first (unless None), then `headers`, then Content-Length (if `length` and
    there is a body or the method is POST)."""
    lines = [f"{method} {path} HTTP/{version}"]
    if host is not None:
        lines.append(f"Host: {host}")
    lines += [f"{name}: {value}" for name, value in headers or []]
    if length and (body or method == "POST"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def chunked(*pieces: bytes, trailers: bytes = b"") -> bytes:
    """A chunked body of `pieces`, with optional trailer fields (each ending CRLF)."""
    return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces) + b"0\r\n" + trailers + b"\r\n"
