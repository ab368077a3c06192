"""A resumed SSE connection following a stream that another worker writes to (a POST's stream: its handler
runs where the POST landed). The events are in the shared event log; the follower reads the ones after the
last it sent, every `FOLLOW_POLL` seconds, until the stream ends, the client goes, the worker writing the
stream is gone (checked every `ALIVE_EVERY` seconds of silence: nothing more will come), or the stream
stays idle for the event log's ttl.

Polling, not a wake-up through the worker rings: a followed stream is rare (a client that reconnected to
another worker mid-request) and short-lived, and a poll cannot miss an event whatever the writer's fate."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING

from workers.streamable.events import EventStore, write_events

if TYPE_CHECKING:
    from workers.httpd.protocol import ResponseStream

FOLLOW_POLL = 0.02  # seconds between two reads of the shared event log
ALIVE_EVERY = 0.5  # seconds without an event between two checks that the stream's writer still runs


class Follower:
    __slots__ = ("alive", "conn", "events", "idle", "last_event_id", "limit", "loop", "session_id", "timer")

    def __init__(
        self,
        events: EventStore,
        session_id: str,
        conn: ResponseStream,
        last_event_id: str,
        idle_limit: float,
        alive: Callable[[], bool],
    ) -> None:
        self.alive = alive
        self.events = events
        self.session_id = session_id
        self.conn = conn
        self.last_event_id = last_event_id
        self.loop = asyncio.get_running_loop()
        self.idle = 0
        self.limit = idle_limit
        self.timer: asyncio.TimerHandle | None = None
        conn.add_close_callback(self._stop)
        self.timer = self.loop.call_later(FOLLOW_POLL, self.poll)

    def poll(self) -> None:
        self.timer = None
        if self.conn.closed:
            return
        replay = self.events.replay(self.session_id, self.last_event_id)
        if replay is None:  # the stream aged out of the log
            self.conn.close()
            return
        _, events, ended = replay
        write_events(self.conn, events)
        if events:
            self.last_event_id = events[-1][0]
        self.idle = 0 if events else self.idle + 1  # polls without an event
        if ended or self.idle * FOLLOW_POLL >= self.limit:
            self.conn.close()
            return
        if self.idle % round(ALIVE_EVERY / FOLLOW_POLL) == 1 and not self.alive():
            self.poll_last()
            return
        self.timer = self.loop.call_later(FOLLOW_POLL, self.poll)

    def poll_last(self) -> None:
        """The writer is gone: send what it wrote after the previous read, then close."""
        replay = self.events.replay(self.session_id, self.last_event_id)
        if replay is not None:
            write_events(self.conn, replay[1])
        self.conn.close()

    def _stop(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
