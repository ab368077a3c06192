"""Shared-cache keys of tool search results (ipc/CACHE.md, Keys): what the server stores after each
`search_tools` (`search_resources`, `search_prompts`) call and a co-located reader looks up.

    s:<kind>:<limit>:<query>     e.g.  s:tools:5:will it rain in London tomorrow

kind is `tools`, `resources` or `prompts`; limit the `limit` argument as the caller sent it (5 when it
sent none; the result has at most `limit_max` entries whatever it asked); query the exact string it sent.
The value is the result's `structuredContent`, UTF-8 JSON, best first:
`{"tools":[{"name","description","inputSchema","score"},...]}` (`{"resources":[...]}`, `{"prompts":[...]}`;
an empty list when nothing matched). The result's text block is the same JSON, so the value is half of
what the whole tools/call result would be.
"""

from __future__ import annotations

DEFAULT_LIMIT = 5


def search_key(query: str, limit: int = DEFAULT_LIMIT, kind: str = "tools") -> str:
    return f"s:{kind}:{limit}:{query}"


def search_prefix(kind: str) -> bytes:
    """Every stored search of a kind starts with this (what a registry change invalidates)."""
    return f"s:{kind}:".encode()
