"""One upstream MCP server behind the gateway: its connection (our `Client`), kept up with back-off, and the
relay of what it asks or tells while the gateway's calls run.

A connection is shared by every downstream session this process serves. What the upstream sends back in the
middle of a forwarded call goes to the downstream request that call serves (its `Context`):

- progress: by the progress token the Client put on the forwarded request (exact);
- sampling, elicitation, roots/list and log messages: over HTTP, from the POST's own SSE stream, which a
  context variable set around the forwarded request identifies (exact); over stdio (one pipe, no relation on
  the wire), the forwarded calls in flight on that connection, when they all serve one downstream session
  (its client answers for any of them). With no call in flight, roots/list is answered with the
  configuration's `roots` and a log message goes to every session; with calls of several sessions in flight
  a sampling or elicitation request is refused (the gateway cannot tell whose user to ask).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import itertools
import logging
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol

import msgspec

from runtime.client.client import Client
from runtime.client.errors import ClientClosed
from runtime.protocol import jsonrpc as rpc
from runtime.protocol import types as t
from runtime.server.client_requests import ClientRequestError
from runtime.server.context import Context
from runtime.server.failures import ToolError

if TYPE_CHECKING:
    from router.gateway.config import Reconnect, UpstreamConfig

log = logging.getLogger("mcprt.gateway")

# The upstream and downstream request a forwarded request serves; read where the upstream's messages arrive.
_CALLER: contextvars.ContextVar[tuple[Upstream, Context] | None] = contextvars.ContextVar(
    "mcprt_gateway_caller", default=None
)
RELAYED = ("sampling/createMessage", "elicitation/create", "roots/list")
LIST_CHANGED = {
    "notifications/tools/list_changed": "tools",
    "notifications/resources/list_changed": "resources",
    "notifications/prompts/list_changed": "prompts",
}
_LOST = (ConnectionError, OSError)  # ClientClosed, HttpStatusError, refused and reset connections


class Unavailable(ToolError):
    """The upstream cannot take the request now (down, reconnecting, given up): the message says which and
    when it is tried again; a tool call answers with it as an isError result."""


class Listener(Protocol):
    """What the gateway hears from an upstream (implemented by `Gateway`)."""

    async def upstream_ready(self, upstream: Upstream) -> None:
        """Connected (again): list everything it offers."""

    async def upstream_changed(self, upstream: Upstream, kind: str) -> None:
        """Its `kind` list changed (tools, resources, prompts): list it again."""

    def upstream_updated(self, upstream: Upstream, uri: str) -> None:
        """notifications/resources/updated for one of its URIs."""

    def upstream_log(self, upstream: Upstream, params: dict[str, Any]) -> None:
        """A log message that belongs to no forwarded call."""

    def default_roots(self) -> list[dict[str, Any]]:
        """The roots to answer with when no forwarded call asks."""


class _UpstreamClient(Client):
    """Our Client, telling when its connection ends (stdio: the process exited) and when it started a new
    HTTP session by itself (the server ended the old one: its tools may have changed)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lost = asyncio.Event()
        self.on_new_session: Callable[[], None] = lambda: None

    def _on_close(self, error: BaseException | None) -> None:
        super()._on_close(error)
        self.lost.set()

    async def _restart_session(self, generation: int) -> None:
        await super()._restart_session(generation)
        self.on_new_session()


