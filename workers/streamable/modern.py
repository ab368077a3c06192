"""Streamable HTTP as MCP 2026-07-28 has it (basic/transports/streamable-http.mdx), beside the legacy one.

A POST whose `MCP-Protocol-Version` names the modern revision is one request that stands alone: no session
id, no GET stream, no resumption. The body is checked against the headers that mirror it (`Mcp-Method`,
`Mcp-Name`, and `Mcp-Param-*` for tool parameters marked `x-mcp-header`): a mismatch is -32020 with 400.
The answer is JSON, or an SSE stream of the request's own notifications ending with the response; closing
that stream cancels the request. GET and DELETE are 405.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import TYPE_CHECKING, Any, Literal

import msgspec

from runtime.protocol import jsonrpc as rpc
from runtime.protocol.modern import ModernSession, error_status, supported_error
from runtime.protocol.versions import MODERN
from runtime.server import quick

if TYPE_CHECKING:
    from runtime.protocol.core import Action
    from runtime.server.app import Server
    from runtime.server.runner import Runner
    from runtime.server.tools import ToolSpec
    from workers.httpd.protocol import Responder, ResponseStream
    from workers.httpd.types import HttpRequest

Headers = list[tuple[bytes, bytes]]
JSON = (b"content-type", b"application/json")
SSE_HEADERS: Headers = [
    (b"content-type", b"text/event-stream"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),  # proxies must not hold the stream back (streamable-http.mdx)
]
# The requests whose name or URI is mirrored in Mcp-Name, and where in params it is.
_NAMED = {
    "tools/call": "name",
    "prompts/get": "name",
    "resources/read": "uri",
    "tasks/get": "taskId",  # the tasks extension (SEP-2663 "Routing Headers")
    "tasks/update": "taskId",
    "tasks/cancel": "taskId",
}
_SENTINEL = re.compile(r"=\?base64\?(.*)\?=")
_FIELD_VALUE = re.compile(r"[\t\x20-\x7e]*")


class HeaderMismatch(Exception):
    pass


class ModernOutbound(msgspec.Struct, gc=False):
    """Where one modern request's messages go: JSON, or an SSE stream once it sends a notification first.
    The stream's end, by the client, cancels the request. A Struct: built in C, once per request."""

    session: ModernSession
    responder: Responder
    stream: ResponseStream | None = None
    principal: Any = None  # the request's (runtime.auth.Principal), read by Context.principal

    def send(self, data: bytes) -> None:
        stream = self.stream
        if stream is None:
            if self.responder.closed:
                return
            stream = self.stream = self.responder.start_stream(200, SSE_HEADERS)
            stream.add_close_callback(self._closed)
        stream.write(b"data: " + data + b"\n\n")

    def lost(self) -> None:
        self._closed()

    def _closed(self) -> None:
        for handle in list(self.session.inflight.values()):  # one request: this one
            cancel = getattr(handle, "cancel", None)
            if cancel is not None:
                cancel()

    def finish(self, data: bytes | None, invalid: bool = False) -> None:
        # Answered: nothing left to cancel. And the responder (a Struct the collector does not track) must
        # not keep this channel, which refers back to it: an uncollectable cycle per request otherwise.
        self.responder.on_lost = None
        stream = self.stream
        if stream is not None:
            self.stream = None
            if data is not None:
                stream.write(b"data: " + data + b"\n\n")
            stream._callbacks.clear()  # ended by us: not a cancellation
            stream.close()
            return
        if data is None:
            self.responder.respond(202, [], b"")
            return
        status = self.session.status
        if status == 200 and not invalid:
            respond(self.responder, data)
        else:
            self.responder.respond(400 if status == 200 else status, [JSON], data)


def serve_post(server: Server, runner: Runner, request: HttpRequest, responder: Responder) -> None:
    """A POST of the modern revision (its Content-Type and Accept were checked)."""
    body = request.body
    plain = quick.modern_call(server, body)  # a plain tool's call, read by a small typed decoder (quick.py)
    if plain is not None and headers_match(request.headers, *plain):
        admitted = quick.run_modern(server, *plain)
        if admitted is not None:
            session, call = admitted
            out = ModernOutbound(session, responder, principal=request.principal)
            responder.on_lost = out.lost  # the client went away before the answer: the call is cancelled
            runner.call(session, call, out)
            return
    principal = request.principal
    # With authorization a sealed requestState and the extension's tasks are bound to the principal.
    session = ModernSession(server.profile, "" if principal is None else principal.key)
    out = ModernOutbound(session, responder, principal=principal)
    responder.on_lost = out.lost  # the client went away before the answer: the request is cancelled
    try:
        raw = rpc.decode_any(body)
    except Exception:
        runner.act(session, session.receive(body), out)
        return
    refusal = check_headers(server, request.headers, raw)
    if refusal is not None:
        responder.respond(400, [JSON], refusal)
        return
    action: Action = session.classify(raw) if rpc.valid_utf8(body) else session.receive(body)
    runner.act(session, action, out)


def respond(responder: Responder, data: bytes) -> None:
    """A response as JSON, with the status the modern revision gives it (`error_status`)."""
    status = error_status(data)
    if status == 200:
        responder.respond_json(data)
    else:
        responder.respond(status, [JSON], data)


def refuse_version(request: HttpRequest, responder: Responder, requested: str) -> None:
    """A POST naming a version this server does not speak: UnsupportedProtocolVersionError, 400, with the
    request's id when the body has a readable one."""
    try:
        raw = rpc.decode_any(request.body)
    except Exception:
        raw = None
    request_id = raw.get("id") if isinstance(raw, dict) and rpc.valid_id(raw.get("id")) else None
    responder.respond(400, [JSON], supported_error(request_id, requested))


