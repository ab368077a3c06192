"""The semantic cache's segment name and its removal, without numpy: the supervisor and a single-process
server remove the vectors a worker made (ipc/vectors.py) whether or not they import the router extra."""

from __future__ import annotations

import contextlib

import posix_ipc


def name_for_cache(cache_name: str) -> str:
    """`/mcprt-1000-8000-cache` -> `/mcprt-1000-8000-vectors`."""
    return cache_name.removesuffix("-cache") + "-vectors"


def unlink(name: str) -> None:
    with contextlib.suppress(posix_ipc.ExistentialError):
        posix_ipc.unlink_shared_memory(name)


def unlink_vectors(cache_name: str) -> None:
    """Remove the vectors of that result cache, if a worker made them."""
    unlink(name_for_cache(cache_name))
