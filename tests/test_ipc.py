"""The shared-memory structures (ipc/LAYOUT.md) on real POSIX shared memory, with real processes writing
and reading at once: tables, rings and the event log never hand out a torn value, and bad segments are
refused with a clear error."""

from __future__ import annotations

import multiprocessing
import os
import random
import secrets
import struct
import subprocess
import sys
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from ipc.errors import SegmentError
from ipc.eventlog import SharedEventLog
from ipc.ring import Ring
from ipc.segment import instance_prefix, reclaim_stale
from ipc.table import SLOT, SharedTable

pytestmark = pytest.mark.timeout(60)
CTX = multiprocessing.get_context("spawn")


@pytest.fixture
def prefix() -> Iterator[str]:
    name = instance_prefix("test-" + secrets.token_hex(4))
    yield name
    reclaim_stale(name)  # whatever a test left behind
    assert not [p for p in Path("/dev/shm").iterdir() if p.name.startswith(name.lstrip("/"))]


def checked(value: bytes) -> bytes:
    return value + struct.pack("<I", zlib.crc32(value))


def intact(data: bytes) -> bool:
    return struct.unpack("<I", data[-4:])[0] == zlib.crc32(data[:-4])


# -- table ---------------------------------------------------------------------------------------------------


def test_table_matches_a_dict_under_random_puts_and_removes(prefix: str) -> None:
    table = SharedTable.create(prefix + "-t", 64, 32)
    model: dict[str, bytes] = {}
    rng = random.Random(7)
    try:
        for step in range(5000):
            key = f"k{rng.randrange(80)}"
            if rng.random() < 0.55:
                value = f"{step}".encode()
                if table.put(key, value):
                    model[key] = value
                else:
                    assert len(model) == 63 and key not in model  # full: one slot stays empty
            else:
                assert table.remove(key) == (model.pop(key, None) is not None)
            if step % 250 == 0:
                assert {k: table.get(k) for k in model} == model
                assert sorted(table.keys()) == sorted(model)
                assert len(table) == len(model)
        for key in (f"k{i}" for i in range(80)):
            assert table.get(key) == model.get(key)
    finally:
        table.unlink()
        table.close()


def test_table_versions_expiry_and_limits(prefix: str) -> None:
    table = SharedTable.create(prefix + "-t", 16, 8)
    try:
        table.put("a", b"1")
        first = table.get_versioned("a")
        table.put("a", b"2")
        second = table.get_versioned("a")
        assert first and second and second[0] > first[0] and second[1] == b"2"
        table.put("old", b"x", expires_at=time.time() - 1)
        assert table.get("old") is None
        assert table.expire(time.time()) == ["old"] and len(table) == 1
        table.put("soon", b"x", expires_at=time.time() + 60)
        assert table.touch("soon", time.time() - 1) and table.get("soon") is None
        with pytest.raises(ValueError, match="limit is 8"):
            table.put("big", b"123456789")
        with pytest.raises(ValueError, match="limit is 64"):
            table.put("k" * 65, b"")
        assert table.get("k" * 65) is None
        other = SharedTable.attach(prefix + "-t")
        assert other.get("a") == b"2"
        other.close()
    finally:
        table.unlink()
        table.close()


def test_table_put_with_a_version_is_a_compare_and_set(prefix: str) -> None:
    table = SharedTable.create(prefix + "-t", 16, 8)
    try:
        version = table.put("a", b"1")
        moved = table.put("a", b"2")  # another writer, after `version` was read
        assert table.put("a", b"3", version=version) == 0 and table.get("a") == b"2"
        assert table.put("a", b"3", version=moved) > moved and table.get("a") == b"3"
        assert table.put("absent", b"x", version=moved) == 0 and table.get("absent") is None
    finally:
        table.unlink()
        table.close()


def test_a_writer_that_died_mid_write_blocks_nobody(prefix: str) -> None:
    table = SharedTable.create(prefix + "-t", 16, 8)
    try:
        table.put("victim", b"v")
        table.put("other", b"o")
        off = (
            table.slots
            + next(
                i
                for i in range(16)
                if table.mm[table.slots + i * table.slot_size + 32 :].startswith(b"victim")
            )
            * table.slot_size
        )
        seq = SLOT.unpack_from(table.mm, off)[0]
        struct.pack_into("<I", table.mm, off, seq | 1)  # as left by a writer killed between its two stores
        started = time.monotonic()
        assert table.get("victim") is None  # torn: absent, after falling back to the lock
        assert table.get("other") in (b"o", None)
        assert time.monotonic() - started < 5
        assert table.put("victim", b"w") and table.get("victim") == b"w"  # the next write repairs it
    finally:
        table.unlink()
        table.close()


