"""The semantic result cache (runtime/server/semantic_cache.py, ipc/vectors.py) in real `mcprt serve --http`
processes, one worker and two, with our Client: paraphrased free text is answered with the earlier result,
other meanings, other tools, other exact arguments and scores below the threshold never are; invalidation with
the tool, the capacity at its edge, invalid arguments and errors never cached, and the counters of `mcprt
status`. The tiny deterministic model (router/tiny.py: a bag of words) stands in for MiniLM, so "a paraphrase"
here is the same words in another order or with one more word; perf/semantic_cache_bench.py measures MiniLM
on real paraphrases."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("onnxruntime")

from router import tiny
from router.embed import OnnxEmbedder
from runtime import Client, Server
from runtime.server.semantic_cache import Comparable, comparable
from tests.conftest import RunningServer

pytestmark = pytest.mark.timeout(120)

APP = str(Path(__file__).parent / "apps" / "semantic.py") + ":server"
VOCAB = str.split(
    "weather in paris london tomorrow the flights to rome population of hotels berlin cheap today next week"
)
PARIS = "weather in paris tomorrow next week"
PARIS_REORDERED = "next week weather in paris tomorrow"  # the same bag of words: cosine 1 with the tiny model
PARIS_LONGER = "the weather in paris tomorrow next week"  # cosine 0.92
LONDON = "weather in london tomorrow next week"  # cosine 0.85


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("tiny")
    tiny.build(folder, VOCAB)
    return folder


@pytest.fixture(scope="module")
def embedder(tiny_dir: Path) -> OnnxEmbedder:
    return OnnxEmbedder(tiny_dir / "tiny.onnx", tiny_dir / "tokenizer.json")


def cosine(embedder: OnnxEmbedder, a: str, b: str) -> float:
    """What the server computes: the embeddings of the renderings `query: <text>`."""
    va, vb = embedder.embed([f"query: {a}", f"query: {b}"])
    return float(np.dot(va, vb))


def start(tiny_dir: Path, *args: str, workers: int = 1, **env: str) -> RunningServer:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MCPRT_TEST_TINY_DIR", str(tiny_dir))
        for name, value in env.items():
            patch.setenv(name, value)
        return RunningServer(*args, app=APP, workers=workers)


@pytest.fixture(scope="module", params=[1, 2], ids=["1 worker", "2 workers"])
def server(request: pytest.FixtureRequest, tiny_dir: Path) -> Iterator[RunningServer]:
    running = start(tiny_dir, workers=request.param)
    yield running
    running.stop()
    assert not list(Path("/dev/shm").glob(f"mcprt-*-{running.port}-*"))  # the vectors went with the server


def status(server: RunningServer) -> dict[str, int]:
    out = subprocess.run(
        [sys.executable, "-m", "runtime", "status", "--http", f"127.0.0.1:{server.port}"],
        capture_output=True,
        text=True,
        timeout=30,
    ).stdout
    line = next((ln for ln in out.splitlines() if ln.startswith("semantic cache:")), None)
    if line is None:  # no tool with semantic_cache= was called yet: no vectors
        return dict.fromkeys(
            ("entries", "hits", "misses", "stores", "skipped", "evictions", "invalidations"), 0
        )
    counts = {"entries": int(re.search(r"(\d+)/\d+ entries", line).group(1))}  # type: ignore[union-attr]
    for name in ("hits", "misses", "stores", "skipped", "evictions", "invalidations"):
        counts[name] = int(re.search(rf"{name} (\d+)", line).group(1))  # type: ignore[union-attr]
    return counts


async def call(client: Client, tool: str, **arguments: Any) -> str:
    result = await client.call_tool(tool, arguments)
    return result.content[0].text  # type: ignore[union-attr, no-any-return]


async def test_a_paraphrase_is_answered_with_the_earlier_result_and_another_meaning_is_not(
    server: RunningServer, embedder: OnnxEmbedder
) -> None:
    assert cosine(embedder, PARIS, PARIS_LONGER) >= 0.9 > cosine(embedder, PARIS, LONDON)
    before = status(server)
    async with Client(server.url) as client:
        first = await call(client, "forecast", query=PARIS)
        assert first.startswith(f"forecast {PARIS!r} 1 pid=")
        assert await call(client, "forecast", query=PARIS_REORDERED) == first
        assert await call(client, "forecast", query=PARIS_LONGER) == first
        other = await call(client, "forecast", query=LONDON)
        assert other.startswith(f"forecast {LONDON!r}")
        assert await call(client, "forecast", query=PARIS) == first  # the exact cache: no lookup by meaning
    after = status(server)
    assert after["hits"] - before["hits"] == 2
    assert after["misses"] - before["misses"] == 2
    assert after["stores"] - before["stores"] == 2


async def test_every_worker_answers_from_the_vectors_another_one_stored(tiny_dir: Path) -> None:
    server = start(tiny_dir, workers=2)
    try:
        async with Client(server.url) as client:
            first = await call(client, "forecast", query="cheap flights to rome")
        stored_by = int(re.search(r"pid=(\d+)", first).group(1))  # type: ignore[union-attr]
        for _ in range(40):  # connections and requests spread over both workers
            async with Client(server.url) as client:
                if int(await call(client, "pid")) != stored_by:
                    assert await call(client, "forecast", query="flights to rome cheap") == first
                    return
        pytest.fail("every call reached the worker that stored the result")
    finally:
        server.stop()


async def test_never_across_tools_nor_other_exact_arguments(server: RunningServer) -> None:
    async with Client(server.url) as client:
        forecast = await call(client, "forecast", query="hotels in berlin today")
        # Same free text (cosine 1), population's threshold 0.5: only the tool check keeps them apart.
        assert (await call(client, "population", query="hotels in berlin today")).startswith("population")
        assert (await call(client, "population", query="today hotels in berlin")).startswith("population")
        assert await call(client, "forecast", query="today hotels in berlin") == forecast
        # `days` is an integer: compared exactly, never by meaning.
        assert (await call(client, "forecast", query="today hotels in berlin", days=2)).endswith("call=1")
        assert "' 2 pid=" in await call(client, "forecast", query="today hotels in berlin", days=2)


def test_only_free_text_is_compared_by_meaning() -> None:
    server = Server("s")

    @server.tool(semantic_cache=0.9)
    def find(query: str, unit: str = "c", limit: int = 5, tags: list[str] | None = None) -> str:
        return ""

    spec = server._tools["find"]
    spec.definition["inputSchema"]["properties"]["unit"]["enum"] = ["c", "f"]
    assert comparable(spec, {"query": "a b", "unit": "f", "limit": 3, "tags": ["x"]}) == Comparable(
        "query: a b", b'{"limit":3,"tags":["x"],"unit":"f"}'
    )
    assert comparable(spec, {"unit": "f"}) is None  # no free text: the exact cache alone


@pytest.mark.parametrize("margin", [1e-4])
async def test_the_threshold_is_honoured_at_its_edge(
    tiny_dir: Path, embedder: OnnxEmbedder, margin: float
) -> None:
    score = cosine(embedder, PARIS, PARIS_LONGER)
    assert 0.5 < score < 0.9999
    server = start(tiny_dir, MCPRT_TEST_LOW=str(score - margin), MCPRT_TEST_HIGH=str(score + margin))
    try:
        async with Client(server.url) as client:
            low = await call(client, "edge_low", query=PARIS)
            assert await call(client, "edge_low", query=PARIS_LONGER) == low  # just above: a hit
            high = await call(client, "edge_high", query=PARIS)
            assert await call(client, "edge_high", query=PARIS_LONGER) != high  # just below: runs
    finally:
        server.stop()


async def test_invalidated_with_the_tool(server: RunningServer) -> None:
    async with Client(server.url) as client:
        first = await call(client, "versioned", query="population of london")
        assert first.startswith("version 1")
        assert await call(client, "versioned", query="london population of") == first
        before = status(server)
        assert await call(client, "swap_versioned") == "swapped"
        after = status(server)
        assert after["invalidations"] - before["invalidations"] == 1  # its one vector, for every worker
        assert after["entries"] == before["entries"] - 1
        # Runs again (version 2 here; with two workers the other one still has version 1 registered).
        assert await call(client, "versioned", query="london population of") != first


async def test_invalid_arguments_and_error_results_are_never_cached(server: RunningServer) -> None:
    async with Client(server.url) as client:
        before = status(server)
        bad = await client.call_tool("forecast", {"query": "weather in rome", "days": "two"})
        assert bad.is_error and "Invalid arguments" in bad.content[0].text  # type: ignore[union-attr]
        assert status(server) == before  # no lookup, no store
        first = await client.call_tool("failing", {"query": "weather in rome"})
        again = await client.call_tool("failing", {"query": "rome weather in"})
        assert first.is_error and again.is_error
        assert first.content[0].text != again.content[0].text  # type: ignore[union-attr]  # both ran
        assert status(server)["stores"] == before["stores"]


async def test_text_the_model_would_cut_is_not_cached_by_meaning(server: RunningServer) -> None:
    long = " ".join(["weather in rome"] * 50)  # 150 words: past the tokenizer's 128-token window
    async with Client(server.url) as client:
        before = status(server)
        first = await call(client, "forecast", query=long)
        assert await call(client, "forecast", query=long + " today") != first  # the same first 128 tokens
        assert await call(client, "forecast", query=long) == first  # the exact cache still answers
        after = status(server)
    assert after["skipped"] - before["skipped"] == 2
    assert (after["hits"], after["stores"]) == (before["hits"], before["stores"])


async def test_capacity_at_its_edge(tiny_dir: Path) -> None:
    server = start(tiny_dir, "--semantic-cache-entries", "3")
    queries = ["weather in paris", "cheap flights to rome", "population of london", "hotels in berlin"]
    reordered = [" ".join(reversed(q.split())) for q in queries]
    try:
        async with Client(server.url) as client:
            firsts = [await call(client, "forecast", query=q) for q in queries[:3]]
            for paraphrase, first in zip(reordered[:3], firsts, strict=True):
                assert await call(client, "forecast", query=paraphrase) == first  # full, nothing evicted
            assert status(server)["entries"] == 3
            fourth = await call(client, "forecast", query=queries[3])
            counts = status(server)
            assert (counts["entries"], counts["evictions"]) == (3, 1)
            assert await call(client, "forecast", query=reordered[3]) == fourth
            assert await call(client, "forecast", query=reordered[2]) == firsts[2]
            assert await call(client, "forecast", query=reordered[1]) == firsts[1]
            assert await call(client, "forecast", query=reordered[0]) != firsts[0]  # the oldest went first
    finally:
        server.stop()
    refused = subprocess.run(
        [sys.executable, "-m", "runtime", "serve", APP, "--semantic-cache-entries", "0"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert refused.returncode == 2 and "--semantic-cache-entries" in refused.stderr


async def test_the_flag_sets_the_hints_and_refuses_a_tool_that_says_otherwise(server: RunningServer) -> None:
    async with Client(server.url) as client:
        listed = {tool.name: tool for tool in await client.list_tools()}
    hints = listed["forecast"].annotations
    assert hints is not None and hints.read_only_hint is True and hints.idempotent_hint is True
    app = Server("s")
    with pytest.raises(ValueError, match="read-only, idempotent"):
        app.tool(name="t", semantic_cache=0.9, annotations={"readOnlyHint": False})(lambda query: query)
    for bad in (0, 1.5, -0.1, True):
        with pytest.raises(ValueError, match="cosine similarity"):
            app.tool(name="t", semantic_cache=bad)(lambda query: query)


async def test_mcprt_cache_clear_empties_the_vectors_too(server: RunningServer) -> None:
    async with Client(server.url) as client:
        first = await call(client, "forecast", query="cheap hotels in rome")
        assert await call(client, "forecast", query="rome cheap hotels in") == first
        assert status(server)["entries"] > 0
        cleared = subprocess.run(
            [sys.executable, "-m", "runtime", "cache", "clear", "--http", f"127.0.0.1:{server.port}"],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert cleared.returncode == 0, cleared.stderr
        assert status(server)["entries"] == 0
        assert await call(client, "forecast", query="rome cheap hotels in") != first


async def test_a_rolling_restart_empties_the_vectors_with_the_cache(tiny_dir: Path) -> None:
    server = start(tiny_dir, workers=2)
    try:
        async with Client(server.url) as client:
            first = await call(client, "forecast", query="population of berlin today")
        assert status(server)["entries"] == 1
        os.kill(server.process.pid, signal.SIGHUP)  # new code may be deployed: old results must go
        deadline = time.monotonic() + 60
        while not any("rolling restart done" in line for line in server.lines):
            assert time.monotonic() < deadline, server.lines
            time.sleep(0.1)
        assert status(server)["entries"] == 0
        async with Client(server.url) as client:
            assert await call(client, "forecast", query="berlin today population of") != first
    finally:
        server.stop()
