"""The HTTP session table: session id → live protocol session, with idle expiry and a cap.

In-process for one worker; the multi-worker runtime replaces it with the shared-memory table
(workers/cluster/sessions.py). The interface, `SessionStore`, is in runtime/stores/sessions.py.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from runtime.protocol.core import ServerSession
from runtime.stores.sessions import SessionRefused as SessionRefused
from runtime.stores.sessions import SessionStore, new_session_id


class MemorySessions(SessionStore):
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
