"""A shared table for claims written on every awaiting request (the in-flight registry of
workers/cluster/inflight.py), whose writers' lock is a robust process-shared pthread mutex instead of the
fcntl lock of the other tables: a futex, so locking costs no system call unless another process holds it,
and the kernel still hands it on (EOWNERDEAD) when its holder dies. The table is split in shards, each with
its own mutex (ipc/LAYOUT.md, "Table"). Without robust mutexes in the C library the shards fall back to the
fcntl lock."""

from __future__ import annotations

import ctypes
import errno
import mmap
from typing import Any

from ipc.errors import SegmentError
from ipc.segment import HEADER_SIZE, KIND_TABLE, Segment
from ipc.table import U32, TableRegion

MUTEX_AREA = 64  # pthread_mutex_t is 40 bytes on x86-64 glibc, 48 on arm64
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

    def __enter__(self) -> None:
        code = self._lock(self._ptr)
        if code == errno.EOWNERDEAD:  # its holder died inside: the table copes with a torn slot
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


class ClaimTable(TableRegion):
    """One shard: a table region and the mutex its writers take."""

    def __init__(self, segment: Segment, base: int, mutex: RobustMutex | None) -> None:
        super().__init__(segment, base, 0)
        self.name = segment.name
        self.mutex = mutex

    def lock(self):  # type: ignore[no-untyped-def]
        return self.mutex if self.mutex is not None else self.segment.locked(self.lock_byte)


class ClaimTables:
    """A segment of `shards` claim tables, each with its own mutex, so that writers of different shards
    never wait for each other. Layout after the common header: u32 shard count (and 60 bytes reserved),
    one 64-byte mutex area per shard, then the shards' table regions, each of the same size."""

    def __init__(self, segment: Segment, create: bool = False) -> None:
        self.segment = segment
        self.name = segment.name
        count = U32.unpack_from(segment.mm, HEADER_SIZE)[0]
        regions = _regions_at(count)
        if count < 1 or regions > len(segment.mm):
            raise SegmentError(f"{segment.name}: not a claim table")
        region_size = (len(segment.mm) - regions) // count
        self.shards = []
        for index in range(count):
            mutex = None
            if _LIBC is not None:
                mutex = RobustMutex(segment.mm, HEADER_SIZE + 64 + index * MUTEX_AREA, create)
            self.shards.append(ClaimTable(segment, regions + index * region_size, mutex))

    @property
    def mm(self) -> mmap.mmap:
        """The whole segment (as every segment kind offers: its size is reported at start)."""
        return self.segment.mm

    @classmethod
    def create(cls, name: str, shards: int, capacity: int, value_size: int) -> ClaimTables:
        regions = _regions_at(shards)
        region_size = TableRegion.size(capacity, value_size)
        fd, mm = _ClaimSegment._create(name, regions + shards * region_size, regions)
        U32.pack_into(mm, HEADER_SIZE, shards)
        for index in range(shards):
            TableRegion.format(mm, regions + index * region_size, capacity, value_size)
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
            if shard.mutex is not None:
                shard.mutex.close()
        self.segment.close()

    def unlink(self) -> None:
        self.segment.unlink()


def _regions_at(shards: int) -> int:
    return HEADER_SIZE + 64 + shards * MUTEX_AREA


class _ClaimSegment(Segment):
    KIND = KIND_TABLE
