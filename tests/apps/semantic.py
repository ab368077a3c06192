"""A test app for the semantic result cache: results say which process computed them and how often, so a
hit (the earlier result, unchanged) is told apart from a call that ran.

MCPRT_TEST_TINY_DIR set: embeddings from the tiny model in that folder (router/tiny.py, built by the test);
unset: the real MiniLM. MCPRT_TEST_LOW / MCPRT_TEST_HIGH: the thresholds of `edge_low` / `edge_high`.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

from runtime import Server
from runtime.server.semantic_cache import SemanticCache

tiny = os.environ.get("MCPRT_TEST_TINY_DIR")
embedder = None
if tiny:
    from router.embed import OnnxEmbedder

    def embedder():  # type: ignore[no-untyped-def]
        return OnnxEmbedder(Path(tiny) / "tiny.onnx", Path(tiny) / "tokenizer.json")


server = Server("semantic", "1.0", semantic_cache=SemanticCache(embedder=embedder, entries=64))
calls: Counter[str] = Counter()


def _stamp(what: str) -> str:
    calls[what] += 1
    return f"{what} pid={os.getpid()} call={calls[what]}"


@server.tool(semantic_cache=0.9)
def forecast(query: str, days: int = 1) -> str:
    """The weather forecast asked for in plain words."""
    return _stamp(f"forecast {query!r} {days}")


@server.tool(semantic_cache=0.5)
def population(query: str, days: int = 1) -> str:
    """Same arguments as forecast, another tool: never answered with forecast's results."""
    return _stamp(f"population {query!r} {days}")


@server.tool(semantic_cache=float(os.environ.get("MCPRT_TEST_LOW", "0.9")))
def edge_low(query: str) -> str:
    return _stamp(f"edge_low {query!r}")


@server.tool(semantic_cache=float(os.environ.get("MCPRT_TEST_HIGH", "0.9")))
def edge_high(query: str) -> str:
    return _stamp(f"edge_high {query!r}")


@server.tool(semantic_cache=0.9)
async def failing(query: str) -> str:
    """Fails every time: an error result is never cached."""
    calls["failing"] += 1
    raise ValueError(f"failure {calls['failing']}")


def _version_one(query: str) -> str:
    return _stamp(f"version 1 {query!r}")


server.add_tool(_version_one, name="versioned", semantic_cache=0.9)


@server.tool()
def swap_versioned() -> str:
    """Register `versioned` again with another function: its results and vectors must go."""
    server.remove_tool("versioned")

    def _version_two(query: str) -> str:
        return _stamp(f"version 2 {query!r}")

    server.add_tool(_version_two, name="versioned", semantic_cache=0.9)
    return "swapped"


@server.tool()
def pid() -> str:
    return str(os.getpid())
