"""The SSE event store: every event sent on a session's streams is kept (bounded in count, bytes and age) so
that a client that lost its connection can resume with `Last-Event-ID` and get what it missed on *that*
stream.

The interface (`EventStore`) and the event ids are in runtime/stores/events.py; the multi-worker runtime puts
the store in shared memory (ipc/eventlog.py).
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import Protocol

from runtime.stores.events import EventStore as EventStore
from runtime.stores.events import parse_event_id as parse_event_id


class _Writable(Protocol):
    def write(self, data: bytes) -> None: ...


def sse_event(event_id: str, data: bytes) -> bytes:
    """One SSE event as it goes on the wire."""
    return b"id: " + event_id.encode() + b"\ndata: " + data + b"\n\n"


def write_events(conn: _Writable, events: list[tuple[str, bytes]]) -> None:
    """Replayed events to a stream; priming events (no data) are only ids to resume from, not sent again."""
    for event_id, data in events:
        if data:
            conn.write(sse_event(event_id, data))


@dataclass
class _Stream:
    next_seq: int = 1
    ended: bool = False
    touched: float = field(default_factory=time.monotonic)
    events: deque[tuple[int, bytes]] = field(default_factory=deque)
    bytes: int = 0  # of the events kept


class MemoryEventStore(EventStore):
    """In-process store, bounded in count, bytes and age: per stream at most `max_events` events and
    `max_stream_bytes` bytes, in all at most `max_bytes` bytes and `max_streams` streams (the oldest events,
    the least recently used streams go first), streams dropped `ttl` seconds after their last event.
    Every bound costs O(1) amortised per event; expiry costs O(what expires)."""

    def __init__(
        self,
        max_events: int = 1000,
        ttl: float = 300.0,
        max_streams: int = 100_000,
        max_stream_bytes: int = 4 * 1024 * 1024,
        max_bytes: int = 64 * 1024 * 1024,
    ) -> None:
        self.max_events = max_events
        self.ttl = ttl
        self.max_streams = max_streams
        self.max_stream_bytes = max_stream_bytes
        self.max_bytes = max_bytes
        self.bytes = 0  # of every event kept
        self._count = 0  # events kept
        self._streams: OrderedDict[tuple[str, str], _Stream] = OrderedDict()  # least recently used first
        self._by_session: dict[str, dict[str, _Stream]] = {}
        # Every kept event in arrival order, to drop the oldest when `max_bytes` is reached; entries of
        # events already gone (trimmed by their stream's bounds, dropped sessions) are skipped, and the
        # queue is compacted when they outnumber the live ones.
        self._order: deque[tuple[_Stream, int]] = deque()

    def append(self, session_id: str, stream_id: str, data: bytes | None) -> str:
        key = (session_id, stream_id)
        stream = self._streams.get(key)
        if stream is None:
            if len(self._streams) >= self.max_streams:
                self.expire()
                if len(self._streams) >= self.max_streams:
                    self._forget(*self._streams.popitem(last=False))
            stream = self._streams[key] = _Stream()
            self._by_session.setdefault(session_id, {})[stream_id] = stream
        else:
            self._streams.move_to_end(key)
        seq = stream.next_seq
        stream.next_seq = seq + 1
        stream.touched = time.monotonic()
        if data is None:
            stream.ended = True
        else:
            stream.events.append((seq, data))
            stream.bytes += len(data)
            self.bytes += len(data)
            self._count += 1
            self._order.append((stream, seq))
            while stream.events and (
                len(stream.events) > self.max_events or stream.bytes > self.max_stream_bytes
            ):
                self._pop_oldest(stream)
            self._trim()
        return f"{stream_id}.{seq}"

    def _pop_oldest(self, stream: _Stream) -> None:
        _, data = stream.events.popleft()
        stream.bytes -= len(data)
        self.bytes -= len(data)
        self._count -= 1

    def _trim(self) -> None:
        order = self._order
        while self.bytes > self.max_bytes and order:
            stream, seq = order.popleft()
            if stream.events and stream.events[0][0] == seq:
                self._pop_oldest(stream)
        if len(order) > 2 * self._count + 1024:
            self._order = deque(e for e in order if e[0].events and e[1] >= e[0].events[0][0])

    def _forget(self, key: tuple[str, str], stream: _Stream) -> None:
        """Drop a stream that left `_streams`: its bytes are freed, its queue entries become stale."""
        self.bytes -= stream.bytes
        self._count -= len(stream.events)
        stream.events.clear()
        stream.bytes = 0
        session = self._by_session.get(key[0])
        if session is not None:
            session.pop(key[1], None)
            if not session:
                del self._by_session[key[0]]

    def replay(self, session_id: str, last_event_id: str) -> tuple[str, list[tuple[str, bytes]], bool] | None:
        parsed = parse_event_id(last_event_id)
        if parsed is None:
            return None
        stream_id, after = parsed
        stream = self._streams.get((session_id, stream_id))
        if stream is None or after >= stream.next_seq:
            return None
        events = [(f"{stream_id}.{seq}", data) for seq, data in stream.events if seq > after]
        return stream_id, events, stream.ended

    def drop_session(self, session_id: str) -> None:
        for stream_id in list(self._by_session.get(session_id, ())):
            key = (session_id, stream_id)
            self._forget(key, self._streams.pop(key))

    def expire(self) -> None:
        deadline = time.monotonic() - self.ttl
        streams = self._streams
        while streams:
            key, stream = next(iter(streams.items()))
            if stream.touched >= deadline:
                break
            del streams[key]
            self._forget(key, stream)
