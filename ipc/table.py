"""A fixed-capacity hash table in shared memory: str key (≤ 64 bytes UTF-8) → bytes value (≤ value_max),
each entry with a version and an optional expiry. Used for the session table, the task store, the workers'
heartbeats and the event log's stream index.

Open addressing with linear probing on CRC-32 of the key, and backward-shift deletion (no tombstones, so
lookups stay short however many entries come and go). Writers hold the table's lock; readers take none:
every slot has a sequence counter (odd while written) and the table an epoch (odd while a deletion moves
entries), and a reader retries when either moved under it. Layout: ipc/LAYOUT.md, "Table".
"""

from __future__ import annotations

import mmap
import struct
import time
import zlib
from collections.abc import Callable
from contextlib import AbstractContextManager

from ipc.errors import SegmentError
from ipc.segment import HEADER_SIZE, KIND_TABLE, LOCK_FREE_READS, Segment, align

KEY_MAX = 64
TABLE_HEADER = struct.Struct("<IIIIIIQ")  # capacity, key max, value max, slot size, count, epoch, versions
TABLE_HEADER_SIZE = 64  # after the common header; slots start at region + 64
SLOT = struct.Struct("<IBBHIIQd")  # seq, state, key length, -, hash, value length, version, expires at
SLOT_REST = struct.Struct("<BBHIIQd")  # the slot header after its seq, which is stored on its own
SLOT_HEADER = 32
EXPIRES = struct.Struct("<d")
EMPTY, USED = 0, 1
_COUNT_AT, _EPOCH_AT, _VERSIONS_AT = 16, 20, 24
COUNT_AT = _COUNT_AT  # the live entry count (u32) at region base + COUNT_AT, for readers that poll it
SPINS = 2_000  # reader retries before it waits for the writers' lock (a writer descheduled or dead mid-write)


def key_hash(key: bytes) -> int:
    return zlib.crc32(key)


