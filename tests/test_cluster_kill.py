"""Nothing is lost when a worker dies: a real `mcprt serve --workers 2`, a session with its GET stream and a
streaming POST on one worker, messages for both raised before, during and after that worker is killed with
SIGKILL (numbered progress on the POST stream; numbered messages for the GET stream from a tool running on
the other worker, and server-wide events published there), and both streams resumed with Last-Event-ID
through the other worker. Every message arrives exactly once, over several kills."""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.cluster_support import ClusterServer, Conn, conns_by_worker, start_session, stream_events
from tests.test_cluster import open_post
from tests.test_cluster_streams import conn_on, open_get, wait_until

pytestmark = pytest.mark.timeout(240)  # several worker restarts: slow on a loaded machine

APP = "tests/apps/numbered.py:server"
KILLS = 5
GET_MESSAGES = 60  # numbered messages for the GET stream, one every 20 ms, across the kill


class Reader:
    """Collects the events of an SSE response in a thread: (event id, data); `last_id` counts priming."""

    def __init__(self, response: http.client.HTTPResponse) -> None:
        assert response.status == 200, response.status
        self.response = response
        self.events: list[tuple[str | None, dict[str, Any]]] = []
        self.last_id: str | None = None
        self.done = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        try:
            for event_id, data in stream_events(self.response):
                self.last_id = event_id
                if data is not None:
                    self.events.append((event_id, data))
        except (OSError, http.client.HTTPException, ValueError, AttributeError):
            pass  # the worker was killed mid-chunk, or the test hung up (http.client then fails in these ways)
        finally:
            self.done.set()


class Repeat:
    """Calls `touch` on one connection until stopped; `count` is how many calls succeeded."""

    def __init__(self, conn: Conn) -> None:
        self.conn = conn
        self.count = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop.is_set():
            assert self.conn.call("touch")["result"]["content"][0]["text"] == "touched"
            self.count += 1
            time.sleep(0.03)

    def finish(self) -> int:
        self.stop.set()
        self.thread.join(10)
        assert not self.thread.is_alive()
        return self.count


def hang_up(conn: Conn) -> None:
    """Close a connection whose stream a `Reader` may still be reading (a plain close would wait for it)."""
    if conn.http.sock is not None:
        with contextlib.suppress(OSError):
            conn.http.sock.shutdown(socket.SHUT_RDWR)
    conn.close()


def numbered(events: list[tuple[str | None, dict[str, Any]]], key: str) -> list[int]:
    return [
        data["params"]["data"][key] for _, data in events if data.get("method") == "notifications/message"
    ]


def updates(events: list[tuple[str | None, dict[str, Any]]]) -> int:
    return sum(1 for _, data in events if data.get("method") == "notifications/resources/updated")


def progress(events: list[tuple[str | None, dict[str, Any]]]) -> list[int]:
    return [
        int(data["params"]["progress"])
        for _, data in events
        if data.get("method") == "notifications/progress"
    ]


def kill_and_resume(
    server: ClusterServer, victim_pid: int, survivor_pid: int, session: dict[str, str]
) -> str:
    port = server.port
    opened: list[Conn] = []

    def on(pid: int) -> Conn:
        opened.append(conn_on(port, session, pid))
        return opened[-1]

    try:
        return _kill_and_resume(server, victim_pid, survivor_pid, on)
    finally:
        for conn in opened:
            hang_up(conn)


