"""The semantic result cache: `@server.tool(semantic_cache=0.92)` answers a call whose free-text arguments
mean what an earlier call's meant (the cosine similarity of their embeddings is 0.92 or more) with its result.

Order of a call of such a tool: the exact key in the shared result cache (microseconds, on the loop); then
the arguments are validated (invalid ones never reach the cache); then, on this module's own thread, the
arguments are rendered, embedded and compared with the stored vectors of the same tool (ipc/vectors.py, shared
by every worker); a match at or above the threshold answers with the result stored under the match's exact
key. A miss runs the tool, stores its result under the exact key and the vector next to it.

What is compared by meaning: only the string arguments declared as free text (a string property without
`enum`, `const`, `format` or `pattern`). Everything else — numbers, booleans, lists, objects, enumerated or
formatted strings — must be equal for a match: "3 days" and "4 days" embed alike, but must not share a
result. The free text is rendered as sorted `name: value` lines: natural text is what a sentence encoder was
trained on (JSON quotes and braces would spend tokens of its 128-token window on punctuation), the names keep
the same words in different arguments apart, and the sort makes argument order irrelevant. A rendering the
model would cut short (past its token window) is not cached by meaning: two calls differing past the cut
would embed identically.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import msgspec

from runtime.server.extras import EMBEDDING_MODULES, require

if TYPE_CHECKING:
    from ipc.cache import SharedCache
    from ipc.vectors import Match, SharedVectors, Vector
    from router.embed import Embedder
    from runtime.server.tools import ToolSpec

log = logging.getLogger("mcprt.semantic_cache")

DEFAULT_ENTRIES = 4096
MAX_ENTRIES = 1 << 20  # ipc.vectors.MAX_ENTRIES (imported only once numpy is needed)
MAX_TEXT_CHARS = 4000  # beyond the model's window in any case; bounds the tokenizer's work
_EXACT_KEYWORDS = frozenset({"enum", "const", "format", "pattern"})
HIT, MISS, STORE, SKIPPED = 0, 1, 2, 3  # counter lanes of ipc/vectors.py


class SemanticCacheUnavailable(ImportError):
    """A tool asked for the semantic cache but the router extra (numpy, ONNX Runtime, MiniLM) is missing."""


@dataclass(frozen=True, slots=True)
class SemanticCache:
    """How a server's semantic result cache embeds and how much it keeps (`Server(semantic_cache=...)`).

    embedder: a `router.embed.Embedder`, or a function that makes one (called once, in the cache's thread);
      None: MiniLM int8 on one thread (`router.embed.shared_default_embedder`).
    entries: vectors kept by all workers together (`--semantic-cache-entries`); the oldest goes first.
    """

    embedder: Embedder | Callable[[], Embedder] | None = None
    entries: int = DEFAULT_ENTRIES

    def __post_init__(self) -> None:
        if not 1 <= self.entries <= MAX_ENTRIES:
            raise ValueError(f"semantic cache entries must be between 1 and {MAX_ENTRIES}")


def check_installed(settings: SemanticCache) -> None:
    modules = ["numpy"]
    if settings.embedder is None:
        modules += EMBEDDING_MODULES
    require(modules, "semantic_cache", SemanticCacheUnavailable)


@dataclass(frozen=True, slots=True)
class Comparable:
    """A call's arguments split for the cache: the free text to embed, and the rest, which must be equal."""

    text: str
    exact: bytes  # the other arguments as canonical JSON

    @property
    def partition(self) -> int:
        return zlib.crc32(self.exact)


def comparable(tool: ToolSpec, arguments: dict[str, Any]) -> Comparable | None:
    """The arguments as the cache compares them; None: no free text (the exact cache alone serves it)."""
    properties = tool.definition["inputSchema"].get("properties") or {}
    lines = []
    exact = {}
    for name in sorted(arguments):
        value = arguments[name]
        schema = properties.get(name)
        if isinstance(value, str) and isinstance(schema, dict) and not _EXACT_KEYWORDS & schema.keys():
            lines.append(f"{name}: {value}")
        else:
            exact[name] = value
    if not lines:
        return None
    return Comparable("\n".join(lines), msgspec.json.encode(exact, order="sorted"))


@dataclass(slots=True)
class Found:
    """What a lookup found: the earlier result, or what to store once the tool has answered."""

    hit: bytes | None = None
    vector: Vector | None = None
    partition: int = 0


class SemanticResults:
    """A server's semantic cache: its thread, its embedder, and its mapping of the shared vectors."""

    def __init__(self, settings: SemanticCache) -> None:
        self.settings = settings
        self._thread: ThreadPoolExecutor | None = None
        self._thread_made = threading.Lock()
        self._embedder: Embedder | None = None
        self._vectors: SharedVectors | None = None
        self._vectors_of: str | None = None  # the result cache's name the mapping belongs to
        self._ready = threading.Lock()  # the embedder, made once
        self._mapping = threading.Lock()  # the vectors: never waits for the embedder to load
        self._broken = False  # the embedder failed to load: calls run as if there were no semantic cache

    def reconfigure(self, settings: SemanticCache) -> None:
        self.settings = settings

    def thread(self) -> ThreadPoolExecutor:
        with self._thread_made:
            if self._thread is None:
                self._thread = ThreadPoolExecutor(1, thread_name_prefix="mcprt-semantic")
            return self._thread

    def shutdown(self) -> None:
        with self._thread_made:
            thread, self._thread = self._thread, None
        if thread is not None:
            thread.shutdown(wait=False, cancel_futures=True)
        with self._mapping:
            if self._vectors is not None:
                self._vectors.close()
                self._vectors = None

    # -- on the loop ---------------------------------------------------------------------------------------

    async def find(self, tool: ToolSpec, arguments: dict[str, Any], cache: SharedCache) -> Found:
        """An earlier result for a call that means the same, else what to store; a failure of the cache
        itself (the embedder, the mapping) is logged and the call runs as if there were none."""
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self.thread(), self._find, tool, arguments, cache)
        except Exception:
            log.exception("semantic cache: the lookup failed; the call runs")
            return Found()

    def remember(self, tool: ToolSpec, found: Found, key: str, cache: SharedCache) -> None:
        """After a miss whose result is now in the result cache: store its vector (in the thread)."""
        vector = found.vector
        if vector is not None:
            self.thread().submit(self._remember, tool.name, found.partition, key, vector, cache)

    def invalidate(self, tool: str, cache: SharedCache) -> None:
        """The tool was removed or registered again: its entries go, for every worker."""
        vectors = self._mapped(cache, None)
        if vectors is not None:
            vectors.remove_tool(tool)

    # -- in the thread -------------------------------------------------------------------------------------

    def _find(self, tool: ToolSpec, arguments: dict[str, Any], cache: SharedCache) -> Found:
        embedder = self._embedder_or_none()
        vectors = self._mapped(cache, embedder.dim) if embedder is not None else None
        if embedder is None or vectors is None:
            return Found()
        rendered = comparable(tool, arguments)
        fits = getattr(embedder, "fits", None)
        if (
            rendered is None
            or len(rendered.text) > MAX_TEXT_CHARS
            or (fits is not None and not fits(rendered.text))
        ):
            vectors.count(SKIPPED)
            return Found()
        vector = embedder.embed([rendered.text])[0]
        threshold = tool.semantic_cache
        assert threshold is not None
        match = vectors.best(tool.name, rendered.partition, vector, threshold)
        if match is not None and _same_exact_part(tool, match, rendered):
            hit = cache.get(match.key)
            if hit is not None:
                vectors.count(HIT)
                return Found(hit)
            vectors.remove(match.slot, match.key)  # its result was evicted, expired or invalidated
        vectors.count(MISS)
        return Found(None, vector, rendered.partition)

    def _remember(self, tool: str, partition: int, key: str, vector: Vector, cache: SharedCache) -> None:
        try:
            vectors = self._mapped(cache, len(vector))
            if vectors is not None and not vectors.add(tool, partition, key, vector):
                vectors.count(SKIPPED)  # the exact key is too long to point to
        except Exception:  # the call was answered; the next one like it runs again
            log.exception("semantic cache: storing a vector failed")

    def _embedder_or_none(self) -> Embedder | None:
        with self._ready:
            if self._embedder is None and not self._broken:
                made = self.settings.embedder
                try:
                    if made is None:
                        from router.embed import shared_default_embedder

                        self._embedder = shared_default_embedder()
                    elif hasattr(made, "embed"):
                        self._embedder = made  # type: ignore[assignment]
                    else:
                        self._embedder = made()
                except Exception:
                    log.exception(
                        "semantic cache: the embedder failed to load; calls run uncached by meaning"
                    )
                    self._broken = True
            return self._embedder

    def _mapped(self, cache: SharedCache, dim: int | None) -> SharedVectors | None:
        """The shared vectors of this result cache: attached, or created when `dim` is known (None: attach
        only if some process made them)."""
        with self._mapping:
            if self._vectors is not None and self._vectors_of == cache.name:
                return self._vectors
            if self._vectors is not None:  # another cache (a server served again): map its vectors
                self._vectors.close()
                self._vectors = None
            from ipc.names import name_for_cache
            from ipc.vectors import SharedVectors

            name = name_for_cache(cache.name)
            try:
                if dim is None:
                    vectors = SharedVectors.attach(name)
                else:
                    vectors = SharedVectors.attach_or_create(
                        name, self.settings.entries, dim, cache.creator_pid
                    )
            except Exception as exc:
                if dim is not None:
                    log.warning(
                        "semantic cache: cannot map %s (%s); calls run uncached by meaning", name, exc
                    )
                return None
            if vectors.dim != (dim or vectors.dim):
                log.warning(
                    "semantic cache: %s holds %d-wide vectors, this embedder makes %d", name, vectors.dim, dim
                )
                vectors.close()
                return None
            vectors.lane = cache.lane
            self._vectors, self._vectors_of = vectors, cache.name
            return vectors


def _same_exact_part(tool: ToolSpec, match: Match, rendered: Comparable) -> bool:
    """The match is this tool's, and its other arguments equal ours (hashes only narrowed the search)."""
    prefix = f"t:{tool.name}:"
    if not match.key.startswith(prefix):
        return False
    try:
        arguments = msgspec.json.decode(match.key[len(prefix) :])
    except msgspec.DecodeError:
        return False
    theirs = comparable(tool, arguments) if isinstance(arguments, dict) else None
    return theirs is not None and theirs.exact == rendered.exact
