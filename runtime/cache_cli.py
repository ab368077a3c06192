"""`mcprt cache`: inspect the shared result cache of a running server (entries, sizes, hit rate, a value)."""

from __future__ import annotations

import sys
import time

from ipc.cache import KIND_LABELS, CacheStats
from ipc.errors import SegmentError
from ipc.reader import find_cache, names_for_port


def format_stats(stats: CacheStats) -> str:
    return (
        f"cache: {stats.entries}/{stats.capacity_entries} entries, "
        f"{stats.live_bytes / 1e6:.2f}/{stats.capacity_bytes / 1e6:.2f} MB, "
        f"hits {stats.hits}, misses {stats.misses} (hit rate {stats.hit_rate:.1%}), "
        f"stores {stats.stores} ({stats.refused} refused), evictions {stats.evictions}, "
        f"invalidations {stats.invalidations}"
    )


def inspect_cache(port: int, what: str, key: str | None, limit: int) -> int:
    try:
        cache = find_cache(names_for_port(port), stopped=True)
        name = cache.name
    except (SegmentError, OSError) as exc:
        print(f"mcprt: no cache of a server on port {port} for this user ({exc})", file=sys.stderr)
        return 1
    try:
        if cache.closed_by_owner:
            print(f"mcprt: {name}: its server stopped", file=sys.stderr)
        if what == "stats":
            print(f"{name} (server pid {cache.creator_pid}, {cache.shards} shards)")
            print(format_stats(cache.stats()))
        elif what == "keys":
            now = time.time()
            print(f"{'kind':>8} {'bytes':>9} {'ttl left':>9} {'version':>8}  key")
            for shown, (entry_key, size, kind, expires, version) in enumerate(cache.entries()):
                if shown >= limit:
                    print(f"... (--limit {limit})")
                    break
                left = f"{expires - now:.1f} s" if expires else "-"
                print(f"{KIND_LABELS.get(kind, kind)!s:>8} {size:>9} {left:>9} {version:>8}  {entry_key}")
        elif what in ("get", "read"):
            if key is None:
                needed = "a key" if what == "get" else "a URI"
                print(f"mcprt: `mcprt cache {what}` needs {needed}", file=sys.stderr)
                return 2
            value = cache.get(key if what == "get" else "r:" + key)
            if value is None:
                print(f"mcprt: not cached: {key}", file=sys.stderr)
                return 1
            sys.stdout.buffer.write(value + b"\n")
        elif what == "clear":
            cache.clear()
            _clear_vectors(name)  # the semantic cache's entries pointed into it
            print(f"{name}: cleared")
    finally:
        cache.close()
    return 0


def _clear_vectors(cache_name: str) -> None:
    try:
        from ipc import vectors
        from ipc.names import name_for_cache
    except ImportError:  # no numpy: no semantic cache
        return
    vectors.clear(name_for_cache(cache_name))
