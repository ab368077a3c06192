"""Tool search on a server with many tools: registering them stays linear (a registration records that the
registry changed; the catalog takes one snapshot per job, not one per registration, and background jobs
coalesce), and the catalog still follows every change; a search that ran while the tools changed is not
stored for co-located readers."""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("onnxruntime")
pytest.importorskip("faiss")
pytest.importorskip("bm25s")

from ipc.cache import CacheLimits, SharedCache
from ipc.search_keys import search_key
from router import tiny
from router.embed import OnnxEmbedder
from runtime import Server
from runtime.server.tool_search import ToolSearch

WORDS = str.split(
    "read write file disk send slack message channel weather city forecast deploy cluster zebra"
)
MANY = 2_000


def _tool(server: Server, name: str, description: str) -> None:
    def fn(path: str) -> str:
        return path

    server.add_tool(fn, name=name, description=description)


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("tiny")
    tiny.build(folder, WORDS)
    return folder


def _register(server: Server, count: int) -> float:
    begun = time.perf_counter()
    for i in range(count):
        _tool(server, f"tool_{i}", f"{WORDS[i % 6]} {WORDS[(i * 7) % 11]} {i}")
    return time.perf_counter() - begun


async def test_registering_many_tools_is_linear_and_all_are_found(tiny_dir: Path) -> None:
    plain = _register(Server("plain"), MANY)  # what registering costs without tool search
    embedder = OnnxEmbedder(tiny_dir / "tiny.onnx", tiny_dir / "tokenizer.json")
    server = Server("many", tool_search=ToolSearch(embedder=embedder, threshold=0.0))
    search_tools = server._tools["search_tools"].fn
    _tool(server, "send_slack_message", "send slack message channel")
    await search_tools(
        "slack"
    )  # the catalog exists: registrations from now on are followed in the background
    registering = _register(server, MANY)
    # A snapshot of the registry per registration made this O(n²) (5,000 tools: ~60 s against 4 s plain);
    # now the background updates coalesce and take at most about a third of the time.
    assert registering < 3 * plain + 1.0, (registering, plain)
    _tool(server, "zebra_deploy", "zebra deploy cluster")
    found = await search_tools("zebra deploy cluster", 3)
    assert found.structured_content["tools"][0]["name"] == "zebra_deploy"
    catalog = server.tool_search.kinds["tools"].catalog  # type: ignore[union-attr]
    assert catalog is not None and len(catalog) == MANY + 2
    server.remove_tool("zebra_deploy")
    after = await search_tools("zebra deploy cluster", 3)
    assert all(tool["name"] != "zebra_deploy" for tool in after.structured_content["tools"])
    server.shutdown()


class GatedEmbedder:
    """The tiny model; a query's embedding waits for `release` once `hold` is set (a search in flight)."""

    def __init__(self, folder: Path) -> None:
        self.inner = OnnxEmbedder(folder / "tiny.onnx", folder / "tokenizer.json")
        self.dim = self.inner.dim
        self.hold = threading.Event()
        self.waiting = threading.Event()
        self.release = threading.Event()

    def embed(self, texts: list[str]) -> Any:
        if self.hold.is_set() and len(texts) == 1:
            self.waiting.set()
            self.release.wait(10)
        return self.inner.embed(texts)


async def test_a_search_running_while_the_tools_change_is_not_stored(tiny_dir: Path) -> None:
    embedder = GatedEmbedder(tiny_dir)
    server = Server("gated", tool_search=ToolSearch(embedder=embedder, threshold=0.0))
    cache = SharedCache.create(f"/mcprt-test-{os.getpid()}-gated-cache", CacheLimits(bytes=1 << 20))
    server.cache = cache
    try:
        search_tools = server._tools["search_tools"].fn
        _tool(server, "send_slack_message", "send slack message channel")
        await search_tools("zebra deploy")
        assert cache.get(search_key("zebra deploy")) is not None  # stored: nothing changed meanwhile
        embedder.hold.set()
        running = asyncio.ensure_future(search_tools("zebra deploy"))
        await asyncio.get_running_loop().run_in_executor(None, embedder.waiting.wait, 10)
        # The search has its catalog (without the new tool) and is embedding the query: the tools change.
        _tool(server, "zebra_deploy", "zebra deploy cluster")
        assert cache.get(search_key("zebra deploy")) is None  # the stored route went with the change
        embedder.release.set()
        stale = await running
        assert all(tool["name"] != "zebra_deploy" for tool in stale.structured_content["tools"])
        assert cache.get(search_key("zebra deploy")) is None  # and the stale answer was not stored
        embedder.hold.clear()
        fresh = await search_tools("zebra deploy")
        assert fresh.structured_content["tools"][0]["name"] == "zebra_deploy"
        assert json.loads(cache.get(search_key("zebra deploy")) or b"null") == fresh.structured_content
    finally:
        server.shutdown()
        server.cache = None
        cache.close()
        cache.unlink()
