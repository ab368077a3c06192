"""What the verifiers remember: a bounded LRU of verified tokens, each until its own expiry, and one
shared verification per token in flight.

The cache is keyed by the token string itself: hashing it first (SHA-256) would cost more than the lookup
(a token is ~1 KB) and buys nothing in this process's memory, which holds the bearer token anyway."""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable, Coroutine
from typing import Any, Generic, TypeVar

from runtime.auth.principal import Principal

T = TypeVar("T")


class TokenCache:
    """At most `maxsize` tokens (least recently used go first), each answered until its `until` time."""

    __slots__ = ("_clock", "_entries", "maxsize")

    def __init__(self, maxsize: int = 10_000, clock: Callable[[], float] = time.time) -> None:
        if maxsize < 0:
            raise ValueError("maxsize must be >= 0")
        self.maxsize = maxsize
        self._entries: OrderedDict[str, tuple[float, Principal]] = OrderedDict()
        self._clock = clock

    def get(self, token: str) -> Principal | None:
        entry = self._entries.get(token)
        if entry is None:
            return None
        if entry[0] <= self._clock():
            del self._entries[token]
            return None
        self._entries.move_to_end(token)
        return entry[1]

    def put(self, token: str, principal: Principal, until: float) -> None:
        if self.maxsize == 0 or until <= self._clock():
            return
        self._entries[token] = (until, principal)
        self._entries.move_to_end(token)
        while len(self._entries) > self.maxsize:
            self._entries.popitem(last=False)

    def discard(self, token: str) -> None:
        self._entries.pop(token, None)

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


class SingleFlight(Generic[T]):
    """Concurrent calls for the same key share one run of the work: the first caller's task, shielded so
    one waiter's cancellation does not cancel the others."""

    def __init__(self) -> None:
        self._running: dict[str, asyncio.Task[T]] = {}

    async def run(self, key: str, work: Callable[[], Coroutine[Any, Any, T]]) -> T:
        task = self._running.get(key)
        if task is None:
            task = asyncio.get_running_loop().create_task(work())
            self._running[key] = task
            task.add_done_callback(lambda done: self._done(key, done))
        return await asyncio.shield(task)

    def _done(self, key: str, task: asyncio.Task[T]) -> None:
        if self._running.get(key) is task:
            del self._running[key]
        if not task.cancelled():
            task.exception()  # retrieved: no "never retrieved" warning when every waiter left

    def __len__(self) -> int:
        return len(self._running)

    async def aclose(self) -> None:
        tasks = list(self._running.values())
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        self._running.clear()
