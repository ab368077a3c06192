"""The SSE soak: many sessions streaming for minutes against `mcprt serve --workers N`, and whether each
worker's memory levels off.

    .venv/bin/python -m perf.soak --minutes 3 [--workers 2] [--clients 8] [--max-growth-mb 5]

Each client thread repeats, until the time is up: create a session; POST tools/call with a progress token
(the answer streams as SSE: a log message, progress, the result); now and then drop such a stream after its
first event and resume it with GET Last-Event-ID; open the session's standalone GET stream and drop it; DELETE
the session. Every few seconds each worker's memory is sampled: RSS, and its private part (RssAnon: heap and
stacks). RSS also counts the pages of the shared segments a worker has touched, which grow until the
configured sizes are filled, so the verdict is on the private part: its growth over the second half of the
run must stay under --max-growth-mb per worker. Exits 1 if it does not, or on any failed request or
replaced worker.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import itertools
import json
import os
import statistics
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import psutil

from tests.cluster_support import ACCEPT, INIT, ClusterServer

APP = "perf.apps.stream:server"
MB = 1024 * 1024


@dataclass
class Sample:
    at: float
    rss: int
    private: int
    shared: int  # pages of the shared segments this worker has touched


@dataclass
class Tally:
    counts: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, what: str) -> None:
        with self.lock:
            self.counts[what] += 1

    def fail(self, what: str) -> None:
        with self.lock:
            self.counts["failed"] += 1
            if len(self.failures) < 20:
                self.failures.append(what)


class SessionClient:
    """One client thread's sessions, each on its own keep-alive connection (so spread over the workers)."""

    def __init__(self, port: int, steps: int, calls: int, tally: Tally, seed: int) -> None:
        self.port = port
        self.steps = steps
        self.calls = calls
        self.tally = tally
        self.ids = itertools.count(1)
        self.turn = seed

    def _conn(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)

    def run(self, deadline: float) -> None:
        while time.monotonic() < deadline:
            try:
                self.session(deadline)
            except (OSError, http.client.HTTPException, ValueError, KeyError) as exc:
                self.tally.fail(f"{type(exc).__name__}: {exc}")

    def _post(self, conn: http.client.HTTPConnection, headers: dict[str, str], message: object) -> bytes:
        conn.request("POST", "/mcp", body=json.dumps(message), headers=headers)
        response = conn.getresponse()
        body = response.read()
        if response.status not in (200, 202):
            raise ValueError(f"POST answered {response.status}: {body[:200]!r}")
        return body

    def session(self, deadline: float) -> None:
        conn = self._conn()
        headers = {"Accept": ACCEPT, "Content-Type": "application/json"}
        conn.request("POST", "/mcp", body=json.dumps(INIT), headers=headers)
        response = conn.getresponse()
        response.read()
        if response.status != 200:
            raise ValueError(f"initialize answered {response.status}")
        headers["Mcp-Session-Id"] = response.getheader("mcp-session-id") or ""
        headers["MCP-Protocol-Version"] = "2025-11-25"
        self._post(conn, headers, {"jsonrpc": "2.0", "method": "notifications/initialized"})
        self.tally.count("sessions")
        for _ in range(self.calls):
            if time.monotonic() >= deadline:
                break
            self.turn += 1
            if self.turn % 7 == 0:
                self.dropped_and_resumed(headers)
            else:
                self.streamed_call(conn, headers)
            if self.turn % 5 == 0:
                self.dropped_get(headers)
        conn.request("DELETE", "/mcp", headers=headers)
        response = conn.getresponse()
        response.read()
        if response.status not in (200, 204):
            raise ValueError(f"DELETE answered {response.status}")
        conn.close()

    def _call(self) -> dict[str, object]:
        request_id = next(self.ids)
        return {
            "jsonrpc": "2.0",
            "id": request_id,
            "method": "tools/call",
            "params": {
                "name": "progress",
                "arguments": {"steps": self.steps},
                "_meta": {"progressToken": request_id},
            },
        }

    def streamed_call(self, conn: http.client.HTTPConnection, headers: dict[str, str]) -> None:
        body = self._post(conn, headers, self._call())
        events = [line for line in body.split(b"\n") if line.startswith(b"data: ")]
        if len(events) < self.steps + 1 or b'"result"' not in events[-1]:
            raise ValueError(f"SSE answer incomplete: {body[:200]!r}")
        self.tally.count("sse calls")

    def dropped_and_resumed(self, headers: dict[str, str]) -> None:
        """Read a streamed answer's first event id, hang up, and read the rest with GET Last-Event-ID."""
        conn = self._conn()
        conn.request("POST", "/mcp", body=json.dumps(self._call()), headers=headers)
        response = conn.getresponse()
        last_id = None
        while last_id is None:
            line = response.readline()
            if not line:
                raise ValueError("SSE answer ended before its first event id")
            if line.startswith(b"id: "):
                last_id = line[4:].strip().decode()
        conn.close()  # dropped mid-stream
        resume = self._conn()
        resume.request(
            "GET", "/mcp", headers={**headers, "Accept": "text/event-stream", "Last-Event-ID": last_id}
        )
        response = resume.getresponse()
        if response.status != 200:
            raise ValueError(f"resume answered {response.status}")
        while True:
            line = response.readline()
            if not line:
                raise ValueError("resumed stream ended without the result")
            if line.startswith(b"data: ") and b'"result"' in line:
                break
        resume.close()
        self.tally.count("resumed")

    def dropped_get(self, headers: dict[str, str]) -> None:
        """Open the session's standalone stream, read its priming event, hang up."""
        conn = self._conn()
        conn.request("GET", "/mcp", headers={**headers, "Accept": "text/event-stream"})
        response = conn.getresponse()
        if response.status == 409:
            self.tally.count("get 409 (previous stream not yet closed)")
        elif response.status != 200:
            raise ValueError(f"GET answered {response.status}")
        else:
            response.readline()
            self.tally.count("get streams")
        conn.close()


