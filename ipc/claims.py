"""A shared table for claims written on every awaiting request (the in-flight registry of
workers/cluster/inflight.py), whose writers' lock is a robust process-shared pthread mutex instead of the
fcntl lock of the other tables: a futex, so locking costs no system call unless another process holds it,
and the kernel still hands it on (EOWNERDEAD) when its holder dies. Layout: the common header, 64 bytes
holding the mutex, then a table region (ipc/LAYOUT.md, "Table"). Without robust mutexes in the C library
the table falls back to the fcntl lock."""

from __future__ import annotations

import ctypes
import errno
from typing import Any

from ipc.errors import SegmentError
from ipc.segment import HEADER_SIZE, KIND_TABLE, Segment
from ipc.table import TABLE_HEADER_SIZE, TableRegion

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
    def __init__(self, segment: Segment, create: bool = False) -> None:
        super().__init__(segment, HEADER_SIZE + MUTEX_AREA, 0)
        self.name = segment.name
        self.mutex = RobustMutex(segment.mm, HEADER_SIZE, create) if _LIBC is not None else None

    def lock(self):  # type: ignore[no-untyped-def]
        return self.mutex if self.mutex is not None else self.segment.locked(self.lock_byte)

    @classmethod
    def create(cls, name: str, capacity: int, value_size: int) -> ClaimTable:
        base = HEADER_SIZE + MUTEX_AREA
        size = base + TableRegion.size(capacity, value_size)
        fd, mm = _ClaimSegment._create(name, size, base + TABLE_HEADER_SIZE)
        TableRegion.format(mm, base, capacity, value_size)
        return cls(_ClaimSegment(name, fd, mm, True), create=True)

    @classmethod
    def attach(cls, name: str) -> ClaimTable:
        fd, mm, header_size = _ClaimSegment._attach(name)
        segment = _ClaimSegment(name, fd, mm, False)
        try:
            if header_size != HEADER_SIZE + MUTEX_AREA + TABLE_HEADER_SIZE:
                raise SegmentError(f"{name}: not a claim table")
            return cls(segment)
        except BaseException:
            segment.close()
            raise

    def close(self) -> None:
        if self.mutex is not None:
            self.mutex.close()
        self.segment.close()

    def unlink(self) -> None:
        self.segment.unlink()


class _ClaimSegment(Segment):
    KIND = KIND_TABLE
