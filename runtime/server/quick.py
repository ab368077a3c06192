"""Answers that need none of the session machinery, for the two commonest requests that allow it.

- `resources/read` of a resource whose result is in the shared cache: the ready bytes, spliced;
- `tools/call` of a tool that runs inline (async with no await point, no Context, never a task, no cache):
  the function runs at once, as it would on the normal path.

Each is one small typed decode and the same checks as the normal path (session initialized, capability,
request id not in flight, the same errors and results); anything else returns None and the message takes the
normal path (`ServerSession.receive` and the runner), which also gives every precise error.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import fastjsonschema
import msgspec

from runtime.protocol import jsonrpc as rpc
from runtime.protocol.core import ServerSession
from runtime.protocol.state import NEW
from runtime.server.inline import run_inline
from runtime.server.runner import internal_error

if TYPE_CHECKING:
    from runtime.server.app import Server

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
_NOT_THESE = (msgspec.DecodeError, msgspec.ValidationError)


def answer(server: Server, session: ServerSession, data: bytes) -> bytes | None:
    # find, not `in`: bytes `in` first tries its argument as an int, raising and clearing a TypeError.
    if data.find(_CALL) >= 0:
        return _call(server, session, data)
    if data.find(_READ) >= 0 and server.cache is not None:
        return _read(server, session, data)
    return None


def _call(server: Server, session: ServerSession, data: bytes) -> bytes | None:
    try:
        call = _decode_call(data)
    except _NOT_THESE:
        return None
    params = call.params
    tool = server._tools.get(params.name)
    if (
        tool is None
        or not (tool.plain and tool.await_free)
        or params.task is not None
        or call.method != "tools/call"
        or call.jsonrpc != "2.0"
        or session.state.phase == NEW
        or call.id in session.inflight
        or "tools/call" not in session.profile.available
    ):
        return None
    id_json = rpc.encode(call.id)
    try:
        kwargs = tool.bind(params.arguments or {})
    except (fastjsonschema.JsonSchemaException, msgspec.ValidationError) as exc:
        result: Any = tool.invalid_arguments(exc)
    else:
        try:
            value = run_inline(tool.fn(**kwargs))
        except rpc.McpError as exc:
            return rpc.error_from_exception(call.id, exc)
        except Exception as exc:  # a failing tool answers with an isError result, as on the normal path
            result = tool.error_result(exc)
        else:
            try:
                result = tool.result(value)
            except Exception as exc:  # an unconvertible return value: the normal path's internal error
                return rpc.error_from_exception(call.id, internal_error("tools/call", exc))
    body = result if type(result) is bytes else rpc.encode(result)
    return rpc.result_message(id_json, body)


def _read(server: Server, session: ServerSession, data: bytes) -> bytes | None:
    try:
        read = _decode_read(data)
    except _NOT_THESE:
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
