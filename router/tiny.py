"""A tiny deterministic ONNX encoder and word-level tokenizer, made with the ``onnx`` package, for fast tests.

Each word maps to a fixed random vector (a Gather from a seeded table), so texts that share words embed close
together. It exercises the same :class:`router.embed.OnnxEmbedder` code path as MiniLM in milliseconds.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def build(folder: Path, vocabulary: list[str], dim: int = 32, seed: int = 7) -> tuple[Path, Path]:
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers

    words = ["[PAD]", "[UNK]", *sorted(set(vocabulary))]
    table = np.random.default_rng(seed).standard_normal((len(words), dim)).astype(np.float32)
    table[:2] = 0.0  # padding and unknown words carry no meaning
    graph = helper.make_graph(
        [helper.make_node("Gather", ["table", "input_ids"], ["last_hidden_state"], axis=0)],
        "tiny-encoder",
        [
            helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "sequence"]),
            helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "sequence"]),
        ],
        [helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, ["batch", "sequence", dim])],
        [numpy_helper.from_array(table, "table")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    folder.mkdir(parents=True, exist_ok=True)
    model_path = folder / "tiny.onnx"
    onnx.save(model, str(model_path))
    tokenizer = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.Lowercase()
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer_path = folder / "tokenizer.json"
    tokenizer.save(str(tokenizer_path))
    return model_path, tokenizer_path
