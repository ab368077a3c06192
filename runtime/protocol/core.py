"""The sans-io server session: bytes in, actions out. No sockets, no tasks, no clocks.

A transport feeds each received message to `ServerSession.receive` and acts on what comes back:

- `Reply(data)`: send these bytes (a response or an error) now;
- `Call(route, message)`: run the route's handler (the runner does it), then send `session.result(...)`;
- `Cancel(request_id, reason)`: cancel the handler of an in-flight request;
- `Answer(request_id, result, error)`: the peer answered a request this side sent (sampling, roots, ...);
- `Notice(method, params)`: any other notification (roots/list_changed, tasks/status, ...);
- `Batch(messages)`: a JSON-RPC batch (revisions that have them): the runner acts on
  `session.classify(message)` for each, in order, and answers with the array of their responses;
- `None`: nothing to do.

The session record (`SessionState`) is the only state that outlives a message; the `inflight` table is
per-process bookkeeping of handlers running here.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, cast

import msgspec

from runtime.protocol import downgrade
from runtime.protocol import jsonrpc as rpc
from runtime.protocol import types as t
from runtime.protocol.state import INITIALIZING, LOG_LEVELS, NEW, OPERATING, SessionState
from runtime.protocol.versions import (
    LATEST,
    MODERN,
    REVISIONS,
    SUPPORTED_VERSIONS,
    Revision,
    negotiate,
    revision,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from runtime.protocol.request_state import StateSealer


class Route:
    """How the server serves one client method: the capability it needs and the handler that runs it. A
    session whose revision lacks the capability (tasks, completions) gets "Method not found".

    `handler(call_context, params)` returns the result as a msgspec Struct, a dict, or already-encoded JSON
    (`bytes`), or an awaitable of one of those.
    """

    __slots__ = ("capability", "handler", "method")

    def __init__(self, method: str, capability: str | None, handler: Callable[..., Any]):
        self.method = method
        self.capability = capability
        self.handler = handler


class Reply:
    """Bytes to send now. `invalid`: the input could not be read as a message at all (HTTP answers 400)."""

    __slots__ = ("data", "invalid")

    def __init__(self, data: bytes, invalid: bool = False) -> None:
        self.data = data
        self.invalid = invalid


class Call(msgspec.Struct, gc=False, eq=False):
    """Run `route`'s handler for `message` (a request whose id is `id`, `id_json` encoded). A Struct: made
    in C, once per request."""

    route: Route
    message: Any
    id: rpc.RequestId
    id_json: bytes


class Cancel:
    __slots__ = ("handle", "reason", "request_id")

    def __init__(self, request_id: rpc.RequestId, reason: str | None, handle: Any) -> None:
        self.request_id = request_id
        self.reason = reason
        self.handle = handle


class Answer:
    __slots__ = ("error", "request_id", "result")

    def __init__(self, request_id: rpc.RequestId, result: Any, error: Any) -> None:
        self.request_id = request_id
        self.result = result
        self.error = error


class Notice:
    __slots__ = ("method", "params")

    def __init__(self, method: str, params: Any) -> None:
        self.method = method
        self.params = params


class Batch:
    """A JSON-RPC batch of a revision that has them: its messages, decoded, not yet classified (each is
    classified when its turn comes, so a request id in flight from an earlier one is seen)."""

    __slots__ = ("messages",)

    def __init__(self, messages: list[Any]) -> None:
        self.messages = messages


Action = Reply | Call | Cancel | Answer | Notice | Batch | None
# The most messages one batch may carry by default (`Server(max_batch_messages=...)`): each may start a
# handler, so one POST or line must not start an unbounded number of them.
MAX_BATCH_MESSAGES = 1000

_client_decoder = msgspec.json.Decoder(t.ClientMessage)
_EMPTY_RESULT = b"{}"
_TAGS: dict[type, str] = {cls: name for name, cls in {**t.CLIENT_REQUESTS, **t.CLIENT_NOTIFICATIONS}.items()}


class ServerProfile:
    """What the session core needs to know about the server: its routes, capabilities and identity.

    Built once per `Server` (and rebuilt when its capabilities change); shared by all sessions.
    """

    __slots__ = (
        "_discover",
        "_init_cache",
        "_standalone",
        "available",
        "available_by",
        "cache_hint",
        "capabilities",
        "instructions",
        "list_ttl_ms",
        "max_batch",
        "modern_meta",
        "modern_routes",
        "routes",
        "sealer",
        "server_info",
    )

    def __init__(
        self,
        routes: dict[str, Route],
        capabilities: dict[str, Any],
        server_info: dict[str, Any],
        instructions: str | None,
        max_batch: int = MAX_BATCH_MESSAGES,
        sealer: StateSealer | None = None,
        list_ttl_ms: int = 0,
        modern_routes: dict[str, Route] | None = None,
    ) -> None:
        self.max_batch = max_batch
        self.routes = routes
        self.sealer = sealer  # seals the requestState of modern multi round-trip requests
        self.list_ttl_ms = list_ttl_ms  # the ttlMs of modern list results (0: re-fetch at will)
        # The routes whose capability the server declares, as each revision has the capabilities: one
        # lookup per request.
        self.available_by: dict[str, dict[str, Route]] = {}
        for version, rev in REVISIONS.items():
            offered = downgrade.capabilities(capabilities, rev)
            self.available_by[version] = {
                method: route
                for method, route in routes.items()
                if (route.capability is None or route.capability in offered) and rev.has_method(method)
            }
        # Routes only the modern revision has, or has otherwise (the tasks extension's).
        self.modern_routes = modern_routes or {}
        self.available_by[MODERN].update(self.modern_routes)
        self.available = self.available_by[LATEST]
        self.capabilities = capabilities
        self.server_info = server_info
        self.instructions = instructions
        self._init_cache: dict[str, bytes] = {}
        self._standalone: ServerProfile | None = None
        self._discover: bytes | None = None
        # What every modern result carries, encoded once (runtime/protocol/modern.py).
        modern_info = downgrade.server_info(server_info, REVISIONS[MODERN])
        self.modern_meta = b'"_meta":' + rpc.encode({"io.modelcontextprotocol/serverInfo": modern_info})
        self.cache_hint = b'"ttlMs":' + str(list_ttl_ms).encode() + b',"cacheScope":"public"'

    def standalone(self) -> ServerProfile:
        """The profile for sessionless serving (Streamable HTTP `--stateless`): no tasks. A task is bound to
        the session that made it (tasks.mdx "Security"), and without sessions nothing would bind it, so its
        id alone would let anyone read it; nor could the client ever read it back from a one-request
        session. So the capability is not offered, and task-augmented calls run as plain calls."""
        if self._standalone is None:
            capabilities = {k: v for k, v in self.capabilities.items() if k != "tasks"}
            self._standalone = ServerProfile(
                self.routes,
                capabilities,
                self.server_info,
                self.instructions,
                self.max_batch,
                self.sealer,
                self.list_ttl_ms,
                self.modern_routes,
            )
        return self._standalone

    def modern_capabilities(self) -> dict[str, Any]:
        """What server/discover declares: the core capabilities of 2026-07-28, and the tasks extension in
        place of the core `tasks` when the server has tools that run as tasks."""
        capabilities = dict(downgrade.capabilities(self.capabilities, REVISIONS[MODERN]))
        if "tasks/update" in self.modern_routes:
            extensions = dict(capabilities.get("extensions") or {})
            extensions["io.modelcontextprotocol/tasks"] = {}
            capabilities["extensions"] = extensions
        return capabilities

    def discover_result(self) -> bytes:
        """server/discover (2026-07-28 server/discover.mdx): versions, capabilities, instructions; the
        session adds resultType, serverInfo and the cache hint as to every modern result."""
        if self._discover is None:
            result: dict[str, Any] = {
                "supportedVersions": list(SUPPORTED_VERSIONS),
                "capabilities": self.modern_capabilities(),
            }
            if self.instructions:
                result["instructions"] = self.instructions
            self._discover = rpc.encode(result)
        return self._discover

    def initialize_result(self, version: str) -> bytes:
        cached = self._init_cache.get(version)
        if cached is None:
            rev = revision(version)
            result: dict[str, Any] = {
                "protocolVersion": version,
                "capabilities": downgrade.capabilities(self.capabilities, rev),
                "serverInfo": downgrade.server_info(self.server_info, rev),
            }
            if self.instructions:
                result["instructions"] = self.instructions
            cached = self._init_cache[version] = rpc.encode(result)
        return cached


class ServerSession:
    """One session's protocol logic. Cheap to build: a transport may build one per message around a stored
    record, or keep one for a long-lived connection."""

    __slots__ = ("_next_id", "inflight", "outstanding", "profile", "revision", "state")
    # True for a session that serves one request and is gone (stateless HTTP): initialize may come at any
    # time and is answered without changing anything that outlives the request.
    standalone = False

    def __init__(self, profile: ServerProfile, state: SessionState | None = None) -> None:
        self.profile = profile
        self.state = state if state is not None else SessionState(created_at=time.time())
        self.inflight: dict[rpc.RequestId, Any] = {}
        # Requests this server sent to the client and still waits for: id -> future.
        self.outstanding: dict[rpc.RequestId, Any] = {}
        self.revision: Revision = revision(self.state.protocol_version)
        self._next_id = 0

    # -- inbound -------------------------------------------------------------------------------------------

    def receive(self, data: bytes | memoryview) -> Action:
        try:
            message = _client_decoder.decode(data)
        except (msgspec.ValidationError, msgspec.DecodeError):
            return self._receive_slow(data)
        except RecursionError:  # transports refuse deep nesting first (runtime/protocol/scan.py)
            return Reply(
                rpc.error_message(None, rpc.INVALID_REQUEST, "Invalid request: nested too deeply"), True
            )
        if not rpc.valid_utf8(data):
            return Reply(rpc.error_message(None, rpc.PARSE_ERROR, rpc.INVALID_UTF8), invalid=True)
        return self._dispatch(message)

    def _dispatch(self, message: Any) -> Action:
        method = _TAGS[type(message)]
        request_id = getattr(message, "id", None)
        if request_id is None:
            return self._notification(method, message)
        if method == "initialize":
            if self.state.phase != OPERATING or self.standalone:
                return self._initialize(message)
            return Reply(rpc.error_message(request_id, rpc.INVALID_REQUEST, "Session is already initialized"))
        return self.admit(method, message, request_id)

    def admit(self, method: str, message: Any, request_id: rpc.RequestId) -> Call | Reply:
        """The checks every request of a session passes, whichever decoder read it (runtime/server/quick.py's
        too): the session initialized (or initializing), the method in its revision and capabilities, the
        id not in flight. The `Call` to run, or the refusal."""
        if self.state.phase == NEW and method != "ping":
            text = f"Received {method!r} before initialize"
            return Reply(rpc.error_message(request_id, rpc.INVALID_REQUEST, text))
        # INITIALIZING: the client may already send requests after reading the initialize result.
        route = self.profile.available_by[self.revision.version].get(method)
        if route is None:
            return Reply(rpc.error_message(request_id, rpc.METHOD_NOT_FOUND, f"Method not found: {method}"))
        if request_id in self.inflight:
            return Reply(in_flight_error(request_id))
        return Call(route, message, request_id, rpc.encode(request_id))

    def _initialize(self, message: t.InitializeRequest) -> Reply:
        params = message.params
        state = self.state
        version = negotiate(params.protocol_version)
        state.protocol_version = version
        state.client_info = msgspec.to_builtins(params.client_info)
        state.client_capabilities = msgspec.to_builtins(params.capabilities) or {}
        state.phase = INITIALIZING
        self.revision = revision(version)
        return Reply(rpc.result_message(rpc.encode(message.id), self.profile.initialize_result(version)))

    def _notification(self, method: str, message: Any) -> Action:
        if method == "notifications/initialized":
            if self.state.phase != INITIALIZING:
                return None
            self.state.phase = OPERATING
            return Notice(method, None)  # requests to the client held until now may go (lifecycle.mdx)
        if method == "notifications/cancelled":
            params = message.params
            request_id = params.request_id
            if request_id is None:
                return None
            # handle None: not running here (finished, unknown, or running in another worker process); the
            # runner ignores it or passes it on (cancellation.mdx: race conditions are ignored).
            return Cancel(request_id, params.reason, self.inflight.get(request_id))
        return Notice(method, getattr(message, "params", None))

    def _receive_slow(self, data: bytes | memoryview) -> Action:
        """Classify a message the typed decoder rejected, to answer with the most precise error."""
        try:
            raw = rpc.decode_any(data)
        except (msgspec.DecodeError, UnicodeDecodeError) as exc:
            return Reply(rpc.error_message(None, rpc.PARSE_ERROR, f"Parse error: {exc}"), invalid=True)
        except RecursionError:
            return Reply(
                rpc.error_message(None, rpc.INVALID_REQUEST, "Invalid request: nested too deeply"), True
            )
        if isinstance(raw, list):
            return self._batch(raw)
        return self.classify(raw)

    def _batch(self, messages: list[Any]) -> Action:
        if not self.revision.has_batches:
            message = f"Batch requests are not supported by MCP {self.revision.version}"
            return Reply(rpc.error_message(None, rpc.INVALID_REQUEST, message), invalid=True)
        if not messages:
            return Reply(rpc.error_message(None, rpc.INVALID_REQUEST, "Invalid request: empty batch"), True)
        if len(messages) > self.profile.max_batch:
            limit = self.profile.max_batch
            message = f"Invalid request: batch of {len(messages)} messages; the limit is {limit}"
            return Reply(rpc.error_message(None, rpc.INVALID_REQUEST, message), invalid=True)
        return Batch(messages)

    def classify_in_batch(self, raw: Any) -> Action:
        """The action for one message of a `Batch`."""
        if isinstance(raw, dict) and raw.get("method") == "initialize" and "id" in raw:
            request_id = raw["id"] if rpc.valid_id(raw["id"]) else None
            message = "Invalid request: initialize must not be part of a JSON-RPC batch"
            return Reply(rpc.error_message(request_id, rpc.INVALID_REQUEST, message))
        return self.classify(raw)

    def classify(self, raw: Any) -> Action:
        """The action for one decoded message (a batch's, or one the typed decoder rejected)."""
        if not isinstance(raw, dict) or raw.get("jsonrpc") != "2.0":
            message = 'Invalid request: expected a "jsonrpc": "2.0" object'
            return Reply(rpc.error_message(None, rpc.INVALID_REQUEST, message), invalid=True)
        has_id = "id" in raw
        request_id = raw.get("id")
        if has_id and not rpc.valid_id(request_id):
            message = "Invalid request: id must be a string or an integer"
            return Reply(rpc.error_message(None, rpc.INVALID_REQUEST, message), invalid=True)
        method = raw.get("method")
        if method is None:
            if has_id and ("result" in raw) != ("error" in raw):
                result = raw.get("result")
                error = raw.get("error")
                if "result" in raw and not isinstance(result, dict):
                    return None  # a malformed response has nobody to answer to
                return Answer(cast(rpc.RequestId, request_id), result, error)  # has_id: checked valid above
            if not has_id:
                return Reply(
                    rpc.error_message(None, rpc.INVALID_REQUEST, "Invalid request: no method"), invalid=True
                )
            return Reply(rpc.error_message(request_id, rpc.INVALID_REQUEST, "Invalid request: no method"))
        if not isinstance(method, str):
            message = "Invalid request: method must be a string"
            return Reply(rpc.error_message(request_id, rpc.INVALID_REQUEST, message), invalid=True)
        known = t.CLIENT_REQUESTS.get(method) if has_id else t.CLIENT_NOTIFICATIONS.get(method)
        if known is None:
            if not has_id:
                return None  # unknown notifications are ignored
            return Reply(rpc.error_message(request_id, rpc.METHOD_NOT_FOUND, f"Method not found: {method}"))
        if "params" in raw and not isinstance(raw["params"], dict):
            problem = "params must be an object"
        else:
            try:
                message = msgspec.convert(raw, known)
            except msgspec.ValidationError as exc:
                problem = str(exc)
            else:
                return self._dispatch(message)
        if not has_id:
            return None  # invalid notifications are ignored
        return Reply(
            rpc.error_message(request_id, rpc.INVALID_PARAMS, f"Invalid params for {method}: {problem}")
        )

    # -- outbound ------------------------------------------------------------------------------------------

    def result(self, call: Call, result: Any) -> bytes:
        """The response for a finished call. `result` is a Struct, a dict or pre-encoded JSON bytes."""
        self.inflight.pop(call.id, None)
        body = result if type(result) is bytes else (_EMPTY_RESULT if result is None else rpc.encode(result))
        return rpc.result_message(call.id_json, body)

    def error(self, call: Call, exc: rpc.McpError) -> bytes:
        self.inflight.pop(call.id, None)
        return rpc.error_from_exception(call.id, exc)

    # Ids of server-to-client requests are n * ID_STRIDE + ID_OFFSET: with several worker processes each has
    # its own offset, so the worker an answer belongs to is `id % ID_STRIDE`, whichever worker receives it.
    ID_STRIDE = 1
    ID_OFFSET = 0

    def next_request_id(self) -> int:
        self._next_id += 1
        return self._next_id * self.ID_STRIDE + self.ID_OFFSET

    def wants_log(self, level: str) -> bool:
        return LOG_LEVELS.get(level, 0) >= self.state.log_level

    def set_log_level(self, level: str) -> None:
        self.state.log_level = LOG_LEVELS[level]


def in_flight_error(request_id: rpc.RequestId) -> bytes:
    """The refusal of a request whose id the session already has in flight (basic/index.mdx: ids are not
    reused within a session), wherever the other request runs."""
    message = f"Request id {request_id!r} is already in flight"
    return rpc.error_message(request_id, rpc.INVALID_REQUEST, message)


class StandaloneSession(ServerSession):
    """A session for one request only (legacy Streamable HTTP `--stateless`): nothing about it is kept. A
    lifecycle mode of the core: it starts operating, at the version the request names, and initialize is
    answered at any time without changing anything."""

    __slots__ = ()
    standalone = True

    @classmethod
    def serving(cls, profile: ServerProfile, version: str) -> StandaloneSession:
        return cls(profile.standalone(), SessionState(phase=OPERATING, protocol_version=version))
