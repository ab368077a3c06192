"""POSIX shared-memory segments (posix-ipc + mmap) with the common 64-byte header of ipc/LAYOUT.md.

Every segment starts with the same header (magic, layout version, kind, sizes, the creating process), is
created with mode 0600 so only its owner can map it, and is named `/mcprt-<uid>-<instance>-<what>`.
Writers serialise with `fcntl` byte-range locks on the segment's file: the kernel releases them when a
process dies, so a worker killed in the middle of a write never leaves the others waiting. Readers take no
lock (sequence counters, see LAYOUT.md) where the memory model allows it.
"""

from __future__ import annotations

import contextlib
import fcntl
import mmap
import os
import platform
import struct
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Self

import posix_ipc

from ipc.atomic import Words
from ipc.errors import SegmentError

MAGIC = b"MCPRTSHM"
LAYOUT_VERSION = 1
HEADER = struct.Struct("<8sHHIQIId")  # magic, version, kind, header bytes, total bytes, pid, flags, created
HEADER_SIZE = 64
SHM_DIR = Path("/dev/shm")

KIND_TABLE = 1
KIND_RING = 2
KIND_EVENTLOG = 3
KIND_CACHE = 4
KIND_NAMES = {KIND_TABLE: "table", KIND_RING: "ring", KIND_EVENTLOG: "event log", KIND_CACHE: "cache"}

# Lock-free readers rely on stores becoming visible in program order (x86-64 TSO). Elsewhere readers take
# the writers' lock instead: slower, never torn.
LOCK_FREE_READS = platform.machine().lower() in ("x86_64", "amd64")


def align(n: int, to: int = 8) -> int:
    return (n + to - 1) // to * to


def instance_prefix(instance: str) -> str:
    """The name prefix of one server instance's segments: per user (0600 segments of another user would
    collide) and per instance (its port)."""
    return f"/mcprt-{os.getuid()}-{instance}"


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid exists (it may belong to another user)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# A name of ours another local user created first (/dev/shm is writable by all) is never trusted nor removed:
# the server takes the next generation of its prefix instead, and readers look through the same list.
GENERATIONS = 8


def instance_prefixes(instance: str) -> list[str]:
    """The prefixes a server instance may use, in the order a server claims them and readers look for them:
    `/mcprt-<uid>-<instance>`, then `/mcprt-<uid>-<instance>.1` ... `.7`."""
    base = instance_prefix(instance)
    return [base] + [f"{base}.{generation}" for generation in range(1, GENERATIONS)]


def check_owned(fd: int, name: str) -> None:
    """Refuse a segment another user created (or made readable to others): its contents are not ours to trust.
    Checked on the open descriptor, so the file cannot be swapped between the check and the use."""
    st = os.fstat(fd)
    if st.st_uid != os.geteuid():
        raise SegmentError(f"{name}: owned by uid {st.st_uid}, not by this user; not trusted")
    if st.st_mode & 0o077:
        raise SegmentError(f"{name}: mode {st.st_mode & 0o777:04o}, not 0600; not trusted")


def _segment_names(prefix: str) -> list[str]:
    stem = prefix.lstrip("/") + "-"
    try:
        return sorted("/" + p.name for p in SHM_DIR.iterdir() if p.name.startswith(stem))
    except OSError:
        return []


