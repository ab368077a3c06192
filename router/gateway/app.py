"""`Gateway`: an mcprt `Server` whose tools, resources and prompts are those of its upstream servers,
namespaced (names.py), and whose handlers forward to them (upstream.py).

Because it is a `Server`, everything `mcprt serve` does applies: stdio or Streamable HTTP, `--workers N`
(each worker process connects to every upstream itself), `--tool-search` over the union of the upstreams'
tools, the shared list cache. The registry holds one entry per upstream item, so tools/list, pagination,
older protocol revisions and tool search work unchanged; calls, reads, prompts and completions are
forwarded. The upstreams are connected when the first session starts (or the first request arrives, in a
worker that saw no initialize), and their lists are awaited (at most `reconnect.connect_timeout`) before a
list or a call is answered.
"""

from __future__ import annotations

import asyncio
import copy
import functools
import logging
from collections.abc import Callable
from typing import Any

import msgspec

from router.gateway.config import GatewayConfig, load_config
from router.gateway.names import (
    prefix_content_uris,
    prefix_contents_uris,
    prefix_prompt_uris,
    prefixed_name,
    prefixed_uri,
    split_uri,
)
from router.gateway.upstream import Unavailable, Upstream
from runtime.protocol import downgrade
from runtime.protocol import jsonrpc as rpc
from runtime.protocol import types as t
from runtime.protocol.core import Route, ServerSession
from runtime.protocol.jsonrpc import McpError, notification_message
from runtime.protocol.versions import REVISIONS, Revision
from runtime.server.app import Server
from runtime.server.context import Context
from runtime.server.failures import ToolError
from runtime.server.registry import PromptSpec, ResourceSpec
from runtime.server.tools import ToolSpec

log = logging.getLogger("mcprt.gateway")
MAX_LIST_PAGES = 1000  # pages followed per list of one upstream: a cursor that never ends is cut there
_ANY_OBJECT: dict[str, Any] = {"type": "object"}
KINDS = ("tools", "resources", "templates", "prompts")


