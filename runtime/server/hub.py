"""The session hub of one `Server` in one process: the live sessions and how to reach each outside any
request, the server-wide events (list changes, resource updates) delivered to them and published to the other
workers, the client's answers to the server's own requests, and the hop from a handler's thread to the loop.

The author's surface (`Server`) and the method handlers never hold a session; they ask the hub.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Protocol

from runtime.protocol import jsonrpc as rpc
from runtime.protocol.core import Answer, Notice, ServerSession
from runtime.protocol.jsonrpc import notification_message
from runtime.protocol.state import OPERATING
from runtime.server.client_requests import ClientRequestError
from runtime.server.context import Context

if TYPE_CHECKING:
    from runtime.server.app import Server

# Sends a message outside any request; False: nothing took it (None: always taken, as stdio).
Send = Callable[[bytes], bool | None]
ON_LOOP = object()  # `SessionHub.on_loop`: already on the serving loop


class Cluster(Protocol):
    """What a worker of the multi-process runtime plugs into the hub (see workers/cluster)."""

    def publish(self, event: tuple[Any, ...]) -> None:
        """Tell the other workers of a server-wide event: ("resource_updated", uri) or ("list_changed", k)."""

    def reachable(self, session: ServerSession) -> bool:
        """Whether this process holds the session's standalone stream (and so delivers its events)."""

    def forward_answer(self, session: ServerSession, answer: Answer) -> None:
        """The client answered a request another worker sent: pass the answer to that worker."""

    def forward_cancel(self, session: ServerSession, request_id: Any, reason: str | None) -> None:
        """notifications/cancelled for a request not running here: tell the worker that runs it."""


