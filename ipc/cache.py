"""The shared result cache: str key → ready-to-send JSON bytes, in one segment mapped by the supervisor,
every worker and co-located readers (ipc/CACHE.md is the binary layout; keep the two in step).

The key space is split into shards by CRC-32 of the key. A shard has a set-associative index (buckets of
8 ways, each bucket guarded by one sequence counter) and a value arena used as a ring: records are
appended at the head, and when the ring is full the oldest records at the tail are evicted (their index
entries cleared) before their bytes are overwritten. A full bucket evicts its oldest entry. So eviction is
in write order (FIFO), never on reads: readers write nothing, which is what lets them take no lock.

Writers of one shard serialise on an fcntl byte lock (the kernel drops it if the writer dies); a writer
that died mid-change leaves the shard marked dirty and the next writer resets that shard. Readers follow
the seqlock protocol: read the bucket's counter (retry while odd), read the entry and the bytes it points
to, read the counter again; equal means nothing they read was changed meanwhile, because a writer bumps
the counter before it clears an entry and before it overwrites the bytes an entry pointed to. This relies
on x86-64 ordering (stores seen in program order, loads not reordered with loads); elsewhere
`LOCK_FREE_READS` is false and readers take the shard's lock.
"""

from __future__ import annotations

import struct
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

from ipc.errors import SegmentError
from ipc.segment import HEADER_SIZE, KIND_CACHE, LOCK_FREE_READS, Segment, align

WAYS = 8
CACHE_HEADER = struct.Struct("<IIIIQIIIIQQQ")
# shards, buckets per shard, ways, bucket bytes, arena bytes per shard, shard header bytes, state, lanes,
# key max, offset of shard 0, bytes per shard, offset of the counter lanes
CACHE_HEADER_SIZE = 64
BUCKET_HEAD = struct.Struct("<II8I")  # seq, used ways, 8 tags (0 = empty way)
BUCKET_HEAD_SIZE = 64
ENTRY = struct.Struct("<QIHHdQ")  # record offset, value length, key length, kind, expires at, version
ENTRY_SIZE = 32
BUCKET_SIZE = BUCKET_HEAD_SIZE + WAYS * ENTRY_SIZE  # 320
RECORD = struct.Struct("<IHHIIQ")  # record bytes, record kind, key length, value length, hash, version
RECORD_SIZE = 24
SHARD = struct.Struct("<IIQQQQQQQQQ")
# dirty, invalidation generation, head, tail, live bytes, entries, evictions, expirations,
# invalidations, stores, versions
SHARD_HEADER_SIZE = 128
LANE = struct.Struct("<QQQQ")  # hits, misses, stores, stores refused
LANE_SIZE = 32
LANES = 65  # one per worker slot (workers.cluster.config.MAX_SLOTS) + one for tools
TOOL_LANE = 64
_unpack_head, _unpack_entry = BUCKET_HEAD.unpack_from, ENTRY.unpack_from

STATE_OPEN, STATE_CLOSED = 1, 2
_STATE = 28  # offset of the state in the cache header
RECORD_ENTRY, RECORD_PAD = 1, 2
KIND_OTHER, KIND_RESOURCE, KIND_LIST, KIND_TOOL = 0, 1, 2, 3
KIND_LABELS = {KIND_OTHER: "other", KIND_RESOURCE: "resource", KIND_LIST: "list", KIND_TOOL: "tool"}
KEY_MAX = 4096
# Reader retries on one bucket before it waits for the shard's writers' lock instead: a writer descheduled
# mid-write (or dead) keeps the bucket odd, and spinning on would only burn the core it needs.
SPINS = 2_000

# byte offsets inside a shard header
_DIRTY, _GEN, _HEAD, _TAIL, _LIVE, _ENTRIES, _EVICTIONS, _EXPIRED, _INVALIDATED, _STORES, _VERSIONS = (
    0,
    4,
    8,
    16,
    24,
    32,
    40,
    48,
    56,
    64,
    72,
)


def key_hash(key: bytes) -> int:
    """CRC-32 (ISO-HDLC, as zlib) of the key's UTF-8 bytes."""
    return zlib.crc32(key)


def resource_key(uri: str) -> str:
    return "r:" + uri


