"""Tool search on a server with many tools: registering them stays linear (a registration records that the
registry changed; the catalog takes one snapshot per job, not one per registration, and background jobs
coalesce), and the catalog still follows every change."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

pytest.importorskip("onnxruntime")
pytest.importorskip("faiss")
pytest.importorskip("bm25s")

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
