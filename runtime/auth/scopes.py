"""The scopes each tool, prompt and resource asks for (`@server.tool(scopes=[...])`), and the scopes one
request needs: the union of the server's required scopes and those of what the request names."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import msgspec

from runtime.server.uritemplate import UriTemplate

NONE: frozenset[str] = frozenset()
KINDS = ("tools", "prompts", "resources", "templates")


class _Ref(msgspec.Struct):
    type: str = ""
    name: Any = None
    uri: Any = None


class _Params(msgspec.Struct):
    name: Any = None
    uri: Any = None
    ref: _Ref | None = None


class _Message(msgspec.Struct):
    method: Any = None
    params: _Params | None = None


_decode_one = msgspec.json.Decoder(_Message).decode
_decode_many = msgspec.json.Decoder(list[_Message]).decode
_UNREADABLE = (msgspec.DecodeError, msgspec.ValidationError, RecursionError, UnicodeDecodeError)


def scope_set(scopes: Iterable[str] | None) -> frozenset[str]:
    if scopes is None:
        return NONE
    if isinstance(scopes, str):  # scopes="a b": one string, as OAuth writes them
        scopes = scopes.split()
    found = frozenset(scopes)
    for scope in found:
        if not scope or any(c in scope for c in ' "\\') or not scope.isprintable():
            raise ValueError(f"invalid OAuth scope: {scope!r}")
    return found


class ScopeTable:
    """Scopes by entry: tools and prompts by name, resources by URI, templates by their URI template."""

    def __init__(self) -> None:
        self.entries: dict[str, dict[str, frozenset[str]]] = {kind: {} for kind in KINDS}
        self._templates: dict[str, UriTemplate] = {}
        self.any = False  # some entry has scopes (kept by set/discard: read on every request)

    def __bool__(self) -> bool:
        return self.any

    def set(self, kind: str, key: str, scopes: Iterable[str] | None) -> None:
        found = scope_set(scopes)
        table = self.entries[kind]
        if found:
            table[key] = found
            if kind == "templates":
                self._templates[key] = UriTemplate(key)
            self.any = True
        else:
            self.discard(kind, key)

    def discard(self, kind: str, key: str) -> None:
        self.entries[kind].pop(key, None)
        self._templates.pop(key, None)
        self.any = any(self.entries.values())

    def declared(self) -> frozenset[str]:
        """Every scope some entry asks for."""
        tables = self.entries.values()
        return frozenset(scope for table in tables for found in table.values() for scope in found)

    def of(self, kind: str, key: str) -> frozenset[str]:
        return self.entries[kind].get(key, NONE)

    def of_uri(self, uri: str, fixed: bool) -> frozenset[str]:
        """A resource read's scopes: the fixed resource's, else those of every template that matches it
        (the one that serves it among them; asking for all of them never grants less)."""
        if fixed:
            return self.entries["resources"].get(uri, NONE)
        needed: set[str] = set()
        for key, template in self._templates.items():
            if template.match(uri) is not None:
                needed |= self.entries["templates"][key]
        return frozenset(needed)

    def needed(self, body: bytes, fixed_uris: Any) -> frozenset[str]:
        """The scopes the message (or batch) in `body` needs for what it names. An unreadable message needs
        none here: the protocol layer refuses it as it would without authorization."""
        if not self:
            return NONE
        try:
            messages = _decode_many(body) if body.lstrip()[:1] == b"[" else [_decode_one(body)]
        except _UNREADABLE:
            return NONE
        needed: set[str] = set()
        for message in messages:
            needed |= self._for(message, fixed_uris)
        return frozenset(needed)

    def _for(self, message: _Message, fixed_uris: Any) -> frozenset[str]:
        params = message.params
        if params is None:
            return NONE
        method = message.method
        if method == "tools/call" and isinstance(params.name, str):
            return self.of("tools", params.name)
        if method == "prompts/get" and isinstance(params.name, str):
            return self.of("prompts", params.name)
        if method in ("resources/read", "resources/subscribe") and isinstance(params.uri, str):
            return self.of_uri(params.uri, params.uri in fixed_uris)
        ref = params.ref
        if method == "completion/complete" and ref is not None:
            if ref.type == "ref/prompt" and isinstance(ref.name, str):
                return self.of("prompts", ref.name)
            if ref.type == "ref/resource" and isinstance(ref.uri, str):
                return self.of("templates", ref.uri) or self.of("resources", ref.uri)
        return NONE