class Gateway(Server):
    """One MCP endpoint in front of the upstream servers of `config` (see router/gateway/config.py).
    `server_options` are `Server`'s (tool_search, page_size, request_timeout, ...)."""

    def __init__(self, config: GatewayConfig, **server_options: Any) -> None:
        super().__init__(config.name, config.version, instructions=config.instructions, **server_options)
        self.config = config
        self.upstreams = {
            name: Upstream(server, config.reconnect, self) for name, server in config.servers.items()
        }
        self._started: asyncio.Task[None] | None = None
        # Which upstream each registry entry came from, and its name there: (kind, gateway name) -> ...
        self._origin: dict[tuple[str, str], tuple[Upstream, str]] = {}
        self._task_only: set[str] = set()  # gateway tool names the upstream runs only as tasks
        self._subscribed: dict[str, set[str]] = {name: set() for name in self.upstreams}  # upstream URIs
        self._templates_of = _Templates(self._forward, self._read_unused, self._prompt_unused)

    @classmethod
    def from_toml(cls, path: str, **server_options: Any) -> Gateway:
        return cls(load_config(path), **server_options)

    # -- starting and stopping -----------------------------------------------------------------------------

    def start(self) -> None:
        """Connect to every upstream (on the running loop); done by the first session or request."""
        if self._started is None:
            self._started = asyncio.get_running_loop().create_task(self._start_all())

    async def _start_all(self) -> None:
        for upstream in self.upstreams.values():
            upstream.start()
        waits = [asyncio.ensure_future(u.first_attempt.wait()) for u in self.upstreams.values()]
        _, late = await asyncio.wait(waits, timeout=self.config.reconnect.connect_timeout + 1.0)
        for wait in late:
            wait.cancel()

    @property
    def ready(self) -> bool:
        return self._started is not None and self._started.done()

    async def until_ready(self) -> None:
        """Wait until every upstream was tried once (connected and listed, or failed)."""
        self.start()
        assert self._started is not None
        await asyncio.shield(self._started)

    def attached(self, session: ServerSession) -> None:
        self.start()  # the upstreams connect when the first session arrives

    def shutdown(self) -> None:
        for upstream in self.upstreams.values():
            upstream.close()
        super().shutdown()

    async def aclose(self) -> None:
        """Close every upstream connection (for a gateway used in a Python program)."""
        await asyncio.gather(*(u.aclose() for u in self.upstreams.values()))
        if self._started is not None:
            self._started.cancel()

    def status(self) -> dict[str, dict[str, Any]]:
        """Each upstream's state (starting, ready, down, failed), consecutive failures and connections."""
        return {
            name: {"state": u.state, "failures": u.failures, "connects": u.connects}
            for name, u in self.upstreams.items()
        }

    # -- the registry, from the upstreams' lists ---------------------------------------------------------

    def capabilities(self) -> dict[str, Any]:
        # Upstreams come and go after initialize: every kind is offered, and list_changed says what is there.
        caps = super().capabilities()
        caps.setdefault("tools", {"listChanged": True})
        caps.setdefault("resources", {"subscribe": True, "listChanged": True})
        caps.setdefault("prompts", {"listChanged": True})
        caps.setdefault("completions", {})
        return caps

    async def upstream_ready(self, upstream: Upstream) -> None:
        for kind in ("tools", "resources", "prompts"):
            await self.upstream_changed(upstream, kind)
        for uri in list(self._subscribed[upstream.name]):  # a new connection knows no subscriptions
            await upstream.request("resources/subscribe", {"uri": uri}, None)

    async def upstream_changed(self, upstream: Upstream, kind: str) -> None:
        client = upstream.client
        caps = client.server_capabilities if client is not None else None
        offered = caps is not None and getattr(caps, kind) is not None
        if kind == "tools":
            self._replace(upstream, "tools", await self._listed(upstream, "tools/list", "tools", offered))
        elif kind == "prompts":
            self._replace(
                upstream, "prompts", await self._listed(upstream, "prompts/list", "prompts", offered)
            )
        elif kind == "resources":
            resources = await self._listed(upstream, "resources/list", "resources", offered)
            templates = await self._listed(upstream, "resources/templates/list", "resourceTemplates", offered)
            self._replace(upstream, "resources", resources)
            self._replace(upstream, "templates", templates)

    async def _listed(self, upstream: Upstream, method: str, key: str, offered: bool) -> list[dict[str, Any]]:
        if not offered:
            return []
        items: list[dict[str, Any]] = []
        cursor: str | None = None
        for _ in range(MAX_LIST_PAGES):
            result = await upstream.request(method, {"cursor": cursor} if cursor else None, None)
            page = result.get(key) if isinstance(result, dict) else None
            items.extend(item for item in page or [] if isinstance(item, dict))
            cursor = result.get("nextCursor") if isinstance(result, dict) else None
            if not isinstance(cursor, str) or not cursor:
                break
        return items

    def _replace(self, upstream: Upstream, kind: str, items: list[dict[str, Any]]) -> None:
        """Make the registry's entries of `kind` from `upstream` those of `items`; one list_changed if any
        entry came, went or changed."""
        registries: dict[str, dict[str, Any]] = {
            "tools": self._tools,
            "resources": self._resources,
            "templates": self._templates,
            "prompts": self._prompts,
        }
        registry = registries[kind]
        fresh: dict[str, tuple[str, Any]] = {}
        for item in items:
            made = self._entry(upstream, kind, item)
            if made is not None:
                fresh[made[0]] = (made[1], made[2])
        changed = False
        for origin_key, (origin, _) in list(self._origin.items()):
            if origin_key[0] == kind and origin is upstream and origin_key[1] not in fresh:
                del self._origin[origin_key]
                registry.pop(origin_key[1], None)
                self._task_only.discard(origin_key[1])
                changed = True
        for key, (original, spec) in fresh.items():
            current = registry.get(key)
            owner = self._origin.get((kind, key))
            if current is not None and (owner is None or owner[0] is not upstream):
                log.warning(
                    "gateway: %s %r of upstream %r is hidden by another of that name",
                    kind,
                    key,
                    upstream.name,
                )
                continue
            self._origin[(kind, key)] = (upstream, original)
            if current is not None and current.definition == spec.definition:
                continue
            registry[key] = spec
            if kind == "tools":
                self._uncache_tool(key)
            changed = True
        if changed:
            self._changed("resources" if kind == "templates" else kind)

    def _entry(self, upstream: Upstream, kind: str, item: dict[str, Any]) -> tuple[str, str, Any] | None:
        """(gateway key, upstream name or URI, registry spec) of one listed item; None: unusable."""
        server = upstream.name
        if kind in ("tools", "prompts"):
            name = item.get("name")
            key = prefixed_name(server, name) if isinstance(name, str) else None
            if key is None or not isinstance(name, str):
                log.warning("gateway: %s %r of upstream %r has no valid prefixed name", kind, name, server)
                return None
            definition = {**item, "name": key}
            if kind == "tools":
                execution = definition.pop("execution", None)  # forwarded calls are plain calls
                if isinstance(execution, dict) and execution.get("taskSupport") == "required":
                    self._task_only.add(key)
                else:
                    self._task_only.discard(key)
                return key, name, self._templates_of.tool(key, definition)
            return key, name, self._templates_of.prompt(key, definition)
        field = "uri" if kind == "resources" else "uriTemplate"
        original = item.get(field)
        if not isinstance(original, str) or not original:
            return None
        key = prefixed_uri(server, original)
        return key, original, self._templates_of.resource(key, {**item, field: key})

    # -- forwarding --------------------------------------------------------------------------------------

    def _when_ready(self, handler: Callable[[Context, Any], Any], ctx: Context, params: Any) -> Any:
        """Run a registry-backed handler now, or once the upstreams were tried (a fresh worker)."""
        if self.ready:
            return handler(ctx, params)
        return self._after_ready(handler, ctx, params)

    async def _after_ready(self, handler: Callable[[Context, Any], Any], ctx: Context, params: Any) -> Any:
        await self.until_ready()
        result = handler(ctx, params)
        if hasattr(result, "__await__"):
            result = await result
        return result

    def _list_tools(self, ctx: Context, params: t.PaginatedRequestParams | None) -> Any:
        return self._when_ready(super()._list_tools, ctx, params)

    def _list_resources(self, ctx: Context, params: t.PaginatedRequestParams | None) -> Any:
        return self._when_ready(super()._list_resources, ctx, params)

    def _list_templates(self, ctx: Context, params: t.PaginatedRequestParams | None) -> Any:
        return self._when_ready(super()._list_templates, ctx, params)

    def _list_prompts(self, ctx: Context, params: t.PaginatedRequestParams | None) -> Any:
        return self._when_ready(super()._list_prompts, ctx, params)

    def _call_tool(self, ctx: Context, params: t.CallToolRequestParams) -> Any:
        return self._when_ready(super()._call_tool, ctx, params)

    async def _forward(self, arguments: dict[str, Any], ctx: Context) -> Any:
        """The handler of every forwarded tool: the upstream's result, its resource URIs prefixed."""
        assert ctx._call is not None
        name = ctx._call.message.params.name
        origin = self._origin.get(("tools", name))
        if origin is None:  # removed by its upstream's list_changed while this call was on its way
            raise ToolError(f"tool {name!r} is no longer offered by its upstream server")
        upstream, original = origin
        raw = await upstream.call_tool(original, arguments, ctx, name in self._task_only)
        if b'"uri"' not in raw:
            return raw  # the common case: passed on as the upstream encoded it
        result = msgspec.json.decode(raw)
        if isinstance(result, dict):
            prefix_content_uris(upstream.name, result.get("content"))
        return result

    async def _ask(self, upstream: Upstream, method: str, params: dict[str, Any], ctx: Context) -> Any:
        """Forward a request other than a tool call: an unavailable upstream is a JSON-RPC error."""
        try:
            return await upstream.request(method, params, ctx)
        except Unavailable as exc:
            raise McpError(rpc.INTERNAL_ERROR, str(exc)) from None

    def _upstream_of_uri(self, uri: str) -> tuple[Upstream, str] | None:
        split = split_uri(uri)
        if split is None or split[0] not in self.upstreams:
            return None
        return self.upstreams[split[0]], split[1]

    def _read_resource(self, ctx: Context, params: t.ReadResourceRequestParams) -> Any:
        return self._read(ctx, params.uri)

    async def _read(self, ctx: Context, uri: str) -> Any:
        await self.until_ready()
        target = self._upstream_of_uri(uri)
        if target is None:
            raise McpError(rpc.RESOURCE_NOT_FOUND, f"Resource not found: {uri}", {"uri": uri})
        upstream, original = target
        result = await self._ask(upstream, "resources/read", {"uri": original}, ctx)
        if isinstance(result, dict):
            prefix_contents_uris(upstream.name, result.get("contents"))
        return result

    def _get_prompt(self, ctx: Context, params: t.GetPromptRequestParams) -> Any:
        return self._prompt(ctx, params)

    async def _prompt(self, ctx: Context, params: t.GetPromptRequestParams) -> Any:
        await self.until_ready()
        origin = self._origin.get(("prompts", params.name))
        if origin is None:
            raise McpError(rpc.INVALID_PARAMS, f"Unknown prompt: {params.name}", {"name": params.name})
        upstream, original = origin
        forwarded: dict[str, Any] = {"name": original}
        if params.arguments is not None:
            forwarded["arguments"] = params.arguments
        result = await self._ask(upstream, "prompts/get", forwarded, ctx)
        if isinstance(result, dict):
            prefix_prompt_uris(upstream.name, result.get("messages"))
        revision = ctx._session.revision
        return result if revision.has_everything else downgrade.prompt_result(result, revision)

    def _complete(self, ctx: Context, params: t.CompleteRequestParams) -> Any:
        return self._completion(ctx, params)

    async def _completion(self, ctx: Context, params: t.CompleteRequestParams) -> Any:
        await self.until_ready()
        forwarded = msgspec.to_builtins(params)
        ref = params.ref
        if isinstance(ref, t.PromptReference):
            origin = self._origin.get(("prompts", ref.name))
            if origin is None:
                raise McpError(rpc.INVALID_PARAMS, f"Unknown prompt: {ref.name}")
            upstream, original = origin
            forwarded["ref"] = {"type": "ref/prompt", "name": original}
        else:
            target = self._upstream_of_uri(ref.uri)
            if target is None:
                raise McpError(rpc.INVALID_PARAMS, f"Unknown resource: {ref.uri}")
            upstream, original = target
            forwarded["ref"] = {"type": "ref/resource", "uri": original}
        caps = upstream.client.server_capabilities if upstream.client is not None else None
        if caps is not None and caps.completions is None:
            return {"completion": {"values": [], "hasMore": False}}
        return await self._ask(upstream, "completion/complete", forwarded, ctx)

    def _routes(self) -> dict[str, Route]:
        routes = super()._routes()
        routes["resources/subscribe"] = Route("resources/subscribe", "resources", self._subscribe)
        routes["resources/unsubscribe"] = Route("resources/unsubscribe", "resources", self._unsubscribe)
        return routes

    async def _subscribe(self, ctx: Context, params: t.SubscribeRequestParams) -> dict[str, Any]:
        """Subscribed here (the session hears resources/updated) and upstream (which sends it), once, if the
        upstream offers subscriptions."""
        await self.until_ready()
        target = self._upstream_of_uri(params.uri)
        if target is None:
            raise McpError(rpc.RESOURCE_NOT_FOUND, f"Resource not found: {params.uri}", {"uri": params.uri})
        upstream, original = target
        subscribed = self._subscribed[upstream.name]
        if original not in subscribed and _subscribable(upstream):
            await self._ask(upstream, "resources/subscribe", {"uri": original}, ctx)
            subscribed.add(original)
        if params.uri not in ctx._session.state.subscriptions:
            ctx._session.state.subscriptions.append(params.uri)
        return {}

    def _unsubscribe(self, ctx: Context, params: t.UnsubscribeRequestParams) -> dict[str, Any]:
        # The upstream subscription stays: other sessions of this process may hold the same one.
        if params.uri in ctx._session.state.subscriptions:
            ctx._session.state.subscriptions.remove(params.uri)
        return {}

    # -- what the upstreams tell ---------------------------------------------------------------------------

    def upstream_updated(self, upstream: Upstream, uri: str) -> None:
        self.resource_updated(prefixed_uri(upstream.name, uri))

    def upstream_log(self, upstream: Upstream, params: dict[str, Any]) -> None:
        """A log message outside any forwarded call: to every session of this process that wants its level."""
        data = notification_message("notifications/message", params)
        for session, send in self.hub.reachable():
            if session.state.phase >= 1 and session.wants_log(params["level"]):
                send(data)

    def default_roots(self) -> list[dict[str, Any]]:
        return self.config.roots

    # Listing entries never run their handlers (reads and prompts are forwarded above).
    @staticmethod
    async def _read_unused() -> str:
        raise McpError(rpc.INTERNAL_ERROR, "not served by the registry")

    @staticmethod
    async def _prompt_unused() -> str:
        raise McpError(rpc.INTERNAL_ERROR, "not served by the registry")


