"""One HTTP/1.1 connection: httptools parsing, keep-alive, pipelining with in-order responses, chunked
streams for SSE, limits and timeouts. Modelled on uvicorn's httptools protocol, without ASGI."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

import httptools
import msgspec

from runtime.protocol import jsonrpc as rpc
from runtime.server.failures import report
from workers.httpd.types import Handler, HttpLimits, HttpRequest

Headers = list[tuple[bytes, bytes]]
STATUS_LINES = {s.value: b"HTTP/1.1 %d %s\r\n" % (s.value, s.phrase.encode()) for s in HTTPStatus}
_EMPTY_CHUNK = b"0\r\n\r\n"
METHODS = {m.encode(): m for m in ("GET", "POST", "DELETE", "HEAD", "PUT", "OPTIONS", "PATCH")}


_COPY_LIMIT = 16 * 1024  # a body at least this large is written after its head, not copied behind it
JSON_200 = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n"


def status_line(status: int) -> bytes:
    return STATUS_LINES.get(status) or b"HTTP/1.1 %d Unknown\r\n" % status


JSON_TYPE = [(b"content-type", b"application/json")]


def error_body(status: int, message: str) -> bytes:
    """The JSON-RPC error body of a status the HTTP layer answers itself. No request was read, so its id
    is null: clients (the official SDKs) read an error response only with an id, null or not."""
    code = rpc.INTERNAL_ERROR if status >= 500 else rpc.INVALID_REQUEST
    return b'{"jsonrpc":"2.0","id":null,"error":%s}' % rpc.encode(rpc.ErrorBody(code, message))


def _request_bytes(data: bytes, method: bytes, url_start: bytes) -> int:
    """The bytes of `data` from the start of the request whose request line begins `method url_start`: a
    chunk may hold complete pipelined requests before it, which are not this request's header bytes.
    (rfind: the last match; should the request's own head repeat its request line, less is counted, by
    at most this one chunk, and the next chunks and on_headers_complete count exactly.)"""
    start = data.rfind(method + b" " + url_start)
    return len(data) - start if start >= 0 else len(data)


class _Abort(Exception):
    """Stops the parser: the request broke a limit or the protocol (status, message) and the connection
    will close."""

    def __init__(self, status: int, message: str) -> None:
        self.status = status
        self.message = message


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
            # The Responder is a gc=False Struct, never traversed by the cycle collector: the cycle
            # Responder -> stream -> Responder (and the connection behind it) would live forever.
            self._responder.stream = None
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


class Responder(msgspec.Struct, gc=False):
    """Answers one request. Output is written at once when this request is first in line, and buffered
    otherwise (pipelining keeps responses in request order). A Struct: built in C, once per request."""

    _conn: HttpProtocol
    _head: bool
    _keep_alive: bool
    _buffer: list[bytes] = msgspec.field(default_factory=list)
    done: bool = False
    started: bool = False
    stream: ResponseStream | None = None
    # Called when the connection is lost before this response was written (MCP 2026-07-28: cancellation).
    on_lost: Callable[[], None] | None = None

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
        """`respond(200, [content-type: application/json], body)` for the hot path: a response alone in line
        on a keep-alive connection is written and retired here, in one format and one write."""
        conn = self._conn
        queue = conn.queue
        if self.started or self._head or not self._keep_alive or len(queue) != 1 or conn.closing:
            if not self.started:
                self.respond(200, [(b"content-type", b"application/json")], body)
            return
        self.started = self.done = True
        if len(body) < _COPY_LIMIT:
            conn.transport.write(JSON_200 % len(body) + body)  # type: ignore[union-attr]
        else:  # one vectored write: no copy of a large body to prepend the head
            conn.transport.writelines((JSON_200 % len(body), body))  # type: ignore[union-attr]
        queue.pop()  # this responder: alone in line
        conn._activity += 1
        if conn._paused_reading:
            conn.finished_head()

    def start_stream(self, status: int, headers: Headers) -> ResponseStream:
        if self.started:
            raise RuntimeError("response already started")
        self.started = True
        chunked = self._conn.http11()
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


# The lower-case names of a header block, by the raw names in the order a client sends them: a client sends
# the same few blocks, so one lookup names all of a request's headers. Shared by the connections, bounded.
_NAME_SETS: dict[tuple[bytes, ...], tuple[str, ...]] = {}
_TARGETS: dict[bytes, tuple[str, str]] = {}  # request targets seen without a query, split and decoded once


def _target(url: bytes) -> tuple[str, str]:
    """(path, query) of a request target."""
    path, question, query = url.decode("latin-1").partition("?")
    if not question and len(_TARGETS) < 64:  # a server has a handful of paths; queries vary, so are not kept
        _TARGETS[url] = (path, "")
    return path, query


def _lower_names(raw: tuple[bytes, ...]) -> tuple[str, ...]:
    names = tuple(name.decode("latin-1").lower() for name in raw)
    # Strangers beyond 256 are named each time, not kept; so are sets without Host or with a name twice in
    # different cases (both checked each time).
    if len(_NAME_SETS) < 256 and "host" in names and len(set(names)) == len(names):
        _NAME_SETS[raw] = names
    return names


# Fields a request may carry once: a second Host, Origin or session id could make one component check
# one value while another acts on the other. (llhttp itself refuses a repeated Content-Length.)
SINGLE_FIELDS = frozenset(
    {
        "host",
        "origin",
        "content-length",
        "content-type",
        "mcp-session-id",
        "mcp-protocol-version",
        "last-event-id",
    }
)


def _field_lines(head: bytes) -> list[tuple[str, bytes]]:
    """(lower-case name, value) of every field line of a head (request line first, CRLF-separated: llhttp
    accepts nothing else)."""
    fields = []
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        fields.append((name.decode("latin-1").lower(), value.strip(b" \t")))
    return fields


def _combined(fields: list[tuple[str, bytes]]) -> dict[str, bytes]:
    """The headers of field lines where a name repeats: a repeated single field is refused (400); the
    lines of a list field are joined with ", " (RFC 9110 5.3)."""
    headers: dict[str, bytes] = {}
    for name, value in fields:
        if name not in headers:
            headers[name] = value
        elif name in SINGLE_FIELDS:
            raise _Abort(400, f"Bad Request: the {name} header field appears more than once")
        else:
            headers[name] += b", " + value
    return headers


class Connections(set["HttpProtocol"]):
    """A server's open connections; `closed` once it stops accepting (see `HttpProtocol.connection_made`)."""

    closed = False


