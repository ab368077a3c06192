"""The task store's interface and the task record it keeps (runtime/tasks.py runs the tasks)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Protocol

import msgspec

from runtime.protocol import jsonrpc as rpc


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class TaskRecord(msgspec.Struct, kw_only=True):
    task_id: str
    owner: str  # the session that created it
    status: str = "working"
    status_message: str | None = None
    created_at: str = msgspec.field(default_factory=now_iso)
    last_updated_at: str = ""
    ttl_ms: int | None = None
    poll_interval_ms: int | None = None
    expires_at: float | None = None  # monotonic-free wall clock (time.time()), None: kept until purged
    result: bytes | None = None  # the encoded result of the underlying request
    error: rpc.ErrorBody | None = None  # or its JSON-RPC error
    worker: int = -1  # the worker process running it (multi-process runtime), -1: this process
    # The tasks extension of 2026-07-28: the requests the task waits on the client for, by key.
    input_requests: dict[str, Any] | None = None

    def wire(self) -> dict[str, Any]:
        task: dict[str, Any] = {
            "taskId": self.task_id,
            "status": self.status,
            "createdAt": self.created_at,
            "lastUpdatedAt": self.last_updated_at or self.created_at,
            "ttl": self.ttl_ms,
        }
        if self.status_message is not None:
            task["statusMessage"] = self.status_message
        if self.poll_interval_ms is not None:
            task["pollInterval"] = self.poll_interval_ms
        return task


class TaskStore(Protocol):
    """Task id → `TaskRecord`, read and written by `TaskRunner`. Implementations: in-process
    (runtime.tasks.MemoryTaskStore) and shared by every worker (workers.cluster.tasks.SharedTaskStore, msgpack
    records in a shared-memory table), so that a task created through one worker is polled, awaited or
    cancelled through any other and outlives the worker that ran it.

    Contract:
    - Records are values: `get` returns a copy in a shared store (changing it changes nothing until `put`),
      possibly the very object in the in-process one; callers always `put` what they change.
    - `put` replaces the whole record atomically (a reader sees the old record or the new one, never a mix).
      There is no compare-and-set: the runner reads, checks the status and puts, so a cancel through one
      worker and the task finishing in another may race (the last write wins; a runner never moves a task
      out of a terminal status it read). `put` may change the record to make it fit (a shared store fails a
      task whose result exceeds its slot, and says why), and raises `McpError` when the store has no room.
    - A record whose `expires_at` (wall clock) has passed may still be returned until `expire` runs (the
      in-process store hides it at once); `__len__` counts such records too. The cap on tasks is the
      runner's (`len` then `put`): not atomic across workers, so several workers creating tasks at once may
      pass it by one each.
    - Records live as long as the store: nothing here is durable past the server instance.

    Async: every call comes from a coroutine (a request handler or a task's body), none from the transport's
    hot path, so a Redis store (one hash or msgpack string per task, `EXPIREAT` from `expires_at`, a set per
    owner for `owned_by`) could make all of them awaitable; the runner would await them, the sync stores
    being called as they are now. `records` (a scan of every task, used when a worker restarts) would become
    a SCAN with a cursor.
    """

    def put(self, record: TaskRecord) -> None: ...

    def get(self, task_id: str) -> TaskRecord | None:
        """The record, or None when unknown (never an error: ids come from clients)."""
        ...

    def owned_by(self, owner: str) -> list[TaskRecord]:
        """The records of one session, in no particular order."""
        ...

    def delete(self, task_id: str) -> None: ...

    def records(self) -> list[TaskRecord]:
        """Every record, in no particular order."""
        ...

    def __len__(self) -> int:
        """Records kept, expired ones possibly included until `expire()`."""
        ...

    def expire(self) -> None:
        """Drop the records whose ttl has passed."""
        ...
