"""A FAISS inner-product index over unit vectors, keyed by integer ids, with incremental add and remove.

Small catalogs get an exact flat index (every search scans all vectors: at 10,000 x 384 floats that is ~15
MB and well under a millisecond). From ``hnsw_above`` vectors on, an HNSW graph is built instead; HNSW
cannot delete, so a removed id is hidden from results and the graph is rebuilt once a quarter of it is dead.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from router.embed import Vectors

HNSW_ABOVE = 20_000
HNSW_NEIGHBOURS = 32


@dataclass(frozen=True, slots=True)
class Hit:
    id: int
    score: float


class VectorIndex:
    def __init__(self, dim: int, *, hnsw_above: int = HNSW_ABOVE, threads: int = 1) -> None:
        import faiss

        faiss.omp_set_num_threads(threads)
        self.dim = dim
        self._hnsw_above = hnsw_above
        self._vectors: dict[int, Vectors] = {}
        self._index: object | None = None
        self._kind = "flat"
        self._dead: set[int] = set()  # ids still in an HNSW graph but removed

    def __len__(self) -> int:
        return len(self._vectors)

    @property
    def kind(self) -> str:
        return self._kind

    def add(self, ids: list[int], vectors: Vectors) -> None:
        if len(ids) != len(vectors):
            raise ValueError("one vector per id")
        replaced = [i for i in ids if i in self._vectors]
        if replaced:
            self.remove(replaced)
        for key, row in zip(ids, vectors, strict=True):
            self._vectors[key] = np.ascontiguousarray(row, dtype=np.float32)
            self._dead.discard(key)
        if self._index is None or self._wants_rebuild() or (replaced and self._kind == "hnsw"):
            self._rebuild()
        else:
            self._index.add_with_ids(  # type: ignore[attr-defined]  # faiss has no type information
                np.ascontiguousarray(vectors, np.float32),
                np.asarray(ids, np.int64),
            )

    def remove(self, ids: list[int]) -> None:
        gone = [i for i in ids if self._vectors.pop(i, None) is not None]
        if not gone or self._index is None:
            return
        if self._kind == "flat":
            self._index.remove_ids(np.asarray(gone, np.int64))  # type: ignore[attr-defined]
        else:
            self._dead.update(gone)
            if self._wants_rebuild():
                self._rebuild()

    def search(self, query: Vectors, k: int) -> list[Hit]:
        if self._index is None or not self._vectors or k <= 0:
            return []
        want = min(k + len(self._dead), len(self._vectors) + len(self._dead))
        scores, ids = self._index.search(np.ascontiguousarray(query.reshape(1, -1), np.float32), want)  # type: ignore[attr-defined]
        hits = [
            Hit(int(i), float(s))
            for s, i in zip(scores[0], ids[0], strict=True)
            if i >= 0 and int(i) not in self._dead
        ]
        return hits[:k]

    def _wants_rebuild(self) -> bool:
        target = "hnsw" if len(self._vectors) > self._hnsw_above else "flat"
        if target != self._kind:
            return True
        return self._kind == "hnsw" and len(self._dead) * 4 > max(len(self._vectors), 1)

    def _rebuild(self) -> None:
        import faiss

        if len(self._vectors) > self._hnsw_above:
            self._kind = "hnsw"
            inner = faiss.IndexHNSWFlat(self.dim, HNSW_NEIGHBOURS, faiss.METRIC_INNER_PRODUCT)
            inner.hnsw.efSearch = 64
            index = faiss.IndexIDMap2(inner)
        else:
            self._kind = "flat"
            index = faiss.IndexIDMap2(faiss.IndexFlatIP(self.dim))
        self._dead.clear()
        if self._vectors:
            ids = np.fromiter(self._vectors, np.int64, len(self._vectors))
            index.add_with_ids(np.stack(list(self._vectors.values())), ids)
        self._index = index
