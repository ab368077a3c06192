"""The HTTP session table's interface: session id → live protocol session."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Protocol

from runtime.protocol.core import ServerSession


class SessionRefused(Exception):
    """The session table cannot take this session: `status` (HTTP) and a message for the client."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def new_session_id() -> str:
    """128 bits from the OS CSPRNG, as 32 visible ASCII characters (transports.mdx "Session Management")."""
    return secrets.token_hex(16)


class SessionStore(Protocol):
    """The sessions of a Streamable HTTP endpoint, with idle expiry and a cap. Implementations: in-process
    (workers.streamable.sessions.MemorySessions) and shared by every worker
    (workers.cluster.sessions.SharedSessions, a table of serialised `SessionState` records in shared memory,
    with a `ServerSession` per session in each worker that served it).

    Contract:
    - `add` gives the session a new id (`new_session_id`) and records it; it raises `SessionRefused` when
      the session cannot be kept (table full, record too large), never stores half of it. Ids are never
      reused, and a removed or expired session is never found again.
    - `get` counts as activity: it pushes the session's idle expiry back (a shared store may do so at most
      once a second per worker), and it returns None once the session has been idle longer than the
      timeout, even if `expire` has not run yet.
    - The cap (`full`) is advisory between `full` and `add`: a shared store enforces it again atomically
      in `add` (503 when another worker took the last place).
    - `__len__` counts every session of the store; `__iter__` only those with a live `ServerSession` in this
      process (to close their streams at shutdown), a snapshot safe against changes while iterating.

    Async: `get` runs on every request and `add`/`remove` on initialize and DELETE, so they stay
    synchronous; the shared store answers `get` from a local copy, reading the shared record only when its
    version moved. A Redis store would keep that design: a local copy per session invalidated by version
    (a pub/sub message on change, carried by the cross-worker bus), writes made with WATCH/MULTI (or a Lua
    compare-and-set) on a task; `add` would need an awaitable variant for the atomic cap (INCR on a counter
    key), and `expire` (run by the sweeper) may be awaitable, with key TTLs doing most of its work.
    """

    def get(self, session_id: str) -> ServerSession | None: ...

    def full(self) -> bool:
        """The cap is reached even after dropping the expired sessions."""
        ...

    def add(self, session: ServerSession) -> str: ...

    def remove(self, session_id: str) -> ServerSession | None:
        """Drop the session everywhere; the removed session (a bare one when no local copy existed), or None
        when it was not there."""
        ...

    def expire(self) -> list[str]:
        """Drop the sessions idle past the timeout; their ids, to end what this process holds for them."""
        ...

    def __len__(self) -> int: ...

    def __iter__(self) -> Iterator[ServerSession]: ...
