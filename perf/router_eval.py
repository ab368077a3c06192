"""Retrieval quality of the router's search methods on real tool catalogs, and their search latency.

    python -m perf.router_eval [--bench] [--threads 1]

The catalog is router/eval/catalog/*.json (tools/list of public MCP servers, see router.eval.collect); each
tool is the entry ``server/tool``. The queries are router/eval/queries.jsonl, each labelled with the tools
that do it (any of them counts) or with none (nothing in the catalog does it). Queries are split in two
halves by a hash of their text: weights and thresholds are chosen on the tune half and reported on the test
half, so the numbers are not fitted to the queries they are reported on.

For every method: recall@1, recall@5 and MRR (over the first 10) on answerable queries; and, at the
threshold chosen on the tune half (the best F1 at saying "no good match"), the no-answer precision and recall
and how many answerable queries the threshold wrongly turns away. ``--bench`` adds search latency per query on
this catalog and on a synthetic 10,000-tool catalog, against a floor of a plain numpy dot product over the
same vectors.
"""

# ruff: noqa: E402  (the thread settings below must come before numpy is imported)
from __future__ import annotations

import os

# One thread, as each router worker runs: a multi-threaded BLAS on a shared 2-core machine only adds waiting.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse
import hashlib
import itertools
import json
import re
import statistics
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from router import embed as embed_module
from router.embed import Embedder, Vectors, cache_dir, default_embedder, minilm_paths
from router.search import Catalog, Entry, document, summary, words_of_name

EVAL = Path(__file__).resolve().parent.parent / "router" / "eval"
RRF_K = 60


@dataclass(frozen=True, slots=True)
class Query:
    text: str
    tools: frozenset[str]  # empty: no tool in the catalog does it

    @property
    def tune(self) -> bool:
        return hashlib.sha256(self.text.encode()).digest()[0] % 2 == 0


def load_catalog(servers: Iterable[str] | None = None) -> list[Entry]:
    wanted = set(servers) if servers is not None else None
    entries = []
    for path in sorted((EVAL / "catalog").glob("*.json")):
        data = json.loads(path.read_text())
        if wanted is not None and data["server"] not in wanted:
            continue
        for tool in data["tools"]:
            entries.append(
                Entry(
                    f"{data['server']}/{tool['name']}",
                    tool.get("description", ""),
                    tool.get("inputSchema", {}),
                    tool.get("title", ""),
                )
            )
    return entries


def load_queries() -> list[Query]:
    queries = []
    for line in (EVAL / "queries.jsonl").read_text().splitlines():
        if line.strip():
            row = json.loads(line)
            queries.append(Query(row["query"], frozenset(row["tools"])))
    return queries


class CachedEmbedder:
    """Embeds each distinct text once, so that every variant sees the same vectors at a fraction of the cost.
    With a ``path``, the vectors are kept there between runs (the file name should name the model)."""

    def __init__(self, inner: Embedder, path: Path | None = None) -> None:
        self.inner = inner
        self.dim = inner.dim
        self.path = path
        self._cache: dict[str, np.ndarray] = {}
        if path is not None and path.exists():
            with np.load(path) as saved:
                self._cache = dict(zip(saved["texts"].tolist(), saved["vectors"], strict=True))

    def remember(self, text: str, vector: np.ndarray) -> None:
        self._cache[text] = vector.astype(np.float32)

    def save(self) -> None:
        if self.path is None or not self._cache:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        texts = list(self._cache)
        partial = self.path.with_suffix(".part.npz")
        np.savez(partial, texts=np.array(texts), vectors=np.stack([self._cache[t] for t in texts]))
        partial.replace(self.path)

    def embed(self, texts: list[str]) -> Vectors:
        missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
        for start in range(0, len(missing), 32):
            batch = missing[start : start + 32]
            for text, vector in zip(batch, self.inner.embed(batch), strict=True):
                self._cache[text] = vector
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        return np.stack([self._cache[t] for t in texts])


# -- documents: what an entry is indexed by ----------------------------------------------------------------


def without_server(entry: Entry) -> str:
    """The document as if tool names were not namespaced by their server."""
    return document(Entry(entry.name.split("/", 1)[-1], entry.description, entry.schema, entry.title))