class Upstream:
    """One upstream server: connected at `start`, reconnected with back-off whenever it fails."""

    def __init__(self, config: UpstreamConfig, reconnect: Reconnect, listener: Listener) -> None:
        self.config = config
        self.name = config.name
        self.reconnect = reconnect
        self.listener = listener
        self.client: _UpstreamClient | None = None
        self.state = "starting"  # starting, ready, down (waiting to try again), failed (given up)
        self.failures = 0  # consecutive failed attempts
        self.retry_at: float | None = None  # loop time of the next attempt while down
        self.connects = 0  # successful connections so far (1 + reconnections)
        self.first_attempt = asyncio.Event()  # the first attempt succeeded or failed
        self.inflight: dict[int, Context] = {}  # forwarded requests, for the stdio relay
        self._keys = itertools.count()
        self._task: asyncio.Task[None] | None = None
        self._resync: asyncio.Task[None] | None = None
        self._dirty: set[str] = set()
        self._closed = False

    # -- connection --------------------------------------------------------------------------------------

    def start(self) -> None:
        if self._task is None:
            # A fresh context: the stdio reader started in it must not inherit a forwarded call's caller.
            loop = asyncio.get_running_loop()
            self._task = loop.create_task(self._run(), context=contextvars.Context())

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while not self._closed:
            client = None
            try:
                client = await asyncio.wait_for(self._connect(), self.reconnect.connect_timeout)
                self.client, self.state, self.failures, self.retry_at = client, "ready", 0, None
                self.connects += 1
                self.first_attempt.set()
                _say(f"upstream {self.name!r} connected ({self.config.target})")
                await client.lost.wait()
                _say(f"upstream {self.name!r} disconnected")
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # refused, exited, timed out, a bad answer: tried again later
                self.failures += 1
                _say(f"upstream {self.name!r} failed ({_reason(exc)})")
            finally:
                if self.client is client:
                    self.client = None
                if client is not None:
                    with contextlib.suppress(Exception):
                        await asyncio.shield(client.close())
            self.first_attempt.set()
            if self._closed:
                return
            attempts = self.reconnect.max_attempts
            if attempts and self.failures >= attempts:
                self.state = "failed"
                _say(f"upstream {self.name!r} given up after {self.failures} failed attempts")
                return
            delay = self.reconnect.delay(max(1, self.failures))
            self.state, self.retry_at = "down", loop.time() + delay
            await asyncio.sleep(delay)
            self.state = "starting"

    async def _connect(self) -> _UpstreamClient:
        config = self.config
        target: str | list[str] = config.url if config.url is not None else list(config.command or [])
        client = _UpstreamClient(
            target,
            name="mcprt-gateway",
            # initialize waits as long as the whole attempt may take; forwarded requests pass their own
            timeout=self.reconnect.connect_timeout,
            # Declared to every upstream: a forwarded call's request is relayed to the downstream client,
            # which is checked for the capability then (see _relay).
            roots=[],
            sampling_handler=_never,
            elicitation_handler=_never,
            accept_tasks=False,
            validate_output=False,  # the downstream client checks; the gateway passes results on as they are
            on_notification=self._notified,
            on_log=self._logged,
            headers=config.headers or None,
            verify=config.verify,
            env=config.env,
            cwd=config.cwd,
        )
        for method in RELAYED:
            client.request_handlers[method] = _relay_for(self, method)
        client.on_new_session = lambda: self.changed("tools", "resources", "prompts")
        try:
            await client.connect()
            self.client = client  # listing goes through request(), which needs it
            self.state = "ready"
            caps = client.server_capabilities
            if self.config.log_level is not None and caps is not None and caps.logging is not None:
                await client.set_log_level(self.config.log_level)
            await self.listener.upstream_ready(self)
        except BaseException:
            self.client = None
            self.state = "starting"
            await client.close()
            raise
        return client

    def changed(self, *kinds: str) -> None:
        """The upstream's lists changed: list them again, once for a burst of notifications."""
        self._dirty.update(kinds)
        if self._resync is None or self._resync.done():
            self._resync = asyncio.get_running_loop().create_task(
                self._resync_all(), context=contextvars.Context()
            )

    async def _resync_all(self) -> None:
        while self._dirty and self.state == "ready":
            kind = self._dirty.pop()
            try:
                await self.listener.upstream_changed(self, kind)
            except Exception as exc:
                log.warning("gateway: listing %s of upstream %r failed (%s)", kind, self.name, _reason(exc))

    def close(self) -> None:
        """Stop: no new attempts; a stdio upstream is told to end at once (SIGTERM), as the gateway ends."""
        self._closed = True
        for task in (self._task, self._resync):
            if task is not None:
                task.cancel()
        client = self.client
        process = getattr(client.transport, "process", None) if client is not None else None
        if process is not None and process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.terminate()

    async def aclose(self) -> None:
        self.close()
        client = self.client
        if client is not None:
            with contextlib.suppress(Exception):
                await client.close()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task

    # -- forwarding ---------------------------------------------------------------------------------------

    def unavailable(self) -> Unavailable:
        if self.state == "failed":
            why = f"given up after {self.failures} failed connection attempts"
        elif self.retry_at is not None:
            wait = max(0.0, self.retry_at - asyncio.get_running_loop().time())
            why = f"reconnecting, next attempt in {wait:.1f} s"
        else:
            why = "connecting"
        return Unavailable(f"upstream server {self.name!r} is unavailable ({why}); try again later")

    async def request(
        self,
        method: str,
        params: dict[str, Any] | None,
        ctx: Context | None,
        *,
        result_type: Any = None,
        progress: Callable[[float, float | None, str | None], Any] | None = None,
    ) -> Any:
        """Forward one request; a lost connection raises `Unavailable` (and starts the reconnection), the
        upstream's own JSON-RPC errors come as `McpError`."""
        client = self.client
        if client is None or self.state != "ready":
            raise self.unavailable()
        key = next(self._keys)
        if ctx is not None:
            self.inflight[key] = ctx
        caller = _CALLER.set((self, ctx) if ctx is not None else None)
        try:
            return await client.request(
                method, params, result_type=result_type, timeout=self.config.timeout, progress=progress
            )
        except TimeoutError:
            raise Unavailable(
                f"upstream server {self.name!r} did not answer within {self.config.timeout:g} s"
            ) from None
        except _LOST as exc:
            log.warning("gateway: upstream %r lost during %s (%s)", self.name, method, _reason(exc))
            client.lost.set()
            raise Unavailable(
                f"upstream server {self.name!r} failed during the request; the gateway is reconnecting"
            ) from None
        finally:
            _CALLER.reset(caller)
            self.inflight.pop(key, None)

    async def call_tool(self, name: str, arguments: dict[str, Any], ctx: Context, as_task: bool) -> bytes:
        """tools/call upstream; the result as the upstream encoded it. A tool the upstream runs only as a
        task is called as one, and its result awaited (the downstream client sees a plain call)."""
        params: dict[str, Any] = {"name": name, "arguments": arguments}
        progress = _progress_to(ctx) if ctx.progress_token is not None else None
        if not as_task:
            raw = await self.request("tools/call", params, ctx, result_type=msgspec.Raw, progress=progress)
            return bytes(raw)
        params["task"] = {}
        created = await self.request("tools/call", params, ctx, result_type=t.CreateTaskResult)
        task_id = created.task.task_id
        try:
            raw = await self.request("tasks/result", {"taskId": task_id}, ctx, result_type=msgspec.Raw)
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.request("tasks/cancel", {"taskId": task_id}, None), 5.0)
            raise
        return bytes(raw)

    # -- what the upstream sends ----------------------------------------------------------------------------

    def caller(self) -> Context | None:
        """The downstream request the upstream's current message belongs to (see the module docstring)."""
        current = _CALLER.get()
        if current is not None and current[0] is self:
            return current[1]
        calls = list(self.inflight.values())
        if calls and all(ctx.session_id == calls[0].session_id for ctx in calls[1:]):
            return calls[0]  # one call, or several of one downstream session: its client answers either way
        return None

    def _notified(self, method: str, params: Any) -> None:
        kind = LIST_CHANGED.get(method)
        if kind is not None:
            self.changed(kind)
        elif method == "notifications/resources/updated" and isinstance(params, dict):
            uri = params.get("uri")
            if isinstance(uri, str):
                self.listener.upstream_updated(self, uri)

    def _logged(self, params: t.LoggingMessageNotificationParams) -> None:
        entry: dict[str, Any] = {"level": params.level, "data": params.data}
        entry["logger"] = f"{self.name}.{params.logger}" if params.logger else self.name
        ctx = self.caller()
        if ctx is None:
            self.listener.upstream_log(self, entry)
            return
        with contextlib.suppress(ValueError):
            ctx.log(entry["level"], entry["data"], entry["logger"])


