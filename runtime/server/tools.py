"""Tools: registration (schemas from type hints, validation compiled once) and the call path."""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Callable
from typing import Any

import jsonschema_rs
import msgspec

from runtime.protocol import downgrade
from runtime.protocol import types as t
from runtime.protocol.versions import REVISIONS, Revision
from runtime.server import content
from runtime.server.content import CONTENT_TYPES
from runtime.server.failures import hidden
from runtime.server.inline import cannot_suspend
from runtime.server.signature import Signature, return_schema

# tools.mdx "Tool names": 1-128 characters of A-Z a-z 0-9 _ - . ; case-sensitive; unique per server.
TOOL_NAME = re.compile(r"[A-Za-z0-9_.\-]{1,128}\Z")
_PLAIN_RETURNS = (t.CallToolResult, *CONTENT_TYPES)
DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"


def check_tool_name(name: str) -> None:
    if not TOOL_NAME.match(name):
        raise ValueError(
            f"invalid tool name {name!r}: use 1-128 characters from A-Z, a-z, 0-9, '_', '-' and '.' "
            "(MCP 2025-11-25 tool naming guidance)"
        )


def compile_validator(schema: dict[str, Any] | bool) -> Callable[[Any], Any]:
    """Compile a JSON Schema validator once (jsonschema-rs). A schema without `$schema` is 2020-12 (the MCP
    default dialect); `$schema` picks another draft (4, 6, 7, 2019-09). Formats are annotations only, as the
    2020-12 default vocabulary says; remote `$ref`s are never fetched (`offline`)."""
    dialect = schema.get("$schema") if isinstance(schema, dict) else None
    if dialect is not None and (not isinstance(dialect, str) or dialect.rstrip("#") not in _KNOWN_DIALECTS):
        raise ValueError(f"unsupported JSON Schema dialect {dialect!r}")
    try:
        validator = jsonschema_rs.validator_for(schema, offline=True)
    except (jsonschema_rs.ValidationError, jsonschema_rs.ReferencingError, ValueError) as exc:
        raise ValueError(f"invalid JSON Schema: {getattr(exc, 'message', None) or exc}") from None
    return validator.validate


# What a bad `arguments` object raises while binding: the schema validator's or msgspec's error.
ArgumentsInvalid = (jsonschema_rs.ValidationError, msgspec.ValidationError)

_KNOWN_DIALECTS = {
    DRAFT_2020_12,
    "https://json-schema.org/draft/2019-09/schema",
    "http://json-schema.org/draft-07/schema",
    "http://json-schema.org/draft-06/schema",
    "http://json-schema.org/draft-04/schema",
}