def tool_key(name: str, canonical_arguments: bytes) -> str:
    return "t:" + name + ":" + canonical_arguments.decode()


def list_key(kind: str, fingerprint: int, cursor: str | None) -> str:
    return f"l:{kind}:{fingerprint:08x}:{cursor or ''}"


@dataclass
class CacheLimits:
    """The capacity, fixed when the segment is created."""

    bytes: int = 64 * 1024 * 1024  # value arenas, all shards together
    entries: int = 65_536  # index entries, all shards together (rounded up to buckets of 8)
    shards: int = 16
    max_value_bytes: int = 1024 * 1024  # larger results are not cached

    def check(self) -> None:
        if not 1 <= self.shards <= 256:
            raise ValueError("cache shards must be between 1 and 256")
        if self.entries < WAYS * self.shards:
            raise ValueError(f"cache entries must be at least {WAYS * self.shards}")
        if self.bytes < 4096 * self.shards:
            raise ValueError(f"cache bytes must be at least {4096 * self.shards}")
        if self.max_value_bytes < 1:
            raise ValueError("max_value_bytes must be positive")


@dataclass
class CacheStats:
    entries: int
    live_bytes: int
    capacity_bytes: int
    capacity_entries: int
    hits: int
    misses: int
    stores: int
    refused: int
    evictions: int
    expirations: int
    invalidations: int

    @property
    def hit_rate(self) -> float:
        total = self.hits + self.misses
        return self.hits / total if total else 0.0


