"""The HTTP session table: session id → live protocol session, with idle expiry and a cap.

In-process for one worker; the multi-worker runtime replaces it with the shared-memory table (same methods).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from typing import Protocol

from runtime.protocol.core import ServerSession


class Sessions(Protocol):
    """A session table: in-process (`MemorySessions`) or shared by every worker (workers.cluster)."""

    def get(self, session_id: str) -> ServerSession | None: ...

    def full(self) -> bool: ...

    def add(self, session: ServerSession) -> str: ...

    def remove(self, session_id: str) -> ServerSession | None: ...

    def expire(self) -> list[str]: ...

    def __len__(self) -> int: ...

    def __iter__(self) -> Iterator[ServerSession]: ...


class SessionRefused(Exception):
    """The session table cannot take this session: `status` (HTTP) and a message for the client."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def new_session_id() -> str:
    """128 bits from the OS CSPRNG, as 32 visible ASCII characters (transports.mdx "Session Management")."""
    return secrets.token_hex(16)


class MemorySessions:
    def __init__(self, idle_timeout: float = 1800.0, max_sessions: int = 10_000) -> None:
        self.idle_timeout = idle_timeout
        self.max_sessions = max_sessions
        self._sessions: dict[str, ServerSession] = {}

    def get(self, session_id: str) -> ServerSession | None:
        session = self._sessions.get(session_id)
        if session is not None:
            now = time.time()
            if now - session.state.last_seen > self.idle_timeout:
                self.remove(session_id)
                return None
            session.state.last_seen = now
        return session

    def full(self) -> bool:
        if len(self._sessions) < self.max_sessions:
            return False
        self.expire()
        return len(self._sessions) >= self.max_sessions

    def add(self, session: ServerSession) -> str:
        session_id = new_session_id()
        session.state.session_id = session_id
        session.state.last_seen = time.time()
        self._sessions[session_id] = session
        return session_id

    def remove(self, session_id: str) -> ServerSession | None:
        return self._sessions.pop(session_id, None)

    def expire(self) -> list[str]:
        deadline = time.time() - self.idle_timeout
        expired = [sid for sid, s in self._sessions.items() if s.state.last_seen < deadline]
        for session_id in expired:
            del self._sessions[session_id]
        return expired

    def __len__(self) -> int:
        return len(self._sessions)

    def __iter__(self) -> Iterator[ServerSession]:
        return iter(list(self._sessions.values()))