class HttpProtocol(asyncio.Protocol):
    """The parser's per-field callbacks are C-level appends into this connection's buffers (no Python frame
    per header); Python runs once when the headers are complete and once when the message is."""

    def __init__(self, handler: Handler, limits: HttpLimits, connections: set[HttpProtocol]) -> None:
        self.handler = handler
        self.limits = limits
        self.connections = connections
        self.loop = asyncio.get_event_loop()
        self.transport: asyncio.Transport | None = None
        self.queue: deque[Responder] = deque()
        self.lost = False
        self.closing = False
        self.client: tuple[str, int] | None = None
        # Filled by the parser through bound C methods, emptied in place after each message.
        self._url: list[bytes] = []
        self._raw_headers: dict[bytes, bytes] = {}
        self._body: list[bytes] = []
        self.on_url = self._url.append
        self.on_header = self._raw_headers.__setitem__  # a repeated field line keeps its last value
        self.on_body = self._body.append
        self.parser = httptools.HttpRequestParser(self)
        self._headers: dict[str, bytes] = {}
        self._chunk_bytes = 0
        # Where the next request's head starts in the current chunk (None: not known), and the chunks of a
        # head that spans chunks: field lines are counted there, since the header dict keeps one per name.
        self._chunk = b""
        self._cursor: int | None = 0
        self._floor = 0
        self._head_parts: list[bytes] = []
        self._head_span: tuple[bytes, int, int] = (b"", 0, 0)  # the last head's bytes: (buffer, start, end)
        self._received = 0  # bytes of the current request received in earlier chunks
        self._in_request = False  # a request is partly received (it spans chunks)
        self._headers_done = False
        self._awaiting_body = False
        # A partly received request has a deadline (rare: most requests arrive in one chunk).
        self._request_timer: asyncio.TimerHandle | None = None
        # Idleness is sampled, not timed per request: responses count `_activity`, and a ticker every half
        # keep-alive timeout closes the connection after two ticks with no activity and nothing in flight.
        self._idle_timer: asyncio.TimerHandle | None = None
        self._activity = 0
        self._idle_mark = -1
        self._idle_ticks = 0
        self._tick_every = max(limits.keep_alive_timeout / 2, 0.01)  # a zero timeout must not spin
        self._paused_reading = False
        self._write_paused = False
        self._drain_waiters: list[asyncio.Future[None]] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        self._failed = False  # an error response ends this connection; what the client still sends is dropped
        self._discard_left = 0

    # -- connection ----------------------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        if getattr(self.connections, "closed", False):
            # Accepted just before the server stopped accepting, made only now: what would serve it is
            # being shut down. Dropped unread, which HTTP clients retry (no byte of a response was sent).
            transport.abort()  # type: ignore[attr-defined]
            return
        self.connections.add(self)
        transport.set_write_buffer_limits(self.limits.write_high_water, self.limits.write_low_water)  # type: ignore[attr-defined]
        peer = transport.get_extra_info("peername")
        self.client = (peer[0], peer[1]) if isinstance(peer, tuple) else None
        self._idle_timer = self.loop.call_later(self._tick_every, self._idle_tick)

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        self.connections.discard(self)
        for timer in (self._request_timer, self._idle_timer):
            if timer is not None:
                timer.cancel()
        self._request_timer = self._idle_timer = None
        for responder in self.queue:
            if responder.stream is not None:
                responder.stream._closed()
            elif responder.on_lost is not None and not responder.done:
                responder.on_lost()
        self.queue.clear()
        for waiter in self._drain_waiters:
            if not waiter.done():
                waiter.set_result(None)

    def data_received(self, data: bytes) -> None:
        if self._failed:
            self._discard(len(data))
            return
        self._chunk_bytes = len(data)
        self._chunk = data
        self._cursor = None if self._in_request else 0
        self._floor = 0  # no head of this chunk starts before this
        try:
            self.parser.feed_data(data)
            if self._url:  # a request is partly here: it spans chunks (the rare case)
                self._partial(data)
        except _Abort as abort:
            self._fail(abort.status, abort.message)
        except httptools.HttpParserUpgrade:
            self._upgrade_ignored()
        except httptools.HttpParserError as exc:
            cause = exc.__context__
            if isinstance(cause, _Abort):
                self._fail(cause.status, cause.message)
            else:
                self._fail(400, "Bad Request: malformed HTTP request")

    def _partial(self, data: bytes) -> None:
        """A request is incomplete after this chunk: time it, and refuse it as soon as it breaks a limit
        rather than buffering it whole."""
        limits = self.limits
        if not self._in_request:  # it began in this chunk, maybe behind complete requests
            self._in_request = True
            self._received = _request_bytes(data, self.parser.get_method(), self._url[0])
            self._set_request_deadline(limits.header_timeout)
            if not self._headers_done:
                self._head_parts = [data[len(data) - self._received :]]
        else:
            self._received += len(data)
            if not self._headers_done:
                self._head_parts.append(data)
        if not self._headers_done:
            if self._received > limits.max_header_bytes:
                raise _Abort(431, self._header_limit_message())
        elif not self._awaiting_body:  # the headers are here, the body is not (all of it)
            self._awaiting_body = True
            headers = self._headers
            length = headers.get("content-length")
            if length is not None and length.isdigit() and int(length) > limits.max_body_bytes:
                raise _Abort(413, self._body_limit_message())  # refused from its headers, before the body
            self._set_request_deadline(limits.body_timeout)
            if "expect" in headers and headers["expect"].lower() == b"100-continue":
                self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")  # type: ignore[union-attr]
        elif self._received > limits.max_body_bytes and sum(map(len, self._body)) > limits.max_body_bytes:
            raise _Abort(413, self._body_limit_message())

    def _upgrade_ignored(self) -> None:
        """An Upgrade (or CONNECT) request was read whole and went to the handler, which answers it in
        HTTP/1.1 (a server may ignore Upgrade, RFC 9110 7.8): one response, not a second one (400) for
        the same request. The parser reads no further, so the connection closes after the responses."""
        self._failed = True  # anything more the client sends is dropped, up to the drain limit
        self._discard_left = self.limits.drain_max_bytes
        self.closing = True
        if not self.queue:
            self.transport.close()  # type: ignore[union-attr]

    def _header_limit_message(self) -> str:
        limits = self.limits
        return (
            "Request Header Fields Too Large: the limit is "
            f"{limits.max_header_bytes} bytes and {limits.max_headers} fields"
        )

    def _body_limit_message(self) -> str:
        return f"Content Too Large: the body limit is {self.limits.max_body_bytes} bytes"

    def _fail(self, status: int, message: str) -> None:
        """A request broke the protocol or a limit: answer it (after earlier responses) and close."""
        if self.lost or self._failed:
            return
        self._failed = True
        self.transport.pause_reading()  # type: ignore[union-attr]
        responder = Responder(self, False, False)
        self.queue.append(responder)
        responder.respond(status, JSON_TYPE, error_body(status, message))

    def _close_failed(self) -> None:
        """The error response is written: half-close, and read and drop what the client still sends (the
        rest of a refused body) until it closes or a limit of bytes or time passes. Closing at once, with
        its data unread, would reset the connection, and the client could lose the response."""
        transport = self.transport
        assert transport is not None
        for timer in (self._request_timer, self._idle_timer):
            if timer is not None:
                timer.cancel()
        self._idle_timer = None
        self._in_request = False
        if not transport.can_write_eof():
            transport.close()
            return
        transport.write_eof()  # sent once the response has left; the client's end-of-file closes ours
        self._discard_left = self.limits.drain_max_bytes
        self._request_timer = self.loop.call_later(self.limits.drain_timeout, transport.close)
        transport.resume_reading()

    def _discard(self, size: int) -> None:
        self._discard_left -= size
        if self._discard_left < 0 and self.transport is not None:
            self.transport.close()

    # -- timers --------------------------------------------------------------------------------------------

    def _set_request_deadline(self, delay: float) -> None:
        if self._request_timer is not None:
            self._request_timer.cancel()
        self._request_timer = self.loop.call_later(delay, self._request_timeout)

    def _request_timeout(self) -> None:
        """The request's headers or body did not arrive in time."""
        self._request_timer = None
        if self._in_request:
            self._in_request = False
            self._fail(408, "Request Timeout: the request did not arrive in time")

    def _idle_tick(self) -> None:
        if self.lost or self.transport is None:
            return
        if self._activity != self._idle_mark or self.queue or self._in_request:
            self._idle_mark = self._activity
            self._idle_ticks = 0
        else:
            self._idle_ticks += 1
            if self._idle_ticks >= 2:  # idle for at least the keep-alive timeout
                self._idle_timer = None
                self.transport.close()
                return
        self._idle_timer = self.loop.call_later(self._tick_every, self._idle_tick)

    # -- parser callbacks (on_url, on_header and on_body are the bound appends set in __init__) -------------

    def on_headers_complete(self) -> None:
        limits = self.limits
        raw = self._raw_headers
        if len(raw) > limits.max_headers:
            raise _Abort(431, self._header_limit_message())
        # The head came in the chunks counted so far plus this one: measure it only if that could be over.
        if self._received + self._chunk_bytes > limits.max_header_bytes:
            size = sum(len(k) + len(v) + 4 for k, v in raw.items()) + sum(map(len, self._url))
            if size > limits.max_header_bytes:
                raise _Abort(431, self._header_limit_message())
        raw_names = tuple(raw)
        names = _NAME_SETS.get(raw_names)
        if names is None:  # a name set not seen before (only sets with Host are kept)
            names = _lower_names(raw_names)
            if "host" not in names and self.parser.get_http_version() == "1.1":
                raise _Abort(400, "Bad Request: an HTTP/1.1 request needs a Host header")
        # Values stay bytes: no decoding. (Same length by construction; strict would only cost.)
        headers = self._headers = dict(zip(names, raw.values(), strict=False))
        # A name repeated as sent (the dict kept its last value only), or in two cases (never a cached set).
        if self._field_count() != len(raw) or len(headers) != len(raw):
            self._headers = self._repeated_fields(headers, names)
        raw.clear()  # trailers of a chunked body land here afterwards and are dropped
        self._headers_done = True
        # A body still to come is checked and timed after this chunk (_partial); one already here, below.

    def on_message_complete(self) -> None:
        if self._in_request:
            self._in_request = self._awaiting_body = False
            self._received = 0
            self._request_timer.cancel()  # type: ignore[union-attr]
            self._request_timer = None
        self._headers_done = False
        self._raw_headers.clear()  # and any trailers
        cursor = self._cursor
        if cursor is not None:  # past this message's body, when its length is known
            length = self._headers.get("content-length")
            if length is not None and length.isdigit():
                self._cursor = cursor + int(length)
            elif "transfer-encoding" in self._headers:
                self._cursor = None
        parser = self.parser
        keep_alive = parser.should_keep_alive() and not self.closing
        method = METHODS.get(parser.get_method()) or parser.get_method().decode("latin-1")
        parts = self._url
        url = b"".join(parts)  # one part: the part itself, not a copy
        parts.clear()
        path, query = _TARGETS.get(url) or _target(url)
        chunks = self._body
        body = b"".join(chunks)
        chunks.clear()
        if len(body) > self.limits.max_body_bytes:  # e.g. a chunked body that came in one piece
            raise _Abort(413, self._body_limit_message())
        request = HttpRequest(method, path, query, self._headers, body, keep_alive, self.client)
        responder = Responder(self, method == "HEAD", keep_alive)
        queue = self.queue
        queue.append(responder)
        if len(queue) > 1 and len(queue) >= self.limits.max_pipelined and not self._paused_reading:
            self._paused_reading = True
            self.transport.pause_reading()  # type: ignore[union-attr]
        try:
            result = self.handler(request, responder)
        except Exception as exc:
            self._handler_failed(responder, exc)
            return
        if result is not None:
            task = self.loop.create_task(result)
            self._tasks.add(task)
            task.add_done_callback(lambda t: self._task_done(t, responder))

    def _field_count(self) -> int:
        """How many field lines the head just parsed has, without a Python call per field: its line ends,
        counted in this chunk or in the chunks it spans (the dict's size when the head is not found)."""
        if self._in_request:  # it began in an earlier chunk
            data = b"".join(self._head_parts) + self._chunk
            self._head_parts = []
            start = 0
        else:
            data = self._chunk
            cursor = self._cursor
            if cursor is None:  # behind a request whose end is not known: find this one's request line
                start = data.find(self.parser.get_method() + b" " + self._url[0], self._floor)
            else:
                start = cursor
        end = data.find(b"\r\n\r\n", start) if start >= 0 else -1
        if end < 0:
            self._cursor = None
            return len(self._raw_headers)  # not found: nothing to compare with
        self._head_span = (data, start, end)
        self._cursor = self._floor = end + 4 - (len(data) - len(self._chunk))  # this head's end in the chunk
        return data.count(b"\n", start, end)

    def _repeated_fields(self, headers: dict[str, bytes], names: tuple[str, ...]) -> dict[str, bytes]:
        """A field name repeats (rare): re-read the head's lines. Only a re-reading that agrees with what the
        parser saw is used; else the parser's own entries are (a name in two cases still shows there)."""
        data, start, end = self._head_span
        fields = _field_lines(data[start:end])
        values: dict[str, set[bytes]] = {}
        for name, value in fields:
            values.setdefault(name, set()).add(value)
        if set(values) == set(headers) and all(value in values[name] for name, value in headers.items()):
            return _combined(fields)
        if len(headers) != len(self._raw_headers):  # not this request's head (its position was a guess)
            return _combined(list(zip(names, self._raw_headers.values(), strict=True)))
        return headers

    def http11(self) -> bool:
        """Whether the client speaks HTTP/1.1 (chunked streams); asked only when a stream starts."""
        return self.parser.get_http_version() == "1.1"

    def _task_done(self, task: asyncio.Task[Any], responder: Responder) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self._handler_failed(responder, task.exception())  # type: ignore[arg-type]

    def _handler_failed(self, responder: Responder, exc: BaseException) -> None:
        reference = report("the HTTP handler", exc)  # the traceback to the log, a reference to the client
        if not responder.started:
            responder.respond(500, JSON_TYPE, error_body(500, f"Internal error (reference {reference})"))
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
                if self._failed:
                    self._close_failed()
                else:
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
            else:
                self._activity += 1

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
