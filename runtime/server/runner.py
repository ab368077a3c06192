"""Runs what the sans-io session asks for: handlers as tasks on the loop, replies on the request's channel.

A transport gives each incoming message an `Outbound`: where the response and any message sent while the
request runs (progress, logs, server-to-client requests) go. stdio has one for the whole connection; HTTP has
one per POST (the JSON response, upgraded to an SSE stream on the first intermediate message).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any, Protocol

import msgspec

from runtime.protocol import jsonrpc as rpc
from runtime.protocol.core import Answer, Batch, Call, Cancel, Notice, Reply, ServerSession
from runtime.server.context import Context, InputRequired
from runtime.server.failures import internal_error

if TYPE_CHECKING:
    from runtime.server.app import Server

log = logging.getLogger("mcprt")
# From Python 3.12 a handler's task starts eagerly: it runs at once up to its first suspension, so a handler
# that never waits (an echo, a cached read) answers without a trip through the event loop. (Emulating that on
# 3.11 would run handlers outside any task, which `asyncio.timeout` and anyio's cancel scopes refuse.)
EAGER_TASKS = sys.version_info >= (3, 12)


class Outbound(Protocol):
    def send(self, data: bytes) -> None:
        """A message sent while the request runs (notification or server-to-client request)."""

    def finish(self, data: bytes | None, invalid: bool = False) -> None:
        """The response to the message (None when there is none: a notification, a cancelled request).
        `invalid`: the input was not a readable message (HTTP answers 400)."""


class Then(msgspec.Struct, gc=False):
    """What a route handler returns when its answer needs an await: the runner awaits `awaitable`, then
    answers with `convert(value)`. `recover(exc)`, when set, turns an exception of the awaitable into a
    result (a failing tool answers with an isError result)."""

    awaitable: Any
    convert: Callable[[Any], Any]
    recover: Callable[[Exception], Any] | None = None

    def __await__(self) -> Generator[Any, None, Any]:
        return self._run().__await__()

    async def _run(self) -> Any:
        try:
            value = await self.awaitable
        except (asyncio.CancelledError, rpc.McpError):
            raise
        except Exception as exc:
            if self.recover is None:
                raise
            return self.recover(exc)
        return self.convert(value)


class Runner:
    __slots__ = ("loop", "running", "server")

    def __init__(self, server: Server, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self.server = server
        self.loop = loop or asyncio.get_running_loop()
        # The handlers that await, as tasks: a stopping server lets them end (`settle`) before it closes
        # the stores they answer into. (Inline handlers are done before `call` returns.)
        self.running: set[asyncio.Task[None]] = set()

    async def settle(self, timeout: float) -> None:
        """Stopping: wait up to `timeout` s for the running handlers, then cancel the rest and give them a
        moment to unwind (their answers and in-flight entries go to stores that are still open)."""
        if self.running:
            await asyncio.wait(set(self.running), timeout=max(timeout, 0.0))
        left = set(self.running)
        for task in left:
            task.cancel()
        if left:
            await asyncio.wait(left, timeout=1.0)  # a handler that ignores its cancellation is left behind

    def feed(self, session: ServerSession, data: bytes | memoryview, out: Outbound) -> None:
        self.act(session, session.receive(data), out)

    def act(self, session: ServerSession, action: Any, out: Outbound) -> None:
        kind = type(action)
        if kind is Call:
            self.call(session, action, out)
        elif kind is Reply:
            out.finish(action.data, action.invalid)
        else:
            if kind is Cancel:
                self._cancel(session, action)
            elif kind is Answer:
                self.server.hub.on_answer(session, action)
            elif kind is Notice:
                self.server.hub.on_notice(session, action)
            elif kind is Batch:
                run_batch(self, session, action.messages, out)
                return
            out.finish(None)

    def call(self, session: ServerSession, call: Call, out: Outbound) -> None:
        ctx = Context(self.server, session, call, out, self.loop)
        try:
            result = call.route.handler(ctx, call.message.params)
        except rpc.McpError as exc:
            out.finish(session.error(call, exc))
            return
        except Exception as exc:  # a bug in a handler answers this request only
            out.finish(session.error(call, internal_error(call.route.method, exc)))
            return
        kind = type(result)
        if kind is Then or (kind is not bytes and hasattr(result, "__await__")):
            inflight = session.inflight
            if type(inflight) is not dict:  # shared by several workers: the id must be free in all of them
                refused = inflight.claim(call.id)  # type: ignore[attr-defined]
                if refused is not None:
                    _discard(result)
                    out.finish(refused)
                    return
            inflight[call.id] = ctx
            coro = self._finish(session, ctx, call, result)
            task = ctx._task = (
                asyncio.Task(coro, loop=self.loop, eager_start=True)  # type: ignore[call-arg]
                if EAGER_TASKS
                else self.loop.create_task(coro)
            )
            if not task.done():
                self.running.add(task)
                task.add_done_callback(self.running.discard)
        else:
            out.finish(session.result(call, result))

    async def _finish(self, session: ServerSession, ctx: Context, call: Call, pending: Any) -> None:
        timeout = self.server.request_timeout
        error: rpc.McpError | None
        try:
            if timeout is None:
                result = await pending
            else:
                async with asyncio.timeout(timeout) as scope:
                    ctx._scope = scope
                    result = await pending
        except asyncio.CancelledError:
            session.inflight.pop(call.id, None)
            # No response to a cancelled request (cancellation.mdx); the channel is released.
            ctx._out.finish(None)
            return
        except InputRequired:  # a modern request's round ends, asking the client (mrtr.mdx)
            ctx._out.finish(session.input_required(call, ctx._input_requests))  # type: ignore[attr-defined]
            return
        except TimeoutError as exc:
            if timeout is None:  # the handler's own timeout, not the request's
                error = internal_error(call.route.method, exc)
            else:
                error = rpc.McpError(rpc.REQUEST_TIMEOUT, f"Request timed out after {timeout} s")
        except rpc.McpError as exc:
            error = exc
        except Exception as exc:
            error = internal_error(call.route.method, exc)
        else:
            error = None
        if ctx._detached:  # it became a task (ctx.start_task): its outcome is the task's
            self.server.task_extension.settled(ctx, None if error is not None else result, error)
            return
        if ctx._last_progress is not None:
            await _after_progress(ctx)
        ctx._out.finish(session.result(call, result) if error is None else session.error(call, error))

    def _cancel(self, session: ServerSession, action: Cancel) -> None:
        if action.handle is None:
            cluster = self.server.cluster
            if cluster is not None:  # the request may be running in another worker process
                cluster.forward_cancel(session, action.request_id, action.reason)
            return
        if action.reason:
            log.info("request %r cancelled: %s", action.request_id, action.reason)
        action.handle.cancel()


class BatchOutbound:
    """The channel each message of a JSON-RPC batch answers on: messages sent while they run go on the
    batch's channel; the responses are collected and leave together, as one array, when the last message
    has finished (no response at all: none, as for a lone notification)."""

    __slots__ = ("out", "pending", "responses")

    def __init__(self, out: Outbound, pending: int) -> None:
        self.out = out
        self.pending = pending
        self.responses: list[bytes] = []

    @property
    def progress_gap(self) -> float:
        return getattr(self.out, "progress_gap", 0.0)

    @property
    def principal(self) -> Any:
        return getattr(self.out, "principal", None)

    def send(self, data: bytes) -> None:
        self.out.send(data)

    def finish(self, data: bytes | None, invalid: bool = False) -> None:
        if data is not None:
            self.responses.append(data)
        self.pending -= 1
        if self.pending == 0:
            self.out.finish(b"[" + b",".join(self.responses) + b"]" if self.responses else None)


def run_batch(runner: Runner, session: ServerSession, messages: list[Any], out: Outbound) -> None:
    # One count more than messages, taken back at the end: the array waits until every message was fed,
    # even when the first ones finish at once.
    batch = BatchOutbound(out, len(messages) + 1)
    for message in messages:
        runner.act(session, session.classify_in_batch(message), batch)
    batch.finish(None)


async def _after_progress(ctx: Context) -> None:
    """Let a progress notification sent just before the response leave well before it, on a channel that
    asks for that (`progress_gap`: stdio, for clients that drop a progress read together with the response;
    see workers/stdio.py)."""
    wait = ctx._progress_at + getattr(ctx._out, "progress_gap", 0.0) - ctx._loop.time()
    if wait > 0:
        with contextlib.suppress(asyncio.CancelledError):  # cancelled now: the answer is ready anyway
            await asyncio.sleep(wait)


def _discard(pending: Any) -> None:
    """Drop the work of a request refused after its handler returned (nothing of a coroutine has run)."""
    if type(pending) is Then:
        pending = pending.awaitable
    if asyncio.iscoroutine(pending):
        pending.close()
    elif isinstance(pending, asyncio.Future):
        pending.cancel()  # a sync handler's thread: stopped unless it started already
