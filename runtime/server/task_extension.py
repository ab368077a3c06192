"""The tasks extension of MCP 2026-07-28 (`io.modelcontextprotocol/tasks`, SEP-2663), for modern requests.

The server decides: a `tools/call` of a tool registered with task support, from a request whose
clientCapabilities declare the extension, answers at once with a flat CreateTaskResult
(`resultType: "task"`) and runs as a task; without the extension an optional one runs as a plain call and a
required one is -32021. `tasks/get` returns the task with its result or error inlined once it has ended,
and, while it waits on the client, its `inputRequests`; `tasks/update` delivers `inputResponses` (any
subset); `tasks/cancel` answers an empty ack, also for an ended task. There is no `tasks/result` or
`tasks/list` (-32601).

Tasks are the same `TaskRunner` records as 2025-11-25 tasks (shared by every worker of a supervisor), owned
by the caller's principal (tasks have no session to be bound to here; their ids are 128 random bits). An
input request of a running task is stored in its record; a tasks/update reaching another worker is relayed
to the one running it.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import msgspec

from runtime.protocol import jsonrpc as rpc
from runtime.protocol.core import Route
from runtime.protocol.jsonrpc import McpError
from runtime.server.runner import Then
from runtime.server.tools import ArgumentsInvalid
from runtime.stores.tasks import TaskRecord
from runtime.tasks import TERMINAL

if TYPE_CHECKING:
    from runtime.server.app import Server
    from runtime.server.context import Context

EXTENSION = "io.modelcontextprotocol/tasks"
_REQUIRED: dict[str, Any] = {"requiredCapabilities": {"extensions": {EXTENSION: {}}}}


def declared(ctx: Context) -> bool:
    extensions = ctx.client_capabilities.get("extensions")
    return isinstance(extensions, dict) and EXTENSION in extensions


def _owner(ctx: Context) -> str:
    return "ext:" + getattr(ctx._session, "principal", "")


class TaskExtension:
    __slots__ = ("_waiting", "server")

    def __init__(self, server: Server) -> None:
        self.server = server
        # Input requests of tasks running here: task id -> key -> the future its handler awaits.
        self._waiting: dict[str, dict[str, asyncio.Future[Any]]] = {}

    def routes(self) -> dict[str, Route]:
        return {
            "tools/call": Route("tools/call", "tools", self.call_tool),
            "tasks/get": Route("tasks/get", None, self.get),
            "tasks/update": Route("tasks/update", None, self.update),
            "tasks/cancel": Route("tasks/cancel", None, self.cancel),
        }

    # -- tools/call ------------------------------------------------------------------------------------------

    def call_tool(self, ctx: Context, params: Any) -> Any:
        server = self.server
        if params.task is not None:  # a 2025-11-25 `task` hint: tolerated, never heeded (the server decides)
            params = msgspec.structs.replace(params, task=None)
        tool = server._tools.get(params.name)
        if tool is None or tool.task_support == "forbidden":
            return server._call_tool(ctx, params)
        if not declared(ctx):
            if tool.task_support == "required":
                message = f"Tool {tool.name!r} runs as a task: declare the {EXTENSION} extension"
                raise McpError(rpc.MISSING_CLIENT_CAPABILITY, message, _REQUIRED)
            return server._call_tool(ctx, params)
        if tool.defer_task:  # a plain request until its handler calls ctx.start_task()
            return server._call_tool(ctx, params)
        arguments = params.arguments if params.arguments is not None else {}
        try:
            kwargs = tool.bind(arguments)
        except ArgumentsInvalid as exc:
            return tool.invalid_arguments(exc)
        record = server.tasks.create(_owner(ctx), None)
        # A task's progress and logs have no response stream to go on: tasks/get is polled.
        task_ctx = msgspec.structs.replace(ctx, _task_id=record.task_id, _out=_Nowhere(), _task=None)
        convert = tool.results[ctx._session.revision.version]
        work = Then(server._start_tool(task_ctx, tool, kwargs), convert, tool.error_result)
        server.tasks.start(record, work, tool_errors_fail=False)
        return {"resultType": "task", **_task(record)}

    def detach(self, ctx: Context) -> None:
        """`ctx.start_task()`: answer the request now with a CreateTaskResult; the handler goes on as the
        task's body (the runner records its outcome in the task, see `settled`)."""
        server = self.server
        record = server.tasks.create(_owner(ctx), None)
        call = ctx._call
        assert call is not None
        ctx._out.finish(ctx._session.result(call, {"resultType": "task", **_task(record)}))
        ctx._task_id = record.task_id
        ctx._detached = True
        ctx._out = _Nowhere()
        if ctx._task is not None:
            server.tasks.adopt(record.task_id, ctx._task)

    def settled(self, ctx: Context, result: Any, error: rpc.McpError | None) -> None:
        """How a detached handler ended, recorded in its task (a tool's isError result completes it)."""
        task_id = ctx._task_id
        assert task_id is not None
        runner = self.server.tasks
        if error is not None:
            failure = rpc.ErrorBody(error.code, error.message, error.data)
            runner.finish(task_id, None, failure, "failed", error.message)
            return
        body = result if type(result) is bytes else rpc.encode(result)
        runner.finish(task_id, body, None, "completed", None)

    # -- a task's input requests ---------------------------------------------------------------------------

    async def ask(self, ctx: Context, key: str, method: str, params: dict[str, Any] | None) -> Any:
        """A running task's request to the client: stored in its record (tasks/get shows it) until a
        tasks/update answers it."""
        task_id = ctx._task_id
        assert task_id is not None
        runner = self.server.tasks
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(task_id, {})[key] = future
        record = runner.store.get(task_id)
        if record is None or record.status in TERMINAL:
            raise asyncio.CancelledError
        asked = {"method": method, "params": params or {}}
        record.input_requests = {**(record.input_requests or {}), key: asked}
        runner.store.put(record)
        runner.set_status(task_id, "input_required")
        try:
            return await future
        finally:
            waiting = self._waiting.get(task_id)
            if waiting is not None:
                waiting.pop(key, None)
                if not waiting:
                    del self._waiting[task_id]

    def answered(self, task_id: str, responses: dict[str, Any]) -> None:
        """Input responses for a task running here (tasks/update here, or relayed from another worker)."""
        waiting = self._waiting.get(task_id, {})
        for key, value in responses.items():
            future = waiting.get(key)
            if future is not None and not future.done():
                future.set_result(value)

    # -- tasks/* --------------------------------------------------------------------------------------------

    def _record(self, ctx: Context, task_id: str) -> TaskRecord:
        if not declared(ctx):
            message = f"tasks/* need the {EXTENSION} extension in clientCapabilities"
            raise McpError(rpc.MISSING_CLIENT_CAPABILITY, message, _REQUIRED)
        record = self.server.tasks.store.get(task_id)
        if record is None or record.owner != _owner(ctx):
            raise McpError(rpc.INVALID_PARAMS, f"Task not found: {task_id}", {"taskId": task_id})
        return record

    def get(self, ctx: Context, params: Any) -> dict[str, Any]:
        record = self._record(ctx, params.task_id)
        detailed = _task(record)
        if record.status == "input_required" and record.input_requests:
            detailed["inputRequests"] = record.input_requests
        if record.status == "completed" and record.result is not None:
            detailed["result"] = msgspec.json.decode(record.result)
        if record.status == "failed" and record.error is not None:
            detailed["error"] = msgspec.to_builtins(record.error)
        return detailed

    def update(self, ctx: Context, params: Any) -> bytes:
        record = self._record(ctx, params.task_id)
        responses = params.input_responses
        if record.status in TERMINAL or not responses:
            return b"{}"
        pending = dict(record.input_requests or {})
        answered = {key: value for key, value in responses.items() if key in pending}
        if not answered:
            return b"{}"  # answers to nothing asked: ignored (mrtr.mdx)
        for key in answered:
            del pending[key]
        # The record shows only what is still asked for at once, whichever worker runs the task.
        record.input_requests = pending or None
        runner = self.server.tasks
        runner.store.put(record)
        if not pending:
            runner.set_status(record.task_id, "working")
        if record.task_id in self._waiting:
            self.answered(record.task_id, answered)
        elif runner.relay is not None and record.worker not in (-1, runner.worker):
            runner.relay(record.worker, ("input", record.task_id, answered))
        return b"{}"

    def cancel(self, ctx: Context, params: Any) -> bytes:
        record = self._record(ctx, params.task_id)
        if record.status not in TERMINAL:  # an ended task: the same empty ack (idempotent)
            runner = self.server.tasks
            runner.transition(record, "cancelled", "cancelled by the requestor")
            if not runner.cancel_local(record.task_id) and runner.remote_cancel is not None:
                runner.remote_cancel(record.task_id)
        return b"{}"


def _task(record: TaskRecord) -> dict[str, Any]:
    """The Task fields of 2026-07-28 (no `ttl`, `pollInterval` or `requestState`)."""
    task: dict[str, Any] = {
        "taskId": record.task_id,
        "status": record.status,
        "createdAt": record.created_at,
        "lastUpdatedAt": record.last_updated_at or record.created_at,
        "ttlMs": record.ttl_ms,
    }
    if record.status_message is not None:
        task["statusMessage"] = record.status_message
    if record.poll_interval_ms is not None:
        task["pollIntervalMs"] = record.poll_interval_ms
    return task


class _Nowhere:
    """The channel of a task of the extension: its notifications have no stream (tasks/get polls)."""

    __slots__ = ()

    def send(self, data: bytes) -> None:
        pass

    def finish(self, data: bytes | None, invalid: bool = False) -> None:
        pass