class _Templates:
    """Registry specs for forwarded entries: built once, copied per entry with its name and definition
    (a spec per upstream tool would compile a signature and a validator each time a list changes)."""

    def __init__(
        self, forward: Callable[..., Any], read: Callable[..., Any], prompt: Callable[..., Any]
    ) -> None:
        tool = ToolSpec(forward, Context, name="forwarded", input_schema=_ANY_OBJECT)
        # The upstream validates the arguments and shapes the result; the gateway passes both on.
        tool.validate = None
        tool.bind = _as_arguments
        tool.result = _unchanged
        tool.results = {
            version: _unchanged if revision.has_everything else functools.partial(_tool_result, revision)
            for version, revision in REVISIONS.items()
        }
        self._tool = tool
        self._resource = ResourceSpec(
            "gateway+forwarded:",
            read,
            Context,
            name="forwarded",
            title=None,
            description=None,
            mime_type=None,
            size=None,
            icons=None,
            annotations=None,
            meta=None,
            template=None,
            cache=False,
        )
        self._prompt = PromptSpec(
            prompt, Context, name="forwarded", title=None, description=None, icons=None, meta=None
        )

    def tool(self, name: str, definition: dict[str, Any]) -> ToolSpec:
        spec = copy.copy(self._tool)
        spec.name, spec.definition = name, definition
        return spec

    def resource(self, uri: str, definition: dict[str, Any]) -> ResourceSpec:
        spec = copy.copy(self._resource)
        spec.uri, spec.definition = uri, definition
        spec.mime_type = definition.get("mimeType")
        return spec

    def prompt(self, name: str, definition: dict[str, Any]) -> PromptSpec:
        spec = copy.copy(self._prompt)
        spec.name, spec.definition = name, definition
        spec.description = definition.get("description")
        return spec


def _subscribable(upstream: Upstream) -> bool:
    """Whether the upstream takes resources/subscribe; one that does not may still send updates."""
    caps = upstream.client.server_capabilities if upstream.client is not None else None
    resources = caps.resources if caps is not None else None
    return resources is not None and bool(resources.subscribe)


def _as_arguments(arguments: dict[str, Any]) -> dict[str, Any]:
    return {"arguments": arguments}


def _unchanged(value: Any) -> Any:
    return value


def _tool_result(revision: Revision, value: Any) -> Any:
    return downgrade.tool_result(value, revision)


def load_gateway(path: str, **server_options: Any) -> Gateway:
    """A Gateway from a gateway.toml (what `mcprt gateway gateway.toml` serves)."""
    return Gateway.from_toml(path, **server_options)


__all__ = ["KINDS", "Gateway", "load_gateway"]
