"""The SSE event store's interface and its event ids.

Event ids are `<stream id>.<sequence>`: unique within the session and naming their stream, so a resumption
replays only that stream (transports.mdx "Resumability and Redelivery").
"""

from __future__ import annotations

from typing import Protocol


def parse_event_id(event_id: str) -> tuple[str, int] | None:
    """The stream id and sequence number of an event id; None when it is not one of ours."""
    stream_id, _, seq = event_id.rpartition(".")
    if not stream_id or not seq.isdigit():
        return None
    return stream_id, int(seq)


class EventStore(Protocol):
    """Every event sent on a session's SSE streams, kept so that a client that lost its connection resumes
    with `Last-Event-ID` and gets what it missed on *that* stream. Implementations: in-process
    (workers.streamable.events.MemoryEventStore) and shared by every worker (ipc.eventlog.SharedEventLog).

    Contract:
    - `append` is atomic per stream: concurrent appends to one stream (several workers write to a shared GET
      stream's log) get distinct, increasing sequence numbers, starting at 1, and the id returned is
      `<stream id>.<seq>`.
    - An event may be lost from the store, never reordered or mixed with another stream's: the store is
      bounded (in count, bytes and age; each implementation documents its bounds), the oldest events go
      first, and an event too large for the bounds is sent but not kept. A replay therefore returns the
      newest events after the id, in order, possibly without older ones.
    - What is kept is best effort and may vanish at once with `drop_session` or `expire`; nothing here
      outlives the server instance.

    Async: `append` runs on the hot path of every event sent, `replay` when a client reconnects; both stay
    synchronous. A Redis store (XADD / XRANGE on one stream key per SSE stream, INCR for the sequence) would
    do network I/O, so it would buffer appends locally and flush them from a task (an event id must still be
    returned at once: the sequence is then reserved in blocks per worker), and `replay` would become
    awaitable, the transport awaiting it before it answers a GET with `Last-Event-ID`.
    """

    def append(self, session_id: str, stream_id: str, data: bytes | None) -> str:
        """Store one event (data b"": a priming event, an id to resume from; None: the stream's end
        marker, which takes a sequence number but is never replayed) and return its event id."""
        ...

    def replay(self, session_id: str, last_event_id: str) -> tuple[str, list[tuple[str, bytes]], bool] | None:
        """The stream of `last_event_id`, its kept events after that id (id, data), and whether that stream
        has ended; None when the id is malformed, unknown, expired, or ahead of the stream."""
        ...

    def drop_session(self, session_id: str) -> None:
        """The session ended: its events may be dropped now (an implementation may let them age out)."""
        ...

    def expire(self) -> None:
        """Drop what is older than the store's ttl (called by the transport's sweeper)."""
        ...
