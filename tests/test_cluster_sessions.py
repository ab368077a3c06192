"""The shared session table as two workers use it (two `SharedSessions` over one shared-memory table): the
GET stream's holder is claimed by compare-and-set, and a worker writing back a stale copy of the record
(e.g. after a subscription) keeps the holder another worker claimed meanwhile."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from ipc.segment import instance_prefix, reclaim_stale
from ipc.table import SharedTable
from runtime import Server
from runtime.protocol.core import ServerSession
from runtime.protocol.state import OPERATING
from workers.cluster.sessions import SharedSessions


@pytest.fixture
def table() -> Iterator[SharedTable]:
    prefix = instance_prefix("test-" + secrets.token_hex(4))
    table = SharedTable.create(prefix + "-sessions", 16, 1024)
    yield table
    table.unlink()
    table.close()
    reclaim_stale(prefix)
    assert not [p for p in Path("/dev/shm").iterdir() if p.name.startswith(prefix.lstrip("/"))]


def test_a_stale_commit_keeps_the_stream_holder_claimed_elsewhere(table: SharedTable) -> None:
    server = Server("sessions-test", "1")
    worker_a = SharedSessions(table, lambda: server.profile)
    worker_b = SharedSessions(table, lambda: server.profile)
    session = ServerSession(server.profile)
    session.state.phase = OPERATING
    session_id = worker_a.add(session)
    copy_b = worker_b.get(session_id)
    assert copy_b is not None
    before = worker_a.claim_stream(session_id, 0, "nonce-a", "g1")
    assert before is not None and before.stream_worker == -1
    copy_b.state.subscriptions.append("test://x")  # B's copy predates the claim
    worker_b.commit(copy_b)
    record = worker_b.current(session_id)
    assert record is not None and record.subscriptions == ["test://x"]
    assert (record.stream_worker, record.stream_nonce, record.stream_id) == (0, "nonce-a", "g1")
    # A claim over a claim records the one before: events published earlier were that holder's.
    worker_b.claim_stream(session_id, 1, "nonce-b", "g1")
    record = worker_a.current(session_id)
    assert record is not None and (record.stream_worker, record.stream_before) == (1, "0-nonce-a")
    assert record.stream_since > 0 and record.subscriptions == ["test://x"]
    assert [s.state.session_id for s in SharedSessions(table, lambda: server.profile).held_by(0)] == [
        session_id
    ]