def _relay_for(upstream: Upstream, method: str) -> Callable[[Any], Awaitable[Any]]:
    async def relay(params: Any) -> Any:
        return await _relay(upstream, method, params if isinstance(params, dict) else None)

    return relay


async def _relay(upstream: Upstream, method: str, params: dict[str, Any] | None) -> Any:
    """An upstream's request to its client, asked of the downstream client whose call it serves."""
    ctx = upstream.caller()
    if ctx is None:
        if method == "roots/list":
            return {"roots": upstream.listener.default_roots()}
        busy = len(upstream.inflight)
        why = "no forwarded call is in flight" if not busy else f"{busy} forwarded calls are in flight"
        raise rpc.McpError(
            rpc.INVALID_REQUEST, f"the gateway cannot relay {method} to a client: {why} on this connection"
        )
    refusal = _undeclared(ctx, method, params or {})
    if refusal is not None:
        raise rpc.McpError(rpc.INVALID_PARAMS, refusal)
    params = {k: v for k, v in (params or {}).items() if k != "task"}  # tasks are not offered upstream
    timeout = 30.0 if method == "roots/list" else None  # sampling and elicitation may wait for a human
    try:
        return await ctx.send_request(method, params or None, timeout=timeout)
    except ClientRequestError as exc:  # the downstream client's own answer, passed back as it was
        raise rpc.McpError(exc.code, str(exc), exc.data) from None
    except TimeoutError:
        raise rpc.McpError(rpc.REQUEST_TIMEOUT, f"the client did not answer {method} in time") from None


