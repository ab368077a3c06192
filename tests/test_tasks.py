"""Tasks (2025-11-25, experimental): task-augmented tools/call, get/result/list/cancel, input_required,
session binding, status rules; over stdio and HTTP."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from runtime import Client, McpError
from runtime.tasks import TaskRecord, TaskRunner

pytestmark = pytest.mark.timeout(60)


async def test_task_lifecycle(target: Any) -> None:
    statuses: list[str] = []

    def on_notification(method: str, params: Any) -> None:
        if method == "notifications/tasks/status":
            statuses.append(params["status"])

    async with Client(target, on_notification=on_notification) as client:
        caps = client.server_capabilities
        assert caps is not None and caps.tasks is not None
        task = await client.start_tool_task("slow", {"seconds": 0.3}, ttl_ms=60_000)
        assert task.status == "working" and task.ttl == 60_000 and task.poll_interval
        assert (await client.get_task(task.task_id)).status in ("working", "completed")
        result = await client.task_result(task.task_id)  # blocks until done
        assert result.content[0].text == "slept 0.3 s"
        assert result.meta == {"io.modelcontextprotocol/related-task": {"taskId": task.task_id}}
        done = await client.get_task(task.task_id)
        assert done.status == "completed" and done.last_updated_at >= done.created_at
        assert [t.task_id for t in await client.list_tasks()] == [task.task_id]
        with pytest.raises(McpError) as terminal:
            await client.cancel_task(task.task_id)
        assert terminal.value.code == -32602
        await asyncio.sleep(0.1)
        assert statuses[-1] == "completed"


async def test_cancel_and_unknown_tasks(target: Any) -> None:
    async with Client(target) as client:
        task = await client.start_tool_task("slow", {"seconds": 5})
        cancelled = await client.cancel_task(task.task_id)
        assert cancelled.status == "cancelled"
        assert (await client.get_task(task.task_id)).status == "cancelled"
        for call in (client.get_task, client.task_result, client.cancel_task):
            with pytest.raises(McpError) as unknown:
                await call("no-such-task")
            assert unknown.value.code == -32602


async def test_task_support_rules(target: Any) -> None:
    async with Client(target) as client:
        with pytest.raises(McpError) as forbidden:
            await client.start_tool_task("echo", {"text": "x"})
        assert forbidden.value.code == -32601
        with pytest.raises(McpError) as required:
            await client.call_tool("confirm_then_sum", {"numbers": [1, 2]})
        assert required.value.code == -32601
        tools = {tool.name: tool for tool in await client.list_tools()}
        assert tools["slow"].execution is not None and tools["slow"].execution.task_support == "optional"


async def test_input_required_while_eliciting(target: Any) -> None:
    seen: dict[str, Any] = {}

    async def elicit(params: dict[str, Any]) -> dict[str, Any]:
        seen["meta"] = params.get("_meta")
        seen["status"] = (
            await client.get_task(params["_meta"]["io.modelcontextprotocol/related-task"]["taskId"])
        ).status
        return {"action": "accept", "content": {"ok": True}}

    async with Client(target, elicitation_handler=elicit) as client:
        result = await client.call_tool_as_task("confirm_then_sum", {"numbers": [1, 2, 3.5]})
        assert result.content[0].text == "sum=6.5"
        assert seen["status"] == "input_required"
        assert "io.modelcontextprotocol/related-task" in seen["meta"]


async def test_failed_tool_fails_the_task(target: Any) -> None:
    async def refuse(params: dict[str, Any]) -> dict[str, Any]:
        return {"action": "decline"}

    async with Client(target, elicitation_handler=refuse) as client:
        task = await client.start_tool_task("confirm_then_sum", {"numbers": [1]})
        result = await client.task_result(task.task_id)
        assert result.is_error
        failed = await client.get_task(task.task_id)
        assert failed.status == "failed" and failed.status_message


async def test_tasks_are_bound_to_their_session(http_server: Any) -> None:
    async with Client(http_server.url) as owner, Client(http_server.url) as other:
        task = await owner.start_tool_task("slow", {"seconds": 0.1})
        with pytest.raises(McpError):
            await other.get_task(task.task_id)
        assert await other.list_tasks() == []


async def test_status_transitions_are_enforced() -> None:
    runner = TaskRunner()
    record = runner.create("me", None)
    runner.transition(record, "input_required")
    runner.transition(record, "working")
    runner.transition(record, "completed")
    for illegal in ("working", "failed", "cancelled"):
        with pytest.raises(McpError):
            runner.transition(record, illegal)
    assert isinstance(runner.store.get(record.task_id), TaskRecord)
    capped = runner.create("me", 10**12)
    assert capped.ttl_ms == runner.max_ttl_ms
