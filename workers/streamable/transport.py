"""MCP Streamable HTTP (transports.mdx, 2025-11-25) on top of the worker's HTTP/1.1 server.

POST carries one JSON-RPC message. A request is answered with `application/json` when its handler sends
nothing before the result (the fast path); the first message sent before the result upgrades the answer to
an SSE stream. GET opens the session's standalone SSE stream, or resumes any stream with `Last-Event-ID`.
DELETE ends the session.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import msgspec

from runtime.protocol import jsonrpc as rpc
from runtime.protocol import scan
from runtime.protocol.core import Reply, ServerSession, StandaloneSession
from runtime.protocol.state import INITIALIZING
from runtime.protocol.versions import HTTP_DEFAULT_VERSION, MODERN, SUPPORTED_VERSIONS
from runtime.server.context import Context
from runtime.server.runner import Runner
from runtime.stores.sessions import SessionStore
from workers.streamable import modern
from workers.streamable.events import EventStore, MemoryEventStore, parse_event_id, sse_event, write_events
from workers.streamable.media import accepts_json_and_sse, accepts_sse, is_json
from workers.streamable.sessions import MemorySessions, SessionRefused

if TYPE_CHECKING:
    from runtime.server.app import Server
    from workers.httpd.protocol import Responder, ResponseStream
    from workers.httpd.types import HttpRequest

Headers = list[tuple[bytes, bytes]]
JSON = (b"content-type", b"application/json")
SSE_HEADERS: Headers = [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache")]
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})


@dataclass
class StreamableSettings:
    """Every limit and switch of the Streamable HTTP endpoint (documented in the README)."""

    path: str = "/mcp"
    stateless: bool = False  # no Mcp-Session-Id: every POST stands alone (no GET stream, no resumption)
    allowed_origins: frozenset[str] | None = None  # None: localhost origins only
    allowed_hosts: frozenset[str] | None = None  # None: localhost names when bound to loopback, else any
    bound_to_loopback: bool = True
    idle_timeout: float = 1800.0  # seconds without a request before a session expires
    max_sessions: int = 10_000  # initialize beyond this gets 503 + Retry-After
    max_streams_per_session: int = 16  # live SSE streams a session may hold
    enable_get_stream: bool = True  # False: GET answers 405
    sse_retry_ms: int = 1000  # the `retry` hint sent before the server closes an SSE connection
    sse_max_stream_seconds: float | None = None  # close SSE connections after this long (client polls)
    max_depth: int = scan.DEFAULT_MAX_DEPTH  # arrays and objects nested deeper: 400 with a JSON-RPC error
    event_store_max_events: int = 1000  # per stream
    event_store_ttl: float = 300.0  # seconds an idle stream's events stay resumable
    event_store_stream_bytes: int = 4 * 1024 * 1024  # per stream: its oldest events go beyond this
    event_store_bytes: int = 64 * 1024 * 1024  # one process's store in all (--event-log-bytes)
    extra: dict[str, str] = field(default_factory=dict)


# The protocol versions as clients send them in MCP-Protocol-Version (header values stay bytes).
_VERSION_VALUES: dict[bytes, str] = {version.encode(): version for version in SUPPORTED_VERSIONS}
_MODERN = MODERN.encode()


def _text(headers: dict[str, bytes], name: str) -> str | None:
    value = headers.get(name)
    return None if value is None else value.decode("latin-1")


def _error_body(code: int, message: str) -> bytes:
    return rpc.error_message(None, code, message)


# host [":" port] (RFC 9110 7.2, RFC 3986 3.2.2): an IPv6 literal in brackets, or a name or IPv4 address.
_HOST_PORT = re.compile(r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~%!$&'()*+,;=]+)(?::[0-9]*)?")


def _host_name(value: str) -> str | None:
    """The host of a Host header value (IPv6 in brackets), or None when the value is not host[:port]."""
    match = _HOST_PORT.fullmatch(value)
    if match is None:
        return None
    name = match.group(1).lower()
    if name.startswith("["):
        try:
            ipaddress.IPv6Address(name[1:-1])
        except ValueError:
            return None
    return name


def _origin_host(origin: str) -> str | None:
    """The host of a serialized origin, scheme "://" host [":" port] with nothing after (RFC 6454)."""
    scheme, separator, authority = origin.partition("://")
    if not separator or scheme.lower() not in ("http", "https"):
        return None
    return _host_name(authority)


def _is_loopback(name: str) -> bool:
    if name in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name.strip("[]")).is_loopback
    except ValueError:
        return False


class LiveStream:
    """One SSE stream of a session. Its events go to the event store first, then to the connection if one
    is attached; a dropped connection leaves the stream running for a later resumption."""

    __slots__ = ("conn", "ended", "last_seq", "session_id", "shared", "stream_id", "timer", "transport")

    def __init__(self, transport: StreamableHttp, session_id: str, stream_id: str) -> None:
        self.transport = transport
        self.session_id = session_id
        self.stream_id = stream_id
        self.conn: ResponseStream | None = None
        self.ended = False
        self.timer: asyncio.TimerHandle | None = None
        # A GET stream in a shared event log may get events from other workers (its holder died, or
        # it was taken over): its connection is sent the log's events in sequence, `last_seq` the last.
        self.shared = transport.shared_get_streams and stream_id.startswith("g")
        self.last_seq = 0

    def attach(self, conn: ResponseStream) -> None:
        if self.conn is not None and not self.conn.closed:
            self.conn.close()
        self.conn = conn
        conn.add_close_callback(lambda: self._lost(conn))
        limit = self.transport.settings.sse_max_stream_seconds
        if limit is not None:
            self.timer = asyncio.get_running_loop().call_later(limit, self.close_connection)

    def _lost(self, conn: ResponseStream) -> None:
        if self.conn is conn:
            self.conn = None

    def prime(self) -> None:
        """The priming event: an id and empty data, so the client can resume even before the first message."""
        event_id = self.transport.events.append(self.session_id, self.stream_id, b"")
        if self.shared:
            self.last_seq = _seq(event_id)
        retry = self.transport.settings.sse_retry_ms
        if self.conn is not None:
            self.conn.write(b"id: %s\nretry: %d\ndata: \n\n" % (event_id.encode(), retry))

    def send(self, data: bytes) -> None:
        event_id = self.transport.events.append(self.session_id, self.stream_id, data)
        if self.shared:
            seq = _seq(event_id)
            if seq != self.last_seq + 1:  # another worker wrote to the stream's log meanwhile
                self.catch_up()
                return
            self.last_seq = seq
        conn = self.conn
        if conn is not None and not conn.closed:
            conn.write(sse_event(event_id, data))

    def catch_up(self) -> None:
        """Send what the shared event log holds for this stream after the connection's last event."""
        if self.ended:
            return
        replay = self.transport.events.replay(self.session_id, f"{self.stream_id}.{self.last_seq}")
        if replay is None or not replay[1]:
            return
        events = replay[1]
        self.last_seq = _seq(events[-1][0])
        conn = self.conn
        if conn is not None and not conn.closed:
            write_events(conn, events)

    def resumed(self, last_event_id: str) -> None:
        """The connection was sent the stream's events up to `last_event_id` (a replay)."""
        parsed = parse_event_id(last_event_id)
        if self.shared and parsed is not None:
            self.last_seq = max(self.last_seq, parsed[1])

    def release(self) -> None:
        """Another worker carries this stream on: forget it here, without ending it."""
        self.transport.forget_stream(self)
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        conn, self.conn = self.conn, None
        if conn is not None and not conn.closed:
            conn.close()

    def end(self) -> None:
        if self.ended:
            return
        self.ended = True
        self.transport.events.append(self.session_id, self.stream_id, None)
        self.transport.forget_stream(self)
        if self.timer is not None:
            self.timer.cancel()
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def close_connection(self) -> None:
        """Close the connection but not the stream: the client reconnects after `retry` ms (polling)."""
        conn, self.conn = self.conn, None
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if conn is not None and not conn.closed:
            conn.write(b"retry: %d\n\n" % self.transport.settings.sse_retry_ms)
            conn.close()