def short(entry: Entry) -> str:
    """Name, title, the description's first sentence and the parameter names: fits MiniLM's 128 tokens."""
    first = re.split(r"(?<=[.!?])\s", " ".join(entry.description.split()), maxsplit=1)[0]
    properties = entry.schema.get("properties") if isinstance(entry.schema, dict) else None
    names = (
        " ".join(" ".join(words_of_name(str(n))) for n in properties) if isinstance(properties, dict) else ""
    )
    parts = [" ".join(words_of_name(entry.name)), entry.title, first, names]
    return ". ".join(p for p in parts if p)


# -- methods -------------------------------------------------------------------------------------------------

Ranking = list[tuple[str, float]]  # best first; the score is what the threshold is compared with


@dataclass(frozen=True)
class Variant:
    name: str
    method: str  # a Catalog method, "rrf" or "hybrid, cosine gate"
    weight: float = 0.35
    saturation: float = 6.0
    dense_text: Callable[[Entry], str] = document
    lexical_text: Callable[[Entry], str] = document


def rank_all(
    variant: Variant, embedder: Embedder, entries: list[Entry], queries: list[Query]
) -> list[Ranking]:
    if variant.method == "rrf":
        return rrf(variant, embedder, entries, queries)
    if variant.method == "hybrid, cosine gate":
        return cosine_gated(variant, embedder, entries, queries)
    catalog = Catalog(
        embedder,
        method=variant.method,  # type: ignore[arg-type]
        threshold=float("-inf"),  # the whole ranking: thresholds are chosen from it
        weight=variant.weight,
        saturation=variant.saturation,
        dense_text=variant.dense_text,
        lexical_text=variant.lexical_text,
    )
    catalog.upsert(entries)
    return [[(m.entry.name, m.score) for m in catalog.search(q.text, 10)] for q in queries]


def rrf(variant: Variant, embedder: Embedder, entries: list[Entry], queries: list[Query]) -> list[Ranking]:
    """Reciprocal-rank fusion of dense and BM25. Its scores are ranks, not absolute, so the top dense cosine
    stands for its confidence."""
    everything = float("-inf")
    dense = Catalog(embedder, method="dense", dense_text=variant.dense_text, threshold=everything)
    lexical = Catalog(None, method="bm25", lexical_text=variant.lexical_text, threshold=everything)
    dense.upsert(entries)
    lexical.upsert(entries)
    rankings = []
    for query in queries:
        by_dense = dense.search(query.text, 50)
        fused: dict[str, float] = {}
        for ranked in (by_dense, lexical.search(query.text, 50)):
            for rank, match in enumerate(ranked):
                fused[match.entry.name] = fused.get(match.entry.name, 0.0) + 1.0 / (RRF_K + rank + 1)
        confidence = by_dense[0].score if by_dense else 0.0
        order = sorted(fused, key=lambda n: -fused[n])[:10]
        rankings.append([(name, confidence) for name in order])
    return rankings


def cosine_gated(
    variant: Variant, embedder: Embedder, entries: list[Entry], queries: list[Query]
) -> list[Ranking]:
    """The hybrid's ranking, with the dense cosine of its top entry (not the fused score) as confidence."""
    plain = Variant(
        variant.name, "hybrid", variant.weight, variant.saturation, variant.dense_text, variant.lexical_text
    )
    rankings = rank_all(plain, embedder, entries, queries)
    texts = {e.name: variant.dense_text(e) for e in entries}
    gated = []
    for query, ranking in zip(queries, rankings, strict=True):
        if not ranking:
            gated.append(ranking)
            continue
        query_vector, top_vector = embedder.embed([query.text, texts[ranking[0][0]]])
        gated.append([(name, float(query_vector @ top_vector)) for name, _ in ranking])
    return gated


# -- metrics -------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Scores:
    recall1: float
    recall5: float
    mrr: float
    threshold: float
    no_answer_precision: float
    no_answer_recall: float
    answerable_rejected: float  # answerable queries the threshold turns away

    @property
    def no_answer_f1(self) -> float:
        p, r = self.no_answer_precision, self.no_answer_recall
        return 2 * p * r / (p + r) if p + r else 0.0


def ranking_scores(rankings: list[Ranking], queries: list[Query]) -> tuple[float, float, float]:
    answerable = [(r, q) for r, q in zip(rankings, queries, strict=True) if q.tools]
    hits1 = hits5 = reciprocal = 0.0
    for ranking, query in answerable:
        ranks = [i for i, (name, _) in enumerate(ranking) if name in query.tools]
        if ranks:
            hits1 += ranks[0] == 0
            hits5 += ranks[0] < 5
            reciprocal += 1.0 / (ranks[0] + 1)
    n = max(len(answerable), 1)
    return hits1 / n, hits5 / n, reciprocal / n


