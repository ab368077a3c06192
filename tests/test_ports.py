"""Listening ports with real processes: a port held by anything else (a plain socket, an SO_REUSEPORT
socket, another mcprt server) stops `mcprt serve --http` at once with one line and leaves nothing behind;
only a supervisor's own workers share its port, and a worker killed with connections waiting in its queue
gets them served by its replacement."""

from __future__ import annotations

import os
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import psutil
import pytest

from tests.cluster_support import ClusterServer, conns_by_worker, start_session

pytestmark = pytest.mark.timeout(120)


def serve(port: int, workers: int) -> tuple[int | None, str, float]:
    """Run `mcprt serve` on a port that is taken: (exit code, stderr, seconds); None if it kept running."""
    command = [sys.executable, "-m", "runtime", "serve", "--http", f"127.0.0.1:{port}"]
    started = time.monotonic()
    process = subprocess.Popen(
        [*command, "--workers", str(workers), "--no-pin"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _, err = process.communicate(timeout=20)
        return process.returncode, err, time.monotonic() - started
    except subprocess.TimeoutExpired:
        process.terminate()  # it started: stop it cleanly (a supervisor stops its workers)
        _, err = process.communicate(timeout=30)
        return None, err, time.monotonic() - started


def segments(port: int) -> list[str]:
    return [name for name in os.listdir("/dev/shm") if name.startswith(f"mcprt-{os.getuid()}-{port}-")]


def assert_refused(port: int, workers: int) -> None:
    code, err, seconds = serve(port, workers)
    assert code == 1, err
    assert err.strip() == f"mcprt: cannot listen on 127.0.0.1:{port}: address already in use", err
    assert seconds < 15, seconds
    assert not segments(port)


@pytest.fixture
def held_port(request: pytest.FixtureRequest) -> Iterator[int]:
    holder = socket.socket()
    if request.param:
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    yield holder.getsockname()[1]
    holder.close()


@pytest.mark.parametrize("held_port", [False, True], ids=["plain", "reuseport"], indirect=True)
@pytest.mark.parametrize("workers", [1, 2])
def test_port_held_by_another_program_is_refused(held_port: int, workers: int) -> None:
    assert_refused(held_port, workers)


@pytest.fixture
def cluster2() -> Iterator[ClusterServer]:
    server = ClusterServer(2, "--no-pin", "--hang-timeout", "5")
    yield server
    server.stop()


def worker_pids(server: ClusterServer) -> set[int]:
    return {child.pid for child in psutil.Process(server.process.pid).children()}


def healthz_all(port: int, count: int, timeout: float = 5.0) -> None:
    """`count` new connections, each answered (a connection given to a socket nobody serves times out)."""
    for _ in range(count):
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as conn:
            conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            assert conn.recv(64).startswith(b"HTTP/1.1 200"), "a connection went to another program"


@pytest.mark.parametrize("workers", [1, 2])
def test_second_server_on_a_running_servers_port_is_refused(cluster2: ClusterServer, workers: int) -> None:
    before = set(segments(cluster2.port))
    code, err, _ = serve(cluster2.port, workers)
    assert code == 1, err
    assert err.strip() == f"mcprt: cannot listen on 127.0.0.1:{cluster2.port}: address already in use"
    assert set(segments(cluster2.port)) == before  # the running server's segments, untouched
    session = start_session(cluster2.port)
    assert set(conns_by_worker(cluster2.port, session, 2)) == worker_pids(cluster2)
    healthz_all(cluster2.port, 30)
    assert cluster2.process.poll() is None


def test_a_stranger_joining_with_reuseport_gets_no_connection(cluster2: ClusterServer) -> None:
    stranger = socket.socket()
    stranger.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    stranger.bind(("127.0.0.1", cluster2.port))  # the kernel lets a socket of the same user join
    stranger.listen()
    try:
        healthz_all(cluster2.port, 40)
    finally:
        stranger.close()


def test_connections_queued_on_a_killed_worker_are_served_by_its_replacement(cluster2: ClusterServer) -> None:
    victim = min(worker_pids(cluster2))
    os.kill(victim, signal.SIGSTOP)  # it accepts nothing: its connections wait in its socket's queue
    conns = [socket.create_connection(("127.0.0.1", cluster2.port), timeout=30) for _ in range(24)]
    for conn in conns:
        conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    time.sleep(1.0)
    answered, _, _ = select.select(conns, [], [], 0)
    waiting = [conn for conn in conns if conn not in answered]
    assert waiting, "no connection reached the stopped worker"
    assert len(waiting) < len(conns), "no connection reached the running worker"
    mark = len(cluster2.lines)
    os.kill(victim, signal.SIGKILL)
    assert cluster2.wait_for_log(r"worker \d+ \(pid \d+\) started", timeout=30, after=mark), cluster2.log()
    try:
        for conn in waiting:
            assert conn.recv(64).startswith(b"HTTP/1.1 200"), "a queued connection was lost"
    finally:
        for conn in conns:
            conn.close()
    # The replacement serves new connections on the same port, as does the other worker.
    pids = worker_pids(cluster2)
    assert victim not in pids and len(pids) == 2
    session = start_session(cluster2.port)
    assert set(conns_by_worker(cluster2.port, session, 2)) == pids