def _kill_and_resume(
    server: ClusterServer, victim_pid: int, survivor_pid: int, on: Callable[[int], Conn]
) -> str:
    survivor = on(survivor_pid)
    survivor.post(
        {"jsonrpc": "2.0", "id": 1, "method": "resources/subscribe", "params": {"uri": "test://watched"}}
    )
    get = Reader(open_get(on(victim_pid)))
    assert wait_until(lambda: get.last_id is not None)  # the priming event: the stream is held
    count = {
        "jsonrpc": "2.0",
        "id": 2,
        "method": "tools/call",
        "params": {
            "name": "count_on_request",
            "arguments": {"n": 100_000, "every": 0.01},
            "_meta": {"progressToken": "p"},
        },
    }
    post = Reader(open_post(on(victim_pid), count))
    ticker_result: list[dict[str, Any]] = []
    ticker_conn = on(survivor_pid)
    ticker = threading.Thread(
        target=lambda: ticker_result.append(
            ticker_conn.call("count_on_session", {"n": GET_MESSAGES, "every": 0.02})
        ),
        daemon=True,
    )
    ticker.start()
    touches = Repeat(survivor)
    assert wait_until(lambda: numbered(get.events, "get") and updates(get.events) and progress(post.events))
    time.sleep(0.3)  # both streams under way
    os.kill(victim_pid, signal.SIGKILL)
    time.sleep(0.2)  # meanwhile: messages for the GET stream and server-wide events, none delivered yet
    assert get.done.wait(10) and post.done.wait(10)
    assert get.last_id is not None and post.last_id is not None
    resumed_get = Reader(open_get(on(survivor_pid), get.last_id))
    resumed_post = Reader(open_get(on(survivor_pid), post.last_id))
    time.sleep(0.3)  # and after the resumption
    published = touches.finish()
    ticker.join(20)
    assert ticker_result and ticker_result[0]["result"]["content"][0]["text"] == "counted", ticker_result

    def complete() -> bool:
        on_get = get.events + resumed_get.events
        return len(numbered(on_get, "get")) >= GET_MESSAGES and updates(on_get) >= published

    arrived = wait_until(complete, 20)
    assert resumed_post.done.wait(10), "the resumed POST stream ends: its writer is gone"
    time.sleep(0.3)  # a duplicate would come now
    on_get = get.events + resumed_get.events
    got = numbered(on_get, "get")
    assert arrived and sorted(got) == list(range(1, GET_MESSAGES + 1)), (got, server.log()[-3000:])
    assert updates(on_get) == published
    ids = [event_id for event_id, _ in on_get]
    assert len(set(ids)) == len(ids)
    counted = progress(post.events + resumed_post.events)
    assert counted == list(range(1, len(counted) + 1)), counted  # none lost, none twice, in order
    assert not progress(on_get) and not numbered(post.events + resumed_post.events, "get")
    return f"get {len(got)} updates {published} post {len(counted)}, {len(resumed_get.events)} on the resumed GET"


def both_workers(port: int, session: dict[str, str]) -> list[int]:
    """The pids of the two workers, once both serve (a killed one is restarted)."""
    deadline = time.monotonic() + 60
    while True:
        conns = conns_by_worker(port, session, 2)
        for conn in conns.values():
            conn.close()
        if len(conns) == 2 or time.monotonic() > deadline:
            assert len(conns) == 2, "the killed worker was not restarted"
            return list(conns)
        time.sleep(0.1)


@pytest.fixture(scope="module")
def server():  # type: ignore[no-untyped-def]
    cluster = ClusterServer(2, APP, "--hang-timeout", "3.0")
    yield cluster
    cluster.stop()


def test_get_stream_taken_over_from_a_running_worker_gets_its_messages(server: ClusterServer) -> None:
    """The client's GET connection to one worker dropped and it resumed through the other: messages that a
    tool running on the first worker sends to the session's GET stream reach the resumed connection."""
    session = start_session(server.port)
    conns = conns_by_worker(server.port, session, 2)
    (first_pid, first), (second_pid, _) = conns.items()
    get = Reader(open_get(first))
    assert wait_until(lambda: get.last_id is not None)
    hang_up(first)  # the connection drops; the worker keeps the stream for a resumption
    assert get.done.wait(10) and get.last_id is not None
    resumer = conn_on(server.port, session, second_pid)
    resumed = Reader(open_get(resumer, get.last_id))
    time.sleep(1.0)  # past the new holder's own second look at the log
    tool = conn_on(server.port, session, first_pid)
    assert tool.call("count_on_session", {"n": 5, "every": 0.01})["result"]["content"][0]["text"] == "counted"
    assert wait_until(lambda: len(numbered(resumed.events, "get")) >= 5, 5), server.log()
    time.sleep(0.3)
    assert numbered(resumed.events, "get") == [1, 2, 3, 4, 5]
    for conn in (*conns.values(), tool, resumer):
        hang_up(conn)


def test_nothing_lost_when_the_worker_holding_the_streams_is_killed(server: ClusterServer) -> None:
    # After a rolling restart the workers have slots 2 and 0: a killed worker's successor must get
    # its slot again (the lowest free one is 1), to read what was sent to its inbox.
    os.kill(server.process.pid, signal.SIGHUP)
    assert server.wait_for_log("rolling restart done", 60), server.log()
    for kill in range(KILLS):
        session = start_session(server.port)
        pids = both_workers(server.port, session)
        victim, survivor = pids[kill % 2], pids[1 - kill % 2]
        started = time.monotonic()
        summary = kill_and_resume(server, victim, survivor, session)
        print(f"kill {kill + 1}: {summary} ({time.monotonic() - started:.1f} s)")
