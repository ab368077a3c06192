"""The multi-process runtime with real processes and signals: `mcprt serve --workers N` keeps full
stateful sessions across workers (no sticky load balancing), survives kill -9 and SIGSTOP of a worker,
and restarts its workers one by one on SIGHUP without failing requests."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tests.cluster_support import (
    ACCEPT,
    INIT,
    ClusterServer,
    Conn,
    conns_by_worker,
    sse_data,
    start_session,
    stream_lines,
)

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def cluster2():  # type: ignore[no-untyped-def]
    server = ClusterServer(2, "--hang-timeout", "1.0")
    yield server
    server.stop()


def open_post(conn: Conn, message: dict[str, Any]) -> http.client.HTTPResponse:
    headers = {"Accept": ACCEPT, "Content-Type": "application/json", **conn.session}
    conn.http.request("POST", "/mcp", body=json.dumps(message), headers=headers)
    return conn.http.getresponse()


@pytest.mark.parametrize("workers", [2, 4])
def test_any_worker_serves_any_session(workers: int) -> None:
    server = ClusterServer(workers, "--no-pin")
    try:
        session = start_session(server.port)
        conns = conns_by_worker(server.port, session, workers)
        assert len(conns) == workers, "SO_REUSEPORT should spread connections over every worker"
        for conn in conns.values():
            assert conn.call("echo", {"text": "hi"})["result"]["content"][0]["text"] == "hi"
        # Session state set through one worker holds on the others: the log level filters messages.
        first, *others = conns.values()
        assert (
            first.post(
                {"jsonrpc": "2.0", "id": 1, "method": "logging/setLevel", "params": {"level": "error"}}
            )[0]
            == 200
        )
        for conn in others:
            status, _, body = conn.post(
                {
                    "jsonrpc": "2.0",
                    "id": 2,
                    "method": "tools/call",
                    "params": {"name": "test_tool_with_logging"},
                }
            )
            assert status == 200 and b"notifications/message" not in body
        # An unknown session is 404 on every worker; DELETE through one ends it for all.
        for _ in conns:
            stranger = Conn(server.port, {**session, "Mcp-Session-Id": "f" * 32})
            assert stranger.post({"jsonrpc": "2.0", "id": 3, "method": "ping"})[0] == 404
        first.http.request("DELETE", "/mcp", headers=session)
        assert first.http.getresponse().status == 200
        first.http.close()
        for conn in others:
            assert conn.post({"jsonrpc": "2.0", "id": 4, "method": "ping"})[0] == 404
    finally:
        assert server.stop() == 0
    assert "Traceback" not in server.log()


CLIENT_REQUESTS = {
    "sampling": (
        "test_sampling",
        {"prompt": "hi"},
        "sampling/createMessage",
        {"role": "assistant", "content": {"type": "text", "text": "from B"}, "model": "m"},
        "LLM response: from B",
    ),
    "elicitation": (
        "test_elicitation",
        {"message": "who?"},
        "elicitation/create",
        {"action": "accept", "content": {"username": "ada", "email": "ada@example.com"}},
        "ada",
    ),
    "roots": ("list_roots", {}, "roots/list", {"roots": [{"uri": "file:///from-b"}]}, "file:///from-b"),
}


@pytest.mark.parametrize("kind", list(CLIENT_REQUESTS))
def test_client_answer_lands_on_another_worker(cluster2: ClusterServer, kind: str) -> None:
    tool, arguments, method, answer_result, expected = CLIENT_REQUESTS[kind]
    session = start_session(cluster2.port)
    conns = conns_by_worker(cluster2.port, session, 2)
    (pid_a, conn_a), (pid_b, conn_b) = conns.items()
    call = {
        "jsonrpc": "2.0",
        "id": 7,
        "method": "tools/call",
        "params": {"name": tool, "arguments": arguments},
    }
    response = open_post(conn_a, call)
    events = stream_lines(response)
    request = next(data for _, data in events if data.get("method") == method)
    assert request["id"] % 64 in range(4)  # the id names the worker waiting for the answer
    answer = {"jsonrpc": "2.0", "id": request["id"], "result": answer_result}
    status, _, _ = conn_b.post(answer)  # the answer arrives through the other worker
    assert status == 202
    result = next(data for _, data in events if data.get("id") == 7)
    assert expected in result["result"]["content"][0]["text"], result
    assert list(events) == []  # the stream ends with the result
    assert conn_a.pid() == pid_a and conn_b.pid() == pid_b


def test_answers_to_ids_no_worker_made_are_accepted_and_dropped(cluster2: ClusterServer) -> None:
    """A client's answer naming a slot no worker has (id % 64 beyond the slots), or an id no worker could
    have made, is accepted (202) and dropped, on every worker: not a 500 from a missing ring."""
    session = start_session(cluster2.port)
    conns = conns_by_worker(cluster2.port, session, 2)
    ids: list[Any] = [766, 62, 63 + 64 * 5, 2**63 - 1, 2**63, -1, "x"]
    for conn in conns.values():
        for request_id in ids:
            answers = [
                {"jsonrpc": "2.0", "id": request_id, "error": {"code": -1, "message": "no"}},
                {"jsonrpc": "2.0", "id": request_id, "result": {}},
            ]
            for answer in answers:
                status, _, body = conn.post(answer)
                assert status == 202, (request_id, status, body)
        status, _, body = conn.post({"jsonrpc": "2.0", "id": 9, "method": "ping"})
        assert status == 200 and b'"result"' in body, body  # the worker still serves the session
    assert "Traceback" not in cluster2.log(), cluster2.log()


def test_notifications_reach_the_get_stream_on_another_worker_once(cluster2: ClusterServer) -> None:
    session = start_session(cluster2.port)
    conns = conns_by_worker(cluster2.port, session, 2)
    conn_a, conn_b = conns.values()
    conn_a.post(
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "resources/subscribe",
            "params": {"uri": "test://watched-resource"},
        }
    )
    conn_a.http.request("GET", "/mcp", headers={"Accept": "text/event-stream", **session})
    stream = conn_a.http.getresponse()
    assert stream.status == 200
    received: list[dict[str, Any]] = []

    def read() -> None:
        for _, data in stream_lines(stream):
            received.append(data)

    threading.Thread(target=read, daemon=True).start()
    time.sleep(0.2)
    told = conn_b.call("touch_watched_resource")["result"]["content"][0]["text"]
    assert told == "told 0 session(s) in this process"  # worker B does not hold the stream ...
    deadline = time.monotonic() + 5
    while not received and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.3)  # ... and worker A delivers it exactly once
    updates = [m for m in received if m.get("method") == "notifications/resources/updated"]
    assert updates == [
        {
            "jsonrpc": "2.0",
            "method": "notifications/resources/updated",
            "params": {"uri": "test://watched-resource"},
        }
    ]


def test_two_get_streams_on_two_workers_get_each_message_once(cluster2: ClusterServer) -> None:
    session = start_session(cluster2.port)
    conns = conns_by_worker(cluster2.port, session, 2)
    conn_a, conn_b = conns.values()
    conn_a.post(
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "resources/subscribe",
            "params": {"uri": "test://watched-resource"},
        }
    )
    received: dict[str, list[dict[str, Any]]] = {"a": [], "b": []}
    for name, conn in (("a", conn_a), ("b", conn_b)):  # the spec lets a client hold several GET streams
        conn.http.request("GET", "/mcp", headers={"Accept": "text/event-stream", **session})
        stream = conn.http.getresponse()
        assert stream.status == 200

        def read(
            stream: http.client.HTTPResponse = stream, into: list[dict[str, Any]] = received[name]
        ) -> None:
            for _, data in stream_lines(stream):
                into.append(data)

        threading.Thread(target=read, daemon=True).start()
        time.sleep(0.2)
    other = Conn(cluster2.port, session)
    for _ in range(3):
        other.call("touch_watched_resource")
    time.sleep(0.5)
    updates = {
        name: [m for m in got if m.get("method") == "notifications/resources/updated"]
        for name, got in received.items()
    }
    assert len(updates["a"]) + len(updates["b"]) == 3, updates  # each message on one stream only
    assert updates["b"] and not updates["a"]  # the newest GET stream carries them


def test_tasks_and_cancellation_across_workers(cluster2: ClusterServer) -> None:
    session = start_session(cluster2.port)
    conns = conns_by_worker(cluster2.port, session, 2)
    conn_a, conn_b = conns.values()
    create = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {"name": "slow", "arguments": {"seconds": 0.3}, "task": {"ttl": 60000}},
    }
    _, _, body = conn_a.post(create)
    task_id = json.loads(body)["result"]["task"]["taskId"]
    got = json.loads(
        conn_b.post({"jsonrpc": "2.0", "id": 2, "method": "tasks/get", "params": {"taskId": task_id}})[2]
    )
    assert got["result"]["taskId"] == task_id
    # The task's status notifications come on the tasks/result stream (SSE) before its result.
    _, _, body = conn_b.post(
        {"jsonrpc": "2.0", "id": 3, "method": "tasks/result", "params": {"taskId": task_id}}
    )
    result = json.loads(body if body.startswith(b"{") else [e for e in sse_data(body) if b'"id":3' in e][-1])
    assert result["result"]["content"][0]["text"] == "slept 0.3 s"
    # tasks/cancel through B stops the work running in A.
    long = {**create, "id": 4, "params": {**create["params"], "arguments": {"seconds": 30}}}
    task_id = json.loads(conn_a.post(long)[2])["result"]["task"]["taskId"]
    cancelled = json.loads(
        conn_b.post({"jsonrpc": "2.0", "id": 5, "method": "tasks/cancel", "params": {"taskId": task_id}})[2]
    )
    assert cancelled["result"]["status"] == "cancelled"
    listed = json.loads(conn_a.post({"jsonrpc": "2.0", "id": 6, "method": "tasks/list"})[2])
    assert {t["taskId"]: t["status"] for t in listed["result"]["tasks"]}[task_id] == "cancelled"
    # notifications/cancelled through B cancels a request running in A: A answers nothing more.
    response = open_post(
        conn_a,
        {
            "jsonrpc": "2.0",
            "id": 8,
            "method": "tools/call",
            "params": {"name": "slow", "arguments": {"seconds": 30}, "_meta": {"progressToken": 8}},
        },
    )
    events = stream_lines(response)
    next(events)  # the stream is running
    conn_b.post(
        {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 8, "reason": "test"}}
    )
    started = time.monotonic()
    rest = [data for _, data in events]
    assert time.monotonic() - started < 5 and not any(m.get("id") == 8 for m in rest)


def test_kill_9_worker_is_replaced_and_nothing_is_lost(cluster2: ClusterServer) -> None:
    session = start_session(cluster2.port)
    conns = conns_by_worker(cluster2.port, session, 2)
    (victim_pid, victim), (survivor_pid, _) = conns.items()
    # A streaming request on the victim: remember the last event id seen before the kill.
    response = open_post(
        victim,
        {
            "jsonrpc": "2.0",
            "id": 9,
            "method": "tools/call",
            "params": {"name": "slow", "arguments": {"seconds": 30}, "_meta": {"progressToken": "p"}},
        },
    )
    events = stream_lines(response)
    seen = [next(events) for _ in range(3)]
    first_id = seen[0][0]
    failures: list[BaseException] = []
    stop = threading.Event()

    def load() -> None:  # the survivor's requests must never fail
        conn = Conn(cluster2.port, session)
        while conn.pid() != survivor_pid:
            conn.close()
            conn = Conn(cluster2.port, session)
        while not stop.is_set():
            try:
                assert conn.call("echo", {"text": "x"})["result"]["content"][0]["text"] == "x"
            except BaseException as exc:  # any failure is the test's failure
                failures.append(exc)
                return

    thread = threading.Thread(target=load)
    thread.start()
    time.sleep(0.2)
    mark = len(cluster2.lines)
    killed_at = time.monotonic()
    os.kill(victim_pid, signal.SIGKILL)
    restarted = cluster2.wait_for_log(r"worker \d+ \(pid \d+\) started", timeout=5, after=mark)
    assert restarted and time.monotonic() - killed_at < 1.0, cluster2.log()
    time.sleep(0.5)
    stop.set()
    thread.join()
    assert failures == []
    # The session lives on, through any worker; the stream resumes through a live worker from the store.
    fresh = Conn(cluster2.port, session)
    assert fresh.call("echo", {"text": "after"})["result"]["content"][0]["text"] == "after"
    fresh.http.request(
        "GET", "/mcp", headers={"Accept": "text/event-stream", "Last-Event-ID": first_id, **session}
    )
    replay = fresh.http.getresponse()
    assert replay.status == 200
    replayed = [data for _, data in stream_lines(replay)]
    progress = [m["params"]["progress"] for m in replayed if m.get("method") == "notifications/progress"]
    assert progress[:2] == [seen[1][1]["params"]["progress"], seen[2][1]["params"]["progress"]]
    assert progress == sorted(progress) and len(progress) >= 2


def test_hung_worker_is_detected_and_replaced(cluster2: ClusterServer) -> None:
    session = start_session(cluster2.port)
    conns = conns_by_worker(cluster2.port, session, 2)
    victim = next(iter(conns))
    mark = len(cluster2.lines)
    os.kill(victim, signal.SIGSTOP)
    try:
        hung = cluster2.wait_for_log(rf"worker \d+ \(pid {victim}\) hung", timeout=5, after=mark)
        assert hung, cluster2.log()
        assert cluster2.wait_for_log(r"worker \d+ \(pid \d+\) started", timeout=5, after=mark)
    finally:
        with contextlib.suppress(ProcessLookupError):  # killed by the supervisor, as it should be
            os.kill(victim, signal.SIGCONT)
    deadline = time.monotonic() + 15
    fresh = conns_by_worker(cluster2.port, session, 2)
    while len(fresh) < 2 and time.monotonic() < deadline:  # the replacement is still starting
        time.sleep(0.2)
        fresh = conns_by_worker(cluster2.port, session, 2)
    assert victim not in fresh and len(fresh) == 2


def test_rolling_restart_fails_no_request(cluster2: ClusterServer) -> None:
    session = start_session(cluster2.port)
    before = set(conns_by_worker(cluster2.port, session, 2))
    failures: list[BaseException] = []
    done = 0
    stop = threading.Event()

    def load() -> None:
        nonlocal done
        while not stop.is_set():
            conn = Conn(cluster2.port, session)  # a new connection each time: new workers get traffic
            for attempt in range(2):
                try:
                    assert conn.call("echo", {"text": "r"})["result"]["content"][0]["text"] == "r"
                    done += 1
                    break
                except (ConnectionError, http.client.RemoteDisconnected) as exc:
                    # A connection the old worker accepted but closed before reading it: retried once
                    # on a new connection, as HTTP clients do when no response byte was received.
                    if attempt == 1:
                        failures.append(exc)
                    conn = Conn(cluster2.port, session)
                except BaseException as exc:
                    failures.append(exc)
                    break
            conn.close()

    threads = [threading.Thread(target=load) for _ in range(4)]
    for thread in threads:
        thread.start()
    mark = len(cluster2.lines)
    os.kill(cluster2.process.pid, signal.SIGHUP)
    assert cluster2.wait_for_log("rolling restart done", timeout=60, after=mark), cluster2.log()
    time.sleep(0.3)
    stop.set()
    for thread in threads:
        thread.join()
    assert failures == [] and done > 50
    after = set(conns_by_worker(cluster2.port, session, 2))
    assert len(after) == 2 and not after & before


def test_segments_are_private_and_cleaned_up() -> None:
    server = ClusterServer(2)
    prefix = f"mcprt-{os.getuid()}-{server.port}"
    try:
        segments = [p for p in Path("/dev/shm").iterdir() if p.name.startswith(prefix)]
        assert len(segments) >= 4 + 4  # sessions, tasks, events, workers + a ring per slot
        assert all(p.stat().st_mode & 0o777 == 0o600 for p in segments)
        status = __import__("subprocess").run(
            [__import__("sys").executable, "-m", "runtime", "status", "--http", f"127.0.0.1:{server.port}"],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert status.returncode == 0 and status.stdout.count("True") == 2, status.stdout
    finally:
        assert server.stop() == 0
    assert not [p for p in Path("/dev/shm").iterdir() if p.name.startswith(prefix)]
    assert "stopped (exit code 0)" in server.log()


def test_official_sdk_client_on_two_workers(cluster2: ClusterServer) -> None:
    import asyncio

    from mcp import ClientSession, types
    from mcp.client.streamable_http import streamable_http_client

    async def sampling(context: Any, params: types.CreateMessageRequestParams) -> types.CreateMessageResult:
        return types.CreateMessageResult(
            role="assistant", content=types.TextContent(type="text", text="ok"), model="m"
        )

    async def tour() -> None:
        async with (
            streamable_http_client(cluster2.url) as streams,
            ClientSession(streams[0], streams[1], sampling_callback=sampling) as session,
        ):
            await session.initialize()
            pids = set()
            for _ in range(10):
                results = await asyncio.gather(*[session.call_tool("worker_info", {}) for _ in range(4)])
                pids |= {r.structured_content["pid"] for r in results}
                sampled = await session.call_tool("test_sampling", {"prompt": "p"})
                assert sampled.content[0].text == "LLM response: ok"
            assert len(pids) == 2  # the SDK's pooled connections reached both workers, one session

    asyncio.run(tour())


def test_session_limits_hold_across_workers() -> None:
    server = ClusterServer(2, "--max-sessions", "3", "--session-record-bytes", "1K")
    try:
        big = {**INIT, "params": {**INIT["params"], "clientInfo": {"name": "x" * 2000, "version": "1"}}}
        status, _, body = Conn(server.port).post(big)
        assert status == 400 and b"exceeds the limit (1024)" in body, body
        for _ in range(3):
            start_session(server.port)
        for _ in range(4):  # whichever worker a connection reaches, the cap is the cluster's
            status, headers, body = Conn(server.port).post(INIT)
            assert status == 503 and headers["retry-after"] == "5", body
    finally:
        assert server.stop() == 0
    assert "Traceback" not in server.log()
