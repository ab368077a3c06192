"""The cross-worker bus within one process (`MessageBus` of runtime/stores/bus.py): several slots on one event
loop, each with a bounded inbox. For running cluster logic without worker processes; messages are msgpack
round-tripped as on the shared-memory bus, so they arrive with the same types (tuples as lists)."""

from __future__ import annotations

import asyncio
import sys
from collections import deque
from collections.abc import Callable
from typing import Any

import msgspec

from runtime.stores.bus import MessageBus

_encode = msgspec.msgpack.encode
_decode = msgspec.msgpack.decode


class MemoryHub:
    """The inboxes of `slots` slots, each holding at most `inbox_bytes` bytes of frames."""

    def __init__(self, slots: int, inbox_bytes: int = 1 << 20) -> None:
        self.slots = slots
        self.inbox_bytes = inbox_bytes
        self.inboxes: list[deque[bytes]] = [deque() for _ in range(slots)]
        self.pending = [0] * slots  # bytes in each inbox
        self.members: dict[int, MemoryBus] = {}


class MemoryBus(MessageBus):
    def __init__(
        self,
        hub: MemoryHub,
        slot: int,
        loop: asyncio.AbstractEventLoop,
        on_message: Callable[[list[Any]], None],
    ) -> None:
        self.hub = hub
        self.slot = slot
        self.loop = loop
        self.on_message = on_message
        self.dropped = 0
        self._woken = False
        hub.members[slot] = self

    def send(self, slot: int, message: tuple[Any, ...]) -> bool:
        if slot == self.slot:
            self.on_message(list(message))
            return True
        frame = _encode(message)
        hub = self.hub
        if hub.pending[slot] + len(frame) > hub.inbox_bytes:
            self.dropped += 1
            note = f"mcprt: worker {self.slot}: inbox of worker {slot} is full; message dropped"
            print(note, file=sys.stderr)
            return False
        hub.inboxes[slot].append(frame)
        hub.pending[slot] += len(frame)
        target = hub.members.get(slot)
        if target is not None and not target._woken:
            target._woken = True
            target.loop.call_soon_threadsafe(target.drain)
        return True

    def broadcast(self, message: tuple[Any, ...]) -> None:
        for slot in range(self.hub.slots):
            if slot != self.slot:
                self.send(slot, message)

    def drain(self) -> None:
        self._woken = False
        inbox = self.hub.inboxes[self.slot]
        while inbox:
            frame = inbox.popleft()
            self.hub.pending[self.slot] -= len(frame)
            try:
                self.on_message(_decode(frame))
            except Exception as exc:  # one bad message must not stop the worker
                print(f"mcprt: worker {self.slot}: bad cluster message: {exc!r}", file=sys.stderr)

    def close(self) -> None:
        if self.hub.members.get(self.slot) is self:
            del self.hub.members[self.slot]
