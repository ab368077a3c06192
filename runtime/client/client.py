"""`Client`: connect to an MCP server and call everything it offers.

async with Client(["python", "-m", "runtime", "serve", "--stdio"]) as client:
    result = await client.call_tool("echo", {"text": "hi"})

`Client(server)` (a `Server` object) connects in memory: same process and event loop, no sockets.

Over HTTP a session the server ended (404) is replaced by a new one and the request retried once; answers of
a tool with an `outputSchema` are checked against it; the server's requests are refused (-32602) when they
need a capability the client did not declare.

`protocol_version="2026-07-28"` speaks the modern, stateless revision: `server/discover` first, then every
request carries the `_meta` envelope (and over HTTP the Mcp-* headers); a server that asks for input
(`InputRequiredResult`) gets it from the same sampling, elicitation and roots handlers, and the request is
retried with the answers. A server that turns out to be legacy is spoken to with `initialize` instead.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast, overload

import jsonschema_rs
import msgspec

from runtime.client import modern
from runtime.client.errors import ClientClosed, HttpStatusError, OutputSchemaError, SessionExpired
from runtime.client.listen import Subscription
from runtime.protocol import jsonrpc as rpc
from runtime.protocol import types as t
from runtime.protocol.modern import META_SERVER, META_SUBSCRIPTION
from runtime.protocol.versions import LATEST, SUPPORTED_VERSIONS
from runtime.server.failures import internal_error
from runtime.server.pagination import page
from runtime.server.tools import compile_validator
from runtime.tasks import TaskRunner

if TYPE_CHECKING:
    import ssl

    from runtime.client.auth import OAuth
    from runtime.server.app import Server

__all__ = ["Client", "ClientClosed", "ClientTransport", "OutputSchemaError", "SessionExpired"]

# The server's requests a client may run as tasks, when it declares so (tasks.mdx "Client Capabilities").
TASK_CAPABLE = frozenset({"sampling/createMessage", "elicitation/create"})
SERVER = "server"  # the owner of tasks the server created: a client has one peer

R = TypeVar("R")
ProgressCallback = Callable[[float, float | None, str | None], Any]
NotificationHandler = Callable[[str, Any], Any]
RequestHandler = Callable[[Any], Awaitable[Any] | Any]
DEFAULT_TIMEOUT = 60.0
CLOSE_SECONDS = 5.0  # how long closing waits for the callbacks it cancelled
# How long the server/discover probe waits before taking the server for a legacy one (stdio.mdx
# "Backward Compatibility": a legacy server may not answer an unknown request before initialize).
PROBE_SECONDS = 10.0
MAX_INPUT_ROUNDS = 16  # InputRequiredResults answered for one request before the client gives up
# The server requests an InputRequiredResult may carry (mrtr.mdx "InputRequests").
INPUT_METHODS = frozenset({"sampling/createMessage", "elicitation/create", "roots/list"})


class ClientTransport(Protocol):
    async def start(
        self, on_message: Callable[[bytes], None], on_close: Callable[[BaseException | None], None]
    ) -> None: ...

    async def send(self, data: bytes) -> None: ...

    async def close(self) -> None: ...


class _ReportsLoss(Protocol):
    """A transport that reports a lost session and the requests whose answers were lost with it (HTTP)."""

    on_session_lost: Callable[[str], None]
    on_answer_lost: Callable[[Any, BaseException], None]


class _Incoming(msgspec.Struct):
    """Any message from the server; `params`/`result` stay raw until their type is known."""

    jsonrpc: str = "2.0"
    id: int | str | None = None
    method: str | None = None
    # Raw cannot be part of a union with None in msgspec: an empty Raw stands for "absent".
    params: msgspec.Raw = msgspec.Raw(b"")
    result: msgspec.Raw = msgspec.Raw(b"")
    error: rpc.ErrorBody | None = None


_incoming = msgspec.json.Decoder(_Incoming)
_SUBSCRIPTION_KEY = META_SUBSCRIPTION.encode()
ELICITATION_MODES = ("form", "url")


class Client:
    """An MCP client over stdio (a command list), Streamable HTTP (an http:// or https:// URL) or in memory
    (a `Server` object in this process: see `in_memory`).

    HTTP only: `headers` are sent with every request (they cannot replace the protocol's own headers);
    `verify` is the TLS check of an https:// server (True: the system's CAs, a CA bundle path, False: off,
    or an `ssl.SSLContext`); `auth` an `OAuth` (runtime.client.auth) for a protected server: its tokens
    ride on every request, and a 401 (or 403 insufficient_scope) gets a new one and the request again.
    `validate_output`: check structured tool results against the tool's
    `outputSchema` (raising `OutputSchemaError`)."""

    def __init__(
        self,
        target: str | Sequence[str] | ClientTransport | Server,
        *,
        name: str = "mcprt-client",
        version: str = "0.1.0",
        protocol_version: str = LATEST,
        timeout: float = DEFAULT_TIMEOUT,
        capabilities: dict[str, Any] | None = None,
        on_notification: NotificationHandler | None = None,
        on_log: Callable[[t.LoggingMessageNotificationParams], Any] | None = None,
        roots: list[dict[str, Any]] | None = None,
        roots_handler: RequestHandler | None = None,
        sampling_handler: RequestHandler | None = None,
        sampling_tools: bool = False,
        elicitation_handler: RequestHandler | None = None,
        elicitation_modes: tuple[str, ...] = ELICITATION_MODES,
        accept_tasks: bool = True,
        validate_output: bool = True,
        headers: Mapping[str, str] | None = None,
        verify: bool | str | ssl.SSLContext = True,
        auth: OAuth | None = None,
        env: dict[str, str] | None = None,
        cwd: str | None = None,
    ) -> None:
        self.transport = self._make_transport(target, env, cwd, headers, verify, auth)
        self.client_info = {"name": name, "version": version}
        self.requested_version = protocol_version
        # What initialize asks for: any version but a modern one, which has no handshake (the server
        # answers an unknown one with its latest).
        self._handshake_version = LATEST if protocol_version in modern.MODERN_VERSIONS else protocol_version
        # The modern revision spoken (None: the legacy, handshake era), and what rides on every request.
        self.modern_version: str | None = None
        self.supported_versions: list[str] = []
        self.log_level: str | None = None
        self._meta: dict[str, Any] = {}
        self._http = hasattr(self.transport, "use_modern")
        # Modern HTTP: the x-mcp-header marks of each listed tool, and the tools left out for broken marks.
        self._header_marks: dict[str, list[modern.HeaderMark]] = {}
        self._rejected_tools: set[str] = set()
        self._subscriptions: dict[int | str, Subscription] = {}  # open subscriptions/listen streams by id
        self.timeout = timeout
        self.capabilities: dict[str, Any] = dict(capabilities or {})
        self.on_notification = on_notification
        self.on_log = on_log
        self.roots = roots
        self.request_handlers: dict[str, RequestHandler] = {"ping": lambda params: {}}
        # Each handler declares the capability it serves (a client never offers what it cannot answer).
        if roots is not None or roots_handler is not None:
            self.capabilities.setdefault("roots", {"listChanged": True})
            self.request_handlers["roots/list"] = roots_handler or (lambda params: {"roots": self.roots})
        if sampling_handler is not None:
            self.capabilities.setdefault("sampling", {"tools": {}} if sampling_tools else {})
            self.request_handlers["sampling/createMessage"] = lambda params: sampling_handler(
                msgspec.convert(params, t.CreateMessageRequestParams)
            )
        if elicitation_handler is not None:
            self.capabilities.setdefault("elicitation", {mode: {} for mode in elicitation_modes})
            self.request_handlers["elicitation/create"] = elicitation_handler
        self.tasks: TaskRunner | None = None
        if accept_tasks and (sampling_handler is not None or elicitation_handler is not None):
            self._accept_tasks(sampling_handler is not None, elicitation_handler is not None)
        self.server_info: t.Implementation | None = None
        self.server_capabilities: t.ServerCapabilities | None = None
        self.protocol_version: str | None = None
        self.instructions: str | None = None
        self._pending: dict[int | str, asyncio.Future[msgspec.Raw]] = {}
        self._progress: dict[int | str, ProgressCallback] = {}
        self._next_id = 0
        self._closed: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: set[asyncio.Future[Any]] = set()
        # Session recovery (HTTP 404): which session each accepted request was sent in, and the one task
        # that starts the new session for all the requests refused at once.
        self._session_generation = 0
        self._accepted_in: dict[int | str, int] = {}
        self._recovery: asyncio.Future[None] | None = None
        # Output schemas by tool name (from tools/list), compiled on first use; None: the tool has none.
        self.validate_output = validate_output
        self._output_schemas: dict[str, dict[str, Any] | None] = {}
        self._output_validators: dict[str, Callable[[Any], Any]] = {}
        self._tools_listed = False
        if hasattr(self.transport, "on_session_lost"):  # HTTP: a lost session loses its answers too
            reporting = cast(_ReportsLoss, self.transport)
            reporting.on_session_lost = self._session_lost
            reporting.on_answer_lost = self._answer_lost

    def _accept_tasks(self, sampling: bool, elicitation: bool) -> None:
        """Declare tasks.requests for the handlers we have and answer the server's tasks/* requests: the
        server may then ask for sampling or elicitation as a task and poll it (tasks.mdx)."""
        requests: dict[str, Any] = {}
        if sampling:
            requests["sampling"] = {"createMessage": {}}
        if elicitation:
            requests["elicitation"] = {"create": {}}
        self.capabilities.setdefault("tasks", {"list": {}, "cancel": {}, "requests": requests})
        tasks = self.tasks = TaskRunner()
        tasks.on_status = lambda record: self._background(
            self.notify("notifications/tasks/status", record.wire())
        )
        handlers = self.request_handlers
        handlers["tasks/get"] = lambda params: tasks.owned(SERVER, params["taskId"]).wire()
        handlers["tasks/result"] = lambda params: tasks.result(SERVER, params["taskId"])
        handlers["tasks/cancel"] = lambda params: tasks.cancel(SERVER, params["taskId"]).wire()
        handlers["tasks/list"] = self._list_tasks_of_server

    def _list_tasks_of_server(self, params: dict[str, Any] | None) -> dict[str, Any]:
        assert self.tasks is not None
        records = self.tasks.owned_by(SERVER)
        chunk, next_cursor = page("tasks", records, (params or {}).get("cursor"), 100)
        result: dict[str, Any] = {"tasks": [record.wire() for record in chunk]}
        if next_cursor is not None:
            result["nextCursor"] = next_cursor
        return result

    def _start_task(self, handler: RequestHandler, params: dict[str, Any]) -> dict[str, Any]:
        """A task-augmented request: answer with the task at once and run the handler as its body."""
        assert self.tasks is not None
        task = params.pop("task")
        record = self.tasks.create(SERVER, task.get("ttl") if isinstance(task, dict) else None)

        async def work() -> Any:
            result = handler(params)
            if asyncio.iscoroutine(result) or isinstance(result, asyncio.Future):
                result = await result
            return result

        self.tasks.start(record, work())
        return {"task": record.wire()}

    @classmethod
    def in_memory(cls, server: Server, *, max_message_bytes: int | None = None, **options: Any) -> Client:
        """A client of `server` in this process and event loop: no sockets, no subprocess; messages go
        through the same session core and runner as over stdio (and its limits). `options` are `Client`'s."""
        from runtime.client.memory import InMemoryTransport

        return cls(InMemoryTransport(server, max_message_bytes=max_message_bytes), **options)

    @staticmethod
    def _make_transport(
        target: str | Sequence[str] | ClientTransport | Server,
        env: dict[str, str] | None,
        cwd: str | None,
        headers: Mapping[str, str] | None,
        verify: bool | str | ssl.SSLContext,
        auth: OAuth | None = None,
    ) -> ClientTransport:
        if isinstance(target, str):
            if target.startswith(("http://", "https://")):
                from runtime.client.http import HttpTransport

                return HttpTransport(target, headers=headers, verify=verify, auth=auth)
            raise ValueError(f"not a URL: {target!r} (pass a command as a list for stdio)")
        if headers or auth is not None:
            raise ValueError("headers and auth are for HTTP: pass a URL to use them")
        if isinstance(target, Sequence):  # any sequence of strings is a command (a str was handled above)
            from runtime.client.stdio import StdioTransport

            return StdioTransport(target, env=env, cwd=cwd)
        from runtime.server.app import Server

        if isinstance(target, Server):
            from runtime.client.memory import InMemoryTransport

            return InMemoryTransport(target)
        return target

    # -- lifecycle -----------------------------------------------------------------------------------------

    async def __aenter__(self) -> Client:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def connect(self) -> t.InitializeResult:
        """Initialize (legacy) or discover (modern); either way, what the server said about itself."""
        self._loop = asyncio.get_running_loop()
        await self.transport.start(self._on_message, self._on_close)
        try:
            if self.requested_version in modern.MODERN_VERSIONS:
                return await self._discover()
            return await self._initialize()
        except BaseException:
            await self.transport.close()
            raise

    async def _discover(self) -> t.InitializeResult:
        """Probe with server/discover (versioning.mdx "Backward Compatibility"): a DiscoverResult or a
        modern error means a modern server (retried with a version both speak); any other error, an HTTP
        refusal without a modern body, or silence means a legacy one, spoken to with initialize."""
        version = self.requested_version
        attempts: dict[str, int] = {}
        while True:
            attempts[version] = attempts.get(version, 0) + 1
            if version not in modern.MODERN_VERSIONS:
                return await self._fall_back(version)
            self._speak_modern(version)
            try:
                raw = await self._modern_call(
                    "server/discover", None, timeout=min(self.timeout, PROBE_SECONDS)
                )
            except (rpc.McpError, HttpStatusError, TimeoutError) as exc:
                error = _modern_error(exc)
                if error is None:
                    return await self._fall_back(LATEST)
                if error.code != rpc.UNSUPPORTED_PROTOCOL_VERSION:
                    raise error from None
                choice = modern.retry_version(modern.listed_versions(error), version, attempts)
                if choice is None:
                    raise rpc.McpError(
                        error.code, f"the server speaks no protocol version this client does: {error.data}"
                    ) from None
                version = choice
                continue
            result = msgspec.json.decode(raw)
            supported = result.get("supportedVersions") if isinstance(result, dict) else None
            self.supported_versions = (
                [v for v in supported if isinstance(v, str)] if isinstance(supported, list) else []
            )
            if self.supported_versions and version not in self.supported_versions:
                attempts[version] = 2  # listed as unsupported by the server itself: not retried
                choice = modern.retry_version(self.supported_versions, version, attempts)
                if choice is not None:
                    version = choice
                    continue
            return self._discovered(result if isinstance(result, dict) else {}, version)

    def _speak_modern(self, version: str) -> None:
        self.modern_version = self.protocol_version = version
        if self._http:
            cast(Any, self.transport).use_modern(version)
        self._refresh_meta()

    def _refresh_meta(self) -> None:
        """What rides on every modern request: computed once, again when the log level changes."""
        assert self.modern_version is not None
        capabilities = self._modern_capabilities()
        self._meta = modern.meta(self.modern_version, capabilities, self.client_info, self.log_level)

    def _modern_capabilities(self) -> dict[str, Any]:
        """The capabilities as the modern revision has them: roots without listChanged (there is no
        notification for it), and no legacy tasks (tasks are an extension there)."""
        capabilities = {key: value for key, value in self.capabilities.items() if key != "tasks"}
        if "roots" in capabilities:
            capabilities["roots"] = {}
        return capabilities

    def _discovered(self, result: dict[str, Any], version: str) -> t.InitializeResult:
        meta = result.get("_meta")
        info = meta.get(META_SERVER) if isinstance(meta, dict) else None
        try:
            server_info = msgspec.convert(info or result.get("serverInfo"), t.Implementation)
        except msgspec.ValidationError:
            server_info = t.Implementation(name="", version="")  # SHOULD, not MUST: shown, never relied on
        try:
            capabilities = msgspec.convert(result.get("capabilities") or {}, t.ServerCapabilities)
        except msgspec.ValidationError:
            capabilities = t.ServerCapabilities()
        instructions = result.get("instructions")
        self.server_info = server_info
        self.server_capabilities = capabilities
        self.instructions = instructions if isinstance(instructions, str) else None
        return t.InitializeResult(
            capabilities=capabilities,
            instructions=self.instructions,
            protocol_version=version,
            server_info=server_info,
        )

    async def _fall_back(self, version: str) -> t.InitializeResult:
        """The server is legacy: the handshake era, with the newest legacy version both speak."""
        self.modern_version = None
        self._meta = {}
        if self._http:
            cast(Any, self.transport).use_legacy()
        self._handshake_version = version
        return await self._initialize()

    async def _initialize(self) -> t.InitializeResult:
        params = {
            "protocolVersion": self._handshake_version,
            "capabilities": self.capabilities,
            "clientInfo": self.client_info,
        }
        result = await self.request("initialize", params, result_type=t.InitializeResult)
        if result.protocol_version not in SUPPORTED_VERSIONS:
            raise rpc.McpError(
                rpc.INVALID_REQUEST,
                f"server chose unsupported protocol version {result.protocol_version}",
            )
        self.server_info = result.server_info
        self.server_capabilities = result.capabilities
        self.protocol_version = result.protocol_version
        self.instructions = result.instructions
        negotiated = getattr(self.transport, "negotiated", None)
        if negotiated is not None:
            await negotiated(result.protocol_version)
        # Straight to the transport: a 404 here is not recovered from (this may be the recovery).
        await self.transport.send(rpc.notification_message("notifications/initialized", None))
        return result

    @property
    def session_id(self) -> str | None:
        """The HTTP session (`Mcp-Session-Id`); None over stdio."""
        return getattr(self.transport, "session_id", None)

    async def _send(self, data: bytes) -> None:
        """Send a message in the current session. A 404 for it (the server ended the session) starts a new
        session; the message is not resent (see `_send_request` for requests)."""
        generation = await self._current_session()
        try:
            await self.transport.send(data)
        except SessionExpired:
            await self._new_session(generation)

    async def _send_request(self, request_id: int | str, data: bytes) -> None:
        """Send a request; on a 404 start a new session and send it once more there (the server refused it
        without running it). A second 404 raises `SessionExpired`."""
        generation = await self._current_session()
        try:
            await self.transport.send(data)
        except SessionExpired:
            await self._new_session(generation)
            try:
                await self.transport.send(data)
            except SessionExpired as exc:
                raise SessionExpired(
                    "HTTP 404 again after starting a new session: the server ends every session", exc.body
                ) from None
        self._accepted_in[request_id] = self._session_generation

    def _session_lost(self, session_id: str) -> None:
        """The standalone stream found the session ended (404): start a new one now, not at the next
        request, so that a client that only listens hears the server again."""
        if session_id == self.session_id and self._closed is None:
            generation = self._session_generation

            async def recover() -> None:
                with contextlib.suppress(Exception):  # a failure closed the client and failed its requests
                    await self._new_session(generation)

            self._background(recover())

    def _answer_lost(self, request_id: int | str, error: BaseException) -> None:
        future = self._pending.get(request_id)
        if future is not None and not future.done():
            future.set_exception(error)

    async def _current_session(self) -> int:
        """Wait out a session recovery under way, so that no request goes out without a session."""
        recovery = self._recovery
        if recovery is not None and not recovery.done():
            with contextlib.suppress(Exception):  # a failed recovery closed the client: the send says so
                await asyncio.shield(recovery)
        return self._session_generation

    async def _new_session(self, generation: int) -> None:
        """The server ended session `generation`: start a new one, unless another request already did.
        One task does it for every request that got the 404; shielded, so that a request's timeout does not
        leave the client between two sessions."""
        if generation != self._session_generation:
            return  # already replaced (the generation moves on when the new session is ready)
        recovery = self._recovery
        if recovery is None or recovery.done():
            recovery = self._recovery = asyncio.ensure_future(self._restart_session(generation))
            recovery.add_done_callback(lambda done: done.cancelled() or done.exception())
        await asyncio.shield(recovery)

    async def _restart_session(self, generation: int) -> None:
        """Initialize again (same capabilities and client info). Requests the old session accepted will
        never be answered: they fail with SessionExpired (not resent: they may have run)."""
        if self._closed is not None:
            raise ClientClosed(f"connection closed: {self._closed!r}")
        lost = [rid for rid, sent_in in self._accepted_in.items() if sent_in == generation]
        for request_id in lost:
            future = self._pending.pop(request_id, None)
            if future is not None and not future.done():
                future.set_exception(
                    SessionExpired(f"the server ended the session before answering request {request_id}")
                )
        reset = getattr(self.transport, "reset_session", None)
        if reset is not None:
            await reset()
        self._forget_tools()
        try:
            await self._initialize()
        except Exception as exc:
            failure = SessionExpired(f"the server ended the session and a new one failed: {exc!r}")
            self._on_close(failure)
            raise failure from exc
        self._session_generation += 1

    async def close(self) -> None:
        if self._recovery is not None:
            self._recovery.cancel()
        await self.transport.close()
        self._on_close(None)
        # Callbacks and answers to the server still running have no connection left: end them, so that
        # closing leaves no task behind.
        background = [task for task in self._tasks if not task.done()]
        for task in background:
            task.cancel()
        if background:
            await asyncio.wait(background, timeout=CLOSE_SECONDS)

    # -- messages ------------------------------------------------------------------------------------------

    def _on_message(self, data: bytes) -> None:
        try:
            message = _incoming.decode(data)
        except (msgspec.DecodeError, msgspec.ValidationError):
            return  # not JSON-RPC: ignored, as the spec asks of invalid input
        if message.method is None:
            future = self._pending.pop(message.id, None) if message.id is not None else None
            if future is not None and not future.done():
                if message.error is not None:
                    error = message.error
                    future.set_exception(rpc.McpError(error.code, error.message, error.data))
                else:
                    future.set_result(message.result if len(message.result) else msgspec.Raw(b"{}"))
        elif message.id is None:
            # A malformed notification is dropped; the connection stays up.
            with contextlib.suppress(msgspec.ValidationError, msgspec.DecodeError):
                self._on_notification(message.method, message.params)
        else:
            self._background(self._answer(message))

    def _on_notification(self, method: str, raw: msgspec.Raw) -> None:
        present = len(raw) > 0
        if method == "notifications/progress" and present:
            params = msgspec.json.decode(raw, type=t.ProgressNotificationParams)
            callback = self._progress.get(params.progress_token)
            if callback is not None:
                self._background(callback(params.progress, params.total, params.message))
            return
        if method == "notifications/message" and self.on_log is not None and present:
            self._background(self.on_log(msgspec.json.decode(raw, type=t.LoggingMessageNotificationParams)))
            return
        if method == "notifications/tools/list_changed":
            self._forget_tools()
        if self._subscriptions and present and bytes(raw).find(_SUBSCRIPTION_KEY) >= 0:
            params = msgspec.json.decode(raw)
            meta = params.get("_meta") if isinstance(params, dict) else None
            tag = meta.get(META_SUBSCRIPTION) if isinstance(meta, dict) else None
            subscription = self._subscriptions.get(tag) if isinstance(tag, (int, str)) else None
            if subscription is not None:
                subscription.deliver(method, params)
                if method == "notifications/subscriptions/acknowledged":
                    return  # the stream's own bookkeeping, not an event
        if self.on_notification is not None:
            self._background(self.on_notification(method, msgspec.json.decode(raw) if present else None))

    async def _answer(self, message: _Incoming) -> None:
        """Answer a server-to-client request with the registered handler."""
        assert message.method is not None and message.id is not None
        handler = self.request_handlers.get(message.method)
        if handler is None:
            reply = rpc.error_message(message.id, rpc.METHOD_NOT_FOUND, f"Method not found: {message.method}")
        else:
            try:
                params = msgspec.json.decode(message.params) if len(message.params) else None
                undeclared = self._undeclared(message.method, params)
                if undeclared is not None:
                    raise rpc.McpError(rpc.INVALID_PARAMS, undeclared)
                result: Any
                if (
                    self.tasks is not None
                    and isinstance(params, dict)
                    and "task" in params
                    and message.method in TASK_CAPABLE
                ):
                    result = self._start_task(handler, params)
                else:
                    result = handler(params)
                if asyncio.iscoroutine(result) or isinstance(result, asyncio.Future):
                    result = await result
                body = result if type(result) is bytes else rpc.encode(result)  # tasks/result is encoded
                reply = rpc.result_message(rpc.encode(message.id), body)
            except rpc.McpError as exc:
                reply = rpc.error_from_exception(message.id, exc)
            except msgspec.ValidationError as exc:
                reply = rpc.error_message(message.id, rpc.INVALID_PARAMS, f"Invalid params: {exc}")
            except Exception as exc:
                reply = rpc.error_from_exception(message.id, internal_error(message.method, exc))
        with contextlib.suppress(ConnectionError):
            await self._send(reply)

    def _undeclared(self, method: str, params: Any) -> str | None:
        """Why a server request needs a capability this client did not declare, or None. Elicitation in
        a mode not declared is -32602 (elicitation.mdx "Error Handling"); tool use in sampling needs
        sampling.tools (sampling.mdx "Tools in Sampling"), refused the same way."""
        params = params if isinstance(params, dict) else {}
        if method == "elicitation/create":
            mode = params.get("mode", "form")  # no mode means form mode
            declared = self.capabilities.get("elicitation")
            modes = {m for m in declared if m in ELICITATION_MODES} if isinstance(declared, dict) else set()
            if not modes:
                modes = {"form"}  # an empty elicitation capability declares form mode only
            if mode not in modes:
                return f"Elicitation mode {mode!r} was not declared in the client's capabilities"
        elif method == "sampling/createMessage" and (params.get("tools") or "toolChoice" in params):
            sampling = self.capabilities.get("sampling")
            if not isinstance(sampling, dict) or "tools" not in sampling:
                return "Tool use in sampling needs the client's sampling.tools capability (not declared)"
        return None

    def _on_close(self, error: BaseException | None) -> None:
        if self._closed is None:
            self._closed = error or ClientClosed("connection closed")
        pending, self._pending = self._pending, {}
        for future in pending.values():
            if not future.done():
                future.set_exception(ClientClosed(f"connection closed: {self._closed!r}"))

    @overload
    async def request(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        *,
        result_type: type[R],
        timeout: float | None = None,
        progress: ProgressCallback | None = None,
    ) -> R: ...

    @overload
    async def request(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        *,
        result_type: None = None,
        timeout: float | None = None,
        progress: ProgressCallback | None = None,
    ) -> Any: ...

    async def request(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        *,
        result_type: type[R] | None = None,
        timeout: float | None = None,
        progress: ProgressCallback | None = None,
    ) -> Any:
        """Send a request and wait for its result. On timeout or cancellation the server is told with
        notifications/cancelled (cancellation.mdx; over modern HTTP, by closing the response stream) and the
        waiting stops. Over a modern revision a request the server answers with InputRequiredResult is
        answered and retried until it completes."""
        if self._closed is not None and method != "initialize":
            raise ClientClosed(f"connection closed: {self._closed!r}")
        if self.modern_version is not None:
            raw = await self._modern_call(method, params, timeout=timeout, progress=progress)
            return (
                msgspec.json.decode(raw)
                if result_type is None
                else msgspec.json.decode(raw, type=result_type)
            )
        self._next_id += 1
        request_id = self._next_id
        if progress is not None:
            params = dict(params or {})
            params["_meta"] = {**params.get("_meta", {}), "progressToken": request_id}
            self._progress[request_id] = progress
        future: asyncio.Future[msgspec.Raw] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        try:
            # Over HTTP the answer may come in the POST's own response, so the deadline covers the send too.
            async with asyncio.timeout(timeout if timeout is not None else self.timeout):
                message = rpc.request_message(request_id, method, params)
                if method == "initialize":
                    await self.transport.send(message)  # never in a session, never waits for one
                else:
                    await self._send_request(request_id, message)
                raw = await future
        except (TimeoutError, asyncio.CancelledError) as exc:
            if method != "initialize":  # initialize must not be cancelled
                await self._cancel_notice(request_id, exc)
            raise
        finally:
            self._pending.pop(request_id, None)
            self._progress.pop(request_id, None)
            self._accepted_in.pop(request_id, None)
            if future.done() and not future.cancelled():
                future.exception()  # failed by a close while this request raised its own error: seen
        if result_type is None:
            return msgspec.json.decode(raw)
        return msgspec.json.decode(raw, type=result_type)

    async def _cancel_notice(self, request_id: int | str, exc: BaseException) -> None:
        """notifications/cancelled for a request given up on (cancellation.mdx); a failure to send is moot."""
        reason = "timed out" if isinstance(exc, TimeoutError) else "cancelled by the client"
        with contextlib.suppress(Exception):
            await self.notify("notifications/cancelled", {"requestId": request_id, "reason": reason})

    async def notify(self, method: str, params: dict[str, Any] | None = None) -> None:
        if self.modern_version is not None:
            await self._post_modern(rpc.notification_message(method, params), {"Mcp-Method": method})
            return
        await self._send(rpc.notification_message(method, params))

    async def _post_modern(self, message: bytes, headers: Mapping[str, str]) -> None:
        """Send a modern message: over HTTP with the headers that mirror it, elsewhere as it is."""
        if self._http:
            await cast(Any, self.transport).send(message, headers)
        else:
            await self.transport.send(message)

    async def _stop_modern(self, request_id: int, exc: BaseException) -> None:
        """Give up on a modern request: close its stream (HTTP), else send notifications/cancelled."""
        if self._http:
            cast(Any, self.transport).abandon(request_id)
        else:
            await self._cancel_notice(request_id, exc)

    # -- the modern revision: one request, its envelope and its input rounds --------------------------------

    async def _modern_call(
        self,
        method: str,
        params: dict[str, Any] | None,
        *,
        timeout: float | None = None,
        progress: ProgressCallback | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> msgspec.Raw:
        """One modern request to its final result: each InputRequiredResult is answered by the client's
        handlers and the request sent again under a new id, with the answers and the server's requestState
        exactly as given (mrtr.mdx "Client Requirements"). `timeout` bounds each round trip, not the time
        the handlers take (a user answering an elicitation)."""
        base = dict(params or {})
        caller_meta = base.pop("_meta", None) or {}
        token: int | None = None
        if progress is not None:
            token = self._next_id + 1  # the first round's id; the same token for every round
            self._progress[token] = progress
        try:
            extra: dict[str, Any] = {}
            for _ in range(MAX_INPUT_ROUNDS + 1):
                meta = {**caller_meta, **self._meta}
                if token is not None:
                    meta["progressToken"] = token
                sent = {**base, **extra, "_meta": meta}
                raw = await self._modern_exchange(method, sent, timeout, headers)
                if method not in modern.INPUT_REQUESTS_ALLOWED:
                    return raw
                step = modern.input_round.decode(raw)
                if step.result_type != "input_required":
                    return raw
                extra = {}
                if step.input_requests:
                    extra["inputResponses"] = await self._answer_inputs(step.input_requests)
                if step.request_state is not None:
                    extra["requestState"] = step.request_state
            raise rpc.McpError(
                rpc.INTERNAL_ERROR,
                f"{method}: the server asked for input {MAX_INPUT_ROUNDS} times; giving up",
            )
        finally:
            if token is not None:
                self._progress.pop(token, None)

    async def _modern_exchange(
        self, method: str, params: dict[str, Any], timeout: float | None, headers: Mapping[str, str] | None
    ) -> msgspec.Raw:
        self._next_id += 1
        request_id = self._next_id
        message = rpc.request_message(request_id, method, params)
        future: asyncio.Future[msgspec.Raw] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        try:
            async with asyncio.timeout(timeout if timeout is not None else self.timeout):
                await self._post_modern(
                    message, {**modern.standard_headers(method, params), **(headers or {})}
                )
                return await future
        except (TimeoutError, asyncio.CancelledError) as exc:
            if self._http or method != "server/discover":  # a probe a legacy server ignored: let be
                await self._stop_modern(request_id, exc)
            raise
        finally:
            self._pending.pop(request_id, None)
            if future.done() and not future.cancelled():
                future.exception()

    async def _answer_inputs(self, requests: dict[str, Any]) -> dict[str, Any]:
        """The InputResponses for one round: every input request answered, concurrently."""
        keys = list(requests)
        answers = await asyncio.gather(*(self._answer_input(requests[key]) for key in keys))
        return dict(zip(keys, answers, strict=True))

    async def _answer_input(self, request: Any) -> Any:
        method = request.get("method") if isinstance(request, dict) else None
        handler = (
            self.request_handlers.get(method) if isinstance(method, str) and method in INPUT_METHODS else None
        )
        if handler is None or not isinstance(method, str):
            raise rpc.McpError(
                rpc.INVALID_REQUEST, f"the server asked for {method!r}, which this client does not offer"
            )
        params = request.get("params")
        undeclared = self._undeclared(method, params)
        if undeclared is not None:
            raise rpc.McpError(rpc.INVALID_PARAMS, undeclared)
        result = handler(params)
        if asyncio.iscoroutine(result) or isinstance(result, asyncio.Future):
            result = await result
        return result

    # -- the server's features -----------------------------------------------------------------------------

    async def ping(self) -> None:
        """A liveness check: ping, or server/discover over a modern revision (which has no ping)."""
        await self.request("ping" if self.modern_version is None else "server/discover")

    async def _all_pages(self, method: str, key: str, item_type: type[R]) -> list[R]:
        items: list[R] = []
        cursor: str | None = None
        while True:
            result = await self.request(method, {"cursor": cursor} if cursor else None)
            items.extend(msgspec.convert(result.get(key, []), list[item_type]))  # type: ignore[valid-type]
            cursor = result.get("nextCursor")
            if not cursor:
                return items

    async def list_tools(self) -> list[t.Tool]:
        """Every tool, following pagination cursors. Their output schemas are kept for `call_tool`."""
        tools = await self._all_pages("tools/list", "tools", t.Tool)
        self._forget_tools()
        if self.modern_version is not None and self._http:
            tools = self._keep_header_safe(tools)
        self._output_schemas = {tool.name: tool.output_schema for tool in tools}
        self._tools_listed = True
        return tools

    def _keep_header_safe(self, tools: list[t.Tool]) -> list[t.Tool]:
        """Modern HTTP: learn each tool's x-mcp-header marks; a tool whose marks break the rules is left
        out of the list and refused by call_tool (streamable-http.mdx "Schema Extension")."""
        kept: list[t.Tool] = []
        for tool in tools:
            marks = modern.header_marks(tool.input_schema)
            if marks is None:
                self._rejected_tools.add(tool.name)
                continue
            self._header_marks[tool.name] = marks
            kept.append(tool)
        return kept

    def _forget_tools(self) -> None:
        """The tools may have changed (list_changed, a new session): schemas are learnt again."""
        self._output_schemas = {}
        self._output_validators = {}
        self._tools_listed = False
        self._header_marks = {}
        self._rejected_tools = set()

    async def _check_output(self, name: str, result: t.CallToolResult) -> None:
        """tools.mdx "Output Schema": clients SHOULD validate structured results against the tool's
        outputSchema. An error result is not checked. A structured result of a tool not seen yet lists the
        tools once (per session, or after list_changed) to learn its schema."""
        if result.is_error:
            return
        unknown = name not in self._output_schemas and not self._tools_listed
        if unknown and result.structured_content is not None:
            with contextlib.suppress(rpc.McpError):  # no list, no schema to check against: the result stands
                await self.list_tools()
        schema = self._output_schemas.get(name)
        if schema is None:
            return
        if result.structured_content is None:
            raise OutputSchemaError(name, "it has no structuredContent", result)
        validator = self._output_validators.get(name)
        if validator is None:
            try:
                validator = self._output_validators[name] = compile_validator(schema)
            except ValueError as exc:
                raise OutputSchemaError(name, f"the outputSchema cannot be used: {exc}", result) from None
        try:
            validator(result.structured_content)
        except jsonschema_rs.ValidationError as exc:
            path = "/".join(str(part) for part in exc.instance_path)
            raise OutputSchemaError(name, f"at /{path}: {exc.message}", result) from None

    async def call_tool(
        self,
        name: str,
        arguments: dict[str, Any] | None = None,
        *,
        timeout: float | None = None,
        progress: ProgressCallback | None = None,
    ) -> t.CallToolResult:
        """Call a tool. With `validate_output` (the default) a result that does not match the tool's
        outputSchema raises `OutputSchemaError` (the result is in its `result`)."""
        params: dict[str, Any] = {"name": name}
        if arguments is not None:
            params["arguments"] = arguments
        result: t.CallToolResult
        if self.modern_version is not None and self._http:
            raw = await self._call_with_param_headers(name, params, timeout, progress)
            result = msgspec.json.decode(raw, type=t.CallToolResult)
        else:
            result = await self.request(
                "tools/call", params, result_type=t.CallToolResult, timeout=timeout, progress=progress
            )
        if self.validate_output:
            await self._check_output(name, result)
        return result

    async def _call_with_param_headers(
        self, name: str, params: dict[str, Any], timeout: float | None, progress: ProgressCallback | None
    ) -> msgspec.Raw:
        """tools/call over modern HTTP: the marked arguments mirrored in Mcp-Param-* headers (the tools are
        listed once to learn the marks). A HeaderMismatch lists them again and retries once, as the
        transport page advises (the tool's schema may have changed)."""
        for attempt in range(2):
            if not self._tools_listed:
                await self.list_tools()
            if name in self._rejected_tools:
                raise rpc.McpError(
                    rpc.INVALID_PARAMS, f"tool {name!r} has an invalid x-mcp-header annotation: not called"
                )
            headers = modern.param_headers(self._header_marks.get(name, ()), params.get("arguments"))
            try:
                return await self._modern_call(
                    "tools/call", params, timeout=timeout, progress=progress, headers=headers
                )
            except rpc.McpError as exc:
                if exc.code != rpc.HEADER_MISMATCH or attempt:
                    raise
                self._forget_tools()
        raise AssertionError("unreachable")

    # -- tasks (experimental in 2025-11-25) ----------------------------------------------------------------

    async def start_tool_task(
        self, name: str, arguments: dict[str, Any] | None = None, *, ttl_ms: int | None = None
    ) -> t.Task:
        """Call a tool as a task (the server must declare tasks.requests.tools.call); returns the task."""
        self._modern_only_refuses("tasks", "tasks are the io.modelcontextprotocol/tasks extension there")
        task: dict[str, Any] = {} if ttl_ms is None else {"ttl": ttl_ms}
        params: dict[str, Any] = {"name": name, "arguments": arguments or {}, "task": task}
        created = await self.request("tools/call", params, result_type=t.CreateTaskResult)
        return created.task

    async def get_task(self, task_id: str) -> t.Task:
        return await self.request("tasks/get", {"taskId": task_id}, result_type=t.Task)

    async def task_result(self, task_id: str, *, timeout: float | None = None) -> t.CallToolResult:
        """The task's result, blocking until the task is done (tasks/result); failures raise McpError."""
        return await self.request(
            "tasks/result", {"taskId": task_id}, result_type=t.CallToolResult, timeout=timeout
        )

    async def list_tasks(self) -> list[t.Task]:
        return await self._all_pages("tasks/list", "tasks", t.Task)

    async def cancel_task(self, task_id: str) -> t.Task:
        return await self.request("tasks/cancel", {"taskId": task_id}, result_type=t.Task)

    async def call_tool_as_task(
        self, name: str, arguments: dict[str, Any] | None = None, *, ttl_ms: int | None = None
    ) -> t.CallToolResult:
        """Start a tool task and wait for its result."""
        task = await self.start_tool_task(name, arguments, ttl_ms=ttl_ms)
        result = await self.task_result(task.task_id)
        if self.validate_output:
            await self._check_output(name, result)
        return result

    async def list_resources(self) -> list[t.Resource]:
        return await self._all_pages("resources/list", "resources", t.Resource)

    async def list_resource_templates(self) -> list[t.ResourceTemplate]:
        return await self._all_pages("resources/templates/list", "resourceTemplates", t.ResourceTemplate)

    async def read_resource(self, uri: str) -> t.ReadResourceResult:
        return await self.request("resources/read", {"uri": uri}, result_type=t.ReadResourceResult)

    async def subscribe(self, uri: str) -> None:
        self._modern_only_refuses("resources/subscribe", "updates come through subscriptions/listen")
        await self.request("resources/subscribe", {"uri": uri})

    async def unsubscribe(self, uri: str) -> None:
        self._modern_only_refuses("resources/unsubscribe", "updates come through subscriptions/listen")
        await self.request("resources/unsubscribe", {"uri": uri})

    async def list_prompts(self) -> list[t.Prompt]:
        return await self._all_pages("prompts/list", "prompts", t.Prompt)

    async def get_prompt(self, name: str, arguments: dict[str, str] | None = None) -> t.GetPromptResult:
        params: dict[str, Any] = {"name": name}
        if arguments is not None:
            params["arguments"] = arguments
        return await self.request("prompts/get", params, result_type=t.GetPromptResult)

    async def complete(
        self,
        ref: dict[str, str],
        argument: str,
        value: str,
        context_arguments: dict[str, str] | None = None,
    ) -> t.CompleteResult:
        """Ask for completions of an argument. `ref` is {"type": "ref/prompt", "name": ...} or
        {"type": "ref/resource", "uri": ...}."""
        params: dict[str, Any] = {"ref": ref, "argument": {"name": argument, "value": value}}
        if context_arguments is not None:
            params["context"] = {"arguments": context_arguments}
        return await self.request("completion/complete", params, result_type=t.CompleteResult)

    async def set_log_level(self, level: str) -> None:
        """logging/setLevel; over a modern revision the level rides in every request's `_meta` instead."""
        if self.modern_version is not None:
            self.log_level = level
            self._refresh_meta()
            return
        await self.request("logging/setLevel", {"level": level})

    async def roots_changed(self, roots: list[dict[str, Any]]) -> None:
        """Replace the roots offered to the server and tell it (roots.mdx)."""
        self.roots = roots
        if (
            self.modern_version is None
        ):  # a modern server asks for the roots with each request that needs them
            await self.notify("notifications/roots/list_changed")

    async def listen(
        self,
        *,
        tools: bool = False,
        prompts: bool = False,
        resources: bool = False,
        resource_uris: Sequence[str] = (),
    ) -> Subscription:
        """Open a subscriptions/listen stream (MCP 2026-07-28) for the list changes and resource updates
        asked for; returns once the server acknowledged it (`subscription.acknowledged`: what it honours).
        Its notifications also reach `on_notification`. Legacy sessions use `subscribe()` instead."""
        if self.modern_version is None:
            raise rpc.McpError(
                rpc.METHOD_NOT_FOUND,
                "subscriptions/listen is part of MCP 2026-07-28; over a legacy session use subscribe()",
            )
        wanted: dict[str, Any] = {}
        for field, on in (
            ("toolsListChanged", tools),
            ("promptsListChanged", prompts),
            ("resourcesListChanged", resources),
        ):
            if on:
                wanted[field] = True
        if resource_uris:
            wanted["resourceSubscriptions"] = list(resource_uris)
        self._next_id += 1
        request_id = self._next_id
        params = {"notifications": wanted, "_meta": dict(self._meta)}
        future: asyncio.Future[msgspec.Raw] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future

        async def close() -> None:
            self._pending.pop(request_id, None)
            self._subscriptions.pop(request_id, None)
            if not future.done():
                future.cancel()
            await self._stop_modern(request_id, asyncio.CancelledError())

        subscription = self._subscriptions[request_id] = Subscription(request_id, close)

        def ended(done: asyncio.Future[msgspec.Raw]) -> None:
            self._subscriptions.pop(request_id, None)
            if not done.cancelled():
                subscription.ended(done.exception())

        future.add_done_callback(ended)
        message = rpc.request_message(request_id, "subscriptions/listen", params)
        try:
            await self._post_modern(message, {"Mcp-Method": "subscriptions/listen"})
            await subscription.until_acknowledged(self.timeout)
        except BaseException:
            await subscription.close()
            raise
        return subscription

    def _modern_only_refuses(self, method: str, instead: str) -> None:
        if self.modern_version is not None:
            raise rpc.McpError(
                rpc.METHOD_NOT_FOUND, f"{method} is not part of MCP {self.modern_version}: {instead}"
            )

    def _background(self, result: Any) -> None:
        """Run a callback's coroutine without blocking the reader; keep a reference until it is done."""
        if asyncio.iscoroutine(result):
            task = asyncio.ensure_future(result)
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)


def _modern_error(exc: Exception) -> rpc.McpError | None:
    """The modern JSON-RPC error a probe's failure carries, or None (the server is legacy). An HTTP status
    without a JSON-RPC answer to the request may still hold one with a null id."""
    if isinstance(exc, rpc.McpError):
        return exc if exc.code in modern.MODERN_ERRORS else None
    if isinstance(exc, HttpStatusError):
        with contextlib.suppress(msgspec.DecodeError, msgspec.ValidationError):
            error = _incoming.decode(exc.body).error
            if error is not None and error.code in modern.MODERN_ERRORS:
                return rpc.McpError(error.code, error.message, error.data)
    return None
