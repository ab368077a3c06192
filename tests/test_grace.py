"""The grace period of a stop is enforced everywhere: a sync tool blocking its handler thread (time.sleep(30))
does not keep the process alive past `--grace` (stdio on SIGTERM and on stdin EOF, HTTP with one worker and
with a supervisor), nor does an async tool blocking the event loop itself; while a request that finishes within
the grace period still gets its answer written."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest

from runtime.supervisor import KILL_MARGIN
from tests.cluster_support import ClusterServer, Conn, start_session
from tests.conftest import RunningServer, serve_command
from tests.test_stdio_raw import INIT
from workers.shutdown import BACKSTOP_EXIT_CODE

pytestmark = pytest.mark.timeout(90)
BLOCKING = str(Path(__file__).parent / "apps" / "blocking.py") + ":server"
GRACE = 1.0
# What a stop may take beyond the grace period: the interpreter's exit and a loaded 2-core machine.
MARGIN = 2.0


def call(request_id: int, name: str) -> bytes:
    message = {"jsonrpc": "2.0", "id": request_id, "method": "tools/call", "params": {"name": name}}
    return json.dumps(message).encode() + b"\n"


class StdioServer:
    """`mcprt serve --stdio` of the blocking app, its stdout and stderr read as they arrive."""

    def __init__(self, *args: str, command: list[str] | None = None) -> None:
        self.process = subprocess.Popen(
            command or serve_command("--stdio", *args, app=BLOCKING),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self.messages: list[dict] = []
        self.errors: list[str] = []
        self._threads = [
            threading.Thread(target=self._read_stdout, daemon=True),
            threading.Thread(target=self._read_stderr, daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def _read_stdout(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.messages.append(json.loads(line))

    def _read_stderr(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.errors.append(line.decode(errors="replace"))

    def send(self, data: bytes) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(data)
        self.process.stdin.flush()

    def close_stdin(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()

    def wait_for(self, predicate: object, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():  # type: ignore[operator]
                return
            time.sleep(0.02)
        raise AssertionError(f"timed out; stderr: {''.join(self.errors)}")

    def start_tool(self, name: str) -> None:
        """Initialize, then call `name` and wait until it runs."""
        self.send(INIT)
        self.wait_for(lambda: any(m.get("id") == 0 for m in self.messages))
        self.send(call(1, name))
        self.wait_for(lambda: any(f"{name} started" in line for line in self.errors))

    def stopped_within(self, seconds: float) -> float:
        """How long the process took to exit (it must within `seconds`: else it is killed and the test fails)."""
        start = time.monotonic()
        try:
            self.process.wait(seconds)
        except subprocess.TimeoutExpired:
            self.kill()
            pytest.fail(f"still running {seconds} s after the stop; stderr: {''.join(self.errors)}")
        for thread in self._threads:
            thread.join(5)
        return time.monotonic() - start

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def stdio_server():  # type: ignore[no-untyped-def]
    server = StdioServer("--grace", str(GRACE))
    yield server
    server.kill()


def test_stdio_sigterm_with_a_blocking_tool_in_flight_exits_within_grace(stdio_server: StdioServer) -> None:
    stdio_server.start_tool("block")
    stdio_server.process.send_signal(signal.SIGTERM)
    took = stdio_server.stopped_within(GRACE + MARGIN)
    assert took > GRACE - 0.1  # the tool had the whole grace period
    assert stdio_server.process.returncode == 0
    assert not any(m.get("id") == 1 for m in stdio_server.messages)  # never answered: it never finished


def test_stdio_eof_with_a_blocking_tool_in_flight_exits_within_grace(stdio_server: StdioServer) -> None:
    stdio_server.start_tool("block")
    stdio_server.close_stdin()
    stdio_server.stopped_within(GRACE + MARGIN)
    assert stdio_server.process.returncode == 0


def test_stdio_stop_does_not_wait_for_asyncio_to_thread(stdio_server: StdioServer) -> None:
    """asyncio.run would wait for the default executor's threads: the stop does not, nor needs its backstop
    (which exits with code 1)."""
    stdio_server.start_tool("block_in_thread")
    stdio_server.close_stdin()
    stdio_server.stopped_within(GRACE + MARGIN)
    assert stdio_server.process.returncode == 0, "".join(stdio_server.errors)


def test_stdio_sigterm_with_the_event_loop_blocked_exits_within_grace(stdio_server: StdioServer) -> None:
    """An async tool calling time.sleep(30) blocks the loop, so the loop's own signal handler cannot run:
    the signal still starts the grace period, and the backstop ends the process after it."""
    stdio_server.start_tool("block_loop")
    stdio_server.process.send_signal(signal.SIGTERM)
    stdio_server.stopped_within(GRACE + MARGIN)
    assert stdio_server.process.returncode == BACKSTOP_EXIT_CODE


def test_stdio_eof_with_the_event_loop_blocked_exits_within_grace(stdio_server: StdioServer) -> None:
    """The loop cannot read the end of stdin while it is blocked: the end is still seen."""
    stdio_server.start_tool("block_loop")
    stdio_server.close_stdin()
    stdio_server.stopped_within(GRACE + MARGIN)
    assert stdio_server.process.returncode == BACKSTOP_EXIT_CODE


def test_stdio_eof_lets_a_quick_tool_in_flight_answer_first() -> None:
    server = StdioServer("--grace", "5")
    try:
        server.start_tool("quick")
        server.close_stdin()
        took = server.stopped_within(5 + MARGIN)
    finally:
        server.kill()
    assert server.process.returncode == 0
    answer = next(m for m in server.messages if m.get("id") == 1)
    assert answer["result"]["content"][0]["text"] == "quick"
    assert took < 5  # it exited once the answer was out, not at the end of the grace period


def test_stdio_grace_defaults_to_a_few_seconds() -> None:
    """Without --grace a stuck tool still does not keep the process alive (the stdio default: 5 s)."""
    server = StdioServer()
    try:
        server.start_tool("block")
        server.close_stdin()
        server.stopped_within(5 + MARGIN)
    finally:
        server.kill()


def test_server_run_enforces_its_grace() -> None:
    """`server.run(grace=)`, the stdio path of an app run as a script."""
    script = f"from tests.apps.blocking import server; server.run(grace={GRACE})"
    server = StdioServer(command=[sys.executable, "-c", script])
    try:
        server.start_tool("block")
        server.process.send_signal(signal.SIGTERM)
        server.stopped_within(GRACE + MARGIN)
    finally:
        server.kill()
    assert server.process.returncode == 0


def _post_in_background(port: int, session: dict[str, str], name: str) -> threading.Thread:
    """Call a tool on its own connection; the call is cut off by the stop, so its outcome is ignored."""

    def post() -> None:
        conn = Conn(port, session)
        conn.http.timeout = 60
        with contextlib.suppress(Exception):
            conn.call(name)
        conn.close()

    thread = threading.Thread(target=post, daemon=True)
    thread.start()
    return thread


def _segments(port: int) -> list[str]:
    prefix = f"mcprt-{os.getuid()}-{port}"
    own = (f"{prefix}-", f"{prefix}.")  # not those of a port whose number starts with this one's
    return [p.name for p in Path("/dev/shm").iterdir() if p.name.startswith(own)]


def _remove_segments(port: int) -> list[str]:
    """The port's segments still there (a failed stop leaves them), removed so no test run strands them."""
    leftovers = _segments(port)
    for name in leftovers:
        with contextlib.suppress(FileNotFoundError):
            (Path("/dev/shm") / name).unlink()
    return leftovers


