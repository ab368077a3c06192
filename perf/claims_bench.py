"""Micro benchmark of the cross-worker in-flight registry (workers/cluster/inflight.py): what an awaiting
request pays, a claim of its id and the release when its handle goes, in µs per claim+release, for one
process alone and for 2 processes claiming ids of the same session at once (the same shard, so they contend
for its lock). Wall and CPU time per op (the machine may be shared: CPU is the steadier figure).

    .venv/bin/python -m perf.claims_bench [--ops 200000] [--processes 1 2]
"""

from __future__ import annotations

import argparse
import multiprocessing
import secrets
import time
from typing import Any

import msgspec

from ipc.claims import ClaimTables
from ipc.segment import instance_prefix, reclaim_stale
from ipc.table import SharedTable
from workers.cluster.config import worker_key
from workers.cluster.inflight import InflightRegistry, SharedInflight

SESSION = "0123456789abcdef0123456789abcdef"
SHARDS, SHARE = 8, 128  # as the supervisor makes it for --max-inflight 1024


def _run(prefix: str, slot: int, ops: int, start: Any, results: Any) -> None:
    tables = ClaimTables.attach(prefix + "-inflight")
    workers = SharedTable.attach(prefix + "-workers")
    nonce = msgspec.msgpack.decode(workers.get(worker_key(slot)) or b"\x80").get("nonce", "")
    registry = InflightRegistry(tables, slot, nonce, workers)
    inflight = SharedInflight(registry, SESSION)
    base = slot * 10 * ops  # ids of their own: each claim succeeds, only the lock is shared
    for request_id in range(base, base + 1000):  # warm up
        assert inflight.claim(request_id) is None
        inflight[request_id] = None
        inflight.pop(request_id)
    start.wait()
    wall, cpu = time.perf_counter(), time.process_time()
    for request_id in range(base, base + ops):
        if inflight.claim(request_id) is not None:
            raise AssertionError("refused")
        inflight[request_id] = None
        inflight.pop(request_id)
    results.put((slot, (time.perf_counter() - wall) / ops * 1e6, (time.process_time() - cpu) / ops * 1e6))
    del inflight, registry
    workers.close()
    tables.close()


def bench(processes: int, ops: int) -> list[tuple[int, float, float]]:
    ctx = multiprocessing.get_context("spawn")
    prefix = instance_prefix("claimbench-" + secrets.token_hex(3))
    tables = ClaimTables.create(prefix + "-inflight", SHARDS, 2 * SHARE)
    workers = SharedTable.create(prefix + "-workers", 16, 1024)
    try:
        for slot in range(processes):
            workers.put(worker_key(slot), msgspec.msgpack.encode({"nonce": secrets.token_hex(4)}))
        start, results = ctx.Event(), ctx.Queue()
        runners = [
            ctx.Process(target=_run, args=(prefix, slot, ops, start, results)) for slot in range(processes)
        ]
        for runner in runners:
            runner.start()
        time.sleep(1.0)
        start.set()
        found = sorted(results.get(timeout=600) for _ in runners)
        for runner in runners:
            runner.join(60)
        return found
    finally:
        workers.close()
        tables.close()
        reclaim_stale(prefix)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=200_000)
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    for processes in args.processes:
        for run in range(args.runs):
            found = bench(processes, args.ops)
            per = ", ".join(f"slot {slot}: {wall:.2f} wall / {cpu:.2f} CPU" for slot, wall, cpu in found)
            print(f"{processes} process(es), run {run + 1}: µs per claim+release: {per}", flush=True)


if __name__ == "__main__":
    main()