class TableRegion:
    """The table's logic over a region of a mapped segment (a whole `SharedTable`, or the index inside the
    event log). `lock()` is the writers' lock."""

    def __init__(self, segment: Segment, base: int, lock_byte: int) -> None:
        self.segment = segment
        self.mm = segment.mm
        self.base = base
        self.lock_byte = lock_byte
        capacity, key_max, value_max, slot_size, _, _, _ = TABLE_HEADER.unpack_from(self.mm, base)
        if capacity == 0 or key_max != KEY_MAX or slot_size != align(SLOT_HEADER + key_max + value_max):
            raise SegmentError(f"{segment.name}: the table header is corrupt")
        if base + TABLE_HEADER_SIZE + capacity * slot_size > len(self.mm):
            raise SegmentError(f"{segment.name}: the table does not fit its segment")
        self.capacity = capacity
        self.value_size = value_max
        self.slot_size = slot_size
        self.slots = base + TABLE_HEADER_SIZE
        # Seqs, the epoch and the count are loaded and stored whole (ipc/atomic.py): struct would not.
        self.load32, self.store32 = segment.words.load32, segment.words.store32

    @staticmethod
    def size(capacity: int, value_max: int) -> int:
        return TABLE_HEADER_SIZE + capacity * align(SLOT_HEADER + KEY_MAX + value_max)

    @staticmethod
    def format(mm: mmap.mmap, base: int, capacity: int, value_max: int) -> None:
        slot_size = align(SLOT_HEADER + KEY_MAX + value_max)
        header = TABLE_HEADER.pack(capacity, KEY_MAX, value_max, slot_size, 0, 0, 0)
        mm[base : base + TABLE_HEADER.size] = header

    def lock(self) -> AbstractContextManager[None]:
        return self.segment.locked(self.lock_byte)

    # -- reads (no lock) -----------------------------------------------------------------------------------

    def _read(self, key: bytes, h: int, pick: Callable[[int, int, int, float], object]) -> object:
        """Find `key`; `pick(slot offset, value length, version, expires)` reads what the caller wants."""
        load32 = self.load32
        epoch_at = self.base + _EPOCH_AT
        for _ in range(SPINS):
            epoch = load32(epoch_at)
            if epoch & 1:
                continue
            found, torn = self._probe(key, h, pick)
            if not torn and load32(epoch_at) == epoch:
                return found
        with self.lock():  # a writer died mid-write: read under the lock, trust nothing torn
            epoch = load32(epoch_at)
            if epoch & 1:  # it died moving entries: the table is usable, at worst one entry is lost
                self.store32(epoch_at, epoch + 1)
            found, torn = self._probe(key, h, pick, locked=True)
            return None if torn else found

    def _probe(
        self, key: bytes, h: int, pick: Callable[[int, int, int, float], object], locked: bool = False
    ) -> tuple[object, bool]:
        mm, load32 = self.mm, self.load32
        size = self.slot_size
        capacity = self.capacity
        index = h % capacity
        length = len(key)
        for _ in range(capacity):
            off = self.slots + index * size
            seq = load32(off)  # before the fields it guards
            _, state, klen, _, slot_hash, vlen, version, expires = SLOT.unpack_from(mm, off)
            if seq & 1:
                if not locked:
                    return None, True
                index = (index + 1) % capacity
                continue  # torn by a writer that died: skip it
            if state == EMPTY:
                return None, False
            if slot_hash == h and klen == length and self._key_at(off, klen) == key:
                value = pick(off, vlen, version, expires)
                return value, load32(off) != seq
            index = (index + 1) % capacity
        return None, False

    def _value(self, off: int, vlen: int, version: int, expires: float) -> object:
        if expires and expires < time.time():
            return None
        start = off + SLOT_HEADER + KEY_MAX
        return self.mm[start : start + vlen]

    def _versioned(self, off: int, vlen: int, version: int, expires: float) -> object:
        value = self._value(off, vlen, version, expires)
        return None if value is None else (version, value)

    def get(self, key: str) -> bytes | None:
        kb = key.encode()
        if len(kb) > KEY_MAX:
            return None
        if not LOCK_FREE_READS:
            with self.lock():
                found = self._probe(kb, key_hash(kb), self._value, locked=True)[0]
            return found  # type: ignore[return-value]
        return self._read(kb, key_hash(kb), self._value)  # type: ignore[return-value]

    def get_versioned(self, key: str) -> tuple[int, bytes] | None:
        """(version, value): the version changes on every put of the key, so a reader can keep a decoded
        copy and refresh it only when it changed."""
        kb = key.encode()
        if len(kb) > KEY_MAX:
            return None
        if not LOCK_FREE_READS:
            with self.lock():
                found = self._probe(kb, key_hash(kb), self._versioned, locked=True)[0]
            return found  # type: ignore[return-value]
        return self._read(kb, key_hash(kb), self._versioned)  # type: ignore[return-value]

    def version(self, key: str) -> int | None:
        """The version of a live entry, without copying its value: enough to tell a copy is still current.
        Asked once per request of a shared session, so the probe is written out here (the same protocol as
        `_read`, minus its callbacks)."""
        kb = key.encode()
        if len(kb) > KEY_MAX or not LOCK_FREE_READS:
            entry = self.get_versioned(key)
            return None if entry is None else entry[0]
        h = key_hash(kb)
        mm, slots, size, capacity, length = self.mm, self.slots, self.slot_size, self.capacity, len(kb)
        epoch_at = self.base + _EPOCH_AT
        unpack_slot, load32 = SLOT.unpack_from, self.load32
        for _ in range(SPINS):
            epoch = load32(epoch_at)
            if epoch & 1:
                continue
            index = h % capacity
            found: int | None = None
            torn = False
            for _ in range(capacity):
                off = slots + index * size
                seq = load32(off)
                _, state, klen, _, slot_hash, _, version, expires = unpack_slot(mm, off)
                if seq & 1:
                    torn = True
                    break
                if state == EMPTY:
                    break
                start = off + SLOT_HEADER
                if slot_hash == h and klen == length and mm[start : start + klen] == kb:
                    if not (expires and expires < time.time()):
                        found = version
                    torn = load32(off) != seq
                    break
                index = (index + 1) % capacity
            if not torn and load32(epoch_at) == epoch:
                return found
        found_locked = self.get_versioned(key)  # a writer died mid-write: the locked path copes
        return None if found_locked is None else found_locked[0]

    def __len__(self) -> int:
        return self.load32(self.base + _COUNT_AT)

    def keys(self) -> list[str]:
        """The live keys (a snapshot: entries changing meanwhile may be missed or seen twice)."""
        mm = self.mm
        found = []
        now = time.time()
        for index in range(self.capacity):
            off = self.slots + index * self.slot_size
            seq = self.load32(off)
            _, state, klen, _, _, _, _, expires = SLOT.unpack_from(mm, off)
            if state == USED and not seq & 1 and not (expires and expires < now):
                key = mm[off + SLOT_HEADER : off + SLOT_HEADER + klen]
                if self.load32(off) == seq:
                    found.append(key.decode(errors="replace"))
        return found

    # -- writes (under the lock) ---------------------------------------------------------------------------

    def _find(self, key: bytes, h: int) -> tuple[int, bool]:
        """(slot index, whether it holds the key); with no match, the empty slot ending the chain."""
        mm = self.mm
        index = h % self.capacity
        for _ in range(self.capacity):
            off = self.slots + index * self.slot_size
            _, state, klen, _, slot_hash, _, _, _ = SLOT.unpack_from(mm, off)
            if state == EMPTY:
                return index, False
            if slot_hash == h and klen == len(key) and self._key_at(off, klen) == key:
                return index, True
            index = (index + 1) % self.capacity
        return -1, False

    def _key_at(self, off: int, length: int) -> bytes:
        return self.mm[off + SLOT_HEADER : off + SLOT_HEADER + length]

    def _write_slot(self, index: int, key: bytes, h: int, value: bytes, version: int, expires: float) -> None:
        mm = self.mm
        off = self.slots + index * self.slot_size
        seq = self.load32(off) | 1
        self.store32(off, seq)  # odd: readers retry
        start = off + SLOT_HEADER
        mm[start : start + len(key)] = key
        mm[start + KEY_MAX : start + KEY_MAX + len(value)] = value
        mm[off + 4 : start] = SLOT_REST.pack(USED, len(key), 0, h, len(value), version, expires)
        self.store32(off, seq + 1)

    def put(
        self, key: str, value: bytes, expires_at: float = 0.0, insert: bool = True, version: int | None = None
    ) -> int:
        """Insert or replace (`insert=False`: replace only); returns the entry's new version (> 0), or 0
        when the table is full or the key is absent and may not be inserted. `version`: replace only the
        entry of that version (compare-and-set; 0 when it moved). ValueError: too big a key or value."""
        kb = key.encode()
        if len(kb) > KEY_MAX:
            raise ValueError(f"key of {len(kb)} bytes; the limit is {KEY_MAX}")
        if len(value) > self.value_size:
            raise ValueError(f"value of {len(value)} bytes; the limit is {self.value_size}")
        h = key_hash(kb)
        words = self.segment.words
        with self.lock():
            index, present = self._find(kb, h)
            count = self.load32(self.base + _COUNT_AT)
            if not present and (version is not None or not insert or index < 0 or count >= self.capacity - 1):
                return 0  # one slot always stays empty, so every probe ends
            if version is not None and self._slot_version(index) != version:
                return 0
            new = words.load64(self.base + _VERSIONS_AT) + 1
            words.store64(self.base + _VERSIONS_AT, new)
            self._write_slot(index, kb, h, value, new, expires_at)
            if not present:
                self.store32(self.base + _COUNT_AT, count + 1)
        return int(new)

    def _slot_version(self, index: int) -> int:
        return int(SLOT.unpack_from(self.mm, self.slots + index * self.slot_size)[6])

    def touch(self, key: str, expires_at: float) -> bool:
        """Move an entry's expiry (its value and version stay)."""
        kb = key.encode()
        if len(kb) > KEY_MAX:
            return False
        mm = self.mm
        with self.lock():
            index, present = self._find(kb, key_hash(kb))
            if not present:
                return False
            off = self.slots + index * self.slot_size
            seq = self.load32(off) | 1
            self.store32(off, seq)
            mm[off + 24 : off + 32] = EXPIRES.pack(expires_at)
            self.store32(off, seq + 1)
        return True

    def remove(self, key: str) -> bool:
        kb = key.encode()
        if len(kb) > KEY_MAX:
            return False
        with self.lock():
            index, present = self._find(kb, key_hash(kb))
            if present:
                self._delete(index)
            return present

    def _delete(self, hole: int) -> None:
        """Empty slot `hole` and shift the entries after it back (Knuth's algorithm R), under an odd epoch."""
        mm = self.mm
        epoch_at = self.base + _EPOCH_AT
        epoch = self.load32(epoch_at) | 1
        self.store32(epoch_at, epoch)
        capacity, size = self.capacity, self.slot_size
        index = hole
        while True:
            index = (index + 1) % capacity
            off = self.slots + index * size
            _, state, _, _, h, vlen, _, _ = SLOT.unpack_from(mm, off)
            if state == EMPTY:
                break
            home = h % capacity
            # Move the entry at `index` into the hole unless its home lies cyclically in (hole, index].
            if (hole < index and hole < home <= index) or (hole > index and (home > hole or home <= index)):
                continue
            self._copy_slot(off, self.slots + hole * size, SLOT_HEADER + KEY_MAX + vlen)
            hole = index
        self._clear_slot(self.slots + hole * size)
        self.store32(self.base + _COUNT_AT, self.load32(self.base + _COUNT_AT) - 1)
        self.store32(epoch_at, epoch + 1)

    def _copy_slot(self, src: int, dst: int, length: int) -> None:
        mm = self.mm
        seq = self.load32(dst) | 1
        self.store32(dst, seq)
        mm[dst + 4 : dst + length] = mm[src + 4 : src + length]
        self.store32(dst, seq + 1)

    def _clear_slot(self, off: int) -> None:
        mm = self.mm
        seq = self.load32(off) | 1
        self.store32(off, seq)
        mm[off + 4 : off + SLOT_HEADER] = bytes(SLOT_HEADER - 4)
        self.store32(off, seq + 1)

    def expire(self, now: float) -> list[str]:
        """Remove the entries whose expiry has passed; returns their keys."""
        mm = self.mm
        with self.lock():
            due = []
            for index in range(self.capacity):
                off = self.slots + index * self.slot_size
                _, state, klen, _, _, _, _, expires = SLOT.unpack_from(mm, off)
                if state == USED and expires and expires < now:
                    due.append(mm[off + SLOT_HEADER : off + SLOT_HEADER + klen])
            for kb in due:
                index, present = self._find(kb, key_hash(kb))
                if present:
                    self._delete(index)
        return [kb.decode(errors="replace") for kb in due]


class SharedTable(TableRegion):
    """A segment holding one table."""

    def __init__(self, segment: Segment) -> None:
        super().__init__(segment, HEADER_SIZE, 0)
        self.name = segment.name

    @classmethod
    def create(cls, name: str, capacity: int, value_size: int) -> SharedTable:
        size = HEADER_SIZE + TableRegion.size(capacity, value_size)
        fd, mm = _TableSegment._create(name, size, HEADER_SIZE + TABLE_HEADER_SIZE)
        TableRegion.format(mm, HEADER_SIZE, capacity, value_size)
        return cls(_TableSegment(name, fd, mm, True))

    @classmethod
    def attach(cls, name: str) -> SharedTable:
        segment = _TableSegment.attach_segment(name)
        try:
            return cls(segment)
        except BaseException:
            segment.close()
            raise

    def close(self) -> None:
        self.segment.close()

    def unlink(self) -> None:
        self.segment.unlink()


class _TableSegment(Segment):
    KIND = KIND_TABLE
