"""Search over a catalog of tools, resources or prompts: dense (embeddings + FAISS), BM25, or a hybrid.

Each entry becomes one document: its name split into words, its title and description, and for tools the
names and descriptions of its parameters. The hybrid score is the dense cosine plus a saturated BM25 term
``weight * s / (s + saturation)``: both parts are absolute (not rescaled per query), so one threshold can
say "no good match" for every query.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from router.embed import Embedder
from router.index import VectorIndex
from router.lexical import Bm25

Method = Literal["dense", "bm25", "hybrid"]

HYBRID_WEIGHT = 0.35
HYBRID_SATURATION = 6.0


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


def document(entry: Entry) -> str:
    parts = [" ".join(words_of_name(entry.name)), entry.title, entry.description]
    properties = entry.schema.get("properties") if isinstance(entry.schema, dict) else None
    if isinstance(properties, dict):
        for name, spec in properties.items():
            described = spec.get("description", "") if isinstance(spec, dict) else ""
            parts.append(f"{' '.join(words_of_name(str(name)))} {described}".strip())
    return ". ".join(p for p in parts if p)


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
        threshold: float = 0.0,
        weight: float = HYBRID_WEIGHT,
        saturation: float = HYBRID_SATURATION,
    ) -> None:
        if method != "bm25" and embedder is None:
            raise ValueError(f"method {method!r} needs an embedder")
        self.method: Method = method
        self.threshold = threshold
        self._weight = weight
        self._saturation = saturation
        self._embedder = embedder
        self._entries: dict[int, Entry] = {}
        self._ids: dict[str, int] = {}
        self._next_id = 0
        self._index = VectorIndex(embedder.dim) if embedder is not None else None
        self._bm25 = Bm25()
        self._bm25_rows: list[int] = []
        self._bm25_stale = True

    def __len__(self) -> int:
        return len(self._entries)

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
            ids.append(key)
        if self._index is not None and self._embedder is not None and self.method != "bm25":
            self._index.add(ids, self._embedder.embed([document(e) for e in entries]))
        self._bm25_stale = True

    def remove(self, names: list[str]) -> None:
        ids = [self._ids.pop(n) for n in names if n in self._ids]
        for key in ids:
            del self._entries[key]
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
        scores = self._scores(query)
        order = sorted(scores.items(), key=lambda item: -item[1])[:limit]
        return [Match(self._entries[key], score) for key, score in order if score >= self.threshold]

    def _scores(self, query: str) -> dict[int, float]:
        dense: dict[int, float] = {}
        if self.method != "bm25" and self._index is not None and self._embedder is not None:
            vector = self._embedder.embed([query])[0]
            depth = len(self._entries) if self.method == "dense" else min(len(self._entries), 200)
            dense = {hit.id: hit.score for hit in self._index.search(vector, depth)}
            if self.method == "dense":
                return dense
        lexical = self._lexical(query)
        if self.method == "bm25":
            return lexical
        floor = min(
            dense.values(), default=0.0
        )  # BM25-only candidates: the weakest dense score
        fused: dict[int, float] = {}
        for key in dense.keys() | lexical.keys():
            s = lexical.get(key, 0.0)
            fused[key] = dense.get(key, floor) + self._weight * s / (s + self._saturation)
        return fused

    def _lexical(self, query: str) -> dict[int, float]:
        if self._bm25_stale:
            self._bm25_rows = list(self._entries)
            self._bm25.index([document(self._entries[k]) for k in self._bm25_rows])
            self._bm25_stale = False
        scores = self._bm25.scores(query)
        if not len(scores):
            return {}
        top = np.argsort(-scores)[:200]
        return {self._bm25_rows[int(i)]: float(scores[i]) for i in top if scores[i] > 0}
