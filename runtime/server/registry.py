"""Resources, templates, prompts and completions as registered by the author."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import msgspec

from runtime.server.inline import cannot_suspend
from runtime.server.signature import Signature
from runtime.server.uritemplate import UriTemplate


def _meta_fields(**fields: Any) -> dict[str, Any]:
    """A wire definition from keyword fields, dropping unset ones and converting Structs."""
    return {k: msgspec.to_builtins(v) for k, v in fields.items() if v is not None}


class Handler:
    """A user function with its Context parameter located; sync ones are marked to run in a thread."""

    __slots__ = ("await_free", "fn", "is_async", "signature")

    def __init__(self, fn: Callable[..., Any], context_type: type) -> None:
        self.fn = fn
        self.is_async = inspect.iscoroutinefunction(fn)
        self.await_free = cannot_suspend(fn)  # runs inline, without a task (runtime.server.inline)
        self.signature = Signature(fn, context_type)


class ResourceSpec:
    __slots__ = ("cache_ttl", "definition", "handler", "mime_type", "template", "uri")

    def __init__(
        self,
        uri: str,
        fn: Callable[..., Any],
        context_type: type,
        *,
        name: str | None,
        title: str | None,
        description: str | None,
        mime_type: str | None,
        size: int | None,
        icons: Any,
        annotations: Any,
        meta: dict[str, Any] | None,
        template: UriTemplate | None,
        cache: bool = True,
        cache_ttl: float | None = None,
    ) -> None:
        self.uri = uri
        if cache_ttl is not None and not cache_ttl > 0:
            raise ValueError(f"resource {uri!r}: cache_ttl must be a positive number of seconds")
        # None: reads are not cached; 0.0: cached until resource_updated(uri); > 0: cached that long.
        self.cache_ttl: float | None = None
        if cache and (cache_ttl is not None or template is None):
            self.cache_ttl = cache_ttl or 0.0
        self.handler = Handler(fn, context_type)
        self.mime_type = mime_type
        self.template = template
        if template is not None:
            missing = set(template.variables) - self.handler.signature.names
            if missing and not self.handler.signature.accepts_any:
                raise TypeError(f"resource template {uri!r}: handler lacks parameters {sorted(missing)}")
        key = "uriTemplate" if template is not None else "uri"
        self.definition = {key: uri, "name": name or fn.__name__} | _meta_fields(
            title=title,
            description=description if description is not None else inspect.getdoc(fn),
            mimeType=mime_type,
            size=size if template is None else None,
            icons=icons,
            annotations=annotations,
            _meta=meta,
        )


class PromptSpec:
    __slots__ = ("definition", "description", "handler", "name", "required")

    def __init__(
        self,
        fn: Callable[..., Any],
        context_type: type,
        *,
        name: str | None,
        title: str | None,
        description: str | None,
        icons: Any,
        meta: dict[str, Any] | None,
    ) -> None:
        self.name = name or fn.__name__
        self.handler = Handler(fn, context_type)
        self.description = description if description is not None else inspect.getdoc(fn)
        arguments = []
        required = []
        for field in self.handler.signature.fields:
            argument: dict[str, Any] = {"name": field[0]}
            described = _annotated_description(field[1])
            if described:
                argument["description"] = described
            if len(field) == 2:
                argument["required"] = True
                required.append(field[0])
            arguments.append(argument)
        self.required = tuple(required)
        self.definition = {"name": self.name} | _meta_fields(
            title=title, description=self.description, icons=icons, _meta=meta
        )
        if arguments:
            self.definition["arguments"] = arguments


def _annotated_description(annotation: Any) -> str | None:
    for extra in getattr(annotation, "__metadata__", ()):
        if isinstance(extra, msgspec.Meta) and extra.description:
            return extra.description
        if isinstance(extra, str):
            return extra
    return None


class CompletionSpec:
    __slots__ = ("handler", "wants_context")

    def __init__(self, fn: Callable[..., Any], context_type: type) -> None:
        self.handler = Handler(fn, context_type)
        self.wants_context = len(self.handler.signature.fields) > 1
