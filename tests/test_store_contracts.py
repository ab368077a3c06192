"""The store contracts of runtime/stores, checked on every implementation: the same behaviour checks run
against the in-process store and the shared-memory one (real segments under a fresh prefix, removed after
each test). What the contracts leave to an implementation (how many old events survive the bounds, whether a
dropped session's events go at once) is checked only as far as the contract goes."""

from __future__ import annotations

import asyncio
import os
import secrets
import time
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Protocol, TypeVar

import pytest

from ipc.eventlog import SharedEventLog
from ipc.ring import Ring
from ipc.segment import instance_prefix, reclaim_stale
from ipc.table import SharedTable
from runtime import Server
from runtime.protocol.core import ServerSession
from runtime.stores.bus import MessageBus
from runtime.stores.events import EventStore
from runtime.stores.memory_bus import MemoryBus, MemoryHub
from runtime.stores.sessions import SessionStore
from runtime.stores.tasks import TaskRecord, TaskStore
from runtime.tasks import MemoryTaskStore
from workers.cluster.bus import Bus
from workers.cluster.config import ClusterConfig, ring_name
from workers.cluster.sessions import SharedSessions
from workers.cluster.tasks import SharedTaskStore
from workers.streamable.events import MemoryEventStore
from workers.streamable.sessions import MemorySessions

pytestmark = pytest.mark.timeout(60)
SERVER = Server("contracts", "1")


class Unlinkable(Protocol):
    def unlink(self) -> None: ...

    def close(self) -> None: ...


S = TypeVar("S", bound=Unlinkable)


class Segments:
    """The shared-memory segments a test made, under one prefix: all unlinked and checked gone at the end."""

    def __init__(self) -> None:
        self.prefix = instance_prefix("test-" + secrets.token_hex(4))
        self.made: list[Unlinkable] = []
        self.count = 0

    def name(self) -> str:
        self.count += 1
        return f"{self.prefix}-c{self.count}"

    def keep(self, segment: S) -> S:
        self.made.append(segment)
        return segment

    def close(self) -> None:
        for segment in self.made:
            segment.unlink()
            segment.close()
        reclaim_stale(self.prefix)
        assert not [p for p in Path("/dev/shm").iterdir() if p.name.startswith(self.prefix.lstrip("/"))]


@pytest.fixture
def segments() -> Iterator[Segments]:
    made = Segments()
    yield made
    made.close()


# -- factories: (segments, bounds) -> a store --------------------------------------------------------------

SessionFactory = Callable[[Segments, float, int], SessionStore]


def memory_sessions(_: Segments, idle_timeout: float, max_sessions: int) -> SessionStore:
    return MemorySessions(idle_timeout, max_sessions)


def shared_sessions(segments: Segments, idle_timeout: float, max_sessions: int) -> SessionStore:
    table = segments.keep(SharedTable.create(segments.name(), 64, 1024))
    return SharedSessions(table, lambda: SERVER.profile, idle_timeout, max_sessions)


EventFactory = Callable[[Segments, float], EventStore]


def memory_events(_: Segments, ttl: float) -> EventStore:
    # Bounds of the same order as the shared log's below, so that the bounds checks make both drop events.
    return MemoryEventStore(max_events=1000, ttl=ttl, max_stream_bytes=2048, max_bytes=8192)


def shared_events(segments: Segments, ttl: float) -> EventStore:
    return segments.keep(SharedEventLog.create(segments.name(), 8192, 16, ttl=ttl, max_stream_bytes=2048))


TaskFactory = Callable[[Segments], TaskStore]


def memory_tasks(_: Segments) -> TaskStore:
    return MemoryTaskStore()


def shared_tasks(segments: Segments) -> TaskStore:
    table = segments.keep(SharedTable.create(segments.name(), 64, 4096))
    return SharedTaskStore(table)


class Cluster:
    """Slots of one bus: `join(slot, on_message)` makes a worker's side of it on the running loop."""

    def join(self, slot: int, on_message: Callable[[list[object]], None]) -> MessageBus:
        raise NotImplementedError

    def close(self) -> None:
        pass


INBOX_BYTES = 4096
BusFactory = Callable[[Segments, int], Cluster]


class MemoryCluster(Cluster):
    def __init__(self, slots: int) -> None:
        self.hub = MemoryHub(slots, INBOX_BYTES)

    def join(self, slot: int, on_message: Callable[[list[object]], None]) -> MessageBus:
        return MemoryBus(self.hub, slot, asyncio.get_running_loop(), on_message)


