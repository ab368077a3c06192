"""Search over a catalog of tools, resources or prompts: dense (embeddings + FAISS), BM25, or a hybrid.

Each entry becomes two documents: for the embedding, its name split into words, its title and description
(``summary``); for BM25 the same plus the names and descriptions of its parameters (``document``). The hybrid
score is the dense cosine plus a saturated BM25 term ``weight * s / (s + saturation)``: both parts are
absolute (not rescaled per query), so one threshold can say "no good match" for every query.

The defaults (hybrid, its weight and saturation, the documents, the thresholds) are what perf/router_eval.py
measured best on real tool catalogs; README "Semantic router" has the numbers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from router.embed import Embedder
from router.index import IVF_ABOVE, VectorIndex
from router.lexical import Bm25, words

Method = Literal["dense", "bm25", "hybrid"]

HYBRID_WEIGHT = 0.8
HYBRID_SATURATION = 3.0
# "No good match" below these scores, for each method at its default settings (chosen on the tune half).
THRESHOLDS: dict[str, float] = {"hybrid": 0.590, "dense": 0.287, "bm25": 2.941}
CANDIDATES = 200  # the hybrid fuses each half's best this many


@dataclass(frozen=True, slots=True)
class Entry:
    name: str
    description: str = ""
    schema: dict[str, Any] = field(default_factory=dict)
    title: str = ""


@dataclass(frozen=True, slots=True)
class Match:
    entry: Entry
    score: float


def document(entry: Entry, *, parameters: bool = True) -> str:
    parts = [" ".join(words_of_name(entry.name)), entry.title, entry.description]
    properties = entry.schema.get("properties") if isinstance(entry.schema, dict) else None
    if parameters and isinstance(properties, dict):
        for name, spec in properties.items():
            described = spec.get("description", "") if isinstance(spec, dict) else ""
            parts.append(f"{' '.join(words_of_name(str(name)))} {described}".strip())
    return ". ".join(p for p in parts if p)


def summary(entry: Entry) -> str:
    """The document without parameters: what the dense half embeds (parameters dilute it, see README)."""
    return document(entry, parameters=False)


def words_of_name(name: str) -> list[str]:
    import re

    return [w.lower() for w in re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+", name)]


class Catalog:
    """Entries by name, kept in step with the dense index and the BM25 index."""

    def __init__(
        self,
        embedder: Embedder | None,
        *,
        method: Method = "hybrid",
        threshold: float | None = None,
        weight: float = HYBRID_WEIGHT,
        saturation: float = HYBRID_SATURATION,
        dense_text: Callable[[Entry], str] = summary,
        lexical_text: Callable[[Entry], str] = document,
        ivf_above: int = IVF_ABOVE,
    ) -> None:
        if method != "bm25" and embedder is None:
            raise ValueError(f"method {method!r} needs an embedder")
        self.method: Method = method
        self.threshold = THRESHOLDS[method] if threshold is None else threshold
        self._weight = weight
        self._saturation = saturation
        self._dense_text = dense_text
        self._lexical_text = lexical_text
        self._embedder = embedder
        self._entries: dict[int, Entry] = {}
        self._ids: dict[str, int] = {}
        self._next_id = 0
        self._index = VectorIndex(embedder.dim, ivf_above=ivf_above) if embedder is not None else None
        self._bm25 = Bm25()
        self._words: dict[int, list[str]] = {}  # each entry's BM25 document, split once
        self._bm25_rows = np.zeros(0, np.int64)  # BM25 row -> entry id
        self._bm25_stale = True

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def index(self) -> VectorIndex | None:
        return self._index

    def upsert(self, entries: list[Entry]) -> None:
        if not entries:
            return
        ids = []
        for entry in entries:
            key = self._ids.get(entry.name)
            if key is None:
                key = self._ids[entry.name] = self._next_id
                self._next_id += 1
            self._entries[key] = entry
            if self.method != "dense":
                self._words[key] = words(self._lexical_text(entry))
            ids.append(key)
        if self._index is not None and self._embedder is not None and self.method != "bm25":
            self._index.add(ids, self._embedder.embed([self._dense_text(e) for e in entries]))
        self._bm25_stale = True

    def remove(self, names: list[str]) -> None:
        ids = [self._ids.pop(n) for n in names if n in self._ids]
        for key in ids:
            del self._entries[key]
            self._words.pop(key, None)
        if self._index is not None:
            self._index.remove(ids)
        self._bm25_stale = bool(ids) or self._bm25_stale

    def replace(self, entries: list[Entry]) -> None:
        """Make the catalog exactly ``entries``: unchanged ones are not embedded again."""
        wanted = {e.name: e for e in entries}
        self.remove([n for n in self._ids if n not in wanted])
        self.upsert([e for e in entries if self._entries.get(self._ids.get(e.name, -1)) != e])

    def search(self, query: str, limit: int = 5) -> list[Match]:
        if not self._entries or limit <= 0:
            return []
        scores = self._scores(query, limit)
        order = sorted(scores.items(), key=lambda item: -item[1])[:limit]
        return [Match(self._entries[key], score) for key, score in order if score >= self.threshold]

    def _scores(self, query: str, limit: int) -> dict[int, float]:
        dense: dict[int, float] = {}
        if self.method != "bm25" and self._index is not None and self._embedder is not None:
            vector = self._embedder.embed([query])[0]
            depth = min(len(self._entries), limit if self.method == "dense" else CANDIDATES)
            scores, ids = self._index.search_arrays(vector, depth)
            dense = dict(zip(ids.tolist(), scores.tolist(), strict=True))
            if self.method == "dense":
                return dense
        lexical = self._lexical(query)
        if self.method == "bm25":
            return lexical
        floor = min(dense.values(), default=0.0)  # BM25-only candidates: the weakest dense score
        fused: dict[int, float] = {}
        for key in dense.keys() | lexical.keys():
            s = lexical.get(key, 0.0)
            fused[key] = dense.get(key, floor) + self._weight * s / (s + self._saturation)
        return fused

    def _lexical(self, query: str) -> dict[int, float]:
        if self._bm25_stale:
            self._bm25_rows = np.fromiter(self._entries, np.int64, len(self._entries))
            self._bm25.index_words([self._words[k] for k in self._bm25_rows.tolist()])
            self._bm25_stale = False
        scores = self._bm25.scores(query)
        if not len(scores):
            return {}
        if len(scores) > CANDIDATES:
            top = np.argpartition(-scores, CANDIDATES)[:CANDIDATES]
        else:
            top = np.arange(len(scores))
        top = top[scores[top] > 0]
        return dict(zip(self._bm25_rows[top].tolist(), scores[top].tolist(), strict=True))
