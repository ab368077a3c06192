"""Client side of Streamable HTTP: POST each message, read JSON or SSE answers, keep the standalone GET
stream, resume a dropped SSE stream with Last-Event-ID after the server's `retry` delay, DELETE on close."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import httptools
import msgspec

MessageSink = Callable[[bytes], None]


class HttpStatusError(ConnectionError):
    def __init__(self, status: int, body: bytes) -> None:
        super().__init__(f"HTTP {status}: {body[:200].decode(errors='replace')}")
        self.status = status
        self.body = body


class _Response:
    """One HTTP response being read: status and headers first, then the body as it arrives."""

    def __init__(self) -> None:
        self.status = 0
        self.headers: dict[str, str] = {}
        self.headers_done = asyncio.get_running_loop().create_future()
        self.chunks: asyncio.Queue[bytes | None] = asyncio.Queue()
        self.complete = False
        self.keep_alive = True
        self._name = b""

    # httptools callbacks
    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers[name.decode().lower()] = value.decode()

    def on_headers_complete(self) -> None:
        if not self.headers_done.done():
            self.headers_done.set_result(None)

    def on_body(self, body: bytes) -> None:
        self.chunks.put_nowait(body)

    def on_message_complete(self) -> None:
        self.complete = True
        self.chunks.put_nowait(None)

    async def body(self) -> bytes:
        parts = []
        while (chunk := await self.chunks.get()) is not None:
            parts.append(chunk)
        return b"".join(parts)


class _Connection:
    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(
        self, method: str, target: str, headers: dict[str, str], body: bytes = b""
    ) -> _Response:
        if self.writer is None or self.writer.is_closing():
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port, limit=1 << 20)
        lines = [f"{method} {target} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        lines.append(f"Content-Length: {len(body)}")
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        response = _Response()
        parser = httptools.HttpResponseParser(response)
        reader_task = asyncio.ensure_future(self._pump(parser, response))
        headers_or_eof = await asyncio.wait(
            {response.headers_done, reader_task}, return_when=asyncio.FIRST_COMPLETED
        )
        del headers_or_eof
        if not response.headers_done.done():
            reader_task.result()  # raises the connection error
            raise ConnectionError("connection closed before the response")
        response.status = parser.get_status_code()
        response.keep_alive = parser.should_keep_alive()
        return response

    async def _pump(self, parser: httptools.HttpResponseParser, response: _Response) -> None:
        assert self.reader is not None
        try:
            while not response.complete:
                data = await self.reader.read(65536)
                if not data:
                    break
                parser.feed_data(data)
        except (ConnectionError, httptools.HttpParserError, asyncio.CancelledError):
            pass
        finally:
            if not response.complete:
                response.chunks.put_nowait(None)
                self.close()

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


async def _sse_events(response: _Response):  # type: ignore[no-untyped-def]
    """Parse an SSE body into (event id, data, retry) tuples as chunks arrive."""
    buffer = b""
    event_id: str | None = None
    data: list[bytes] = []
    retry: int | None = None
    while (chunk := await response.chunks.get()) is not None:
        buffer += chunk
        while True:
            end = buffer.find(b"\n")
            if end < 0:
                break
            line, buffer = buffer[:end].rstrip(b"\r"), buffer[end + 1 :]
            if not line:
                if data or event_id is not None or retry is not None:
                    yield event_id, b"\n".join(data), retry
                event_id, data, retry = None, [], None
                continue
            field, _, value = line.partition(b":")
            value = value[1:] if value.startswith(b" ") else value
            if field == b"data":
                data.append(value)
            elif field == b"id":
                event_id = value.decode()
            elif field == b"retry" and value.isdigit():
                retry = int(value)


class _IdOnly(msgspec.Struct):
    id: Any = None
    method: str | None = None


def _request_id(data: bytes) -> Any:
    try:
        return msgspec.json.decode(data, type=_IdOnly).id
    except msgspec.DecodeError:
        return None


def _answers(data: bytes, request_id: Any) -> bool:
    """Whether an SSE message is the response to `request_id`."""
    try:
        message = msgspec.json.decode(data, type=_IdOnly)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return False
    return message.method is None and message.id == request_id


class HttpTransport:
    def __init__(
        self,
        url: str,
        *,
        headers: dict[str, str] | None = None,
        open_get_stream: bool = True,
        max_resume_attempts: int = 5,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme != "http":
            raise ValueError("only http:// URLs are supported by this client")
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.path = parts.path or "/"
        self.extra_headers = dict(headers or {})
        self.session_id: str | None = None
        self.protocol_version: str | None = None
        self.open_get_stream = open_get_stream
        self.max_resume_attempts = max_resume_attempts
        self._idle: list[_Connection] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._on_message: MessageSink = lambda data: None
        self._on_close: Callable[[BaseException | None], None] = lambda exc: None
        self._closed = False
        self.last_status: int | None = None

    async def start(self, on_message: MessageSink, on_close: Callable[[BaseException | None], None]) -> None:
        self._on_message = on_message
        self._on_close = on_close

    async def negotiated(self, version: str) -> None:
        """After initialize: send the version header from now on and open the standalone GET stream, waiting
        (briefly) until it is established so that the server can use it before our next request."""
        self.protocol_version = version
        if self.open_get_stream:
            ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._spawn(self._standalone_stream(ready))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(ready), 2.0)

    def _headers(self, accept: str) -> dict[str, str]:
        headers = {"Accept": accept, **self.extra_headers}
        if self.session_id is not None:
            headers["Mcp-Session-Id"] = self.session_id
        if self.protocol_version is not None:
            headers["MCP-Protocol-Version"] = self.protocol_version
        return headers

    def _connection(self) -> _Connection:
        return self._idle.pop() if self._idle else _Connection(self.host, self.port)

    def _release(self, conn: _Connection, response: _Response) -> None:
        if response.complete and response.keep_alive and not self._closed and len(self._idle) < 32:
            self._idle.append(conn)
        else:
            conn.close()

    def _spawn(self, coro) -> None:  # type: ignore[no-untyped-def]
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def send(self, data: bytes) -> None:
        if self._closed:
            raise ConnectionError("transport closed")
        headers = self._headers("application/json, text/event-stream")
        headers["Content-Type"] = "application/json"
        conn = self._connection()
        response = await conn.request("POST", self.path, headers, data)
        self.last_status = response.status
        session_id = response.headers.get("mcp-session-id")
        if session_id is not None and self.session_id is None:
            self.session_id = session_id
        content_type = response.headers.get("content-type", "")
        if response.status == 202:
            await response.body()
            self._release(conn, response)
            return
        if response.status != 200:
            body = await response.body()
            self._release(conn, response)
            if body.startswith(b"{") and b'"id"' in body:
                self._on_message(body)  # a JSON-RPC error for this request
                return
            raise HttpStatusError(response.status, body)
        if content_type.startswith("text/event-stream"):
            self._spawn(self._read_stream(conn, response, _request_id(data)))
            return
        body = await response.body()
        self._release(conn, response)
        if body:
            self._on_message(body)

    async def _read_stream(
        self, conn: _Connection, response: _Response, request_id: Any = None, attempts: int = 0
    ) -> None:
        """Deliver an SSE stream's messages. A stream that ends before the response to its request (or a
        standalone stream, which has none) is resumed with GET + Last-Event-ID after the `retry` delay,
        whether the server closed it gracefully (polling) or the connection dropped (transports.mdx)."""
        last_id: str | None = None
        retry_ms = 1000
        answered = False
        try:
            async for event_id, data, retry in _sse_events(response):
                if event_id is not None:
                    last_id = event_id
                if retry is not None:
                    retry_ms = retry
                if data:
                    if request_id is not None and not answered:
                        answered = _answers(data, request_id)
                    self._on_message(data)
        finally:
            self._release(conn, response)
        if answered or self._closed or attempts >= self.max_resume_attempts:
            return
        if last_id is None and request_id is not None:
            return  # nothing to resume from
        if request_id is None and last_id is not None:
            attempts = 0  # a standalone stream that delivered events is polled for as long as it lives
        await asyncio.sleep(retry_ms / 1000)
        await self._get_stream(last_id, request_id, attempts + 1)

    async def _get_stream(
        self, last_id: str | None, request_id: Any, attempts: int, ready: asyncio.Future[None] | None = None
    ) -> None:
        headers = self._headers("text/event-stream")
        if last_id is not None:
            headers["Last-Event-ID"] = last_id
        conn = self._connection()
        try:
            response = await conn.request("GET", self.path, headers)
        except ConnectionError:
            conn.close()
            return
        finally:
            if ready is not None and not ready.done():
                ready.set_result(None)
        if response.status != 200:
            await response.body()
            self._release(conn, response)
            return
        await self._read_stream(conn, response, request_id, attempts)

    async def _standalone_stream(self, ready: asyncio.Future[None]) -> None:
        await self._get_stream(None, None, 0, ready)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self.session_id is not None:
            with contextlib.suppress(Exception):
                conn = _Connection(self.host, self.port)
                response = await asyncio.wait_for(
                    conn.request("DELETE", self.path, self._headers("*/*")), 2.0
                )
                await asyncio.wait_for(response.body(), 2.0)
                conn.close()
        for task in list(self._tasks):
            task.cancel()
        for conn in self._idle:
            conn.close()
        self._idle.clear()
        self._on_close(None)
