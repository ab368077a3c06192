"""`mcprt status`: the workers of a running `mcprt serve --workers N`, read from its shared segment, and the
counters of its shared result cache (also shown for a single-process server)."""

from __future__ import annotations

import time

import msgspec

from ipc.errors import SegmentError
from ipc.reader import find_cache, names_for_port
from ipc.segment import instance_prefixes, pid_alive
from ipc.table import SharedTable
from workers.cluster import config as names


def _workers_table(port: int) -> SharedTable:
    """The workers table of the supervisor on `port`: the first of its names that is ours and live."""
    problem: Exception | None = None
    for prefix in instance_prefixes(str(port)):
        try:
            table = SharedTable.attach(names.workers_name(prefix))
        except (SegmentError, OSError) as exc:
            problem = problem or exc
            continue
        if pid_alive(table.segment.creator_pid):
            return table
        table.close()
    raise SegmentError(str(problem))


def print_status(host: str, port: int) -> int:
    try:
        table = _workers_table(port)
    except (SegmentError, OSError) as exc:
        table = None
        problem = exc
    if table is not None:
        try:
            _print_workers(table, port)
        finally:
            table.close()
    shown = _print_cache(port)
    if table is None and not shown:
        print(f"mcprt: no multi-worker server found on port {port} for this user ({problem})")
        return 1
    return 0


def _print_cache(port: int) -> bool:
    from runtime.cache_cli import format_stats

    try:
        cache = find_cache(names_for_port(port))
    except (SegmentError, OSError):
        return False
    try:
        print(format_stats(cache.stats()))
        _print_semantic(cache.name)
    finally:
        cache.close()
    return True


def _print_semantic(cache_name: str) -> None:
    """The semantic cache's counters, once some worker made its vectors (a tool with semantic_cache=)."""
    try:
        from ipc.names import name_for_cache
        from ipc.vectors import SharedVectors

        vectors = SharedVectors.attach(name_for_cache(cache_name))
    except (ImportError, SegmentError, OSError):  # no numpy: no worker can have made them
        return
    try:
        s = vectors.stats()
        print(
            f"semantic cache: {s.entries}/{s.capacity} entries ({s.dim}-wide), hits {s.hits}, "
            f"misses {s.misses} (hit rate {s.hit_rate:.1%}), stores {s.stores}, "
            f"skipped {s.skipped}, evictions {s.evictions}, invalidations {s.invalidations}"
        )
    finally:
        vectors.close()


def _print_workers(table: SharedTable, port: int) -> None:
    raw = table.get("supervisor")
    supervisor = msgspec.msgpack.decode(raw) if raw is not None else {}
    print(f"supervisor pid {supervisor.get('pid', '?')}, port {port}")
    columns = ("slot", "pid", "ready", "heartbeat", "sessions", "restarts", "last exit")
    print(" ".join(f"{name:>{width}}" for name, width in zip(columns, (4, 8, 5, 10, 8, 8, 9), strict=True)))
    restarts = supervisor.get("restarts", {})
    exits = supervisor.get("exits", {})
    for slot, worker in sorted(supervisor.get("workers", {}).items()):
        raw_beat = table.get(names.worker_key(int(slot)))
        beat = msgspec.msgpack.decode(raw_beat) if raw_beat is not None else {}
        age = f"{time.time() - beat['beat']:.2f} s" if "beat" in beat else "-"
        print(
            f"{slot:>4} {worker['pid']:>8} {bool(beat.get('ready'))!s:>5} {age:>10} "
            f"{beat.get('sessions', '-'):>8} {restarts.get(worker['position'], 0):>8} "
            f"{exits.get(slot, '-')!s:>9}"
        )
    for slot, code in sorted(exits.items()):
        if slot not in supervisor.get("workers", {}):
            print(f"{slot:>4} {'-':>8} {'-':>5} {'-':>10} {'-':>8} {'-':>8} {code!s:>9}")
