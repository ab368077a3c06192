"""The requests in flight of every session across the workers, so that a request id is in flight once per
session however many workers serve it (basic/index.mdx: ids MUST NOT be reused within a session; the core
refuses a second in-flight request with the same id, runtime/protocol/core.py).

A shared table maps (session, request id) to the worker holding the request: its slot and nonce. A request
that stays in flight (its handler awaits) claims its key atomically before any of it runs and releases it
when it ends; a request answered at once only looks (a lock-free read), as it is in flight for no longer
than its own handler call. An entry whose worker died (its heartbeat record names another nonce, or none)
is abandoned: a claim takes it over, and a starting worker sweeps such entries away.
"""

from __future__ import annotations

import functools
import zlib
from typing import Any

import msgspec

from ipc.claims import ClaimTables
from ipc.table import COUNT_AT, U32, SharedTable
from runtime.protocol import jsonrpc as rpc
from runtime.protocol.core import in_flight_error
from workers.cluster.config import worker_key

_MISSING = object()
_SHORT = 64 - 33  # id bytes that fit a key after the session id (32 characters) and a marker


def request_key(session_id: str, request_id: rpc.RequestId) -> str:
    """The table key: ints and short strings as they are (the marker tells 7 from "7"), longer strings by
    a digest (a table key holds 64 bytes)."""
    if type(request_id) is int:
        return f"{session_id}#{request_id}"
    text = str(request_id)
    if len(text.encode()) <= _SHORT:
        return f"{session_id}'{text}"
    import hashlib  # rare: a long string id

    return f"{session_id}%{hashlib.blake2b(text.encode(), digest_size=15).hexdigest()}"


class InflightRegistry:
    """This worker's view of the shared in-flight tables: a session's requests live in one shard, chosen by
    its id, so claims of different sessions seldom wait for the same lock. `limit`: requests in flight at
    once in one shard (which holds twice that many slots, so probes stay short)."""

    def __init__(self, tables: ClaimTables, slot: int, nonce: str, workers: SharedTable) -> None:
        self.shards = tables.shards
        self.workers = workers
        self.limit = self.shards[0].capacity // 2
        self.owner = f"{slot}:{nonce}".encode()
        # Each shard's entry count, read without a call into the table: looked at once per request.
        self.counts = [
            functools.partial(U32.unpack_from, shard.mm, shard.base + COUNT_AT) for shard in self.shards
        ]

    def shard_of(self, session_id: str) -> int:
        return zlib.crc32(session_id.encode()) % len(self.shards)

    def held_elsewhere(self, shard: int, session_id: str, request_id: rpc.RequestId) -> bool:
        """Whether another live worker has this request id of the session in flight (a lock-free read)."""
        value = self.shards[shard].get(request_key(session_id, request_id))
        return value is not None and value != self.owner and not self._abandoned(value)

    def claim(self, shard: int, session_id: str, request_id: rpc.RequestId) -> bytes | None:
        """Make the request this worker's; None when it is, else the JSON-RPC error to answer with."""
        key = request_key(session_id, request_id)
        table = self.shards[shard]
        claimed = table.put_new(key, self.owner, self.limit, self._abandoned_or_ours)
        if claimed < 0 and self.sweep():  # full, but perhaps of the requests of a worker that died
            claimed = table.put_new(key, self.owner, self.limit, self._abandoned_or_ours)
        if claimed > 0:
            return None
        if claimed == 0:
            return in_flight_error(request_id)
        limit = self.limit * len(self.shards)
        message = f"Too many requests in flight on this server (limit {limit}); retry later"
        return rpc.error_message(request_id, rpc.INTERNAL_ERROR, message)

    def release(self, shard: int, session_id: str, request_id: rpc.RequestId) -> None:
        self.shards[shard].remove(request_key(session_id, request_id))

    def sweep(self) -> int:
        """Drop the entries of workers that are gone (at start, and when a shard is full)."""
        return sum(shard.remove_values(self._abandoned) for shard in self.shards)

    def _abandoned_or_ours(self, value: bytes) -> bool:
        # Ours without a local handle: left by a release that never ran; nothing of it is running here.
        return value == self.owner or self._abandoned(value)

    def _abandoned(self, value: bytes) -> bool:
        slot, _, nonce = value.decode(errors="replace").partition(":")
        if not slot.isdigit():
            return True
        record = self.workers.get(worker_key(int(slot)))
        if record is None:
            return True
        try:
            return msgspec.msgpack.decode(record).get("nonce") != nonce  # type: ignore[no-any-return]
        except (msgspec.DecodeError, AttributeError):
            return False  # a torn heartbeat record: the owner is judged at the next look


class SharedInflight(dict[Any, Any]):
    """`ServerSession.inflight` of a session served by several workers: the handles of its requests running
    here (a dict, as for one process), answering `in` for the other workers too and releasing a claim when
    a request's handle goes. The runner and transport claim (`claim`) before they add a handle."""

    __slots__ = ("count", "registry", "session_id", "shard")

    def __init__(self, registry: InflightRegistry, session_id: str) -> None:
        super().__init__()
        self.registry = registry
        self.session_id = session_id
        self.shard = registry.shard_of(session_id)
        self.count = registry.counts[self.shard]

    def __contains__(self, request_id: object) -> bool:
        if dict.__contains__(self, request_id):
            return True
        if not self.count()[0]:
            return False  # the common case: no request of the shard awaits in any worker
        return self.registry.held_elsewhere(self.shard, self.session_id, request_id)  # type: ignore[arg-type]

    def claim(self, request_id: rpc.RequestId) -> bytes | None:
        return self.registry.claim(self.shard, self.session_id, request_id)

    def release_all(self) -> None:
        """The session ended: free its ids this worker holds (the handles go when their handlers stop)."""
        for request_id in list(dict.keys(self)):
            self.registry.release(self.shard, self.session_id, request_id)

    def pop(self, request_id: Any, default: Any = None) -> Any:
        handle = dict.pop(self, request_id, _MISSING)
        if handle is _MISSING:
            return default
        self.registry.release(self.shard, self.session_id, request_id)
        return handle
