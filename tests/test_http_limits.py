"""The HTTP layer's own answers, over real sockets on 127.0.0.1 (and, where a socket cannot make the case
deterministic, the protocol object under a mock transport): error bodies, refused bodies the client can
read, header limits with pipelining, Host checks, UTF-8, and connections freed after SSE."""

from __future__ import annotations

import asyncio
import gc
import json
import socket
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Any

import pytest
import uvloop

from runtime.protocol import jsonrpc as rpc
from runtime.protocol.core import Reply, ServerSession
from tests.conftest import RunningServer
from tests.test_http_transport import ACCEPT, INIT, call, raw_exchange, recv_until, request, start_session
from workers.httpd.protocol import HttpProtocol, Responder
from workers.httpd.server import HttpServer, serve
from workers.httpd.types import HttpLimits, HttpRequest
from workers.streamable.transport import StreamableHttp, StreamableSettings

pytestmark = pytest.mark.timeout(90)
MiB = 1024 * 1024


def read_to_eof(sock: socket.socket) -> bytes:
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received


def parse_response(raw: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", len(body)))
    return int(lines[0].split()[1]), headers, body[:length]


def assert_rpc_error(raw: bytes, status: int, code: int, phrase: str) -> dict[str, Any]:
    got_status, headers, body = parse_response(raw)
    assert got_status == status, raw[:300]
    assert headers["content-type"] == "application/json"
    message = json.loads(body)
    assert message["jsonrpc"] == "2.0" and "id" in message and message["id"] is None  # none was read
    assert message["error"]["code"] == code and phrase in message["error"]["message"], message
    return message


def exchange(port: int, head: bytes, chunks: list[bytes], timeout: float = 30.0) -> bytes:
    """What a plain client does: send the whole request, then read the response (to the server's close).
    A connection reset raises here."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        sock.sendall(head)
        for chunk in chunks:
            sock.sendall(chunk)
        return read_to_eof(sock)
    finally:
        sock.close()


def post_head(extra: str) -> bytes:
    return (
        f"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: {ACCEPT}\r\nContent-Type: application/json\r\n"
        f"{extra}\r\n"
    ).encode()


# -- 1. a refused body: the client reads the 413 instead of a reset ---------------------------------------


def test_oversized_body_gets_a_readable_413(http_server: RunningServer) -> None:
    body = b"x" * (8 * MiB)  # twice the default 4 MiB limit
    declared = exchange(http_server.port, post_head(f"Content-Length: {len(body)}\r\n"), [body])
    assert_rpc_error(declared, 413, rpc.INVALID_REQUEST, "Content Too Large")
    piece = b"y" * (64 * 1024)
    chunks = [b"%x\r\n%s\r\n" % (len(piece), piece)] * 128 + [b"0\r\n\r\n"]
    chunked = exchange(http_server.port, post_head("Transfer-Encoding: chunked\r\n"), chunks)
    assert_rpc_error(chunked, 413, rpc.INVALID_REQUEST, "Content Too Large")
    session = start_session(http_server)  # and the server is fine
    assert request(http_server, "POST", call("echo", {"text": "small"}), session)[0] == 200


async def test_official_client_survives_an_oversized_call(http_server: RunningServer) -> None:
    from mcp import ClientSession
    from mcp.client.streamable_http import streamable_http_client
    from mcp.shared.exceptions import MCPError

    async with (
        streamable_http_client(http_server.url) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        with pytest.raises(MCPError, match="Content Too Large"):
            await session.call_tool("echo", {"text": "x" * (5 * MiB)})
        echoed = await session.call_tool("echo", {"text": "still here"})
        assert echoed.content[0].text == "still here"


def test_drain_limits_at_their_edges() -> None:
    server = RunningServer(
        "--max-message-bytes", "1000", "--drain-max-bytes", "200000", "--drain-timeout", "2"
    )
    try:
        # Within the drain limit: the rest of the body is read and dropped, the 413 arrives.
        within = b"x" * 150_000
        answer = exchange(server.port, post_head(f"Content-Length: {len(within)}\r\n"), [within])
        assert_rpc_error(answer, 413, rpc.INVALID_REQUEST, "1000 bytes")
        # Far beyond it: the server stops reading and closes; the client cannot send it all.
        beyond = b"x" * (16 * MiB)
        with pytest.raises(OSError):
            exchange(server.port, post_head(f"Content-Length: {len(beyond)}\r\n"), [beyond])
        # The drain timeout: the server half-closes at once, drops what comes, and closes after it.
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        try:
            started = time.monotonic()
            sock.sendall(post_head(f"Content-Length: {10 * MiB}\r\n") + b"x" * 100)
            assert_rpc_error(read_to_eof(sock), 413, rpc.INVALID_REQUEST, "Content Too Large")
            for _ in range(3):  # still read (and dropped) well within the timeout: no reset
                sock.sendall(b"x" * 1000)
                time.sleep(0.05)
            assert time.monotonic() - started < 1.5
            time.sleep(max(0.0, started + 4.0 - time.monotonic()))
            with pytest.raises(OSError):  # closed after the timeout: the peer resets what still comes
                for _ in range(50):
                    sock.sendall(b"x" * 1000)
                    time.sleep(0.05)
        finally:
            sock.close()
    finally:
        server.stop()


# -- 2. header bytes: only the current request's ------------------------------------------------------------


def pipelined_gets(count: int, pad: int) -> bytes:
    one = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: " + b"p" * pad + b"\r\n\r\n"
    return one * count


def test_pipelined_requests_in_one_read_are_not_header_bytes() -> None:
    server = RunningServer("--max-header-bytes", "4096")
    try:
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        try:
            # 20 complete requests (~5.5 KiB, over the limit together, each far under it), then the
            # start of one more: one send, so the server most likely reads it in one piece.
            sock.sendall(pipelined_gets(20, 200) + b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pa")
            time.sleep(0.3)
            sock.sendall(b"d: 1\r\n\r\n")
            answer = b""
            while answer.count(b"HTTP/1.1 ") < 21:
                chunk = sock.recv(65536)
                assert chunk, answer[-300:]
                answer += chunk
        finally:
            sock.close()
        assert answer.count(b"HTTP/1.1 200 ") == 21 and b" 431 " not in answer
        # The limit still holds for one request's own head, split the same way.
        big = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"b" * 5000
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        try:
            sock.sendall(pipelined_gets(2, 10) + big)
            answer = read_to_eof(sock)
        finally:
            sock.close()
        assert answer.count(b"HTTP/1.1 200 ") == 2
        assert_rpc_error(answer[answer.index(b"HTTP/1.1 431") :], 431, rpc.INVALID_REQUEST, "4096 bytes")
    finally:
        server.stop()


class MockTransport(asyncio.Transport):
    """Collects what the protocol writes; a connection without a socket."""

    def __init__(self) -> None:
        super().__init__()
        self.out = bytearray()
        self.closed = self.eof = self.paused = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.out += data

    def writelines(self, parts: Any) -> None:
        for part in parts:
            self.out += part

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        pass

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return ("127.0.0.1", 40000) if name == "peername" else default

    def pause_reading(self) -> None:
        self.paused = True

    def resume_reading(self) -> None:
        self.paused = False

    def can_write_eof(self) -> bool:
        return True

    def write_eof(self) -> None:
        self.eof = True

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed


def ok_handler(request: HttpRequest, responder: Responder) -> None:
    responder.respond(200, [], b"ok")


def connect(handler: Any, limits: HttpLimits) -> tuple[HttpProtocol, MockTransport]:
    conn = HttpProtocol(handler, limits, set())
    transport = MockTransport()
    conn.connection_made(transport)
    return conn, transport


async def test_header_limit_counts_the_request_not_the_read() -> None:
    conn, transport = connect(ok_handler, HttpLimits(max_header_bytes=4096))
    try:
        conn.data_received(pipelined_gets(20, 200) + b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pa")
        conn.data_received(b"d: 1\r\n\r\n")
        assert transport.out.count(b"HTTP/1.1 200 ") == 21 and not transport.closed
        # One request's head over the limit across reads is still refused as soon as it is over.
        conn.data_received(
            pipelined_gets(1, 10) + b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 3000
        )
        assert b"431" not in transport.out
        conn.data_received(b"b" * 2000)
        assert b"HTTP/1.1 431 " in transport.out and transport.eof  # half-closed, then drained
    finally:
        conn.connection_lost(None)


# -- 3. JSON-RPC bodies for the HTTP layer's own errors ------------------------------------------------------


def test_http_layer_errors_have_json_rpc_bodies() -> None:
    server = RunningServer("--max-header-bytes", "2048", "--header-timeout", "0.5")
    try:
        assert_rpc_error(raw_exchange(server.port, b"NONSENSE\r\n\r\n", 1), 400, rpc.INVALID_REQUEST, "Bad")
        huge = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 4096 + b"\r\n\r\n"
        assert_rpc_error(raw_exchange(server.port, huge, 1), 431, rpc.INVALID_REQUEST, "2048 bytes")
        declared = post_head("Content-Length: 999999999\r\n")
        assert_rpc_error(raw_exchange(server.port, declared, 1), 413, rpc.INVALID_REQUEST, "Content Too")
        partial = raw_exchange(server.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n", 1)
        assert_rpc_error(partial, 408, rpc.INVALID_REQUEST, "Request Timeout")
        # An Upgrade request is answered once, in HTTP/1.1 (the server ignores Upgrade), then closed.
        upgrade = b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n"
        answer = exchange(server.port, upgrade + b"more bytes", [])
        assert answer.startswith(b"HTTP/1.1 200 ") and answer.count(b"HTTP/1.1") == 1
    finally:
        server.stop()


async def test_handler_failure_is_a_json_rpc_internal_error(capsys: pytest.CaptureFixture[str]) -> None:
    def failing(request: HttpRequest, responder: Responder) -> None:
        raise RuntimeError("secret detail")

    conn, transport = connect(failing, HttpLimits())
    try:
        conn.data_received(b"GET /x HTTP/1.1\r\nHost: x\r\n\r\n")
        message = assert_rpc_error(bytes(transport.out), 500, rpc.INTERNAL_ERROR, "Internal error")
        assert "secret" not in json.dumps(message)
    finally:
        conn.connection_lost(None)
    assert "secret detail" in capsys.readouterr().err  # logged, not sent


# -- 4. Host, Origin and UTF-8 -------------------------------------------------------------------------------


def test_http11_request_without_host_is_refused(http_server: RunningServer) -> None:
    answer = raw_exchange(http_server.port, b"GET /healthz HTTP/1.1\r\n\r\n", 1)
    assert_rpc_error(answer, 400, rpc.INVALID_REQUEST, "Host")
    post = f"POST /mcp HTTP/1.1\r\nAccept: {ACCEPT}\r\nContent-Type: application/json\r\n".encode()
    body = json.dumps(INIT).encode()
    answer = raw_exchange(http_server.port, post + b"Content-Length: %d\r\n\r\n" % len(body) + body, 1)
    assert_rpc_error(answer, 400, rpc.INVALID_REQUEST, "Host")
    # HTTP/1.0 has no Host requirement.
    assert raw_exchange(http_server.port, b"GET /healthz HTTP/1.0\r\n\r\n", 1).startswith(b"HTTP/1.1 200")


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("127.0.0.1", True),
        ("localhost:8000", True),
        ("LOCALHOST", True),
        ("[::1]", True),
        ("[::1]:8000", True),
        ("[::1]evil.example", False),
        ("[::1]:80evil.example", False),
        ("[::1", False),
        ("[not-an-ip]", False),
        ("127.0.0.1:80:80", False),
        ("localhost:abc", False),
        ("localhost@evil.example", False),
        ("evil.example", False),
        ("", False),
    ],
)
def test_host_is_parsed_strictly(http_server: RunningServer, host: str, allowed: bool) -> None:
    status, _, body = request(http_server, "POST", INIT, {"Host": host})
    if allowed:
        assert status == 200
    else:
        assert status in (400, 421) and json.loads(body)["error"]["code"] == rpc.INVALID_REQUEST


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("http://localhost:3000", True),
        ("http://[::1]:3000", True),
        ("http://[::1]evil.example", False),
        ("http://localhost.evil.example", False),
        ("http://localhost/path", False),
        ("null", False),
    ],
)
def test_origin_is_parsed_strictly(http_server: RunningServer, origin: str, allowed: bool) -> None:
    status = request(http_server, "POST", INIT, {"Origin": origin})[0]
    assert status == (200 if allowed else 403)


@pytest.mark.parametrize(
    "raw",
    [
        b'{"jsonrpc":"2.0","id":5,"method":"ping","\xff":1}',  # a key the typed decode skips
        b'{"jsonrpc":"2.0","id":5,"method":"ping","x":"\xc3("}',  # a value it skips
        b'{"jsonrpc":"2.0","id":5,"method":"ping","params":{"_meta":{"\xed\xa0\x80":1}}}',  # a surrogate
        b'{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"echo","arguments":{"text":"ok"},'
        b'"\xc3":1}}',  # the quick path of tools/call
    ],
)
def test_invalid_utf8_is_a_parse_error(http_server: RunningServer, raw: bytes) -> None:
    session = start_session(http_server)
    status, headers, body = request(http_server, "POST", None, session, raw=raw)
    assert status == 400 and headers["content-type"] == "application/json"
    assert json.loads(body)["error"]["code"] == rpc.PARSE_ERROR


def test_valid_utf8_passes(http_server: RunningServer) -> None:
    session = start_session(http_server)
    raw = json.dumps(call("echo", {"text": "héllo ✓"}), ensure_ascii=False).encode()
    status, _, body = request(http_server, "POST", None, session, raw=raw)
    assert status == 200 and "héllo ✓" in json.loads(body)["result"]["content"][0]["text"]


def test_core_rejects_invalid_utf8_outside_decoded_strings() -> None:
    from examples.everything import server

    session = ServerSession(server.profile)
    action = session.receive(b'{"jsonrpc":"2.0","id":1,"method":"ping","\xff":1}')
    assert type(action) is Reply and action.invalid
    assert json.loads(action.data)["error"]["code"] == rpc.PARSE_ERROR
    assert session.receive(memoryview(b'{"jsonrpc":"2.0","id":1,"method":"ping","\xff":1}')).invalid  # type: ignore[union-attr]


# -- 5. connections that carried SSE are freed ----------------------------------------------------------------


class ThreadServer:
    """The Streamable HTTP endpoint serving the everything example in this process, on uvloop in a thread, on a real
    loopback socket: the test can count the worker's objects."""

    def __init__(self) -> None:
        from examples.everything import server as app

        self.loop = uvloop.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.endpoint = StreamableHttp(app, StreamableSettings())
        self.http: HttpServer = self.run(lambda: serve(self.endpoint, "127.0.0.1", 0, reuse_port=False))
        self.port = self.http.port

    def run(self, make: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
        return asyncio.run_coroutine_threadsafe(make(), self.loop).result(30)

    def live_connections(self) -> int:
        """HTTP connection objects still alive once every socket has closed and the collector has run."""

        async def count() -> int:
            deadline = time.monotonic() + 10
            while self.http.active_connections and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
            await asyncio.sleep(0.1)  # let the loop drop its last references
            gc.collect()
            return sum(1 for obj in gc.get_objects() if type(obj) is HttpProtocol)

        return int(self.run(count))

    def stop(self) -> None:
        async def close() -> None:
            self.endpoint.close()
            await self.http.close(1.0)

        try:
            self.run(close)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(10)
            self.loop.close()


def sse_round(server: ThreadServer) -> None:
    session = start_session(server)  # type: ignore[arg-type]
    progress = call("test_tool_with_progress", meta={"progressToken": "p"})
    status, headers, body = request(server, "POST", progress, session)  # type: ignore[arg-type]
    assert status == 200 and headers["content-type"] == "text/event-stream" and b'"result"' in body
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    try:
        sock.sendall(
            f"GET /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n"
            f"Mcp-Session-Id: {session['Mcp-Session-Id']}\r\nMCP-Protocol-Version: 2025-11-25\r\n\r\n".encode()
        )
        assert recv_until(sock, b"data:").startswith(b"HTTP/1.1 200")  # the stream is open
    finally:
        sock.close()
    assert request(server, "DELETE", None, session)[0] == 200  # type: ignore[arg-type]


def test_sse_connections_are_freed() -> None:
    rounds = 40  # each: an SSE POST and a GET stream, each on its own connection
    server = ThreadServer()
    try:
        for _ in range(rounds):
            sse_round(server)
        first = server.live_connections()
        for _ in range(rounds):
            sse_round(server)
        second = server.live_connections()
    finally:
        server.stop()
    assert first <= 2 and second <= 2, (first, second)  # leaked: 2 per round, 80 then 160