class SharedCluster(Cluster):
    def __init__(self, segments: Segments, slots: int) -> None:
        self.prefix = segments.prefix
        self.slots = slots
        self.pipes = [os.pipe() for _ in range(slots)]
        for slot in range(slots):
            segments.keep(Ring.create(ring_name(self.prefix, slot), INBOX_BYTES))

    def join(self, slot: int, on_message: Callable[[list[object]], None]) -> MessageBus:
        config = ClusterConfig(prefix=self.prefix, slot=slot, slots=self.slots, wake=self.pipes)
        return Bus(config, asyncio.get_running_loop(), on_message)

    def close(self) -> None:
        for read, write in self.pipes:
            os.close(read)
            os.close(write)


def memory_bus(_: Segments, slots: int) -> Cluster:
    return MemoryCluster(slots)


def shared_bus(segments: Segments, slots: int) -> Cluster:
    return SharedCluster(segments, slots)


sessions_impls = pytest.mark.parametrize("make", [memory_sessions, shared_sessions], ids=["memory", "shared"])
events_impls = pytest.mark.parametrize("make", [memory_events, shared_events], ids=["memory", "shared"])
tasks_impls = pytest.mark.parametrize("make", [memory_tasks, shared_tasks], ids=["memory", "shared"])
bus_impls = pytest.mark.parametrize("make", [memory_bus, shared_bus], ids=["memory", "shared"])


# -- SessionStore ------------------------------------------------------------------------------------------


@sessions_impls
def test_sessions_add_get_remove(make: SessionFactory, segments: Segments) -> None:
    store = make(segments, 60.0, 10)
    session_id = store.add(ServerSession(SERVER.profile))
    assert len(session_id) == 32 and all(c in "0123456789abcdef" for c in session_id)
    found = store.get(session_id)
    assert found is not None and found.state.session_id == session_id
    assert len(store) == 1 and [s.state.session_id for s in store] == [session_id]
    assert store.get("0" * 32) is None and store.remove("0" * 32) is None
    removed = store.remove(session_id)
    assert removed is not None and removed.state.session_id == session_id
    assert store.get(session_id) is None and store.remove(session_id) is None
    assert len(store) == 0


@sessions_impls
def test_sessions_ids_are_never_reused(make: SessionFactory, segments: Segments) -> None:
    store = make(segments, 60.0, 10)
    ids = set()
    for _ in range(20):
        session_id = store.add(ServerSession(SERVER.profile))
        ids.add(session_id)
        store.remove(session_id)
    assert len(ids) == 20


@sessions_impls
def test_sessions_cap_at_its_edge(make: SessionFactory, segments: Segments) -> None:
    store = make(segments, 60.0, 2)
    first = store.add(ServerSession(SERVER.profile))
    assert not store.full()
    store.add(ServerSession(SERVER.profile))
    assert store.full()
    store.remove(first)
    assert not store.full()


@sessions_impls
def test_sessions_expire_when_idle(make: SessionFactory, segments: Segments) -> None:
    store = make(segments, 0.3, 10)
    ids = {store.add(ServerSession(SERVER.profile)) for _ in range(3)}
    time.sleep(1.0)  # generous: the timeout is 0.3 s
    assert set(store.expire()) == ids
    assert len(store) == 0 and all(store.get(session_id) is None for session_id in ids)


@sessions_impls
def test_sessions_iterate_over_a_snapshot(make: SessionFactory, segments: Segments) -> None:
    store = make(segments, 60.0, 10)
    for _ in range(3):
        store.add(ServerSession(SERVER.profile))
    for session in store:  # removing while iterating is allowed
        store.remove(session.state.session_id)
    assert len(store) == 0


# -- EventStore --------------------------------------------------------------------------------------------


@events_impls
def test_events_ids_name_their_stream_and_replay_only_it(make: EventFactory, segments: Segments) -> None:
    store = make(segments, 60.0)
    assert store.append("s1", "g", b"") == "g.1"  # a priming event
    assert store.append("s1", "g", b"one") == "g.2"
    assert store.append("s1", "p-1", b"other stream") == "p-1.1"
    assert store.append("s2", "g", b"other session") == "g.1"
    assert store.append("s1", "g", b"two") == "g.3"
    assert store.replay("s1", "g.1") == ("g", [("g.2", b"one"), ("g.3", b"two")], False)
    assert store.replay("s1", "g.3") == ("g", [], False)
    assert store.replay("s1", "p-1.1") == ("p-1", [], False)
    assert store.replay("s2", "g.1") == ("g", [], False)


