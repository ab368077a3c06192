#!/usr/bin/env python3
"""Generate the wire types of one MCP revision (msgspec Structs) from its schema.json.

    python tools/gen_types.py                                   # 2025-11-25 -> runtime/protocol/types.py
    python tools/gen_types.py --revision 2026-07-28             # -> runtime/protocol/types_2026_07_28.py
    python tools/gen_types.py [--schema PATH/schema.json] [--out FILE] [--revision VERSION]

Conventions (the protocol core relies on them):
- one Struct per object definition, snake_case attributes with the exact wire names (`_meta` -> `meta`);
- optional properties default to None and are omitted when encoding;
- a `type` const makes the Struct tagged on "type"; a `method` const makes it tagged on "method" (so the
  union of all client messages decodes in one pass); other consts become Literal types;
- free-form JSON (schemas, arguments, _meta, structuredContent...) stays `dict[str, Any]`;
- a union msgspec cannot decode (untagged Structs) is typed `Any` and decoded as plain JSON.
"""

from __future__ import annotations

import argparse
import json
import keyword
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT.parent / "shared" / "spec"  # one folder per revision, each with its schema.json
DEFAULT_REVISION = "2025-11-25"  # runtime/protocol/types.py; other revisions go to types_<version>.py
FREE_FORM = {
    "inputSchema",
    "outputSchema",
    "requestedSchema",
    "structuredContent",
    "arguments",
    "_meta",
    "experimental",
    "metadata",
}


def snake(name: str) -> str:
    if name == "_meta":
        return "meta"
    name = name.rpartition("/")[2]  # a namespaced _meta key ("io.modelcontextprotocol/x") by its name
    out = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower().lstrip("$")
    return out + "_" if keyword.iskeyword(out) else out


def pascal(name: str) -> str:
    return name[:1].upper() + name[1:]


def doc(text: str | None) -> str | None:
    if not text:
        return None
    first = text.strip().split("\n\n")[0].replace("\\", "\\\\").replace('"""', "'''")
    return " ".join(first.split())


