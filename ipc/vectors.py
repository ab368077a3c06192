"""The semantic cache's vectors: one shared-memory segment of fixed capacity holding, per entry, the embedding
of a tool call's free-text arguments and the exact result-cache key of that call (layout: ipc/VECTORS.md).

Every worker maps it. Lookups take no lock: numpy scores the vectors of one tool's entries straight from the
mapping, and the best candidate is then re-read under its slot's sequence counter (a seqlock, as in
ipc/LAYOUT.md) and re-scored from that copy, so a torn read can cost a hit but never give a wrong one. Writers
serialise on an fcntl lock of byte 0. Entries are replaced in insertion order (a ring of `capacity` slots):
the oldest goes first. The result itself stays in the shared result cache (ipc/cache.py) under the stored key;
when that entry is evicted, expires or is invalidated, the vector leads nowhere and the lookup misses.

Unlike the other segments it is not made by the supervisor (which never imports the application and so does
not know the embedding's width): the first process that stores a vector creates it, under the name of the
result cache with `-vectors` for `-cache`, stamped with the result cache's creator pid, so it lives and is
reclaimed like the server's other segments.
"""

from __future__ import annotations

import struct
import time
import zlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ipc.errors import SegmentError
from ipc.segment import HEADER_SIZE, LOCK_FREE_READS, Segment, align

if TYPE_CHECKING:
    import numpy.typing as npt

    Vector = npt.NDArray[np.float32]

KIND_VECTORS = 5
VEC_HEADER = struct.Struct("<IIIIQQQQQQQQQ")
# capacity, dim, key max, state, inserts, live, evictions, invalidations, lanes at, seqs at, tools at,
# keys at, vectors at
VEC_HEADER_SIZE = 128
LANE = struct.Struct("<QQQQ")  # hits, misses, stores, skipped (arguments not comparable by meaning)
LANE_SIZE = 32
LANES = 65  # one per worker slot, as the result cache's lanes
KEY_HEAD = struct.Struct("<HHI")  # key length, reserved, partition hash (of the arguments compared exactly)
KEY_HEAD_SIZE = 8
KEY_MAX = 1024  # an exact key longer than this is not cached by meaning
U32 = struct.Struct("<I")
U64 = struct.Struct("<Q")
STATE_INITIALISING, STATE_OPEN, STATE_CLOSED = 0, 1, 2
MAX_ENTRIES = 1 << 20
MAX_DIM = 4096
ATTACH_SECONDS = 2.0  # how long a process waits for another one that is creating the segment

_STATE, _INSERTS, _LIVE, _EVICTIONS, _INVALIDATIONS = 12, 16, 24, 32, 40  # offsets in the vectors header
_PID = 24  # offset of the creator pid in the common header


def tool_hash(name: str) -> int:
    """CRC-32 of the tool's name; 0 marks an empty slot, so a name hashing to 0 uses 1."""
    return zlib.crc32(name.encode()) or 1


@dataclass
class VectorStats:
    entries: int
    capacity: int
    dim: int
    hits: int
    misses: int
    stores: int
    skipped: int
    evictions: int
    invalidations: int

    @property
    def hit_rate(self) -> float:
        total = self.hits + self.misses
        return self.hits / total if total else 0.0


@dataclass(frozen=True, slots=True)
class Match:
    slot: int
    key: str
    score: float


class _VectorSegment(Segment):
    KIND = KIND_VECTORS


