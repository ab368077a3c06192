"""The import layering the restructuring wants, checked on the source (AST) of every module:

- ipc/ (shared-memory segments) depends on no worker and no server code: from runtime only on the
  protocol and the store interfaces;
- runtime/protocol depends on nothing of the runtime outside itself, nor on workers/ or ipc/;
- runtime/stores (the store and bus interfaces) depends on runtime/protocol only;
- workers/streamable (the transport) knows nothing of workers/cluster: only its entry point (serve.py),
  which wires a worker into a cluster, imports it.

Imports under `if TYPE_CHECKING:` count too: a rule about what a layer knows holds for its types as well.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# package -> the first-party prefixes it must not import (an allowed prefix wins over a forbidden one)
RULES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "ipc": (("workers", "runtime"), ("runtime.protocol", "runtime.stores")),
    "runtime/protocol": (("workers", "ipc", "runtime", "router"), ("runtime.protocol",)),
    "runtime/stores": (("workers", "ipc", "runtime", "router"), ("runtime.protocol", "runtime.stores")),
    "workers/streamable": (("workers.cluster",), ()),
}
# Entry points that wire the layers together, exempt from their package's rule.
WIRING = {"workers/streamable/serve.py"}


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported(path: Path, root: Path = ROOT) -> list[tuple[int, str]]:
    """Every module an `import` or `from ... import` in the file names, relative imports resolved."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = module_name(path, root).split(".")
    if path.name != "__init__.py":
        package.pop()
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package[: len(package) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            # `from pkg import mod` imports pkg.mod when mod is a module: count both names
            found.append((node.lineno, base))
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names if alias.name != "*"]
    return found


def within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def violations(package: str, root: Path = ROOT) -> list[str]:
    forbidden, allowed = RULES[package]
    bad = []
    for path in sorted((root / package).rglob("*.py")):
        if str(path.relative_to(root)) in WIRING:
            continue
        for line, name in imported(path, root):
            if any(within(name, p) for p in forbidden) and not any(within(name, p) for p in allowed):
                bad.append(f"{path.relative_to(root)}:{line} imports {name}")
    return sorted(set(bad))


@pytest.mark.parametrize("package", sorted(RULES))
def test_layer_imports_only_what_it_may(package: str) -> None:
    assert list((ROOT / package).rglob("*.py")), f"{package} has no modules: the rule checks nothing"
    assert violations(package) == []


def test_the_walker_sees_imports_of_every_form(tmp_path: Path) -> None:
    """The check itself: absolute, `from`, relative and TYPE_CHECKING-guarded imports are all found."""
    source = (
        "from __future__ import annotations\nimport workers.cluster.bus\nfrom runtime.server import app\n"
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from workers.streamable.events import X\n"
        "def f():\n    from ..runtime.server import failures\n"
    )
    (tmp_path / "ipc").mkdir()
    module = tmp_path / "ipc" / "probe.py"
    module.write_text(source)
    names = {name for _, name in imported(module, tmp_path)}
    assert {
        "workers.cluster.bus",
        "runtime.server.app",
        "workers.streamable.events",
        "runtime.server",
    } <= names
    assert set(violations("ipc", tmp_path)) >= {
        "ipc/probe.py:2 imports workers.cluster.bus",
        "ipc/probe.py:3 imports runtime.server.app",
        "ipc/probe.py:6 imports workers.streamable.events",
        "ipc/probe.py:8 imports runtime.server",
    }
