"""The task store in shared memory: task id → msgpack of `TaskRecord`, so that a task created through one
worker is polled, awaited or cancelled through any other, and outlives the worker that ran it."""

from __future__ import annotations

import time

import msgspec

from ipc.table import SharedTable
from runtime.protocol import jsonrpc as rpc
from runtime.stores.tasks import TaskRecord, TaskStore

_encode = msgspec.msgpack.encode
_decoder = msgspec.msgpack.Decoder(TaskRecord)


class SharedTaskStore(TaskStore):
    def __init__(self, table: SharedTable) -> None:
        self.table = table

    def put(self, record: TaskRecord) -> None:
        try:
            data = _encode(record)
        except OverflowError:  # error data with an integer msgpack cannot hold: the error goes without it
            if record.error is None:
                raise
            record.error.data = None
            data = _encode(record)
        if len(data) > self.table.value_size and record.result is not None:
            # The result does not fit the shared slot: the task fails with a clear reason instead.
            limit = self.table.value_size
            size = len(record.result)
            message = f"the task's result ({size} bytes) exceeds the shared task store's limit ({limit})"
            record.result = None
            record.error = rpc.ErrorBody(rpc.INTERNAL_ERROR, message)
            record.status, record.status_message = "failed", message
            data = _encode(record)
        if not self.table.put(record.task_id, data, record.expires_at or 0.0):
            raise rpc.McpError(rpc.INTERNAL_ERROR, "the shared task store is full")

    def get(self, task_id: str) -> TaskRecord | None:
        if len(task_id.encode()) > 64:
            return None
        data = self.table.get(task_id)
        return _decoder.decode(data) if data is not None else None

    def owned_by(self, owner: str) -> list[TaskRecord]:
        return [record for record in self.records() if record.owner == owner]

    def delete(self, task_id: str) -> None:
        self.table.remove(task_id)

    def __len__(self) -> int:
        return len(self.table)

    def expire(self) -> None:
        self.table.expire(time.time())

    def records(self) -> list[TaskRecord]:
        found = []
        for key in self.table.keys():  # noqa: SIM118 - a shared table, not a dict
            record = self.get(key)
            if record is not None:
                found.append(record)
        return found