def _table_writer(name: str, keys: int, seconds: float, seed: int) -> None:
    table = SharedTable.attach(name)
    rng = random.Random(seed)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        key = f"key{rng.randrange(keys)}"
        if rng.random() < 0.2:
            table.remove(key)  # deletions move entries: readers must cope
        else:
            table.put(key, checked(os.urandom(rng.randrange(8, 200))))
    table.close()


def test_concurrent_writers_never_tear_a_read(prefix: str) -> None:
    name = prefix + "-t"
    table = SharedTable.create(name, 128, 256)
    writers = [CTX.Process(target=_table_writer, args=(name, 40, 2.0, seed)) for seed in range(2)]
    for writer in writers:
        writer.start()
    reads = torn = 0
    try:
        # Read while the writers run: they may take seconds to start on a loaded machine.
        while any(w.is_alive() for w in writers):
            for i in range(40):
                value = table.get(f"key{i}")
                if value is not None:
                    reads += 1
                    torn += not intact(value)
    finally:
        for writer in writers:
            writer.join(10)
        table.unlink()
        table.close()
    assert all(w.exitcode == 0 for w in writers)
    assert reads > 1000 and torn == 0


def _overwriter(name: str, seconds: float) -> None:
    table = SharedTable.attach(name)
    deadline = time.monotonic() + seconds
    n = 0
    while time.monotonic() < deadline:
        n += 1
        table.put("always", checked(n.to_bytes(8, "little") * (1 + n % 20)))
    table.close()


def test_a_key_being_overwritten_is_never_missed(prefix: str) -> None:
    """Overwriting keeps the key present throughout: a lock-free reader sees the old value or the new one,
    never no value (a store that passed through zero, as `struct.pack_into` does, read as an empty slot)."""
    name = prefix + "-t"
    table = SharedTable.create(name, 16, 256)
    table.put("always", checked(b"first"))
    writer = CTX.Process(target=_overwriter, args=(name, 1.5))
    writer.start()
    reads = missed = torn = 0
    try:
        while writer.is_alive():
            value = table.get("always")
            reads += 1
            if value is None:
                missed += 1
            elif not intact(value):
                torn += 1
    finally:
        writer.join(10)
        table.unlink()
        table.close()
    assert writer.exitcode == 0
    assert reads > 1000 and (missed, torn) == (0, 0)


def test_no_shared_word_is_written_with_struct_pack_into() -> None:
    """`struct.pack_into` zeroes its whole target before writing it, so a lock-free reader of that memory
    can see zeros: ipc/ writes words through ipc/atomic.py and records with one slice assignment."""
    ipc = Path(__file__).resolve().parent.parent / "ipc"
    offenders = [p.name for p in sorted(ipc.glob("*.py")) if "pack_into(" in p.read_text().replace("`pack_into`", "")]
    assert offenders == []


# -- ring ----------------------------------------------------------------------------------------------------


def test_ring_wraps_and_refuses_when_full(prefix: str) -> None:
    ring = Ring.create(prefix + "-r", 1024)
    try:
        for n in range(300):  # frames of every size wrap the ring many times
            payload = bytes([n % 256]) * (n % 200)
            assert ring.push(payload)
            assert ring.pop_all() == [payload]
    finally:
        ring.unlink()
        ring.close()
    ring = Ring.create(prefix + "-r", 1024)
    try:
        assert ring.push(b"a" * 400)
        assert not ring.push(b"b" * 600)  # more than half the ring: never fits
        assert ring.push(b"c" * 400)
        assert not ring.push(b"d" * 400)  # full until the reader catches up
        assert ring.pop_all() == [b"a" * 400, b"c" * 400] and ring.pending() == 0
    finally:
        ring.unlink()
        ring.close()


def _ring_writer(name: str, writer: int, count: int) -> None:
    ring = Ring.attach(name)
    for n in range(count):
        payload = checked(struct.pack("<II", writer, n) + os.urandom(n % 64))
        while not ring.push(payload):
            time.sleep(0.0005)  # full: the reader is behind
    ring.close()


def test_ring_many_writers_one_reader(prefix: str) -> None:
    name = prefix + "-r"
    ring = Ring.create(name, 64 * 1024)
    count = 5000
    writers = [CTX.Process(target=_ring_writer, args=(name, w, count)) for w in range(3)]
    for writer in writers:
        writer.start()
    seen: dict[int, list[int]] = {0: [], 1: [], 2: []}
    try:
        deadline = time.monotonic() + 30
        while sum(map(len, seen.values())) < 3 * count and time.monotonic() < deadline:
            for frame in ring.pop_all():
                assert intact(frame)
                writer, n = struct.unpack_from("<II", frame)
                seen[writer].append(n)
            time.sleep(0.001)
    finally:
        for writer in writers:
            writer.join(10)
        ring.unlink()
        ring.close()
    assert all(numbers == list(range(count)) for numbers in seen.values())  # each frame once, in order