class SessionHub:
    def __init__(self, server: Server) -> None:
        self.server = server
        self.live: dict[ServerSession, Send] = {}
        # Set by a worker of the multi-process runtime: how events reach sessions served by other workers.
        self.cluster: Cluster | None = None
        # Sessions whose requests to the client wait for notifications/initialized.
        self._initializing: dict[ServerSession, asyncio.Event] = {}
        self._loop: asyncio.AbstractEventLoop | None = None  # the serving loop, once a session attached
        self._hooks: set[asyncio.Task[Any]] = set()

    # -- live sessions -------------------------------------------------------------------------------------

    def attach(self, session: ServerSession, send: Send) -> None:
        """A transport announces a live session and how to reach it outside of any request."""
        self.live[session] = send
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
        self.server.attached(session)

    def detach(self, session: ServerSession) -> None:
        self.live.pop(session, None)

    def reachable(self) -> Iterator[tuple[ServerSession, Send]]:
        """The live sessions whose events this process delivers (another worker holds the others' streams)."""
        cluster = self.cluster
        for session, send in list(self.live.items()):
            if cluster is None or cluster.reachable(session):
                yield session, send

    def channel(self, session: ServerSession) -> SessionChannel:
        return SessionChannel(self, session)

    def session_context(self, session: ServerSession) -> Context:
        return Context(self.server, session, None, SessionChannel(self, session), asyncio.get_running_loop())

    # -- server-wide events --------------------------------------------------------------------------------

    def publish(self, event: tuple[Any, ...]) -> None:
        if self.cluster is not None:
            self.cluster.publish(event)

    def deliver_resource_updated(self, uri: str) -> int:
        """notifications/resources/updated to this process's subscribers of `uri`; how many were told."""
        self.server.subscriptions.resource_updated(uri)
        data = notification_message("notifications/resources/updated", {"uri": uri})
        told = 0
        for session, send in self.reachable():
            if uri in session.state.subscriptions:
                send(data)
                told += 1
        return told

    def deliver_list_changed(self, kind: str) -> None:
        self.server.subscriptions.list_changed(kind)
        if self.live:
            data = notification_message(f"notifications/{kind}/list_changed")
            for session, send in self.reachable():
                if session.state.phase >= 1 and kind in session.profile.capabilities:
                    send(data)

    # -- what the client sends besides requests ------------------------------------------------------------

    def on_answer(self, session: ServerSession, answer: Answer) -> None:
        """The client answered a request this server sent (sampling, elicitation, roots)."""
        future = session.outstanding.pop(answer.request_id, None)
        if future is None and self.cluster is not None:
            self.cluster.forward_answer(session, answer)  # sent by another worker: it waits for this
            return
        if future is None or future.done():
            return  # late (timed out, cancelled) or unknown: ignored
        error = answer.error
        if error is not None:
            code = error.get("code", rpc.INTERNAL_ERROR) if isinstance(error, dict) else rpc.INTERNAL_ERROR
            message = error.get("message", "error") if isinstance(error, dict) else str(error)
            data = error.get("data") if isinstance(error, dict) else None
            future.set_exception(ClientRequestError(code, message, data))
        else:
            future.set_result(answer.result)

    def on_notice(self, session: ServerSession, notice: Notice) -> None:
        if notice.method == "notifications/initialized":
            waiting = self._initializing.pop(session, None)
            if waiting is not None:
                waiting.set()
            return
        hook = self.server.on_roots_changed
        if notice.method == "notifications/roots/list_changed" and hook is not None:
            outcome = hook(self.session_context(session))
            if asyncio.iscoroutine(outcome):  # an async hook runs on the loop; keep it referenced until done
                task = asyncio.get_running_loop().create_task(outcome)
                self._hooks.add(task)
                task.add_done_callback(self._hooks.discard)

    async def until_initialized(self, session: ServerSession) -> None:
        """Wait for the client's notifications/initialized: before it the server sends no requests
        (lifecycle.mdx). The caller bounds the wait; with several workers the notification may reach
        another one, so the shared record's phase is looked at too."""
        event = self._initializing.get(session)
        if event is None:
            event = self._initializing[session] = asyncio.Event()
        try:
            while session.state.phase != OPERATING:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(event.wait(), 0.1)
        finally:
            if self._initializing.get(session) is event:  # other waiters still see the phase change
                del self._initializing[session]

    # -- threads -------------------------------------------------------------------------------------------

    def on_loop(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Called from another thread than the serving loop's: run `fn(*args)` on the loop, wait, and return
        its result. Called on the loop (or before serving): `ON_LOOP`, and the caller goes on itself."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return ON_LOOP
        try:
            if asyncio.get_running_loop() is loop:
                return ON_LOOP
        except RuntimeError:
            pass
        done: concurrent.futures.Future[Any] = concurrent.futures.Future()

        def run() -> None:
            try:
                done.set_result(fn(*args))
            except BaseException as exc:
                done.set_exception(exc)

        loop.call_soon_threadsafe(run)
        return done.result()


class SessionChannel:
    """Where a message unrelated to any request goes: the session's channel for them (stdio: stdout; HTTP:
    the standalone GET stream). A task's messages go here once its request has been answered."""

    __slots__ = ("hub", "session")

    def __init__(self, hub: SessionHub, session: ServerSession) -> None:
        self.hub = hub
        self.session = session

    def send(self, data: bytes) -> None:
        self.offer(data)

    def offer(self, data: bytes) -> bool:
        """Send if the session has a channel for unrelated messages; False: nothing took it."""
        send = self.hub.live.get(self.session)
        return send is not None and send(data) is not False  # stdio's send returns None: always taken

    def finish(self, data: bytes | None, invalid: bool = False) -> None:
        if data is not None:
            self.send(data)


class TaskChannel(SessionChannel):
    """Where the messages of a running task go (tasks.mdx "Task-related messages"): on the task's open
    tasks/result stream, else on the session's standalone stream, else waiting for the next tasks/result."""

    __slots__ = ("task_id",)

    def __init__(self, hub: SessionHub, session: ServerSession, task_id: str) -> None:
        super().__init__(hub, session)
        self.task_id = task_id

    def send(self, data: bytes) -> None:  # the task's Context has named the task in each message
        self.hub.server.tasks.deliver(self.task_id, data, self.offer)
