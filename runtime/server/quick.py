"""Answers that need none of the session machinery, for the two commonest requests that allow it.

- `resources/read` of a resource whose result is in the shared cache: the ready bytes, spliced;
- `tools/call` of a plain tool (async, no Context, never a task, no cache): one with no await point runs at
  once, as it would on the normal path; one that awaits comes back as `Awaiting`, which the transport runs as
  a task.

Both revisions' tools/call take it: a session's message (`answer`), and a modern request that stands alone
(`modern_call` then `run_modern`: its `_meta` envelope decoded typed, with the checks `ModernSession` makes;
the transport checks the headers that mirror the body in between). The plan, running and answering are
shared (`_run`); only the result's shape differs (`Shape`: the modern one is spliced into its envelope).

Each is one small typed decode and the same checks as the normal path (session initialized, capability,
request id not in flight, the same errors and results); anything else returns None and the message takes the
normal path (`ServerSession.receive` and the runner), which also gives every precise error.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import msgspec

from runtime.protocol import jsonrpc as rpc
from runtime.protocol.core import ServerSession
from runtime.protocol.modern import (
    META_CAPABILITIES,
    META_LOG_LEVEL,
    META_VERSION,
    error_response,
    result_envelope,
)
from runtime.protocol.state import LOG_LEVELS, NEW
from runtime.protocol.versions import MODERN
from runtime.server.failures import internal_error
from runtime.server.inline import run_inline
from runtime.server.tools import ArgumentsInvalid

if TYPE_CHECKING:
    from runtime.protocol.core import ServerProfile
    from runtime.server.app import Server
    from runtime.server.tools import ToolSpec

_READ = b'"resources/read"'
_CALL = b'"tools/call"'


class _ReadParams(msgspec.Struct):
    uri: str


class _ReadRequest(msgspec.Struct):
    jsonrpc: str
    id: int | str
    method: str
    params: _ReadParams


class _CallParams(msgspec.Struct):
    name: str
    arguments: dict[str, Any] | None = None
    task: Any = None


class _CallRequest(msgspec.Struct):
    jsonrpc: str
    id: int | str
    method: str
    params: _CallParams


class _ModernMeta(msgspec.Struct, kw_only=True):
    """The per-request fields of a modern request (basic/index.mdx `_meta`) that a plain call needs: the
    required ones are required here too (a request without them takes the normal path and its -32602)."""

    version: str = msgspec.field(name=META_VERSION)
    capabilities: dict[str, Any] = msgspec.field(name=META_CAPABILITIES)
    log_level: Any = msgspec.field(default=None, name=META_LOG_LEVEL)


class ModernCallParams(msgspec.Struct, kw_only=True):
    name: str
    arguments: dict[str, Any] | None = None
    meta: _ModernMeta = msgspec.field(name="_meta")
    task: Any = None
    input_responses: Any = msgspec.field(default=None, name="inputResponses")
    request_state: Any = msgspec.field(default=None, name="requestState")


class ModernCall(msgspec.Struct):
    jsonrpc: str
    id: int | str
    method: str
    params: ModernCallParams


_decode_read = msgspec.json.Decoder(_ReadRequest).decode
_decode_call = msgspec.json.Decoder(_CallRequest).decode
_decode_modern_call = msgspec.json.Decoder(ModernCall).decode
_NOT_THESE = (msgspec.DecodeError, msgspec.ValidationError, RecursionError)  # the normal path answers


def answer(server: Server, session: ServerSession, data: bytes) -> bytes | Awaiting | None:
    # find, not `in`: bytes `in` first tries its argument as an int, raising and clearing a TypeError.
    if data.find(_CALL) >= 0:
        return _call(server, session, data)
    if data.find(_READ) >= 0 and server.cache is not None:
        return _read(server, session, data)
    return None


def _call(server: Server, session: ServerSession, data: bytes) -> bytes | Awaiting | None:
    try:
        call = _decode_call(data)
    except _NOT_THESE:
        return None
    if not rpc.valid_utf8(data):
        return None  # the normal path answers with the parse error
    params = call.params
    tool = server._tools.get(params.name)
    if (
        tool is None
        or not tool.plain
        or params.task is not None
        or call.method != "tools/call"
        or call.jsonrpc != "2.0"
        or session.state.phase == NEW
        # An awaiting call looks at this process's requests only: with several workers, its claim of the id
        # (transport) finds the others' (`keys()` of a shared in-flight table is the local part).
        or call.id in (session.inflight if tool.await_free else session.inflight.keys())
        or "tools/call" not in session.profile.available_by[session.revision.version]
    ):
        return None
    if not tool.await_free and server.request_timeout is not None:
        return None  # the normal path times it
    return _run(tool, call.id, params.arguments, tool.results[session.revision.version], None)


def modern_call(server: Server, data: bytes) -> tuple[ModernCall, ToolSpec] | None:
    """A modern tools/call (2026-07-28, standing alone) of a plain tool, decoded and checked as
    `ModernSession` would (the envelope: version, capabilities, logLevel; no multi round-trip state to
    open), with its tool; else None, and the normal path answers. The caller checks the headers, then
    `run_modern`."""
    if data.find(_CALL) < 0:
        return None
    try:
        call = _decode_modern_call(data)
    except _NOT_THESE:
        return None
    params = call.params
    meta = params.meta
    tool = server._tools.get(params.name)
    if (
        tool is None
        or not tool.plain
        # A tool that may run as a task is the tasks extension's to decide (runtime/server/task_extension.py).
        or tool.task_support != "forbidden"
        or params.task is not None
        or params.input_responses is not None
        or params.request_state is not None
        or meta.version != MODERN
        or (meta.log_level is not None and meta.log_level not in LOG_LEVELS)
        or call.method != "tools/call"
        or call.jsonrpc != "2.0"
        or "tools/call" not in server.profile.available_by[MODERN]
    ):
        return None
    if not tool.await_free and server.request_timeout is not None:
        return None  # the normal path times it
    if not rpc.valid_utf8(data):
        return None  # the normal path answers with the parse error
    return call, tool


def run_modern(server: Server, call: ModernCall, tool: ToolSpec) -> bytes | Awaiting:
    """The response to a call `modern_call` accepted (its headers checked), or its `Awaiting`."""
    return _run(tool, call.id, call.params.arguments, tool.results[MODERN], Shape(server.profile))


class Shape(msgspec.Struct, gc=False):
    """The modern revision's responses: results in their envelope (`resultType`, `_meta` serverInfo),
    errors renumbered as `ModernSession.error` does."""

    profile: ServerProfile

    def result(self, request_id: rpc.RequestId, body: bytes) -> bytes:
        return rpc.result_message(rpc.encode(request_id), result_envelope(self.profile, "tools/call", body))


def _run(
    tool: ToolSpec,
    request_id: rpc.RequestId,
    arguments: dict[str, Any] | None,
    convert: Any,
    shape: Shape | None,
) -> bytes | Awaiting:
    try:
        kwargs = tool.bind(arguments or {})
    except ArgumentsInvalid as exc:
        return _response(request_id, tool.invalid_arguments(exc), shape)
    if not tool.await_free:
        return Awaiting(request_id, tool, tool.fn(**kwargs), convert, shape)
    try:
        value = run_inline(tool.fn(**kwargs))
    except rpc.McpError as exc:
        return _error(request_id, exc, shape)
    except Exception as exc:  # a failing tool answers with an isError result, as on the normal path
        return _response(request_id, tool.error_result(exc), shape)
    return _converted(request_id, convert, value, shape)


class Awaiting(msgspec.Struct, gc=False):
    """A quick tool call that awaits: the transport runs `finish()` as a task, registered as the request's
    in-flight handle (cancelling it cancels the call, as on the normal path)."""

    id: rpc.RequestId
    tool: ToolSpec
    pending: Any
    convert: Any  # the tool's result for the session's revision
    shape: Shape | None = None  # the modern revision's responses (None: the session's, as they are)

    async def finish(self) -> bytes | None:
        """The response, or None when the request was cancelled (no response, cancellation.mdx)."""
        try:
            value = await self.pending
        except asyncio.CancelledError:
            return None
        except rpc.McpError as exc:
            return _error(self.id, exc, self.shape)
        except Exception as exc:
            return _response(self.id, self.tool.error_result(exc), self.shape)
        return _converted(self.id, self.convert, value, self.shape)


def _converted(request_id: rpc.RequestId, convert: Any, value: Any, shape: Shape | None) -> bytes:
    try:
        result = convert(value)
    except Exception as exc:  # an unconvertible return value: the normal path's internal error
        return _error(request_id, internal_error("tools/call", exc), shape)
    return _response(request_id, result, shape)


def _response(request_id: rpc.RequestId, result: Any, shape: Shape | None) -> bytes:
    body = result if type(result) is bytes else rpc.encode(result)
    if shape is not None:
        return shape.result(request_id, body)
    return rpc.result_message(rpc.encode(request_id), body)


def _error(request_id: rpc.RequestId, exc: rpc.McpError, shape: Shape | None) -> bytes:
    return rpc.error_from_exception(request_id, exc) if shape is None else error_response(request_id, exc)


def _read(server: Server, session: ServerSession, data: bytes) -> bytes | None:
    try:
        read = _decode_read(data)
    except _NOT_THESE:
        return None
    if not rpc.valid_utf8(data):
        return None
    if (
        read.method != "resources/read"
        or read.jsonrpc != "2.0"
        or session.state.phase == NEW
        or read.id in session.inflight
    ):
        return None
    uri = read.params.uri
    spec = server._resources.get(uri)
    if spec is not None:
        if spec.cache_ttl is None:
            return None  # never cached
    elif not any(template.cache_ttl is not None for template in server._templates.values()):
        return None
    cache = server.cache
    hit = cache.get_resource(uri)  # type: ignore[union-attr]
    if hit is None:
        return None  # the normal path counts the miss and fills the cache
    cache.count(True)  # type: ignore[union-attr]
    return rpc.result_message(rpc.encode(read.id), hit)
