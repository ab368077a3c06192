"""Runs what the sans-io session asks for: handlers as tasks on the loop, replies on the request's channel.

A transport gives each incoming message an `Outbound`: where the response and any message sent while the
request runs (progress, logs, server-to-client requests) go. stdio has one for the whole connection; HTTP has
one per POST (the JSON response, upgraded to an SSE stream on the first intermediate message).
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any, Protocol

from runtime.protocol import jsonrpc as rpc
from runtime.protocol.core import Answer, Call, Cancel, Notice, Reply, ServerSession
from runtime.server.context import Context

if TYPE_CHECKING:
    from runtime.server.app import Server

log = logging.getLogger("mcprt")
EAGER_TASKS = sys.version_info >= (3, 12)


class Outbound(Protocol):
    def send(self, data: bytes) -> None:
        """A message sent while the request runs (notification or server-to-client request)."""

    def finish(self, data: bytes | None, invalid: bool = False) -> None:
        """The response to the message (None when there is none: a notification, a cancelled request).
        `invalid`: the input was not a readable message (HTTP answers 400)."""


class Runner:
    __slots__ = ("loop", "server")

    def __init__(self, server: Server, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self.server = server
        self.loop = loop or asyncio.get_running_loop()

    def feed(self, session: ServerSession, data: bytes | memoryview, out: Outbound) -> None:
        action = session.receive(data)
        kind = type(action)
        if kind is Call:
            self.call(session, action, out)  # type: ignore[arg-type]
        elif kind is Reply:
            out.finish(action.data, action.invalid)  # type: ignore[union-attr]
        else:
            if kind is Cancel:
                self._cancel(session, action)  # type: ignore[arg-type]
            elif kind is Answer:
                self.server.on_answer(session, action)  # type: ignore[arg-type]
            elif kind is Notice:
                self.server.on_notice(session, action)  # type: ignore[arg-type]
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
        if hasattr(result, "__await__"):
            session.inflight[call.id] = ctx
            ctx.task = start_task(self.loop, self._finish(session, ctx, result))
        else:
            out.finish(session.result(call, result))

    async def _finish(self, session: ServerSession, ctx: Context, pending: Any) -> None:
        call = ctx.call
        try:
            timeout = self.server.request_timeout
            if timeout is None:
                result = await pending
            else:
                async with asyncio.timeout(timeout):
                    result = await pending
        except asyncio.CancelledError:
            session.inflight.pop(call.id, None)
            # No response to a cancelled request (cancellation.mdx); the channel is released.
            ctx.out.finish(None)
            return
        except TimeoutError:
            message = f"Request timed out after {self.server.request_timeout} s"
            ctx.out.finish(session.error(call, rpc.McpError(rpc.REQUEST_TIMEOUT, message)))
            return
        except rpc.McpError as exc:
            ctx.out.finish(session.error(call, exc))
            return
        except Exception as exc:
            ctx.out.finish(session.error(call, internal_error(call.route.method, exc)))
            return
        ctx.out.finish(session.result(call, result))

    def _cancel(self, session: ServerSession, action: Cancel) -> None:
        if action.handle is None:
            cluster = self.server.cluster
            if cluster is not None:  # the request may be running in another worker process
                cluster.forward_cancel(session, action.request_id, action.reason)
            return
        if action.reason:
            log.info("request %r cancelled: %s", action.request_id, action.reason)
        action.handle.cancel()


def start_task(loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
    """A task for a handler. From Python 3.12 it starts eagerly: it runs at once up to its first suspension,
    so a handler that never waits (an echo, a cached read) answers without a trip through the event loop.
    (Emulating that on 3.11 would run handlers outside any task, which `asyncio.timeout` refuses.)"""
    if EAGER_TASKS:
        return asyncio.Task(coro, loop=loop, eager_start=True)  # type: ignore[call-arg]
    return loop.create_task(coro)


def internal_error(method: str, exc: BaseException) -> rpc.McpError:
    print(f"mcprt: error in handler of {method}: {exc!r}", file=sys.stderr)
    return rpc.McpError(rpc.INTERNAL_ERROR, f"Internal error in {method}: {type(exc).__name__}: {exc}")
