"""The SSE event store's interface and its event ids.

Event ids are `<stream id>.<sequence>`: unique within the session and naming their stream, so a resumption
replays only that stream (transports.mdx "Resumability and Redelivery").
"""

from __future__ import annotations


def event_id(stream_id: str, seq: int) -> str:
    return f"{stream_id}.{seq}"


def parse_event_id(event_id: str) -> tuple[str, int] | None:
    """The stream id and sequence number of an event id; None when it is not one of ours."""
    stream_id, _, seq = event_id.rpartition(".")
    if not stream_id or not seq.isdigit():
        return None
    return stream_id, int(seq)
