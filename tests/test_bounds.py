"""Memory and time bounds against hostile input: memoised list pages, the SSE event stores' bytes, mass
session expiry, and the smaller server limits (tasks, stdio message size, internal errors)."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator

import pytest

from ipc.cache import CacheLimits, SharedCache
from runtime import McpError, Server
from runtime.protocol import types as t
from runtime.server.pagination import make_cursor


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
    return server._list_tools(None, t.PaginatedRequestParams(cursor=cursor))  # type: ignore[arg-type]


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
    assert len(server._list_cache) <= pages and len(server._list_keys) <= pages
    assert sum(len(key) for key in server._list_keys.values()) < 200 * pages


def msgspec_decode(data: bytes) -> dict:  # type: ignore[type-arg]
    import msgspec

    return msgspec.json.decode(data)  # type: ignore[no-any-return]
