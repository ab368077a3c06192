"""A shared table of claims written on every awaiting request (the in-flight registry of
workers/cluster/inflight.py): fixed 16-byte slots of a 64-bit key and a 64-bit owner, so that a claim is a
few word reads and writes, not the generic table's string keys and slot records. Its writers' lock is a
robust process-shared pthread mutex instead of the fcntl lock of the other tables: a futex, so locking costs
no system call unless another process holds it, and the kernel still hands it on (EOWNERDEAD) when its
holder dies. The table is split in shards, each with its own mutex. Layout: ipc/LAYOUT.md, "Claims".
Without robust mutexes in the C library the shards fall back to the fcntl lock."""

from __future__ import annotations

import ctypes
import errno
import functools
import hashlib
import mmap
import secrets
import struct
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

from ipc.errors import SegmentError
from ipc.segment import HEADER_SIZE, KIND_TABLE, LOCK_FREE_READS, Segment

U32 = struct.Struct("<I")

MUTEX_AREA = 64  # pthread_mutex_t is 40 bytes on x86-64 glibc, 48 on arm64
SHARD_HEADER = 64  # u32 live entry count, then reserved: the slots start on their own cache line
SLOT_SIZE = 16  # u64 key, u64 owner
EMPTY, TOMBSTONE = 0, 1  # keys no entry has
HELD, FULL = -1, -2  # what `ClaimShard.claim` returns instead of a slot index
_SECRET_AT, _SECRET_SIZE = HEADER_SIZE + 8, 16  # the hash key, after the shard count and slot count
_PTHREAD_PROCESS_SHARED, _PTHREAD_MUTEX_ROBUST = 1, 1


def _libc() -> Any:
    libc = ctypes.CDLL(None, use_errno=True)  # calls release the GIL: a blocked lock stalls no other thread
    if not hasattr(libc, "pthread_mutexattr_setrobust"):
        return None
    for name in ("pthread_mutex_lock", "pthread_mutex_unlock", "pthread_mutex_consistent"):
        function = getattr(libc, name)
        function.argtypes = [ctypes.c_void_p]
        function.restype = ctypes.c_int
    return libc


_LIBC = _libc()


class RobustMutex:
    """The mutex in `MUTEX_AREA` bytes of a mapping at `offset`; `create` initialises it (the creator)."""

    def __init__(self, mm: Any, offset: int, create: bool) -> None:
        self._area: Any = (ctypes.c_char * MUTEX_AREA).from_buffer(mm, offset)
        self._ptr = ctypes.addressof(self._area)
        self._lock, self._unlock = _LIBC.pthread_mutex_lock, _LIBC.pthread_mutex_unlock
        if create:
            attr = ctypes.create_string_buffer(64)
            _check(_LIBC.pthread_mutexattr_init(attr))
            _check(_LIBC.pthread_mutexattr_setpshared(attr, _PTHREAD_PROCESS_SHARED))
            _check(_LIBC.pthread_mutexattr_setrobust(attr, _PTHREAD_MUTEX_ROBUST))
            _check(_LIBC.pthread_mutex_init(ctypes.c_void_p(self._ptr), attr))
            _LIBC.pthread_mutexattr_destroy(attr)

        # The hot paths call these, not the context manager: no Python frame around the C call.
        self.acquire: Callable[[], int] = functools.partial(self._lock, self._ptr)
        self.release: Callable[[], int] = functools.partial(self._unlock, self._ptr)

    def __enter__(self) -> None:
        self.recover(self.acquire())

    def recover(self, code: int) -> None:
        """After `acquire` returned `code` (not 0): hold the mutex, or raise (then it is not held)."""
        if code == errno.EOWNERDEAD:  # its holder died inside: every write is one word, nothing is torn
            _check(_LIBC.pthread_mutex_consistent(self._ptr))
        elif code:
            raise OSError(code, "pthread_mutex_lock failed")

    def __exit__(self, *exc: object) -> None:
        self._unlock(self._ptr)

    def close(self) -> None:
        self._area = None  # releases the mapping's buffer, so that it can be closed


def _check(code: int) -> None:
    if code:
        raise OSError(code, "pthread mutex set-up failed")


class _FcntlLock:
    """The segment's fcntl lock behind `RobustMutex`'s calls, where the C library has no robust mutexes."""

    def __init__(self, segment: Segment) -> None:
        self.segment = segment
        self.held: AbstractContextManager[None] | None = None

    def acquire(self) -> int:
        held = self.segment.locked(0)
        held.__enter__()
        self.held = held  # set while holding it: no other thread of this process is in here
        return 0

    def release(self) -> int:
        held, self.held = self.held, None
        if held is not None:
            held.__exit__(None, None, None)
        return 0

    def recover(self, code: int) -> None:
        pass


