"""Typed decoders for the two commonest requests, feeding the same path as every other message.

- `resources/read` of a resource whose result is in the shared cache: the ready bytes, spliced;
- `tools/call` of a plain tool (async, no Context, no cache; `ToolSpec.plain`): the request decoded by a
  small msgspec Struct instead of the whole client-message union, then admitted by the session
  (`ServerSession.admit`: lifecycle, capability, id in flight) and run by the runner (`Runner.call`, which
  calls the route's handler, `Server._call_tool`, the one place a tool call runs).

Both revisions' tools/call take it: a session's message (`answer`: a `Call`), and a modern request that
stands alone (`modern_call`, then, once the transport checked the headers that mirror the body,
`run_modern`: a `ModernSession` whose envelope checks are the normal path's, and its `Call`).

Anything a decoder does not fit returns None and the message takes the normal path (`ServerSession.receive`),
which also gives every precise error.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import msgspec

from runtime.protocol import jsonrpc as rpc
from runtime.protocol.core import Call, ServerSession
from runtime.protocol.modern import (
    META_CAPABILITIES,
    META_CLIENT,
    META_LOG_LEVEL,
    META_VERSION,
    ModernSession,
)

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


class _ModernMeta(msgspec.Struct, kw_only=True):
    """The per-request fields of a modern request (basic/index.mdx `_meta`), as they came: checked by
    `ModernSession.check_fields`, as on the normal path."""

    version: Any = msgspec.field(default=None, name=META_VERSION)
    capabilities: Any = msgspec.field(default=None, name=META_CAPABILITIES)
    log_level: Any = msgspec.field(default=None, name=META_LOG_LEVEL)
    client: Any = msgspec.field(default=None, name=META_CLIENT)


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


def answer(server: Server, session: ServerSession, data: bytes) -> bytes | Call | None:
    """A session's message: the `Call` of a plain tool for the runner, or a cached read's response."""
    # find, not `in`: bytes `in` first tries its argument as an int, raising and clearing a TypeError.
    if data.find(_CALL) >= 0:
        return _call(server, session, data)
    if data.find(_READ) >= 0 and server.cache is not None:
        return _read(server, session, data)
    return None


def _call(server: Server, session: ServerSession, data: bytes) -> Call | None:
    try:
        call = _decode_call(data)
    except _NOT_THESE:
        return None
    if not rpc.valid_utf8(data):
        return None  # the normal path answers with the parse error
    params = call.params
    tool = server._tools.get(params.name)
    if tool is None or not tool.plain or params.task is not None or call.method != "tools/call":
        return None
    if call.jsonrpc != "2.0":
        return None
    admitted = session.admit("tools/call", call, call.id)
    return admitted if type(admitted) is Call else None  # a refusal: the normal path words it


def modern_call(server: Server, data: bytes) -> tuple[ModernCall, ToolSpec] | None:
    """A modern tools/call (2026-07-28, standing alone) of a plain tool that needs no multi round-trip
    state, decoded, with its tool; else None, and the normal path answers. The caller checks the headers,
    then `run_modern`."""
    if data.find(_CALL) < 0:
        return None
    try:
        call = _decode_modern_call(data)
    except _NOT_THESE:
        return None
    params = call.params
    tool = server._tools.get(params.name)
    if (
        tool is None
        or not tool.plain
        # A tool that may run as a task is the tasks extension's to decide (runtime/server/task_extension.py).
        or tool.task_support != "forbidden"
        or params.task is not None
        or params.input_responses is not None
        or params.request_state is not None
        or call.method != "tools/call"
        or call.jsonrpc != "2.0"
    ):
        return None
    if not rpc.valid_utf8(data):
        return None  # the normal path answers with the parse error
    return call, tool


def run_modern(server: Server, call: ModernCall, tool: ToolSpec) -> tuple[ModernSession, Call] | None:
    """The session and `Call` of a request `modern_call` accepted (its headers checked): its envelope and
    admission checked by `ModernSession`, as on the normal path; None when refused (the normal path words
    the refusal)."""
    session = ModernSession(server.profile)
    meta = call.params.meta
    refused = session.check_fields(call.id, meta.version, meta.capabilities, meta.log_level, meta.client)
    if refused is not None:
        return None
    admitted = session.admit("tools/call", call, call.id)
    return (session, admitted) if type(admitted) is Call else None


def _read(server: Server, session: ServerSession, data: bytes) -> bytes | None:
    try:
        read = _decode_read(data)
    except _NOT_THESE:
        return None
    if not rpc.valid_utf8(data):
        return None
    if read.method != "resources/read" or read.jsonrpc != "2.0":
        return None
    if type(session.admit("resources/read", read, read.id)) is not Call:
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
