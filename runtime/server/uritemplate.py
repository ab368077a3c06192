"""RFC 6570 URI templates, matched in reverse: which variables make a template expand to a given URI.

Supports levels 1-3 (`{var}`, `{+var}`, `{#var}`, `{.var}`, `{/var}`, `{;var}`, `{?var}`, `{&var}`, lists of
variables) and the explode modifier on path-like operators. Enough for resource templates; expansion is
not needed server-side.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

_EXPR = re.compile(r"\{([+#./;?&]?)([^{}]+)\}")
# What one variable's value may contain for each operator, when matching.
_VALUE = {"": r"[^/?#&,]*", "+": r"[^?#]*", "#": r".*", ".": r"[^/?#.]*", "/": r"[^/?#]*"}
_PREFIX = {"": "", "+": "", "#": "#", ".": r"\.", "/": "/", ";": ";", "?": r"\?", "&": "&"}
_SEPARATOR = {"": ",", "+": ",", "#": ",", ".": r"\.", "/": "/", ";": ";", "?": "&", "&": "&"}


class UriTemplate:
    __slots__ = ("_explode", "_regex", "template", "variables")

    def __init__(self, template: str) -> None:
        self.template = template
        self.variables: list[str] = []
        self._explode: set[str] = set()
        parts: list[str] = []
        pos = 0
        for m in _EXPR.finditer(template):
            parts.append(re.escape(template[pos : m.start()]))
            parts.append(self._expression(m.group(1), m.group(2)))
            pos = m.end()
        parts.append(re.escape(template[pos:]))
        self._regex = re.compile("".join(parts) + r"\Z")

    def _expression(self, op: str, spec: str) -> str:
        pieces = []
        for i, raw in enumerate(spec.split(",")):
            name = raw.split(":", 1)[0]
            explode = name.endswith("*")
            name = name.rstrip("*")
            if not name.replace("_", "").replace(".", "").isalnum():
                raise ValueError(f"invalid variable name {raw!r} in URI template")
            self.variables.append(name)
            if explode:
                self._explode.add(name)
            value = _VALUE.get(op, r"[^&#]*")
            repeat = f"(?:{_SEPARATOR[op]}{value})*" if explode else ""
            group = f"(?P<{_group(name)}>{value}{repeat})"
            if op in (";", "?", "&"):
                group = f"{re.escape(name)}=?{group}"
            lead = _PREFIX[op] if i == 0 else _SEPARATOR[op]
            pieces.append(f"(?:{lead}{group})?" if op in ("?", "&", ";") else f"{lead}{group}")
        return "".join(pieces)

    def match(self, uri: str) -> dict[str, str] | None:
        m = self._regex.match(uri)
        if m is None:
            return None
        return {name: unquote(m.group(_group(name)) or "") for name in self.variables}

    def __repr__(self) -> str:
        return f"UriTemplate({self.template!r})"


def _group(name: str) -> str:
    return "v_" + name.replace(".", "_")


def is_template(uri: str) -> bool:
    return _EXPR.search(uri) is not None
