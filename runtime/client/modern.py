"""What a client writes on the MCP 2026-07-28 wire, as pure functions: the per-request `_meta` envelope,
the HTTP headers that mirror the body (`Mcp-Method`, `Mcp-Name`, `Mcp-Param-*`), the `x-mcp-header` rules a
tool must keep to be listed, and the version a refused request is retried with.

streamable-http.mdx "Standard Headers" and "Custom Headers from Tool Parameters"; basic/versioning.mdx.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Mapping
from typing import Any

import msgspec

from runtime.protocol import jsonrpc as rpc
from runtime.protocol.modern import META_CAPABILITIES, META_CLIENT, META_LOG_LEVEL, META_VERSION
from runtime.protocol.versions import LEGACY_VERSIONS, REVISIONS

# The modern revisions this client speaks, best first.
MODERN_VERSIONS: tuple[str, ...] = tuple(v for v, r in REVISIONS.items() if not r.stateful)
# The requests whose name or URI is mirrored in Mcp-Name, and where in params it is.
NAMED_PARAM = {
    "tools/call": "name",
    "prompts/get": "name",
    "resources/read": "uri",
    "tasks/get": "taskId",
    "tasks/update": "taskId",
    "tasks/cancel": "taskId",
}
# The requests a server may answer with an InputRequiredResult (mrtr.mdx "Supported Requests").
INPUT_REQUESTS_ALLOWED = frozenset({"tools/call", "prompts/get", "resources/read"})
# Errors only a modern server sends: a probe that gets one has found a modern server (versioning.mdx).
MODERN_ERRORS = frozenset(
    {rpc.HEADER_MISMATCH, rpc.MISSING_CLIENT_CAPABILITY, rpc.UNSUPPORTED_PROTOCOL_VERSION}
)
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_PLAIN = re.compile(r"[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?")  # visible ASCII, inner spaces only
_SENTINEL = re.compile(r"=\?base64\?.*\?=", re.DOTALL)
# Keywords whose values are subschemas (a mark under one is not statically reachable), and those of them
# that map names to subschemas.
_SCHEMA_MAPS = frozenset({"patternProperties", "$defs", "definitions", "dependentSchemas"})
_SUBSCHEMAS = _SCHEMA_MAPS | frozenset(
    {
        "items",
        "prefixItems",
        "additionalProperties",
        "allOf",
        "anyOf",
        "oneOf",
        "not",
        "if",
        "then",
        "else",
        "contains",
        "unevaluatedProperties",
        "unevaluatedItems",
        "propertyNames",
    }
)

HeaderMark = tuple[str, tuple[str, ...]]  # (the name after Mcp-Param-, the property path)


def meta(
    version: str, capabilities: Mapping[str, Any], client_info: Mapping[str, Any], log_level: str | None
) -> dict[str, Any]:
    """The `_meta` keys every modern request carries (basic/index.mdx "_meta")."""
    envelope: dict[str, Any] = {
        META_VERSION: version,
        META_CAPABILITIES: capabilities,
        META_CLIENT: client_info,
    }
    if log_level is not None:
        envelope[META_LOG_LEVEL] = log_level
    return envelope


def header_value(value: str) -> str:
    """A value as a header carries it: plain when it is visible ASCII without edge whitespace and does not
    look like the sentinel, otherwise `=?base64?...?=` of its UTF-8 (streamable-http.mdx "Value Encoding")."""
    if not value or (_PLAIN.fullmatch(value) and not _SENTINEL.fullmatch(value)):
        return value
    return "=?base64?" + base64.b64encode(value.encode()).decode() + "?="


def standard_headers(method: str, params: Mapping[str, Any] | None) -> dict[str, str]:
    """Mcp-Method always; Mcp-Name for the requests that name a tool, prompt, resource or task."""
    headers = {"Mcp-Method": method}
    field = NAMED_PARAM.get(method)
    if field is not None and params is not None:
        name = params.get(field)
        if isinstance(name, str):
            headers["Mcp-Name"] = header_value(name)
    return headers


def header_marks(schema: Any) -> list[HeaderMark] | None:
    """The `x-mcp-header` marks of an inputSchema, or None when one breaks the rules (empty, not a token,
    repeated case-insensitively, on a type other than string, integer or boolean, or not reachable from the
    root through `properties` alone): a client over HTTP leaves such a tool out (tools.mdx "x-mcp-header")."""
    found: list[HeaderMark] = []
    if not _collect(schema, (), True, found):
        return None
    seen: set[str] = set()
    for name, _ in found:
        if name.lower() in seen:
            return None
        seen.add(name.lower())
    return found


def _collect(schema: Any, path: tuple[str, ...], reachable: bool, found: list[HeaderMark]) -> bool:
    """Walk the schema keywords (not data such as `default` or `enum`); False at the first broken mark."""
    if isinstance(schema, list):
        return all(_collect(item, path, False, found) for item in schema)
    if not isinstance(schema, dict):
        return True
    if "x-mcp-header" in schema:
        mark = schema["x-mcp-header"]
        if not path or not reachable or not isinstance(mark, str) or not _TOKEN.fullmatch(mark):
            return False
        if schema.get("type") not in ("string", "integer", "boolean"):
            return False
        found.append((mark, path))
    properties = schema.get("properties")
    if isinstance(properties, dict):
        for name, prop in properties.items():
            if not _collect(prop, (*path, name), reachable, found):
                return False
    for key in _SUBSCHEMAS.intersection(schema):
        sub = schema[key]
        subs = sub.values() if key in _SCHEMA_MAPS and isinstance(sub, dict) else [sub]
        if not all(_collect(item, path, False, found) for item in subs):
            return False
    return True


def param_headers(marks: Iterable[HeaderMark], arguments: Mapping[str, Any] | None) -> dict[str, str]:
    """Mcp-Param-<name> for each marked argument present and not null (booleans as true/false)."""
    headers: dict[str, str] = {}
    for name, path in marks:
        value: Any = arguments
        for step in path:
            value = value.get(step) if isinstance(value, Mapping) else None
        if value is None:
            continue
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, (int, str)):
            text = str(value)
        else:
            continue  # a number or structure where the schema said otherwise: nothing to mirror
        headers[f"Mcp-Param-{name}"] = header_value(text)
    return headers


def listed_versions(error: rpc.McpError) -> list[str]:
    """The `supported` versions an UnsupportedProtocolVersionError lists."""
    data = error.data if isinstance(error.data, dict) else {}
    supported = data.get("supported")
    return [v for v in supported if isinstance(v, str)] if isinstance(supported, list) else []


def retry_version(listed: list[str], refused: str, attempts: dict[str, int]) -> str | None:
    """The version to retry with after `refused` was refused: the best one both sides speak, modern first,
    then legacy (the caller falls back to initialize for that). A version refused although listed is tried
    once more (a server being upgraded behind a balancer), then given up; None: no version is left."""
    for version in (*MODERN_VERSIONS, *LEGACY_VERSIONS):
        if version in listed and attempts.get(version, 0) < (2 if version == refused else 1):
            return version
    return None


class InputRound(msgspec.Struct, kw_only=True):
    """What decides whether a result is final or asks for input first (mrtr.mdx)."""

    result_type: str = msgspec.field(default="complete", name="resultType")
    input_requests: dict[str, Any] | None = msgspec.field(default=None, name="inputRequests")
    request_state: str | None = msgspec.field(default=None, name="requestState")


input_round = msgspec.json.Decoder(InputRound)
