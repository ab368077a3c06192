"""Tasks (experimental in 2025-11-25, basic/utilities/tasks.mdx), for whichever side receives a task-augmented
request: the server (tools/call) or the client (sampling/createMessage, elicitation/create). The receiver
answers at once with a task id; the work goes on, and the requestor polls `tasks/get`, blocks on
`tasks/result`, lists or cancels.

Task records are plain values kept in a `TaskStore` (runtime/stores/tasks.py; in-process here, in shared
memory in workers/cluster/tasks.py), bound to the session that created them: another session can neither see
nor touch them. What only this process can hold (the running coroutine, waiters of tasks/result) stays in
`TaskRunner`.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import msgspec

from runtime.protocol import jsonrpc as rpc
from runtime.server.failures import internal_error, report
from runtime.stores.tasks import TaskRecord as TaskRecord
from runtime.stores.tasks import TaskStore, now_iso

RELATED_TASK = "io.modelcontextprotocol/related-task"
DEFAULT_MAX_TASKS = 1024  # tasks kept at once, finished ones included until they expire (`--max-tasks`)
DEFAULT_MAX_QUEUED_MESSAGES = 1000  # per task: its messages no stream has taken yet, oldest dropped
TERMINAL = frozenset({"completed", "failed", "cancelled"})
# How a task still running when its server stops ends (tasks.mdx: a failed task's error is its result).
_STOPPED = rpc.ErrorBody(rpc.INTERNAL_ERROR, "The server stopped before the task finished", None)
# tasks.mdx "Task Status": the transitions a receiver may make.
ALLOWED = {
    "working": {"input_required", "completed", "failed", "cancelled"},
    "input_required": {"working", "completed", "failed", "cancelled"},
}


class MemoryTaskStore(TaskStore):
    def __init__(self) -> None:
        self._tasks: dict[str, TaskRecord] = {}

    def put(self, record: TaskRecord) -> None:
        self._tasks[record.task_id] = record

    def get(self, task_id: str) -> TaskRecord | None:
        record = self._tasks.get(task_id)
        if record is not None and record.expires_at is not None and record.expires_at < time.time():
            del self._tasks[task_id]
            return None
        return record

    def owned_by(self, owner: str) -> list[TaskRecord]:
        return [r for r in list(self._tasks.values()) if r.owner == owner and self.get(r.task_id) is not None]

    def delete(self, task_id: str) -> None:
        self._tasks.pop(task_id, None)

    def records(self) -> list[TaskRecord]:
        return [r for r in list(self._tasks.values()) if self.get(r.task_id) is not None]

    def __len__(self) -> int:
        return len(self._tasks)

    def expire(self) -> None:
        now = time.time()
        for task_id in [k for k, r in self._tasks.items() if r.expires_at is not None and r.expires_at < now]:
            del self._tasks[task_id]


class TaskError(rpc.McpError):
    pass


class TaskRunner:
    """Creates, runs and answers for tasks. Limits: at most `max_tasks` tasks kept (running or finished and
    not yet expired), `max_ttl_ms` of life, `max_queued_messages` waiting messages per task."""

    def __init__(
        self,
        store: TaskStore | None = None,
        *,
        default_ttl_ms: int = 3_600_000,
        max_ttl_ms: int = 86_400_000,
        poll_interval_ms: int = 500,
        max_tasks: int = DEFAULT_MAX_TASKS,
        max_queued_messages: int = DEFAULT_MAX_QUEUED_MESSAGES,
    ) -> None:
        self.store: TaskStore = store or MemoryTaskStore()
        self.default_ttl_ms = default_ttl_ms
        self.max_ttl_ms = max_ttl_ms
        self.poll_interval_ms = poll_interval_ms
        self.max_tasks = max_tasks
        self._running: dict[str, asyncio.Future[Any]] = {}
        self._done: dict[str, asyncio.Event] = {}
        self.on_status: Any = None  # callback(record) for notifications/tasks/status
        # Multi-process runtime: this worker's slot, and how to stop a task running in another worker.
        self.worker = -1
        self.remote_cancel: Callable[[str], None] | None = None
        self.poll_seconds = 0.05  # how often tasks/result re-reads a task that runs in another worker
        # A task's messages for its requestor (input requests, progress, status) that no stream took yet,
        # oldest dropped past the limit, and the open tasks/result streams that take them (tasks.mdx).
        self.max_queued_messages = max_queued_messages
        self._queued: dict[str, deque[bytes]] = {}
        self._listeners: dict[str, Callable[[bytes], None]] = {}
        # Several worker processes: `relay(worker, message)` carries a task's messages between the worker
        # running it and a worker whose tasks/result stream waits for them (see `on_relayed`).
        self.relay: Callable[[int, tuple[Any, ...]], bool] | None = None
        self.relay_grace = 0.5  # seconds a tasks/result waits for the last relayed messages of an ended task
        self._remote_listeners: dict[str, int] = {}  # task running here -> the worker listening for it
        self._relayed_end: dict[str, asyncio.Event] = {}  # task listened for here -> set when it ended
        # The tasks extension: input responses for a task running here, from tasks/update on another worker.
        self.on_input: Callable[[str, dict[str, Any]], None] | None = None
        self._closed = False

    def close(self) -> None:
        """The server stops (its grace period is over): tasks still running here fail, recorded while the
        store is still open so that other workers and later readers see why, and are cancelled. Nothing is
        recorded afterwards (the store may be closed by then)."""
        for task_id, task in list(self._running.items()):
            with contextlib.suppress(Exception):  # a store already gone: nothing left to tell
                self.finish(task_id, None, _STOPPED, "failed", _STOPPED.message)
            task.cancel()
        self._closed = True

    def create(self, owner: str, requested_ttl: int | None) -> TaskRecord:
        if len(self.store) >= self.max_tasks:
            self.store.expire()
            if len(self.store) >= self.max_tasks:
                limit = self.max_tasks
                message = f"Too many tasks (limit {limit}); retry when some have expired"
                raise TaskError(rpc.INTERNAL_ERROR, message, {"limit": limit})
        ttl = min(requested_ttl if requested_ttl is not None else self.default_ttl_ms, self.max_ttl_ms)
        record = TaskRecord(
            task_id=secrets.token_urlsafe(16),
            owner=owner,
            ttl_ms=ttl,
            poll_interval_ms=self.poll_interval_ms,
            expires_at=time.time() + ttl / 1000,
            worker=self.worker,
        )
        record.last_updated_at = record.created_at
        self.store.put(record)
        self._done[record.task_id] = asyncio.Event()
        return record

    def start(self, record: TaskRecord, work: Any, tool_errors_fail: bool = True) -> None:
        """Run `work` (an awaitable of the underlying request's result) as the task's body. A tool result
        with isError fails a 2025-11-25 task; a task of the 2026-07-28 extension completes with it
        (`tool_errors_fail=False`: "failed" is for protocol errors there)."""
        task = asyncio.get_running_loop().create_task(self._run(record.task_id, work, tool_errors_fail))
        self._running[record.task_id] = task

    def adopt(self, task_id: str, running: asyncio.Future[Any]) -> None:
        """A request's handler that became this task's body (the tasks extension's `ctx.start_task()`):
        cancelling the task cancels it."""
        self._running[task_id] = running
        running.add_done_callback(lambda _: self._running.pop(task_id, None))

    async def _run(self, task_id: str, work: Any, tool_errors_fail: bool = True) -> None:
        try:
            await self._settle(task_id, work, tool_errors_fail)
        except Exception as exc:  # its outcome could not be recorded: the log says why
            report(f"task {task_id}", exc)
        finally:
            self._running.pop(task_id, None)

    async def _settle(self, task_id: str, work: Any, tool_errors_fail: bool = True) -> None:
        """Run the task's work and record how it ended."""
        try:
            result = await work
        except asyncio.CancelledError:
            return  # tasks/cancel already recorded the status
        except rpc.McpError as exc:
            self.finish(task_id, None, rpc.ErrorBody(exc.code, exc.message, exc.data), "failed", exc.message)
        except Exception as exc:
            if self._closed:
                return  # the server stopped it (close): how it ended is recorded already
            failure = internal_error("a task", exc)  # the requestor gets a reference, the log the details
            error = rpc.ErrorBody(failure.code, failure.message, failure.data)
            self.finish(task_id, None, error, "failed", failure.message)
        else:
            # A tool result with isError fails the task (tasks.mdx "Execution errors"): the typed result
            # says so (pre-encoded bytes are the plain successes of content.tool_result).
            failed = tool_errors_fail and getattr(result, "is_error", None) is True
            body = result if type(result) is bytes else rpc.encode(result)
            message = "the tool reported an error" if failed else None
            self.finish(task_id, body, None, "failed" if failed else "completed", message)

    def finish(
        self,
        task_id: str,
        result: bytes | None,
        error: rpc.ErrorBody | None,
        status: str,
        message: str | None,
    ) -> None:
        if self._closed:
            return
        record = self.store.get(task_id)
        if record is None or record.status in TERMINAL:
            return
        record.result = result
        record.error = error
        self.transition(record, status, message)

    def transition(self, record: TaskRecord, status: str, message: str | None = None) -> None:
        if status == record.status:
            return
        if status not in ALLOWED.get(record.status, ()):
            move = f"from {record.status} to {status}"
            raise TaskError(rpc.INVALID_PARAMS, f"Task {record.task_id} cannot go {move}")
        record.status = status
        record.status_message = message
        record.last_updated_at = now_iso()
        self.store.put(record)
        if status in TERMINAL:
            event = self._done.pop(record.task_id, None)
            if event is not None:
                event.set()
        if self.on_status is not None:
            self.on_status(record)
        if status in TERMINAL:
            self._end_relay(record.task_id)  # after the status notification: the listener has it first

    def set_status(self, task_id: str, status: str) -> None:
        """Move a running task between working and input_required; a finished task is left alone."""
        record = self.store.get(task_id)
        if record is not None and record.status not in TERMINAL and record.status != status:
            self.transition(record, status)

    def owned(self, owner: str, task_id: str) -> TaskRecord:
        record = self.store.get(task_id)
        if record is None or record.owner != owner:
            raise TaskError(rpc.INVALID_PARAMS, f"Task not found: {task_id}", {"taskId": task_id})
        return record

    def deliver(self, task_id: str, data: bytes, elsewhere: Callable[[bytes], bool]) -> None:
        """A message of the task for its requestor: on the task's open tasks/result stream, else wherever
        `elsewhere` can send it (the session's standalone stream), else queued for the next tasks/result."""
        listener = self._listeners.get(task_id)
        if listener is not None:
            listener(data)
            return
        worker = self._remote_listeners.get(task_id)
        if worker is not None and self.relay is not None:
            if self.relay(worker, ("message", task_id, data)):
                return
            del self._remote_listeners[task_id]  # the listening worker is gone
        if not elsewhere(data):
            queue = self._queued.get(task_id)
            if queue is None:
                queue = self._queued[task_id] = deque(maxlen=self.max_queued_messages)
            queue.append(data)

    async def result(
        self, owner: str, task_id: str, listener: Callable[[bytes], None] | None = None
    ) -> bytes:
        """tasks/result: wait until terminal, then the underlying request's result (with related-task
        _meta). `listener`: the response's channel, which carries the task's messages meanwhile."""
        record = self.owned(owner, task_id)
        if listener is None or task_id in self._listeners:
            return await self._result(owner, task_id, record)
        self._listeners[task_id] = listener
        remote = self._listen_remote(record)
        try:
            for data in self._queued.pop(task_id, ()):
                listener(data)
            return await self._result(owner, task_id, record)
        finally:
            if self._listeners.get(task_id) is listener:
                del self._listeners[task_id]
            if remote is not None and self.relay is not None:
                self._relayed_end.pop(task_id, None)
                self.relay(remote, ("unlisten", task_id, self.worker))

    async def _result(self, owner: str, task_id: str, record: TaskRecord) -> bytes:
        while record.status not in TERMINAL:
            done = self._done.get(task_id)
            ended = self._relayed_end.get(task_id)
            if done is not None:
                await done.wait()
            elif ended is None or ended.is_set():
                # Running in another worker process: its record in the shared store tells when it ends.
                await asyncio.sleep(self.poll_seconds)
            else:  # and that worker says so too (after the task's last messages)
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.poll_seconds):
                        await ended.wait()
            record = self.owned(owner, task_id)
        ended = self._relayed_end.get(task_id)
        if ended is not None and not ended.is_set():
            # Seen ended in the store before its worker's last messages came (or that worker died).
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.relay_grace):
                    await ended.wait()
        if record.error is not None:
            raise rpc.McpError(record.error.code, record.error.message, record.error.data)
        if record.result is None:
            raise rpc.McpError(rpc.INVALID_PARAMS, f"Task {task_id} was cancelled and has no result")
        return _with_related_task(record.result, task_id)

    def cancel(self, owner: str, task_id: str) -> TaskRecord:
        record = self.owned(owner, task_id)
        if record.status in TERMINAL:
            raise TaskError(rpc.INVALID_PARAMS, f"Task {task_id} is already {record.status}")
        self.transition(record, "cancelled", "cancelled by the requestor")
        if not self.cancel_local(task_id) and self.remote_cancel is not None:
            self.remote_cancel(task_id)
        return record

    def cancel_local(self, task_id: str) -> bool:
        """Stop the task's work if it runs in this process."""
        running = self._running.pop(task_id, None)
        if running is None:
            return False
        running.cancel()
        self._end_relay(task_id)  # cancelled through another worker: the listener learns it here
        return True

    # -- several worker processes: a task's messages for a tasks/result stream on another worker -------------

    def _listen_remote(self, record: TaskRecord) -> int | None:
        """tasks/result here for a task of another worker: ask it for the task's messages (an ended task's
        too: some may still wait there in its queue)."""
        if self.relay is None or record.worker in (-1, self.worker):
            return None
        self._relayed_end[record.task_id] = asyncio.Event()
        if not self.relay(record.worker, ("listen", record.task_id, self.worker)):
            del self._relayed_end[record.task_id]  # that worker is gone: its queue with it
            return None
        return record.worker

    def _end_relay(self, task_id: str) -> None:
        worker = self._remote_listeners.pop(task_id, None)
        if worker is not None and self.relay is not None:
            self.relay(worker, ("ended", task_id))

    def on_relayed(self, message: list[Any]) -> None:
        """A message `relay` brought from another worker (in each worker's order of sending):
        - ["listen", task_id, worker] / ["unlisten", task_id, worker]: a tasks/result stream on `worker`
          opened or closed, for a task running here (the queued messages go to it at once);
        - ["message", task_id, data]: for the tasks/result stream here (none left: back to the task's worker);
        - ["back", task_id, data]: a message of a task running here that the listener no longer took;
        - ["ended", task_id]: the task ended, and every message of it was sent before this;
        - ["input", task_id, responses]: tasks/update on another worker answered a task running here."""
        kind, task_id = message[0], message[1]
        if kind == "listen":
            self._remote_listeners[task_id] = message[2]
            for data in self._queued.pop(task_id, ()):
                self.deliver(task_id, data, _nowhere)  # to that worker (queued again if it went)
            record = self.store.get(task_id)
            if record is None or record.status in TERMINAL:
                self._end_relay(task_id)
        elif kind == "unlisten":
            if self._remote_listeners.get(task_id) == message[2]:
                del self._remote_listeners[task_id]
        elif kind == "message":
            listener = self._listeners.get(task_id)
            if listener is not None:
                listener(message[2])
                return
            record = self.store.get(task_id)
            if record is not None and record.worker not in (-1, self.worker) and self.relay is not None:
                self.relay(record.worker, ("back", task_id, message[2]))
        elif kind == "back":
            self.deliver(task_id, message[2], _nowhere)  # a newer stream, else the queue
        elif kind == "ended":
            event = self._relayed_end.get(task_id)
            if event is not None:
                event.set()
        elif kind == "input" and self.on_input is not None:
            self.on_input(task_id, message[2])

    def fail_orphans(self, worker: int) -> int:
        """A worker process died: its unfinished tasks can never finish, so they fail (a restarted worker
        in the same slot calls this at start)."""
        failed = 0
        for record in self.store.records():
            if record.worker == worker and record.status not in TERMINAL:
                message = "the worker process running this task stopped"
                error = rpc.ErrorBody(rpc.INTERNAL_ERROR, message)
                self.finish(record.task_id, None, error, "failed", message)
                failed += 1
        return failed

    def owned_by(self, owner: str) -> list[TaskRecord]:
        return sorted(self.store.owned_by(owner), key=lambda r: r.created_at)

    def drop_owner(self, owner: str) -> None:
        for record in self.store.owned_by(owner):
            self._queued.pop(record.task_id, None)
            self._remote_listeners.pop(record.task_id, None)
            running = self._running.pop(record.task_id, None)
            if running is not None:
                running.cancel()


def _nowhere(data: bytes) -> bool:
    return False


def _with_related_task(result: bytes, task_id: str) -> bytes:
    data = msgspec.json.decode(result)
    meta = dict(data.get("_meta") or {})
    meta[RELATED_TASK] = {"taskId": task_id}
    data["_meta"] = meta
    return rpc.encode(data)
