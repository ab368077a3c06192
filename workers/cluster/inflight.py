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

from ipc.claims import FULL, HELD, TOMBSTONE, ClaimTables
from ipc.table import SharedTable
from runtime.protocol import jsonrpc as rpc
from runtime.protocol.core import in_flight_error
from workers.cluster.config import worker_key

_MISSING = object()
_GOLDEN, _MASK = 0x9E3779B97F4A7C15, (1 << 64) - 1  # an odd 64-bit multiplier (Fibonacci hashing)


def owner_word(slot: int, nonce: str) -> int:
    """A worker's owner word in the table: its slot, and a digest of its nonce (a restarted worker of the
    slot has another nonce, so its predecessor's entries read as abandoned)."""
    return slot << 32 | zlib.crc32(nonce.encode())


class InflightRegistry:
    """This worker's view of the shared in-flight tables: a session's requests live in one shard, chosen by
    its id, so claims of different sessions seldom wait for the same lock. `limit`: requests in flight at
    once in one shard (which holds twice that many slots, so probes stay short)."""

    def __init__(self, tables: ClaimTables, slot: int, nonce: str, workers: SharedTable) -> None:
        self.tables = tables
        self.shards = tables.shards
        self.workers = workers
        self.limit = self.shards[0].capacity // 2
        self.owner = owner_word(slot, nonce)
        # Each shard's entry count, read without a call into the table: looked at once per request.
        self.counts = [functools.partial(shard.load32, shard.count_at) for shard in self.shards]

    def shard_of(self, session_id: str) -> int:
        return zlib.crc32(session_id.encode()) % len(self.shards)

    def key(self, session: tuple[bytes, int], request_id: rpc.RequestId) -> int:
        """The table key of a request id of the session (`session_words`): an int id moves the session's word
        by a multiple of an odd constant (one-to-one within the session, no hashing on the hot path), a
        string id is hashed with the session id."""
        if type(request_id) is int:
            key = (session[1] + request_id * _GOLDEN) & _MASK
            return key if key > TOMBSTONE else key + 2
        return self.tables.key(session[0] + str(request_id).encode())

    def session_words(self, session_id: str) -> tuple[bytes, int]:
        """What `key` needs of a session: the prefix of its string ids' hashed text, and its 64-bit word,
        hashed from another text (the marker after the NUL), so that neither 0 and "" nor 7 and "7" meet."""
        session = session_id.encode()
        return session + b"\0'", self.tables.key(session + b"\0#")

    def held_elsewhere(self, shard: int, key: int) -> bool:
        """Whether another live worker has this request in flight (a lock-free read)."""
        owner = self.shards[shard].owner_of(key)
        return owner is not None and owner != self.owner and not self._abandoned(owner)

    def claim(self, shard: int, key: int, request_id: rpc.RequestId) -> int | bytes:
        """Make the request this worker's: the slot index of its entry, else the JSON-RPC error to answer."""
        table = self.shards[shard]
        claimed = table.claim(key, self.owner, self.limit, self.stale)
        if claimed == FULL and self.sweep():  # full, but perhaps of the requests of a worker that died
            claimed = table.claim(key, self.owner, self.limit, self.stale)
        if claimed >= 0:
            return claimed
        if claimed == HELD:
            return in_flight_error(request_id)
        limit = self.limit * len(self.shards)
        message = f"Too many requests in flight on this server (limit {limit}); retry later"
        return rpc.error_message(request_id, rpc.INTERNAL_ERROR, message)

    def release(self, shard: int, key: int, index: int) -> None:
        self.shards[shard].release(index, key, self.owner)

    def sweep(self) -> int:
        """Drop the entries of workers that are gone (at start, and when a shard is full)."""
        return sum(shard.remove_owners(self._abandoned) for shard in self.shards)

    def stale(self, owner: int) -> bool:
        """Whether a claim may take over an entry of `owner`."""
        # Ours without a local handle: left by a release that never ran; nothing of it is running here.
        return owner == self.owner or self._abandoned(owner)

    def _abandoned(self, owner: int) -> bool:
        record = self.workers.get(worker_key(owner >> 32))
        if record is None:
            return True
        try:
            nonce = msgspec.msgpack.decode(record).get("nonce")
        except (msgspec.DecodeError, AttributeError):
            return False  # a torn heartbeat record: the owner is judged at the next look
        return not isinstance(nonce, str) or zlib.crc32(nonce.encode()) != owner & 0xFFFFFFFF


class SharedInflight(dict[Any, Any]):
    """`ServerSession.inflight` of a session served by several workers: the handles of its requests running
    here (a dict, as for one process), answering `in` for the other workers too and releasing a claim when
    a request's handle goes. The runner and transport claim (`claim`) before they add a handle."""

    __slots__ = ("claims", "count", "registry", "session", "shard")

    def __init__(self, registry: InflightRegistry, session_id: str) -> None:
        super().__init__()
        self.registry = registry
        self.session = registry.session_words(session_id)
        self.shard = registry.shard_of(session_id)
        self.count = registry.counts[self.shard]
        self.claims: dict[rpc.RequestId, tuple[int, int]] = {}  # request id -> (key, slot index) claimed

    def __contains__(self, request_id: object) -> bool:
        if dict.__contains__(self, request_id):
            return True
        if not self.count():
            return False  # the common case: no request of the shard awaits in any worker
        key = self.registry.key(self.session, request_id)  # type: ignore[arg-type]
        return self.registry.held_elsewhere(self.shard, key)

    def claim(self, request_id: rpc.RequestId) -> bytes | None:
        registry = self.registry
        key = registry.key(self.session, request_id)
        claimed = registry.shards[self.shard].claim(key, registry.owner, registry.limit, registry.stale)
        if claimed >= 0:
            self.claims[request_id] = (key, claimed)
            return None
        found = registry.claim(self.shard, key, request_id)  # held, or full: a sweep, or the error
        if isinstance(found, int):
            self.claims[request_id] = (key, found)
            return None
        return found

    def release_all(self) -> None:
        """The session ended: free its ids this worker holds (the handles go when their handlers stop)."""
        for key, index in self.claims.values():
            self.registry.release(self.shard, key, index)
        self.claims.clear()

    def pop(self, request_id: Any, default: Any = None) -> Any:
        claimed = self.claims.pop(request_id, None)
        if claimed is not None:
            self.registry.shards[self.shard].release(claimed[1], claimed[0], self.registry.owner)
        return dict.pop(self, request_id, default)