def _kill_strays(processes: list[psutil.Process]) -> list[int]:
    """Those of `processes` still running, killed."""
    strays = []
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            if process.status() != psutil.STATUS_ZOMBIE:
                strays.append(process.pid)
                process.kill()
                process.wait(10)
    return strays


def _wait_for_line(lines: list[str], text: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(text in line for line in lines):
            return
        time.sleep(0.02)
    raise AssertionError(f"{text!r} never logged: {''.join(lines)}")


def _stop_within(process: subprocess.Popen, seconds: float) -> None:  # type: ignore[type-arg]
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        pytest.fail(f"still running {seconds} s after SIGTERM")


def test_http_one_worker_sigterm_with_a_blocking_tool_in_flight_exits_within_grace() -> None:
    server = RunningServer("--grace", str(GRACE), app=BLOCKING, workers=1)
    try:
        session = start_session(server.port)
        assert _segments(server.port)  # this single process owns the port's shared cache
        caller = _post_in_background(server.port, session, "block")
        _wait_for_line(server.lines, "block started")
        _stop_within(server.process, GRACE + MARGIN)
        assert server.process.returncode == 0
        caller.join(10)
        assert not caller.is_alive()  # the cut-off call's connection was closed, not left hanging
    finally:
        server.stop()
        leftovers = _remove_segments(server.port)  # even when the test fails
    assert leftovers == []


def test_http_two_workers_sigterm_with_a_blocking_tool_in_flight_exits_within_grace() -> None:
    cluster = ClusterServer(2, BLOCKING, "--grace", str(GRACE), "--no-pin")
    try:
        workers = psutil.Process(cluster.process.pid).children()
        assert len(workers) == 2
        session = start_session(cluster.port)
        caller = _post_in_background(cluster.port, session, "block")
        assert cluster.wait_for_log("block started", timeout=30), cluster.log()
        _stop_within(cluster.process, GRACE + MARGIN)
        assert cluster.process.returncode == 0, cluster.log()
        caller.join(10)
        assert not caller.is_alive()
    finally:
        cluster.stop()
        strays = _kill_strays(workers)
        leftovers = _remove_segments(cluster.port)
    assert strays == [] and leftovers == []


@pytest.mark.parametrize("workers", [1, 2])
def test_http_a_handler_whose_client_went_away_is_settled_before_the_stores_close(workers: int) -> None:
    """A stop while an awaiting handler runs for a client that already hung up: it gets the grace period,
    then is cancelled while the shared stores it answers into are still open (its in-flight entry is
    released, its stream closed): a clean exit, no traceback (it was an AssertionError on a closed claims
    table with a supervisor)."""
    cluster = ClusterServer(workers, BLOCKING, "--grace", str(GRACE), "--no-pin")
    try:
        session = start_session(cluster.port)
        conn = Conn(cluster.port, session)
        message = {"jsonrpc": "2.0", "id": 5, "method": "tools/call", "params": {"name": "sleepy"}}
        headers = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
        conn.http.request("POST", "/mcp", body=json.dumps(message), headers={**headers, **session})
        assert cluster.wait_for_log("sleepy started", timeout=30), cluster.log()
        conn.close()  # the client is gone; the handler still runs
        time.sleep(0.2)
        _stop_within(cluster.process, GRACE + MARGIN)
        assert cluster.process.returncode == 0, cluster.log()
        time.sleep(0.2)  # the rest of the log
        assert "Traceback" not in cluster.log() and "unhandled exception" not in cluster.log(), cluster.log()
    finally:
        cluster.stop()
        leftovers = _remove_segments(cluster.port)
    assert leftovers == []


def test_http_one_worker_sigterm_with_the_event_loop_blocked_exits_within_grace() -> None:
    server = RunningServer("--grace", str(GRACE), app=BLOCKING, workers=1)
    try:
        session = start_session(server.port)
        caller = _post_in_background(server.port, session, "block_loop")
        _wait_for_line(server.lines, "block_loop started")
        _stop_within(server.process, GRACE + MARGIN)
        assert server.process.returncode == BACKSTOP_EXIT_CODE
        caller.join(10)
        assert not caller.is_alive()
    finally:
        server.stop()
        leftovers = _remove_segments(server.port)  # even when the test fails
    assert leftovers == []  # the backstop removed the shared cache


def _stop_cluster_during(tool: str) -> str:
    """SIGTERM a two-worker cluster while `tool` runs on one worker; its log once it has exited (within
    the grace period and the supervisor's kill margin)."""
    cluster = ClusterServer(2, BLOCKING, "--grace", str(GRACE), "--no-pin")
    try:
        workers = psutil.Process(cluster.process.pid).children()
        assert len(workers) == 2
        session = start_session(cluster.port)
        _post_in_background(cluster.port, session, tool)
        # Soon: a worker whose loop is blocked misses its heartbeats, and is replaced after a few seconds.
        assert cluster.wait_for_log(f"{tool} started", timeout=30), cluster.log()
        _stop_within(cluster.process, GRACE + KILL_MARGIN + MARGIN)
        assert cluster.process.returncode == 0, cluster.log()
    finally:
        cluster.stop()
        strays = _kill_strays(workers)
        leftovers = _remove_segments(cluster.port)
    assert strays == [] and leftovers == []
    return cluster.log()


def test_http_two_workers_a_worker_with_its_event_loop_blocked_ends_itself() -> None:
    log = _stop_cluster_during("block_loop")
    assert f"stopped (exit code {BACKSTOP_EXIT_CODE})" in log, log
    assert "did not stop in time" not in log, log


def test_http_two_workers_the_supervisor_kills_a_worker_deaf_to_sigterm() -> None:
    log = _stop_cluster_during("block_loop_deaf")
    assert "did not stop in time; killed" in log, log
