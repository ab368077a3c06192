"""The tasks extension of MCP 2026-07-28 (io.modelcontextprotocol/tasks) against a real `mcprt serve` of the
everything example: server-decided tasks, tasks/get, tasks/update, tasks/cancel, gating, and the same over
two worker processes."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from runtime.protocol import jsonrpc as rpc
from tests.cluster_support import ClusterServer
from tests.conftest import RunningServer
from tests.test_modern_http import META, post

EXTENSION = "io.modelcontextprotocol/tasks"
WITH = {
    **META,
    "io.modelcontextprotocol/clientCapabilities": {"elicitation": {}, "extensions": {EXTENSION: {}}},
}
TERMINAL = ("completed", "failed", "cancelled")


@pytest.fixture(scope="module")
def server() -> Iterator[RunningServer]:
    running = RunningServer()
    yield running
    running.stop()


def call(port: int, name: str, arguments: dict[str, Any] | None = None, meta: dict[str, Any] = WITH) -> Any:
    return post(port, "tools/call", {"name": name, "arguments": arguments or {}}, meta=meta)


def task(port: int, method: str, task_id: str, meta: dict[str, Any] = WITH, **params: Any) -> Any:
    return post(port, method, {"taskId": task_id, **params}, meta=meta, headers={"Mcp-Name": task_id})


def until(port: int, task_id: str, statuses: tuple[str, ...] = TERMINAL) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while True:
        detailed: dict[str, Any] = task(port, "tasks/get", task_id).json["result"]
        if detailed["status"] in statuses or time.monotonic() > deadline:
            return detailed
        time.sleep(0.05)


def test_discover_offers_the_extension_not_core_tasks(server: RunningServer) -> None:
    capabilities = post(server.port, "server/discover").json["result"]["capabilities"]
    assert capabilities["extensions"][EXTENSION] == {} and "tasks" not in capabilities


def test_a_task_supporting_tool_becomes_a_task_only_with_the_extension(server: RunningServer) -> None:
    plain = call(server.port, "slow_compute", {"seconds": 0}, meta=META).json["result"]
    assert plain["resultType"] == "complete" and "taskId" not in plain
    created = call(server.port, "slow_compute", {"seconds": 0.3, "label": "x"}).json["result"]
    assert created["resultType"] == "task" and created["status"] == "working"
    assert isinstance(created["ttlMs"], int) and isinstance(created["pollIntervalMs"], int)
    for absent in ("task", "ttl", "pollInterval", "requestState", "result", "inputRequests"):
        assert absent not in created
    done = until(server.port, created["taskId"])
    assert done["status"] == "completed" and done["resultType"] == "complete"
    assert done["result"]["content"][0]["text"] == "computed x in 0.3 s"
    assert "io.modelcontextprotocol/related-task" not in (done["result"].get("_meta") or {})
    assert call(server.port, "greet", {"name": "Ada"}).json["result"]["content"][0]["text"] == "Hello, Ada!"


def test_tool_errors_complete_and_protocol_errors_fail(server: RunningServer) -> None:
    failing = until(server.port, call(server.port, "failing_job").json["result"]["taskId"])
    assert failing["status"] == "completed" and failing["result"]["isError"] is True
    broken = until(server.port, call(server.port, "protocol_error_job").json["result"]["taskId"])
    assert broken["status"] == "failed" and broken["error"]["code"] == -32603 and "result" not in broken


def test_without_the_extension_tasks_are_refused(server: RunningServer) -> None:
    required = call(server.port, "failing_job", meta=META)
    assert required.status == 400
    error = required.json["error"]
    assert error["code"] == rpc.MISSING_CLIENT_CAPABILITY
    assert error["data"] == {"requiredCapabilities": {"extensions": {EXTENSION: {}}}}
    for method in ("tasks/get", "tasks/cancel"):
        assert (
            task(server.port, method, "any", meta=META).json["error"]["code"] == rpc.MISSING_CLIENT_CAPABILITY
        )
    assert task(server.port, "tasks/get", "unknown").json["error"]["code"] == rpc.INVALID_PARAMS
    assert post(server.port, "tasks/result", {"taskId": "x"}, meta=WITH).status == 404
    missing_name = post(server.port, "tasks/get", {"taskId": "x"}, meta=WITH)  # no Mcp-Name header
    assert missing_name.status == 400 and missing_name.json["error"]["code"] == rpc.HEADER_MISMATCH


def test_cancel_acks_and_is_idempotent(server: RunningServer) -> None:
    task_id = call(server.port, "slow_compute", {"seconds": 60}).json["result"]["taskId"]
    for _ in range(2):
        ack = task(server.port, "tasks/cancel", task_id).json["result"]
        assert ack["resultType"] == "complete" and not {"taskId", "status", "result"} & ack.keys()
    assert until(server.port, task_id)["status"] == "cancelled"


def test_input_requests_wait_for_tasks_update(server: RunningServer) -> None:
    task_id = call(server.port, "multi_input").json["result"]["taskId"]
    waiting = until(server.port, task_id, ("input_required",))
    assert set(waiting["inputRequests"]) == {"first", "second"}
    assert waiting["inputRequests"]["first"]["method"] == "elicitation/create"
    answer = {"action": "accept", "content": {"name": "Ada"}}
    ack = task(server.port, "tasks/update", task_id, inputResponses={"first": answer}).json["result"]
    assert ack == {"resultType": "complete", **{k: ack[k] for k in ack if k == "_meta"}}
    partial = task(server.port, "tasks/get", task_id).json["result"]
    assert partial["status"] == "input_required" and list(partial["inputRequests"]) == ["second"]
    task(
        server.port, "tasks/update", task_id, inputResponses={"second": {**answer, "content": {"name": "Bo"}}}
    )
    assert until(server.port, task_id)["result"]["content"][0]["text"] == "Ada and Bo"


def test_input_first_then_a_task(server: RunningServer) -> None:
    """defer_task: the call gathers input in multi round-trip rounds, then ctx.start_task() makes it a task."""
    first = call(server.port, "test_tool_with_task").json["result"]
    assert first["resultType"] == "input_required" and "taskId" not in first
    answer = {"user_name": {"action": "accept", "content": {"name": "Alice"}}}
    created = post(
        server.port,
        "tools/call",
        {
            "name": "test_tool_with_task",
            "arguments": {},
            "inputResponses": answer,
            "requestState": first["requestState"],
        },
        meta=WITH,
    ).json["result"]
    assert created["resultType"] == "task" and "requestState" not in created
    assert "Alice" in until(server.port, created["taskId"])["result"]["content"][0]["text"]


def test_tasks_work_across_two_workers() -> None:
    """Each request on a fresh connection (SO_REUSEPORT spreads them): tasks/get reads the shared record and
    tasks/update reaches the worker running the task."""
    cluster = ClusterServer(2)
    try:
        for _ in range(4):
            task_id = call(cluster.port, "confirm_delete", {"filename": "f.txt"}).json["result"]["taskId"]
            waiting = until(cluster.port, task_id, ("input_required",))
            (key,) = waiting["inputRequests"]
            answer = {key: {"action": "accept", "content": {"confirm": True}}}
            task(cluster.port, "tasks/update", task_id, inputResponses=answer)
            assert until(cluster.port, task_id)["result"]["content"][0]["text"] == "deleted f.txt"
    finally:
        cluster.stop()
