"""Client side of the in-memory connection: a `Server` in the same process and event loop, no sockets and
no subprocess (for tests, and for applications that embed a server)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from runtime.protocol import scan

if TYPE_CHECKING:
    from runtime.server.app import Server
    from workers.memory import ServerEnd


class InMemoryTransport:
    """Connects a `Client` to `server` through the session core and runner that stdio uses; the limits are
    stdio's (`max_message_bytes`, `max_depth`)."""

    def __init__(
        self, server: Server, *, max_message_bytes: int | None = None, max_depth: int = scan.DEFAULT_MAX_DEPTH
    ) -> None:
        self.server = server
        self.max_message_bytes = max_message_bytes or scan.DEFAULT_MAX_MESSAGE_BYTES
        self.max_depth = max_depth
        self._end: ServerEnd | None = None
        self._on_close: Callable[[BaseException | None], None] | None = None

    async def start(
        self, on_message: Callable[[bytes], None], on_close: Callable[[BaseException | None], None]
    ) -> None:
        from workers.memory import ServerEnd

        self._on_close = on_close
        self._end = ServerEnd(self.server, on_message, self.max_message_bytes, self.max_depth)

    async def send(self, data: bytes) -> None:
        if self._end is None or self._end.closed:
            raise ConnectionError("the in-memory connection is closed")
        self._end.receive(data)

    async def close(self) -> None:
        end = self._end
        if end is None:
            return
        await end.close()
        if self._on_close is not None:
            self._on_close(None)
