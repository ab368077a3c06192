"""The SSE event store: every event sent on a session's streams is kept (bounded in count and age) so that a
client that lost its connection can resume with `Last-Event-ID` and get what it missed on *that* stream.

Event ids are `<stream id>.<sequence>`: unique within the session and naming their stream, so a resumption
replays only that stream (transports.mdx "Resumability and Redelivery"). The interface is small so that the
multi-worker runtime can put it in shared memory.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from typing import Protocol


class EventStore(Protocol):
    def append(self, session_id: str, stream_id: str, data: bytes | None) -> str:
        """Store one event (data None: the stream's end marker) and return its event id."""

    def replay(self, session_id: str, last_event_id: str) -> tuple[str, list[tuple[str, bytes]], bool] | None:
        """The stream of `last_event_id`, the events after it, and whether that stream has ended;
        None when the id is unknown or expired."""

    def drop_session(self, session_id: str) -> None: ...


def parse_event_id(event_id: str) -> tuple[str, int] | None:
    stream_id, _, seq = event_id.rpartition(".")
    if not stream_id or not seq.isdigit():
        return None
    return stream_id, int(seq)


@dataclass
class _Stream:
    next_seq: int = 1
    ended: bool = False
    touched: float = field(default_factory=time.monotonic)
    events: deque[tuple[int, bytes]] = field(default_factory=deque)


class MemoryEventStore:
    """In-process store: per stream at most `max_events` events, streams dropped `ttl` seconds after their
    last event."""

    def __init__(self, max_events: int = 1000, ttl: float = 300.0, max_streams: int = 100_000) -> None:
        self.max_events = max_events
        self.ttl = ttl
        self.max_streams = max_streams
        self._streams: dict[tuple[str, str], _Stream] = {}

    def append(self, session_id: str, stream_id: str, data: bytes | None) -> str:
        key = (session_id, stream_id)
        stream = self._streams.get(key)
        if stream is None:
            if len(self._streams) >= self.max_streams:
                self.expire()
            stream = self._streams[key] = _Stream()
        seq = stream.next_seq
        stream.next_seq = seq + 1
        stream.touched = time.monotonic()
        if data is None:
            stream.ended = True
        else:
            stream.events.append((seq, data))
            if len(stream.events) > self.max_events:
                stream.events.popleft()
        return f"{stream_id}.{seq}"

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
        for key in [k for k in self._streams if k[0] == session_id]:
            del self._streams[key]

    def expire(self) -> None:
        deadline = time.monotonic() - self.ttl
        for key in [k for k, s in self._streams.items() if s.touched < deadline]:
            del self._streams[key]
