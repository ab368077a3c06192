"""Client side of Streamable HTTP (http:// and https://): POST each message, read JSON or SSE answers, keep
the standalone GET stream, resume a dropped SSE stream with Last-Event-ID after the server's `retry` delay,
DELETE on close.

Over MCP 2026-07-28 (`use_modern`) each POST stands alone: no session, no GET stream, no resumption, no
DELETE; the caller passes the headers that mirror the body, and closing a request's response stream
(`abandon`) is how it is cancelled."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Callable, Coroutine, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httptools
import msgspec

from runtime.client.errors import HttpStatusError, OAuthError, SessionExpired

if TYPE_CHECKING:
    from runtime.client.auth import OAuth

__all__ = ["HttpStatusError", "HttpTransport", "SessionExpired", "ssl_context"]

MessageSink = Callable[[bytes], None]

# Headers the transport writes itself: a caller's `headers` may not name them (Host and the framing come
# from the URL and the body; the rest are the protocol's, transports.mdx).
RESERVED_HEADERS = frozenset(
    {
        "accept",
        "connection",
        "content-length",
        "content-type",
        "host",
        "last-event-id",
        "mcp-protocol-version",
        "mcp-session-id",
        "transfer-encoding",
    }
)
# RFC 9110 5.1 / 5.5: a token for the name; no CR, LF or NUL in the value (they would split the request).
_TOKEN = frozenset("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")

Verify = bool | str | ssl.SSLContext


def ssl_context(verify: Verify = True) -> ssl.SSLContext:
    """The TLS settings for https://: True verifies the server against the system's CAs (the default),
    a string is a CA bundle file (PEM) to verify against instead, False turns verification off (testing
    only), and an `ssl.SSLContext` is used as it is."""
    if isinstance(verify, ssl.SSLContext):
        return verify
    if verify is True:
        return ssl.create_default_context()
    if isinstance(verify, str):
        return ssl.create_default_context(cafile=verify)
    if verify is False:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    raise TypeError("verify must be True, False, a CA bundle path or an ssl.SSLContext")


def checked_headers(headers: Mapping[str, str] | None) -> dict[str, str]:
    """The caller's extra headers, refused if they would break the request or override the protocol's."""
    checked: dict[str, str] = {}
    for name, value in (headers or {}).items():
        if not isinstance(name, str) or not name or not set(name) <= _TOKEN:
            raise ValueError(f"invalid HTTP header name {name!r}")
        if name.lower() in RESERVED_HEADERS:
            raise ValueError(f"header {name!r} is set by the MCP transport and cannot be overridden")
        if not isinstance(value, str) or any(c in value for c in "\r\n\0"):
            raise ValueError(f"invalid value for HTTP header {name!r}")
        checked[name] = value
    return checked


class _Response:
    """One HTTP response being read: status and headers first, then the body as it arrives."""

    def __init__(self) -> None:
        self.status = 0
        self.headers: dict[str, str] = {}
        self.set_cookies: list[str] = []  # every Set-Cookie field (never joined: RFC 9110 5.3)
        self.headers_done = asyncio.get_running_loop().create_future()
        self.chunks: asyncio.Queue[bytes | None] = asyncio.Queue()
        self.complete = False
        self.keep_alive = True
        self._name = b""
        self.parser: httptools.HttpResponseParser | None = None

    # httptools callbacks
    def on_header(self, name: bytes, value: bytes) -> None:
        key, text = name.decode().lower(), value.decode()
        if key == "set-cookie":
            self.set_cookies.append(text)
        elif key == "www-authenticate" and key in self.headers:
            # A list field: several challenges may come in separate fields (RFC 9110 11.6.1).
            self.headers[key] += ", " + text
            return
        self.headers[key] = text

    def on_headers_complete(self) -> None:
        # Asked here, in the parser's callback: once the whole message is parsed, llhttp has reset and
        # answers False, which closed every connection after a Content-Length answer.
        if self.parser is not None:
            self.status = self.parser.get_status_code()
            self.keep_alive = self.parser.should_keep_alive()
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
    def __init__(self, host: str, port: int, tls: ssl.SSLContext | None = None) -> None:
        self.host = host
        self.port = port
        self.tls = tls
        self.host_header = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(
        self, method: str, target: str, headers: dict[str, str], body: bytes = b""
    ) -> _Response:
        if self.writer is None or self.writer.is_closing():
            self.reader, self.writer = await asyncio.open_connection(
                self.host,
                self.port,
                limit=1 << 20,
                ssl=self.tls,
                server_hostname=self.host if self.tls is not None else None,
            )
        lines = [f"{method} {target} HTTP/1.1", f"Host: {self.host_header}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        lines.append(f"Content-Length: {len(body)}")
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        response = _Response()
        parser = response.parser = httptools.HttpResponseParser(response)
        reader_task = asyncio.ensure_future(self._pump(parser, response))
        headers_or_eof = await asyncio.wait(
            {response.headers_done, reader_task}, return_when=asyncio.FIRST_COMPLETED
        )
        del headers_or_eof
        if not response.headers_done.done():
            reader_task.result()  # raises the connection error
            raise ConnectionError("connection closed before the response")
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
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None


def _answers(data: bytes, request_id: Any) -> bool:
    """Whether an SSE message is the response to `request_id`."""
    try:
        message = msgspec.json.decode(data, type=_IdOnly)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return False
    return message.method is None and message.id == request_id


def _insufficient_scope(www_authenticate: str | None) -> bool:
    from runtime.client.auth.discovery import bearer_challenge

    challenge = bearer_challenge(www_authenticate)
    return challenge is not None and challenge.error == "insufficient_scope"


class HttpTransport:
    def __init__(
        self,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        verify: Verify = True,
        open_get_stream: bool = True,
        max_resume_attempts: int = 5,
        auth: OAuth | None = None,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise ValueError("only http:// and https:// URLs are supported by this client")
        self.tls = ssl_context(verify) if parts.scheme == "https" else None
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or (443 if self.tls is not None else 80)
        self.path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self.extra_headers = checked_headers(headers)
        if any(name.lower() == "authorization" for name in self.extra_headers) and auth is not None:
            raise ValueError("pass either an Authorization header or auth=, not both")
        self.auth = auth
        if auth is not None:
            auth.bind(url, verify)
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
        self.modern = False
        self._streams: dict[Any, asyncio.Task[None]] = {}  # modern: request id -> its response stream
        # Set by the Client: a GET learned that the session ended; a request's answer stream is lost.
        self.on_session_lost: Callable[[str], None] = lambda session_id: None
        self.on_answer_lost: Callable[[Any, BaseException], None] = lambda request_id, error: None

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

    def use_modern(self, version: str) -> None:
        """Speak a modern revision from now on: every POST carries `version`; nothing is kept between them."""
        self.modern = True
        self.protocol_version = version
        self.session_id = None

    def use_legacy(self) -> None:
        """Back to the handshake era (a fallback after a modern probe): the initialize goes bare."""
        self.modern = False
        self.protocol_version = None
        self.session_id = None

    def abandon(self, request_id: Any) -> None:
        """Close a modern request's response stream: the server takes it as the request's cancellation
        (cancellation.mdx "Transport-Specific Cancellation")."""
        task = self._streams.pop(request_id, None)
        if task is not None:
            task.cancel()

    def _headers(self, accept: str) -> dict[str, str]:
        headers = {**self.extra_headers, "Accept": accept}
        if self.session_id is not None:
            headers["Mcp-Session-Id"] = self.session_id
        if self.protocol_version is not None:
            headers["MCP-Protocol-Version"] = self.protocol_version
        return headers

    async def _exchange(
        self, method: str, headers: dict[str, str], body: bytes = b""
    ) -> tuple[_Connection, _Response]:
        """Send a request and read its status and headers, with OAuth when `auth` is set: the bearer token
        on the request, and on 401 (or 403 insufficient_scope) a new token and the request again, for at
        most `auth.max_attempts` rounds; then `OAuthError`."""
        if self.auth is None:
            return await self._exchange_once(method, headers, body)
        rounds = 0
        while True:
            token = await self.auth.access_token()
            sent = {**headers, "Authorization": f"Bearer {token}"} if token is not None else headers
            conn, response = await self._exchange_once(method, sent, body)
            if response.status not in (401, 403):
                return conn, response
            challenge = response.headers.get("www-authenticate")
            if response.status == 403 and not _insufficient_scope(challenge):
                return conn, response
            await response.body()
            self._release(conn, response)
            if rounds >= self.auth.max_attempts:  # a permanent authorization failure (authorization.mdx)
                raise OAuthError(
                    f"HTTP {response.status}: the server still refuses after {rounds} authorization rounds"
                )
            rounds += 1
            await self.auth.challenged(response.status, challenge, token)

    async def _exchange_once(
        self, method: str, headers: dict[str, str], body: bytes = b""
    ) -> tuple[_Connection, _Response]:
        """Send a request and read its status and headers. A kept-alive connection the server closed
        meanwhile (idle timeout, restart) fails before any answer: the request goes once more on a new one."""
        if self._idle:
            conn = self._idle.pop()
            try:
                return conn, await conn.request(method, self.path, headers, body)
            except ConnectionError:
                conn.close()
            except BaseException:  # cancelled while waiting: the answer would come to no one
                conn.close()
                raise
        conn = _Connection(self.host, self.port, self.tls)
        try:
            return conn, await conn.request(method, self.path, headers, body)
        except BaseException:
            conn.close()
            raise

    def _release(self, conn: _Connection, response: _Response) -> None:
        if response.complete and response.keep_alive and not self._closed and len(self._idle) < 32:
            self._idle.append(conn)
        else:
            conn.close()

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def send(self, data: bytes, headers: Mapping[str, str] | None = None) -> None:
        """POST one message; `headers` are the per-message ones of the modern revision (Mcp-Method, ...)."""
        if self._closed:
            raise ConnectionError("transport closed")
        sent = self._headers("application/json, text/event-stream")
        sent["Content-Type"] = "application/json"
        if headers:
            sent.update(headers)
        sent_session = self.session_id
        conn, response = await self._exchange("POST", sent, data)
        try:
            await self._answered(conn, response, data, sent_session)
        except asyncio.CancelledError:
            conn.close()  # cancelled mid-answer: closing is the cancellation, and the rest is no one's
            raise

    async def _answered(
        self, conn: _Connection, response: _Response, data: bytes, sent_session: str | None
    ) -> None:
        self.last_status = response.status
        session_id = response.headers.get("mcp-session-id")
        if session_id is not None and self.session_id is None and not self.modern:
            self.session_id = session_id
        content_type = response.headers.get("content-type", "")
        if response.status == 202:
            await response.body()
            self._release(conn, response)
            return
        if response.status != 200:
            body = await response.body()
            self._release(conn, response)
            request_id = _request_id(data)
            if response.status == 404 and sent_session is not None:
                if request_id is not None and _request_id(body) == request_id:
                    # Accepted, then its session ended while it ran: it fails (it may have run, so it is not
                    # resent), and the next request starts a new session.
                    message = f"HTTP 404: the server ended the session before answering request {request_id}"
                    self.on_answer_lost(request_id, SessionExpired(message, body))
                    self.on_session_lost(sent_session)
                    return
                raise SessionExpired(f"HTTP 404: the server ended session {sent_session}", body)
            if request_id is not None and _request_id(body) == request_id:
                self._on_message(body)  # the JSON-RPC error answering this request
                return
            raise HttpStatusError(response.status, body)
        if content_type.startswith("text/event-stream"):
            request_id = _request_id(data)
            task = self._spawn(self._read_stream(conn, response, request_id))
            if self.modern and request_id is not None:
                self._streams[request_id] = task
                task.add_done_callback(lambda done: self._streams.pop(request_id, None))
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
        if answered or self._closed:
            return
        if self.modern:  # nothing to resume: the answer is lost with the stream
            if request_id is not None:
                lost = ConnectionError(f"the server closed the response stream before answering {request_id}")
                self.on_answer_lost(request_id, lost)
            return
        if attempts >= self.max_resume_attempts:
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
        try:
            conn, response = await self._exchange("GET", headers)
        except OSError:  # refused, reset, TLS: the stream is not there
            return
        finally:
            if ready is not None and not ready.done():
                ready.set_result(None)
        if response.status != 200:
            body = await response.body()
            self._release(conn, response)
            session = headers.get("Mcp-Session-Id")
            if response.status == 404 and session is not None and session == self.session_id:
                await self._stream_not_found(session, last_id, request_id, attempts, body)
            return
        await self._read_stream(conn, response, request_id, attempts)

    async def _stream_not_found(
        self, session: str, last_id: str | None, request_id: Any, attempts: int, body: bytes
    ) -> None:
        """A 404 to a GET: for a resumption it may mean only that the events are gone, so a request's answer
        is lost and the standalone stream is opened afresh; a fresh GET's 404 means the session ended."""
        if request_id is not None:
            message = f"HTTP 404: the server could not resume the answer stream of request {request_id}"
            self.on_answer_lost(request_id, HttpStatusError(404, body, message))
        elif last_id is not None:
            await self._get_stream(None, None, attempts + 1)
        else:
            self.on_session_lost(session)

    async def _standalone_stream(self, ready: asyncio.Future[None]) -> None:
        await self._get_stream(None, None, 0, ready)

    async def reset_session(self) -> None:
        """Forget an ended session: its streams stop, and the next POST (an initialize) goes without
        `Mcp-Session-Id` and `MCP-Protocol-Version`, as a first contact does."""
        for task in list(self._tasks):
            task.cancel()
        self.session_id = None
        self.protocol_version = None

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self.session_id is not None and not self.modern:
            with contextlib.suppress(Exception):
                conn = _Connection(self.host, self.port, self.tls)
                headers = self._headers("*/*")
                token = await self.auth.access_token() if self.auth is not None else None
                if token is not None:
                    headers["Authorization"] = f"Bearer {token}"
                response = await asyncio.wait_for(conn.request("DELETE", self.path, headers), 2.0)
                await asyncio.wait_for(response.body(), 2.0)
                conn.close()
        for task in list(self._tasks):
            task.cancel()
        for conn in self._idle:
            conn.close()
        self._idle.clear()
        self._on_close(None)
