"""The SSE event store in shared memory (the `EventStore` of runtime.stores.events), so that a client
whose worker died resumes its stream with `Last-Event-ID` through any other worker.

One segment holds a circular log of event records and a stream index (a `TableRegion` keyed by
`<session id>/<stream id>`) giving each stream's next sequence number, whether it ended, and the position
of its newest record; each record points to the stream's previous one, so a replay walks back only that
stream's events. Old records are overwritten as the log wraps: a replay returns the events still there.
Writers hold the log's lock; readers take none (a record is trusted only if the log's `reserved` position
shows it was not overwritten while it was read). Layout: ipc/LAYOUT.md, "Event log".
"""

from __future__ import annotations

import struct
import sys
import time

from ipc.errors import SegmentError
from ipc.segment import HEADER_SIZE, KIND_EVENTLOG, Segment, align
from ipc.table import KEY_MAX, TableRegion
from runtime.stores.events import EventStore, parse_event_id

LOG_HEADER = struct.Struct("<QQQQQ")  # log capacity, reserved pos, committed pos, index offset, log offset
_RESERVED_AT, _COMMITTED_AT = HEADER_SIZE + 8, HEADER_SIZE + 16
# record bytes (PAD: skip to the start), key length, seq, previous record position, data length
RECORD = struct.Struct("<IIQQI4x")
STREAM = struct.Struct("<QQBxxxxxxxd")  # next seq, newest record position, ended, -, touched
NONE = 0xFFFFFFFFFFFFFFFF
PAD = 0xFFFFFFFF
PAD_WORD = struct.pack("<I", PAD)
LOG_LOCK, INDEX_LOCK = 0, 1


