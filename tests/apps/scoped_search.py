"""tests/apps/scoped.py with tool search (BM25: no model to load), for searches filtered by the caller's
scopes (--auth-filter-lists)."""

from __future__ import annotations

from runtime.server.tool_search import ToolSearch, enable_tool_search
from tests.apps.scoped import server

enable_tool_search(server, ToolSearch(method="bm25", threshold=0.0))  # every match, however weak
