"""The cache policy of the list results (tools/list, resources/list, resources/templates/list, prompts/list)
and of the shared cache: entries shaped once per revision, pages encoded once per revision and offset, the
shared-cache copies keyed by a fingerprint of the registry, and what a registry change removes.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ipc.cache import KIND_LIST, KIND_RESOURCE, KIND_TOOL, list_key, tool_key
from runtime.protocol import downgrade
from runtime.protocol import jsonrpc as rpc
from runtime.protocol.versions import Revision
from runtime.server.pagination import make_cursor, read_cursor

if TYPE_CHECKING:
    from runtime.server.app import Server
    from runtime.server.context import Context


def granted(ctx: Context) -> frozenset[str] | None:
    """The scopes that decide what a list (or a search of the entries) shows the caller: None, the whole
    list, unless the server filters lists by scopes (`Auth(filter_lists=True)`)."""
    auth = ctx._server.auth
    if auth is None or not auth.filter_lists:
        return None
    principal = ctx.principal
    return principal.scopes if principal is not None else frozenset()


# The field naming an entry (what its scopes are registered under: runtime/auth/scopes.py).
KEYS = {"tools": "name", "resources": "uri", "templates": "uriTemplate", "prompts": "name"}
NO_SCOPES: frozenset[str] = frozenset()


def entry_scopes(
    tables: Mapping[str, Mapping[str, frozenset[str]]], kind: str, item: Mapping[str, Any]
) -> frozenset[str]:
    """The scopes a listed or found entry asks for (`ScopeTable.entries`); a resource search's matches may
    be templates, named by their URI template."""
    if kind == "resources" and "uriTemplate" in item:
        kind = "templates"
    return tables[kind].get(item[KEYS[kind]], NO_SCOPES)


# What each list is made of, and the key of its entries in the result.
LISTS = {
    "tools": "tools",
    "resources": "resources",
    "templates": "resourceTemplates",
    "prompts": "prompts",
}


class ListPages:
    def __init__(self, server: Server) -> None:
        self.server = server
        # (kind, version, offset): bounded by the registry and the revisions
        self.pages: dict[tuple[str, str, int], bytes] = {}
        self.shared_keys: dict[tuple[str, str, int], str] = {}  # shared-cache keys of the pages
        self._items: dict[tuple[str, str], list[dict[str, Any]]] = {}  # (kind, version): the entries

    def items(self, kind: str, revision: Revision) -> list[dict[str, Any]]:
        """The list entries of `kind` as `revision` has them, shaped once per revision."""
        items = self._items.get((kind, revision.version))
        if items is None:
            server = self.server
            registries: dict[str, Mapping[str, Any]] = {
                "tools": server._tools,
                "resources": server._resources,
                "templates": server._templates,
                "prompts": server._prompts,
            }
            specs: Iterable[Any] = registries[kind].values()
            if kind == "tools" and server.tool_search is not None:
                specs = server.tool_search.listed(specs)  # deferred: the search tools and the pinned ones
            shaped = (downgrade.definition(kind, spec.definition, revision) for spec in specs)
            items = self._items[(kind, revision.version)] = [d for d in shaped if d is not None]
        return items

    def page(
        self, kind: str, revision: Revision, cursor: str | None, granted: frozenset[str] | None = None
    ) -> bytes:
        """One page of the list. The cursor is checked before anything is memoised, and pages are memoised
        by offset only at the page boundaries this server hands out: at most len(items) / page_size + 1
        entries per list and revision, whatever cursors clients send. `granted`: only the entries whose
        scopes these cover (`Auth(filter_lists=True)`; such pages are made for each request)."""
        items = self.items(kind, revision)
        offset = read_cursor(kind, cursor) if cursor else 0
        if granted is not None:
            tables = self.server.scopes.entries
            if tables[kind]:
                allowed = [item for item in items if entry_scopes(tables, kind, item) <= granted]
                return self._encode(kind, allowed, min(offset, len(allowed)))
        page_size = self.server.page_size
        if offset % page_size or offset > len(items):
            return self._encode(kind, items, offset)
        memo = (kind, revision.version, offset)
        cache = self.server.cache
        if cache is not None:
            shared_key = self.shared_keys.get(memo) or self._shared_key(memo, items)
            hit = cache.get(shared_key)
            cache.count(hit is not None)
            if hit is not None:
                return hit
        cached = self.pages.get(memo)
        if cached is None:
            cached = self.pages[memo] = self._encode(kind, items, offset)
        if cache is not None:
            cache.put(shared_key, cached, kind=KIND_LIST)
        return cached

    def _shared_key(self, memo: tuple[str, str, int], items: list[dict[str, Any]]) -> str:
        # The key carries a fingerprint of the registry, so workers whose registries differ (one changed at
        # run time) never answer with each other's lists.
        kind, _, offset = memo
        fingerprint = zlib.crc32(rpc.encode(items))
        canonical = make_cursor(kind, offset) if offset else None
        key = self.shared_keys[memo] = list_key(kind, fingerprint, canonical)
        return key

    def _encode(self, kind: str, items: list[dict[str, Any]], offset: int) -> bytes:
        end = offset + self.server.page_size
        result: dict[str, Any] = {LISTS[kind]: items[offset:end]}
        if end < len(items):
            result["nextCursor"] = make_cursor(kind, end)
        return rpc.encode(result)

    # -- what a change removes -----------------------------------------------------------------------------

    def changed(self, kind: str) -> None:
        """A registry change: every memoised page goes, and the shared list results of that kind (and every
        read, for resources: a new or removed resource changes what a URI resolves to)."""
        self.pages.clear()
        self.shared_keys.clear()
        self._items.clear()
        cache = self.server.cache
        if cache is not None:
            rules: list[tuple[int | None, bytes]] = [(KIND_LIST, f"l:{kind}:".encode())]
            if kind == "resources":
                rules += [(KIND_RESOURCE, b""), (KIND_LIST, b"l:templates:")]
            cache.remove_matching(rules)

    def tool_removed(self, name: str) -> None:
        """A tool's stored results go with it (its semantic neighbours too)."""
        server = self.server
        if server.cache is not None:
            # Key prefixes are matched as bytes: "t:<name>:" then the canonical arguments.
            server.cache.remove_kind(KIND_TOOL, tool_key(name, b"").encode())
            if server.semantic is not None:
                server.semantic.invalidate(name, server.cache)