def _bound_to(session: ServerSession, request: HttpRequest) -> bool:
    """Whether the request may use the session: with authorization, only the principal that created it
    may (another token's requests get 404, as for a session that does not exist)."""
    principal = request.principal
    return session.state.principal_key == ("" if principal is None else principal.key)


def _seq(event_id: str) -> int:
    return int(event_id.rpartition(".")[2])


class PostOutbound(msgspec.Struct, gc=False):
    """Where the messages of one POST go: a JSON response, or an SSE stream once the handler sends early.
    A Struct: built in C, once per POST."""

    transport: StreamableHttp
    session: ServerSession
    responder: Responder
    headers: Headers = msgspec.field(default_factory=list)
    stream: LiveStream | None = None
    request_id: rpc.RequestId | None = None  # known when the answer may have to name it (session ended)
    principal: Any = None  # the request's (runtime.auth.Principal), read by Context.principal

    def send(self, data: bytes) -> None:
        stream = self.stream
        if stream is None:
            stream = self.stream = self.transport.open_stream(self.session, self.responder, self.headers)
        stream.send(data)

    def finish(self, data: bytes | None, invalid: bool = False) -> None:
        commit = self.transport._commit
        if commit is not None:  # before the answer leaves: the client's next request may reach another worker
            commit(self.session)
        stream = self.stream
        if stream is not None:
            if data is not None:
                stream.send(data)
            stream.end()
        elif data is None:
            session_id = self.session.state.session_id
            if session_id and session_id not in self.transport._attached:
                # Cancelled because its session ended (DELETE, expiry): a request must not get 202, and a
                # session's requests get 404 once it has ended; the body names the request when known.
                body = rpc.error_message(self.request_id, rpc.INVALID_REQUEST, "Session not found")
                self.responder.respond(404, [JSON], body)
            else:
                self.responder.respond(202, self.headers, b"")
        elif invalid or self.headers:
            self.responder.respond(400 if invalid else 200, [JSON, *self.headers], data)
        else:
            self.responder.respond_json(data)

    def close_connection(self) -> None:
        """Server-side polling: switch to SSE if needed (the priming event carries the resumption id), then
        close the connection; the rest of the stream is replayed to the client's GET with Last-Event-ID."""
        if self.stream is None:
            self.stream = self.transport.open_stream(self.session, self.responder, self.headers)
        self.stream.close_connection()


