"""Synthetic tool catalogs of any size for the router's latency benchmarks (perf/route_bench.py).

Each synthetic tool is a real one from router/eval/catalog/ (358 tools of 27 servers) placed in a team's
workspace: ``billing_staging_list_records`` - "List records from a table. For the billing team's staging
workspace." (20 teams x 15 workspaces x 358 tools: up to 107,400 distinct tools).

Embedding 100,000 descriptions with MiniLM on this machine's loaded single core takes more than an hour
(45 ms per tool description), so the vectors take a faster path: the real tool's summary and the
workspace phrase are each embedded once with the real model (358 + 300 texts, cached in
``~/.cache/mcprt/route-catalog-<model>.npz``; ~20 s the first time), and a synthetic tool's vector is the
normalised sum ``tool + 0.35 * workspace + noise``. The catalog keeps the real tools' cluster structure
(what an approximate index's recall depends on), and queries are embedded with the real model.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass

import numpy as np

from router.embed import Embedder, Vectors, cache_dir, minilm_paths, normalize
from router.search import Entry, summary

TEAMS = str.split(
    "sales billing support hr legal marketing finance ops security research design data mobile web infra qa "
    "devrel partners logistics procurement"
)
WORKSPACES = str.split(
    "staging production archive europe america sandbox legacy analytics internal customer partner test "
    "backup mirror edge"
)
WORKSPACE_WEIGHT = 0.35
NOISE = 0.02
MAX_TOOLS = len(TEAMS) * len(WORKSPACES) * 358


@dataclass(frozen=True, slots=True)
class Synthetic:
    entries: list[Entry]
    vectors: Vectors  # one unit row per entry, in order

    def table(self) -> dict[str, Vectors]:
        """summary text -> vector: what `TableEmbedder` answers from."""
        return {summary(e): v for e, v in zip(self.entries, self.vectors, strict=True)}


def real_tools() -> list[Entry]:
    from perf.router_eval import load_catalog

    real = load_catalog()
    # Namespaced by server only where two servers name a tool alike (search, fetch...): names stay distinct.
    counts = Counter(e.name.split("/", 1)[1] for e in real)
    named = []
    for e in real:
        server, name = e.name.split("/", 1)
        named.append(
            Entry(name if counts[name] == 1 else f"{server}_{name}", e.description, e.schema, e.title)
        )
    return named


def phrase(team: str, workspace: str) -> str:
    return f"For the {team} team's {workspace} workspace."


def base_vectors(embedder: Embedder, tools: list[Entry]) -> tuple[Vectors, Vectors]:
    """The real tools' and the workspace phrases' vectors, embedded once and kept on disk."""
    texts = [summary(e) for e in tools] + [phrase(t, w) for t in TEAMS for w in WORKSPACES]
    model = hashlib.sha256(minilm_paths()[0].read_bytes()).hexdigest()[:16]
    digest = hashlib.sha256("\n".join(texts).encode()).hexdigest()[:12]
    path = cache_dir() / f"route-catalog-{model}-{digest}.npz"
    if path.exists():
        with np.load(path) as saved:
            vectors = saved["vectors"]
    else:
        vectors = np.concatenate([embedder.embed(texts[i : i + 16]) for i in range(0, len(texts), 16)])
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".part.npz")
        np.savez(partial, vectors=vectors)
        partial.replace(path)
    return vectors[: len(tools)], vectors[len(tools) :]


def places(seed: int = 5) -> list[tuple[int, str, str]]:
    """(phrase row, team, workspace) in the order synthetic tools use them: every size gets a mix."""
    pairs = [(t, w) for t in TEAMS for w in WORKSPACES]
    order = np.random.default_rng(seed).permutation(len(pairs))
    return [(int(i), *pairs[int(i)]) for i in order]


def synthetic_entries(size: int, tools: list[Entry]) -> list[Entry]:
    if size > len(TEAMS) * len(WORKSPACES) * len(tools):
        raise ValueError(f"at most {MAX_TOOLS} synthetic tools")
    where = places()
    entries: list[Entry] = []
    for n in range(size):
        tool = tools[n % len(tools)]
        _, team, workspace = where[n // len(tools)]
        description = _sentence(tool.description) + phrase(team, workspace)
        entries.append(Entry(f"{team}_{workspace}_{tool.name}", description, tool.schema, tool.title))
    return entries


def synthesise(size: int, embedder: Embedder, seed: int = 5) -> Synthetic:
    tools = real_tools()
    entries = synthetic_entries(size, tools)
    tool_vectors, place_vectors = base_vectors(embedder, tools)
    where = places()
    tool_rows = np.arange(size) % len(tools)
    place_rows = np.array([where[n // len(tools)][0] for n in range(size)], np.int64)
    rows: Vectors = tool_vectors[tool_rows] + np.float32(WORKSPACE_WEIGHT) * place_vectors[place_rows]
    rows += np.random.default_rng(seed).normal(0, NOISE, rows.shape).astype(np.float32)
    return Synthetic(entries, normalize(rows))


def _sentence(text: str) -> str:
    text = text.strip()
    return f"{text} " if text.endswith((".", "!", "?")) else f"{text}. " if text else ""


class TableEmbedder:
    """Answers the catalog's texts from a table, anything else (queries) with the real model."""

    def __init__(self, inner: Embedder, table: dict[str, Vectors]) -> None:
        self.inner = inner
        self.dim = inner.dim
        self.table = table

    def embed(self, texts: list[str]) -> Vectors:
        known = [self.table.get(t) for t in texts]
        if all(v is not None for v in known):
            return np.stack(known) if texts else np.zeros((0, self.dim), np.float32)  # type: ignore[arg-type]
        missing = [t for t, v in zip(texts, known, strict=True) if v is None]
        made = iter(self.inner.embed(missing))
        return np.stack([v if v is not None else next(made) for v in known])
