"""The supervisor of `mcprt serve --workers N`: it creates the shared segments, starts N worker processes
(each pinned to a CPU), watches them and replaces the ones that die, hang or grow too big. It never imports
or runs the application: the workers do. It makes the listening sockets itself, one SO_REUSEPORT socket per
worker position (workers/httpd/listen.py), before any segment: a port held by anything else stops it with one
line, and a replacement worker gets its predecessor's socket, with the connections queued on it.

Signals: SIGTERM/SIGINT stop gracefully (workers finish in-flight requests within the grace period, then
exit whatever their handlers are doing; one that does not is killed);
SIGHUP restarts the workers one at a time, starting each replacement before stopping the old one, so no
connection is refused. Every event is one line on stderr with the worker's slot and pid.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field

import msgspec

from ipc.cache import CacheLimits, SharedCache
from ipc.claims import ClaimTables
from ipc.errors import SegmentError
from ipc.eventlog import SharedEventLog
from ipc.names import name_for_cache, unlink_vectors
from ipc.ring import Ring
from ipc.segment import claim_prefix
from ipc.table import SharedTable
from runtime.config import STATE_KEY_ENV, WORKER_ENV, ServeConfig, WorkerStart
from workers.cluster import config as names
from workers.cluster.config import MAX_SLOTS, ClusterConfig
from workers.httpd.listen import ListenError, listen_group

# After the grace period, how long a stopping worker has before it is killed: a worker ends itself by then
# (its backstop fires one second after the grace period, workers/shutdown.py), so this is for one stuck
# beyond that; the supervisor itself exits within the grace period and this margin.
KILL_MARGIN = 1.5

INFLIGHT_SHARDS = 8  # the in-flight table's shards, each with its own lock (ipc/claims.py)


@dataclass
class SupervisorSettings:
    workers: int
    host: str
    port: int
    serve: ServeConfig  # handed whole to every worker (runtime/config.py WorkerStart)
    pin_cpus: bool = True
    hang_timeout: float = 3.0  # seconds without a heartbeat before a worker is killed and replaced
    max_worker_rss_mb: float | None = None  # replace a worker (after draining) above this resident size
    grace: float = 10.0  # seconds a stopping worker has to finish its requests
    restart_limit: int = 10  # restarts of one position within `restart_window` before giving up
    restart_window: float = 60.0
    max_sessions: int = 10_000
    session_record_bytes: int = 4096
    task_capacity: int = 1024
    task_record_bytes: int = 64 * 1024
    max_inflight: int = 16_384  # requests in flight at once, all workers (cluster/inflight.py)
    event_log_bytes: int = 64 * 1024 * 1024
    ring_bytes: int = 4 * 1024 * 1024
    path: str = "/mcp"
    cache: CacheLimits | None = field(default_factory=CacheLimits)  # None: no shared result cache


@dataclass
class _Worker:
    slot: int
    position: int  # which of the N places this worker fills (its CPU)
    process: subprocess.Popen[bytes]
    started: float = field(default_factory=time.monotonic)
    draining: bool = False  # told to stop: its exit is expected

    def __str__(self) -> str:
        return f"worker {self.slot} (pid {self.process.pid})"


def log(message: str) -> None:
    # A closed stderr (the reader of a pipe went away) must not stop the supervisor and strand its segments.
    with contextlib.suppress(OSError, ValueError):
        print(f"mcprt: supervisor: {message}", file=sys.stderr, flush=True)


class Supervisor:
    def __init__(self, settings: SupervisorSettings) -> None:
        if not 1 <= settings.workers <= MAX_SLOTS // 2:
            raise ValueError(f"--workers must be between 1 and {MAX_SLOTS // 2}")
        self.settings = settings
        self.slots = 2 * settings.workers  # spares let a replacement start before the old worker stops
        self.prefix = ""
        self.cpus = sorted(os.sched_getaffinity(0))
        self.workers: dict[int, _Worker] = {}  # slot -> worker
        self.restarts: dict[int, list[float]] = {}  # position -> restart times
        self.backoff_until: dict[int, float] = {}
        self.exits: dict[int, int] = {}  # slot -> last exit code
        self.last_slot: dict[int, int] = {}  # position -> slot of its latest worker
        self._stop = False
        self._rolling = False
        self._segments: list[SharedTable | ClaimTables | SharedEventLog | Ring | SharedCache] = []
        self.cache: SharedCache | None = None
        self._pipes: list[tuple[int, int]] = []
        self._listeners: list[socket.socket] = []  # per worker position
        self.port = settings.port

    # -- set-up --------------------------------------------------------------------------------------------

    def _create_segments(self) -> None:
        s = self.settings
        self.prefix, removed = claim_prefix(str(self.port))
        for name in removed:
            log(f"removed {name}, left by a server that did not stop cleanly")
        if not self.prefix.endswith(f"-{self.port}"):
            log(f"shared-memory names of port {self.port} are taken by another user: using {self.prefix}-*")
        prefix = self.prefix
        self.sessions = SharedTable.create(
            names.sessions_name(prefix), max(64, 2 * s.max_sessions), s.session_record_bytes
        )
        # The workers keep at most task_capacity tasks; a quarter more slots keeps the probes short.
        task_slots = s.task_capacity + s.task_capacity // 4 + 1
        self.tasks = SharedTable.create(names.tasks_name(prefix), task_slots, s.task_record_bytes)
        self.events = SharedEventLog.create(names.events_name(prefix), s.event_log_bytes, 4 * s.max_sessions)
        self.table = SharedTable.create(names.workers_name(prefix), 2 * MAX_SLOTS, 1024)
        # Shards of twice their share of the limit in slots: probes stay short when it is nearly reached.
        shards = min(INFLIGHT_SHARDS, s.max_inflight)
        share = -(-s.max_inflight // shards)
        self.inflight = ClaimTables.create(names.inflight_name(prefix), shards, 2 * share)
        self._segments = [self.sessions, self.tasks, self.events, self.table, self.inflight]
        if s.cache is not None:
            self.cache = SharedCache.create(names.cache_name(prefix), s.cache)
            self._segments.append(self.cache)
        for slot in range(self.slots):
            self._segments.append(Ring.create(names.ring_name(prefix, slot), s.ring_bytes))
            self._pipes.append(os.pipe())
        self._log_shared_memory()

    def _log_shared_memory(self) -> None:
        """One line with the segments' summed size (what they may take of /dev/shm once written), and a
        warning when /dev/shm has less room: a worker writing past it would die of SIGBUS."""
        parts: dict[str, int] = {}
        for segment in self._segments:
            what = segment.name.rsplit("-", 1)[-1].rstrip("0123456789")
            parts[what] = parts.get(what, 0) + len(segment.mm)
        total = sum(parts.values())
        inboxes = parts.pop("ring", 0)
        shown = [f"{what} {size / 2**20:.1f} MiB" for what, size in parts.items()]
        shown.append(f"{self.slots} inboxes {inboxes / 2**20:.1f} MiB")
        log(
            f"shared memory: {total} bytes ({total / 2**20:.1f} MiB) in {len(self._segments)} segments "
            f"{self.prefix}-*: " + ", ".join(shown)
        )
        with contextlib.suppress(OSError):
            room = os.statvfs("/dev/shm")
            free = room.f_bavail * room.f_frsize
            if free < total:
                log(
                    f"warning: /dev/shm has {free / 2**20:.0f} MiB free, less than the segments' "
                    f"{total / 2**20:.0f} MiB: lower the shared-memory flags or enlarge /dev/shm"
                )

    def _listen(self) -> None:
        self._listeners = listen_group(self.settings.host, self.port, self.settings.workers)
        self.port = self._listeners[0].getsockname()[1]  # port 0: the one the kernel picked

    # -- workers -------------------------------------------------------------------------------------------

    def _cpu(self, position: int) -> int | None:
        if not self.settings.pin_cpus or self.settings.workers > len(self.cpus):
            return None
        return self.cpus[position % len(self.cpus)]

    def _free_slot(self, position: int) -> int:
        """The slot the position's last worker had, if free: a worker restarted after a crash reads what
        was sent to its predecessor's inbox (workers/cluster/node.py)."""
        last = self.last_slot.get(position)
        if last is not None and last not in self.workers:
            return last
        for slot in range(self.slots):
            if slot not in self.workers:
                return slot
        raise RuntimeError("no free worker slot")

    def _spawn(self, position: int) -> _Worker:
        slot = self.last_slot[position] = self._free_slot(position)
        listen_fd = self._listeners[position].fileno()
        config = ClusterConfig(
            prefix=self.prefix,
            slot=slot,
            slots=self.slots,
            wake=self._pipes,
            cpu=self._cpu(position),
            cache=self.cache is not None,
            listen_fd=listen_fd,
        )
        host = self.settings.host
        address = f"[{host.strip('[]')}]:{self.port}" if ":" in host else f"{host}:{self.port}"
        serve = msgspec.structs.replace(self.settings.serve, http=address)  # port 0: the one picked
        command = [sys.executable, "-m", "runtime.worker"]
        env = {**os.environ, WORKER_ENV: WorkerStart(serve=serve, cluster=config).encode()}
        fds = [fd for pipe in self._pipes for fd in pipe] + [listen_fd]
        process = subprocess.Popen(command, env=env, pass_fds=fds)
        worker = self.workers[slot] = _Worker(slot, position, process)
        log(f"{worker} started" + (f" on CPU {config.cpu}" if config.cpu is not None else ""))
        self._publish()
        return worker

    def _heartbeat(self, slot: int) -> dict[str, object] | None:
        data = self.table.get(names.worker_key(slot))
        return msgspec.msgpack.decode(data) if data is not None else None

    def _ready(self, worker: _Worker) -> bool:
        beat = self._heartbeat(worker.slot)
        return bool(beat and beat.get("ready") and beat.get("pid") == worker.process.pid)

    def _publish(self) -> None:
        """The supervisor's own record, read by `mcprt status`."""
        record = {
            "pid": os.getpid(),
            "port": self.port,
            "workers": {
                w.slot: {"pid": w.process.pid, "position": w.position} for w in self.workers.values()
            },
            "restarts": {p: len(times) for p, times in self.restarts.items()},
            "exits": self.exits,
        }
        self.table.put("supervisor", msgspec.msgpack.encode(record))

    def _stop_worker(self, worker: _Worker, sig: int = signal.SIGTERM) -> None:
        worker.draining = True
        with contextlib.suppress(ProcessLookupError):
            worker.process.send_signal(sig)

    def _check(self) -> None:
        """Reap exits, restart what died unexpectedly, kill what hangs or grew too big."""
        now = time.monotonic()
        for worker in list(self.workers.values()):
            code = worker.process.poll()
            if code is not None:
                del self.workers[worker.slot]
                self.exits[worker.slot] = code
                self.table.remove(names.worker_key(worker.slot))
                if worker.draining:
                    log(f"{worker} stopped (exit code {code})")
                else:
                    self._schedule_restart(worker, code)
                self._publish()
                continue
            if worker.draining:
                continue
            beat = self._heartbeat(worker.slot)
            if beat is not None and beat.get("pid") == worker.process.pid:
                age = time.time() - float(beat["beat"])  # type: ignore[arg-type]
                if age > self.settings.hang_timeout:
                    log(f"{worker} hung: no heartbeat for {age:.1f} s; killed")
                    self._stop_worker(worker, signal.SIGKILL)
                    worker.draining = False  # its exit is a failure: replace it
                    continue
            elif now - worker.started > max(30.0, self.settings.hang_timeout):
                log(f"{worker} never became ready; killed")
                self._stop_worker(worker, signal.SIGKILL)
                worker.draining = False
                continue
            self._check_memory(worker)
        filled = {w.position for w in self.workers.values() if not w.draining}
        for position in range(self.settings.workers):
            if position not in filled and now >= self.backoff_until.get(position, 0.0) and not self._stop:
                self._spawn(position)

    def _check_memory(self, worker: _Worker) -> None:
        limit = self.settings.max_worker_rss_mb
        if limit is None:
            return
        import psutil

        try:
            rss = psutil.Process(worker.process.pid).memory_info().rss / 1e6
        except psutil.Error:
            return
        if rss > limit:
            log(f"{worker} uses {rss:.0f} MB > {limit:.0f} MB; replacing")
            self._replace(worker)

    def _schedule_restart(self, worker: _Worker, code: int) -> None:
        position = worker.position
        now = time.monotonic()
        times = [t for t in self.restarts.get(position, []) if now - t < self.settings.restart_window]
        times.append(now)
        self.restarts[position] = times
        if len(times) > self.settings.restart_limit:
            log(
                f"{worker} exited (code {code}) {len(times)} times in "
                f"{self.settings.restart_window:.0f} s: crash loop, stopping the server"
            )
            self._stop = True
            self.failed = True
            return
        delay = 0.0 if len(times) == 1 else min(5.0, 0.1 * 2 ** (len(times) - 2))
        self.backoff_until[position] = now + delay
        log(f"{worker} exited (code {code}); restarting in {delay:.1f} s")

    def _replace(self, old: _Worker) -> bool:
        """Start a replacement for `old`, wait until it serves, then stop `old` (no refused connection)."""
        new = self._spawn(old.position)
        deadline = time.monotonic() + 30.0
        while not self._ready(new):
            if new.process.poll() is not None or time.monotonic() > deadline or self._stop:
                log(f"replacement worker {new.slot} did not become ready; keeping worker {old.slot}")
                self._stop_worker(new, signal.SIGKILL)
                return False
            time.sleep(0.02)
        self._stop_worker(old)
        return True

    def _rolling_restart(self) -> None:
        log("SIGHUP: rolling restart")
        for worker in sorted(self.workers.values(), key=lambda w: w.position):
            if worker.draining or self._stop:
                continue
            if self._replace(worker):
                while worker.process.poll() is None and not self._stop:
                    self._check()
                    time.sleep(0.02)
            self._check()
        if self.cache is not None:
            self.cache.clear()  # a restart may deploy new code: results of the old one must not outlive it
            _clear_vectors(self.cache.name)  # the semantic cache's pointers to them
        log("rolling restart done")

    # -- main loop -----------------------------------------------------------------------------------------

    def _on_signal(self, signum: int, frame: object) -> None:
        if signum == signal.SIGHUP:
            self._rolling = True
        else:
            self._stop = True

    def run(self) -> int:
        self.failed = False
        # One requestState key for every worker: a retry may reach any (runtime/protocol/request_state.py).
        os.environ.setdefault(STATE_KEY_ENV, secrets.token_hex(32))
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(signum, self._on_signal)
        try:
            self._listen()
        except ListenError as exc:
            with contextlib.suppress(OSError, ValueError):
                print(exc, file=sys.stderr, flush=True)
            return 1
        try:
            self._create_segments()
        except SegmentError as exc:
            log(f"cannot start: {exc}")
            self._shutdown()
            return 1
        try:
            for position in range(self.settings.workers):
                self._spawn(position)
            self._wait_ready()
            while not self._stop:
                if self._rolling:
                    self._rolling = False
                    self._rolling_restart()
                self._check()
                time.sleep(0.05)
        finally:
            self._shutdown()
        return 1 if self.failed else 0

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 60.0
        while not self._stop and time.monotonic() < deadline:
            self._check()
            workers = [w for w in self.workers.values() if not w.draining]
            if len(workers) == self.settings.workers and all(self._ready(w) for w in workers):
                beat = self._heartbeat(workers[0].slot) or {}
                host = self.settings.host
                shown = f"[{host.strip('[]')}]" if ":" in host else host
                address = f"http://{shown}:{self.port}{self.settings.path}"
                name = beat.get("name", "app")
                with contextlib.suppress(OSError, ValueError):
                    print(
                        f"mcprt: serving {name} at {address} ({self.settings.workers} workers)",
                        file=sys.stderr,
                        flush=True,
                    )
                return
            time.sleep(0.02)

    def _shutdown(self) -> None:
        for worker in self.workers.values():
            self._stop_worker(worker)
        deadline = time.monotonic() + self.settings.grace + KILL_MARGIN
        for worker in list(self.workers.values()):
            remaining = max(0.0, deadline - time.monotonic())
            try:
                code = worker.process.wait(remaining)
                log(f"{worker} stopped (exit code {code})")
            except subprocess.TimeoutExpired:
                log(f"{worker} did not stop in time; killed")
                worker.process.kill()
                worker.process.wait()
        self.workers.clear()
        if self.cache is not None:
            self.cache.mark_closed()  # co-located readers stop trusting it (they may keep it mapped)
            # The semantic cache's vectors, made by a worker once a tool has semantic_cache= (ipc/vectors.py).
            unlink_vectors(self.cache.name)
        for segment in self._segments:
            with contextlib.suppress(Exception):
                segment.unlink()
            with contextlib.suppress(Exception):
                segment.close()
        for read, write in self._pipes:
            os.close(read)
            os.close(write)
        for sock in self._listeners:
            sock.close()


def _clear_vectors(cache_name: str) -> None:
    name = name_for_cache(cache_name)
    if not os.path.exists("/dev/shm" + name):
        return  # no tool with semantic_cache= was called: numpy need not be imported
    try:
        from ipc import vectors
    except ImportError:  # no numpy: no worker can have made them
        return
    vectors.clear(name)
