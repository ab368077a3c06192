"""`Server`: what an author writes against: decorators for tools, resources, prompts and completions."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import msgspec

from ipc.cache import KIND_TOOL, SharedCache, resource_key, tool_key
from runtime.auth.resource import Auth
from runtime.auth.scopes import ScopeTable, scope_set
from runtime.protocol import downgrade
from runtime.protocol import jsonrpc as rpc
from runtime.protocol import types as t
from runtime.protocol.core import MAX_BATCH_MESSAGES, Call, Route, ServerProfile, ServerSession
from runtime.protocol.jsonrpc import McpError, notification_message
from runtime.protocol.request_state import DEFAULT_STATE_TTL, MAX_STATE_BYTES, StateSealer, new_key
from runtime.protocol.scan import DEFAULT_MAX_DEPTH, DEFAULT_MAX_MESSAGE_BYTES
from runtime.protocol.versions import Revision
from runtime.server import methods, quick
from runtime.server.context import Context
from runtime.server.hub import ON_LOOP, Cluster, SessionHub, TaskChannel
from runtime.server.inline import run_inline
from runtime.server.listen import Subscriptions
from runtime.server.lists import ListPages, granted
from runtime.server.registry import CompletionSpec, Handler, PromptSpec, ResourceSpec
from runtime.server.runner import Then
from runtime.server.semantic_cache import SemanticCache, SemanticResults
from runtime.server.semantic_cache import check_installed as check_semantic_installed
from runtime.server.task_extension import TaskExtension
from runtime.server.tool_search import ServerSearch, ToolSearch, enable_tool_search
from runtime.server.tools import ArgumentsInvalid, ToolSpec
from runtime.server.uritemplate import UriTemplate, is_template
from runtime.tasks import TaskRunner

F = TypeVar("F", bound=Callable[..., Any])


class Server:
    """An MCP server. Register handlers with the decorators, then serve it with `mcprt serve module:attr`
    (or `server.run()` for stdio)."""

    def __init__(
        self,
        name: str,
        version: str = "0.1.0",
        *,
        title: str | None = None,
        description: str | None = None,
        website_url: str | None = None,
        icons: list[t.Icon] | list[dict[str, Any]] | None = None,
        instructions: str | None = None,
        page_size: int = 100,
        max_threads: int | None = None,
        request_timeout: float | None = None,
        capabilities: dict[str, Any] | None = None,
        tasks: TaskRunner | None = None,
        max_batch_messages: int = MAX_BATCH_MESSAGES,
        tool_search: bool | ToolSearch = False,
        semantic_cache: SemanticCache | None = None,
        list_ttl: float = 0.0,
        state_key: bytes | None = None,
        request_state_ttl: float = DEFAULT_STATE_TTL,
        max_request_state_bytes: int = MAX_STATE_BYTES,
        auth: Auth | None = None,
    ) -> None:
        self.info: dict[str, Any] = {"name": name, "version": version}
        for key, value in (("title", title), ("description", description), ("websiteUrl", website_url)):
            if value is not None:
                self.info[key] = value
        if icons:
            self.info["icons"] = msgspec.to_builtins(icons)
        self.instructions = instructions
        self.page_size = page_size
        self.max_batch_messages = max_batch_messages  # JSON-RPC batches (2025-03-26 sessions only)
        self.request_timeout = request_timeout
        # Modern (2026-07-28) results: how long clients may cache lists (ttlMs), and the key that seals the
        # requestState of multi round-trip requests (every worker must hold the same: ServeConfig gives it).
        self.list_ttl = list_ttl
        self._state_limits = (request_state_ttl, max_request_state_bytes)
        self.state_sealer = StateSealer(state_key or new_key(), *self._state_limits)
        self.subscriptions = Subscriptions()  # modern clients' subscriptions/listen streams
        self.extra_capabilities = capabilities or {}
        self._max_threads = max_threads or min(32, (os.cpu_count() or 1) + 4)
        self._executor: ThreadPoolExecutor | None = None
        self._tools: dict[str, ToolSpec] = {}
        self._resources: dict[str, ResourceSpec] = {}
        self._templates: dict[str, ResourceSpec] = {}
        self._prompts: dict[str, PromptSpec] = {}
        self._completions: dict[tuple[str, str, str], CompletionSpec] = {}
        self._profile: ServerProfile | None = None
        # OAuth over HTTP (runtime/auth/resource.py); the scopes each entry asks for (`scopes=` of the
        # decorators), checked by the HTTP endpoint's guard before a request reaches any handler.
        self.auth = auth
        self.scopes = ScopeTable()
        self.lists = ListPages(self)  # the list results, memoised and shared: runtime/server/lists.py
        # The shared result cache (ipc/cache.py), set by the HTTP runtime: resources/read, the lists and
        # tools with cache_ttl are answered from it without running their handler.
        self.cache: SharedCache | None = None
        # The live sessions of this process, their events and the other workers: runtime/server/hub.py.
        self.hub = SessionHub(self)
        # Called (sync or async) with a session `Context` when the client sends roots/list_changed; the
        # hook may call `await ctx.list_roots()` (the request travels on the session's own channel).
        self.on_roots_changed: Callable[[Context], Any] | None = None
        self.tasks = tasks or TaskRunner()
        self.task_extension = TaskExtension(self)  # tasks over 2026-07-28 (io.modelcontextprotocol/tasks)
        self.tasks.on_input = self.task_extension.answered
        self.tasks.on_status = self._task_status
        # Built-in search_tools (and search_resources, search_prompts): runtime/server/tool_search.py.
        self.tool_search: ServerSearch | None = None
        # The semantic result cache (runtime/server/semantic_cache.py), made for the first tool with
        # semantic_cache=; `semantic_cache=` here sets its embedder and capacity.
        self.semantic_settings = semantic_cache or SemanticCache()
        self.semantic: SemanticResults | None = None
        if tool_search:
            enable_tool_search(self, tool_search)

    # -- registration --------------------------------------------------------------------------------------

    def tool(self, name: str | Callable[..., Any] | None = None, **options: Any) -> Any:
        """Register a tool. Its input schema comes from the parameters' type hints, its output schema from the
        return annotation. Options: title, description, annotations, icons, input_schema, output_schema,
        meta, task_support, defer_task (see `Context.start_task`), scopes (OAuth scopes a caller's token
        must hold, with `Auth`), cache_ttl (seconds: calls are answered
        from the shared cache; for read-only,
        idempotent tools; math.inf: until the tool is re-registered), semantic_cache (a cosine similarity,
        e.g. 0.92: a call whose free-text arguments mean the same as an earlier call's is answered with its
        result; implies the read-only and idempotent hints, and cache_ttl=math.inf unless given). Usable
        bare (`@server.tool`) or called (`@server.tool(title=...)`)."""
        if callable(name):
            return self.add_tool(name)

        def register(fn: F) -> F:
            self.add_tool(fn, name=name, **options)
            return fn

        return register

    def add_tool(self, fn: F, **options: Any) -> F:
        scopes = scope_set(options.pop("scopes", None))
        spec = ToolSpec(fn, Context, **options)
        if spec.name in self._tools:
            raise ValueError(f"tool {spec.name!r} is already registered")
        self.scopes.set("tools", spec.name, scopes)
        if spec.semantic_cache is not None and self.semantic is None:
            check_semantic_installed(self.semantic_settings)  # one clear error now, not at the first call
            self.semantic = SemanticResults(self.semantic_settings)
        self._tools[spec.name] = spec
        self._uncache_tool(spec.name)
        self._changed("tools")
        return fn

    def remove_tool(self, name: str) -> None:
        del self._tools[name]
        self.scopes.discard("tools", name)
        self._uncache_tool(name)
        self._changed("tools")

    def _uncache_tool(self, name: str) -> None:
        self.lists.tool_removed(name)

    def resource(
        self,
        uri: str,
        *,
        name: str | None = None,
        title: str | None = None,
        description: str | None = None,
        mime_type: str | None = None,
        size: int | None = None,
        icons: Any = None,
        annotations: Any = None,
        meta: dict[str, Any] | None = None,
        cache: bool = True,
        cache_ttl: float | None = None,
        scopes: Iterable[str] | None = None,
    ) -> Callable[[F], F]:
        """Register a resource at `uri`, or a resource template when `uri` is an RFC 6570 template (its
        variables are passed to the handler as keyword arguments).

        Reads are answered from the shared cache: a fixed-URI resource until `resource_updated(uri)` (or
        for `cache_ttl` seconds), a template's resources only when it sets `cache_ttl`; `cache=False`:
        never. `scopes`: OAuth scopes a caller's token must hold to read it (with `Auth`)."""
        needed = scope_set(scopes)

        def register(fn: F) -> F:
            template = UriTemplate(uri) if is_template(uri) else None
            spec = ResourceSpec(
                uri,
                fn,
                Context,
                name=name,
                title=title,
                description=description,
                mime_type=mime_type,
                size=size,
                icons=icons,
                annotations=annotations,
                meta=meta,
                template=template,
                cache=cache,
                cache_ttl=cache_ttl,
            )
            table = self._templates if template is not None else self._resources
            if uri in table:
                raise ValueError(f"resource {uri!r} is already registered")
            table[uri] = spec
            self.scopes.set("templates" if template is not None else "resources", uri, needed)
            self._changed("resources")
            return fn

        return register

    def remove_resource(self, uri: str) -> None:
        if self._resources.pop(uri, None) is None and self._templates.pop(uri, None) is None:
            raise KeyError(uri)
        self.scopes.discard("resources", uri)
        self.scopes.discard("templates", uri)
        self._changed("resources")

    def prompt(
        self,
        name: str | Callable[..., Any] | None = None,
        *,
        title: str | None = None,
        description: str | None = None,
        icons: Any = None,
        meta: dict[str, Any] | None = None,
        scopes: Iterable[str] | None = None,
    ) -> Any:
        """Register a prompt; its arguments are the function's parameters (required unless defaulted).
        `scopes`: OAuth scopes a caller's token must hold to get it (with `Auth`)."""
        needed = scope_set(scopes)

        def register(fn: F) -> F:
            spec = PromptSpec(
                fn,
                Context,
                name=None if callable(name) else name,
                title=title,
                description=description,
                icons=icons,
                meta=meta,
            )
            if spec.name in self._prompts:
                raise ValueError(f"prompt {spec.name!r} is already registered")
            self._prompts[spec.name] = spec
            self.scopes.set("prompts", spec.name, needed)
            self._changed("prompts")
            return fn

        return register(name) if callable(name) else register

    def remove_prompt(self, name: str) -> None:
        del self._prompts[name]
        self.scopes.discard("prompts", name)
        self._changed("prompts")

    def completion(
        self, *, argument: str, prompt: str | None = None, resource: str | None = None
    ) -> Callable[[F], F]:
        """Register argument completion for a prompt argument or a resource-template variable. The handler
        takes the partial `value` (and optionally the already-resolved `arguments` dict) and returns a list of
        strings, or a `t.Completion`-shaped dict."""
        if (prompt is None) == (resource is None):
            raise ValueError("completion() needs exactly one of prompt= or resource=")
        key = ("ref/prompt", prompt, argument) if prompt is not None else ("ref/resource", resource, argument)

        def register(fn: F) -> F:
            self._completions[key] = CompletionSpec(fn, Context)  # type: ignore[index]
            self._profile = None
            return fn

        return register

    # -- publishing ----------------------------------------------------------------------------------------

    def resource_updated(self, uri: str) -> int:
        """Tell every session subscribed to `uri` that it changed; returns how many this process told
        (with several workers, each tells the sessions whose standalone stream it holds). Safe to call
        from a sync handler's thread: the messages are sent from the event loop."""
        moved = self.hub.on_loop(self.resource_updated, uri)
        if moved is not ON_LOOP:
            return moved  # type: ignore[no-any-return]
        if self.cache is not None:
            self.cache.remove(resource_key(uri))  # the segment is shared: gone for every worker
        self.hub.publish(("resource_updated", uri))
        return self.hub.deliver_resource_updated(uri)

    def _changed(self, kind: str) -> None:
        if self.tool_search is not None:
            self.tool_search.changed(kind)
        self.lists.changed(kind)
        if self._profile is not None and kind not in self._profile.capabilities:
            self._profile = None  # new sessions will see the new capability
        self._announce_change(kind)

    def _announce_change(self, kind: str) -> None:
        if self.hub.on_loop(self._announce_change, kind) is not ON_LOOP:
            return
        self.hub.publish(("list_changed", kind))
        self.hub.deliver_list_changed(kind)

    def session_context(self, session: ServerSession) -> Context:
        """A `Context` for work outside any request (hooks, background jobs): its messages and requests go on
        the session's channel for unrelated messages (stdio: stdout; HTTP: the standalone GET stream)."""
        return self.hub.session_context(session)

    def attached(self, session: ServerSession) -> None:
        """A session became live on this process (a subclass may start its own work here)."""

    @property
    def cluster(self) -> Cluster | None:
        """The other workers of the multi-process runtime, when there are (set by workers/cluster)."""
        return self.hub.cluster

    @cluster.setter
    def cluster(self, cluster: Cluster | None) -> None:
        self.hub.cluster = cluster

    def use_state_key(self, key: bytes) -> None:
        """Seal multi round-trip request state with `key`: every process serving this server must hold the
        same one (the supervisor gives its workers one; across hosts, set MCPRT_STATE_KEY on each)."""
        self.state_sealer = StateSealer(key, *self._state_limits)
        self._profile = None

    # -- the protocol profile ------------------------------------------------------------------------------

    @property
    def profile(self) -> ServerProfile:
        if self._profile is None:
            self._profile = ServerProfile(
                self._routes(),
                self.capabilities(),
                self.info,
                self.instructions,
                self.max_batch_messages,
                self.state_sealer,
                int(self.list_ttl * 1000),
                self.task_extension.routes() if self._has_task_tools() else None,
            )
        return self._profile

    def _has_task_tools(self) -> bool:
        return any(tool.task_support != "forbidden" for tool in self._tools.values())

    def capabilities(self) -> dict[str, Any]:
        caps: dict[str, Any] = {"logging": {}}
        if self._tools:
            caps["tools"] = {"listChanged": True}
        if self._resources or self._templates:
            caps["resources"] = {"subscribe": True, "listChanged": True}
        if self._prompts:
            caps["prompts"] = {"listChanged": True}
        if self._completions:
            caps["completions"] = {}
        if any(tool.task_support != "forbidden" for tool in self._tools.values()):
            # Tasks are bound to their session, so listing them is safe to offer (tasks.mdx "Security").
            caps["tasks"] = {"list": {}, "cancel": {}, "requests": {"tools": {"call": {}}}}
        caps.update(self.extra_capabilities)
        return caps

    def _routes(self) -> dict[str, Route]:
        return {
            "server/discover": Route("server/discover", None, methods.discover),
            "subscriptions/listen": Route("subscriptions/listen", None, self.subscriptions.listen),
            "ping": Route("ping", None, methods.ping),
            "tools/list": Route("tools/list", "tools", self._list_tools),
            "tools/call": Route("tools/call", "tools", self._call_tool),
            "resources/list": Route("resources/list", "resources", self._list_resources),
            "resources/templates/list": Route("resources/templates/list", "resources", self._list_templates),
            "resources/read": Route("resources/read", "resources", self._read_resource),
            "resources/subscribe": Route("resources/subscribe", "resources", methods.subscribe),
            "resources/unsubscribe": Route("resources/unsubscribe", "resources", methods.unsubscribe),
            "prompts/list": Route("prompts/list", "prompts", self._list_prompts),
            "prompts/get": Route("prompts/get", "prompts", self._get_prompt),
            "completion/complete": Route("completion/complete", "completions", self._complete),
            "logging/setLevel": Route("logging/setLevel", "logging", methods.set_level),
            "tasks/get": Route("tasks/get", "tasks", self._get_task),
            "tasks/result": Route("tasks/result", "tasks", self._task_result),
            "tasks/list": Route("tasks/list", "tasks", self._list_tasks),
            "tasks/cancel": Route("tasks/cancel", "tasks", self._cancel_task),
        }

    # -- running handlers ----------------------------------------------------------------------------------

    @property
    def executor(self) -> ThreadPoolExecutor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(self._max_threads, thread_name_prefix="mcprt-handler")
        return self._executor

    def _answer(
        self, ctx: Context, handler: Handler, kwargs: dict[str, Any], convert: Callable[[Any], Any]
    ) -> Any:
        """`convert(handler(**kwargs))`: at once for an await-free handler, else a `Then` for the runner."""
        pending = self._invoke(ctx, handler, kwargs)
        return convert(run_inline(pending)) if handler.await_free else Then(pending, convert)

    def _invoke(self, ctx: Context, handler: Handler, kwargs: dict[str, Any]) -> Any:
        """Call a user function: async ones return their coroutine, sync ones a future from the pool."""
        if handler.signature.context_param is not None:
            kwargs[handler.signature.context_param] = ctx
        if handler.is_async:
            return handler.fn(**kwargs)
        return ctx._loop.run_in_executor(self.executor, functools.partial(handler.fn, **kwargs))

    def shutdown(self) -> None:
        self.tasks.close()  # before the transport closes the stores
        if self.tool_search is not None:
            self.tool_search.shutdown()
        if self.semantic is not None:
            self.semantic.shutdown()
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None

    # -- method handlers -----------------------------------------------------------------------------------

    def _list_tools(self, ctx: Context, params: t.PaginatedRequestParams | None) -> bytes:
        return _page(self, "tools", ctx, params)

    def _list_resources(self, ctx: Context, params: t.PaginatedRequestParams | None) -> bytes:
        return _page(self, "resources", ctx, params)

    def _list_templates(self, ctx: Context, params: t.PaginatedRequestParams | None) -> bytes:
        return _page(self, "templates", ctx, params)

    def _list_prompts(self, ctx: Context, params: t.PaginatedRequestParams | None) -> bytes:
        return _page(self, "prompts", ctx, params)

    def _call_tool(self, ctx: Context, params: t.CallToolRequestParams) -> Any:
        """tools/call: the one place a tool call runs, for every wire and decoder, from the tool's plan
        (`ToolSpec`: inline, cache, semantic cache, tasks, Context, executor). Returns the result (an
        await-free tool ran inline), or a `Then` for the runner (`Runner.call`/`_finish`: the in-flight
        table, timeout, cancellation), the only place a handler is awaited. A tool's `McpError` is a JSON-RPC
        error (the runner answers it); any other exception an isError result (`error_result`); a value
        `convert` cannot take an internal error (the runner's)."""
        tool = self._tools.get(params.name)
        if tool is None:
            raise McpError(rpc.INVALID_PARAMS, f"Unknown tool: {params.name}", {"name": params.name})
        # Its scopes were checked before the request reached the session (workers/streamable/guard.py):
        # over HTTP a missing scope must be a 403 with its challenge, not a JSON-RPC error.
        revision = ctx._session.revision
        task = params.task
        if task is not None:
            if tool.task_support == "forbidden":
                message = f"Tool {tool.name!r} does not support task-augmented calls"
                raise McpError(rpc.METHOD_NOT_FOUND, message)
        elif tool.task_support == "required" and revision.stateful:
            # (2026-07-28 has no `task` field: the tasks extension decides, runtime/server/task_extension.py)
            raise McpError(rpc.METHOD_NOT_FOUND, f"Tool {tool.name!r} must be called as a task")
        arguments = params.arguments if params.arguments is not None else {}
        convert = tool.results[revision.version]  # the result as the session's revision has it
        store: tuple[SharedCache, str, int] | None = None
        cache = self.cache
        if tool.cache_ttl is not None and cache is not None and task is None:
            # Cacheable (read-only, idempotent): the key is the name and the arguments in canonical JSON.
            key = tool_key(tool.name, msgspec.json.encode(arguments, order="sorted"))
            hit = cache.get(key)
            cache.count(hit is not None)
            if hit is not None:  # stored in the latest revision's shape, shared by every session
                return hit if revision.has_everything else downgrade.tool_result(hit, revision)
            store = (cache, key, cache.generation(key))
            convert = tool.result
        try:
            kwargs = tool.bind(arguments)
        except ArgumentsInvalid as exc:
            return tool.invalid_arguments(exc)
        if task is None or not revision.has_tasks or "tasks" not in ctx._session.profile.capabilities:
            # A plain call (a revision without tasks knows no `task` field: the call runs as a plain one).
            if store is None:
                if tool.inline and task is None:  # no await point, no Context: it runs to its end now
                    try:
                        value = run_inline(tool.fn(**kwargs))
                    except McpError:
                        raise
                    except Exception as exc:
                        return tool.error_result(exc)
                    return convert(value)
                return Then(self._start_tool(ctx, tool, kwargs), convert, tool.error_result)
            if tool.semantic_cache is not None and self.semantic is not None:
                # After an exact miss and with valid arguments only: an earlier call that means the same.
                return self._semantic_tool_result(ctx, tool, kwargs, arguments, store, revision)
            work = Then(self._start_tool(ctx, tool, kwargs), convert, tool.error_result)
            return _stored_tool_result(work, *store, tool.cache_ttl, revision)  # type: ignore[arg-type]
        record = self.tasks.create(methods.owner(ctx._session), task.ttl)
        channel = TaskChannel(self.hub, ctx._session, record.task_id)
        ctx = Context(self, ctx._session, ctx._call, channel, ctx._loop, _principal=ctx.principal)
        ctx._task_id = record.task_id
        self.tasks.start(record, Then(self._start_tool(ctx, tool, kwargs), convert, tool.error_result))
        return {"task": record.wire()}

    def _start_tool(self, ctx: Context, tool: ToolSpec, kwargs: dict[str, Any]) -> Any:
        if tool.signature.context_param is not None:
            kwargs[tool.signature.context_param] = ctx
        if tool.is_async:
            return tool.fn(**kwargs)
        return ctx._loop.run_in_executor(self.executor, functools.partial(tool.fn, **kwargs))

    async def _semantic_tool_result(
        self,
        ctx: Context,
        tool: ToolSpec,
        kwargs: dict[str, Any],
        arguments: dict[str, Any],
        store: tuple[SharedCache, str, int],
        revision: Revision,
    ) -> Any:
        """The result of an earlier call whose arguments mean the same, else the tool's own, stored under the
        exact key with its vector beside it (an error result is never stored)."""
        semantic = self.semantic
        assert semantic is not None
        cache, key, generation = store
        found = await semantic.find(tool, arguments, cache)
        if found.hit is not None:
            return found.hit if revision.has_everything else downgrade.tool_result(found.hit, revision)
        result = await Then(self._start_tool(ctx, tool, kwargs), tool.result, tool.error_result)
        data = result if type(result) is bytes else rpc.encode(result)
        if not getattr(result, "is_error", False):
            ttl = None if tool.cache_ttl == float("inf") else tool.cache_ttl
            if cache.put(key, data, ttl, KIND_TOOL, generation):
                semantic.remember(tool, found, key, cache)
        return data if revision.has_everything else downgrade.tool_result(data, revision)

    # -- tasks ---------------------------------------------------------------------------------------------

    def _get_task(self, ctx: Context, params: t.GetTaskRequestParams) -> dict[str, Any]:
        return methods.get_task(self, ctx, params)

    def _task_result(self, ctx: Context, params: t.GetTaskPayloadRequestParams) -> Any:
        return methods.task_result(self, ctx, params)

    def _list_tasks(self, ctx: Context, params: t.PaginatedRequestParams | None) -> dict[str, Any]:
        return methods.list_tasks(self, ctx, params)

    def _cancel_task(self, ctx: Context, params: t.CancelTaskRequestParams) -> dict[str, Any]:
        return methods.cancel_task(self, ctx, params)

    def _task_status(self, record: Any) -> None:
        """notifications/tasks/status to the owning session, on its channel for unrelated messages."""
        data = notification_message("notifications/tasks/status", record.wire())
        for session in list(self.hub.live):
            if methods.owner(session) == record.owner:
                self.tasks.deliver(record.task_id, data, self.hub.channel(session).offer)

    def quick_answer(self, session: ServerSession, data: bytes) -> bytes | Call | None:
        """A message read by a small typed decoder (quick.py): a cached read's response, or a plain tool's
        `Call` for the runner; else None: the message takes the normal path."""
        return quick.answer(self, session, data)

    def _read_resource(self, ctx: Context, params: t.ReadResourceRequestParams) -> Any:
        return methods.read_resource(self, ctx, params)

    def _get_prompt(self, ctx: Context, params: t.GetPromptRequestParams) -> Any:
        return methods.get_prompt(self, ctx, params)

    def _complete(self, ctx: Context, params: t.CompleteRequestParams) -> Any:
        return methods.complete(self, ctx, params)

    # -- convenience ---------------------------------------------------------------------------------------

    def run(
        self,
        *,
        grace: float | None = None,
        max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
        max_nesting_depth: int = DEFAULT_MAX_DEPTH,
    ) -> None:
        """Serve over stdio until stdin closes or SIGTERM (what `mcprt serve --stdio` does, with the same
        limits); then requests in flight have `grace` seconds (5) to finish before the process exits."""
        from workers.shutdown import STDIO_GRACE
        from workers.stdio import run_stdio

        run_stdio(
            self,
            max_message_bytes,
            max_depth=max_nesting_depth,
            grace=STDIO_GRACE if grace is None else grace,
        )


def _page(server: Server, kind: str, ctx: Context, params: t.PaginatedRequestParams | None) -> bytes:
    return server.lists.page(kind, ctx._session.revision, params.cursor if params else None, granted(ctx))


async def _stored_tool_result(
    pending: Then, cache: SharedCache, key: str, generation: int, ttl: float, revision: Revision
) -> Any:
    """A cacheable tool's result, stored (in the latest revision's shape) unless it is an error (a failure
    may be transient); answered in the shape of the session's revision."""
    result = await pending
    data = result if type(result) is bytes else rpc.encode(result)
    if not getattr(result, "is_error", False):
        cache.put(key, data, None if ttl == float("inf") else ttl, KIND_TOOL, generation)
    return data if revision.has_everything else downgrade.tool_result(data, revision)