class SharedVectors:
    """A mapped vectors segment: `best` for everyone, `add` / `remove_tool` for writers (one lock)."""

    def __init__(self, segment: _VectorSegment) -> None:
        self.segment = segment
        self.name = segment.name
        self.mm = mm = segment.mm
        (capacity, dim, key_max, _state, _inserts, _live, _ev, _inv, lanes_at, seqs_at, tools_at, keys_at,
         vectors_at) = VEC_HEADER.unpack_from(mm, HEADER_SIZE)  # fmt: skip
        stride = KEY_HEAD_SIZE + key_max
        if (
            not 1 <= capacity <= MAX_ENTRIES
            or not 1 <= dim <= MAX_DIM
            or key_max != KEY_MAX
            or lanes_at != HEADER_SIZE + VEC_HEADER_SIZE
            or seqs_at < lanes_at + LANES * LANE_SIZE
            or tools_at < seqs_at + 4 * capacity
            or tools_at % 8
            or keys_at < tools_at + 8 * capacity
            or vectors_at < keys_at + stride * capacity
            or vectors_at % 64
            or vectors_at + 4 * dim * capacity != len(mm)
        ):
            raise SegmentError(f"{self.name}: the vectors header is corrupt or of another layout")
        self.capacity, self.dim, self.stride = capacity, dim, stride
        self.lanes_at, self.seqs_at, self.tools_at = lanes_at, seqs_at, tools_at
        self.keys_at, self.vectors_at = keys_at, vectors_at
        self.lane = LANES - 1
        # The words lock-free readers poll (sequence counters, tags), loaded and stored whole: ipc/atomic.py.
        self._u32, self._u64 = segment.words.u32, segment.words.u64

    # -- life cycle ----------------------------------------------------------------------------------------

    @classmethod
    def create(cls, name: str, capacity: int, dim: int, owner_pid: int | None = None) -> SharedVectors:
        if not 1 <= capacity <= MAX_ENTRIES:
            raise ValueError(f"semantic cache entries must be between 1 and {MAX_ENTRIES}")
        if not 1 <= dim <= MAX_DIM:
            raise ValueError(f"embedding width must be between 1 and {MAX_DIM}")
        lanes_at = HEADER_SIZE + VEC_HEADER_SIZE
        seqs_at = lanes_at + LANES * LANE_SIZE
        tools_at = align(seqs_at + 4 * capacity, 8)
        keys_at = tools_at + 8 * capacity
        vectors_at = align(keys_at + (KEY_HEAD_SIZE + KEY_MAX) * capacity, 64)
        size = vectors_at + 4 * dim * capacity
        fd, mm = _VectorSegment._create(name, size, lanes_at)
        if owner_pid is not None:  # the server's pid: the segment is reclaimed with the server's others
            mm[_PID : _PID + 4] = U32.pack(owner_pid)
        counts = (0, 0, 0, 0)  # inserts, live, evictions, invalidations
        offsets = (lanes_at, seqs_at, tools_at, keys_at, vectors_at)
        header = (capacity, dim, KEY_MAX, STATE_INITIALISING, *counts, *offsets)
        mm[HEADER_SIZE : HEADER_SIZE + VEC_HEADER.size] = VEC_HEADER.pack(*header)
        vectors = cls(_VectorSegment(name, fd, mm, True))
        at = HEADER_SIZE + _STATE
        mm[at : at + 4] = U32.pack(STATE_OPEN)  # last: a process attaching meanwhile waits for it
        return vectors

    @classmethod
    def attach(cls, name: str) -> SharedVectors:
        segment = _VectorSegment.attach_segment(name)
        try:
            state = U32.unpack_from(segment.mm, HEADER_SIZE + _STATE)[0]
            if state == STATE_INITIALISING:
                raise SegmentError(f"{name}: still being created")
            return cls(segment)
        except BaseException:
            segment.close()
            raise

    @classmethod
    def attach_or_create(cls, name: str, capacity: int, dim: int, owner_pid: int | None) -> SharedVectors:
        """The segment another worker made, else a new one; waits briefly for one being created."""
        deadline = time.monotonic() + ATTACH_SECONDS
        while True:
            try:
                return cls.attach(name)
            except SegmentError as exc:
                if not str(exc).endswith("no such segment") and not str(exc).endswith("being created"):
                    raise
                problem = exc
            if not str(problem).endswith("being created"):
                try:
                    return cls.create(name, capacity, dim, owner_pid)
                except SegmentError:
                    pass  # another process created it first: attach to it
            if time.monotonic() > deadline:
                raise problem
            time.sleep(0.01)

    @property
    def creator_pid(self) -> int:
        return self.segment.creator_pid

    def mark_closed(self) -> None:
        at = HEADER_SIZE + _STATE
        self.mm[at : at + 4] = U32.pack(STATE_CLOSED)

    def close(self) -> None:
        self.segment.close()  # releases the word views too

    def unlink(self) -> None:
        self.segment.unlink()

    # -- reads (no lock) -----------------------------------------------------------------------------------

    def _array(self, at: int, dtype: type, count: int) -> np.ndarray:
        return np.frombuffer(self.mm, dtype=dtype, count=count, offset=at)

    def _tags(self) -> np.ndarray:
        """Per slot: the tool's hash in the high 32 bits (0: empty), the key's CRC-32 in the low ones."""
        return self._array(self.tools_at, np.uint64, self.capacity)

    def best(self, tool: str, partition: int, query: Vector, threshold: float) -> Match | None:
        """The entry of `tool` and `partition` whose vector is closest to `query` (unit vectors: cosine),
        if at least `threshold`; checked under the slot's sequence counter, so never a torn match."""
        if LOCK_FREE_READS:
            return self._best(tool, partition, query, threshold)
        with self.segment.locked(0):
            return self._best(tool, partition, query, threshold)

    def _best(self, tool: str, partition: int, query: Vector, threshold: float) -> Match | None:
        h = tool_hash(tool)
        slots = np.flatnonzero(self._tags() >> 32 == h)
        if not len(slots):
            return None
        vectors = self._array(self.vectors_at, np.float32, self.capacity * self.dim).reshape(-1, self.dim)
        # Few of this tool's: copy only theirs; most: one pass over the mapping, no copy.
        few = len(slots) * 4 < self.capacity
        scores = vectors[slots] @ query if few else (vectors @ query)[slots]
        best = min(8, len(slots))  # the best few: a torn or foreign one gives way to the next
        top = np.argpartition(-scores, best - 1)[:best] if len(slots) > best else np.arange(len(slots))
        for index in top[np.argsort(-scores[top])]:
            if scores[index] < threshold:
                return None
            match = self._checked(int(slots[index]), h, partition, query, threshold)
            if match is not None:
                return match
        return None

    def _checked(self, slot: int, h: int, partition: int, query: Vector, threshold: float) -> Match | None:
        mm = self.mm
        seq_at = self.seqs_at + 4 * slot
        s1 = self._u32[seq_at >> 2]
        if s1 & 1:
            return None  # being written (or its writer died): not trusted
        tool = self._u64[(self.tools_at >> 3) + slot] >> 32
        key_at = self.keys_at + self.stride * slot
        length, _, part = KEY_HEAD.unpack_from(mm, key_at)
        key = bytes(mm[key_at + KEY_HEAD_SIZE : key_at + KEY_HEAD_SIZE + min(length, KEY_MAX)])
        at = self.vectors_at + 4 * self.dim * slot
        vector = np.frombuffer(bytes(mm[at : at + 4 * self.dim]), np.float32)
        if self._u32[seq_at >> 2] != s1:
            return None  # changed while read
        if tool != h or part != partition:
            return None
        score = float(vector @ query)
        if score < threshold:
            return None
        try:
            return Match(slot, key.decode(), score)
        except UnicodeDecodeError:
            return None

    def stats(self) -> VectorStats:
        mm = self.mm
        lanes = [LANE.unpack_from(mm, self.lanes_at + i * LANE_SIZE) for i in range(LANES)]
        (_, _, _, _, _, live, evictions, invalidations) = struct.unpack_from("<IIIIQQQQ", mm, HEADER_SIZE)
        return VectorStats(
            entries=live,
            capacity=self.capacity,
            dim=self.dim,
            hits=sum(lane[0] for lane in lanes),
            misses=sum(lane[1] for lane in lanes),
            stores=sum(lane[2] for lane in lanes),
            skipped=sum(lane[3] for lane in lanes),
            evictions=evictions,
            invalidations=invalidations,
        )

    # -- counters (one writer per lane) --------------------------------------------------------------------

    def count(self, what: int) -> None:
        """0 hit, 1 miss, 2 store, 3 skipped, in this process's lane."""
        at = self.lanes_at + self.lane * LANE_SIZE + 8 * what
        self._u64[at >> 3] += 1

    # -- writes (under the lock) ---------------------------------------------------------------------------

    def add(self, tool: str, partition: int, key: str, vector: Vector) -> bool:
        """Store an entry (the oldest is replaced when full; an entry of the same key is overwritten)."""
        kb = key.encode()
        if len(kb) > KEY_MAX or vector.shape != (self.dim,):
            return False
        h = tool_hash(tool)
        row = np.ascontiguousarray(vector, np.float32).tobytes()
        with self.segment.locked(0):
            tag = h << 32 | zlib.crc32(kb)
            slot = self._same_key(tag, kb)
            header = HEADER_SIZE
            inserts, live, evictions = struct.unpack_from("<QQQ", self.mm, header + _INSERTS)
            if slot is None:
                slot = inserts % self.capacity
                self._set_u64(_INSERTS, inserts + 1)
                if self._u64[(self.tools_at >> 3) + slot]:
                    self._set_u64(_EVICTIONS, evictions + 1)
                else:
                    self._set_u64(_LIVE, live + 1)
            self._write(slot, tag, partition, kb, row)
        self.count(2)
        return True

    def _same_key(self, tag: int, kb: bytes) -> int | None:
        for slot in np.flatnonzero(self._tags() == tag):  # same tool and key hash: compare the bytes
            key_at = self.keys_at + self.stride * int(slot)
            length = KEY_HEAD.unpack_from(self.mm, key_at)[0]
            if length == len(kb) and self.mm[key_at + KEY_HEAD_SIZE : key_at + KEY_HEAD_SIZE + length] == kb:
                return int(slot)
        return None

    def _write(self, slot: int, tag: int, partition: int, kb: bytes, row: bytes) -> None:
        mm = self.mm
        seq_at = self.seqs_at + 4 * slot
        seq = self._u32[seq_at >> 2]
        seq += seq & 1  # odd: its writer died mid-write; start from the next even value
        self._u32[seq_at >> 2] = (seq + 1) & 0xFFFFFFFF
        self._u64[(self.tools_at >> 3) + slot] = tag
        key_at = self.keys_at + self.stride * slot
        mm[key_at : key_at + KEY_HEAD_SIZE] = KEY_HEAD.pack(len(kb), 0, partition)
        mm[key_at + KEY_HEAD_SIZE : key_at + KEY_HEAD_SIZE + len(kb)] = kb
        at = self.vectors_at + 4 * self.dim * slot
        mm[at : at + len(row)] = row
        self._u32[seq_at >> 2] = (seq + 2) & 0xFFFFFFFF

    def _clear(self, slot: int) -> None:
        mm = self.mm
        seq_at = self.seqs_at + 4 * slot
        seq = self._u32[seq_at >> 2]
        seq += seq & 1
        self._u32[seq_at >> 2] = (seq + 1) & 0xFFFFFFFF
        self._u64[(self.tools_at >> 3) + slot] = 0
        key_at = self.keys_at + self.stride * slot
        mm[key_at : key_at + KEY_HEAD_SIZE] = KEY_HEAD.pack(0, 0, 0)
        self._u32[seq_at >> 2] = (seq + 2) & 0xFFFFFFFF

    def _set_u64(self, offset: int, value: int) -> None:
        self._u64[(HEADER_SIZE + offset) >> 3] = value

    def remove(self, slot: int, key: str) -> None:
        """Clear `slot` if it still holds `key` (its result is gone from the result cache)."""
        kb = key.encode()
        with self.segment.locked(0):
            key_at = self.keys_at + self.stride * slot
            length = KEY_HEAD.unpack_from(self.mm, key_at)[0]
            if length == len(kb) and self.mm[key_at + KEY_HEAD_SIZE : key_at + KEY_HEAD_SIZE + length] == kb:
                self._clear(slot)
                live = U64.unpack_from(self.mm, HEADER_SIZE + _LIVE)[0]
                self._set_u64(_LIVE, max(0, live - 1))

    def remove_tool(self, tool: str) -> int:
        """Clear every entry of `tool` (it was removed or registered again): how many."""
        h = tool_hash(tool)
        prefix = f"t:{tool}:".encode()
        removed = 0
        with self.segment.locked(0):
            for slot in np.flatnonzero(self._tags() >> 32 == h):
                key_at = self.keys_at + self.stride * int(slot)
                start = key_at + KEY_HEAD_SIZE
                if self.mm[start : start + len(prefix)] == prefix:
                    self._clear(int(slot))
                    removed += 1
            if removed:
                live = U64.unpack_from(self.mm, HEADER_SIZE + _LIVE)[0]
                self._set_u64(_LIVE, max(0, live - removed))
                count = U64.unpack_from(self.mm, HEADER_SIZE + _INVALIDATIONS)[0]
                self._set_u64(_INVALIDATIONS, count + removed)
        return removed

    def clear(self) -> None:
        with self.segment.locked(0):
            for slot in np.flatnonzero(self._tags()):
                self._clear(int(slot))
            self._set_u64(_LIVE, 0)


def clear(name: str) -> None:
    """Empty the segment of that name, if one exists (the result cache it points into was cleared)."""
    try:
        vectors = SharedVectors.attach(name)
    except (SegmentError, OSError):
        return
    try:
        vectors.clear()
    finally:
        vectors.close()
