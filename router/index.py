"""A FAISS inner-product index over unit vectors, keyed by integer ids, with incremental add and remove.

Chosen by size (``python -m perf.route_bench --crossover`` measured it; README "Tool search"): up to
``ivf_above`` vectors an exact flat index (a search reads every vector, ~1.5 KB each: memory-bound, so it
gets slow once the vectors leave the CPU's caches), above it an inverted-file index (IVF: the vectors are
split into ``4·√n`` clusters by k-means, and a search reads the ``nprobe`` clusters nearest the query).
HNSW was measured too and lost: on a catalog of many near-identical tools (one tool in many workspaces, as
a gateway's union is) its recall@10 fell to 0.66 at 100,000 tools (efSearch 128; 0.93 at 512, slower than
IVF), where IVF keeps 0.995 at nprobe 16.

Both index kinds hold the ids themselves (``add_with_ids``, ``remove_ids``), so a change of the catalog is an
incremental add or remove, never a rebuild; the IVF's clusters are trained again only when the catalog has
grown or shrunk 4-fold since they were (or crosses the line), from the vectors the index itself stores.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from router.embed import Vectors

IVF_ABOVE = 4_000
NPROBE = 16
LISTS_PER_ROOT = 4  # clusters = 4·√n
TRAIN_PER_LIST = 40  # k-means samples per cluster (faiss warns below 39)
KMEANS_ITERATIONS = 10  # faiss's 25: 50,000 tools built in 6.0 s, not 5.0 s, for the same recall@10 (1.000)
RETRAIN_FACTOR = 4  # train again once the catalog is this many times larger or smaller than when trained


@dataclass(frozen=True, slots=True)
class Hit:
    id: int
    score: float


class VectorIndex:
    def __init__(
        self,
        dim: int,
        *,
        ivf_above: int = IVF_ABOVE,
        nprobe: int = NPROBE,
        threads: int = 1,
        seed: int = 1,
    ) -> None:
        import faiss

        faiss.omp_set_num_threads(threads)  # one core per worker: the other cores serve requests
        self.dim = dim
        self._ivf_above = ivf_above
        self._nprobe = nprobe
        self._seed = seed
        self._ids: set[int] = set()
        self._index: Any = None
        self._kind = "flat"
        self._trained_at = 0  # catalog size when the IVF's clusters were trained
        self.rebuilds = 0

    def __len__(self) -> int:
        return len(self._ids)

    @property
    def kind(self) -> str:
        return self._kind

    def add(self, ids: list[int], vectors: Vectors) -> None:
        """Add, or replace: an id already present gets the new vector."""
        if len(ids) != len(vectors):
            raise ValueError("one vector per id")
        if len(set(ids)) != len(ids):
            raise ValueError("ids must be distinct")
        if not ids:
            return
        self._drop([i for i in ids if i in self._ids])
        rows = np.ascontiguousarray(vectors, np.float32).reshape(len(ids), self.dim)
        labels = np.asarray(ids, np.int64)
        if self._index is None or self._needs_rebuild(len(self._ids) + len(ids)):
            self._rebuild(extra=(labels, rows))
        else:
            self._index.add_with_ids(rows, labels)
            self._ids.update(ids)

    def remove(self, ids: list[int]) -> None:
        self._drop([i for i in ids if i in self._ids])
        if self._index is not None and self._needs_rebuild(len(self._ids)):
            self._rebuild()

    def search(self, query: Vectors, k: int) -> list[Hit]:
        scores, ids = self.search_arrays(query, k)
        return [Hit(int(i), float(s)) for s, i in zip(scores, ids, strict=True)]

    def search_arrays(self, query: Vectors, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The best `k` as (scores, ids), best first: what `search` returns, without a Python object each."""
        if self._index is None or not self._ids or k <= 0:
            return np.zeros(0, np.float32), np.zeros(0, np.int64)
        k = min(k, len(self._ids))
        scores, ids = self._index.search(np.ascontiguousarray(query, np.float32).reshape(1, self.dim), k)
        found = ids[0] >= 0
        return scores[0][found], ids[0][found]

    def memory_bytes(self) -> int:
        """What the index holds (vectors, ids, clusters), as FAISS serialises it, and the id set."""
        import faiss

        if self._index is None:
            return 0
        return int(len(faiss.serialize_index(self._index)) + 60 * len(self._ids))

    # -- internals -------------------------------------------------------------------------------------------

    def _drop(self, ids: list[int]) -> None:
        if ids:
            self._index.remove_ids(np.asarray(ids, np.int64))
            self._ids.difference_update(ids)

    def _target(self, size: int) -> str:
        if size > self._ivf_above:
            return "ivf"
        if self._kind == "ivf" and size > self._ivf_above // 2:
            return "ivf"  # hysteresis: a catalog near the line does not flap between kinds
        return "flat"

    def _needs_rebuild(self, size: int) -> bool:
        target = self._target(size)
        if target != self._kind:
            return True
        if target == "ivf":
            return size > self._trained_at * RETRAIN_FACTOR or size * RETRAIN_FACTOR < self._trained_at
        return False

    def _stored(self) -> tuple[np.ndarray, np.ndarray]:
        """The ids and vectors the index holds (read back from it: no second copy is kept)."""

        if self._index is None or not self._ids:
            return np.zeros(0, np.int64), np.zeros((0, self.dim), np.float32)
        ids = np.fromiter(self._ids, np.int64, len(self._ids))
        return ids, self._index.reconstruct_batch(ids)

    def _rebuild(self, extra: tuple[np.ndarray, Vectors] | None = None) -> None:
        import faiss

        ids, vectors = self._stored()
        if extra is not None:
            ids = np.concatenate([ids, extra[0]])
            vectors = np.concatenate([vectors, extra[1]])
        size = len(ids)
        if self._target(size) == "ivf":
            lists = max(1, min(size, int(LISTS_PER_ROOT * math.sqrt(size))))  # k-means needs n >= clusters
            quantizer = faiss.IndexFlatIP(self.dim)
            index: Any = faiss.IndexIVFFlat(quantizer, self.dim, lists, faiss.METRIC_INNER_PRODUCT)
            index.cp.seed = self._seed
            index.cp.min_points_per_centroid = 1  # train on what there is; a warning would say only that
            index.cp.niter = KMEANS_ITERATIONS
            sample = TRAIN_PER_LIST * lists
            rng = np.random.default_rng(self._seed)
            chosen = vectors if size <= sample else vectors[rng.choice(size, sample, replace=False)]
            index.train(np.ascontiguousarray(chosen))
            index.nprobe = self._nprobe
            hashtable = faiss.DirectMap.Hashtable  # type: ignore[attr-defined]  # missing from faiss's stubs
            index.set_direct_map_type(hashtable)  # remove and reconstruct by id
            self._kind = "ivf"
            self._trained_at = size
        else:
            index = faiss.IndexIDMap2(faiss.IndexFlatIP(self.dim))
            self._kind = "flat"
            self._trained_at = 0
        if size:
            index.add_with_ids(np.ascontiguousarray(vectors, np.float32), ids)
        self._index = index
        self._ids = set(ids.tolist())
        self.rebuilds += 1
