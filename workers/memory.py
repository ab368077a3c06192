"""The in-memory transport's server end: a stdio session without the pipes.

Each message the client sends is one "line" fed to the same session core and runner as stdio's (with its size
and nesting limits); every message of the server is handed back to the client as one line. Both directions go
through the event loop (`call_soon`), in order, so neither side runs inside the other's call, as over a pipe.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING

from runtime.protocol import scan
from runtime.protocol.core import ServerSession
from runtime.server.runner import Runner
from workers.stdio import DEFAULT_MAX_MESSAGE_BYTES, Feed

if TYPE_CHECKING:
    from runtime.server.app import Server

# How long closing waits for the handlers it cancelled to unwind (s).
CLOSE_SECONDS = 5.0


class LoopWriter:
    """The session's single channel: each message goes to `deliver` on a later turn of the loop."""

    __slots__ = ("_deliver", "_loop", "closed")
    progress_gap = 0.0  # no pipe reader to outrun

    def __init__(self, loop: asyncio.AbstractEventLoop, deliver: Callable[[bytes], None]) -> None:
        self._loop = loop
        self._deliver = deliver
        self.closed = False

    def send(self, data: bytes) -> None:
        if not self.closed:
            self._loop.call_soon(self._forward, data)

    def finish(self, data: bytes | None, invalid: bool = False) -> None:
        if data is not None:
            self.send(data)

    def _forward(self, data: bytes) -> None:
        if not self.closed:  # the client may close between the send and this turn
            self._deliver(data)


class ServerEnd:
    """One session of `server` served to an in-process client."""

    def __init__(
        self,
        server: Server,
        deliver: Callable[[bytes], None],
        max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
        max_depth: int = scan.DEFAULT_MAX_DEPTH,
    ) -> None:
        self.server = server
        self.loop = asyncio.get_running_loop()
        self.out = LoopWriter(self.loop, deliver)
        self.session = ServerSession(server.profile)
        server.hub.attach(self.session, self.out.send)
        self._feed = Feed(Runner(server, self.loop), self.session, self.out, max_message_bytes, max_depth)
        self.closed = False

    def receive(self, line: bytes) -> None:
        """A message from the client, on a later turn of the loop (as a pipe's reader would see it)."""
        if not self.closed:
            self.loop.call_soon(self._take, line)

    def _take(self, line: bytes) -> None:
        if self.closed:
            return
        if len(line) > self._feed.max_bytes:
            self._feed.too_large(scan.find_id(line))
        elif line.strip():
            self._feed(line)

    async def close(self) -> None:
        """End the session: handlers still running are cancelled and awaited, nothing more is delivered.
        The server itself stays usable (another client may connect to it)."""
        if self.closed:
            return
        self.closed = self.out.closed = True
        self.server.hub.detach(self.session)
        pending = [ctx._task for ctx in self.session.inflight.values() if ctx._task is not None]
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending, timeout=CLOSE_SECONDS)
