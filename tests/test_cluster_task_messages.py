"""tasks.mdx with `mcprt serve --workers 2`: the messages of a task (its input requests, progress and status)
running in one worker reach the client's tasks/result stream or GET stream on the other worker, and the
client's answers to its input requests reach the task through either worker. Each request is pinned to its
worker by its keep-alive connection."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from tests.cluster_support import ACCEPT, ClusterServer, Conn, conns_by_worker, start_session, stream_lines

pytestmark = pytest.mark.timeout(120)
RELATED = "io.modelcontextprotocol/related-task"


@pytest.fixture(scope="module")
def cluster2():  # type: ignore[no-untyped-def]
    server = ClusterServer(2, "--hang-timeout", "2.0")
    yield server
    assert server.stop() == 0
    assert "Traceback" not in server.log()


def two_per_worker(port: int, session: dict[str, str]) -> tuple[list[Conn], list[Conn]]:
    first, second = conns_by_worker(port, session, 2), conns_by_worker(port, session, 2)
    pids = list(first)
    assert set(second) == set(pids)
    return [first[pids[0]], second[pids[0]]], [first[pids[1]], second[pids[1]]]


def open_stream(conn: Conn, message: dict[str, Any]) -> Any:
    headers = {"Accept": ACCEPT, "Content-Type": "application/json", **conn.session}
    conn.http.request("POST", "/mcp", body=json.dumps(message), headers=headers)
    response = conn.http.getresponse()
    assert response.status == 200
    return (data for _, data in stream_lines(response))


def start_task(conn: Conn, name: str, arguments: dict[str, Any], meta: dict[str, Any] | None = None) -> str:
    params: dict[str, Any] = {"name": name, "arguments": arguments, "task": {"ttl": 60000}}
    if meta:
        params["_meta"] = meta
    status, _, body = conn.post({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": params})
    assert status == 200, body
    return str(json.loads(body)["result"]["task"]["taskId"])


def tasks_result(task_id: str, request_id: int = 2) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "method": "tasks/result", "params": {"taskId": task_id}}


@pytest.mark.parametrize("answer_on", ["stream's worker", "task's worker"])
def test_input_request_on_the_other_workers_tasks_result_stream(
    cluster2: ClusterServer, answer_on: str
) -> None:
    session = start_session(cluster2.port)
    on_a, on_b = two_per_worker(cluster2.port, session)
    task_id = start_task(on_a[0], "confirm_then_sum", {"numbers": [1, 2]})
    stream = open_stream(on_b[0], tasks_result(task_id))
    request = next(m for m in stream if m.get("method") == "elicitation/create")
    assert request["params"]["_meta"][RELATED] == {"taskId": task_id}
    reply = {"jsonrpc": "2.0", "id": request["id"], "result": {"action": "accept", "content": {"ok": True}}}
    answering = on_b[1] if answer_on == "stream's worker" else on_a[1]
    assert answering.post(reply)[0] == 202
    rest = list(stream)
    result = rest[-1]
    assert result["id"] == 2 and result["result"]["content"][0]["text"] == "sum=3", rest
    assert result["result"]["_meta"][RELATED] == {"taskId": task_id}
    statuses = [m["params"]["status"] for m in rest if m.get("method") == "notifications/tasks/status"]
    assert statuses[-1] == "completed", rest  # the last status comes before the result


def test_messages_queued_in_the_tasks_worker_reach_a_later_tasks_result_on_the_other(
    cluster2: ClusterServer,
) -> None:
    session = start_session(cluster2.port)
    on_a, on_b = two_per_worker(cluster2.port, session)
    task_id = start_task(on_a[0], "slow", {"seconds": 1.0}, {"progressToken": "p"})
    time.sleep(0.45)  # no stream anywhere: the first progress notifications wait in the task's worker
    messages = list(open_stream(on_b[0], tasks_result(task_id)))
    progress = [m["params"]["progress"] for m in messages if m.get("method") == "notifications/progress"]
    assert progress == list(range(1, 11)), messages  # every one, queued first, then live, in order
    assert all(
        m["params"]["_meta"][RELATED] == {"taskId": task_id}
        for m in messages
        if m.get("method") == "notifications/progress"
    )
    assert messages[-1]["id"] == 2 and messages[-1]["result"]["content"][0]["text"] == "slept 1.0 s"
    assert messages[-2]["method"] == "notifications/tasks/status", messages
    assert messages[-2]["params"]["status"] == "completed"


def test_messages_of_a_task_that_ended_unwatched_reach_tasks_result_on_the_other_worker(
    cluster2: ClusterServer,
) -> None:
    session = start_session(cluster2.port)
    on_a, on_b = two_per_worker(cluster2.port, session)
    task_id = start_task(on_a[0], "slow", {"seconds": 0.3}, {"progressToken": "q"})
    deadline = time.monotonic() + 10
    get = {"jsonrpc": "2.0", "id": 3, "method": "tasks/get", "params": {"taskId": task_id}}
    while json.loads(on_b[1].post(get)[2])["result"]["status"] != "completed":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    messages = list(open_stream(on_b[0], tasks_result(task_id)))
    progress = [m["params"]["progress"] for m in messages if m.get("method") == "notifications/progress"]
    assert progress == [1, 2, 3], messages  # as with one worker: the queue goes to the tasks/result stream
    assert messages[-1]["id"] == 2 and messages[-1]["result"]["content"][0]["text"] == "slept 0.3 s"


def test_task_messages_reach_the_get_stream_on_the_other_worker(cluster2: ClusterServer) -> None:
    session = start_session(cluster2.port)
    on_a, on_b = two_per_worker(cluster2.port, session)
    on_b[0].http.request("GET", "/mcp", headers={"Accept": "text/event-stream", **session})
    response = on_b[0].http.getresponse()
    assert response.status == 200
    get_stream = (data for _, data in stream_lines(response))
    time.sleep(0.2)  # the GET stream's worker is written to the session's record
    task_id = start_task(on_a[0], "slow", {"seconds": 0.3}, {"progressToken": "g"})
    got = []
    for message in get_stream:
        got.append(message)
        if (
            message.get("method") == "notifications/tasks/status"
            and message["params"]["status"] == "completed"
        ):
            break
    progress = [m["params"]["progress"] for m in got if m.get("method") == "notifications/progress"]
    assert progress == [1, 2, 3], got
    on_b[0].close()
    # Nothing was queued meanwhile: a later tasks/result on either worker has the result only.
    result = json.loads(on_a[1].post(tasks_result(task_id))[2])
    assert result["result"]["content"][0]["text"] == "slept 0.3 s"


def test_a_task_cancelled_through_the_streams_worker_ends_its_tasks_result(cluster2: ClusterServer) -> None:
    session = start_session(cluster2.port)
    on_a, on_b = two_per_worker(cluster2.port, session)
    task_id = start_task(on_a[0], "slow", {"seconds": 30}, {"progressToken": "c"})
    stream = open_stream(on_b[0], tasks_result(task_id))
    assert next(stream)["method"] == "notifications/progress"
    cancel = {"jsonrpc": "2.0", "id": 3, "method": "tasks/cancel", "params": {"taskId": task_id}}
    started = time.monotonic()
    assert json.loads(on_b[1].post(cancel)[2])["result"]["status"] == "cancelled"
    rest = list(stream)
    assert time.monotonic() - started < 5
    assert rest[-1]["id"] == 2 and "error" in rest[-1], rest  # cancelled: no result to give
