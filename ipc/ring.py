"""A many-writers, one-reader ring of byte frames in shared memory: a worker's inbox.

Writers (any process) append under the ring's lock; the one reader (the worker owning the slot) takes
frames without a lock. A frame is visible only once `head` moves past it, and `head` is stored after the
frame's bytes, so a reader never sees half a frame, and a writer killed mid-frame leaves nothing behind.
Layout: ipc/LAYOUT.md, "Ring".
"""

from __future__ import annotations

import struct

from ipc.errors import SegmentError
from ipc.segment import HEADER_SIZE, KIND_RING, Segment, align

RING_HEADER = struct.Struct("<Q")  # data capacity in bytes
HEAD_AT = 128  # u64, its own cache line: bytes ever written (absolute position)
TAIL_AT = 192  # u64, its own cache line: bytes ever consumed
DATA_AT = 256
FRAME = struct.Struct("<II")  # payload length (WRAP: skip to the start), reserved
WRAP = 0xFFFFFFFF


class Ring(Segment):
    KIND = KIND_RING

    def __init__(self, name: str, fd: int, mm, created: bool) -> None:  # type: ignore[no-untyped-def]
        super().__init__(name, fd, mm, created)
        self.capacity = RING_HEADER.unpack_from(mm, HEADER_SIZE)[0]
        # head and tail are loaded and stored whole (ipc/atomic.py): each side polls the other's
        self.load64, self.store64 = self.words.load64, self.words.store64
        if self.capacity % 8 or DATA_AT + self.capacity > len(mm):
            self.close()
            raise SegmentError(f"{name}: the ring header is corrupt")

    @classmethod
    def create(cls, name: str, capacity: int) -> Ring:
        capacity = align(capacity)
        fd, mm = cls._create(name, DATA_AT + capacity, DATA_AT)
        mm[HEADER_SIZE : HEADER_SIZE + RING_HEADER.size] = RING_HEADER.pack(capacity)
        return cls(name, fd, mm, True)

    @classmethod
    def attach(cls, name: str) -> Ring:
        fd, mm, _ = cls._attach(name)
        return cls(name, fd, mm, False)

    def push(self, payload: bytes) -> bool:
        """Append one frame; False when the ring has no room for it (the reader is behind or gone)."""
        need = FRAME.size + align(len(payload))
        capacity = self.capacity
        if need > capacity // 2:
            return False
        mm = self.mm
        with self.locked():
            head = self.load64(HEAD_AT)
            tail = self.load64(TAIL_AT)
            at = head % capacity
            waste = capacity - at if at + need > capacity else 0
            if head + waste + need - tail > capacity:
                return False
            if waste:
                mm[DATA_AT + at : DATA_AT + at + FRAME.size] = FRAME.pack(WRAP, 0)
                head += waste
                at = 0
            mm[DATA_AT + at : DATA_AT + at + FRAME.size] = FRAME.pack(len(payload), 0)
            mm[DATA_AT + at + FRAME.size : DATA_AT + at + FRAME.size + len(payload)] = payload
            self.store64(HEAD_AT, head + need)  # publishes the frame (stores stay in order on x86-64)
        return True

    def pop_all(self) -> list[bytes]:
        """Every frame written so far, oldest first (only the ring's one reader may call this)."""
        mm = self.mm
        capacity = self.capacity
        head = self.load64(HEAD_AT)
        tail = self.load64(TAIL_AT)
        frames = []
        while tail < head:
            at = tail % capacity
            length = FRAME.unpack_from(mm, DATA_AT + at)[0]
            if length == WRAP:
                tail += capacity - at
                continue
            if length > capacity // 2:  # cannot be a frame: the ring is corrupt; drop what is in it
                tail = head
                break
            start = DATA_AT + at + FRAME.size
            frames.append(mm[start : start + length])
            tail += FRAME.size + align(length)
        self.store64(TAIL_AT, tail)
        return frames

    def pending(self) -> int:
        """Bytes written and not yet taken."""
        return self.load64(HEAD_AT) - self.load64(TAIL_AT)
