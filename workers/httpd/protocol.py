"""One HTTP/1.1 connection: httptools parsing, keep-alive, pipelining with in-order responses, chunked
streams for SSE, limits and timeouts. Modelled on uvicorn's httptools protocol, without ASGI."""

from __future__ import annotations

import asyncio
import sys
from collections import deque
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

import httptools

from workers.httpd.types import Handler, HttpLimits, HttpRequest

Headers = list[tuple[bytes, bytes]]
STATUS_LINES = {s.value: b"HTTP/1.1 %d %s\r\n" % (s.value, s.phrase.encode()) for s in HTTPStatus}
_EMPTY_CHUNK = b"0\r\n\r\n"
METHODS = {m.encode(): m for m in ("GET", "POST", "DELETE", "HEAD", "PUT", "OPTIONS", "PATCH")}


JSON_200 = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n"


def status_line(status: int) -> bytes:
    return STATUS_LINES.get(status) or b"HTTP/1.1 %d Unknown\r\n" % status


class _Abort(Exception):
    """Stops the parser: the request broke a limit (status) and the connection will close."""

    def __init__(self, status: int) -> None:
        self.status = status


class ResponseStream:
    """A streamed (chunked) response body, e.g. SSE. Writes are ordered behind earlier responses."""

    __slots__ = ("_callbacks", "_chunked", "_responder", "closed")

    def __init__(self, responder: Responder, chunked: bool) -> None:
        self._responder = responder
        self._chunked = chunked
        self.closed = False
        self._callbacks: list[Callable[[], None]] = []

    def write(self, data: bytes) -> None:
        if self.closed or not data:
            return
        if self._chunked:
            data = b"%x\r\n%s\r\n" % (len(data), data)
        self._responder._emit(data)

    def close(self) -> None:
        if self.closed:
            return
        self._responder._emit(_EMPTY_CHUNK if self._chunked else b"", done=True)
        self._closed()

    def _closed(self) -> None:
        if not self.closed:
            self.closed = True
            callbacks, self._callbacks = self._callbacks, []
            for callback in callbacks:
                callback()

    async def drain(self) -> None:
        await self._responder._conn.drain()

    def add_close_callback(self, callback: Callable[[], None]) -> None:
        if self.closed:
            callback()
        else:
            self._callbacks.append(callback)


class Responder:
    """Answers one request. Output is written at once when this request is first in line, and buffered
    otherwise (pipelining keeps responses in request order)."""

    __slots__ = ("_buffer", "_conn", "_head", "_keep_alive", "done", "started", "stream")

    def __init__(self, conn: HttpProtocol, head: bool, keep_alive: bool) -> None:
        self._conn = conn
        self._head = head
        self._keep_alive = keep_alive
        self._buffer: list[bytes] = []
        self.done = False
        self.started = False
        self.stream: ResponseStream | None = None

    @property
    def closed(self) -> bool:
        return self._conn.lost

    def respond(self, status: int, headers: Headers, body: bytes) -> None:
        if self.started:
            return
        self.started = True
        parts = [status_line(status)]
        for name, value in headers:
            parts.append(name + b": " + value + b"\r\n")
        parts.append(b"content-length: %d\r\n" % len(body))
        if not self._keep_alive:
            parts.append(b"connection: close\r\n")
        parts.append(b"\r\n")
        if not self._head:
            parts.append(body)
        self._emit(b"".join(parts), done=True)

    def respond_json(self, body: bytes) -> None:
        """`respond(200, [content-type: application/json], body)` for the hot path: one format, no list."""
        if self.started:
            return
        if self._head or not self._keep_alive:
            self.respond(200, [(b"content-type", b"application/json")], body)
            return
        self.started = True
        self._emit(JSON_200 % len(body) + body, done=True)

    def start_stream(self, status: int, headers: Headers) -> ResponseStream:
        if self.started:
            raise RuntimeError("response already started")
        self.started = True
        chunked = self._conn.http11
        if not chunked:
            self._keep_alive = False
        parts = [status_line(status)]
        for name, value in headers:
            parts.append(name + b": " + value + b"\r\n")
        parts.append(b"transfer-encoding: chunked\r\n" if chunked else b"connection: close\r\n")
        if chunked and not self._keep_alive:
            parts.append(b"connection: close\r\n")
        parts.append(b"\r\n")
        self.stream = ResponseStream(self, chunked)
        self._emit(b"".join(parts))
        return self.stream

    def _emit(self, data: bytes, done: bool = False) -> None:
        conn = self._conn
        if conn.lost:
            return
        if conn.queue and conn.queue[0] is self:
            if data:
                conn.transport.write(data)  # type: ignore[union-attr]
        else:
            self._buffer.append(data)
        if done:
            self.done = True
            if conn.queue and conn.queue[0] is self:
                conn.finished_head()