@events_impls
def test_events_end_marker_takes_an_id_and_is_never_replayed(make: EventFactory, segments: Segments) -> None:
    store = make(segments, 60.0)
    store.append("s", "p", b"")
    store.append("s", "p", b"result")
    assert store.append("s", "p", None) == "p.3"
    assert store.replay("s", "p.1") == ("p", [("p.2", b"result")], True)
    assert store.replay("s", "p.2") == ("p", [], True)


@events_impls
@pytest.mark.parametrize("bad", ["", "g", "g.", "g.x", ".1", "g.-1", "h.1", "g.99", "g.1.2"])
def test_events_unknown_or_malformed_ids_replay_nothing(
    make: EventFactory, segments: Segments, bad: str
) -> None:
    store = make(segments, 60.0)
    store.append("s", "g", b"a")
    store.append("s", "g", b"b")
    assert store.replay("s", bad) is None
    assert store.replay("other", "g.1") is None


@events_impls
def test_events_past_the_bounds_lose_the_oldest_never_the_order(
    make: EventFactory, segments: Segments
) -> None:
    store = make(segments, 60.0)
    sent = [(store.append("s", "g", b"%03d" % i + b"x" * 97), b"%03d" % i + b"x" * 97) for i in range(200)]
    replay = store.replay("s", sent[0][0])
    assert replay is not None
    stream_id, events, ended = replay
    assert (stream_id, ended) == ("g", False)
    assert 0 < len(events) < 199  # some kept, the oldest gone (8 KiB of store for 20 KiB sent)
    assert events == sent[-len(events) :]  # the newest, in order


@events_impls
def test_events_too_large_to_keep_are_skipped(make: EventFactory, segments: Segments) -> None:
    store = make(segments, 60.0)
    first = store.append("s", "g", b"")
    big = store.append("s", "g", b"x" * 4096)  # over the per-stream bound (2 KiB)
    after = store.append("s", "g", b"small")
    assert (first, big, after) == ("g.1", "g.2", "g.3")
    replay = store.replay("s", first)
    assert replay is not None and replay[1][-1] == ("g.3", b"small")
    assert all(event_id != big for event_id, _ in replay[1])


@events_impls
def test_events_expire_after_their_ttl(make: EventFactory, segments: Segments) -> None:
    store = make(segments, 0.3)
    store.append("s", "g", b"a")
    store.append("s", "g", b"b")
    assert store.replay("s", "g.1") == ("g", [("g.2", b"b")], False)
    time.sleep(1.0)  # generous: the ttl is 0.3 s
    store.expire()
    assert store.replay("s", "g.1") is None


@events_impls
def test_events_drop_session_leaves_other_sessions(make: EventFactory, segments: Segments) -> None:
    store = make(segments, 60.0)
    store.append("gone", "g", b"a")
    store.append("kept", "g", b"a")
    store.append("kept", "g", b"b")
    store.drop_session("gone")  # its events may stay until they age out: nothing to check for it
    assert store.replay("kept", "g.1") == ("g", [("g.2", b"b")], False)


# -- TaskStore ---------------------------------------------------------------------------------------------


def task(owner: str = "s1", expires_in: float = 60.0, result: bytes | None = None) -> TaskRecord:
    return TaskRecord(
        task_id=secrets.token_urlsafe(16), owner=owner, expires_at=time.time() + expires_in, result=result
    )


@tasks_impls
def test_tasks_put_get_replace_delete(make: TaskFactory, segments: Segments) -> None:
    store = make(segments)
    record = task(result=b'{"content":[]}')
    store.put(record)
    found = store.get(record.task_id)
    assert found == record
    record.status, record.status_message = "completed", "done"
    store.put(record)
    found = store.get(record.task_id)
    assert found is not None and (found.status, found.status_message) == ("completed", "done")
    assert found.result == b'{"content":[]}'
    store.delete(record.task_id)
    store.delete(record.task_id)  # deleting what is gone is no error
    assert store.get(record.task_id) is None and len(store) == 0


@tasks_impls
@pytest.mark.parametrize("task_id", ["", "unknown", "x" * 65, "x" * 10_000, "\u00e9" * 40])
def test_tasks_unknown_ids_are_none(make: TaskFactory, segments: Segments, task_id: str) -> None:
    store = make(segments)
    store.put(task())
    assert store.get(task_id) is None