def _owned_creator(name: str) -> int | None:
    """The creator pid in the header of one of our segments (0 if unreadable), or None if it is not ours."""
    try:
        fd = os.open(SHM_DIR / name.lstrip("/"), os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        return 0
    except OSError:
        return None  # not even readable: not ours
    try:
        check_owned(fd, name)
        head = os.pread(fd, HEADER.size, 0)
    except SegmentError:
        return None
    except OSError:
        return 0
    finally:
        os.close(fd)
    return HEADER.unpack(head)[5] if len(head) == HEADER.size and head[:8] == MAGIC else 0


def reclaim_stale(prefix: str) -> list[str]:
    """Remove the segments a crashed server of this instance left behind; refuse if their creator lives.
    Segments of another user (or not 0600) under the prefix are left alone: see `foreign_segments`."""
    removed = []
    for name in _segment_names(prefix):
        pid = _owned_creator(name)
        if pid is None:
            continue
        if pid != os.getpid() and pid_alive(pid):
            raise SegmentError(f"{name} belongs to a running server (pid {pid})")
        with contextlib.suppress(posix_ipc.ExistentialError):
            posix_ipc.unlink_shared_memory(name)
        removed.append(name)
    return removed


def foreign_segments(prefix: str) -> list[str]:
    """Segments under the prefix that we did not create (another user's, or not 0600)."""
    return [name for name in _segment_names(prefix) if _owned_creator(name) is None]


def claim_prefix(instance: str) -> tuple[str, list[str]]:
    """The first of `instance_prefixes` free of segments we did not create, with our leftovers there removed:
    (prefix, removed names). SegmentError if one of ours is alive, or every generation is squatted."""
    squatted: list[str] = []
    for prefix in instance_prefixes(instance):
        removed = reclaim_stale(prefix)
        foreign = foreign_segments(prefix)
        if not foreign:
            return prefix, removed
        squatted.append(foreign[0])
    raise SegmentError(
        f"every shared-memory name of this instance is taken by another user's segments ({squatted[0]}, ...)"
    )


class Segment:
    """One mapped segment. Subclasses set KIND and lay out what follows the common header."""

    KIND = 0

    def __init__(self, name: str, fd: int, mm: mmap.mmap, created: bool) -> None:
        self.name = name
        self.fd = fd
        self.mm = mm
        self.words = Words(mm)  # the polled counters: see ipc/atomic.py
        self.created = created
        self._thread_locks: dict[int, threading.Lock] = {}
        self._closed = False

    # -- life cycle ----------------------------------------------------------------------------------------

    @classmethod
    def _create(cls, name: str, size: int, header_size: int) -> tuple[int, mmap.mmap]:
        try:
            shm = posix_ipc.SharedMemory(name, posix_ipc.O_CREX, mode=0o600, size=size)
        except posix_ipc.ExistentialError as exc:
            raise SegmentError(f"{name} exists already") from exc
        fd = shm.fd
        os.fchmod(fd, 0o600)  # whatever the umask
        mm = mmap.mmap(fd, size)
        pid = os.getpid()
        header = HEADER.pack(MAGIC, LAYOUT_VERSION, cls.KIND, header_size, size, pid, 0, time.time())
        mm[: HEADER.size] = header
        return fd, mm

    @classmethod
    def _attach(cls, name: str) -> tuple[int, mmap.mmap, int]:
        """Map an existing segment after checking its header; returns (fd, map, header size)."""
        try:
            shm = posix_ipc.SharedMemory(name)
        except posix_ipc.ExistentialError as exc:
            raise SegmentError(f"{name}: no such segment") from exc
        except posix_ipc.PermissionsError as exc:
            raise SegmentError(f"{name}: permission denied (segments are private to their owner)") from exc
        fd = shm.fd
        try:
            check_owned(fd, name)
            size = os.fstat(fd).st_size
            if size < HEADER_SIZE:
                raise SegmentError(f"{name}: {size} bytes is too small for an mcprt segment")
            mm = mmap.mmap(fd, size)
        except BaseException:
            os.close(fd)
            raise
        magic, version, kind, header_size, total, _pid, _flags, _created = HEADER.unpack_from(mm, 0)
        problem = None
        if magic != MAGIC:
            problem = "not an mcprt segment (bad magic)"
        elif version != LAYOUT_VERSION:
            problem = f"layout version {version}, this reader knows {LAYOUT_VERSION}"
        elif kind != cls.KIND:
            problem = f"a {KIND_NAMES.get(kind, kind)} segment, not a {KIND_NAMES.get(cls.KIND, cls.KIND)}"
        elif total != size or not HEADER_SIZE <= header_size <= size:
            problem = f"sizes do not match (header says {total}, file has {size})"
        if problem is not None:
            mm.close()
            os.close(fd)
            raise SegmentError(f"{name}: {problem}")
        return fd, mm, header_size

    @classmethod
    def attach_segment(cls, name: str) -> Self:
        """Map an existing segment of this kind (header checked) as an instance of `cls`."""
        fd, mm, _ = cls._attach(name)
        return cls(name, fd, mm, False)

    @property
    def creator_pid(self) -> int:
        return int(HEADER.unpack_from(self.mm, 0)[5])

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.words.release()
        with contextlib.suppress(BufferError, ValueError):
            self.mm.close()
        with contextlib.suppress(OSError):
            os.close(self.fd)  # also releases this process's fcntl locks on the file

    def unlink(self) -> None:
        with contextlib.suppress(posix_ipc.ExistentialError):
            posix_ipc.unlink_shared_memory(self.name)

    # -- writers' lock -------------------------------------------------------------------------------------

    @contextlib.contextmanager
    def locked(self, byte: int = 0) -> Iterator[None]:
        """Exclusive among processes (fcntl lock on one byte of the file) and among threads of this one."""
        thread_lock = self._thread_locks.get(byte)
        if thread_lock is None:
            thread_lock = self._thread_locks.setdefault(byte, threading.Lock())
        with thread_lock:
            fcntl.lockf(self.fd, fcntl.LOCK_EX, 1, byte, os.SEEK_SET)
            try:
                yield
            finally:
                fcntl.lockf(self.fd, fcntl.LOCK_UN, 1, byte, os.SEEK_SET)
