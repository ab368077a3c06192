"""A request id is in flight once per session across the workers of `mcprt serve --workers 2` (basic/index.mdx:
ids are not reused within a session; the core refuses a second in-flight request with the same id), with the
two requests pinned to different workers by their keep-alive connections."""

from __future__ import annotations

import http.client
import json
import os
import signal
import threading
import time
from typing import Any

import pytest

from tests.cluster_support import (
    ClusterServer,
    Conn,
    answer,
    conns_by_worker,
    send,
    start_session,
    stream_lines,
)

pytestmark = pytest.mark.timeout(120)
IN_FLIGHT = -32600


@pytest.fixture
def cluster2():  # type: ignore[no-untyped-def]
    server = ClusterServer(2, "--hang-timeout", "1.0")
    yield server
    server.stop()


def slow(request_id: int | str, seconds: float, progress: bool = False) -> dict[str, Any]:
    params: dict[str, Any] = {"name": "slow", "arguments": {"seconds": seconds}}
    if progress:
        params["_meta"] = {"progressToken": f"p-{request_id}"}
    return {"jsonrpc": "2.0", "id": request_id, "method": "tools/call", "params": params}


def echo(request_id: int | str) -> dict[str, Any]:
    params = {"name": "echo", "arguments": {"text": "hi"}}
    return {"jsonrpc": "2.0", "id": request_id, "method": "tools/call", "params": params}


def hold(conn: Conn, request_id: int | str) -> http.client.HTTPResponse:
    """A long request on `conn`'s worker, returned once it runs (its first progress event came)."""
    send(conn, slow(request_id, 30, progress=True))
    response = conn.http.getresponse()
    next(stream_lines(response))
    return response


def refused(reply: dict[str, Any], request_id: int | str) -> bool:
    error = reply.get("error") or {}
    return (
        reply.get("id") == request_id
        and error.get("code") == IN_FLIGHT
        and error.get("message") == f"Request id {request_id!r} is already in flight"
    )


@pytest.mark.parametrize("request_id", [77, "dup-1", "x" * 200])
def test_the_same_id_sent_to_two_workers_at_once_is_served_once(
    cluster2: ClusterServer, request_id: int | str
) -> None:
    session = start_session(cluster2.port)
    conn_a, conn_b = conns_by_worker(cluster2.port, session, 2).values()
    replies: list[dict[str, Any]] = []
    for _ in range(2):  # two rounds: either worker may win each
        # Long enough that the second arrives while the first runs, even on a loaded machine.
        send(conn_a, slow(request_id, 2.0))
        send(conn_b, slow(request_id, 2.0))
        replies = [answer(conn_a), answer(conn_b)]
        served = [r for r in replies if "result" in r]
        assert len(served) == 1 and served[0]["result"]["content"][0]["text"] == "slept 2.0 s", replies
        assert refused(next(r for r in replies if "result" not in r), request_id), replies
        # Once the served one answered, the id is free again, on either worker.
        assert "result" in json.loads(conn_b.post(echo(request_id))[2])
    assert "Traceback" not in cluster2.log()


def test_an_id_in_flight_on_one_worker_is_refused_on_the_other_until_its_worker_dies(
    cluster2: ClusterServer,
) -> None:
    session = start_session(cluster2.port)
    (pid_a, conn_a), (_, conn_b) = conns_by_worker(cluster2.port, session, 2).items()
    held = hold(conn_a, 42)
    # Whatever path the request would take on B: answered at once (ping, the inline echo) or awaiting.
    ping = {"jsonrpc": "2.0", "id": 42, "method": "ping"}
    for message in (ping, echo(42), slow(42, 0.1)):
        assert refused(json.loads(conn_b.post(message)[2]), 42), message
    assert "result" in json.loads(conn_b.post(echo(43))[2])  # other ids are free
    # The worker holding the id dies: the id is free again once the supervisor has seen it go.
    os.kill(pid_a, signal.SIGKILL)
    held.close()
    deadline = time.monotonic() + 15
    while True:
        reply = json.loads(conn_b.post(echo(42))[2])
        if "result" in reply:
            break
        assert refused(reply, 42) and time.monotonic() < deadline, reply
        time.sleep(0.05)
    assert json.loads(conn_b.post(ping)[2]) == {"jsonrpc": "2.0", "id": 42, "result": {}}


def test_the_in_flight_limit_holds_across_workers_and_a_dead_workers_places_come_back() -> None:
    server = ClusterServer(2, "--hang-timeout", "1.0", "--max-inflight", "1")
    try:
        session = start_session(server.port)
        (pid_a, conn_a), (_, conn_b) = conns_by_worker(server.port, session, 2).items()
        held = hold(conn_a, 5)
        # The one place is taken: an awaiting request elsewhere is refused, one answered at once is not.
        reply = json.loads(conn_b.post(slow(6, 0.1))[2])
        assert reply["error"]["code"] == -32603 and "limit 1" in reply["error"]["message"], reply
        assert "result" in json.loads(conn_b.post(echo(7))[2])
        # Its holder dies: the place comes back once the supervisor has seen it go.
        os.kill(pid_a, signal.SIGKILL)
        held.close()
        deadline = time.monotonic() + 15
        while "result" not in (reply := json.loads(conn_b.post(slow(6, 0.1))[2])):
            assert reply["error"]["code"] == -32603 and time.monotonic() < deadline, reply
            time.sleep(0.05)
        assert reply["result"]["content"][0]["text"] == "slept 0.1 s"
    finally:
        assert server.stop() == 0


def race(conn: Conn, request_id: int, barrier: threading.Barrier, replies: list[dict[str, Any]]) -> None:
    barrier.wait()
    send(conn, slow(request_id, 2.0))
    replies.append(answer(conn))


def test_concurrent_duplicates_from_many_threads_are_served_once_each(cluster2: ClusterServer) -> None:
    """Four connections over both workers send the same ids at the same moments: each id is served once per
    round, whichever connections win."""
    session = start_session(cluster2.port)
    conns = list(conns_by_worker(cluster2.port, session, 2).values())
    conns += [Conn(cluster2.port, session) for _ in range(2)]
    for round_id in range(100, 103):
        barrier = threading.Barrier(len(conns))
        replies: list[dict[str, Any]] = []

        threads = [threading.Thread(target=race, args=(conn, round_id, barrier, replies)) for conn in conns]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        served = [r for r in replies if "result" in r]
        assert len(served) == 1, replies
        assert all(refused(r, round_id) for r in replies if "result" not in r), replies


def test_plain_awaiting_tools_claim_their_id_too() -> None:
    """A tool with no Context that awaits, read by the fast decoder, runs in the runner as a task: its claim
    of the id holds across workers like the normal path's."""
    server = ClusterServer(2, "tests/apps/waits.py:server", "--hang-timeout", "2.0")
    try:
        session = start_session(server.port)
        conn_a, conn_b = conns_by_worker(server.port, session, 2).values()
        nap = {"jsonrpc": "2.0", "id": 9, "method": "tools/call", "params": {"name": "nap"}}
        for _ in range(2):
            send(conn_a, {**nap, "params": {"name": "nap", "arguments": {"seconds": 2.0}}})
            send(conn_b, {**nap, "params": {"name": "nap", "arguments": {"seconds": 2.0}}})
            replies = [answer(conn_a), answer(conn_b)]
            assert [r["result"]["content"][0]["text"] for r in replies if "result" in r] == ["napped 2.0 s"]
            assert refused(next(r for r in replies if "result" not in r), 9), replies
    finally:
        assert server.stop() == 0
