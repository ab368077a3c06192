"""BM25 over tool documents (bm25s, numpy backend), the lexical half of the hybrid search.

Words are split where code splits them (``get_file_contents``, ``listPullRequests``), lower-cased, stripped
of English stop words and stemmed with PyStemmer when it is installed. bm25s has no incremental update, so a
change of the catalog re-indexes everything; that is a few milliseconds per thousand documents.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")
_STOP = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "can",
        "do",
        "for",
        "from",
        "get",
        "how",
        "i",
        "in",
        "into",
        "is",
        "it",
        "me",
        "my",
        "of",
        "on",
        "or",
        "please",
        "set",
        "some",
        "that",
        "the",
        "this",
        "to",
        "use",
        "using",
        "what",
        "when",
        "which",
        "with",
        "you",
        "your",
    ]
)


def _stemmer() -> Callable[[str], str]:
    try:
        import Stemmer
    except ImportError:
        return lambda word: word
    stem = Stemmer.Stemmer("english")
    return stem.stemWord  # type: ignore[no-any-return]


_stem = _stemmer()
_stems: dict[str, str | None] = {}  # lower-cased word -> its stem, None for a stop word
STEMS_KEPT = 200_000  # a bound on that memo (a catalog's vocabulary is a few thousand words)


def words(text: str) -> list[str]:
    out = []
    for word in _WORD.findall(text):
        stem = _stems.get(word, "")
        if stem == "":
            lower = word.lower()
            stem = None if lower in _STOP else _stem(lower)
            if len(_stems) < STEMS_KEPT:
                _stems[word] = stem
        if stem is not None:
            out.append(stem)
    return out


class Bm25:
    def __init__(self) -> None:
        self._model: object | None = None
        self._size = 0

    def index(self, documents: list[str]) -> None:
        self.index_words([words(d) for d in documents])

    def index_words(self, documents: list[list[str]]) -> None:
        """Index documents already split by `words` (a catalog keeps them, so a change re-splits nothing)."""
        import bm25s

        # bm25s sets its own logger to DEBUG, which prints a line per index build once logging is configured.
        logging.getLogger("bm25s").setLevel(logging.WARNING)
        self._size = len(documents)
        if not documents:
            self._model = None
            return
        model = bm25s.BM25()
        # An empty document still needs a token so that rows stay aligned with ids.
        model.index([d or ["\x00"] for d in documents], show_progress=False)
        self._model = model

    def scores(self, query: str) -> npt.NDArray[np.float32]:
        if self._model is None:
            return np.zeros(self._size, np.float32)
        terms = words(query)
        if not terms:
            return np.zeros(self._size, np.float32)
        return np.asarray(self._model.get_scores(terms), np.float32)  # type: ignore[attr-defined]