class Generator:
    def __init__(self, schema: dict[str, Any], revision: str = DEFAULT_REVISION) -> None:
        self.revision = revision
        self.defs: dict[str, Any] = schema["$defs"]
        self.structs: dict[str, dict[str, Any]] = {}  # name -> info
        self.struct_order: list[str] = []
        self.aliases: dict[str, str] = {}  # name -> python expression
        self.late_aliases: dict[str, str] = {}  # aliases of Structs, emitted after them
        self.union_aliases: dict[str, list[str]] = {}
        self.tags: dict[str, tuple[str, str]] = {}  # struct -> (tag field, tag)

    # -- classification -----------------------------------------------------------------------------------

    def run(self) -> None:
        for name, definition in self.defs.items():
            self.define(name, definition)

    def define(self, name: str, definition: dict[str, Any]) -> None:
        if "anyOf" in definition or "oneOf" in definition:
            members = definition.get("anyOf") or definition["oneOf"]
            refs = [m.get("$ref", "").rsplit("/", 1)[-1] for m in members]
            if all(refs):
                self.union_aliases[name] = refs
            else:
                self.aliases[name] = "Any"
            return
        if "allOf" in definition:
            merged: dict[str, Any] = {"type": "object", "properties": {}, "required": []}
            for member in definition["allOf"]:
                part = self.defs[member["$ref"].rsplit("/", 1)[-1]] if "$ref" in member else member
                merged["properties"].update(part.get("properties", {}))
                merged["required"] += part.get("required", [])
            merged["description"] = definition.get("description")
            self.struct(name, merged)
            return
        if "$ref" in definition:
            self.late_aliases[name] = definition["$ref"].rsplit("/", 1)[-1]
            return
        if "enum" in definition:
            values = ", ".join(json.dumps(v) for v in definition["enum"])
            self.aliases[name] = f"Literal[{values}]"
            return
        if definition.get("type") == "object" and "properties" in definition:
            self.struct(name, definition)
            return
        self.aliases[name] = self.py_type(definition, name, "")

    def struct(self, name: str, definition: dict[str, Any]) -> None:
        properties: dict[str, Any] = definition.get("properties", {})
        required = set(definition.get("required", []))
        tag: tuple[str, str] | None = None
        for field in ("type", "method"):
            const = properties.get(field, {}).get("const")
            if isinstance(const, str) and field in required:
                tag = (field, const)
                break
        fields = []
        for prop, schema in properties.items():
            if tag is not None and prop == tag[0]:
                continue
            annotation = self.py_type(schema, name, prop)
            fields.append((prop, annotation, prop in required, doc(schema.get("description"))))
        self.structs[name] = {"fields": fields, "doc": doc(definition.get("description")), "tag": tag}
        self.struct_order.append(name)
        if tag is not None:
            self.tags[name] = tag

    def py_type(self, schema: dict[str, Any], owner: str, prop: str) -> str:
        if (prop in FREE_FORM and schema.get("type") == "object") or (
            owner == "ElicitResult" and prop == "content"
        ):
            return "dict[str, Any]"
        if "$ref" in schema:
            ref: str = schema["$ref"]
            return ref.rsplit("/", 1)[-1]
        if "const" in schema:
            return f"Literal[{json.dumps(schema['const'])}]"
        if "enum" in schema:
            return "Literal[" + ", ".join(json.dumps(v) for v in schema["enum"]) + "]"
        if "anyOf" in schema or "oneOf" in schema:
            members = schema.get("anyOf") or schema["oneOf"]
            parts = [self.py_type(m, owner, prop) for m in members]
            refs = [m.get("$ref", "").rsplit("/", 1)[-1] for m in members]
            if all(refs):
                alias = f"{owner}{pascal(prop)}"
                self.union_aliases[alias] = refs
                return alias
            return " | ".join(dict.fromkeys(parts))
        kind = schema.get("type")
        if isinstance(kind, list):
            return " | ".join(self.py_type({**schema, "type": k}, owner, prop) for k in kind)
        if kind == "string":
            return "str"
        if kind == "integer":
            return "int"
        if kind == "number":
            return "float"
        if kind == "boolean":
            return "bool"
        if kind == "null":
            return "None"
        if kind == "array":
            items = schema.get("items")
            if not items:
                return "list[Any]"
            return f"list[{self.py_type(items, owner, prop + 'Item')}]"
        if kind is None and not schema.get("properties"):
            return "Any"  # unconstrained JSON
        if kind == "object" or kind is None:
            if schema.get("properties"):
                nested = f"{owner}{pascal(prop)}"
                self.struct(nested, schema)
                return nested
            extra = schema.get("additionalProperties")
            if isinstance(extra, dict) and extra:
                return f"dict[str, {self.py_type(extra, owner, prop + 'Value')}]"
            return "dict[str, Any]"
        return "Any"

    # -- unions msgspec can decode -------------------------------------------------------------------------

    def union_expression(self, name: str) -> str:
        refs = self.union_aliases[name]
        flat: list[str] = []
        for ref in refs:
            if ref in self.union_aliases:
                inner = self.union_expression(ref)
                if inner == "Any":
                    return "Any"
                flat.extend(inner.split(" | "))
            else:
                flat.append(ref)
        tags = [self.tags.get(ref) for ref in flat]
        if all(tags) and len({t[0] for t in tags}) == 1 and len({t[1] for t in tags}) == len(tags):  # type: ignore[index]
            return " | ".join(flat)
        if all(ref in self.aliases and self.aliases[ref] in ("str", "int", "float", "bool") for ref in flat):
            return " | ".join(flat)
        return "Any"

    # -- output --------------------------------------------------------------------------------------------

    def emit(self) -> str:
        out = [
            f'"""MCP {self.revision} wire types, generated from schema.json by tools/gen_types.py. '
            'Do not edit."""',
            "",
            "from __future__ import annotations",
            "",
            "from typing import Any, Literal",
            "",
            "import msgspec",
            "",
            f'LATEST_PROTOCOL_VERSION = "{self.revision}"',
            "",
            "",
            "class _Base(msgspec.Struct, kw_only=True, omit_defaults=True):",
            "    pass",
            "",
            "",
        ]
        # An alias is evaluated at import: one naming a later alias, a Struct or a union waits until the end.
        generated = {*self.aliases, *self.struct_order, *self.late_aliases, *self.union_aliases}
        early: list[str] = []
        late: list[str] = []
        for name, expression in self.aliases.items():
            needs = set(re.findall(r"[A-Za-z_]\w*", expression)) & generated
            (late if needs - set(early) else early).append(name)
        for name in early:
            out.append(f"{name} = {self.aliases[name]}")
        out.append("")
        for name in self.struct_order:
            out.extend(self.emit_struct(name))
        for name, target in self.late_aliases.items():
            out.append(f"{name} = {target}")
        pending = dict(self.union_aliases)
        for name in pending:
            expression = self.union_expression(name)
            comment = ""
            if expression == "Any":
                comment = "  # an untagged union msgspec cannot decode: kept as plain JSON"
            out.append(f"{name} = {expression}{comment}")
        for name in late:
            out.append(f"{name} = {self.aliases[name]}")
        out.append("")
        out.extend(self.emit_tables())
        names = [*self.aliases, *self.struct_order, *self.late_aliases, *self.union_aliases]
        names += ["CLIENT_REQUESTS", "CLIENT_NOTIFICATIONS", "SERVER_REQUESTS", "SERVER_NOTIFICATIONS"]
        names += ["PARAMS_TYPES", "ClientMessage", "ServerMessage", "LATEST_PROTOCOL_VERSION"]
        out.append("__all__ = [" + ", ".join(json.dumps(n) for n in sorted(set(names))) + "]")
        return "\n".join(out) + "\n"

    def emit_struct(self, name: str) -> list[str]:
        info = self.structs[name]
        options = ", kw_only=True"
        if info["tag"] is not None:
            options += f", tag_field={json.dumps(info['tag'][0])}, tag={json.dumps(info['tag'][1])}"
        lines = [f"class {name}(_Base{options}):"]
        if info["doc"]:
            wrapped = textwrap.wrap(info["doc"], 100)
            if len(wrapped) == 1:
                lines.append(f'    """{wrapped[0]}"""')
            else:
                lines.append(f'    """{wrapped[0]}')
                lines.extend(f"    {line}" for line in wrapped[1:])
                lines.append('    """')
            lines.append("")
        if not info["fields"]:
            lines.append("    pass")
        for prop, annotation, required, _ in info["fields"]:
            attr = snake(prop)
            rename = f'name="{prop}"' if attr != prop else ""
            nullable = annotation == "Any" or annotation.endswith("| None")
            optional = annotation if nullable else f"{annotation} | None"
            if required:
                value = f" = msgspec.field({rename})" if rename else ""
                lines.append(f"    {attr}: {annotation}{value}")
            else:
                value = f"msgspec.field(default=None, {rename})" if rename else "None"
                lines.append(f"    {attr}: {optional} = {value}")
        return [*lines, "", ""]

    def _members(self, union: str) -> dict[str, str]:
        found = {}
        for ref in self.union_aliases.get(union, []):
            tag = self.tags.get(ref)
            if tag is not None and tag[0] == "method":
                found[tag[1]] = ref
        return found

    def emit_tables(self) -> list[str]:
        lines = []
        tables = {}
        for table, union in (
            ("CLIENT_REQUESTS", "ClientRequest"),
            ("CLIENT_NOTIFICATIONS", "ClientNotification"),
            ("SERVER_REQUESTS", "ServerRequest"),
            ("SERVER_NOTIFICATIONS", "ServerNotification"),
        ):
            members = self._members(union)
            tables[table] = members
            body = ", ".join(f"{json.dumps(m)}: {c}" for m, c in members.items())
            lines.append(f"{table}: dict[str, type] = {{{body}}}")
        params = {}
        for members in tables.values():
            for method, cls in members.items():
                for prop, annotation, _, _ in self.structs[cls]["fields"]:
                    if prop == "params":
                        params[method] = annotation.split(" | ")[0]
        body = ", ".join(f"{json.dumps(m)}: {p}" for m, p in params.items())
        lines.append(f"PARAMS_TYPES: dict[str, Any] = {{{body}}}")
        client = [*tables["CLIENT_REQUESTS"].values(), *tables["CLIENT_NOTIFICATIONS"].values()]
        server = [*tables["SERVER_REQUESTS"].values(), *tables["SERVER_NOTIFICATIONS"].values()]
        lines.append(f"ClientMessage = {' | '.join(dict.fromkeys(client))}")
        lines.append(f"ServerMessage = {' | '.join(dict.fromkeys(server))}")
        lines.append("")
        return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--revision", default=DEFAULT_REVISION)
    parser.add_argument("--schema", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    schema = args.schema or SPEC / args.revision / "schema.json"
    module = "types" if args.revision == DEFAULT_REVISION else "types_" + args.revision.replace("-", "_")
    out = args.out or ROOT / "runtime" / "protocol" / f"{module}.py"
    generator = Generator(json.loads(schema.read_text()), args.revision)
    generator.run()
    out.write_text(generator.emit())
    ruff = Path(sys.executable).parent / "ruff"
    if ruff.exists():
        subprocess.run([str(ruff), "format", "-q", str(out)], check=False)
        subprocess.run([str(ruff), "check", "-q", "--fix", str(out)], check=False)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