_HEADER_NAMES: dict[bytes, str] = {}  # raw header name -> lower-case str, shared by the connections
_PATHS: dict[bytes, str] = {}  # request paths seen, decoded once (a server has a handful)


def _path(raw: bytes) -> str:
    path = raw.decode("latin-1")
    if len(_PATHS) < 64:
        _PATHS[raw] = path
    return path


class HttpProtocol(asyncio.Protocol):
    def __init__(self, handler: Handler, limits: HttpLimits, connections: set[HttpProtocol]) -> None:
        self.handler = handler
        self.limits = limits
        self.connections = connections
        self.loop = asyncio.get_event_loop()
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpRequestParser(self)
        self.queue: deque[Responder] = deque()
        self.lost = False
        self.closing = False
        self.http11 = True
        self.client: tuple[str, int] | None = None
        self._url = b""
        self._header_repeats = 0
        self._header_bytes = 0
        self._chunk_bytes = 0
        self._body: list[bytes] = []
        self._body_size = 0
        self._in_request = False
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = 0.0
        self._deadline = 0.0
        self._on_deadline: Callable[[], None] | None = None
        self._in_headers = False
        self._header_map: dict[str, str] = {}
        self._paused_reading = False
        self._write_paused = False
        self._drain_waiters: list[asyncio.Future[None]] = []
        self._tasks: set[asyncio.Task[Any]] = set()

    # -- connection ----------------------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.connections.add(self)
        transport.set_write_buffer_limits(self.limits.write_high_water, self.limits.write_low_water)  # type: ignore[attr-defined]
        peer = transport.get_extra_info("peername")
        self.client = (peer[0], peer[1]) if isinstance(peer, tuple) else None
        self._arm(self.limits.keep_alive_timeout, self._idle_timeout)

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        self.connections.discard(self)
        self._disarm()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        for responder in self.queue:
            if responder.stream is not None:
                responder.stream._closed()
        self.queue.clear()
        for waiter in self._drain_waiters:
            if not waiter.done():
                waiter.set_result(None)

    def data_received(self, data: bytes) -> None:
        self._chunk_bytes = len(data)
        try:
            self.parser.feed_data(data)
            if self._in_headers:
                # Headers still incomplete: count what arrived so a slow, endless header block is refused
                # before it is all buffered (the exact size is checked once the headers are complete).
                self._header_bytes += len(data)
                if self._header_bytes > self.limits.max_header_bytes:
                    raise _Abort(431)
        except _Abort as abort:
            self._fail(abort.status)
        except httptools.HttpParserUpgrade:
            self._fail(400)
        except httptools.HttpParserError as exc:
            cause = exc.__context__
            self._fail(cause.status if isinstance(cause, _Abort) else 400)

    def _fail(self, status: int) -> None:
        """A request broke the protocol or a limit: answer it (after earlier responses) and close."""
        if self.lost:
            return
        self.transport.pause_reading()  # type: ignore[union-attr]
        responder = Responder(self, head=False, keep_alive=False)
        self.queue.append(responder)
        body = b'{"error":"%s"}' % HTTPStatus(status).phrase.encode()
        responder.respond(status, [(b"content-type", b"application/json")], body)

    # -- timers --------------------------------------------------------------------------------------------

    def _arm(self, delay: float, callback: Callable[[], None]) -> None:
        """Set the connection's one deadline. A timer is created only when none is pending at or before the
        deadline: the hot path just moves a timestamp (one timer per connection, not three per request)."""
        deadline = self.loop.time() + delay
        self._deadline = deadline
        self._on_deadline = callback
        if self._timer is None or self._timer_at > deadline:
            if self._timer is not None:
                self._timer.cancel()
            self._timer_at = deadline
            self._timer = self.loop.call_at(deadline, self._check_deadline)

    def _check_deadline(self) -> None:
        self._timer = None
        callback = self._on_deadline
        if callback is None:
            return
        if self.loop.time() < self._deadline:  # moved later since: wait for the new deadline
            self._timer_at = self._deadline
            self._timer = self.loop.call_at(self._deadline, self._check_deadline)
            return
        self._on_deadline = None
        callback()

    def _disarm(self) -> None:
        self._on_deadline = None

    def _idle_timeout(self) -> None:
        if not self.queue and not self._in_request and self.transport is not None:
            self.transport.close()

    def _request_timeout(self) -> None:
        if self._in_request:
            self._in_request = False
            self._fail(408)

    # -- parser callbacks ----------------------------------------------------------------------------------

    def on_message_begin(self) -> None:
        self._in_request = True
        self._in_headers = True
        self._url = b""
        self._header_map = {}
        self._header_repeats = 0
        self._header_bytes = 0
        self._body = []
        self._body_size = 0
        self._arm(self.limits.header_timeout, self._request_timeout)

    def on_url(self, url: bytes) -> None:
        self._url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        # The hot path (several calls a request): straight into the map, names lower-cased once per
        # spelling for all connections. Count and size limits are checked in on_headers_complete.
        key = _HEADER_NAMES.get(name)
        if key is None:
            key = name.decode("latin-1").lower()
            if len(_HEADER_NAMES) < 512:  # clients send the same few spellings; strangers are not kept
                _HEADER_NAMES[name] = key
        headers = self._header_map
        if key in headers:  # repeated field lines combine (RFC 9110 §5.3)
            headers[key] += ", " + value.decode("latin-1")
            self._header_repeats += 1
        else:
            headers[key] = value.decode("latin-1")

    def on_headers_complete(self) -> None:
        self._in_headers = False
        limits = self.limits
        headers = self._header_map
        if len(headers) + self._header_repeats > limits.max_headers:
            raise _Abort(431)
        # The head came in the chunks counted so far plus this one: measure it only if that could be over.
        if self._header_bytes + self._chunk_bytes > limits.max_header_bytes:
            size = len(self._url) + sum(len(k) + len(v) + 4 for k, v in headers.items())
            if size > limits.max_header_bytes:
                raise _Abort(431)
        headers = self._header_map
        length = headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > limits.max_body_bytes:
            raise _Abort(413)
        self._arm(limits.body_timeout, self._request_timeout)
        expect = headers.get("expect")
        if expect is not None and expect.lower() == "100-continue":
            self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")  # type: ignore[union-attr]

    def on_body(self, body: bytes) -> None:
        self._body_size += len(body)
        if self._body_size > self.limits.max_body_bytes:
            raise _Abort(413)
        self._body.append(body)

    def on_message_complete(self) -> None:
        self._in_request = False
        self._disarm()
        parser = self.parser
        version = parser.get_http_version()
        self.http11 = version == "1.1"
        keep_alive = parser.should_keep_alive() and not self.closing
        method = parser.get_method()
        method = METHODS.get(method) or method.decode()
        url = self._url
        question = url.find(b"?")
        if question < 0:
            path = _PATHS.get(url) or _path(url)
            query = ""
        else:
            path = _path(url[:question])
            query = url[question + 1 :].decode("latin-1")
        headers = self._header_map
        body = self._body[0] if len(self._body) == 1 else b"".join(self._body)
        request = HttpRequest(
            method,
            path,
            query,
            headers,
            body,
            version,
            keep_alive,
            self.client,
        )
        responder = Responder(self, method == "HEAD", keep_alive)
        self.queue.append(responder)
        if len(self.queue) >= self.limits.max_pipelined and not self._paused_reading:
            self._paused_reading = True
            self.transport.pause_reading()  # type: ignore[union-attr]
        try:
            result = self.handler(request, responder)
        except Exception as exc:
            self._handler_failed(responder, exc)
            return
        if result is not None:
            task = self.loop.create_task(result)  # type: ignore[arg-type]
            self._tasks.add(task)
            task.add_done_callback(lambda t: self._task_done(t, responder))

    def _task_done(self, task: asyncio.Task[Any], responder: Responder) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self._handler_failed(responder, task.exception())  # type: ignore[arg-type]

    def _handler_failed(self, responder: Responder, exc: BaseException) -> None:
        print(f"mcprt: HTTP handler error: {exc!r}", file=sys.stderr)
        if not responder.started:
            responder.respond(
                500, [(b"content-type", b"application/json")], b'{"error":"Internal Server Error"}'
            )
        elif responder.stream is not None:
            responder.stream.close()

    # -- ordering and flow control -------------------------------------------------------------------------

    def finished_head(self) -> None:
        """The first response in line is complete: flush the ones behind it that are ready."""
        queue = self.queue
        transport = self.transport
        while queue and queue[0].done:
            finished = queue.popleft()
            if not finished._keep_alive:
                queue.clear()
                transport.close()  # type: ignore[union-attr]
                return
            if queue:
                head = queue[0]
                if head._buffer:
                    transport.write(b"".join(head._buffer))  # type: ignore[union-attr]
                    head._buffer.clear()
        if self._paused_reading and len(queue) < self.limits.max_pipelined:
            self._paused_reading = False
            transport.resume_reading()  # type: ignore[union-attr]
        if not queue:
            if self.closing:
                transport.close()  # type: ignore[union-attr]
            elif not self._in_request:
                self._arm(self.limits.keep_alive_timeout, self._idle_timeout)

    def pause_writing(self) -> None:
        self._write_paused = True

    def resume_writing(self) -> None:
        self._write_paused = False
        waiters, self._drain_waiters = self._drain_waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def drain(self) -> None:
        if self._write_paused and not self.lost:
            waiter = self.loop.create_future()
            self._drain_waiters.append(waiter)
            await waiter

    def shutdown(self) -> None:
        """Graceful stop: close now if idle, otherwise after the responses in flight."""
        self.closing = True
        if not self.queue and not self._in_request and self.transport is not None:
            self.transport.close()