class ToolSpec:
    __slots__ = (
        "await_free",
        "bind",
        "cache_ttl",
        "check_output",
        "defer_task",
        "definition",
        "fn",
        "header_params",
        "inline",
        "is_async",
        "name",
        "plain",
        "result",
        "results",
        "semantic_cache",
        "signature",
        "structured",
        "task_support",
        "validate",
        "wrap_result",
    )

    def __init__(
        self,
        fn: Callable[..., Any],
        context_type: type,
        *,
        name: str | None = None,
        title: str | None = None,
        description: str | None = None,
        input_schema: dict[str, Any] | None = None,
        output_schema: dict[str, Any] | None = None,
        annotations: t.ToolAnnotations | dict[str, Any] | None = None,
        icons: list[t.Icon] | list[dict[str, Any]] | None = None,
        meta: dict[str, Any] | None = None,
        task_support: str | None = None,
        defer_task: bool = False,
        cache_ttl: float | None = None,
        semantic_cache: float | None = None,
    ) -> None:
        self.name = name or fn.__name__
        check_tool_name(self.name)
        if cache_ttl is not None and not cache_ttl > 0:
            raise ValueError(f"tool {self.name!r}: cache_ttl must be a positive number of seconds")
        if semantic_cache is not None:
            annotations = _semantic_annotations(self.name, semantic_cache, annotations)
            if cache_ttl is None:  # results live in the exact cache: until the tool is registered again
                cache_ttl = float("inf")
        self.cache_ttl = cache_ttl
        # The cosine similarity at or above which a call is answered with an earlier call's result.
        self.semantic_cache = semantic_cache
        self.fn = fn
        self.is_async = inspect.iscoroutinefunction(fn)
        self.await_free = cannot_suspend(fn)  # runs inline, without a task (runtime.server.inline)
        self.signature = Signature(fn, context_type)
        schema = input_schema if input_schema is not None else self.signature.input_schema()
        if schema.get("type") != "object":
            raise ValueError(f"tool {self.name!r}: inputSchema must have type 'object'")
        # A hand-written schema is checked as written (jsonschema-rs); a derived one says exactly what the
        # parameters' types say, so msgspec checks those in C while binding (several times faster).
        derived = input_schema is None and not self.signature.accepts_any
        self.validate = None if derived else compile_validator(schema)
        self.header_params = header_params(self.name, schema)
        if output_schema is None:
            output_schema, self.wrap_result = return_schema(fn, _PLAIN_RETURNS)
        else:
            self.wrap_result = False
        self.structured = output_schema is not None
        # tools.mdx: a tool with an output schema MUST return conforming structured results; checked on
        # every result so that a bug in the tool reaches the client as an error result, not as bad data.
        self.check_output = compile_validator(output_schema) if output_schema is not None else None
        if task_support not in (None, "forbidden", "optional", "required"):
            raise ValueError("task_support must be 'forbidden', 'optional' or 'required'")
        self.task_support = task_support or "forbidden"
        # The tasks extension (2026-07-28): the call starts as a plain request, and becomes a task when the
        # handler awaits `ctx.start_task()` (after gathering input in multi round-trip rounds, say).
        self.defer_task = defer_task
        # bind(arguments): validated keyword arguments for the function (raises
        # ArgumentsInvalid); result(value): the tools/call result
        # for what it returned. Attributes, not methods: one call less on every tools/call.
        self.bind: Callable[[dict[str, Any]], dict[str, Any]] = (
            self.signature.checked if self.validate is None else self._bind_validated
        )
        self.result: Callable[[Any], Any] = (
            self._checked_result
            if self.structured
            else functools.partial(content.tool_result, False, self.wrap_result)
        )
        # results[version]: `result` for a session of that revision (what it lacks taken out; precomputed).
        self.results: dict[str, Callable[[Any], Any]] = {
            version: self.result if revision.has_everything else _shaped(self.result, revision)
            for version, revision in REVISIONS.items()
        }
        # The common call needs nothing but its arguments: async, no Context, never a task, no cache.
        self.plain = (
            self.is_async
            and self.signature.context_param is None
            and self.task_support != "required"
            and cache_ttl is None
        )
        # A plain tool with no await point runs inline: no task, no Then (Server._call_tool).
        self.inline = self.plain and self.await_free
        definition: dict[str, Any] = {"name": self.name}
        if title:
            definition["title"] = title
        doc = description if description is not None else inspect.getdoc(fn)
        if doc:
            definition["description"] = doc
        definition["inputSchema"] = schema
        if output_schema is not None:
            definition["outputSchema"] = output_schema
        if annotations is not None:
            definition["annotations"] = msgspec.to_builtins(annotations)
        if icons:
            definition["icons"] = msgspec.to_builtins(icons)
        if task_support:
            definition["execution"] = {"taskSupport": task_support}
        if meta:
            definition["_meta"] = meta
        self.definition = definition

    def _bind_validated(self, arguments: dict[str, Any]) -> dict[str, Any]:
        self.validate(arguments)  # type: ignore[misc]
        return self.signature.bind(arguments)

    def _checked_result(self, value: Any) -> Any:
        """The result of a tool with an output schema, or an error result if its structured content is
        missing or does not match the schema."""
        result = content.tool_result(True, self.wrap_result, value)
        if isinstance(result, t.CallToolResult):
            if result.is_error:
                return result  # an error result carries no structured content to check
            structured = result.structured_content
        else:
            structured = None  # spliced text only
        if structured is None:
            return self._bad_output("it returned no structured content")
        try:
            self.check_output(structured)  # type: ignore[misc]
        except jsonschema_rs.ValidationError as exc:
            return self._bad_output(_describe(exc))
        return result

    def _bad_output(self, why: str) -> t.CallToolResult:
        text = f"Tool {self.name!r} returned a result that does not match its output schema: {why}"
        return t.CallToolResult(content=[t.TextContent(text=text)], is_error=True)

    def error_result(self, exc: Exception) -> t.CallToolResult:
        """A failing tool answers with an isError result the model can see (tools.mdx "Error Handling")."""
        detail = hidden(f"tool {self.name!r}", exc)  # a ToolError's message, else a log reference
        return t.CallToolResult(
            content=[t.TextContent(text=f"Error in tool {self.name!r}: {detail}")], is_error=True
        )

    def invalid_arguments(self, exc: Exception) -> t.CallToolResult:
        """The isError result for arguments that do not fit the input schema."""
        text = self.arguments_error(exc)
        return t.CallToolResult(content=[t.TextContent(text=text)], is_error=True)

    def arguments_error(self, exc: Exception) -> str:
        """SEP-1303: tell the model what was wrong so it can correct the call."""
        return f"Invalid arguments for tool {self.name!r}: {_describe(exc)}"


