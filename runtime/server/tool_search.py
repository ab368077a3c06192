"""Tool search on a server: built-in tools `search_tools` (and `search_resources`, `search_prompts`) that rank
the server's own tools, resources and prompts for a request with the semantic router (router/search.py).

`Server(..., tool_search=True)` or `tool_search=ToolSearch(...)`; `mcprt serve --tool-search`. With
`deferred=True`, tools/list shows only the search tools and the pinned ones, and every tool stays callable by
name. The router extra is optional: without it, enabling tool search raises `ToolSearchUnavailable`.

Each kind has a catalog, built at its first search and then kept in step with the registry: a registration or
removal marks the registry changed, and the next job in the search thread takes its snapshot and applies it
incrementally (only new or changed entries are embedded; a burst of registrations is one job). Every catalog
job, loading the model included, runs on one thread of its own: never on the event loop, one search at a
time, one ONNX and FAISS thread.

With a shared result cache (Streamable HTTP), every search's result is stored there too, under the key of
ipc/search_keys.py, for co-located readers (`ipc.reader.CacheReader.search`); a registry change of that kind
removes them all.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from ipc.cache import KIND_TOOL
from ipc.search_keys import search_key, search_prefix
from runtime.protocol import types as t
from runtime.protocol.jsonrpc import encode
from runtime.server.context import Context
from runtime.server.extras import EMBEDDING_MODULES, require
from runtime.server.lists import entry_scopes, granted

if TYPE_CHECKING:
    from router.embed import Embedder
    from router.search import Catalog, Entry
    from runtime.server.app import Server
    from runtime.server.tools import ToolSpec

log = logging.getLogger("mcprt.tool_search")

DEFAULT_LIMIT = 5
LIMIT_MAX = 20
FOLLOW_AFTER = 0.1  # seconds from a registry change to the background update of a built catalog
MAX_QUERY_CHARS = 1000  # the model reads at most 128 tokens; this bounds the BM25 half's work

SEARCH_TOOLS = "search_tools"
SEARCH_RESOURCES = "search_resources"
SEARCH_PROMPTS = "search_prompts"


class ToolSearchUnavailable(ImportError):
    """Tool search was asked for but the router extra (ONNX Runtime, FAISS, BM25, MiniLM) is not installed."""


@dataclass(frozen=True, slots=True)
class ToolSearch:
    """How a server searches its own tools, resources and prompts.

    deferred: tools/list shows only the search tools and `pinned`; every tool stays callable by name.
    embedder: an `router.embed.Embedder`, or a function that makes one (called once, in the search thread);
      None: MiniLM int8 on one thread (`router.embed.default_embedder`).
    method, threshold: as `router.search.Catalog` (hybrid, and its measured "no good match" threshold).
    limit_max: the most results one search returns; a larger `limit` is cut to it.
    resources, prompts: also offer search_resources / search_prompts while the server has any.
    warm: load the model and build the catalogs at once, in the search thread, instead of at the first
      search (later registrations are then embedded in the background as they come).
    """

    deferred: bool = False
    pinned: Sequence[str] = ()
    embedder: Embedder | Callable[[], Embedder] | None = None
    method: Literal["dense", "bm25", "hybrid"] = "hybrid"
    threshold: float | None = None
    limit_max: int = LIMIT_MAX
    resources: bool = True
    prompts: bool = True
    warm: bool = False

    def __post_init__(self) -> None:
        if self.limit_max < 1:
            raise ValueError("ToolSearch(limit_max=) must be at least 1")
        if self.method not in ("dense", "bm25", "hybrid"):
            raise ValueError(f"ToolSearch(method=) must be 'dense', 'bm25' or 'hybrid', not {self.method!r}")


def enable_tool_search(server: Server, config: bool | ToolSearch = True) -> ServerSearch:
    """Give `server` its search tools (what `Server(tool_search=...)` and `serve --tool-search` do)."""
    settings = ToolSearch() if config is True else config
    if not isinstance(settings, ToolSearch):
        raise TypeError("tool_search must be True or a ToolSearch")
    existing: ServerSearch | None = server.tool_search
    if existing is not None:
        existing.reconfigure(settings)
        return existing
    check_installed(settings)
    search = ServerSearch(server, settings)
    server.tool_search = search
    search.start()
    return search


def check_installed(config: ToolSearch) -> None:
    """Import what the search needs now, so a missing extra is one clear error at start, not at first use."""
    modules = ["numpy", "bm25s"]
    if config.method != "bm25":
        modules.append("faiss")
        if config.embedder is None:
            modules += EMBEDDING_MODULES
    require(modules, "tool search", ToolSearchUnavailable)


class ServerSearch:
    """A server's search tools and the catalogs behind them."""

    def __init__(self, server: Server, config: ToolSearch) -> None:
        self.server = server
        self.config = config
        # One thread for every catalog job: searches and updates never overlap, and never run on the loop.
        self._thread: ThreadPoolExecutor | None = None
        self._thread_made = threading.Lock()
        self._embedder: Embedder | None = None
        self._embedder_ready = threading.Lock()
        self.builtins: set[str] = set()  # the search tools this server offers now
        self.kinds = {
            "tools": _Searchable(self, SEARCH_TOOLS, _tool_entries),
            "resources": _Searchable(self, SEARCH_RESOURCES, _resource_entries),
            "prompts": _Searchable(self, SEARCH_PROMPTS, _prompt_entries),
        }

    def start(self) -> None:
        self._offer(SEARCH_TOOLS)
        for kind in ("tools", "resources", "prompts"):
            self.changed(kind)
        if self.config.warm:
            for searchable in self.kinds.values():
                self.submit(searchable.apply)

    def reconfigure(self, config: ToolSearch) -> None:
        """New settings (`serve --tool-search-*` on an application that has its own): the search tools are
        registered again, since their descriptions and schemas say what the settings are."""
        check_installed(config)
        searching = (self.config.method, self.config.threshold, self.config.embedder)
        for name in list(self.builtins):
            self._withdraw(name)
        self.config = config
        if (config.method, config.threshold, config.embedder) != searching:
            self.submit(self._reset)  # in the search thread, before any later search
        self.start()

    def _reset(self) -> None:
        with self._embedder_ready:
            self._embedder = None
        for searchable in self.kinds.values():
            searchable.catalog = None

    # -- the Server's hooks ---------------------------------------------------------------------------------

    def changed(self, kind: str) -> None:
        """A registry changed (called by `Server._changed`): offer or withdraw its search tool, record it."""
        if kind == "resources" and self.config.resources:
            self._offer_while(SEARCH_RESOURCES, bool(self.server._resources or self.server._templates))
        elif kind == "prompts" and self.config.prompts:
            self._offer_while(SEARCH_PROMPTS, bool(self.server._prompts))
        searchable = self.kinds.get("resources" if kind == "templates" else kind)
        if searchable is not None:
            searchable.record()
            searchable.uncache()

    def listed(self, specs: Iterable[ToolSpec]) -> Iterable[ToolSpec]:
        """The tools tools/list shows: all of them, or (deferred) the search tools and the pinned ones."""
        if not self.config.deferred:
            return specs
        shown = self.builtins | set(self.config.pinned)
        return [spec for spec in specs if spec.name in shown]

    def shutdown(self) -> None:
        """The server stops: the search thread ends once its job is done (an idle one at once), so that the
        process does not wait out its grace period for it."""
        with self._thread_made:
            thread, self._thread = self._thread, None
        if thread is not None:
            thread.shutdown(wait=False, cancel_futures=True)

    def thread(self) -> ThreadPoolExecutor:
        """The search thread (made again if a stopped server serves again)."""
        with self._thread_made:
            if self._thread is None:
                self._thread = ThreadPoolExecutor(1, thread_name_prefix="mcprt-search")
            return self._thread

    # -- the search thread ----------------------------------------------------------------------------------

    async def run(self, job: Callable[[], Any]) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self.thread(), job)

    def submit(self, job: Callable[[], Any]) -> None:
        self.thread().submit(_logged, job)

    def submit_if_running(self, job: Callable[[], Any]) -> None:
        """`submit`, unless the server stopped meanwhile (a late timer must not start the thread again)."""
        with self._thread_made:
            thread = self._thread
        if thread is not None:
            with contextlib.suppress(RuntimeError):  # shut down between the check and the submit
                thread.submit(_logged, job)

    def embedder(self) -> Embedder | None:
        """The embedder, made on first use (in the search thread: loading MiniLM takes a moment)."""
        if self.config.method == "bm25":
            return None
        with self._embedder_ready:
            if self._embedder is None:
                made = self.config.embedder
                if made is None:
                    from router.embed import default_embedder

                    self._embedder = default_embedder(threads=1)
                elif hasattr(made, "embed"):
                    self._embedder = made  # type: ignore[assignment]
                else:
                    self._embedder = made()
            return self._embedder

    # -- the built-in tools ---------------------------------------------------------------------------------

    def _offer_while(self, name: str, wanted: bool) -> None:
        if wanted and name not in self.builtins:
            self._offer(name)
        elif not wanted and name in self.builtins:
            self._withdraw(name)

    def _withdraw(self, name: str) -> None:
        if name in self.server._tools:
            self.server.remove_tool(name)  # still a built-in meanwhile: its own removal never catalogues it
        self.builtins.discard(name)

    def _offer(self, name: str) -> None:
        if name in self.server._tools:
            raise ValueError(f"tool search: a tool named {name!r} is already registered")
        kind = {SEARCH_TOOLS: "tools", SEARCH_RESOURCES: "resources", SEARCH_PROMPTS: "prompts"}[name]
        searchable = self.kinds[kind]

        async def search(
            query: str, limit: int = DEFAULT_LIMIT, ctx: Context | None = None
        ) -> t.CallToolResult:
            # The Context is the server's to give; a direct call (no Context) searches everything.
            return await searchable.search(query, limit, granted(ctx) if ctx is not None else None)

        self.builtins.add(name)
        self.server.add_tool(
            search,
            name=name,
            title=_TITLES[kind],
            description=_description(kind, self.config),
            input_schema=_input_schema(kind, self.config.limit_max),
            output_schema=_output_schema(kind),
            annotations={"readOnlyHint": True, "idempotentHint": True, "openWorldHint": False},
        )