@tasks_impls
def test_tasks_by_owner_and_all(make: TaskFactory, segments: Segments) -> None:
    store = make(segments)
    mine = [task("a") for _ in range(3)]
    theirs = [task("b") for _ in range(2)]
    for record in mine + theirs:
        store.put(record)
    assert len(store) == 5
    assert sorted(r.task_id for r in store.owned_by("a")) == sorted(r.task_id for r in mine)
    assert store.owned_by("nobody") == []
    assert sorted(r.task_id for r in store.records()) == sorted(r.task_id for r in mine + theirs)


@tasks_impls
def test_tasks_expire_after_their_ttl(make: TaskFactory, segments: Segments) -> None:
    store = make(segments)
    short = task(expires_in=0.3)
    long = task()
    store.put(short)
    store.put(long)
    time.sleep(1.0)  # generous: 0.3 s of life
    store.expire()
    assert store.get(short.task_id) is None and store.get(long.task_id) == long
    assert len(store) == 1 and [r.task_id for r in store.records()] == [long.task_id]


# -- MessageBus --------------------------------------------------------------------------------------------


async def settle(until: Callable[[], bool], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not until() and time.monotonic() < deadline:
        await asyncio.sleep(0.01)


def run_bus(
    make: BusFactory,
    segments: Segments,
    slots: int,
    body: Callable[[Cluster], Coroutine[object, object, None]],
) -> None:
    cluster = make(segments, slots)
    try:
        asyncio.run(body(cluster))
    finally:
        cluster.close()


@bus_impls
def test_bus_delivers_in_order_and_to_itself_at_once(make: BusFactory, segments: Segments) -> None:
    async def body(cluster: Cluster) -> None:
        got: dict[int, list[list[object]]] = {0: [], 1: [], 2: []}
        buses = [cluster.join(slot, got[slot].append) for slot in range(3)]
        try:
            assert buses[0].send(0, ("self", 1))
            assert got[0] == [["self", 1]]  # before send returned
            for i in range(20):
                assert buses[0].send(1, ("n", i, (i, "x")))
            buses[2].broadcast(("all", b"bytes"))
            await settle(lambda: len(got[1]) == 21 and len(got[0]) == 2)
            assert [m for m in got[1] if m[0] == "n"] == [["n", i, [i, "x"]] for i in range(20)]
            assert ["all", b"bytes"] in got[0] and ["all", b"bytes"] in got[1]
            assert [m for m in got[2] if m[0] == "all"] == []  # not to the sender
        finally:
            for bus in buses:
                bus.close()

    run_bus(make, segments, 3, body)


@bus_impls
def test_bus_full_inbox_drops_without_blocking(make: BusFactory, segments: Segments) -> None:
    async def body(cluster: Cluster) -> None:
        got: list[list[object]] = []
        sender = cluster.join(0, lambda m: None)
        receiver = cluster.join(1, got.append)
        try:
            payload = b"x" * 500
            sent = [sender.send(1, ("big", i, payload)) for i in range(40)]  # 20 KiB into a 4 KiB inbox
            assert sent[0] and not all(sent)
            kept = sent.index(False)
            assert not any(sent[kept:])  # the reader has not run: the inbox stays full
            await settle(lambda: len(got) == kept)
            assert [m[1] for m in got] == list(range(kept))
            assert sender.send(1, ("after",))  # drained: room again
            await settle(lambda: got[-1] == ["after"])
        finally:
            sender.close()
            receiver.close()

    run_bus(make, segments, 2, body)


@bus_impls
def test_bus_keeps_messages_for_a_slots_next_worker(make: BusFactory, segments: Segments) -> None:
    async def body(cluster: Cluster) -> None:
        got: list[list[object]] = []
        sender = cluster.join(0, lambda m: None)
        try:
            assert sender.send(1, ("for the next worker",))
            await asyncio.sleep(0.05)
            successor = cluster.join(1, got.append)
            successor.drain()  # what a starting worker does (workers/cluster/node.py)
            assert got == [["for the next worker"]]
            successor.close()
        finally:
            sender.close()

    run_bus(make, segments, 2, body)


@bus_impls
def test_bus_a_failing_handler_does_not_stop_the_next_messages(make: BusFactory, segments: Segments) -> None:
    async def body(cluster: Cluster) -> None:
        got: list[list[object]] = []

        def handle(message: list[object]) -> None:
            if message[0] == "bad":
                raise ValueError("bad message")
            got.append(message)

        sender = cluster.join(0, lambda m: None)
        receiver = cluster.join(1, handle)
        try:
            sender.send(1, ("bad",))
            sender.send(1, ("good",))
            await settle(lambda: got == [["good"]])
            assert got == [["good"]]
        finally:
            sender.close()
            receiver.close()

    run_bus(make, segments, 2, body)
