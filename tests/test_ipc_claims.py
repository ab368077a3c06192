"""The claim tables' claim (insert only if absent or abandoned), release and sweep (`remove_owners`), which
the cross-worker in-flight registry is built on (workers/cluster/inflight.py)."""

from __future__ import annotations

import multiprocessing
import os
import secrets
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from ipc.claims import EMPTY, FULL, HELD, ClaimTables
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
        tables.shards[i % 2].claim(tables.key(b"k%d" % i), me, KEYS)
    tables.close()


def test_each_key_is_claimed_by_exactly_one_of_three_processes(prefix: str) -> None:
    name = prefix + "-c"
    tables = ClaimTables.create(name, 2, 2 * KEYS)
    start = CTX.Event()
    claimers = [CTX.Process(target=_claimer, args=(name, me, start)) for me in range(3)]
    try:
        for claimer in claimers:
            claimer.start()
        start.set()
        for claimer in claimers:
            claimer.join(60)
        assert all(c.exitcode == 0 for c in claimers)
        owners = [tables.shards[i % 2].owner_of(tables.key(b"k%d" % i)) for i in range(KEYS)]
        assert sum(map(len, tables.shards)) == KEYS and all(owner in (0, 1, 2) for owner in owners)
        # Nobody can claim a held key again, whatever the order of the racers was.
        k0 = tables.key(b"k0")
        assert tables.shards[0].claim(k0, 9, KEYS) == HELD and tables.shards[0].owner_of(k0) == owners[0]
    finally:
        tables.unlink()
        tables.close()


def test_abandoned_entries_are_taken_over_or_swept_and_the_limit_holds(prefix: str) -> None:
    tables = ClaimTables.create(prefix + "-c", 1, 8)
    table = tables.shards[0]
    try:
        dead = {7}
        a, b, c = (tables.key(name) for name in (b"a", b"b", b"c"))
        at_a = table.claim(a, 7, 2)
        assert at_a >= 0 and table.claim(b, 1, 2) >= 0
        assert table.claim(c, 1, 2) == FULL  # at the limit of 2
        assert table.claim(b, 2, 2, lambda v: v in dead) == HELD  # held by a live owner
        assert table.claim(a, 3, 2, lambda v: v in dead) == at_a  # abandoned: taken over, in place
        assert table.owner_of(a) == 3 and len(table) == 2
        assert not table.release(at_a, a, 7)  # no longer the releaser's
        dead.add(3)
        assert table.remove_owners(lambda v: v in dead) == 1
        assert list(table.entries()) == [(b, 1)] and table.owner_of(a) is None and table.claim(c, 1, 2) >= 0
    finally:
        tables.unlink()
        tables.close()


def test_probes_find_every_survivor_past_tombstones_and_released_slots_empty_again(prefix: str) -> None:
    """Keys all colliding in one chain: releasing every other one leaves tombstones that lookups and claims
    walk past; releasing the rest empties the whole chain, so probes stay short."""
    capacity = 64
    tables = ClaimTables.create(prefix + "-c", 1, capacity)
    table = tables.shards[0]
    try:
        keys = [capacity * i + 5 for i in range(1, 41)]  # one home slot: 5
        at = {key: table.claim(key, 1, capacity) for key in keys}
        assert sorted(at.values()) == list(range(5, 45))
        for key in keys[::2]:
            assert table.release(at[key], key, 1)
        assert len(table) == 20 and all(table.owner_of(key) == 1 for key in keys[1::2])
        assert all(table.owner_of(key) is None for key in keys[::2])
        assert table.claim(keys[1], 2, capacity) == HELD  # found past the tombstone before it
        again = table.claim(keys[0], 3, capacity)
        assert again == 5 and table.owner_of(keys[0]) == 3  # a tombstone is reused
        for key in keys[1::2]:
            assert table.release(at[key], key, 1)
        assert table.release(again, keys[0], 3) and len(table) == 0
        assert table.words is not None and all(word == EMPTY for word in table.words[::2])
        assert table.remove_owners(lambda owner: True) == 0 and len(table) == 0
    finally:
        tables.unlink()
        tables.close()


def test_an_entry_left_uncounted_by_a_killed_claimer_is_taken_over_and_released_cleanly(prefix: str) -> None:
    """A claimer killed after writing its key but before its count: the count is one too low; a takeover
    and release of that entry must not wrap the count around, and the sweep recounts."""
    tables = ClaimTables.create(prefix + "-c", 1, 8)
    table = tables.shards[0]
    try:
        key = 8 * 3 + 2  # home slot 2
        assert table.words is not None
        table.words[2 * 2 + 1], table.words[2 * 2] = 7, key  # as the killed claimer left it (owner 7)
        assert len(table) == 0 and table.owner_of(key) == 7
        index = table.claim(key, 1, 4, lambda owner: owner == 7)
        assert index == 2 and table.release(index, key, 1) and len(table) == 0
        assert table.claim(key, 1, 4) == 2 and len(table) == 1
        table.words[2 * 5 + 1], table.words[2 * 5] = 7, 8 * 4 + 5  # another, uncounted
        assert table.remove_owners(lambda owner: owner == 7) == 1 and len(table) == 1
    finally:
        tables.unlink()
        tables.close()


def _die_holding_the_lock(name: str) -> None:
    tables = ClaimTables.attach(name)
    tables.shards[1].lock().__enter__()
    os.kill(os.getpid(), signal.SIGKILL)


def test_a_process_killed_holding_the_claim_tables_lock_blocks_nobody(prefix: str) -> None:
    name = prefix + "-c"
    tables = ClaimTables.create(name, 2, 16)
    try:
        victim = CTX.Process(target=_die_holding_the_lock, args=(name,))
        victim.start()
        victim.join(30)
        assert victim.exitcode == -signal.SIGKILL
        for shard in tables.shards:
            key = tables.key(b"after")
            assert shard.claim(key, 1, 8) >= 0 and shard.owner_of(key) == 1
        with pytest.raises(SegmentError):
            SharedTable.attach(name)  # not a plain table: its header says so
    finally:
        tables.unlink()
        tables.close()