class SharedEventLog(Segment, EventStore):
    KIND = KIND_EVENTLOG

    def __init__(  # type: ignore[no-untyped-def]
        self, name: str, fd: int, mm, created: bool, ttl: float, max_stream_bytes: int
    ) -> None:
        super().__init__(name, fd, mm, created)
        self.ttl = ttl
        # Per stream: a larger event is sent but not kept, and a replay returns the newest events up to
        # this many bytes (the log's size bounds every stream together).
        self.max_stream_bytes = max_stream_bytes
        capacity, _, _, index_at, log_at = LOG_HEADER.unpack_from(mm, HEADER_SIZE)
        if log_at + capacity > len(mm) or index_at >= log_at:
            self.close()
            raise SegmentError(f"{name}: the event log header is corrupt")
        self.log_capacity = capacity
        self.log_at = log_at
        self.index = TableRegion(self, index_at, INDEX_LOCK)
        self._full_warned = False

    @classmethod
    def create(
        cls, name: str, log_bytes: int, streams: int, ttl: float = 300.0, max_stream_bytes: int = 4 << 20
    ) -> SharedEventLog:
        index_at = HEADER_SIZE + 64
        capacity = max(64, 2 * streams)
        log_at = align(index_at + TableRegion.size(capacity, STREAM.size), 4096)
        log_bytes = align(log_bytes)
        fd, mm = cls._create(name, log_at + log_bytes, index_at)
        mm[HEADER_SIZE : HEADER_SIZE + LOG_HEADER.size] = LOG_HEADER.pack(log_bytes, 0, 0, index_at, log_at)
        TableRegion.format(mm, index_at, capacity, STREAM.size)
        return cls(name, fd, mm, True, ttl, max_stream_bytes)

    @classmethod
    def attach(cls, name: str, ttl: float = 300.0, max_stream_bytes: int = 4 << 20) -> SharedEventLog:
        fd, mm, _ = cls._attach(name)
        return cls(name, fd, mm, False, ttl, max_stream_bytes)

    # -- EventStore ----------------------------------------------------------------------------------------

    def append(self, session_id: str, stream_id: str, data: bytes | None) -> str:
        key = f"{session_id}/{stream_id}"
        now = time.time()
        with self.locked(LOG_LOCK):
            raw = self.index.get(key)
            if raw is None:
                seq, newest, ended = 1, NONE, 0
            else:
                seq, newest, ended, _ = STREAM.unpack(raw)
            if data is None:
                ended = 1
            else:
                newest = self._write(key.encode(), seq, newest, data)
            record = STREAM.pack(seq + 1, newest, ended, now)
            if not self._index_put(key, record, now) and not self._full_warned:
                self._full_warned = True
                print(f"mcprt: {self.name}: stream index full; events not resumable", file=sys.stderr)
        return f"{stream_id}.{seq}"

    def _index_put(self, key: str, record: bytes, now: float) -> bool:
        if self.index.put(key, record, now + self.ttl):
            return True
        self.index.expire(now)
        return self.index.put(key, record, now + self.ttl) > 0

    def _write(self, key: bytes, seq: int, previous: int, data: bytes) -> int:
        """Append one record (caller holds the log lock); returns its absolute position, NONE if too big."""
        mm = self.mm
        capacity = self.log_capacity
        need = RECORD.size + align(len(key) + len(data))
        if need > capacity // 4 or len(data) > self.max_stream_bytes:
            return previous  # too big to keep: it is sent, not stored
        words = self.words  # the positions readers poll go in whole (ipc/atomic.py)
        reserved = words.load64(_RESERVED_AT)
        at = reserved % capacity
        if at + need > capacity:  # records never straddle the end: pad to it
            words.store64(_RESERVED_AT, reserved + capacity - at + need)
            mm[self.log_at + at : self.log_at + at + 4] = PAD_WORD
            reserved += capacity - at
            at = 0
        else:
            words.store64(_RESERVED_AT, reserved + need)  # before the bytes: readers see the overwrite
        base = self.log_at + at
        mm[base : base + RECORD.size] = RECORD.pack(need, len(key), seq, previous, len(data))
        start = base + RECORD.size
        mm[start : start + len(key)] = key
        mm[start + len(key) : start + len(key) + len(data)] = data
        words.store64(_COMMITTED_AT, reserved + need)
        return reserved

    def replay(self, session_id: str, last_event_id: str) -> tuple[str, list[tuple[str, bytes]], bool] | None:
        parsed = parse_event_id(last_event_id)
        if parsed is None or len(session_id) + len(parsed[0]) + 1 > KEY_MAX:
            return None
        stream_id, after = parsed
        key = f"{session_id}/{stream_id}".encode()
        raw = self.index.get(key.decode())
        if raw is None:
            return None
        next_seq, position, ended, _ = STREAM.unpack(raw)
        if after >= next_seq:
            return None
        mm = self.mm
        capacity = self.log_capacity
        found: list[tuple[int, int, bytes]] = []  # (position, seq, data), newest first
        budget = self.max_stream_bytes
        while position != NONE:
            oldest_intact = self.words.load64(_RESERVED_AT) - capacity
            if position < oldest_intact:
                break  # overwritten since: older events are gone
            base = self.log_at + position % capacity
            _, klen, seq, previous, dlen = RECORD.unpack_from(mm, base)
            start = base + RECORD.size
            if seq <= after or klen != len(key) or mm[start : start + klen] != key:
                break
            budget -= dlen
            if budget < 0:
                break  # the stream's older events are beyond its share
            data = mm[start + klen : start + klen + dlen]
            if position < self.words.load64(_RESERVED_AT) - capacity:
                break  # overwritten while it was read
            found.append((position, seq, data))
            position = previous
        found.reverse()
        return stream_id, [(f"{stream_id}.{seq}", data) for _, seq, data in found], bool(ended)

    def drop_session(self, session_id: str) -> None:
        """Nothing to do: a session's streams age out of the index (`ttl`), and no replay is served for a
        session that no longer exists."""

    def expire(self) -> None:
        self.index.expire(time.time())
