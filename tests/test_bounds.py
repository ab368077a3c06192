"""Memory and time bounds against hostile input: memoised list pages, the SSE event stores' bytes, mass
session expiry, and the smaller server limits (tasks, stdio message size, internal errors)."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator

import pytest

from ipc.cache import CacheLimits, SharedCache
from ipc.eventlog import SharedEventLog
from runtime import McpError, Server
from runtime.protocol import types as t
from runtime.protocol.core import ServerSession
from runtime.server.context import Context
from runtime.server.pagination import make_cursor
from workers.streamable.events import MemoryEventStore


@pytest.fixture
def cached_server() -> Iterator[Server]:
    """A Server with the shared result cache on, as over HTTP by default."""
    server = Server("bounds", page_size=2)
    for i in range(5):
        server.add_tool(lambda: "x", name=f"tool_{i}")
    cache = SharedCache.create(f"/mcprt-test-{os.getpid()}-bounds-cache", CacheLimits(bytes=64 * 1024))
    cache.lane = 0
    server.cache = cache
    yield server
    server.cache = None
    cache.unlink()
    cache.close()


def _list(server: Server, cursor: str | None) -> bytes:
    # A real session of the latest revision (lists are shaped per revision); nothing here sends or awaits.
    session = ServerSession(server.profile)
    ctx = Context(server, session, None, None, None)  # type: ignore[arg-type]
    return server._list_tools(ctx, t.PaginatedRequestParams(cursor=cursor))


def test_invalid_cursors_are_not_memoised(cached_server: Server) -> None:
    server = cached_server
    for i in range(300):
        with pytest.raises(McpError) as refused:
            _list(server, f"{i:04d}" + "A" * 4096)  # distinct, not a cursor of this list
        assert refused.value.code == -32602
    # Valid cursors that this server never hands out (off a page boundary, past the end) are answered
    # but not memoised either: only the pages the server hands out are.
    for offset in (1, 3, 10**6, 10**4000):
        raw = base64.urlsafe_b64encode(f"tools:{offset}".encode()).decode().rstrip("=")
        _list(server, raw)
    assert msgspec_decode(_list(server, make_cursor("tools", 4)))["tools"][0]["name"] == "tool_4"
    cursor: str | None = None
    while True:  # walk every page
        page = msgspec_decode(_list(server, cursor))
        cursor = page.get("nextCursor")
        if cursor is None:
            break
    pages = 3  # 5 tools, 2 per page
    assert len(server.lists.pages) <= pages and len(server.lists.shared_keys) <= pages
    assert sum(len(key) for key in server.lists.shared_keys.values()) < 200 * pages


def msgspec_decode(data: bytes) -> dict:  # type: ignore[type-arg]
    import msgspec

    return msgspec.json.decode(data)  # type: ignore[no-any-return]


# -- the SSE event stores: bounded in bytes --------------------------------------------------------------


def test_memory_event_store_bounds_each_stream_in_bytes() -> None:
    store = MemoryEventStore(max_stream_bytes=3000, max_bytes=10**9)
    ids = [store.append("s", "a", b"x" * 1000) for _ in range(3)]  # exactly at the bound: all kept
    assert store.bytes == 3000
    replay = store.replay("s", "a.0")
    assert replay is not None and [i for i, _ in replay[1]] == ids
    store.append("s", "a", b"y")  # one byte over: the oldest event goes
    replay = store.replay("s", "a.0")
    assert replay is not None and [i for i, _ in replay[1]] == [*ids[1:], "a.4"]
    assert store.bytes == 2001
    store.append("s", "a", b"z" * 5000)  # larger than the bound on its own: sent, not kept
    assert store.bytes == 0 and store.replay("s", "a.0") == ("a", [], False)


def test_memory_event_store_bounds_all_streams_in_bytes() -> None:
    store = MemoryEventStore(max_stream_bytes=10**9, max_bytes=10 * 1024 * 1024)
    token = b"p" * (1024 * 1024)  # a 1 MB progress token, echoed in every progress event
    for session in range(10):
        for event in range(20):
            store.append(f"s{session}", f"stream{event % 2}", token)
    assert store.bytes <= store.max_bytes
    assert sum(len(d) for s in store._streams.values() for _, d in s.events) == store.bytes
    newest = store.replay("s9", "stream1.0")
    assert newest is not None and len(newest[1]) >= 4  # the newest events stay, the oldest went
    assert store.replay("s0", "stream0.0") == ("stream0", [], False)
    store.drop_session("s9")
    assert store.replay("s9", "stream1.0") is None
    assert store.bytes == sum(len(d) for s in store._streams.values() for _, d in s.events)
    assert len(store._order) <= 2 * store._count + 1024  # dropped events' queue entries do not pile up


def test_shared_event_log_bounds_each_stream_in_bytes() -> None:
    log = SharedEventLog.create(f"/mcprt-test-{os.getpid()}-bounds-events", 1 << 20, 64, max_stream_bytes=3000)
    try:
        ids = [log.append("s", "a", b"x" * 1000) for _ in range(3)]
        replay = log.replay("s", "a.0")
        assert replay is not None and [i for i, _ in replay[1]] == ids  # at the bound: all of them
        log.append("s", "a", b"y")
        replay = log.replay("s", "a.0")
        assert replay is not None and [i for i, _ in replay[1]] == [*ids[1:], "a.4"]
        log.append("s", "a", b"z" * 3001)  # over the bound alone: sent, not kept
        replay = log.replay("s", "a.4")
        assert replay is not None and replay[1] == []
    finally:
        log.unlink()
        log.close()
