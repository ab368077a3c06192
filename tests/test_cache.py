"""The shared result cache as a data structure: real segments in /dev/shm, real processes hammering them."""

from __future__ import annotations

import multiprocessing
import os
import random
import struct
import time
import zlib
from collections.abc import Iterator

import posix_ipc
import pytest

from ipc.cache import HEADER_SIZE, CacheLimits, SharedCache, key_hash
from ipc.errors import SegmentError
from ipc.table import SharedTable

KEYS = [f"r:test://hammer/{i}" for i in range(24)]


def _name(tag: str) -> str:
    return f"/mcprt-test-{os.getpid()}-{tag}-cache"


@pytest.fixture
def small() -> Iterator[SharedCache]:
    cache = SharedCache.create(_name("small"), CacheLimits(bytes=2 * 16384, entries=128, shards=2))
    yield cache
    cache.unlink()
    cache.close()


def checked(payload: bytes) -> bytes:
    return struct.pack("<I", zlib.crc32(payload)) + payload


def valid(value: bytes) -> bool:
    return len(value) >= 4 and struct.unpack_from("<I", value)[0] == zlib.crc32(value[4:])


def test_put_get_replace_remove(small: SharedCache) -> None:
    assert small.get("r:a") is None
    assert small.put("r:a", b"one")
    assert small.get("r:a") == b"one"
    assert small.put("r:a", b"two, longer")
    assert small.get("r:a") == b"two, longer"
    assert small.stats().entries == 1
    assert small.remove("r:a") and small.get("r:a") is None
    assert not small.remove("r:a")
    other = SharedCache.attach(small.name)  # another mapping sees the same bytes
    small.put("r:b", b"\x00" * 100)
    assert other.get("r:b") == b"\x00" * 100
    other.close()


def test_ttl(small: SharedCache) -> None:
    small.put("t:x", b"short", ttl=0.15)
    small.put("t:y", b"long", ttl=60)
    assert small.get("t:x") == b"short"
    time.sleep(0.2)
    assert small.get("t:x") is None and small.get("t:y") == b"long"
    assert small.expire() == 1
    assert small.stats().expirations == 1


def test_eviction_by_bytes_is_in_ring_order(small: SharedCache) -> None:
    value = b"v" * 1000  # one shard's arena holds 16 of these
    keys = [f"k{i}" for i in range(200)]
    for key in keys:
        assert small.put(key, value)
    stats = small.stats()
    assert stats.evictions > 0 and stats.live_bytes <= stats.capacity_bytes
    present = [key for key in keys if small.get(key) == value]
    assert 10 < len(present) < 40
    assert set(keys[-5:]) <= set(present)  # the newest survive, the oldest went first
    assert keys[0] not in present


def test_eviction_by_entries(small: SharedCache) -> None:
    for i in range(1000):
        small.put(f"e{i}", b"x")
    stats = small.stats()
    assert stats.entries <= stats.capacity_entries == 128
    assert sum(1 for _ in small.entries()) == stats.entries
    assert small.get("e999") == b"x"


def test_limits_and_generation(small: SharedCache) -> None:
    assert not small.put("big", b"x" * 20000)  # more than a quarter of a shard's arena
    assert not small.put("k" * 5000, b"x")  # key too long
    generation = small.generation("r:g")
    small.remove("r:g")  # an invalidation while a value was being computed
    assert not small.put("r:g", b"stale", generation=generation)
    assert small.put("r:g", b"fresh", generation=small.generation("r:g"))
    assert small.stats().refused == 3


def test_remove_kind_and_clear(small: SharedCache) -> None:
    small.put("l:tools:1:", b"[]", kind=2)
    small.put("l:prompts:1:", b"[]", kind=2)
    small.put("r:x", b"x", kind=1)
    assert small.remove_kind(2, b"l:tools:") == 1
    assert small.get("l:prompts:1:") == b"[]" and small.get("r:x") == b"x"
    small.clear()
    assert small.get("r:x") is None and small.stats().entries == 0


def test_hash_vectors() -> None:
    # The vectors of ipc/CACHE.md.
    assert key_hash(b"123456789") == 0xCBF43926
    assert key_hash(b"r:test://static-text") == zlib.crc32(b"r:test://static-text")


# -- concurrent writers and readers ---------------------------------------------------------------------


def _writer(name: str, seconds: float, seed: int) -> int:
    cache = SharedCache.attach(name)
    rng = random.Random(seed)
    end = time.monotonic() + seconds
    puts = 0
    while time.monotonic() < end:
        payload = rng.randbytes(rng.randrange(1, 3000))
        cache.put(rng.choice(KEYS), checked(payload))
        puts += 1
        if puts % 50 == 0:
            cache.remove(rng.choice(KEYS))
    cache.close()
    return puts


def _reader(name: str, seconds: float) -> tuple[int, int, int]:
    cache = SharedCache.attach(name)
    end = time.monotonic() + seconds
    ok = bad = miss = 0
    while time.monotonic() < end:
        for key in KEYS:
            value = cache.get(key)
            if value is None:
                miss += 1
            elif valid(value):
                ok += 1
            else:
                bad += 1
    cache.close()
    return ok, bad, miss