class ClaimShard:
    """One shard: `capacity` slots probed linearly from `key % capacity`. A release leaves a tombstone
    (entries never move, so lock-free readers need no epoch), and an empty slot where the chain ends there
    anyway. Writers hold `lock()`; `owner_of` reads without it."""

    def __init__(self, segment: Segment, base: int, capacity: int, mutex: RobustMutex | None) -> None:
        self.segment = segment
        self.mm = segment.mm
        self.base = base
        self.count_at = base  # the live entry count (u32), polled by readers: loaded and stored whole
        self.load32, self.store32 = segment.words.load32, segment.words.store32
        self.capacity = capacity
        self.mutex = mutex
        calls: RobustMutex | _FcntlLock = mutex if mutex is not None else _FcntlLock(segment)
        self._acquire, self._release, self._recover = calls.acquire, calls.release, calls.recover
        # Native words (little-endian wherever we run): aligned 8-byte stores are single instructions, so
        # a reader sees a key or an owner whole, and a writer killed mid-claim tears nothing.
        self.words: memoryview | None = memoryview(segment.mm)[
            base + SHARD_HEADER : base + SHARD_HEADER + capacity * SLOT_SIZE
        ].cast("Q")

    def lock(self) -> AbstractContextManager[None]:
        return self.mutex if self.mutex is not None else self.segment.locked(0)

    def __len__(self) -> int:
        return self.load32(self.count_at)

    def claim(self, key: int, owner: int, limit: int, stale: Callable[[int], bool] | None = None) -> int:
        """Insert `key` for `owner` if it is absent, or present with an owner `stale(owner)` calls
        abandoned: an atomic claim among processes. Returns the entry's slot index (for `release`), HELD
        when another owner holds the key, FULL when `limit` entries exist already (or no slot is free)."""
        words, capacity = self.words, self.capacity
        assert words is not None
        code = self._acquire()
        if code:
            self._recover(code)
        try:
            index = key % capacity
            free = -1
            for _ in range(capacity):
                found = words[2 * index]
                if found == key:
                    if stale is None or not stale(words[2 * index + 1]):
                        return HELD
                    words[2 * index + 1] = owner  # taken over: the key stays, readers see either owner
                    return index
                if found == EMPTY:
                    break
                if found == TOMBSTONE and free < 0:
                    free = index
                index = index + 1 if index + 1 < capacity else 0
            else:
                index = -1  # no empty slot: every probe runs the whole table until a release frees one
            count = self.load32(self.count_at)
            if free < 0:
                free = index
            if free < 0 or count >= min(limit, capacity - 1):
                return FULL
            words[2 * free + 1] = owner  # the owner first: a reader that sees the key sees its owner
            words[2 * free] = key
            self.store32(self.count_at, count + 1)
            return free
        finally:
            self._release()

    def release(self, index: int, key: int, owner: int) -> bool:
        """Remove the entry `claim` put at `index`, if it is still `owner`'s."""
        words = self.words
        assert words is not None
        code = self._acquire()
        if code:
            self._recover(code)
        try:
            if words[2 * index] != key or words[2 * index + 1] != owner:
                return False
            self._vacate(index)
            count = self.load32(self.count_at)
            self.store32(self.count_at, count - 1 if count else 0)  # see remove_owners
            return True
        finally:
            self._release()

    def _vacate(self, index: int) -> None:
        """Free a used slot (under the lock): a tombstone, unless the next slot is empty; then this one and
        the tombstones before it become empty too (no chain of a live entry runs through them)."""
        words, capacity = self.words, self.capacity
        assert words is not None
        if words[2 * ((index + 1) % capacity)] != EMPTY:
            words[2 * index] = TOMBSTONE
            return
        for _ in range(capacity):
            words[2 * index] = EMPTY
            index = index - 1 if index else capacity - 1
            if words[2 * index] != TOMBSTONE:
                break

    def owner_of(self, key: int) -> int | None:
        """The owner of `key`, or None (a lock-free read: a slot's key is read again after its owner)."""
        words, capacity = self.words, self.capacity
        assert words is not None
        if not LOCK_FREE_READS:
            with self.lock():
                return self._owner_of(words, key, capacity)
        return self._owner_of(words, key, capacity)

    @staticmethod
    def _owner_of(words: memoryview, key: int, capacity: int) -> int | None:
        index = key % capacity
        for _ in range(capacity):
            found = words[2 * index]
            if found == key:
                owner: int = words[2 * index + 1]
                return owner if words[2 * index] == key else None  # released meanwhile
            if found == EMPTY:
                return None
            index = index + 1 if index + 1 < capacity else 0
        return None

    def entries(self) -> Iterator[tuple[int, int]]:
        """(key, owner) of the live entries (a snapshot)."""
        words = self.words
        assert words is not None
        for index in range(self.capacity):
            key, owner = words[2 * index], words[2 * index + 1]
            if key > TOMBSTONE:
                yield key, owner

    def remove_owners(self, doomed: Callable[[int], bool]) -> int:
        """Remove every entry whose owner `doomed(owner)` picks, under the lock (so an entry claimed again
        meanwhile is judged by its new owner); returns how many went. Also recounts the entries (a writer
        killed between writing its key and its count leaves the count one too low)."""
        words = self.words
        assert words is not None
        removed = live = 0
        verdicts: dict[int, bool] = {}
        with self.lock():
            for index in range(self.capacity):
                if words[2 * index] <= TOMBSTONE:
                    continue
                owner = words[2 * index + 1]
                verdict = verdicts.get(owner)
                if verdict is None:
                    verdict = verdicts[owner] = doomed(owner)
                if verdict:
                    words[2 * index] = TOMBSTONE
                    removed += 1
                else:
                    live += 1
            for index in range(self.capacity):  # tombstones that end a chain become empty
                if words[2 * index] == TOMBSTONE and words[2 * ((index + 1) % self.capacity)] == EMPTY:
                    self._vacate(index)
            self.store32(self.count_at, live)
        return removed

    def close(self) -> None:
        if self.words is not None:
            self.words.release()
            self.words = None
        if self.mutex is not None:
            self.mutex.close()


