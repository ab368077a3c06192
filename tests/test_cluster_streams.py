"""SSE streams across workers with real processes: a stream resumed with Last-Event-ID through another worker
than the one writing it keeps receiving its events, a standalone stream survives the death of its worker,
and a dropped standalone stream can be replaced."""

from __future__ import annotations

import http.client
import os
import signal
import threading
import time
from typing import Any

import pytest

from tests.cluster_support import (
    ClusterServer,
    Conn,
    conns_by_worker,
    start_session,
    stream_events,
    stream_lines,
)
from tests.test_cluster import open_post

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def cluster2():  # type: ignore[no-untyped-def]
    server = ClusterServer(2, "--hang-timeout", "2.0")
    yield server
    server.stop()


def open_get(conn: Conn, last_event_id: str | None = None) -> http.client.HTTPResponse:
    headers = {"Accept": "text/event-stream", **conn.session}
    if last_event_id is not None:
        headers["Last-Event-ID"] = last_event_id
    conn.http.request("GET", "/mcp", headers=headers)
    return conn.http.getresponse()


def read_into(
    response: http.client.HTTPResponse, into: list[tuple[str | None, dict[str, Any]]]
) -> threading.Thread:
    def read() -> None:
        try:
            for event in stream_lines(response):
                into.append(event)
        except OSError:
            pass  # the worker was killed

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    return thread


def conn_on(port: int, session: dict[str, str], pid: int) -> Conn:
    """A new connection that landed on the worker `pid`."""
    for _ in range(200):
        conn = Conn(port, session)
        if conn.pid() == pid:
            return conn
        conn.close()
    raise AssertionError(f"no connection reached worker {pid}")


def wait_until(predicate: Any, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return bool(predicate())


def test_post_stream_resumed_on_the_other_worker_gets_the_response(cluster2: ClusterServer) -> None:
    session = start_session(cluster2.port)
    conn_a, conn_b = conns_by_worker(cluster2.port, session, 2).values()
    for attempt in range(3):  # each time: the handler, on A, answers 0.2 s after it closed the connection
        request_id = 500 + attempt
        call = {
            "jsonrpc": "2.0",
            "id": request_id,
            "method": "tools/call",
            "params": {"name": "test_reconnection"},
        }
        response = open_post(conn_a, call)
        seen = list(stream_events(response))
        assert seen and not any(data.get("id") == request_id for _, data in seen if data)
        last_id = seen[-1][0]
        assert last_id is not None
        replay = open_get(conn_b, last_id)  # the other worker: the handler runs on A
        assert replay.status == 200
        started = time.monotonic()
        events = [data for _, data in stream_lines(replay)]
        results = [m for m in events if m.get("id") == request_id]
        assert len(results) == 1, events
        assert results[0]["result"]["content"][0]["text"] == "Reconnection test completed successfully"
        assert time.monotonic() - started < 5  # the stream ended with the response


def test_get_stream_of_a_killed_worker_is_taken_over(cluster2: ClusterServer) -> None:
    session = start_session(cluster2.port)
    conns = conns_by_worker(cluster2.port, session, 2)
    (victim_pid, victim), (survivor_pid, survivor) = conns.items()
    victim.post(
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "resources/subscribe",
            "params": {"uri": "test://watched-resource"},
        }
    )
    stream = open_get(victim)
    assert stream.status == 200
    received: list[tuple[str | None, dict[str, Any]]] = []
    read_into(stream, received)
    time.sleep(0.2)
    survivor.call("touch_watched_resource")
    assert wait_until(lambda: len(received) == 1)
    last_id = received[-1][0]
    assert last_id is not None
    os.kill(victim_pid, signal.SIGKILL)
    time.sleep(0.3)
    resumed = open_get(conn_on(cluster2.port, session, survivor_pid), last_id)
    assert resumed.status == 200
    after: list[tuple[str | None, dict[str, Any]]] = []
    read_into(resumed, after)
    for _ in range(5):
        survivor.call("touch_watched_resource")
    assert wait_until(lambda: len(after) >= 5), (after, cluster2.log())
    time.sleep(0.3)
    assert len(after) == 5  # each once, on the resumed stream
    assert all(data["method"] == "notifications/resources/updated" for _, data in after)
    ids = [event_id for event_id, _ in after]
    assert len(set(ids)) == 5 and all(i and i.rsplit(".", 1)[0] == last_id.rsplit(".", 1)[0] for i in ids)


def test_new_get_stream_after_the_previous_connection_dropped() -> None:
    server = ClusterServer(1)
    try:
        session = start_session(server.port)
        first = Conn(server.port, session)
        stream = open_get(first)
        assert stream.status == 200
        second = Conn(server.port, session)
        assert open_get(second).status == 409  # the first one is still connected
        second.close()
        first.close()  # the connection drops
        time.sleep(0.3)
        for _ in range(2):  # allowed again, each time its predecessor is gone
            third = Conn(server.port, session)
            again = open_get(third)
            assert again.status == 200
            third.close()
            time.sleep(0.3)
    finally:
        server.stop()