class _Searchable:
    """One kind's catalog: the latest registry snapshot, applied in the search thread when next needed."""

    def __init__(
        self,
        owner: ServerSearch,
        tool: str,
        entries_of: Callable[[ServerSearch], dict[str, tuple[Entry, dict[str, Any]]]],
    ) -> None:
        self.owner = owner
        self.tool = tool
        self.entries_of = entries_of
        self.catalog: Catalog | None = None
        self.results: dict[str, dict[str, Any]] = {}  # by catalog key: what a match answers with
        self._stale = True  # the registry changed since the catalog last followed it
        self._apply_took = 0.0  # seconds the last update of the catalog took
        self._cached = False  # a search may have stored results in the shared cache since the last change
        self._scheduled = False
        self._lock = threading.Lock()

    def record(self) -> None:
        """The registry changed (on the registering thread). Cheap: the snapshot itself is taken by the next
        job in the search thread, so registering n tools costs O(n), not O(n²)."""
        with self._lock:
            self._stale = True
            built = self.catalog is not None or self.owner.config.warm
            schedule = built and not self._scheduled
            self._scheduled = self._scheduled or schedule
        if schedule:  # a built catalog follows the registry in the background; an unbuilt one waits
            # A moment later, so that a burst of registrations (an app importing, an upstream reconnecting)
            # is applied once, not once per registration; a search meanwhile applies it itself.
            # At least twice the last update's time: on a large catalog the background share stays <= 1/3.
            delay = max(FOLLOW_AFTER, 2 * self._apply_took)
            timer = threading.Timer(delay, self.owner.submit_if_running, (self.apply,))
            timer.daemon = True
            timer.start()

    def uncache(self) -> None:
        """After `record`: co-located readers must not get a route to a tool that is gone. The scan of the
        cache's index (a few ms) is skipped while no search of this kind ran since the last one; a search
        marks `_cached` before it takes the generation, so one in flight is either seen here or started after
        `record` (and so searches the new registry)."""
        cache = self.owner.server.cache
        if cache is not None and self._cached:
            self._cached = False
            cache.remove_kind(KIND_TOOL, search_prefix(_KIND_OF[self.tool]))

    def apply(self) -> None:
        """In the search thread: bring the catalog up to the registry as it is now (incremental)."""
        with self._lock:
            stale, self._stale, self._scheduled = self._stale, False, False
        begun = time.perf_counter()
        try:
            if self.catalog is None:
                from router.search import Catalog

                config = self.owner.config
                embedder = self.owner.embedder()
                self.catalog = Catalog(embedder, method=config.method, threshold=config.threshold)
                stale = True
            if stale:
                # A registration meanwhile sets _stale again (after this snapshot) and schedules another job.
                snapshot = self.entries_of(self.owner)
                self.catalog.replace([entry for entry, _ in snapshot.values()])
                self.results = {key: result for key, (_, result) in snapshot.items()}
                self._apply_took = time.perf_counter() - begun
        except BaseException:
            self.catalog = None  # half updated: the next job builds it again from the registry
            raise

    def find(self, query: str, limit: int | None) -> list[dict[str, Any]]:
        """The best `limit` matches (None: every entry, ranked)."""
        self.apply()
        assert self.catalog is not None
        found = []
        for match in self.catalog.search(query, (len(self.results) or 1) if limit is None else limit):
            result = self.results.get(match.entry.name)
            if result is not None:
                found.append({**result, "score": round(match.score, 4)})
        return found

    async def search(self, query: str, asked: int, allowed: frozenset[str] | None = None) -> t.CallToolResult:
        """The best matches; with `allowed` (the caller's scopes, when lists are filtered by them), only
        those it may use, as its lists show them: the best `asked` of those, not fewer."""
        limit = min(asked, self.owner.config.limit_max)
        kind = _KIND_OF[self.tool]
        tables = self.owner.server.scopes.entries
        scoped = tables[kind] or (kind == "resources" and tables["templates"])
        visible = allowed if scoped else None  # None: nothing of this kind is hidden from anyone
        # A filtered answer is this caller's, not one for every reader of the shared cache.
        cache = self.owner.server.cache if visible is None else None
        key = search_key(query, asked, kind)  # what the caller asked: what a reader looks up
        # Taken before the search: a registry change meanwhile bumps it, and the stale result is not stored.
        self._cached = self._cached or cache is not None
        generation = cache.generation(key) if cache is not None else 0
        if visible is None:
            found = await self.owner.run(lambda: self.find(query, limit))
        else:
            # Every entry ranked, then those out of the caller's scopes dropped: the hidden ones must not
            # take the places of the ones it may see.
            everything = await self.owner.run(lambda: self.find(query, None))
            found = [match for match in everything if entry_scopes(tables, kind, match) <= visible][:limit]
        structured = {kind: found}
        data = encode(structured)
        text = data.decode() if found else f"No {kind[:-1]} matches this query."
        if cache is not None:
            # For co-located readers (ipc/search_keys.py); the server itself always searches.
            cache.put(key, data, kind=KIND_TOOL, generation=generation)
        return t.CallToolResult(content=[t.TextContent(text=text)], structured_content=structured)