class StreamableHttp:
    """The MCP endpoint: an HTTP handler (`HttpRequest`, `Responder`) serving one `Server`."""

    def __init__(
        self,
        server: Server,
        settings: StreamableSettings | None = None,
        *,
        sessions: SessionStore | None = None,
        events: EventStore | None = None,
    ) -> None:
        self.server = server
        self.settings = settings = settings or StreamableSettings()
        if sessions is None:
            sessions = MemorySessions(settings.idle_timeout, settings.max_sessions)
        self.sessions: SessionStore = sessions
        # Shared sessions (several workers): write a changed record back after each message, and make a
        # session this worker loads for the first time reachable for server events.
        self._commit = getattr(self.sessions, "commit", None)
        if hasattr(self.sessions, "on_new_local"):
            self.sessions.on_new_local = self._attach
        # Set by the cluster: reach a standalone stream held by another worker; announce an ended session.
        self.forward_notify: Callable[[str, bytes], bool | None] | None = None
        self.on_session_end: Callable[[str], None] | None = None
        self.on_get_stream: Callable[[str], None] | None = None  # a standalone stream opened here
        # Set by the cluster: keep a resumed connection following a stream another worker writes to.
        self.follow_stream: Callable[[str, str, ResponseStream, str], None] | None = None
        self.stream_tag = ""  # set by the cluster: ends a POST stream's id, naming the worker writing it
        self.shared_get_streams = False  # set by the cluster: other workers may write to GET streams' logs
        if events is None:
            events = MemoryEventStore(
                settings.event_store_max_events,
                settings.event_store_ttl,
                max_stream_bytes=settings.event_store_stream_bytes,
                max_bytes=settings.event_store_bytes,
            )
        self.events: EventStore = events
        self._runner: Runner | None = None
        self._streams: dict[tuple[str, str], LiveStream] = {}
        self._get_streams: dict[str, LiveStream] = {}
        self._sweeper: asyncio.TimerHandle | None = None
        self._path = settings.path
        self._stateless = settings.stateless
        self._max_depth = settings.max_depth
        self._accepted_hosts: set[bytes] = set()
        self._good_posts: set[tuple[bytes | None, ...]] = set()
        self._attached: dict[str, ServerSession] = {}  # sessions the server can reach, by id

    @property
    def runner(self) -> Runner:
        if self._runner is None:
            self._runner = Runner(self.server, asyncio.get_running_loop())
            self._schedule_sweep()
        return self._runner

    # -- entry point ---------------------------------------------------------------------------------------

    def __call__(self, request: HttpRequest, responder: Responder) -> None:
        headers = request.headers
        if request.method == "POST" and request.path == self._path and "origin" not in headers:
            # Host, Content-Type, Accept and MCP-Protocol-Version: a combination that passed every check
            # before (clients send the same few) is not checked again.
            shape = (
                headers.get("host"),
                headers.get("content-type"),
                headers.get("accept"),
                headers.get("mcp-protocol-version"),
            )
            if shape in self._good_posts:
                self._post_checked(request, responder, shape[3])
                return
        if request.path != self._path:
            if request.path == "/healthz" and request.method in ("GET", "HEAD"):
                responder.respond(200, [(b"content-type", b"text/plain")], b"ok\n")
            else:
                responder.respond(404, [JSON], _error_body(rpc.INVALID_REQUEST, "Not found"))
            return
        refusal = self._check_origin(headers)
        if refusal is not None:
            status, message = refusal
            responder.respond(status, [JSON], _error_body(rpc.INVALID_REQUEST, message))
            return
        method = request.method
        if headers.get("mcp-protocol-version") == _MODERN and method != "POST":
            modern.refuse_method(responder)  # no GET stream, no session to DELETE (2026-07-28)
        elif method == "POST":
            self._post(request, responder)
        elif method == "GET":
            self._get(request, responder)
        elif method == "DELETE":
            self._delete(request, responder)
        else:
            responder.respond(
                405,
                [(b"allow", b"GET, POST, DELETE"), JSON],
                _error_body(rpc.INVALID_REQUEST, "Method not allowed"),
            )

    def _check_origin(self, headers: dict[str, bytes]) -> tuple[int, str] | None:
        """DNS-rebinding protection (transports.mdx "Security Warning")."""
        settings = self.settings
        raw_host = headers.get("host")
        if "origin" not in headers and raw_host in self._accepted_hosts:
            return None  # the common case, decided once per distinct Host value
        host = _text(headers, "host")
        origin = _text(headers, "origin")
        if host is not None:
            name = _host_name(host)
            if name is None:
                return 400, f"Bad Request: invalid Host header: {host}"
            if settings.allowed_hosts is not None:
                if host not in settings.allowed_hosts and name not in settings.allowed_hosts:
                    return 421, f"Invalid Host header: {host}"
            elif settings.bound_to_loopback and not _is_loopback(name):
                return 421, f"Invalid Host header: {host}"
        if origin is not None:
            if settings.allowed_origins is not None:
                if origin not in settings.allowed_origins:
                    return 403, f"Origin not allowed: {origin}"
            else:
                origin_host = _origin_host(origin)
                if origin_host is None or not _is_loopback(origin_host):
                    return 403, f"Origin not allowed: {origin}"
        elif raw_host is not None and len(self._accepted_hosts) < 64:
            self._accepted_hosts.add(raw_host)
        return None

    def _check_version(self, request: HttpRequest, responder: Responder) -> bool:
        raw = request.headers.get("mcp-protocol-version")
        if raw is not None and raw not in _VERSION_VALUES:
            # UnsupportedProtocolVersionError with the versions this server speaks: what a modern client
            # retries with, and a diagnostic a legacy one can show (2026-07-28 versioning.mdx).
            modern.refuse_version(request, responder, raw.decode("latin-1"))
            return False
        return True

    # -- POST ----------------------------------------------------------------------------------------------

    def _post(self, request: HttpRequest, responder: Responder) -> None:
        headers = request.headers
        raw_version = headers.get("mcp-protocol-version")
        media = (headers.get("content-type", b""), headers.get("accept", b""), raw_version)
        if not self._check_media(media, request, responder):
            return
        host = headers.get("host")
        if "origin" not in headers and host in self._accepted_hosts and len(self._good_posts) < 64:
            self._good_posts.add((host, headers.get("content-type"), headers.get("accept"), raw_version))
        self._post_checked(request, responder, raw_version)

    def _post_checked(self, request: HttpRequest, responder: Responder, raw_version: bytes | None) -> None:
        """A POST whose headers passed the checks: find its session and run its message."""
        refused = scan.depth_error(request.body, self._max_depth)  # before anything decodes it
        if refused is not None:
            responder.respond(400, [JSON], refused)
            return
        if raw_version == _MODERN:  # a request that stands alone (2026-07-28)
            modern.serve_post(self.server, self._runner or self.runner, request, responder)
            return
        headers = request.headers
        if self._stateless:
            version = HTTP_DEFAULT_VERSION if raw_version is None else _VERSION_VALUES[raw_version]
            standalone = StandaloneSession.serving(self.server.profile, version)
            runner = self._runner or self.runner
            out = PostOutbound(self, standalone, responder, principal=request.principal)
            runner.feed(standalone, request.body, out)
            return
        raw_id = headers.get("mcp-session-id")
        if raw_id is None:
            self._initialize(request, responder)
            return
        session = self.sessions.get(raw_id.decode("latin-1"))
        if session is None or not _bound_to(session, request):
            responder.respond(404, [JSON], _error_body(rpc.INVALID_REQUEST, "Session not found"))
            return
        body = request.body
        runner = self._runner or self.runner
        quick = self.server.quick_answer(session, body)  # a cached read, a plain tool's call (quick.py)
        out = PostOutbound(self, session, responder, principal=request.principal)
        if quick is None:
            runner.feed(session, body, out)
        elif type(quick) is bytes:
            out.finish(quick)
        else:
            runner.call(session, quick, out)  # type: ignore[arg-type]

    def _check_media(
        self, media: tuple[bytes, bytes, bytes | None], request: HttpRequest, responder: Responder
    ) -> bool:
        """Content-Type, Accept and protocol version of a POST."""
        content_type, accept, _ = media
        if not is_json(content_type):
            message = "Unsupported Media Type: Content-Type must be application/json"
            responder.respond(415, [JSON], _error_body(rpc.INVALID_REQUEST, message))
            return False
        if not accepts_json_and_sse(accept):
            message = "Not Acceptable: Accept must list application/json and text/event-stream"
            responder.respond(406, [JSON], _error_body(rpc.INVALID_REQUEST, message))
            return False
        return self._check_version(request, responder)

    def _initialize(self, request: HttpRequest, responder: Responder) -> None:
        """A POST without a session id must be initialize; anything else allocates nothing."""
        session = ServerSession(self.server.profile)
        action = session.receive(request.body)
        if type(action) is Reply and session.state.phase == INITIALIZING:
            if request.principal is not None:
                session.state.principal_key = request.principal.key
            if self.sessions.full():
                body = _error_body(rpc.INVALID_REQUEST, "Too many sessions; retry later")
                responder.respond(503, [JSON, (b"retry-after", b"5")], body)
                return
            try:
                session_id = self.sessions.add(session)
            except SessionRefused as refused:
                retry = [(b"retry-after", b"5")] if refused.status == 503 else []
                body = _error_body(rpc.INVALID_REQUEST, refused.message)
                responder.respond(refused.status, [JSON, *retry], body)
                return
            self._attach(session_id, session)
            responder.respond(200, [JSON, (b"mcp-session-id", session_id.encode())], action.data)
            return
        if type(action) is Reply and action.invalid:
            responder.respond(400, [JSON], action.data)
            return
        message = "Bad Request: Mcp-Session-Id header is required (send initialize first)"
        responder.respond(400, [JSON], _error_body(rpc.INVALID_REQUEST, message))

    def _attach(self, session_id: str, session: ServerSession) -> None:
        self._attached[session_id] = session
        self.server.hub.attach(session, lambda data: self.notify(session_id, data))

    def open_stream(self, session: ServerSession, responder: Responder, headers: Headers) -> LiveStream:
        session_id = session.state.session_id
        stream = LiveStream(self, session_id, secrets.token_hex(8) + self.stream_tag)
        stream.attach(responder.start_stream(200, [*SSE_HEADERS, *headers]))
        if session_id:
            self._streams[(session_id, stream.stream_id)] = stream
        if session.revision.has_sse_polling:
            stream.prime()  # older clients do not expect empty events
        return stream

    def forget_stream(self, stream: LiveStream) -> None:
        self._streams.pop((stream.session_id, stream.stream_id), None)
        if self._get_streams.get(stream.session_id) is stream:
            del self._get_streams[stream.session_id]

    # -- GET: the standalone stream and resumption ---------------------------------------------------------

    def _get(self, request: HttpRequest, responder: Responder) -> None:
        headers = request.headers
        if not self.settings.enable_get_stream or self.settings.stateless:
            responder.respond(
                405,
                [(b"allow", b"POST, DELETE"), JSON],
                _error_body(rpc.INVALID_REQUEST, "Method not allowed"),
            )
            return
        if not accepts_sse(headers.get("accept", b"")):
            message = "Not Acceptable: Accept must list text/event-stream"
            responder.respond(406, [JSON], _error_body(rpc.INVALID_REQUEST, message))
            return
        if not self._check_version(request, responder):
            return
        session_id = _text(headers, "mcp-session-id")
        if session_id is None:
            message = "Bad Request: Mcp-Session-Id header is required"
            responder.respond(400, [JSON], _error_body(rpc.INVALID_REQUEST, message))
            return
        session = self.sessions.get(session_id)
        if session is None or not _bound_to(session, request):
            responder.respond(404, [JSON], _error_body(rpc.INVALID_REQUEST, "Session not found"))
            return
        live = sum(1 for key in self._streams if key[0] == session_id)
        if live >= self.settings.max_streams_per_session:
            message = f"Too many SSE streams for this session (limit {self.settings.max_streams_per_session})"
            responder.respond(429, [JSON, (b"retry-after", b"1")], _error_body(rpc.INVALID_REQUEST, message))
            return
        last_event_id = _text(headers, "last-event-id")
        if last_event_id is not None:
            self._resume(session_id, last_event_id, responder)
            return
        previous = self._get_streams.get(session_id)
        if previous is not None:
            if previous.conn is not None and not previous.conn.closed:
                message = "Conflict: this session already has a standalone SSE stream"
                responder.respond(409, [JSON], _error_body(rpc.INVALID_REQUEST, message))
                return
            previous.end()  # its connection is gone and the client opens a new stream instead of resuming
        stream = LiveStream(self, session_id, "g" + secrets.token_hex(8))
        stream.attach(responder.start_stream(200, list(SSE_HEADERS)))
        self._streams[(session_id, stream.stream_id)] = stream
        self._get_streams[session_id] = stream
        if self.on_get_stream is not None:
            self.on_get_stream(session_id)
        if session.revision.has_sse_polling:
            stream.prime()

    def _resume(self, session_id: str, last_event_id: str, responder: Responder) -> None:
        replay = self.events.replay(session_id, last_event_id)
        if replay is None:
            message = f"Unknown or expired Last-Event-ID: {last_event_id}"
            responder.respond(404, [JSON], _error_body(rpc.INVALID_REQUEST, message))
            return
        stream_id, events, ended = replay
        conn = responder.start_stream(200, list(SSE_HEADERS))
        write_events(conn, events)
        live = self._streams.get((session_id, stream_id))
        if live is None and not ended and stream_id.startswith("g") and self.on_get_stream is not None:
            # A standalone stream whose worker died or let it go: this worker carries it on (same stream id,
            # so its events continue the sequence in the shared event log).
            live = LiveStream(self, session_id, stream_id)
            self._streams[(session_id, stream_id)] = live
        if live is None and not ended and self.follow_stream is not None:
            # Another worker writes this stream: follow the shared event log until the stream ends.
            self.follow_stream(session_id, stream_id, conn, events[-1][0] if events else last_event_id)
            return
        if ended or live is None:
            conn.close()
            return
        live.attach(conn)
        if stream_id.startswith("g"):
            live.resumed(events[-1][0] if events else last_event_id)
            self._get_streams[session_id] = live
            if self.on_get_stream is not None:
                self.on_get_stream(session_id)

    def notify(self, session_id: str, data: bytes) -> bool:
        """A message unrelated to any request: it goes on the standalone GET stream, if one is open.
        False: no stream took it (a task's messages then wait for the client's tasks/result)."""
        stream = self._get_streams.get(session_id)
        if stream is not None:
            stream.send(data)
            return True
        if self.forward_notify is not None:
            return bool(self.forward_notify(session_id, data))  # the stream may be held by another worker
        return False

    # -- DELETE and expiry ---------------------------------------------------------------------------------

    def _delete(self, request: HttpRequest, responder: Responder) -> None:
        if not self._check_version(request, responder):
            return  # before the session ends: a refused DELETE leaves it alone
        session_id = _text(request.headers, "mcp-session-id")
        if session_id is None:
            message = "Bad Request: Mcp-Session-Id header is required"
            responder.respond(400, [JSON], _error_body(rpc.INVALID_REQUEST, message))
            return
        bound = self.sessions.get(session_id)
        if bound is not None and not _bound_to(bound, request):
            responder.respond(404, [JSON], _error_body(rpc.INVALID_REQUEST, "Session not found"))
            return
        session = self.sessions.remove(session_id)
        if session is None:
            responder.respond(404, [JSON], _error_body(rpc.INVALID_REQUEST, "Session not found"))
            return
        self._end_session(session_id, session)
        responder.respond(200, [], b"")

    def _end_session(self, session_id: str, session: ServerSession | None, announce: bool = True) -> None:
        if announce and self.on_session_end is not None:
            self.on_session_end(session_id)
        session = self._attached.pop(session_id, None) or session
        if session is not None:
            self.server.hub.detach(session)
            for request_id, handle in list(session.inflight.items()):
                out = handle._out if isinstance(handle, Context) else None
                if type(out) is PostOutbound:
                    out.request_id = request_id  # for its 404
                handle.cancel()
        for key, stream in list(self._streams.items()):
            if key[0] == session_id:
                stream.end()
        self.events.drop_session(session_id)

    def _schedule_sweep(self) -> None:
        interval = max(1.0, min(60.0, self.settings.idle_timeout / 4))
        self._sweeper = asyncio.get_running_loop().call_later(interval, self._sweep)

    def _sweep(self) -> None:
        for session_id in self.sessions.expire():
            self._end_session(session_id, None)
        expire_events = getattr(self.events, "expire", None)
        if expire_events is not None:
            expire_events()
        self._schedule_sweep()

    async def settle(self, timeout: float) -> None:
        """Stopping, once the connections are closed: the handlers still running (their client went away
        mid-request) get until `timeout`, then are cancelled, while the stores they answer into are open."""
        if self._runner is not None:
            await self._runner.settle(timeout)

    def close(self) -> None:
        """Stop: tell every SSE client when to come back, and close."""
        if self._sweeper is not None:
            self._sweeper.cancel()
        for stream in list(self._streams.values()):
            stream.close_connection()
        for session in self.sessions:
            self.server.hub.detach(session)