def _semantic_annotations(
    name: str, threshold: float, annotations: t.ToolAnnotations | dict[str, Any] | None
) -> dict[str, Any]:
    """A tool answered with another call's result must be read-only and idempotent: the flag sets both hints
    (clients see what the cache assumes), and refuses a tool that says otherwise."""
    if isinstance(threshold, bool) or not isinstance(threshold, int | float) or not 0 < threshold <= 1:
        raise ValueError(f"tool {name!r}: semantic_cache must be a cosine similarity in (0, 1], e.g. 0.92")
    hints: dict[str, Any] = msgspec.to_builtins(annotations) if annotations is not None else {}
    for hint in ("readOnlyHint", "idempotentHint"):
        if hints.get(hint) is False:
            raise ValueError(
                f"tool {name!r}: semantic_cache needs a read-only, idempotent tool ({hint} is false)"
            )
        hints[hint] = True
    return hints


def _shaped(result: Callable[[Any], Any], revision: Revision) -> Callable[[Any], Any]:
    def shaped(value: Any) -> Any:
        return downgrade.tool_result(result(value), revision)

    return shaped


def _describe(exc: Exception) -> str:
    """A validation error as text: what is wrong and, for a schema validator's error, where."""
    detail = getattr(exc, "message", None) or str(exc)
    path = getattr(exc, "instance_path", None)
    if path:
        detail = f"at /{'/'.join(str(part) for part in path)}: {detail}"
    return detail


_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


def header_params(tool: str, schema: dict[str, Any]) -> list[tuple[str, tuple[str, ...]]]:
    """The parameters a tool marks `x-mcp-header` (2026-07-28 tools.mdx), as (header name, property path):
    clients mirror them into Mcp-Param-<name> headers and the server checks that those match the body. A
    mark that breaks the rules (not a token, repeated, on a number, an object or an array) is refused at
    registration: clients would drop the tool from their list."""
    found: list[tuple[str, tuple[str, ...]]] = []
    _marked(tool, schema, (), found)
    seen: set[str] = set()
    for header, _ in found:
        if header.lower() in seen:
            raise ValueError(f"tool {tool!r}: x-mcp-header {header!r} is used twice")
        seen.add(header.lower())
    return found


def _marked(tool: str, schema: Any, path: tuple[str, ...], found: list[tuple[str, tuple[str, ...]]]) -> None:
    properties = schema.get("properties") if isinstance(schema, dict) else None
    if not isinstance(properties, dict):
        return
    for name, sub in properties.items():
        if not isinstance(sub, dict):
            continue
        header = sub.get("x-mcp-header")
        if header is not None:
            if not isinstance(header, str) or not _TOKEN.fullmatch(header):
                raise ValueError(f"tool {tool!r}: x-mcp-header of {name!r} must be an HTTP header token")
            if sub.get("type") not in ("string", "integer", "boolean"):
                raise ValueError(f"tool {tool!r}: x-mcp-header {header!r} needs a string, integer or boolean")
            found.append((header, (*path, name)))
        _marked(tool, sub, (*path, name), found)