def _logged(job: Callable[[], Any]) -> None:
    try:
        job()
    except Exception:  # a background update; the next search applies the registry again
        log.exception("tool search: updating a catalog failed")


# -- what each kind's catalog holds ------------------------------------------------------------------------


def _tool_entries(owner: ServerSearch) -> dict[str, tuple[Entry, dict[str, Any]]]:
    from router.search import Entry

    out: dict[str, tuple[Entry, dict[str, Any]]] = {}
    for name, spec in list(owner.server._tools.items()):
        if name in owner.builtins:
            continue
        d = spec.definition
        result = {"name": name, "description": d.get("description", ""), "inputSchema": d["inputSchema"]}
        if "title" in d:
            result["title"] = d["title"]
        entry = Entry(name, result["description"], d["inputSchema"], d.get("title", ""))
        out[name] = (entry, result)
    return out


def _resource_entries(owner: ServerSearch) -> dict[str, tuple[Entry, dict[str, Any]]]:
    from router.search import Entry

    out: dict[str, tuple[Entry, dict[str, Any]]] = {}
    specs = [*list(owner.server._resources.values()), *list(owner.server._templates.values())]
    for spec in specs:
        d = spec.definition
        key = d.get("uri") or d["uriTemplate"]
        result = {k: d[k] for k in ("uri", "uriTemplate", "name", "title", "mimeType") if k in d}
        result["description"] = d.get("description", "")
        # The URI's words (weather://cities/{city}) say what it is as much as its name does.
        entry = Entry(key, result["description"], title=" ".join(filter(None, [d["name"], d.get("title")])))
        out[key] = (entry, result)
    return out