def top_score(ranking: Ranking) -> float:
    return ranking[0][1] if ranking else float("-inf")


def no_answer_scores(
    rankings: list[Ranking], queries: list[Query], threshold: float
) -> tuple[float, float, float]:
    rejected = [top_score(r) < threshold for r in rankings]
    truly = [not q.tools for q in queries]
    hits = sum(r and t for r, t in zip(rejected, truly, strict=True))
    precision = hits / max(sum(rejected), 1)
    recall = hits / max(sum(truly), 1)
    answerable_rejected = sum(r and not t for r, t in zip(rejected, truly, strict=True)) / max(
        sum(not t for t in truly), 1
    )
    return precision, recall, answerable_rejected


def best_threshold(rankings: list[Ranking], queries: list[Query]) -> float:
    """The threshold with the best F1 at flagging no-answer queries (ties: the lower one)."""
    candidates = sorted({top_score(r) for r in rankings if r})
    best, best_f1 = 0.0, -1.0
    for low, high in zip(
        [candidates[0] - 1e-3, *candidates], [*candidates, candidates[-1] + 1e-3], strict=True
    ):
        threshold = (low + high) / 2
        precision, recall, _ = no_answer_scores(rankings, queries, threshold)
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        if f1 > best_f1 + 1e-9:
            best, best_f1 = threshold, f1
    return best


def evaluate(rankings: list[Ranking], queries: list[Query], threshold: float) -> Scores:
    return Scores(
        *ranking_scores(rankings, queries), threshold, *no_answer_scores(rankings, queries, threshold)
    )


def without_server_summary(entry: Entry) -> str:
    return summary(Entry(entry.name.split("/", 1)[-1], entry.description, entry.schema, entry.title))


# Documents: "full" is name + title + description + parameter names and descriptions (search.document),
# "summary" the same without parameters, "short" see short(). Hybrid rows embed the summary and BM25 the full
# one unless they say otherwise.
VARIANTS = [
    Variant("dense, full", "dense"),
    Variant("dense, summary", "dense", dense_text=summary),
    Variant("dense, short", "dense", dense_text=short),
    Variant("dense, summary, no server in name", "dense", dense_text=without_server_summary),
    Variant("bm25, full", "bm25"),
    Variant("bm25, summary", "bm25", lexical_text=summary),
    Variant("bm25, full, no server in name", "bm25", lexical_text=without_server),
    Variant("rrf k=60 (dense summary, bm25 full)", "rrf", dense_text=summary),
    Variant("hybrid w=0.35 s=6, dense full", "hybrid"),
    *[
        Variant(f"hybrid w={w} s={s}", "hybrid", weight=w, saturation=s, dense_text=summary)
        for w in (0.2, 0.35, 0.5, 0.8)
        for s in (3.0, 6.0, 12.0)
    ],
    Variant(
        "hybrid w=0.8 s=3.0, bm25 summary",
        "hybrid",
        weight=0.8,
        saturation=3.0,
        dense_text=summary,
        lexical_text=summary,
    ),
    Variant(
        "hybrid w=0.8 s=3.0, cosine gate",
        "hybrid, cosine gate",
        weight=0.8,
        saturation=3.0,
        dense_text=summary,
    ),
]


def run(
    variants: list[Variant], embedder: Embedder, entries: list[Entry], queries: list[Query]
) -> list[tuple[str, Scores, Scores]]:
    tune = [q for q in queries if q.tune]
    test = [q for q in queries if not q.tune]
    rows = []
    for variant in variants:
        rankings = rank_all(variant, embedder, entries, queries)
        tune_rankings = [r for r, q in zip(rankings, queries, strict=True) if q.tune]
        test_rankings = [r for r, q in zip(rankings, queries, strict=True) if not q.tune]
        threshold = best_threshold(tune_rankings, tune)
        rows.append(
            (variant.name, evaluate(tune_rankings, tune, threshold), evaluate(test_rankings, test, threshold))
        )
    return rows


