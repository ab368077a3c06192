"""Tools: registration (schemas from type hints, validation compiled once) and the call path."""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Callable
from typing import Any

import fastjsonschema
import msgspec

from runtime.protocol import types as t
from runtime.server import content
from runtime.server.content import CONTENT_TYPES
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


def compile_validator(schema: dict[str, Any]) -> Callable[[Any], Any]:
    """Compile a JSON Schema validator once. A schema without `$schema` is 2020-12 (the MCP default);
    fastjsonschema implements up to draft 7, whose keywords cover what tool schemas use ($defs refs resolve as
    plain JSON pointers)."""
    dialect = schema.get("$schema")
    if dialect is not None and dialect.rstrip("#") not in _KNOWN_DIALECTS:
        raise ValueError(f"unsupported JSON Schema dialect {dialect!r}")
    body = {k: v for k, v in schema.items() if k != "$schema"}
    return fastjsonschema.compile(body, use_default=False)


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
        "definition",
        "fn",
        "is_async",
        "name",
        "plain",
        "result",
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
        cache_ttl: float | None = None,
    ) -> None:
        self.name = name or fn.__name__
        check_tool_name(self.name)
        if cache_ttl is not None and not cache_ttl > 0:
            raise ValueError(f"tool {self.name!r}: cache_ttl must be a positive number of seconds")
        self.cache_ttl = cache_ttl
        self.fn = fn
        self.is_async = inspect.iscoroutinefunction(fn)
        self.await_free = cannot_suspend(fn)  # runs inline, without a task (runtime.server.inline)
        self.signature = Signature(fn, context_type)
        schema = input_schema if input_schema is not None else self.signature.input_schema()
        if schema.get("type") != "object":
            raise ValueError(f"tool {self.name!r}: inputSchema must have type 'object'")
        # A hand-written schema is checked as written (fastjsonschema); a derived one says exactly what the
        # parameters' types say, so msgspec checks those in C while binding (several times faster).
        derived = input_schema is None and not self.signature.accepts_any
        self.validate = None if derived else compile_validator(schema)
        if output_schema is None:
            output_schema, self.wrap_result = return_schema(fn, _PLAIN_RETURNS)
        else:
            self.wrap_result = False
        self.structured = output_schema is not None
        if task_support not in (None, "forbidden", "optional", "required"):
            raise ValueError("task_support must be 'forbidden', 'optional' or 'required'")
        self.task_support = task_support or "forbidden"
        # bind(arguments): validated keyword arguments for the function (raises
        # fastjsonschema.JsonSchemaException or msgspec.ValidationError); result(value): the tools/call result
        # for what it returned. Attributes, not methods: one call less on every tools/call.
        self.bind: Callable[[dict[str, Any]], dict[str, Any]] = (
            self.signature.checked if self.validate is None else self._bind_validated
        )
        self.result: Callable[[Any], Any] = functools.partial(
            content.tool_result, self.structured, self.wrap_result
        )
        # The common call needs nothing but its arguments: async, no Context, never a task, no cache.
        self.plain = (
            self.is_async
            and self.signature.context_param is None
            and self.task_support != "required"
            and cache_ttl is None
        )
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

    def error_result(self, exc: Exception) -> t.CallToolResult:
        """A failing tool answers with an isError result the model can see (tools.mdx "Error Handling")."""
        detail = f"{exc}" if str(exc) else f"{exc!r}"
        return t.CallToolResult(
            content=[t.TextContent(text=f"Error in tool {self.name!r}: {detail}")], is_error=True
        )

    def invalid_arguments(self, exc: Exception) -> t.CallToolResult:
        """The isError result for arguments that do not fit the input schema."""
        text = self.arguments_error(exc)
        return t.CallToolResult(content=[t.TextContent(text=text)], is_error=True)

    def arguments_error(self, exc: Exception) -> str:
        """SEP-1303: tell the model what was wrong so it can correct the call."""
        detail = getattr(exc, "message", None) or str(exc)
        detail = detail.replace("data.", "").replace("data ", "arguments ", 1)
        return f"Invalid arguments for tool {self.name!r}: {detail}"