def status_bytes(pid: int) -> dict[str, int]:
    with open(f"/proc/{pid}/status") as status:
        fields = (line.split() for line in status if line.startswith(("RssAnon:", "RssShmem:")))
        return {name.rstrip(":"): int(kib) * 1024 for name, kib, *_ in fields}


def segment_bytes(port: int) -> int:
    """The size of the server's shared segments: what the shared part of a worker's RSS can reach."""
    prefix = f"mcprt-{os.getuid()}-{port}-"
    return sum(entry.stat().st_size for entry in os.scandir("/dev/shm") if entry.name.startswith(prefix))


def workers_of(server: ClusterServer) -> list[psutil.Process]:
    root = psutil.Process(server.process.pid)
    return root.children() or [root]  # --workers 1: the server is its one worker


def sample(processes: list[psutil.Process], into: dict[int, list[Sample]], started: float) -> None:
    for process in processes:
        with contextlib.suppress(psutil.Error, OSError):  # a worker that died: the run fails on it below
            rss, sizes = process.memory_info().rss, status_bytes(process.pid)
            at = time.monotonic() - started
            into.setdefault(process.pid, []).append(Sample(at, rss, sizes["RssAnon"], sizes["RssShmem"]))


def mid_and_end(samples: list[Sample]) -> tuple[float, float]:
    """The private memory at the run's middle and at its end, each the median of 3 samples (noise)."""
    values = [s.private for s in samples]
    middle = len(values) // 2
    return statistics.median(values[max(0, middle - 1) : middle + 2]), statistics.median(values[-3:])


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m perf.soak")
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--clients", type=int, default=8, help="client threads, one session at a time each (8)"
    )
    parser.add_argument("--calls", type=int, default=20, help="tools/call per session (20)")
    parser.add_argument("--steps", type=int, default=5, help="progress notifications per call (5)")
    parser.add_argument("--sample-seconds", type=float, default=5.0)
    parser.add_argument("--max-growth-mb", type=float, default=5.0, help="per worker, second half (5)")
    args = parser.parse_args()

    server = ClusterServer(args.workers, "--no-pin", APP)
    tally = Tally()
    memory: dict[int, list[Sample]] = {}
    try:
        processes = workers_of(server)
        started = time.monotonic()
        deadline = started + args.minutes * 60
        threads = [
            threading.Thread(
                target=SessionClient(server.port, args.steps, args.calls, tally, seed).run,
                args=(deadline,),
                daemon=True,
            )
            for seed in range(args.clients)
        ]
        for thread in threads:
            thread.start()
        sample(processes, memory, started)
        while time.monotonic() < deadline:
            time.sleep(min(args.sample_seconds, max(0.0, deadline - time.monotonic())))
            sample(processes, memory, started)
            done = sum(tally.counts[k] for k in ("sse calls", "resumed"))
            print(
                f"  {time.monotonic() - started:6.0f} s  {done} streamed calls", file=sys.stderr, flush=True
            )
        for thread in threads:
            thread.join(60)
        replaced = {p.pid for p in workers_of(server)} != {p.pid for p in processes}
        mapped = segment_bytes(server.port)
    finally:
        server.stop()

    seconds = args.minutes * 60
    print(f"\nSSE soak: {args.workers} workers, {args.clients} clients, {args.minutes:g} min")
    for what, n in sorted(tally.counts.items()):
        print(f"  {what:<42} {n:>8}  ({n / seconds:.0f}/s)")
    for failure in tally.failures:
        print(f"  failure: {failure}")
    header = "worker pid   RSS start  mid    end MB   private start  mid    end MB   2nd-half growth MB"
    header += "   shared MB"
    print(f"\n{header}")
    grew = False
    for pid, samples in memory.items():
        mid, end = mid_and_end(samples)
        growth = (end - mid) / MB
        grew |= growth >= args.max_growth_mb
        first, half, last = samples[0], samples[len(samples) // 2], samples[-1]
        print(
            f"{pid:>10}   {first.rss / MB:9.1f} {half.rss / MB:6.1f} {last.rss / MB:6.1f}   "
            f"{first.private / MB:13.1f} {mid / MB:6.1f} {end / MB:6.1f}   {growth:+18.2f}   "
            f"{last.shared / MB:9.1f}" + ("  GREW" if growth >= args.max_growth_mb else "")
        )
    print(f"(shared: pages of the segments touched, bounded by their {mapped / MB:.0f} MB: not a leak)")
    if replaced:
        print("a worker was replaced during the run (see the supervisor's log)")
        print(server.log()[-2000:])
    ok = not grew and not replaced and not tally.counts["failed"]
    print(f"\n{'plateau' if ok else 'FAILED'}: limit {args.max_growth_mb:g} MB of private memory per worker")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