class SharedCache:
    """A mapped cache segment: lock-free `get` for everyone, `put`/`remove` for writers."""

    def __init__(self, segment: _CacheSegment) -> None:
        self.segment = segment
        self._slots: dict[str, tuple[bytes, int, int, int, int]] = {}  # uri -> slot, for get_resource
        self.name = segment.name
        self.mm = mm = segment.mm
        (shards, buckets, ways, bucket_bytes, arena, shard_header, _state, lanes, key_max, shards_at,
         stride, lanes_at) = CACHE_HEADER.unpack_from(mm, HEADER_SIZE)  # fmt: skip
        size = len(mm)
        if (
            ways != WAYS
            or bucket_bytes != BUCKET_SIZE
            or shard_header != SHARD_HEADER_SIZE
            or not 1 <= shards <= 256
            or buckets < 1
            or arena < 4096
            or arena % 8
            or lanes != LANES
            or key_max != KEY_MAX
            or stride != SHARD_HEADER_SIZE + buckets * BUCKET_SIZE + arena
            or lanes_at < HEADER_SIZE + CACHE_HEADER_SIZE
            or lanes_at + lanes * LANE_SIZE > shards_at
            or shards_at + shards * stride != size
        ):
            raise SegmentError(f"{self.name}: the cache header is corrupt or of another layout")
        self.shards = shards
        self.buckets = buckets
        self.arena: int = arena
        self.lanes_at = lanes_at
        self.shard_at = [shards_at + i * stride for i in range(shards)]
        self.buckets_at = [at + SHARD_HEADER_SIZE for at in self.shard_at]
        self.arena_at: list[int] = [at + buckets * BUCKET_SIZE for at in self.buckets_at]
        self.max_value = min(arena // 4, 1 << 31)
        self.lane = TOOL_LANE
        # Every counter and sequence word is loaded and stored whole (ipc/atomic.py): struct would not.
        words = segment.words
        self.u32 = words.u32  # for the hot read path, which indexes it itself (offset >> 2)
        self.load32, self.store32, self.load64, self.store64 = (
            words.load32,
            words.store32,
            words.load64,
            words.store64,
        )

    # -- life cycle ----------------------------------------------------------------------------------------

    @classmethod
    def create(cls, name: str, limits: CacheLimits | None = None) -> SharedCache:
        limits = limits or CacheLimits()
        limits.check()
        shards = limits.shards
        buckets = -(-limits.entries // (WAYS * shards))
        arena = align(-(-limits.bytes // shards), 8)
        lanes_at = HEADER_SIZE + CACHE_HEADER_SIZE
        shards_at = align(lanes_at + LANES * LANE_SIZE, 64)
        stride = SHARD_HEADER_SIZE + buckets * BUCKET_SIZE + arena
        size = shards_at + shards * stride
        fd, mm = _CacheSegment._create(name, size, shards_at)
        mm[HEADER_SIZE : HEADER_SIZE + CACHE_HEADER.size] = CACHE_HEADER.pack(
            shards, buckets, WAYS, BUCKET_SIZE, arena, SHARD_HEADER_SIZE, STATE_OPEN,
            LANES, KEY_MAX, shards_at, stride, lanes_at,
        )  # fmt: skip
        cache = cls(_CacheSegment(name, fd, mm, True))
        cache.max_value = min(cache.max_value, limits.max_value_bytes)
        return cache

    @classmethod
    def attach(cls, name: str) -> SharedCache:
        segment = _CacheSegment.attach_segment(name)
        try:
            return cls(segment)
        except BaseException:
            segment.close()
            raise

    @property
    def closed_by_owner(self) -> bool:
        """The server that owns the segment has stopped (it marks the header before unlinking)."""
        state: int = self.load32(HEADER_SIZE + _STATE)
        return state != STATE_OPEN

    @property
    def creator_pid(self) -> int:
        return self.segment.creator_pid

    def mark_closed(self) -> None:
        self.store32(HEADER_SIZE + _STATE, STATE_CLOSED)

    def close(self) -> None:
        self.segment.close()

    def unlink(self) -> None:
        self.segment.unlink()

    # -- reads (no lock) -----------------------------------------------------------------------------------

    def _where(self, h: int) -> tuple[int, int]:
        shard = h % self.shards
        return shard, self.buckets_at[shard] + (h // self.shards) % self.buckets * BUCKET_SIZE

    def get(self, key: str) -> bytes | None:
        return self.get_bytes(key.encode())

    def lookup(self, kb: bytes) -> tuple[bytes, int, float] | None:
        """(value, version, expires at) of a live entry, or None."""
        h = zlib.crc32(kb)
        shard, at = self._where(h)
        found = self._probe(kb, h, shard, at) if LOCK_FREE_READS else self._probe_locked(kb, h, shard, at)
        if found is None or (found[2] and found[2] <= time.time()):
            return None
        return found

    def get_bytes(self, kb: bytes) -> bytes | None:
        """The value under the encoded key `kb`, or None."""
        return self.get_slot(self.slot(kb))

    def get_resource(self, uri: str) -> bytes | None:
        """The cached resources/read result of `uri`, or None: the hot path of co-located readers and of
        the server's cached reads. Each URI's slot is worked out once (bounded)."""
        slot = self._slots.get(uri)
        if slot is None:
            slot = self.slot(("r:" + uri).encode())  # resource_key(uri)
            if len(self._slots) < 4096:  # readers ask for the same URIs again and again
                self._slots[uri] = slot
        return self.get_slot(slot)

    def slot(self, kb: bytes) -> tuple[bytes, int, int, int, int]:
        """Where the key `kb` lives, fixed for the segment's life: (key, bucket offset, the shard's arena
        start and end, the key's tag)."""
        h = zlib.crc32(kb)
        shards = self.shards
        shard = h % shards
        lo = self.arena_at[shard]
        at = self.buckets_at[shard] + (h // shards) % self.buckets * BUCKET_SIZE
        return kb, at, lo, lo + self.arena, h or 1

    def get_slot(self, slot: tuple[bytes, int, int, int, int]) -> bytes | None:
        """The read protocol of `_probe`, inlined for the hot path (every call and attribute lookup saved
        is a measurable share of a 1 µs read)."""
        kb, at, lo, hi, tag = slot
        if not LOCK_FREE_READS:
            found = self.lookup(kb)
            return None if found is None else found[0]
        mm, u32, word = self.mm, self.u32, at >> 2  # the bucket's counter, indexed inline: a call costs
        klen = len(kb)
        unpack_head = _unpack_head
        for _ in range(SPINS):
            seq = u32[word]  # before the words it guards
            if seq & 1:
                continue
            head = unpack_head(mm, at)
            value = None
            expires = 0.0
            way = 2
            while tag in head:  # a miss ends here, without raising (the tag may also equal the seq word)
                try:
                    way = head.index(tag, way)
                except ValueError:
                    break
                off, vlen, elen, _kind, expires, _version = _unpack_entry(mm, at + 32 * way)
                start = off + RECORD_SIZE
                end = start + klen
                if elen == klen and lo <= off and end + vlen <= hi and mm[start:end] == kb:
                    value = mm[end : end + vlen]
                    break
                way += 1
            if u32[word] == seq:
                if value is not None and expires and expires <= time.time():
                    return None
                return value
        found = self.lookup(kb)  # the bucket stayed odd: `_probe` waits for its writer
        return None if found is None else found[0]

    def _probe_locked(self, kb: bytes, h: int, shard: int, at: int) -> tuple[bytes, int, float] | None:
        """A read under the shard's lock: its writer finishes first, or, dead, left the shard dirty, and
        then nothing in it is trusted until the next writer resets it."""
        with self.segment.locked(shard):
            if self.load32(self.shard_at[shard] + _DIRTY):
                return None
            return self._probe(kb, h, shard, at, locked=True)

    def _probe(
        self, kb: bytes, h: int, shard: int, at: int, locked: bool = False
    ) -> tuple[bytes, int, float] | None:
        mm = self.mm
        tag = h or 1
        klen = len(kb)
        lo = self.arena_at[shard]
        hi = lo + self.arena
        unpack_head = BUCKET_HEAD.unpack_from
        unpack_entry = ENTRY.unpack_from
        for _ in range(SPINS):
            seq = self.load32(at)
            if seq & 1 and not locked:
                continue
            head = unpack_head(mm, at)
            found = None
            way = 2
            while tag in head:  # a miss ends here, without raising (the tag may also equal the seq word)
                try:
                    way = head.index(tag, way)
                except ValueError:
                    break
                off, vlen, elen, _kind, expires, version = unpack_entry(mm, at + 32 * way)  # 64 + 32 * (w-2)
                start = off + RECORD_SIZE
                if (
                    elen == klen
                    and lo <= off
                    and start + klen + vlen <= hi
                    and mm[start : start + klen] == kb
                ):
                    found = (mm[start + klen : start + klen + vlen], version, expires)
                    break
                way += 1
            if locked or self.load32(at) == seq:
                return found
        return self._probe_locked(kb, h, shard, at)  # odd all along: a writer descheduled (or dead) mid-write

    def entries(self) -> Iterator[tuple[str, int, int, float, int]]:
        """(key, value length, kind, expires at, version) of the entries (a snapshot, without a lock: one
        changing meanwhile may be missed)."""
        mm = self.mm
        for shard in range(self.shards):
            lo, hi = self.arena_at[shard], self.arena_at[shard] + self.arena
            for b in range(self.buckets):
                at = self.buckets_at[shard] + b * BUCKET_SIZE
                seq = self.load32(at)
                head = BUCKET_HEAD.unpack_from(mm, at)
                if seq & 1 or not any(head[2:]):
                    continue
                seen = []
                for way in range(WAYS):
                    if head[2 + way]:
                        off, vlen, klen, kind, expires, version = ENTRY.unpack_from(
                            mm, at + BUCKET_HEAD_SIZE + way * ENTRY_SIZE
                        )
                        start = off + RECORD_SIZE
                        if lo <= off and start + klen + vlen <= hi:
                            seen.append((mm[start : start + klen], vlen, kind, expires, version))
                if self.load32(at) == seq:
                    for kb, vlen, kind, expires, version in seen:
                        yield kb.decode(errors="replace"), vlen, kind, expires, version

    # -- counters ------------------------------------------------------------------------------------------

    def count(self, hit: bool) -> None:
        """A server-side hit or miss, in this process's lane (one writer per lane: no lock needed)."""
        at = self.lanes_at + self.lane * LANE_SIZE + (0 if hit else 8)
        self.store64(at, self.load64(at) + 1)

    def _count_store(self, stored: bool) -> None:
        at = self.lanes_at + self.lane * LANE_SIZE + (16 if stored else 24)
        self.store64(at, self.load64(at) + 1)

    def stats(self) -> CacheStats:
        mm = self.mm
        lanes = [LANE.unpack_from(mm, self.lanes_at + i * LANE_SIZE) for i in range(LANES)]
        shards = [SHARD.unpack_from(mm, at) for at in self.shard_at]
        return CacheStats(
            entries=sum(s[5] for s in shards),
            live_bytes=sum(s[4] for s in shards),
            capacity_bytes=self.arena * self.shards,
            capacity_entries=WAYS * self.buckets * self.shards,
            hits=sum(lane[0] for lane in lanes),
            misses=sum(lane[1] for lane in lanes),
            stores=sum(lane[2] for lane in lanes),
            refused=sum(lane[3] for lane in lanes),
            evictions=sum(s[6] for s in shards),
            expirations=sum(s[7] for s in shards),
            invalidations=sum(s[8] for s in shards),
        )

    # -- writes (under the shard's lock) -------------------------------------------------------------------

    def generation(self, key: str) -> int:
        """The key's shard's invalidation generation: take it before computing a value, pass it to `put`,
        and a value computed while the key was invalidated is not stored (it may be stale)."""
        shard = zlib.crc32(key.encode()) % self.shards
        return int(self.load32(self.shard_at[shard] + _GEN))

    def put(self, key: str, value: bytes, ttl: float | None = None, kind: int = KIND_OTHER,
            generation: int | None = None) -> bool:  # fmt: skip
        """Store `value` (ttl in seconds; None: until invalidated or evicted). False when not stored: too
        big, or the shard was invalidated since `generation`."""
        kb = key.encode()
        size = align(RECORD_SIZE + len(kb) + len(value))
        if len(kb) > KEY_MAX or len(value) > self.max_value or size > self.arena // 2:
            self._count_store(False)
            return False
        expires = time.time() + ttl if ttl else 0.0
        h = zlib.crc32(kb)
        shard, at = self._where(h)
        with self.segment.locked(shard):
            s = self.shard_at[shard]
            mm = self.mm
            self._recover(shard)
            if generation is not None and self.load32(s + _GEN) != generation:
                self._count_store(False)
                return False
            self.store32(s + _DIRTY, 1)
            version = self.load64(s + _VERSIONS) + 1
            self.store64(s + _VERSIONS, version)
            try:
                off = self._allocate(shard, size)
            except _Corrupt:  # a ring that does not add up: start the shard afresh rather than trust it
                self._reset(shard)
                off = self._allocate(shard, size)
            mm[off : off + RECORD_SIZE] = RECORD.pack(size, RECORD_ENTRY, len(kb), len(value), h, version)
            start = off + RECORD_SIZE
            mm[start : start + len(kb)] = kb
            mm[start + len(kb) : start + len(kb) + len(value)] = value
            self._index(shard, at, h, kb, off, len(value), kind, expires, version, size)
            self._add(s + _STORES, 1)
            self.store32(s + _DIRTY, 0)
        self._count_store(True)
        return True

    def _add(self, at: int, n: int) -> None:
        self.store64(at, self.load64(at) + n)

    def _allocate(self, shard: int, size: int) -> int:
        """Room for `size` bytes at the ring's head, evicting from the tail; returns the segment offset."""
        mm = self.mm
        s = self.shard_at[shard]
        arena = self.arena
        head: int = self.load64(s + _HEAD)
        tail: int = self.load64(s + _TAIL)
        phys = head % arena
        pad = arena - phys if phys + size > arena else 0
        while head + pad + size - tail > arena:
            tail = self._evict_tail(shard, tail, head)
        if pad:
            if pad >= RECORD_SIZE:
                pad_at = self.arena_at[shard] + phys
                mm[pad_at : pad_at + RECORD_SIZE] = RECORD.pack(pad, RECORD_PAD, 0, 0, 0, 0)
            head += pad
        self.store64(s + _TAIL, tail)
        self.store64(s + _HEAD, head + size)
        return self.arena_at[shard] + head % arena

    def _evict_tail(self, shard: int, tail: int, head: int) -> int:
        """Drop the record at the tail (and its entry, if it is still live); returns the new tail."""
        arena = self.arena
        phys = tail % arena
        if arena - phys < RECORD_SIZE:
            return tail + arena - phys
        off = self.arena_at[shard] + phys
        size: int
        size, rkind, _klen, _vlen, h, _version = RECORD.unpack_from(self.mm, off)
        if size < RECORD_SIZE or size % 8 or phys + size > arena or tail + size > head:
            raise _Corrupt(shard)
        if rkind == RECORD_ENTRY:
            at = self._where(h)[1]
            for way in range(WAYS):
                entry_at = at + BUCKET_HEAD_SIZE + way * ENTRY_SIZE
                if self.load32(at + 8 + 4 * way) and self.load64(entry_at) == off:
                    self._clear_way(shard, at, way, size)
                    self._add(self.shard_at[shard] + _EVICTIONS, 1)
                    break
        return tail + size

    def _index(self, shard: int, at: int, h: int, kb: bytes, off: int, vlen: int, kind: int,
               expires: float, version: int, size: int) -> None:  # fmt: skip
        """Point the bucket at the new record: replace the key's way, else use an empty way, else evict
        the expired or oldest way of the bucket."""
        mm = self.mm
        s = self.shard_at[shard]
        tag = h or 1
        head = BUCKET_HEAD.unpack_from(mm, at)
        way = self._find_way(shard, at, head, tag, kb)
        if way >= 0:  # replaced in place: readers see the old value or the new one, never a miss
            old = self._record_size(at, way)
            self.store64(s + _LIVE, max(0, self.load64(s + _LIVE) - old))
            added = 0
        else:
            ways = head[2:]
            way = ways.index(0) if 0 in ways else self._victim(at)
            if ways[way]:
                self._clear_way(shard, at, way, self._record_size(at, way))
                self._add(s + _EVICTIONS, 1)
            added = 1
        seq = self.load32(at) | 1
        self.store32(at, seq)  # odd: readers retry
        entry_at = at + BUCKET_HEAD_SIZE + way * ENTRY_SIZE
        mm[entry_at : entry_at + ENTRY_SIZE] = ENTRY.pack(off, vlen, len(kb), kind, expires, version)
        self.store32(at + 8 + 4 * way, tag)
        self.store32(at + 4, self.load32(at + 4) + added)
        self.store32(at, (seq + 1) & 0xFFFFFFFF)
        self._add(s + _LIVE, size)
        self._add(s + _ENTRIES, added)

    def _find_way(self, shard: int, at: int, head: tuple[int, ...], tag: int, kb: bytes) -> int:
        lo = self.arena_at[shard]
        for way in range(WAYS):
            if head[2 + way] == tag:
                off, _vlen, klen, _kind, _expires, _version = ENTRY.unpack_from(
                    self.mm, at + BUCKET_HEAD_SIZE + way * ENTRY_SIZE
                )
                start = off + RECORD_SIZE
                if klen == len(kb) and off >= lo and self.mm[start : start + klen] == kb:
                    return way
        return -1

    def _victim(self, at: int) -> int:
        now = time.time()
        oldest, victim = None, 0
        for way in range(WAYS):
            _off, _vlen, _klen, _kind, expires, version = ENTRY.unpack_from(
                self.mm, at + BUCKET_HEAD_SIZE + way * ENTRY_SIZE
            )
            if expires and expires <= now:
                return way
            if oldest is None or version < oldest:
                oldest, victim = version, way
        return victim

    def _record_size(self, at: int, way: int) -> int:
        off = self.load64(at + BUCKET_HEAD_SIZE + way * ENTRY_SIZE)
        return int(self.load32(off))

    def _clear_way(self, shard: int, at: int, way: int, size: int) -> None:
        mm = self.mm
        seq = self.load32(at) | 1
        self.store32(at, seq)
        self.store32(at + 8 + 4 * way, 0)
        entry_at = at + BUCKET_HEAD_SIZE + way * ENTRY_SIZE
        mm[entry_at : entry_at + ENTRY_SIZE] = bytes(ENTRY_SIZE)
        self.store32(at + 4, max(0, self.load32(at + 4) - 1))
        self.store32(at, (seq + 1) & 0xFFFFFFFF)
        s = self.shard_at[shard]
        self.store64(s + _LIVE, max(0, self.load64(s + _LIVE) - size))
        self.store64(s + _ENTRIES, max(0, self.load64(s + _ENTRIES) - 1))

    def _recover(self, shard: int) -> None:
        """Under the lock: a writer that died mid-change left the shard dirty (or a bucket odd); reset it."""
        s = self.shard_at[shard]
        if self.load32(s + _DIRTY):
            self._reset(shard)

    def _reset(self, shard: int) -> None:
        mm = self.mm
        for b in range(self.buckets):
            at = self.buckets_at[shard] + b * BUCKET_SIZE
            seq = self.load32(at) | 1
            self.store32(at, seq)
            mm[at + 4 : at + BUCKET_SIZE] = bytes(BUCKET_SIZE - 4)
            self.store32(at, (seq + 1) & 0xFFFFFFFF)
        s = self.shard_at[shard]
        gen = self.load32(s + _GEN)
        counters = SHARD.unpack_from(mm, s)[6:]
        self.store32(s + _GEN, gen + 1)  # first, and whole: writers holding a generation compare it
        mm[s + _HEAD : s + SHARD.size] = SHARD.pack(0, 0, 0, 0, 0, 0, *counters)[_HEAD:]
        self.store32(s + _DIRTY, 0)

    def remove(self, key: str) -> bool:
        """Invalidate one key (everywhere: the segment is shared)."""
        kb = key.encode()
        h = zlib.crc32(kb)
        shard, at = self._where(h)
        with self.segment.locked(shard):
            self._recover(shard)
            self._bump_generation(shard)
            way = self._find_way(shard, at, BUCKET_HEAD.unpack_from(self.mm, at), h or 1, kb)
            if way < 0:
                return False
            self._clear_way(shard, at, way, self._record_size(at, way))
            self._add(self.shard_at[shard] + _INVALIDATED, 1)
            return True

    def _bump_generation(self, shard: int) -> None:
        s = self.shard_at[shard] + _GEN
        self.store32(s, (self.load32(s) + 1) & 0xFFFFFFFF)

    def remove_kind(self, kind: int | None = None, prefix: bytes = b"") -> int:
        """Invalidate every entry of a kind (None: every kind) whose key starts with `prefix`."""
        return self.remove_matching([(kind, prefix)])

    def remove_matching(self, rules: list[tuple[int | None, bytes]]) -> int:
        """Invalidate the entries matching any (kind or None, key prefix) rule, in one pass over the index
        (a few ms per 10 000 buckets: meant for registry changes, not for every request)."""
        if any(not isinstance(prefix, bytes) for _, prefix in rules):  # a str would never match key bytes
            raise TypeError("cache key prefixes are bytes")
        removed = 0
        mm = self.mm
        for shard in range(self.shards):
            with self.segment.locked(shard):
                self._recover(shard)
                self._bump_generation(shard)
                before = removed
                for b in range(self.buckets):
                    at = self.buckets_at[shard] + b * BUCKET_SIZE
                    head = BUCKET_HEAD.unpack_from(mm, at)
                    for way in range(WAYS):
                        if not head[2 + way]:
                            continue
                        off, _vlen, _klen, ekind, _e, _v = ENTRY.unpack_from(
                            mm, at + BUCKET_HEAD_SIZE + way * ENTRY_SIZE
                        )
                        start = off + RECORD_SIZE
                        if any(
                            (kind is None or ekind == kind) and mm[start : start + len(prefix)] == prefix
                            for kind, prefix in rules
                        ):
                            self._clear_way(shard, at, way, self._record_size(at, way))
                            removed += 1
                self._add(self.shard_at[shard] + _INVALIDATED, removed - before)
        return removed

    def clear(self) -> None:
        for shard in range(self.shards):
            with self.segment.locked(shard):
                self._reset(shard)

    def expire(self) -> int:
        """Drop the entries whose TTL passed (readers already ignore them; this frees their room)."""
        now = time.time()
        dropped = 0
        mm = self.mm
        for shard in range(self.shards):
            with self.segment.locked(shard):
                self._recover(shard)
                for b in range(self.buckets):
                    at = self.buckets_at[shard] + b * BUCKET_SIZE
                    head = BUCKET_HEAD.unpack_from(mm, at)
                    for way in range(WAYS):
                        if head[2 + way]:
                            expires = struct.unpack_from(
                                "<d", mm, at + BUCKET_HEAD_SIZE + way * ENTRY_SIZE + 16
                            )
                            if expires[0] and expires[0] <= now:
                                self._clear_way(shard, at, way, self._record_size(at, way))
                                self._add(self.shard_at[shard] + _EXPIRED, 1)
                                dropped += 1
        return dropped


class _Corrupt(Exception):
    def __init__(self, shard: int) -> None:
        self.shard = shard


class _CacheSegment(Segment):
    KIND = KIND_CACHE
