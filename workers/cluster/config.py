"""What the supervisor tells a worker process about the cluster it joins (sent with the server's ServeConfig,
runtime/config.py WorkerStart), and the names of the shared segments, derived from the instance prefix."""

from __future__ import annotations

import msgspec

MAX_SLOTS = 64  # worker slots; server-to-client request ids are n * MAX_SLOTS + slot


class ClusterConfig(msgspec.Struct, kw_only=True):
    prefix: str  # posix shm name prefix of this server instance, e.g. /mcprt-1000-8000
    slot: int  # this worker's slot (0 <= slot < slots)
    slots: int  # how many slots exist (active workers plus spares for rolling restarts)
    wake: list[tuple[int, int]]  # per slot: (read fd, write fd) of the pipe that wakes its inbox
    cpu: int | None = None  # pin to this CPU
    cache: bool = False  # the supervisor made the shared result cache (ipc/cache.py)
    listen_fd: int | None = None  # this worker position's listening socket, made and kept by the supervisor
    heartbeat_seconds: float = 0.25


def sessions_name(prefix: str) -> str:
    return f"{prefix}-sessions"


def tasks_name(prefix: str) -> str:
    return f"{prefix}-tasks"


def inflight_name(prefix: str) -> str:
    return f"{prefix}-inflight"


def events_name(prefix: str) -> str:
    return f"{prefix}-events"


def workers_name(prefix: str) -> str:
    return f"{prefix}-workers"


def cache_name(prefix: str) -> str:
    return f"{prefix}-cache"  # ipc.reader.cache_name: co-located readers find it by the same rule


def ring_name(prefix: str, slot: int) -> str:
    return f"{prefix}-ring{slot}"


def worker_key(slot: int) -> str:
    return f"w{slot}"