class ClaimTables:
    """A segment of `shards` claim shards, each with its own mutex, so that writers of different shards
    never wait for each other. After the common header: u32 shard count, u32 slots per shard, 16 bytes of
    hash key (random at creation) and reserved bytes to 128; one 64-byte mutex area per shard; then the
    shards, each a 64-byte header (u32 live count) and its slots."""

    def __init__(self, segment: Segment, create: bool = False) -> None:
        self.segment = segment
        self.name = segment.name
        count, capacity = (
            U32.unpack_from(segment.mm, HEADER_SIZE)[0],
            U32.unpack_from(segment.mm, HEADER_SIZE + 4)[0],
        )
        regions = _regions_at(count)
        if count < 1 or capacity < 2 or regions + count * _shard_size(capacity) > len(segment.mm):
            raise SegmentError(f"{segment.name}: not a claim table")
        self._secret = bytes(segment.mm[_SECRET_AT : _SECRET_AT + _SECRET_SIZE])
        self.shards = []
        for index in range(count):
            mutex = None
            if _LIBC is not None:
                mutex = RobustMutex(segment.mm, HEADER_SIZE + 64 + index * MUTEX_AREA, create)
            self.shards.append(ClaimShard(segment, regions + index * _shard_size(capacity), capacity, mutex))

    def key(self, data: bytes) -> int:
        """The 64-bit key of `data`, by a hash keyed with the table's secret, so that no client can make
        two requests collide on purpose; never EMPTY or TOMBSTONE."""
        key = int.from_bytes(hashlib.blake2b(data, digest_size=8, key=self._secret).digest(), "little")
        return key if key > TOMBSTONE else key + 2

    @property
    def mm(self) -> mmap.mmap:
        """The whole segment (as every segment kind offers: its size is reported at start)."""
        return self.segment.mm

    @classmethod
    def create(cls, name: str, shards: int, capacity: int) -> ClaimTables:
        regions = _regions_at(shards)
        fd, mm = _ClaimSegment._create(name, regions + shards * _shard_size(capacity), regions)
        mm[HEADER_SIZE : HEADER_SIZE + 8] = struct.pack("<II", shards, capacity)
        mm[_SECRET_AT : _SECRET_AT + _SECRET_SIZE] = secrets.token_bytes(_SECRET_SIZE)
        return cls(_ClaimSegment(name, fd, mm, True), create=True)

    @classmethod
    def attach(cls, name: str) -> ClaimTables:
        fd, mm, header_size = _ClaimSegment._attach(name)
        segment = _ClaimSegment(name, fd, mm, False)
        try:
            if len(mm) < HEADER_SIZE + 64 or header_size != _regions_at(U32.unpack_from(mm, HEADER_SIZE)[0]):
                raise SegmentError(f"{name}: not a claim table")
            return cls(segment)
        except BaseException:
            segment.close()
            raise

    def close(self) -> None:
        for shard in self.shards:
            shard.close()
        self.segment.close()

    def unlink(self) -> None:
        self.segment.unlink()


def _regions_at(shards: int) -> int:
    return HEADER_SIZE + 64 + shards * MUTEX_AREA


def _shard_size(capacity: int) -> int:
    return SHARD_HEADER + capacity * SLOT_SIZE


class _ClaimSegment(Segment):
    KIND = KIND_TABLE
