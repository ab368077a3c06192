"""The modern era's session (MCP 2026-07-28): every request stands alone. Bytes in, actions out.

There is no initialize handshake and nothing outlives a request (basic/index.mdx "Statelessness"): each
request carries its protocol version and the client's capabilities in `params._meta`, and `ModernSession`
is built for one request, checks that envelope, and classifies the request as the legacy session does.
What differs from a legacy session, and only that, lives here:

- the envelope: `_meta` protocolVersion and clientCapabilities are required (-32602), an unknown version
  is -32022 with the supported ones, clientInfo and logLevel are optional and apply to this request only;
- the methods: the revision's (`Revision.has_method`): initialize, ping, logging/setLevel, subscriptions
  and tasks are gone, server/discover is new; a missing one is -32601;
- results: `resultType`, `_meta` serverInfo, and `ttlMs`/`cacheScope` where the schema requires them;
- multi round-trip requests: the retry's `inputResponses` and sealed `requestState` (request_state.py).

`status` tells an HTTP transport which status a refusal takes (400, 404); transports without statuses
ignore it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import msgspec

from runtime.protocol import jsonrpc as rpc
from runtime.protocol import types as t
from runtime.protocol.core import Action, Call, Reply, ServerSession, in_flight_error
from runtime.protocol.request_state import StateInvalid, request_digest
from runtime.protocol.state import LOG_LEVELS, OPERATING, SessionState
from runtime.protocol.versions import MODERN, SUPPORTED_VERSIONS, revision

if TYPE_CHECKING:
    from runtime.protocol.core import ServerProfile

META_VERSION = "io.modelcontextprotocol/protocolVersion"
META_CAPABILITIES = "io.modelcontextprotocol/clientCapabilities"
META_CLIENT = "io.modelcontextprotocol/clientInfo"
META_LOG_LEVEL = "io.modelcontextprotocol/logLevel"
META_SERVER = "io.modelcontextprotocol/serverInfo"
META_SUBSCRIPTION = "io.modelcontextprotocol/subscriptionId"

# Above every level: a request that names no logLevel gets no notifications/message (logging.mdx).
SILENT = max(LOG_LEVELS.values()) + 1
# The results that must say how long they may be cached (schema.ts `CacheableResult`).
CACHEABLE = frozenset(
    {
        "tools/list",
        "prompts/list",
        "resources/list",
        "resources/templates/list",
        "resources/read",
        "server/discover",
    }
)
# The requests that may answer with an InputRequiredResult (mrtr.mdx "Supported Requests").
INPUT_CAPABLE = frozenset({"tools/call", "prompts/get", "resources/read"})


class _Params(msgspec.Struct, kw_only=True):
    meta: dict[str, Any] | None = msgspec.field(default=None, name="_meta")


class DiscoverRequest(msgspec.Struct, kw_only=True):
    jsonrpc: str
    id: int | str
    method: str
    params: _Params | None = None


class _Notifications(msgspec.Struct, kw_only=True):
    tools_list_changed: bool = msgspec.field(default=False, name="toolsListChanged")
    prompts_list_changed: bool = msgspec.field(default=False, name="promptsListChanged")
    resources_list_changed: bool = msgspec.field(default=False, name="resourcesListChanged")
    resource_subscriptions: list[str] = msgspec.field(default_factory=list, name="resourceSubscriptions")


class _ListenParams(msgspec.Struct, kw_only=True):
    meta: dict[str, Any] | None = msgspec.field(default=None, name="_meta")
    notifications: _Notifications = msgspec.field(default_factory=_Notifications)


class ListenRequest(msgspec.Struct, kw_only=True):
    jsonrpc: str
    id: int | str
    method: str
    params: _ListenParams


class _UpdateParams(msgspec.Struct, kw_only=True):
    meta: dict[str, Any] | None = msgspec.field(default=None, name="_meta")
    task_id: str = msgspec.field(name="taskId")
    input_responses: dict[str, dict[str, Any]] = msgspec.field(default_factory=dict, name="inputResponses")


class TaskUpdateRequest(msgspec.Struct, kw_only=True):
    jsonrpc: str
    id: int | str
    method: str
    params: _UpdateParams


MODERN_REQUESTS: dict[str, type] = {
    "server/discover": DiscoverRequest,
    "subscriptions/listen": ListenRequest,
    "tasks/update": TaskUpdateRequest,  # the tasks extension (runtime/server/task_extension.py)
}


def supported_error(request_id: rpc.RequestId | None, requested: str) -> bytes:
    """UnsupportedProtocolVersionError (versioning.mdx): the versions this server speaks, and the one
    asked for."""
    data = {"supported": list(SUPPORTED_VERSIONS), "requested": requested}
    return rpc.error_message(
        request_id, rpc.UNSUPPORTED_PROTOCOL_VERSION, "Unsupported protocol version", data
    )


def error_status(data: bytes) -> int:
    """The HTTP status of a modern response (streamable-http.mdx): 404 for an unknown method, 400 for the
    modern protocol errors and for requests refused as malformed, 200 otherwise (a tool's own error too)."""
    at = data.find(b'"error":{"code":', 0, 200)
    if at < 0:
        return 200
    code = data[at + 16 : at + 22]
    if code == b"-32601":
        return 404
    if code in (b"-32020", b"-32021", b"-32022", b"-32600", b"-32700"):
        return 400
    return 200


def result_envelope(profile: ServerProfile, method: str, body: bytes) -> bytes:
    """A result as the modern revision has it: `resultType`, the server's identity, cache hints."""
    if body.find(b'"_meta"') >= 0:  # the result has its own _meta somewhere: merge exactly
        decoded = rpc.decode_any(body)
        if isinstance(decoded, dict):
            decoded.setdefault("resultType", "complete")
            meta = decoded.get("_meta")
            if isinstance(meta, dict):
                meta.setdefault(META_SERVER, profile.server_info)
            else:
                decoded["_meta"] = {META_SERVER: profile.server_info}
            if method in CACHEABLE:
                decoded.setdefault("ttlMs", profile.list_ttl_ms)
                decoded.setdefault("cacheScope", "public")
            return rpc.encode(decoded)
    parts = [profile.modern_meta]
    if body.find(b'"resultType"') < 0:
        parts.append(b'"resultType":"complete"')
    if method in CACHEABLE and body.find(b'"ttlMs"') < 0:
        parts.append(profile.cache_hint)
    rest = body[1:].lstrip()
    if rest != b"}":
        parts.append(rest[:-1] if rest.endswith(b"}") else rest)
    return b"{" + b",".join(parts) + b"}"


def error_response(request_id: rpc.RequestId, exc: rpc.McpError) -> bytes:
    """The error response to a modern request whose handler raised `exc`."""
    if exc.code == rpc.RESOURCE_NOT_FOUND:  # renumbered in 2026-07-28 (basic/index.mdx "Error Codes")
        return rpc.error_message(request_id, rpc.INVALID_PARAMS, exc.message, exc.data)
    if exc.code == rpc.URL_ELICITATION_REQUIRED:  # 2025-11-25 only: the modern way is an input request
        return rpc.error_message(request_id, rpc.INVALID_PARAMS, exc.message, exc.data)
    return rpc.error_from_exception(request_id, exc)


_MODERN_REVISION = revision(MODERN)


class ModernSession(ServerSession):
    """One modern request's session. `principal` names the caller a sealed requestState is bound to (the
    authenticated subject once authorization is on; "" without it)."""

    __slots__ = ("_key", "_salient", "inputs", "principal", "round_values", "status", "used_inputs")
    standalone = True

    def __init__(self, profile: ServerProfile, principal: str = "", inflight: Any = None) -> None:
        # ServerSession.__init__'s fields, set here: one of these is built for every modern request.
        self.profile = profile
        self.state = SessionState(phase=OPERATING, protocol_version=MODERN, log_level=SILENT)
        # stdio: one connection's requests share an in-flight table
        self.inflight: dict[rpc.RequestId, Any] = {} if inflight is None else inflight
        self.outstanding: dict[rpc.RequestId, Any] = {}
        self.revision = _MODERN_REVISION
        self._next_id = 0
        self.principal = principal
        self.status = 200
        self.inputs: dict[str, Any] = {}  # input responses by key: earlier rounds' and this retry's
        self.used_inputs: dict[str, Any] = {}  # the answers the handler read: what the next state carries
        self.round_values: dict[str, Any] = {}
        self._salient: tuple[str, Any] = ("", None)
        self._key: str | None = None

    def receive(self, data: bytes | memoryview) -> Action:
        try:
            raw = rpc.decode_any(data)
        except (msgspec.DecodeError, UnicodeDecodeError) as exc:
            self.status = 400
            return Reply(rpc.error_message(None, rpc.PARSE_ERROR, f"Parse error: {exc}"), invalid=True)
        except RecursionError:
            self.status = 400
            return Reply(
                rpc.error_message(None, rpc.INVALID_REQUEST, "Invalid request: nested too deeply"), True
            )
        if not rpc.valid_utf8(data):
            self.status = 400
            return Reply(rpc.error_message(None, rpc.PARSE_ERROR, rpc.INVALID_UTF8), invalid=True)
        return self.classify(raw)

    def _refuse(
        self, request_id: rpc.RequestId, code: int, message: str, status: int, data: Any = None
    ) -> Reply:
        self.status = status
        return Reply(rpc.error_message(request_id, code, message, data))

    def classify(self, raw: Any) -> Action:
        if not isinstance(raw, dict) or "id" not in raw or not isinstance(raw.get("method"), str):
            action = super().classify(raw)  # notifications, responses and invalid messages: as ever
            if isinstance(action, Reply) and action.invalid:
                self.status = 400
            return action
        request_id = raw["id"]
        method = raw["method"]
        if raw.get("jsonrpc") != "2.0" or not rpc.valid_id(request_id):
            self.status = 400
            return super().classify(raw)
        params = raw.get("params")
        meta = params.get("_meta") if isinstance(params, dict) else None
        refused = self.check_envelope(request_id, meta)
        if refused is not None:
            return refused
        if not self.revision.has_method(method):
            return self._refuse(request_id, rpc.METHOD_NOT_FOUND, f"Method not found: {method}", 404)
        route = self.profile.available_by[MODERN].get(method)
        known = t.CLIENT_REQUESTS.get(method) or MODERN_REQUESTS.get(method)
        if route is None or known is None:
            return self._refuse(request_id, rpc.METHOD_NOT_FOUND, f"Method not found: {method}", 404)
        if request_id in self.inflight:
            return Reply(in_flight_error(request_id))
        try:
            message: Any = msgspec.convert(raw, known)
        except msgspec.ValidationError as exc:
            return self._refuse(request_id, rpc.INVALID_PARAMS, f"Invalid params for {method}: {exc}", 200)
        if method in INPUT_CAPABLE and isinstance(params, dict):
            refused = self._rounds(request_id, method, params)
            if refused is not None:
                return refused
        return Call(route, message, request_id, rpc.encode(request_id))

    def check_envelope(self, request_id: rpc.RequestId, meta: Any) -> Reply | None:
        """The per-request fields (basic/index.mdx `_meta`): required ones present, the version ours."""
        if not isinstance(meta, dict):
            return self._refuse(request_id, rpc.INVALID_PARAMS, "Invalid params: _meta is required", 400)
        return self.check_fields(
            request_id,
            meta.get(META_VERSION),
            meta.get(META_CAPABILITIES),
            meta.get(META_LOG_LEVEL),
            meta.get(META_CLIENT),
        )

    def check_fields(
        self, request_id: rpc.RequestId, version: Any, capabilities: Any, level: Any, client: Any
    ) -> Reply | None:
        """`check_envelope` of the `_meta` fields as read (None: absent); a typed decoder's too (quick.py)."""
        if not isinstance(version, str):
            message = f"Invalid params: _meta[{META_VERSION!r}] is required"
            return self._refuse(request_id, rpc.INVALID_PARAMS, message, 400)
        if not isinstance(capabilities, dict):
            message = f"Invalid params: _meta[{META_CAPABILITIES!r}] is required (an object)"
            return self._refuse(request_id, rpc.INVALID_PARAMS, message, 400)
        if version != MODERN:
            self.status = 400
            return Reply(supported_error(request_id, version))
        if level is not None:
            if level not in LOG_LEVELS:
                message = f"Invalid params: _meta[{META_LOG_LEVEL!r}] must be a logging level"
                return self._refuse(request_id, rpc.INVALID_PARAMS, message, 400)
            self.state.log_level = LOG_LEVELS[level]
        state = self.state
        state.client_capabilities = capabilities
        state.client_info = client if isinstance(client, dict) else None
        return None

    def _rounds(self, request_id: rpc.RequestId, method: str, params: dict[str, Any]) -> Reply | None:
        """A retry's input responses and request state (mrtr.mdx), checked before the handler runs."""
        salient = (
            params.get("uri") if method == "resources/read" else [params.get("name"), params.get("arguments")]
        )
        self._salient = (method, salient)
        responses = params.get("inputResponses")
        sealed = params.get("requestState")
        if responses is not None and (
            not isinstance(responses, dict) or not all(isinstance(v, dict) for v in responses.values())
        ):
            message = "Invalid params: inputResponses must map each input request's key to its result object"
            return self._refuse(request_id, rpc.INVALID_PARAMS, message, 200)
        if sealed is not None:
            sealer = self.profile.sealer
            if not isinstance(sealed, str) or sealer is None:
                return self._refuse(
                    request_id, rpc.INVALID_PARAMS, "Invalid params: requestState is not valid", 200
                )
            try:
                answers, values = sealer.open(sealed, self.request_key, self.principal)
            except StateInvalid as exc:
                return self._refuse(request_id, rpc.INVALID_PARAMS, f"Invalid params: {exc}", 200)
            self.inputs.update(answers)
            self.round_values = values
        if responses:
            self.inputs.update(responses)
        return None

    @property
    def request_key(self) -> str:
        """What a requestState is bound to (computed when a state is opened or sealed: most requests have
        none)."""
        if self._key is None:
            self._key = request_digest(*self._salient)
        return self._key

    # -- outbound ------------------------------------------------------------------------------------------

    def result(self, call: Call, result: Any) -> bytes:
        self.inflight.pop(call.id, None)
        body = result if type(result) is bytes else (b"{}" if result is None else rpc.encode(result))
        return rpc.result_message(call.id_json, result_envelope(self.profile, call.route.method, body))

    def envelope(self, method: str, body: bytes) -> bytes:
        return result_envelope(self.profile, method, body)

    def input_required(self, call: Call, requests: dict[str, Any] | None) -> bytes:
        """The InputRequiredResult that ends this round (mrtr.mdx): what the handler asks for, and the sealed
        state that gives the next round the answers this one read and the values it kept."""
        self.inflight.pop(call.id, None)
        result: dict[str, Any] = {"resultType": "input_required"}
        if requests:
            result["inputRequests"] = requests
        sealer = self.profile.sealer
        if sealer is not None:
            try:
                sealed = sealer.seal(self.request_key, self.principal, self.used_inputs, self.round_values)
            except StateInvalid as exc:
                return rpc.error_message(call.id, rpc.INTERNAL_ERROR, str(exc))
            result["requestState"] = sealed
        body = rpc.encode(result)
        return rpc.result_message(call.id_json, b"{" + self.profile.modern_meta + b"," + body[1:])

    def error(self, call: Call, exc: rpc.McpError) -> bytes:
        self.inflight.pop(call.id, None)
        return error_response(call.id, exc)

    def wants_log(self, level: str) -> bool:
        return LOG_LEVELS.get(level, 0) >= self.state.log_level

    def set_log_level(self, level: str) -> None:  # per request only (the _meta logLevel)
        self.state.log_level = LOG_LEVELS[level]
