"""The per-request `Context` a handler receives when it declares a parameter of that type.

Its senders work from the event loop and from the worker threads that run sync handlers alike: they send at
once and return an already-finished awaitable, so `ctx.info("x")` and `await ctx.info("x")` both work.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import threading
from typing import TYPE_CHECKING, Any, TypeVar

import msgspec

from runtime.protocol import jsonrpc as rpc
from runtime.protocol import types as t
from runtime.protocol.jsonrpc import McpError, notification_message, request_message
from runtime.protocol.modern import INPUT_CAPABLE
from runtime.protocol.state import LOG_LEVELS, OPERATING
from runtime.server import client_requests as cr
from runtime.tasks import RELATED_TASK

if TYPE_CHECKING:
    from runtime.auth.principal import Principal
    from runtime.protocol.core import Call, ServerSession
    from runtime.server.app import Server
    from runtime.server.runner import Outbound


_R = TypeVar("_R")


class RequestCancelled(Exception):
    """Raised by `Context.check_cancelled()` in a handler whose request the client cancelled."""


class InputRequired(BaseException):
    """Ends this round of a modern (2026-07-28) request whose handler asked the client for something it has
    not answered yet: the runner answers with an InputRequiredResult, and the client's retry runs the
    handler again with the answers (mrtr.mdx). A BaseException, so that a handler's `except Exception`
    does not swallow it."""


class _Done:
    __slots__ = ()

    def __await__(self):  # type: ignore[no-untyped-def]
        return iter(())


DONE = _Done()


class Context(msgspec.Struct, eq=False):
    """What a handler receives (declare a parameter of this type): the request, its session, and senders
    for progress, logs and requests to the client. A Struct so that it is built in C, once per request."""

    # Private: the runtime's own view of the request (read the public properties below).
    _server: Server
    _session: ServerSession
    _call: Call | None
    _out: Outbound
    _loop: asyncio.AbstractEventLoop
    _task: asyncio.Future[Any] | None = None
    _cancelled: bool = False
    _task_id: str | None = None  # set when this call runs as a task
    _thread: int = msgspec.field(default_factory=threading.get_ident)
    _last_progress: float | None = None
    _progress_at: float = 0.0  # loop.time() of the last progress sent
    # Modern multi round-trip requests: how many requests to the client this run made (their default keys),
    # and the ones this round must ask for.
    _inputs_asked: int = 0
    _input_requests: dict[str, Any] | None = None
    _detached: bool = False  # the request was answered with a CreateTaskResult; this handler is the task
    _scope: Any = None  # the request's timeout, lifted when the handler becomes a task
    _principal: Principal | None = None  # kept when the call moves to another channel (a task)

    # -- about the request and session ---------------------------------------------------------------------

    @property
    def server(self) -> Server:
        """The `Server` serving this request (for `resource_updated`, `session_context`, ...)."""
        return self._server

    @property
    def session(self) -> ServerSession:
        """An opaque handle of the session (for `server.session_context`); its fields are the runtime's."""
        return self._session

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The event loop serving the request (a sync handler runs in a thread beside it)."""
        return self._loop

    @property
    def cancelled(self) -> bool:
        """Whether the client cancelled this request (see `check_cancelled`)."""
        return self._cancelled

    @property
    def task_id(self) -> str | None:
        """The task this call runs as, if it does (2025-11-25 task-augmented calls, the tasks extension)."""
        return self._task_id

    @property
    def request_id(self) -> int | str | None:
        """The id of the request being handled (None in a session hook such as on_roots_changed)."""
        return self._call.id if self._call is not None else None

    @property
    def principal(self) -> Principal | None:
        """Who the request's access token speaks for (subject, client id, scopes, claims) when the server
        is protected by `Auth`; None without authorization (stdio, an unprotected endpoint)."""
        return self._principal or getattr(self._out, "principal", None)

    @property
    def session_id(self) -> str:
        return self._session.state.session_id

    @property
    def protocol_version(self) -> str:
        return self._session.state.protocol_version

    @property
    def client_info(self) -> dict[str, Any] | None:
        return self._session.state.client_info

    @property
    def client_capabilities(self) -> dict[str, Any]:
        return self._session.state.client_capabilities

    @property
    def round_state(self) -> dict[str, Any]:
        """Values a handler keeps across the rounds of one modern multi round-trip request (sealed into its
        requestState, given back on the retry). Empty on the first round and over legacy sessions."""
        values = getattr(self._session, "round_values", None)
        return values if values is not None else {}

    @property
    def meta(self) -> dict[str, Any] | None:
        if self._call is None:
            return None
        params = self._call.message.params
        return getattr(params, "meta", None) if params is not None else None

    @property
    def progress_token(self) -> int | str | None:
        meta = self.meta
        return meta.get("progressToken") if meta else None

    # -- cancellation --------------------------------------------------------------------------------------

    def check_cancelled(self) -> None:
        """For long sync handlers (which run in threads and cannot be interrupted): stop if cancelled."""
        if self._cancelled:
            raise RequestCancelled(f"request {self.request_id!r} was cancelled")

    def cancel(self) -> None:
        self._cancelled = True
        if self._task is not None:
            self._task.cancel()

    def close_sse_stream(self) -> None:
        """Over Streamable HTTP, close this request's SSE connection without ending its stream: the client
        reconnects after the `retry` delay and gets the rest with Last-Event-ID. No-op on other transports."""
        close = getattr(self._out, "close_connection", None)
        if close is not None:
            if threading.get_ident() == self._thread:
                close()
            else:
                self._loop.call_soon_threadsafe(close)

    # -- sending -------------------------------------------------------------------------------------------

    def send_raw(self, data: bytes) -> None:
        """Send a message on this request's channel (for HTTP: its SSE stream)."""
        if threading.get_ident() == self._thread:
            self._out.send(data)
        else:
            self._loop.call_soon_threadsafe(self._out.send, data)

    def notify(self, method: str, params: Any = None) -> _Done:
        if self._task_id is not None:
            params = self._naming_task(params)
        self.send_raw(notification_message(method, params))
        return DONE

    def _naming_task(self, params: dict[str, Any] | None) -> dict[str, Any]:
        """Inside a task, every message to the client names its task (tasks.mdx related-task `_meta`)."""
        params = dict(params or {})
        params["_meta"] = {**(params.get("_meta") or {}), RELATED_TASK: {"taskId": self._task_id}}
        return params

    def report_progress(
        self, progress: float, total: float | None = None, message: str | None = None
    ) -> _Done:
        """Send notifications/progress if the caller asked for progress; values must increase."""
        token = self.progress_token
        if token is None or self._cancelled:
            return DONE
        if self._last_progress is not None and progress <= self._last_progress:
            raise ValueError(f"progress must increase: {progress} after {self._last_progress}")
        self._last_progress = progress
        self._progress_at = self._loop.time()
        params: dict[str, Any] = {"progressToken": token, "progress": progress}
        if total is not None:
            params["total"] = total
        if message is not None and self._session.revision.has_progress_message:
            params["message"] = message
        return self.notify("notifications/progress", params)

    def log(self, level: str, data: Any, logger: str | None = None) -> _Done:
        """Send notifications/message if `level` is at or above the session's level (logging/setLevel)."""
        if level not in LOG_LEVELS:
            raise ValueError(f"unknown log level {level!r}; use one of {', '.join(LOG_LEVELS)}")
        if not self._session.wants_log(level):
            return DONE
        params: dict[str, Any] = {"level": level, "data": data}
        if logger is not None:
            params["logger"] = logger
        return self.notify("notifications/message", params)

    def debug(self, data: Any, logger: str | None = None) -> _Done:
        return self.log("debug", data, logger)

    def info(self, data: Any, logger: str | None = None) -> _Done:
        return self.log("info", data, logger)

    def notice(self, data: Any, logger: str | None = None) -> _Done:
        return self.log("notice", data, logger)

    def warning(self, data: Any, logger: str | None = None) -> _Done:
        return self.log("warning", data, logger)

    def error(self, data: Any, logger: str | None = None) -> _Done:
        return self.log("error", data, logger)

    # -- requests to the client (sampling, elicitation, roots) ---------------------------------------------

    async def send_request(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        *,
        timeout: float | None = None,
        as_task: bool = False,
        task_ttl_ms: int | None = None,
        key: str | None = None,
    ) -> Any:
        """Send a request to the client on this request's channel and wait for the answer (a dict).

        The answer may arrive on another connection (HTTP: another POST). On timeout or cancellation the
        client is told with notifications/cancelled. `as_task`: ask the client to run the request as a task
        (sampling and elicitation, when it declares tasks.requests for them), then wait for the task's
        result with tasks/result; the timeout covers the whole exchange."""
        if not as_task or not self._session.revision.stateful:  # modern: no tasks in the core
            return await self._request_client(method, params, timeout, key)
        cr.require_task_support(self._session.state, method)
        task: dict[str, Any] = {} if task_ttl_ms is None else {"ttl": task_ttl_ms}
        deadline = timeout if timeout is not None else cr.DEFAULT_CLIENT_TIMEOUT
        async with asyncio.timeout(deadline):
            created = await self._request_client(method, {**(params or {}), "task": task}, None)
            task_id = msgspec.convert(created, t.CreateTaskResult).task.task_id
            try:
                return await self._request_client("tasks/result", {"taskId": task_id}, None)
            except asyncio.CancelledError:
                with contextlib.suppress(Exception):  # best effort: the client may stop the work
                    await self._request_client("tasks/cancel", {"taskId": task_id}, 5.0)
                raise

    async def _request_client(
        self, method: str, params: dict[str, Any] | None, timeout: float | None, key: str | None = None
    ) -> Any:
        session = self._session
        if not session.revision.stateful:
            return await self._input(method, params, key)
        limit = timeout if timeout is not None else cr.DEFAULT_CLIENT_TIMEOUT
        if session.state.phase != OPERATING:
            # lifecycle.mdx: no requests to the client before it sent notifications/initialized. The wait
            # counts against the request's timeout.
            started = self._loop.time()
            async with asyncio.timeout(limit):
                await self._server.hub.until_initialized(session)
            limit = max(0.0, limit - (self._loop.time() - started))
        request_id = session.next_request_id()
        future: asyncio.Future[Any] = self._loop.create_future()
        session.outstanding[request_id] = future
        if self._task_id is not None:
            # Inside a task: the request names its task, and the task waits for input meanwhile (tasks.mdx).
            params = self._naming_task(params)
            self._server.tasks.set_status(self._task_id, "input_required")
        self.send_raw(request_message(request_id, method, params))
        try:
            async with asyncio.timeout(limit):
                return await future
        except (TimeoutError, asyncio.CancelledError) as exc:
            reason = "timed out" if isinstance(exc, TimeoutError) else "cancelled"
            self.notify("notifications/cancelled", {"requestId": request_id, "reason": reason})
            raise
        finally:
            session.outstanding.pop(request_id, None)
            if self._task_id is not None:
                self._server.tasks.set_status(self._task_id, "working")

    async def start_task(self) -> None:
        """From here on, run as a task (the tasks extension of 2026-07-28, for a tool registered with
        `defer_task=True`): the request is answered with a CreateTaskResult now, and what the handler returns
        becomes the task's result, which the client polls with tasks/get. The input asked for before this
        came in multi round-trip rounds; asked for after it, the task waits in input_required. A no-op over
        a legacy session or a request that does not declare the extension (the call stays a plain one)."""
        from runtime.server.task_extension import declared

        if self._detached or self._task_id is not None or self._session.revision.stateful:
            return
        if not declared(self):
            return
        await asyncio.sleep(0)  # the request's own asyncio task is known by now (eager tasks start before it)
        if self._scope is not None:
            self._scope.reschedule(None)
        self._server.task_extension.detach(self)

    async def _input(self, method: str, params: dict[str, Any] | None, key: str | None) -> Any:
        """A request to the client over the modern revision: its answer if this retry carries it, else the
        end of this round, asking for it (with every other request this run makes in the same step, so that
        `asyncio.gather(ctx.elicit(...), ctx.sample(...))` asks for both at once)."""
        call = self._call
        if call is None or call.route.method not in INPUT_CAPABLE:
            where = "outside tools/call, prompts/get and resources/read"
            raise McpError(rpc.INTERNAL_ERROR, f"{method} cannot be asked for {where} in MCP 2026-07-28")
        self._inputs_asked += 1
        key = key or f"{method.partition('/')[0]}-{self._inputs_asked}"
        if self._task_id is not None:  # a task of the tasks extension: it waits, and tasks/update answers
            return await self._server.task_extension.ask(self, key, method, params)
        answers: dict[str, Any] = self._session.inputs  # type: ignore[attr-defined]
        if key in answers:
            self._session.used_inputs[key] = answers[key]  # type: ignore[attr-defined]
            return answers[key]
        if self._input_requests is None:
            self._input_requests = {}
        self._input_requests[key] = {"method": method, "params": params or {}}
        await asyncio.sleep(0)  # requests started in the same step register theirs
        raise InputRequired

    def _answer_as(self, answer: Any, kind: type[_R], method: str) -> _R:
        try:
            return msgspec.convert(answer, kind)
        except msgspec.ValidationError as exc:
            if self._session.revision.stateful:
                raise
            message = f"Invalid params: the input response to {method} is not valid: {exc}"
            raise McpError(rpc.INVALID_PARAMS, message) from None

    async def sample(
        self,
        messages: str | list[Any],
        *,
        max_tokens: int = 1000,
        system_prompt: str | None = None,
        temperature: float | None = None,
        stop_sequences: list[str] | None = None,
        model_preferences: t.ModelPreferences | dict[str, Any] | None = None,
        include_context: str | None = None,
        metadata: dict[str, Any] | None = None,
        tools: list[t.Tool] | list[dict[str, Any]] | None = None,
        tool_choice: t.ToolChoice | dict[str, Any] | None = None,
        timeout: float | None = None,
        as_task: bool = False,
        key: str | None = None,
    ) -> t.CreateMessageResult:
        """Ask the client's LLM for a message (sampling/createMessage). `messages` is a string (one user
        message) or SamplingMessages; `tools`/`tool_choice` need the client's sampling.tools capability.
        `as_task`: the client runs it as a task (see `send_request`)."""
        params = cr.sampling_params(
            self._session.state,
            messages,
            max_tokens=max_tokens,
            system_prompt=system_prompt,
            temperature=temperature,
            stop_sequences=stop_sequences,
            model_preferences=model_preferences,
            include_context=include_context,
            metadata=metadata,
            tools=tools,
            tool_choice=tool_choice,
        )
        result = await self.send_request(
            "sampling/createMessage", params, timeout=timeout, as_task=as_task, key=key
        )
        return self._answer_as(result, t.CreateMessageResult, "sampling/createMessage")

    async def elicit(
        self,
        message: str,
        schema: dict[str, Any] | type,
        *,
        timeout: float | None = None,
        as_task: bool = False,
        key: str | None = None,
    ) -> t.ElicitResult:
        """Ask the user for structured input (form mode). `schema` is the restricted JSON Schema as a dict,
        or a Struct/dataclass type of flat primitive fields. The result's `action` is accept, decline or
        cancel; `content` holds the answers when accepted.

        Over a modern (2026-07-28) request this ends the round with an input request, and the client's
        retry runs the handler again from its start, this time answering this call at once; `key` names the
        input request (default: "elicitation-<n>", n counting this run's requests to the client). So a
        handler should do nothing irreversible before the requests to the client it makes."""
        params = cr.form_elicitation_params(self._session.state, message, schema)
        result = await self.send_request(
            "elicitation/create", params, timeout=timeout, as_task=as_task, key=key
        )
        return self._answer_as(result, t.ElicitResult, "elicitation/create")

    async def elicit_url(
        self, message: str, url: str, *, elicitation_id: str | None = None, timeout: float | None = None
    ) -> t.ElicitResult:
        """Send the user to a URL (URL mode, e.g. an OAuth flow). Call `elicitation_complete` with the same
        id when the out-of-band interaction finishes."""
        elicitation_id = elicitation_id or secrets.token_urlsafe(16)
        params = cr.url_elicitation_params(self._session.state, message, url, elicitation_id)
        result = await self.send_request("elicitation/create", params, timeout=timeout)
        return msgspec.convert(result, t.ElicitResult)

    def elicitation_complete(self, elicitation_id: str) -> _Done:
        """notifications/elicitation/complete: the URL-mode interaction `elicitation_id` has finished."""
        return self.notify("notifications/elicitation/complete", {"elicitationId": elicitation_id})

    async def list_roots(self, *, timeout: float | None = None, key: str | None = None) -> list[t.Root]:
        """The client's roots (roots/list). `key`: see `elicit`."""
        cr.require(self._session.state, "roots", what="roots/list")
        result = await self._request_client("roots/list", None, timeout if timeout is not None else 30.0, key)
        return self._answer_as(result, t.ListRootsResult, "roots/list").roots


def url_elicitation_required(elicitations: list[dict[str, Any]], message: str = "") -> McpError:
    """Raise this from a handler to answer -32042: each entry has `url`, `message` and `elicitationId`."""
    return cr.url_elicitation_required(elicitations, message)  # type: ignore[no-any-return]