def table(rows: list[tuple[str, Scores, Scores]]) -> str:
    head = (
        f"{'method':38} {'tune: MRR':>9} {'NA-F1':>5} | {'R@1':>5} {'R@5':>5} {'MRR':>5} | {'thresh':>6} "
        f"{'NA-P':>5} {'NA-R':>5} {'ans-rej':>7}   (test half)"
    )
    lines = [head, "-" * len(head)]
    for name, tune, test in rows:
        lines.append(
            f"{name:38} {tune.mrr:9.3f} {tune.no_answer_f1:5.3f} | "
            f"{test.recall1:5.3f} {test.recall5:5.3f} {test.mrr:5.3f} | "
            f"{test.threshold:6.3f} {test.no_answer_precision:5.3f} {test.no_answer_recall:5.3f} "
            f"{test.answerable_rejected:7.3f}"
        )
    return "\n".join(lines)


# -- latency -------------------------------------------------------------------------------------------------


def timed(call: Callable[[], object], repeat: int) -> str:
    """Median microseconds per call, wall clock and this process's CPU time (which other load on the machine
    does not inflate)."""
    wall, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        call()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return f"{statistics.median(wall) * 1e6:6.0f} ({statistics.median(cpu) * 1e6:5.0f} cpu)"


def bench(embedder: CachedEmbedder, entries: list[Entry], queries: list[Query], repeat: int) -> str:
    texts = [q.text for q in queries]
    query_vectors = embedder.embed(texts)  # cached: the search rows time the search, not the model
    turn = itertools.count()
    embedding = timed(lambda: embedder.inner.embed([texts[next(turn) % len(texts)]]), max(repeat // 4, 1))
    method = Catalog(embedder).method
    lines = [
        f"search latency per query, median µs (default method {method}; the query vector is cached here)",
        f"  embedding one query with the model (MiniLM int8, 1 thread): {embedding}",
    ]
    for label, made in (
        (f"{len(entries)} real tools", entries),
        ("10,000 synthetic tools", synthetic(entries, embedder)),
    ):
        default = Catalog(embedder)
        default.upsert(made)
        dense = Catalog(embedder, method="dense")
        dense.upsert(made)
        default.search(texts[0])  # builds the BM25 index
        matrix = embedder.embed([summary(e) for e in made])

        def floor(matrix: Vectors = matrix) -> None:
            scores = matrix @ query_vectors[next(turn) % len(texts)]
            np.argpartition(-scores, 5)[:5]

        def search_with(catalog: Catalog) -> Callable[[], object]:
            return lambda: catalog.search(texts[next(turn) % len(texts)], 5)

        hybrid_us = timed(search_with(default), repeat)
        dense_us = timed(search_with(dense), repeat)
        lines.append(
            f"  {label:22}: Catalog.search {method} {hybrid_us}, dense {dense_us}; "
            f"numpy dot-product floor {timed(floor, repeat)}"
        )
    return "\n".join(lines)


def synthetic(entries: list[Entry], embedder: CachedEmbedder, size: int = 10_000) -> list[Entry]:
    """``size`` tools copied from the real ones under numbered servers, their vectors the originals' plus
    noise (not embedded again, so that building it takes seconds)."""
    rng = np.random.default_rng(3)
    originals = embedder.embed([summary(e) for e in entries])
    made = []
    for n in range(size):
        base = entries[n % len(entries)]
        entry = Entry(f"s{n // len(entries)}-{base.name}", base.description, base.schema, base.title)
        noisy = originals[n % len(entries)] + rng.normal(0, 0.05, embedder.dim).astype(np.float32)
        embedder.remember(summary(entry), noisy / np.linalg.norm(noisy))
        made.append(entry)
    return made


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--bench", action="store_true", help="also measure search latency")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=400)
    parser.add_argument("--fresh", action="store_true", help="embed everything again (no saved vectors)")
    options = parser.parse_args()
    entries = load_catalog()
    queries = load_queries()
    servers = {e.name.split("/")[0] for e in entries}
    model, _ = minilm_paths()
    # Saved vectors are named by the model and by the code that pools them: a change to either embeds anew.
    digest = hashlib.sha256(model.read_bytes() + Path(embed_module.__file__).read_bytes()).hexdigest()[:16]
    saved = cache_dir() / f"router-eval-{digest}.npz"
    embedder = CachedEmbedder(default_embedder(options.threads), None if options.fresh else saved)
    tune = sum(q.tune for q in queries)
    print(
        f"{len(entries)} tools from {len(servers)} servers; {len(queries)} queries "
        f"({sum(not q.tools for q in queries)} with no answer), {tune} tune / {len(queries) - tune} test"
    )
    print(table(run(VARIANTS, embedder, entries, queries)))
    embedder.save()
    if options.bench:
        print(bench(embedder, entries, queries, options.repeat))


if __name__ == "__main__":
    main()
