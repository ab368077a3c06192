"""The method handlers of `Server` other than tools/call: resources/read, prompts/get, completion/complete,
the 2025-11-25 tasks/* methods, and the small ones (ping, server/discover, logging/setLevel, subscriptions).
Each takes the server, the request's `Context` and its typed params; `Server` routes to them.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import msgspec

from ipc.cache import KIND_RESOURCE, SharedCache, resource_key
from runtime.protocol import downgrade
from runtime.protocol import jsonrpc as rpc
from runtime.protocol import types as t
from runtime.protocol.core import ServerSession
from runtime.protocol.jsonrpc import McpError
from runtime.protocol.state import LOG_LEVELS
from runtime.protocol.versions import Revision
from runtime.server import content
from runtime.server.context import Context
from runtime.server.pagination import page

if TYPE_CHECKING:
    from runtime.server.app import Server

MAX_COMPLETION_VALUES = 100  # completion.mdx: at most 100 values per response


def owner(session: ServerSession) -> str:
    """Who a task belongs to: its session (tasks are invisible to every other session)."""
    return session.state.session_id or f"local-{id(session)}"


def get_task(server: Server, ctx: Context, params: t.GetTaskRequestParams) -> dict[str, Any]:
    return server.tasks.owned(owner(ctx._session), params.task_id).wire()


def task_result(server: Server, ctx: Context, params: t.GetTaskPayloadRequestParams) -> Any:
    # The response's channel carries the task's messages while it is open (tasks.mdx "input_required").
    return server.tasks.result(owner(ctx._session), params.task_id, ctx._out.send)


def list_tasks(server: Server, ctx: Context, params: t.PaginatedRequestParams | None) -> dict[str, Any]:
    records = server.tasks.owned_by(owner(ctx._session))
    cursor = params.cursor if params is not None else None
    chunk, next_cursor = page("tasks", records, cursor, server.page_size)
    result: dict[str, Any] = {"tasks": [record.wire() for record in chunk]}
    if next_cursor is not None:
        result["nextCursor"] = next_cursor
    return result


def cancel_task(server: Server, ctx: Context, params: t.CancelTaskRequestParams) -> dict[str, Any]:
    return server.tasks.cancel(owner(ctx._session), params.task_id).wire()


def read_resource(server: Server, ctx: Context, params: t.ReadResourceRequestParams) -> Any:
    uri = params.uri
    spec = server._resources.get(uri)
    kwargs: dict[str, Any] = {}
    if spec is None:
        for candidate in server._templates.values():
            variables = candidate.template.match(uri)  # type: ignore[union-attr]
            if variables is not None:
                spec, kwargs = candidate, variables
                break
        else:
            raise McpError(rpc.RESOURCE_NOT_FOUND, f"Resource not found: {uri}", {"uri": uri})
    convert = functools.partial(content.resource_contents, uri, spec.mime_type)
    cache = server.cache
    if cache is None or spec.cache_ttl is None:
        return server._answer(ctx, spec.handler, kwargs, convert)
    key = resource_key(uri)
    hit = cache.get(key)
    cache.count(hit is not None)
    if hit is not None:
        return hit  # ready-to-send bytes: no handler, no task, no encoding
    generation = cache.generation(key)
    if spec.handler.await_free:
        data = rpc.encode(server._answer(ctx, spec.handler, kwargs, convert))
        cache.put(key, data, spec.cache_ttl or None, KIND_RESOURCE, generation)
        return data
    pending = server._invoke(ctx, spec.handler, kwargs)
    return _stored_resource(pending, convert, cache, key, generation, spec.cache_ttl)


def get_prompt(server: Server, ctx: Context, params: t.GetPromptRequestParams) -> Any:
    spec = server._prompts.get(params.name)
    if spec is None:
        raise McpError(rpc.INVALID_PARAMS, f"Unknown prompt: {params.name}", {"name": params.name})
    arguments = params.arguments or {}
    missing = [name for name in spec.required if name not in arguments]
    if missing:
        raise McpError(
            rpc.INVALID_PARAMS,
            f"Missing required arguments for prompt {spec.name!r}: {', '.join(missing)}",
        )
    try:
        kwargs = spec.handler.signature.bind(arguments)
    except msgspec.ValidationError as exc:
        raise McpError(rpc.INVALID_PARAMS, f"Invalid arguments for prompt {spec.name!r}: {exc}") from None
    convert = functools.partial(content.prompt_messages, spec.description)
    revision = ctx._session.revision
    if not revision.has_everything:
        convert = functools.partial(_shaped_prompt, convert, revision)
    return server._answer(ctx, spec.handler, kwargs, convert)


def complete(server: Server, ctx: Context, params: t.CompleteRequestParams) -> Any:
    ref = params.ref
    if isinstance(ref, t.PromptReference):
        kind, target = "ref/prompt", ref.name
        known = target in server._prompts
    else:
        kind, target = "ref/resource", ref.uri
        known = target in server._templates or target in server._resources
    if not known:
        raise McpError(rpc.INVALID_PARAMS, f"Unknown {kind.removeprefix('ref/')}: {target}")
    spec = server._completions.get((kind, target, params.argument.name))
    if spec is None:
        return {"completion": {"values": [], "hasMore": False}}
    names = [f[0] for f in spec.handler.signature.fields]
    kwargs: dict[str, Any] = {names[0]: params.argument.value}
    if spec.wants_context:
        context_arguments = params.context.arguments if params.context is not None else None
        kwargs[names[1]] = context_arguments or {}
    return server._answer(ctx, spec.handler, kwargs, _completion_result)


def ping(ctx: Context, params: Any) -> bytes:
    return b"{}"


def discover(ctx: Context, params: Any) -> bytes:
    return ctx._session.profile.discover_result()


def set_level(ctx: Context, params: t.SetLevelRequestParams) -> bytes:
    if params.level not in LOG_LEVELS:
        raise McpError(rpc.INVALID_PARAMS, f"Invalid log level: {params.level}")
    ctx._session.set_log_level(params.level)
    return b"{}"


def subscribe(ctx: Context, params: t.SubscribeRequestParams) -> bytes:
    subscriptions = ctx._session.state.subscriptions
    if params.uri not in subscriptions:
        subscriptions.append(params.uri)
    return b"{}"


def unsubscribe(ctx: Context, params: t.UnsubscribeRequestParams) -> bytes:
    subscriptions = ctx._session.state.subscriptions
    if params.uri in subscriptions:
        subscriptions.remove(params.uri)
    return b"{}"


async def _stored_resource(
    pending: Any, convert: Callable[[Any], Any], cache: SharedCache, key: str, generation: int, ttl: float
) -> bytes:
    """Run a resource handler on a miss and store its result (unless the URI was updated meanwhile)."""
    data = rpc.encode(convert(await pending))
    cache.put(key, data, ttl or None, KIND_RESOURCE, generation)
    return data


def _shaped_prompt(convert: Callable[[Any], Any], revision: Revision, value: Any) -> Any:
    return downgrade.prompt_result(convert(value), revision)


def _completion_result(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return {"completion": value}
    values = [str(v) for v in value]
    return {
        "completion": {
            "values": values[:MAX_COMPLETION_VALUES],
            "total": len(values),
            "hasMore": len(values) > MAX_COMPLETION_VALUES,
        }
    }
