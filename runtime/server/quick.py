"""Answers that need none of the session machinery, for the two commonest requests that allow it.

- `resources/read` of a resource whose result is in the shared cache: the ready bytes, spliced;
- `tools/call` of a plain tool (async, no Context, never a task, no cache): one with no await point runs at
  once, as it would on the normal path; one that awaits comes back as `Awaiting`, which the transport runs as
  a task.

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
from runtime.protocol.state import NEW
from runtime.server.failures import internal_error
from runtime.server.inline import run_inline
from runtime.server.tools import ArgumentsInvalid

if TYPE_CHECKING:
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


_decode_read = msgspec.json.Decoder(_ReadRequest).decode
_decode_call = msgspec.json.Decoder(_CallRequest).decode
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
        or call.id in session.inflight
        or "tools/call" not in session.profile.available_by[session.revision.version]
    ):
        return None
    if not tool.await_free and server.request_timeout is not None:
        return None  # the normal path times it
    try:
        kwargs = tool.bind(params.arguments or {})
    except ArgumentsInvalid as exc:
        return _response(call.id, tool.invalid_arguments(exc))
    convert = tool.results[session.revision.version]
    if not tool.await_free:
        return Awaiting(call.id, tool, tool.fn(**kwargs), convert)
    try:
        value = run_inline(tool.fn(**kwargs))
    except rpc.McpError as exc:
        return rpc.error_from_exception(call.id, exc)
    except Exception as exc:  # a failing tool answers with an isError result, as on the normal path
        return _response(call.id, tool.error_result(exc))
    return _converted(call.id, convert, value)


class Awaiting(msgspec.Struct, gc=False):
    """A quick tool call that awaits: the transport runs `finish()` as a task, registered as the request's
    in-flight handle (cancelling it cancels the call, as on the normal path)."""

    id: rpc.RequestId
    tool: ToolSpec
    pending: Any
    convert: Any  # the tool's result for the session's revision

    async def finish(self) -> bytes | None:
        """The response, or None when the request was cancelled (no response, cancellation.mdx)."""
        try:
            value = await self.pending
        except asyncio.CancelledError:
            return None
        except rpc.McpError as exc:
            return rpc.error_from_exception(self.id, exc)
        except Exception as exc:
            return _response(self.id, self.tool.error_result(exc))
        return _converted(self.id, self.convert, value)


def _converted(request_id: rpc.RequestId, convert: Any, value: Any) -> bytes:
    try:
        result = convert(value)
    except Exception as exc:  # an unconvertible return value: the normal path's internal error
        return rpc.error_from_exception(request_id, internal_error("tools/call", exc))
    return _response(request_id, result)


def _response(request_id: rpc.RequestId, result: Any) -> bytes:
    body = result if type(result) is bytes else rpc.encode(result)
    return rpc.result_message(rpc.encode(request_id), body)


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