def refuse_method(responder: Responder) -> None:
    """GET and DELETE: the modern revision has no standalone stream and no sessions to end."""
    body = rpc.error_message(None, rpc.INVALID_REQUEST, f"Method not allowed in MCP {MODERN}: use POST")
    responder.respond(405, [(b"allow", b"POST"), JSON], body)


# -- the headers that mirror the body -------------------------------------------------------------------


def headers_match(headers: dict[str, bytes], call: quick.ModernCall, tool: ToolSpec) -> bool:
    """True when the headers of a plain tool call are exactly what `_check` accepts, compared as they came;
    anything else (whitespace, the Base64 form, a mismatch) is for `check_headers` to judge."""
    if headers.get("mcp-method") != b"tools/call":
        return False
    name = call.params.name
    literal = _LITERALS.get(name)
    if literal is None:
        literal = _literal(name)
        if len(_LITERALS) < 1024:
            _LITERALS[name] = literal
    if literal is False or headers.get("mcp-name") != literal:
        return False
    if not tool.header_params:
        return True
    arguments = call.params.arguments
    try:
        _check_params(tool.header_params, headers, arguments if arguments is not None else {})
    except HeaderMismatch:
        return False
    return True


# Header values, by the name they carry, for the names a header carries as they are (or False).
_LITERALS: dict[str, bytes | Literal[False]] = {}
_PLAIN_VALUE = re.compile(r"[\x21-\x7e](?:[\t\x20-\x7e]*[\x21-\x7e])?")


def _literal(value: str) -> bytes | Literal[False]:
    """The header value that carries `value` as it is: printable ASCII, nothing to strip, not the Base64
    form (False otherwise: such values are compared by `_check`)."""
    if not _PLAIN_VALUE.fullmatch(value) or _SENTINEL.fullmatch(value):
        return False
    return value.encode("ascii")


def check_headers(server: Server, headers: dict[str, bytes], raw: Any) -> bytes | None:
    """The -32020 refusal of a request whose headers do not match its body, or None."""
    if not isinstance(raw, dict):
        return None  # not a request: the session answers
    request_id = raw.get("id") if rpc.valid_id(raw.get("id")) else None
    try:
        _check(server, headers, raw)
    except HeaderMismatch as exc:
        return rpc.error_message(request_id, rpc.HEADER_MISMATCH, f"Header mismatch: {exc}")
    return None


def _check(server: Server, headers: dict[str, bytes], raw: dict[str, Any]) -> None:
    method = raw.get("method")
    if not isinstance(method, str):
        return
    params = raw.get("params")
    meta = params.get("_meta") if isinstance(params, dict) else None
    body_version = meta.get("io.modelcontextprotocol/protocolVersion") if isinstance(meta, dict) else None
    if isinstance(body_version, str) and body_version != MODERN:
        raise HeaderMismatch(
            f"MCP-Protocol-Version header {MODERN!r} does not match the body's {body_version!r}"
        )
    if "id" not in raw:
        return  # notifications: this revision defines no header requirement for them
    sent = _header(headers, "mcp-method")
    if sent is None:
        raise HeaderMismatch("the Mcp-Method header is required")
    if sent != method:
        raise HeaderMismatch(f"Mcp-Method header value {sent!r} does not match body value {method!r}")
    field = _NAMED.get(method)
    if field is None or not isinstance(params, dict):
        return
    expected = params.get(field)
    named = _header(headers, "mcp-name")
    if named is None:
        raise HeaderMismatch(f"the Mcp-Name header is required for {method}")
    if _decoded(named, "Mcp-Name") != expected:
        raise HeaderMismatch(f"Mcp-Name header does not match body value {expected!r}")
    if method == "tools/call":
        tool = server._tools.get(expected) if isinstance(expected, str) else None
        if tool is not None:
            arguments = params.get("arguments")
            _check_params(tool.header_params, headers, arguments if isinstance(arguments, dict) else {})


def _header(headers: dict[str, bytes], name: str) -> str | None:
    value = headers.get(name)
    if value is None:
        return None
    text = value.decode("latin-1").strip(" \t")
    if not _FIELD_VALUE.fullmatch(text):
        raise HeaderMismatch(f"the {name} header has characters a header value may not have")
    return text


def _decoded(value: str, name: str) -> str:
    """A header value with the Base64 sentinel form undone (streamable-http.mdx "Value Encoding")."""
    match = _SENTINEL.fullmatch(value)
    if match is None:
        return value
    try:
        return base64.b64decode(match.group(1), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        raise HeaderMismatch(f"the {name} header is not valid Base64") from None


def _check_params(
    marked: list[tuple[str, tuple[str, ...]]], headers: dict[str, bytes], arguments: dict[str, Any]
) -> None:
    for header, path in marked:
        value: Any = arguments
        for step in path:
            value = value.get(step) if isinstance(value, dict) else None
        sent = _header(headers, "mcp-param-" + header.lower())
        if value is None:
            continue  # absent or null: no header is expected
        if sent is None:
            raise HeaderMismatch(f"the Mcp-Param-{header} header is required: the body has {'.'.join(path)}")
        text = _decoded(sent, f"Mcp-Param-{header}")
        if not _same(text, value):
            raise HeaderMismatch(f"Mcp-Param-{header} header value does not match the body")


def _same(text: str, value: Any) -> bool:
    if isinstance(value, bool):
        return text == ("true" if value else "false")
    if isinstance(value, int):
        try:
            return float(text) == value  # compared as numbers: "42.0" is 42 (streamable-http.mdx)
        except ValueError:
            return False
    return isinstance(value, str) and text == value
