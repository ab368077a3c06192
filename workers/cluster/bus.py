"""The cross-worker message path: one shared-memory ring per worker slot (its inbox) and one pipe per slot
to wake its event loop. A sender pushes a msgpack frame into the target's ring, then writes a byte to the
target's pipe; the target's loop drains the ring when the pipe is readable (no polling, no blocking)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import Callable
from typing import Any

import msgspec

from ipc.ring import Ring
from runtime.stores.bus import MessageBus
from workers.cluster.config import ClusterConfig, ring_name

_encode = msgspec.msgpack.encode
_decode = msgspec.msgpack.decode


class Bus(MessageBus):
    def __init__(
        self,
        config: ClusterConfig,
        loop: asyncio.AbstractEventLoop,
        on_message: Callable[[list[Any]], None],
    ) -> None:
        self.config = config
        self.slot = config.slot
        self.loop = loop
        self.on_message = on_message
        self.dropped = 0
        self._inbox = Ring.attach(ring_name(config.prefix, config.slot))
        self._outboxes: dict[int, Ring] = {}
        self._wake_read = config.wake[config.slot][0]
        os.set_blocking(self._wake_read, False)
        for _, write in config.wake:
            os.set_blocking(write, False)
        # Frames left for a previous worker of this slot (it died) are read too: some are for the GET
        # streams it held, which this worker takes over (node.py).
        loop.add_reader(self._wake_read, self.drain)

    def send(self, slot: int, message: tuple[Any, ...]) -> bool:
        """False when not sent: no such slot, or its inbox is full."""
        if not 0 <= slot < self.config.slots:
            return False  # e.g. a client's answer to an id no worker of this server made
        if slot == self.slot:
            self.on_message(list(message))
            return True
        ring = self._outboxes.get(slot)
        if ring is None:
            ring = self._outboxes[slot] = Ring.attach(ring_name(self.config.prefix, slot))
        if not ring.push(_encode(message)):
            self.dropped += 1
            note = f"mcprt: worker {self.slot}: inbox of worker {slot} is full; message dropped"
            print(note, file=sys.stderr)
            return False
        with contextlib.suppress(BlockingIOError):  # a full pipe: a wake-up is already pending
            os.write(self.config.wake[slot][1], b"\0")
        return True

    def broadcast(self, message: tuple[Any, ...]) -> None:
        """To every other slot. A slot with no worker keeps the frame until its next worker discards it."""
        for slot in range(self.config.slots):
            if slot != self.slot:
                self.send(slot, message)

    def drain(self) -> None:
        with contextlib.suppress(BlockingIOError):
            while os.read(self._wake_read, 4096):
                pass
        for frame in self._inbox.pop_all():
            try:
                message = _decode(frame)
                self.on_message(message)
            except Exception as exc:  # one bad message must not stop the worker
                print(f"mcprt: worker {self.slot}: bad cluster message: {exc!r}", file=sys.stderr)

    def close(self) -> None:
        self.loop.remove_reader(self._wake_read)
        self._inbox.close()
        for ring in self._outboxes.values():
            ring.close()
