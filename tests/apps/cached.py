"""A server whose results say which process computed them and how often: to see cache hits skip handlers."""

from __future__ import annotations

import os
from collections import Counter

from runtime import Server

server = Server("cached", "1.0.0")
calls: Counter[str] = Counter()


def _stamp(what: str) -> str:
    calls[what] += 1
    return f"{what} pid={os.getpid()} call={calls[what]}"


@server.resource("cached://static", mime_type="text/plain")
def static() -> str:
    """Cached until resource_updated."""
    return _stamp("static")


@server.resource("cached://ttl/{id}", mime_type="text/plain", cache_ttl=0.5)
def with_ttl(id: str) -> str:
    return _stamp(f"ttl/{id}")


@server.resource("cached://never", mime_type="text/plain", cache=False)
def never() -> str:
    return _stamp("never")


@server.resource("cached://size/{n}", mime_type="text/plain", cache_ttl=3600)
def sized(n: str) -> str:
    return "x" * int(n)


@server.tool(cache_ttl=60)
def lookup(word: str, times: int = 1) -> str:
    """Cacheable: read-only and idempotent."""
    return _stamp(f"lookup {word} {times}")


@server.tool()
def update(uri: str) -> int:
    return server.resource_updated(uri)


@server.tool()
def pid() -> int:
    return os.getpid()


@server.tool()
def add_resource(uri: str) -> str:
    server.resource(uri, name=uri)(lambda: f"added {uri}")
    return "ok"


def _version_one() -> str:
    return "version 1"


server.add_tool(_version_one, name="versioned", cache_ttl=float("inf"))


@server.tool()
def swap_versioned(remove_only: bool = False) -> str:
    """Replace `versioned` with another function (or only remove it): its cached results must go."""
    server.remove_tool("versioned")
    if not remove_only:

        def _version_two() -> str:
            return "version 2"

        server.add_tool(_version_two, name="versioned", cache_ttl=float("inf"))
    return "swapped"