def _prompt_entries(owner: ServerSearch) -> dict[str, tuple[Entry, dict[str, Any]]]:
    from router.search import Entry

    out: dict[str, tuple[Entry, dict[str, Any]]] = {}
    for name, spec in list(owner.server._prompts.items()):
        d = spec.definition
        arguments = d.get("arguments", [])
        result = {"name": name, "description": d.get("description", ""), "arguments": arguments}
        if "title" in d:
            result["title"] = d["title"]
        schema = {"properties": {a["name"]: {"description": a.get("description", "")} for a in arguments}}
        out[name] = (Entry(name, result["description"], schema, d.get("title", "")), result)
    return out


# -- the built-in tools' definitions -----------------------------------------------------------------------

_KIND_OF = {SEARCH_TOOLS: "tools", SEARCH_RESOURCES: "resources", SEARCH_PROMPTS: "prompts"}
_TITLES = {"tools": "Search tools", "resources": "Search resources", "prompts": "Search prompts"}


def _description(kind: str, config: ToolSearch) -> str:
    if kind == "tools":
        text = (
            "Find this server's tools for a task, described in plain words. Returns the best matches first, "
            "each with its name and inputSchema: call it directly by that name."
        )
        if config.deferred:
            text += " Most tools are not in tools/list: search for them here."
        return text
    if kind == "resources":
        return "Find this server's resources and resource templates for a request, best first (read by uri)."
    return "Find this server's prompts for a request, best first (get them by name with their arguments)."