# -- event log -----------------------------------------------------------------------------------------------


def test_event_log_replays_one_stream_and_forgets_what_was_overwritten(prefix: str) -> None:
    log = SharedEventLog.create(prefix + "-e", 8192, 16)
    try:
        ids = [log.append("s1", "a", f"a{i}".encode()) for i in range(5)]
        log.append("s1", "b", b"other stream")
        assert ids == ["a.1", "a.2", "a.3", "a.4", "a.5"]
        assert log.replay("s1", "a.2") == ("a", [("a.3", b"a2"), ("a.4", b"a3"), ("a.5", b"a4")], False)
        assert log.replay("s2", "a.2") is None  # another session's id
        assert log.replay("s1", "a.9") is None and log.replay("s1", "nonsense") is None
        log.append("s1", "a", None)
        assert log.replay("s1", "a.5") == ("a", [], True)
        other = SharedEventLog.attach(prefix + "-e")  # another process's view
        for i in range(500):  # ~40 KiB through an 8 KiB log
            other.append("s1", "c", b"x" * 64 + str(i).encode())
        stream_id, events, ended = log.replay("s1", "c.0") or ("", [], True)
        assert stream_id == "c" and not ended and 0 < len(events) < 500
        assert events[-1] == ("c.500", b"x" * 64 + b"499")
        seqs = [int(event_id.split(".")[1]) for event_id, _ in events]
        assert seqs == list(range(seqs[0], 501))  # the newest, contiguous: nothing torn or skipped
        other.close()
    finally:
        log.unlink()
        log.close()


# -- segments ------------------------------------------------------------------------------------------------


def test_bad_segments_are_refused_clearly(prefix: str) -> None:
    with pytest.raises(SegmentError, match="no such segment"):
        SharedTable.attach(prefix + "-missing")
    foreign = Path("/dev/shm") / (prefix.lstrip("/") + "-foreign")
    foreign.write_bytes(b"not ours" * 100)
    foreign.chmod(0o600)  # ours, private, but not a segment (tests/test_shm_ownership.py: not ours)
    with pytest.raises(SegmentError, match="bad magic"):
        SharedTable.attach(prefix + "-foreign")
    foreign.write_bytes(b"tiny")
    with pytest.raises(SegmentError, match="too small"):
        Ring.attach(prefix + "-foreign")
    foreign.unlink()
    ring = Ring.create(prefix + "-r", 1024)
    try:
        with pytest.raises(SegmentError, match="a ring segment, not a table"):
            SharedTable.attach(prefix + "-r")
        assert (Path("/dev/shm") / (prefix.lstrip("/") + "-r")).stat().st_mode & 0o777 == 0o600
        with pytest.raises(SegmentError, match="exists already"):
            Ring.create(prefix + "-r", 1024)
    finally:
        ring.unlink()
        ring.close()


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to become another user")
def test_another_user_cannot_attach(prefix: str) -> None:
    table = SharedTable.create(prefix + "-t", 16, 8)
    try:
        code = (
            "import os, sys\n"
            "from ipc.table import SharedTable\n"
            "from ipc.errors import SegmentError\n"
            "os.setgid(65534); os.setuid(65534)\n"
            f"try: SharedTable.attach({prefix + '-t'!r})\n"
            "except SegmentError as e: print(e); sys.exit(3)\n"
        )
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
        assert result.returncode == 3 and "permission denied" in result.stdout, result
    finally:
        table.unlink()
        table.close()


def test_reclaim_removes_leftovers_but_not_a_live_servers_segments(prefix: str) -> None:
    code = (
        "import sys, time\nfrom ipc.ring import Ring\n"
        f"Ring.create({prefix + '-r'!r}, 1024); print('ready', flush=True); time.sleep(60)\n"
    )
    owner = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert owner.stdout is not None and owner.stdout.readline().strip() == "ready"
        with pytest.raises(SegmentError, match=f"running server \\(pid {owner.pid}\\)"):
            reclaim_stale(prefix)
    finally:
        owner.kill()
        owner.wait()
    assert reclaim_stale(prefix) == [prefix + "-r"]  # its creator is gone: a leftover
    assert reclaim_stale(prefix) == []
