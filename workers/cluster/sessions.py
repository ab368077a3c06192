"""The session table shared by every worker: session id → the session's serialisable record (msgpack of
`SessionState`) in shared memory, with idle expiry and a cap that hold across workers.

Each worker keeps a local `ServerSession` per session it has served (what only a process can hold: its
in-flight handlers, the futures of requests it sent) and refreshes its state from the table when the
record's version changed, so a request may land on any worker."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

from ipc.table import SharedTable
from runtime.protocol.core import ServerProfile, ServerSession
from runtime.protocol.state import SessionState, dump_state, load_state
from runtime.protocol.versions import revision
from runtime.stores.sessions import SessionRefused, SessionStore, new_session_id

TOUCH_EVERY = 1.0  # seconds: a session's expiry is pushed back at most this often per worker


class _Local:
    __slots__ = ("fingerprint", "record", "session", "touched", "version")

    def __init__(self, session: ServerSession, version: int, record: bytes) -> None:
        self.session = session
        self.version = version
        self.record = record
        self.touched = 0.0
        self.fingerprint: tuple[object, ...] = ()  # what the record held when last committed


def _record(state: SessionState) -> bytes:
    last_seen, state.last_seen = state.last_seen, 0.0  # expiry lives in the table, not in the record
    try:
        return dump_state(state)
    finally:
        state.last_seen = last_seen


def _held_by(state: SessionState, slot: int) -> bool:
    return state.stream_worker == slot or state.stream_before.partition("-")[0] == str(slot)


def _take_stream(state: SessionState, current: SessionState) -> None:
    state.stream_worker, state.stream_id = current.stream_worker, current.stream_id
    state.stream_nonce, state.stream_since = current.stream_nonce, current.stream_since
    state.stream_before = current.stream_before


class SharedSessions(SessionStore):
    def __init__(
        self,
        table: SharedTable,
        profile: Callable[[], ServerProfile],
        idle_timeout: float = 1800.0,
        max_sessions: int = 10_000,
    ) -> None:
        self.table = table
        self.profile = profile
        self.idle_timeout = idle_timeout
        self.max_sessions = max_sessions
        self._local: dict[str, _Local] = {}
        self.on_new_local: Callable[[str, ServerSession], None] | None = None
        # The in-flight table a local session gets: one that knows the requests of the other workers.
        self.inflight_for: Callable[[str], dict[Any, Any]] | None = None

    def get(self, session_id: str) -> ServerSession | None:
        local = self._local.get(session_id)
        if local is not None:
            # The common case: this worker served the session before. Its copy is current unless the
            # record's version moved; only then is the record read and decoded.
            version = self.table.version(session_id)
            if version is None:
                del self._local[session_id]
                return None
            if version != local.version:
                found = self.table.get_versioned(session_id)
                if found is None:
                    del self._local[session_id]
                    return None
                self._refresh(local, *found)
        else:
            found = self.table.get_versioned(session_id)
            if found is None:
                return None
            local = self._load(session_id, *found)
        now = time.time()
        if now - local.touched > TOUCH_EVERY:
            local.touched = now
            self.table.touch(session_id, now + self.idle_timeout)
        return local.session

    def _load(self, session_id: str, version: int, record: bytes) -> _Local:
        session = ServerSession(self.profile(), load_state(record))
        if self.inflight_for is not None:
            session.inflight = self.inflight_for(session_id)
        local = self._local[session_id] = _Local(session, version, record)
        if self.on_new_local is not None:
            self.on_new_local(session_id, session)
        return local

    def held_by(self, slot: int) -> list[ServerSession]:
        """The sessions whose GET stream a worker of `slot` holds or held before the current holder (a
        restarted worker delivers what was sent to its predecessor), loaded here without pushing their
        expiry back."""
        found = []
        for session_id in self.table.keys():  # noqa: SIM118 - a shared table, not a dict
            local = self._local.get(session_id)
            if local is None:
                versioned = self.table.get_versioned(session_id)
                if versioned is None or not _held_by(load_state(versioned[1]), slot):
                    continue
                local = self._load(session_id, *versioned)
            if _held_by(local.session.state, slot):
                found.append(local.session)
        return found

    def claim_stream(self, session_id: str, slot: int, nonce: str, stream_id: str) -> SessionState | None:
        """Make the worker (`slot`, `nonce`) the holder of the session's GET stream `stream_id`, by
        compare-and-set on the record (a claim or commit made meanwhile by another worker is not lost).
        Returns the record as it was before; None when the session is gone."""
        for _ in range(1000):
            found = self.table.get_versioned(session_id)
            if found is None:
                return None
            version, raw = found
            before = load_state(raw)
            if (before.stream_worker, before.stream_nonce, before.stream_id) == (slot, nonce, stream_id):
                return before
            state = load_state(raw)
            state.stream_before = (
                f"{before.stream_worker}-{before.stream_nonce}" if before.stream_worker >= 0 else ""
            )
            state.stream_worker, state.stream_nonce, state.stream_id = slot, nonce, stream_id
            state.stream_since = time.time()
            record = _record(state)
            expires = time.time() + self.idle_timeout
            new = self.table.put(session_id, record, expires, insert=False, version=version)
            if new:
                local = self._local.get(session_id)
                if local is not None:
                    self._refresh(local, new, record)
                return before
        return None

    def _refresh(self, local: _Local, version: int, record: bytes) -> None:
        state = load_state(record)
        session = local.session
        if state.protocol_version != session.state.protocol_version:
            session.revision = revision(state.protocol_version)
        session.state = state
        local.version = version
        local.record = record

    def refresh(self, session: ServerSession) -> None:
        """Bring a local session's state up to date (e.g. subscriptions made through another worker)."""
        session_id = session.state.session_id
        local = self._local.get(session_id)
        if local is not None and self.table.version(session_id) not in (None, local.version):
            found = self.table.get_versioned(session_id)
            if found is not None:
                self._refresh(local, *found)

    def commit(self, session: ServerSession) -> None:
        """Write the session's record back if handling a message changed it (phase, log level, ...)."""
        session_id = session.state.session_id
        local = self._local.get(session_id)
        if local is None:
            return
        state = session.state
        # What a request can change: phase, log level, subscriptions (the rest is fixed at initialize, and
        # the GET stream's holder changes by `claim_stream` only).
        fingerprint = (state.phase, state.log_level, state.protocol_version, tuple(state.subscriptions))
        if fingerprint == local.fingerprint:
            return
        local.fingerprint = fingerprint
        record = _record(state)
        if record != local.record:
            if len(record) > self.table.value_size:
                # e.g. thousands of subscriptions: this worker keeps its copy, the others keep the last one
                print(f"mcprt: session {session_id[:8]}: record too large to share", file=sys.stderr)
                return
            self._write_back(session_id, local, record)

    def _write_back(self, session_id: str, local: _Local, record: bytes) -> None:
        """Replace the record (only: a session deleted through another worker meanwhile stays deleted),
        keeping the GET stream's holder claimed through another worker since this copy was read."""
        state = local.session.state
        version = local.version
        for _ in range(1000):
            new = self.table.put(
                session_id, record, time.time() + self.idle_timeout, insert=False, version=version
            )
            if new:
                local.version, local.record = new, record
                return
            found = self.table.get_versioned(session_id)
            if found is None:
                return
            version, current = found
            _take_stream(state, load_state(current))
            record = _record(state)

    def current(self, session_id: str) -> SessionState | None:
        """The session's record as it is now (the local copy, refreshed, or decoded from the table)."""
        local = self._local.get(session_id)
        if local is not None:
            self.refresh(local.session)
            return local.session.state
        found = self.table.get_versioned(session_id)
        return load_state(found[1]) if found is not None else None

    def local(self, session_id: str) -> ServerSession | None:
        local = self._local.get(session_id)
        return local.session if local is not None else None

    def full(self) -> bool:
        if len(self.table) < self.max_sessions:
            return False
        self.expire()
        return len(self.table) >= self.max_sessions

    def add(self, session: ServerSession) -> str:
        session_id = new_session_id()
        session.state.session_id = session_id
        now = time.time()
        session.state.last_seen = now
        try:
            record = _record(session.state)
        except OverflowError:  # msgpack holds 64-bit integers only
            raise SessionRefused(400, "Integers in initialize must fit in 64 bits") from None
        if len(record) > self.table.value_size:
            limit = self.table.value_size
            raise SessionRefused(400, f"Session record of {len(record)} bytes exceeds the limit ({limit})")
        version = self.table.put(session_id, record, now + self.idle_timeout)
        if not version:
            raise SessionRefused(503, "Too many sessions; retry later")
        if self.inflight_for is not None:
            session.inflight = self.inflight_for(session_id)
        local = self._local[session_id] = _Local(session, version, record)
        local.touched = now
        return session_id

    def remove(self, session_id: str) -> ServerSession | None:
        local = self._drop(session_id)
        removed = self.table.remove(session_id)
        if local is not None:
            return local.session
        return ServerSession(self.profile(), SessionState(session_id=session_id)) if removed else None

    def forget(self, session_id: str) -> ServerSession | None:
        """Drop the local copy only (the session ended through another worker)."""
        local = self._drop(session_id)
        return local.session if local is not None else None

    def _drop(self, session_id: str) -> _Local | None:
        local = self._local.pop(session_id, None)
        release = getattr(local.session.inflight, "release_all", None) if local is not None else None
        if release is not None:
            release()  # its requests' ids, even of a handler cancelled before it ever ran (no release then)
        return local

    def expire(self) -> list[str]:
        expired = self.table.expire(time.time())
        gone = [sid for sid in self._local if sid in set(expired) or self.table.get_versioned(sid) is None]
        for session_id in gone:
            self._drop(session_id)
        return list({*expired, *gone})

    def __len__(self) -> int:
        return len(self.table)

    def __iter__(self) -> Iterator[ServerSession]:
        return iter([local.session for local in list(self._local.values())])
