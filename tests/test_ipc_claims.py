"""The shared table's claim (`put_new`: insert only if absent or abandoned) and its sweep (`remove_values`),
which the cross-worker in-flight registry is built on (workers/cluster/inflight.py)."""

from __future__ import annotations

import multiprocessing
import os
import secrets
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from ipc.claims import ClaimTables
from ipc.errors import SegmentError
from ipc.segment import instance_prefix, reclaim_stale
from ipc.table import SharedTable

CTX = multiprocessing.get_context("spawn")
KEYS = 400


@pytest.fixture
def prefix() -> Iterator[str]:
    name = instance_prefix("test-" + secrets.token_hex(4))
    yield name
    reclaim_stale(name)
    assert not [p for p in Path("/dev/shm").iterdir() if p.name.startswith(name.lstrip("/"))]


def _claimer(name: str, me: int, start: multiprocessing.synchronize.Event) -> None:  # type: ignore[name-defined]
    tables = ClaimTables.attach(name)
    start.wait()
    for i in range(KEYS):
        tables.shards[i % 2].put_new(f"k{i}", str(me).encode(), KEYS)
    tables.close()


def test_each_key_is_claimed_by_exactly_one_of_three_processes(prefix: str) -> None:
    name = prefix + "-c"
    tables = ClaimTables.create(name, 2, 2 * KEYS, 16)
    start = CTX.Event()
    claimers = [CTX.Process(target=_claimer, args=(name, me, start)) for me in range(3)]
    try:
        for claimer in claimers:
            claimer.start()
        start.set()
        for claimer in claimers:
            claimer.join(60)
        assert all(c.exitcode == 0 for c in claimers)
        owners = [tables.shards[i % 2].get(f"k{i}") for i in range(KEYS)]
        assert sum(map(len, tables.shards)) == KEYS and all(owner in (b"0", b"1", b"2") for owner in owners)
        # Nobody can claim a held key again, whatever the order of the racers was.
        assert tables.shards[0].put_new("k0", b"9", KEYS) == 0 and tables.shards[0].get("k0") == owners[0]
    finally:
        tables.unlink()
        tables.close()


def test_abandoned_entries_are_taken_over_or_swept_and_the_limit_holds(prefix: str) -> None:
    table = SharedTable.create(prefix + "-c", 8, 16)
    try:
        dead = {b"dead"}
        assert table.put_new("a", b"dead", 2) > 0 and table.put_new("b", b"live", 2) > 0
        assert table.put_new("c", b"live", 2) == -1  # at the limit of 2
        assert table.put_new("b", b"other", 2, lambda v: v in dead) == 0  # held by a live owner
        assert table.put_new("a", b"new", 2, lambda v: v in dead) > 0  # abandoned: taken over
        assert table.get("a") == b"new" and len(table) == 2
        dead.add(b"new")
        assert table.remove_values(lambda v: v in dead) == 1
        assert table.keys() == ["b"] and table.put_new("c", b"live", 2) > 0
        with pytest.raises(ValueError):
            table.put_new("k" * 65, b"x", 2)
    finally:
        table.unlink()
        table.close()


def test_sweep_keeps_every_survivor_when_deletions_shift_entries(prefix: str) -> None:
    """Many keys colliding in a small table: removing every other one moves the rest back (backward-shift
    deletion), and the sweep still looks at each entry once it landed."""
    table = SharedTable.create(prefix + "-c", 64, 16)
    try:
        for i in range(60):
            assert table.put_new(f"key{i}", b"odd" if i % 2 else b"even", 64) > 0
        assert table.remove_values(lambda v: v == b"odd") == 30
        assert sorted(table.keys()) == sorted(f"key{i}" for i in range(0, 60, 2))
        assert all(table.get(f"key{i}") == b"even" for i in range(0, 60, 2))
    finally:
        table.unlink()
        table.close()


def _die_holding_the_lock(name: str) -> None:
    tables = ClaimTables.attach(name)
    tables.shards[1].lock().__enter__()
    os.kill(os.getpid(), signal.SIGKILL)


def test_a_process_killed_holding_the_claim_tables_lock_blocks_nobody(prefix: str) -> None:
    name = prefix + "-c"
    tables = ClaimTables.create(name, 2, 16, 16)
    try:
        victim = CTX.Process(target=_die_holding_the_lock, args=(name,))
        victim.start()
        victim.join(30)
        assert victim.exitcode == -signal.SIGKILL
        for shard in tables.shards:
            assert shard.put_new("after", b"1", 8) > 0 and shard.get("after") == b"1"
        with pytest.raises(SegmentError):
            SharedTable.attach(name)  # not a plain table: its header says so
    finally:
        tables.unlink()
        tables.close()