def _undeclared(ctx: Context, method: str, params: dict[str, Any]) -> str | None:
    """Why the downstream client cannot take this request (a capability it did not declare), or None."""
    state = ctx._session.state
    if method == "roots/list" and not state.client_supports("roots"):
        return "the gateway's client did not declare the 'roots' capability"
    if method == "sampling/createMessage":
        if not state.client_supports("sampling"):
            return "the gateway's client did not declare the 'sampling' capability"
        if (params.get("tools") or "toolChoice" in params) and not state.client_supports("sampling", "tools"):
            return "the gateway's client did not declare the 'sampling.tools' capability"
    if method == "elicitation/create":
        declared = state.client_capabilities.get("elicitation")
        if not isinstance(declared, dict):
            return "the gateway's client did not declare the 'elicitation' capability"
        mode = params.get("mode", "form")
        modes = {m for m in declared if m in ("form", "url")} or {"form"}
        if mode not in modes:
            return f"the gateway's client did not declare elicitation mode {mode!r}"
    return None


def _progress_to(ctx: Context) -> Callable[[float, float | None, str | None], None]:
    def relay(progress: float, total: float | None, message: str | None) -> None:
        with contextlib.suppress(ValueError):  # a progress that does not increase is not passed on
            ctx.report_progress(progress, total, message)

    return relay


def _never(params: Any) -> Any:
    raise rpc.McpError(rpc.INTERNAL_ERROR, "replaced by the gateway's relay")


def _say(message: str) -> None:
    """A change of an upstream's state, on stderr as mcprt reports its own (never to a client)."""
    print(f"mcprt gateway: {message}", file=sys.stderr, flush=True)


def _reason(exc: BaseException) -> str:
    """A one-line cause for the log (never sent to a client)."""
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


__all__ = ["ClientClosed", "Listener", "Unavailable", "Upstream"]
