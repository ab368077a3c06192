"""A modern client's `subscriptions/listen` stream (2026-07-28 basic/patterns/subscriptions.mdx), seen from
the client: the filter the server acknowledged, then the notifications tagged with this subscription's id,
until the client closes it or the server ends it (a final result: a graceful end; a dropped stream: not).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

MAX_QUEUED = 1024  # notifications kept for a reader that has not caught up; the oldest go first

Notification = tuple[str, dict[str, Any]]


class Subscription:
    """Iterate it (`async for method, params in subscription`) or let the Client's `on_notification` take
    the notifications; `acknowledged` is the filter the server agreed to honour (what it does not support
    is left out). `close()` (or leaving `async with`) ends it."""

    def __init__(self, subscription_id: int, closer: Callable[[], Awaitable[None]]) -> None:
        self.id = subscription_id
        self.acknowledged: dict[str, Any] = {}
        self.ended_by_server = False  # the server answered the listen request: it closed the stream cleanly
        self.error: BaseException | None = None  # the stream was lost (or refused)
        self.dropped = 0  # notifications dropped because the reader fell MAX_QUEUED behind
        self._ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue: deque[Notification] = deque()
        self._wakeup = asyncio.Event()
        self._closed = False
        self._closer = closer

    # -- fed by the Client ---------------------------------------------------------------------------------

    def deliver(self, method: str, params: dict[str, Any]) -> None:
        if method == "notifications/subscriptions/acknowledged":
            notifications = params.get("notifications")
            self.acknowledged = notifications if isinstance(notifications, dict) else {}
            if not self._ready.done():
                self._ready.set_result(None)
            return
        if len(self._queue) >= MAX_QUEUED:
            self._queue.popleft()
            self.dropped += 1
        self._queue.append((method, params))
        self._wakeup.set()

    def ended(self, error: BaseException | None) -> None:
        """The listen request got its answer (None: a graceful end) or failed."""
        self.ended_by_server = error is None
        self.error = error
        self._closed = True
        if not self._ready.done():
            if error is not None:
                self._ready.set_exception(error)
            else:
                self._ready.set_result(None)
        self._wakeup.set()

    async def until_acknowledged(self, timeout: float) -> None:
        async with asyncio.timeout(timeout):
            await asyncio.shield(self._ready)

    # -- for the caller ------------------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self._closed

    async def close(self) -> None:
        """Cancel the subscription: close its stream (HTTP) or send notifications/cancelled (stdio)."""
        if self._closed:
            return
        self._closed = True
        self._wakeup.set()
        with contextlib.suppress(Exception):
            await self._closer()

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> Notification:
        while not self._queue:
            if self._closed:
                raise StopAsyncIteration
            self._wakeup.clear()
            await self._wakeup.wait()
        return self._queue.popleft()

    async def __aenter__(self) -> Subscription:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