def test_concurrent_writers_and_readers_never_see_a_torn_value() -> None:
    # A small arena, so the ring wraps continually: readers race with entries being replaced, removed,
    # evicted and their bytes overwritten.
    cache = SharedCache.create(_name("hammer"), CacheLimits(bytes=4 * 32768, entries=256, shards=4))
    seconds = 3.0
    try:
        ctx = multiprocessing.get_context("spawn")
        with ctx.Pool(5) as pool:
            writers = [pool.apply_async(_writer, (cache.name, seconds, seed)) for seed in range(3)]
            readers = [pool.apply_async(_reader, (cache.name, seconds)) for _ in range(2)]
            puts = [w.get(60) for w in writers]
            results = [r.get(60) for r in readers]
        assert all(p > 100 for p in puts), puts
        assert sum(r[0] for r in results) > 1000, results
        assert sum(r[1] for r in results) == 0, results  # zero torn values accepted
        assert cache.stats().evictions > 0
    finally:
        cache.unlink()
        cache.close()


def _replacer(name: str, seconds: float) -> None:
    cache = SharedCache.attach(name)
    end = time.monotonic() + seconds
    n = 0
    while time.monotonic() < end:
        n += 1
        cache.put("always", checked(n.to_bytes(8, "little") * (1 + n % 30)))
    cache.close()


def test_a_key_being_replaced_is_never_missed() -> None:
    """Replacing an entry in place: readers see the old value or the new one, never a miss (a sequence
    word or tag that passed through zero while stored would read as nothing there)."""
    cache = SharedCache.create(_name("replace"), CacheLimits(bytes=4 * 65536, entries=256, shards=4))
    cache.put("always", checked(b"first"))
    ctx = multiprocessing.get_context("spawn")
    writer = ctx.Process(target=_replacer, args=(cache.name, 1.5))
    writer.start()
    reads = missed = torn = 0
    try:
        while writer.is_alive():
            value = cache.get("always")
            reads += 1
            if value is None:
                missed += 1
            elif not valid(value):
                torn += 1
    finally:
        writer.join(10)
        cache.unlink()
        cache.close()
    assert writer.exitcode == 0
    assert reads > 1000 and (missed, torn) == (0, 0)


# -- bad segments ---------------------------------------------------------------------------------------


def test_missing_foreign_and_corrupt_segments_are_clear_errors() -> None:
    with pytest.raises(SegmentError, match="no such segment"):
        SharedCache.attach(_name("absent"))
    table = SharedTable.create(_name("table"), 8, 16)
    try:
        with pytest.raises(SegmentError, match="table segment, not a cache"):
            SharedCache.attach(table.name)
    finally:
        table.unlink()
        table.close()
    junk = posix_ipc.SharedMemory(_name("junk"), posix_ipc.O_CREX, mode=0o600, size=4096)
    try:
        os.write(junk.fd, b"not a segment at all" * 10)
        with pytest.raises(SegmentError, match="bad magic"):
            SharedCache.attach(junk.name)
    finally:
        os.close(junk.fd)
        junk.unlink()
    cache = SharedCache.create(_name("corrupt"), CacheLimits(bytes=2 * 16384, entries=128, shards=2))
    try:
        struct.pack_into("<I", cache.mm, HEADER_SIZE + 8, 7)  # ways
        with pytest.raises(SegmentError, match="cache header is corrupt"):
            SharedCache.attach(cache.name)
    finally:
        cache.unlink()
        cache.close()


def test_garbage_in_the_index_and_arena_never_crashes() -> None:
    cache = SharedCache.create(_name("garbage"), CacheLimits(bytes=2 * 16384, entries=128, shards=2))
    try:
        for i in range(50):
            cache.put(f"k{i}", b"value %d" % i)
        rng = random.Random(7)
        start = cache.shard_at[0]
        for _ in range(3000):  # scribble over shard headers, buckets and records
            at = rng.randrange(start, len(cache.mm) - 8)
            cache.mm[at : at + 8] = rng.randbytes(8)
        for i in range(50):
            value = cache.get(f"k{i}")
            assert value is None or isinstance(value, bytes)
        list(cache.entries())
        for i in range(200):  # writers recover (a shard that does not add up starts afresh)
            assert cache.put(f"n{i}", b"new")
        assert cache.get("n199") == b"new"
    finally:
        cache.unlink()
        cache.close()


def _attach_as(uid: int, name: str, result: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    os.setuid(uid)
    try:
        SharedCache.attach(name)
        result.put("attached")
    except SegmentError as exc:
        result.put(str(exc))


def test_another_user_is_refused() -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root to run a reader as another user")
    cache = SharedCache.create(_name("perm"), CacheLimits(bytes=2 * 16384, entries=128, shards=2))
    try:
        ctx = multiprocessing.get_context("fork")
        queue = ctx.Queue()
        child = ctx.Process(target=_attach_as, args=(65534, cache.name, queue))
        child.start()
        child.join(10)
        assert "permission denied" in queue.get(timeout=5)
    finally:
        cache.unlink()
        cache.close()
