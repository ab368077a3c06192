"""`Client`: connect to an MCP server and call everything it offers.

async with Client(["python", "-m", "runtime", "serve", "--stdio"]) as client:
    result = await client.call_tool("echo", {"text": "hi"})
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol, TypeVar

import msgspec

from runtime.protocol import jsonrpc as rpc
from runtime.protocol import types as t
from runtime.protocol.versions import LATEST, SUPPORTED_VERSIONS
from runtime.server.failures import internal_error
from runtime.server.pagination import page
from runtime.tasks import TaskRunner

# The server's requests a client may run as tasks, when it declares so (tasks.mdx "Client Capabilities").
TASK_CAPABLE = frozenset({"sampling/createMessage", "elicitation/create"})
SERVER = "server"  # the owner of tasks the server created: a client has one peer

R = TypeVar("R")
ProgressCallback = Callable[[float, float | None, str | None], Any]
NotificationHandler = Callable[[str, Any], Any]
RequestHandler = Callable[[Any], Awaitable[Any] | Any]
DEFAULT_TIMEOUT = 60.0


class ClientTransport(Protocol):
    async def start(
        self, on_message: Callable[[bytes], None], on_close: Callable[[BaseException | None], None]
    ) -> None: ...

    async def send(self, data: bytes) -> None: ...

    async def close(self) -> None: ...


class _Incoming(msgspec.Struct):
    """Any message from the server; `params`/`result` stay raw until their type is known."""

    jsonrpc: str = "2.0"
    id: int | str | None = None
    method: str | None = None
    # Raw cannot be part of a union with None in msgspec: an empty Raw stands for "absent".
    params: msgspec.Raw = msgspec.Raw(b"")
    result: msgspec.Raw = msgspec.Raw(b"")
    error: rpc.ErrorBody | None = None


_incoming = msgspec.json.Decoder(_Incoming)


class ClientClosed(ConnectionError):
    """The connection to the server ended while a request was waiting."""


class Client:
    """An MCP client over stdio (a command list) or Streamable HTTP (a URL)."""

    def __init__(
        self,
        target: str | Sequence[str] | ClientTransport,
        *,
        name: str = "mcprt-client",
        version: str = "0.1.0",
        protocol_version: str = LATEST,
        timeout: float = DEFAULT_TIMEOUT,
        capabilities: dict[str, Any] | None = None,
        on_notification: NotificationHandler | None = None,
        on_log: Callable[[t.LoggingMessageNotificationParams], Any] | None = None,
        roots: list[dict[str, Any]] | None = None,
        roots_handler: RequestHandler | None = None,
        sampling_handler: RequestHandler | None = None,
        sampling_tools: bool = False,
        elicitation_handler: RequestHandler | None = None,
        elicitation_modes: tuple[str, ...] = ("form", "url"),
        accept_tasks: bool = True,
        env: dict[str, str] | None = None,
        cwd: str | None = None,
    ) -> None:
        self.transport = self._make_transport(target, env, cwd)
        self.client_info = {"name": name, "version": version}
        self.requested_version = protocol_version
        self.timeout = timeout
        self.capabilities: dict[str, Any] = dict(capabilities or {})
        self.on_notification = on_notification
        self.on_log = on_log
        self.roots = roots
        self.request_handlers: dict[str, RequestHandler] = {"ping": lambda params: {}}
        # Each handler declares the capability it serves (a client never offers what it cannot answer).
        if roots is not None or roots_handler is not None:
            self.capabilities.setdefault("roots", {"listChanged": True})
            self.request_handlers["roots/list"] = roots_handler or (lambda params: {"roots": self.roots})
        if sampling_handler is not None:
            self.capabilities.setdefault("sampling", {"tools": {}} if sampling_tools else {})
            self.request_handlers["sampling/createMessage"] = lambda params: sampling_handler(
                msgspec.convert(params, t.CreateMessageRequestParams)
            )
        if elicitation_handler is not None:
            self.capabilities.setdefault("elicitation", {mode: {} for mode in elicitation_modes})
            self.request_handlers["elicitation/create"] = elicitation_handler
        self.tasks: TaskRunner | None = None
        if accept_tasks and (sampling_handler is not None or elicitation_handler is not None):
            self._accept_tasks(sampling_handler is not None, elicitation_handler is not None)
        self.server_info: t.Implementation | None = None
        self.server_capabilities: t.ServerCapabilities | None = None
        self.protocol_version: str | None = None
        self.instructions: str | None = None
        self._pending: dict[int | str, asyncio.Future[msgspec.Raw]] = {}
        self._progress: dict[int | str, ProgressCallback] = {}
        self._next_id = 0
        self._closed: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: set[asyncio.Future[Any]] = set()

    def _accept_tasks(self, sampling: bool, elicitation: bool) -> None:
        """Declare tasks.requests for the handlers we have and answer the server's tasks/* requests: the
        server may then ask for sampling or elicitation as a task and poll it (tasks.mdx)."""
        requests: dict[str, Any] = {}
        if sampling:
            requests["sampling"] = {"createMessage": {}}
        if elicitation:
            requests["elicitation"] = {"create": {}}
        self.capabilities.setdefault("tasks", {"list": {}, "cancel": {}, "requests": requests})
        tasks = self.tasks = TaskRunner()
        tasks.on_status = lambda record: self._background(
            self.notify("notifications/tasks/status", record.wire())
        )
        handlers = self.request_handlers
        handlers["tasks/get"] = lambda params: tasks.owned(SERVER, params["taskId"]).wire()
        handlers["tasks/result"] = lambda params: tasks.result(SERVER, params["taskId"])
        handlers["tasks/cancel"] = lambda params: tasks.cancel(SERVER, params["taskId"]).wire()
        handlers["tasks/list"] = self._list_tasks_of_server

    def _list_tasks_of_server(self, params: dict[str, Any] | None) -> dict[str, Any]:
        assert self.tasks is not None
        records = self.tasks.owned_by(SERVER)
        chunk, next_cursor = page("tasks", records, (params or {}).get("cursor"), 100)
        result: dict[str, Any] = {"tasks": [record.wire() for record in chunk]}
        if next_cursor is not None:
            result["nextCursor"] = next_cursor
        return result

    def _start_task(self, handler: RequestHandler, params: dict[str, Any]) -> dict[str, Any]:
        """A task-augmented request: answer with the task at once and run the handler as its body."""
        assert self.tasks is not None
        task = params.pop("task")
        record = self.tasks.create(SERVER, task.get("ttl") if isinstance(task, dict) else None)

        async def work() -> Any:
            result = handler(params)
            if asyncio.iscoroutine(result) or isinstance(result, asyncio.Future):
                result = await result
            return result

        self.tasks.start(record, work())
        return {"task": record.wire()}

    @staticmethod
    def _make_transport(
        target: str | Sequence[str] | ClientTransport, env: dict[str, str] | None, cwd: str | None
    ) -> ClientTransport:
        if isinstance(target, str):
            if target.startswith(("http://", "https://")):
                from runtime.client.http import HttpTransport

                return HttpTransport(target)
            raise ValueError(f"not a URL: {target!r} (pass a command as a list for stdio)")
        if isinstance(target, list | tuple):
            from runtime.client.stdio import StdioTransport

            return StdioTransport(target, env=env, cwd=cwd)
        return target

    # -- lifecycle -----------------------------------------------------------------------------------------

    async def __aenter__(self) -> Client:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def connect(self) -> t.InitializeResult:
        self._loop = asyncio.get_running_loop()
        await self.transport.start(self._on_message, self._on_close)
        try:
            params = {
                "protocolVersion": self.requested_version,
                "capabilities": self.capabilities,
                "clientInfo": self.client_info,
            }
            result = await self.request("initialize", params, result_type=t.InitializeResult)
            if result.protocol_version not in SUPPORTED_VERSIONS:
                raise rpc.McpError(
                    rpc.INVALID_REQUEST,
                    f"server chose unsupported protocol version {result.protocol_version}",
                )
            self.server_info = result.server_info
            self.server_capabilities = result.capabilities
            self.protocol_version = result.protocol_version
            self.instructions = result.instructions
            negotiated = getattr(self.transport, "negotiated", None)
            if negotiated is not None:
                await negotiated(result.protocol_version)
            await self.notify("notifications/initialized")
        except BaseException:
            await self.transport.close()
            raise
        return result

    async def close(self) -> None:
        await self.transport.close()
        self._on_close(None)

    # -- messages ------------------------------------------------------------------------------------------

    def _on_message(self, data: bytes) -> None:
        try:
            message = _incoming.decode(data)
        except (msgspec.DecodeError, msgspec.ValidationError):
            return  # not JSON-RPC: ignored, as the spec asks of invalid input
        if message.method is None:
            future = self._pending.pop(message.id, None) if message.id is not None else None
            if future is not None and not future.done():
                if message.error is not None:
                    error = message.error
                    future.set_exception(rpc.McpError(error.code, error.message, error.data))
                else:
                    future.set_result(message.result if len(message.result) else msgspec.Raw(b"{}"))
        elif message.id is None:
            # A malformed notification is dropped; the connection stays up.
            with contextlib.suppress(msgspec.ValidationError, msgspec.DecodeError):
                self._on_notification(message.method, message.params)
        else:
            self._background(self._answer(message))

    def _on_notification(self, method: str, raw: msgspec.Raw) -> None:
        present = len(raw) > 0
        if method == "notifications/progress" and present:
            params = msgspec.json.decode(raw, type=t.ProgressNotificationParams)
            callback = self._progress.get(params.progress_token)
            if callback is not None:
                self._background(callback(params.progress, params.total, params.message))
            return
        if method == "notifications/message" and self.on_log is not None and present:
            self._background(self.on_log(msgspec.json.decode(raw, type=t.LoggingMessageNotificationParams)))
            return
        if self.on_notification is not None:
            self._background(self.on_notification(method, msgspec.json.decode(raw) if present else None))

    async def _answer(self, message: _Incoming) -> None:
        """Answer a server-to-client request with the registered handler."""
        assert message.method is not None and message.id is not None
        handler = self.request_handlers.get(message.method)
        if handler is None:
            reply = rpc.error_message(message.id, rpc.METHOD_NOT_FOUND, f"Method not found: {message.method}")
        else:
            try:
                params = msgspec.json.decode(message.params) if len(message.params) else None
                if (
                    self.tasks is not None
                    and isinstance(params, dict)
                    and "task" in params
                    and message.method in TASK_CAPABLE
                ):
                    result = self._start_task(handler, params)
                else:
                    result = handler(params)
                if asyncio.iscoroutine(result) or isinstance(result, asyncio.Future):
                    result = await result
                body = result if type(result) is bytes else rpc.encode(result)  # tasks/result is encoded
                reply = rpc.result_message(rpc.encode(message.id), body)
            except rpc.McpError as exc:
                reply = rpc.error_from_exception(message.id, exc)
            except msgspec.ValidationError as exc:
                reply = rpc.error_message(message.id, rpc.INVALID_PARAMS, f"Invalid params: {exc}")
            except Exception as exc:
                reply = rpc.error_from_exception(message.id, internal_error(message.method, exc))
        with contextlib.suppress(ConnectionError):
            await self.transport.send(reply)

    def _on_close(self, error: BaseException | None) -> None:
        if self._closed is None:
            self._closed = error or ClientClosed("connection closed")
        pending, self._pending = self._pending, {}
        for future in pending.values():
            if not future.done():
                future.set_exception(ClientClosed(f"connection closed: {self._closed!r}"))

    async def request(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        *,
        result_type: type[R] | None = None,
        timeout: float | None = None,
        progress: ProgressCallback | None = None,
    ) -> Any:
        """Send a request and wait for its result. On timeout or cancellation the server is told with
        notifications/cancelled (cancellation.mdx) and the waiting stops."""
        if self._closed is not None and method != "initialize":
            raise ClientClosed(f"connection closed: {self._closed!r}")
        self._next_id += 1
        request_id = self._next_id
        if progress is not None:
            params = dict(params or {})
            params["_meta"] = {**params.get("_meta", {}), "progressToken": request_id}
            self._progress[request_id] = progress
        future: asyncio.Future[msgspec.Raw] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        try:
            # Over HTTP the answer may come in the POST's own response, so the deadline covers the send too.
            async with asyncio.timeout(timeout if timeout is not None else self.timeout):
                await self.transport.send(rpc.request_message(request_id, method, params))
                raw = await future
        except (TimeoutError, asyncio.CancelledError) as exc:
            if method != "initialize":  # initialize must not be cancelled
                reason = "timed out" if isinstance(exc, TimeoutError) else "cancelled by the client"
                with contextlib.suppress(Exception):
                    await self.notify("notifications/cancelled", {"requestId": request_id, "reason": reason})
            raise
        finally:
            self._pending.pop(request_id, None)
            self._progress.pop(request_id, None)
        if result_type is None:
            return msgspec.json.decode(raw)
        return msgspec.json.decode(raw, type=result_type)

    async def notify(self, method: str, params: dict[str, Any] | None = None) -> None:
        await self.transport.send(rpc.notification_message(method, params))

    # -- the server's features -----------------------------------------------------------------------------

    async def ping(self) -> None:
        await self.request("ping")

    async def _all_pages(self, method: str, key: str, item_type: type[R]) -> list[R]:
        items: list[R] = []
        cursor: str | None = None
        while True:
            result = await self.request(method, {"cursor": cursor} if cursor else None)
            items.extend(msgspec.convert(result.get(key, []), list[item_type]))  # type: ignore[valid-type]
            cursor = result.get("nextCursor")
            if not cursor:
                return items

    async def list_tools(self) -> list[t.Tool]:
        """Every tool, following pagination cursors."""
        return await self._all_pages("tools/list", "tools", t.Tool)

    async def call_tool(
        self,
        name: str,
        arguments: dict[str, Any] | None = None,
        *,
        timeout: float | None = None,
        progress: ProgressCallback | None = None,
    ) -> t.CallToolResult:
        params: dict[str, Any] = {"name": name}
        if arguments is not None:
            params["arguments"] = arguments
        return await self.request(  # type: ignore[no-any-return]
            "tools/call", params, result_type=t.CallToolResult, timeout=timeout, progress=progress
        )

    # -- tasks (experimental in 2025-11-25) ----------------------------------------------------------------

    async def start_tool_task(
        self, name: str, arguments: dict[str, Any] | None = None, *, ttl_ms: int | None = None
    ) -> t.Task:
        """Call a tool as a task (the server must declare tasks.requests.tools.call); returns the task."""
        task: dict[str, Any] = {} if ttl_ms is None else {"ttl": ttl_ms}
        params: dict[str, Any] = {"name": name, "arguments": arguments or {}, "task": task}
        created = await self.request("tools/call", params, result_type=t.CreateTaskResult)
        return created.task  # type: ignore[no-any-return]

    async def get_task(self, task_id: str) -> t.Task:
        return await self.request("tasks/get", {"taskId": task_id}, result_type=t.Task)  # type: ignore[no-any-return]

    async def task_result(self, task_id: str, *, timeout: float | None = None) -> t.CallToolResult:
        """The task's result, blocking until the task is done (tasks/result); failures raise McpError."""
        return await self.request(  # type: ignore[no-any-return]
            "tasks/result", {"taskId": task_id}, result_type=t.CallToolResult, timeout=timeout
        )

    async def list_tasks(self) -> list[t.Task]:
        return await self._all_pages("tasks/list", "tasks", t.Task)

    async def cancel_task(self, task_id: str) -> t.Task:
        return await self.request("tasks/cancel", {"taskId": task_id}, result_type=t.Task)  # type: ignore[no-any-return]

    async def call_tool_as_task(
        self, name: str, arguments: dict[str, Any] | None = None, *, ttl_ms: int | None = None
    ) -> t.CallToolResult:
        """Start a tool task and wait for its result."""
        task = await self.start_tool_task(name, arguments, ttl_ms=ttl_ms)
        return await self.task_result(task.task_id)

    async def list_resources(self) -> list[t.Resource]:
        return await self._all_pages("resources/list", "resources", t.Resource)

    async def list_resource_templates(self) -> list[t.ResourceTemplate]:
        return await self._all_pages("resources/templates/list", "resourceTemplates", t.ResourceTemplate)

    async def read_resource(self, uri: str) -> t.ReadResourceResult:
        return await self.request(  # type: ignore[no-any-return]
            "resources/read", {"uri": uri}, result_type=t.ReadResourceResult
        )

    async def subscribe(self, uri: str) -> None:
        await self.request("resources/subscribe", {"uri": uri})

    async def unsubscribe(self, uri: str) -> None:
        await self.request("resources/unsubscribe", {"uri": uri})

    async def list_prompts(self) -> list[t.Prompt]:
        return await self._all_pages("prompts/list", "prompts", t.Prompt)

    async def get_prompt(self, name: str, arguments: dict[str, str] | None = None) -> t.GetPromptResult:
        params: dict[str, Any] = {"name": name}
        if arguments is not None:
            params["arguments"] = arguments
        return await self.request("prompts/get", params, result_type=t.GetPromptResult)  # type: ignore[no-any-return]

    async def complete(
        self,
        ref: dict[str, str],
        argument: str,
        value: str,
        context_arguments: dict[str, str] | None = None,
    ) -> t.CompleteResult:
        """Ask for completions of an argument. `ref` is {"type": "ref/prompt", "name": ...} or
        {"type": "ref/resource", "uri": ...}."""
        params: dict[str, Any] = {"ref": ref, "argument": {"name": argument, "value": value}}
        if context_arguments is not None:
            params["context"] = {"arguments": context_arguments}
        return await self.request("completion/complete", params, result_type=t.CompleteResult)  # type: ignore[no-any-return]

    async def set_log_level(self, level: str) -> None:
        await self.request("logging/setLevel", {"level": level})

    async def roots_changed(self, roots: list[dict[str, Any]]) -> None:
        """Replace the roots offered to the server and tell it (roots.mdx)."""
        self.roots = roots
        await self.notify("notifications/roots/list_changed")

    def _background(self, result: Any) -> None:
        """Run a callback's coroutine without blocking the reader; keep a reference until it is done."""
        if asyncio.iscoroutine(result):
            task = asyncio.ensure_future(result)
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