def _input_schema(kind: str, limit_max: int) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "query": {
                "type": "string",
                "minLength": 1,
                "maxLength": MAX_QUERY_CHARS,
                "description": "what you want to do, in plain words (e.g. 'read a file')",
            },
            "limit": {
                "type": "integer",
                "minimum": 1,
                "default": DEFAULT_LIMIT,
                "description": f"how many {kind} at most (1 to {limit_max}; more is cut to {limit_max})",
            },
        },
        "required": ["query"],
        "additionalProperties": False,
    }


_ITEM_PROPERTIES: dict[str, dict[str, Any]] = {
    "tools": {
        "name": {"type": "string"},
        "title": {"type": "string"},
        "description": {"type": "string"},
        "inputSchema": {"type": "object"},
        "score": {"type": "number"},
    },
    "resources": {
        "uri": {"type": "string"},
        "uriTemplate": {"type": "string"},
        "name": {"type": "string"},
        "title": {"type": "string"},
        "mimeType": {"type": "string"},
        "description": {"type": "string"},
        "score": {"type": "number"},
    },
    "prompts": {
        "name": {"type": "string"},
        "title": {"type": "string"},
        "description": {"type": "string"},
        "arguments": {"type": "array", "items": {"type": "object"}},
        "score": {"type": "number"},
    },
}
_REQUIRED = {
    "tools": ["name", "description", "inputSchema", "score"],
    "resources": ["name", "description", "score"],
    "prompts": ["name", "description", "arguments", "score"],
}


def _output_schema(kind: str) -> dict[str, Any]:
    item = {"type": "object", "properties": _ITEM_PROPERTIES[kind], "required": _REQUIRED[kind]}
    return {
        "type": "object",
        "properties": {kind: {"type": "array", "items": item}},
        "required": [kind],
    }
