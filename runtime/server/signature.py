"""Reading a handler's signature: which parameter takes the Context, and the JSON Schema of the others."""

from __future__ import annotations

import inspect
import types
import typing
from collections.abc import Callable
from typing import Any

import msgspec

_NATIVE = {str, int, float, bool, Any, dict, list, type(None)}


class Signature:
    """The parameters of a handler function, minus the injected Context."""

    __slots__ = ("accepts_any", "args_type", "context_param", "fields", "hints", "names", "needs_convert")

    def __init__(self, fn: Callable[..., Any], context_type: type) -> None:
        hints = typing.get_type_hints(fn, include_extras=True)
        self.hints = hints
        self.context_param: str | None = None
        self.accepts_any = False
        fields: list[tuple[Any, ...]] = []
        for name, param in inspect.signature(fn).parameters.items():
            annotation = hints.get(name, Any)
            if _is_context(annotation, context_type):
                self.context_param = name
                continue
            if param.kind is inspect.Parameter.VAR_KEYWORD:
                self.accepts_any = True
                continue
            if param.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.POSITIONAL_ONLY):
                raise TypeError(f"{fn.__qualname__}: parameter {name!r} must be passable by keyword")
            if param.default is inspect.Parameter.empty:
                fields.append((name, annotation))
            else:
                fields.append((name, annotation, param.default))
        self.fields = fields
        self.names = frozenset(f[0] for f in fields)
        self.args_type = msgspec.defstruct(f"{fn.__name__}_arguments", fields, kw_only=True)
        # JSON-native parameters are passed as decoded; anything else (Structs, dataclasses, datetimes, enums)
        # goes through msgspec.convert.
        self.needs_convert = any(_strip(f[1]) not in _NATIVE for f in fields)

    def input_schema(self) -> dict[str, Any]:
        return root_schema(self.args_type)

    def checked(self, arguments: dict[str, Any]) -> dict[str, Any]:
        """Validate against the parameters' types and constraints (what the derived input schema says) in
        one msgspec conversion, and bind: the fast path for tools without a hand-written schema."""
        obj = msgspec.convert(arguments, self.args_type)
        if self.needs_convert:
            return {name: getattr(obj, name) for name in self.names}
        if arguments.keys() <= self.names:
            return dict(arguments)
        return {k: v for k, v in arguments.items() if k in self.names}

    def bind(self, arguments: dict[str, Any]) -> dict[str, Any]:
        if self.needs_convert:
            obj = msgspec.convert(arguments, self.args_type)
            return {name: getattr(obj, name) for name in self.names if name in arguments} | {
                name: getattr(obj, name) for name in self.names if name not in arguments
            }
        if self.accepts_any or arguments.keys() <= self.names:
            return dict(arguments)
        return {k: v for k, v in arguments.items() if k in self.names}


def _is_context(annotation: Any, context_type: type) -> bool:
    candidates = typing.get_args(annotation) if typing.get_origin(annotation) in _UNIONS else (annotation,)
    return any(isinstance(c, type) and issubclass(c, context_type) for c in candidates)


_UNIONS = (typing.Union, types.UnionType)


def _strip(annotation: Any) -> Any:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _strip(typing.get_args(annotation)[0])
    if origin in (list, dict):
        args = typing.get_args(annotation)
        return origin if all(_strip(a) in _NATIVE for a in args) else annotation
    if origin in _UNIONS:
        args = typing.get_args(annotation)
        return str if all(_strip(a) in _NATIVE for a in args) else annotation
    return annotation


def root_schema(tp: Any) -> dict[str, Any]:
    """msgspec's schema for a type with the top-level `$ref` inlined (MCP wants the object at the root)."""
    schema = msgspec.json.schema(tp)
    ref = schema.get("$ref")
    if ref is None:
        return schema
    defs = dict(schema.get("$defs", {}))
    root = dict(defs.pop(ref.rsplit("/", 1)[-1]))
    root.pop("title", None)
    if defs:
        root["$defs"] = defs
    if not root.get("required"):
        root.pop("required", None)
    return root


def return_schema(fn: Callable[..., Any], plain: tuple[type, ...]) -> tuple[dict[str, Any] | None, bool]:
    """The output schema of a tool from its return annotation, and whether the value is wrapped as
    {"result": value} (the schema of structuredContent must be an object)."""
    annotation = typing.get_type_hints(fn, include_extras=True).get("return", None)
    if annotation is None or annotation is type(None) or annotation is Any:
        return None, False
    bare = annotation
    while typing.get_origin(bare) is typing.Annotated:
        bare = typing.get_args(bare)[0]
    if (typing.get_origin(bare) in (list, tuple) or bare is str) and _is_plain(bare, plain):
        return None, False
    if isinstance(bare, type) and issubclass(bare, plain):
        return None, False
    try:
        schema = root_schema(annotation)
    except (TypeError, ValueError):
        return None, False
    if schema.get("type") == "object":
        return schema, False
    wrapped: dict[str, Any] = {"type": "object", "properties": {"result": schema}, "required": ["result"]}
    if "$defs" in schema:
        wrapped["$defs"] = schema.pop("$defs")
    return wrapped, True


def _is_plain(annotation: Any, plain: tuple[type, ...]) -> bool:
    """str, or a list of content blocks (or of anything: list[Any] cannot be described by a schema)."""
    if annotation is str:
        return True
    args = [a for arg in typing.get_args(annotation) for a in (typing.get_args(arg) or (arg,))]
    return bool(args) and all(a is Any or (isinstance(a, type) and issubclass(a, plain)) for a in args)
