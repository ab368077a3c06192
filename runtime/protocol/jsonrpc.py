"""JSON-RPC 2.0 framing: error codes, the error exception, and byte-level encoders.

Responses are spliced from pre-encoded pieces (the request's raw id and the encoded result) so the hot path
does one msgspec encode of the result and a few bytes concatenations, with no intermediate dicts.
"""

from __future__ import annotations

from typing import Any

import msgspec

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
# Implementation-specific range (-32000..-32099).
CONNECTION_CLOSED = -32000
REQUEST_TIMEOUT = -32001
RESOURCE_NOT_FOUND = -32002
URL_ELICITATION_REQUIRED = -32042
# The codes 2026-07-28 defines (basic/index.mdx "Error Codes"): on HTTP each is answered with 400.
HEADER_MISMATCH = -32020
MISSING_CLIENT_CAPABILITY = -32021
UNSUPPORTED_PROTOCOL_VERSION = -32022

RequestId = int | str

encoder = msgspec.json.Encoder()
encode = encoder.encode
_any_decoder = msgspec.json.Decoder()
decode_any = _any_decoder.decode


class McpError(Exception):
    """A protocol-level error: becomes a JSON-RPC error response on the wire.

    Raise it from a handler to answer with a specific code; any other exception in a handler becomes
    INTERNAL_ERROR (or, for tools, an `isError` result).
    """

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data

    def __repr__(self) -> str:
        return f"McpError({self.code}, {self.message!r})"


class ErrorBody(msgspec.Struct, omit_defaults=True):
    code: int
    message: str
    data: Any = None


class _ErrorResponse(msgspec.Struct, omit_defaults=True):
    jsonrpc: str
    error: ErrorBody
    # `id` is omitted (not null) when it could not be read: JSONRPCErrorResponse.id is optional in the schema.
    id: RequestId | None = None


class _Request(msgspec.Struct, omit_defaults=True):
    jsonrpc: str
    id: RequestId
    method: str
    params: Any = None


class _Notification(msgspec.Struct, omit_defaults=True):
    jsonrpc: str
    method: str
    params: Any = None


def result_message(id_json: bytes, result_json: bytes) -> bytes:
    """A result response from the request's encoded id and the encoded result (one copy of the result,
    however large: a join, not a chain of concatenations)."""
    return b"".join((b'{"jsonrpc":"2.0","id":', id_json, b',"result":', result_json, b"}"))


def error_message(request_id: RequestId | None, code: int, message: str, data: Any = None) -> bytes:
    return encode(_ErrorResponse("2.0", ErrorBody(code, message, data), request_id))


def error_from_exception(request_id: RequestId | None, exc: McpError) -> bytes:
    return error_message(request_id, exc.code, exc.message, exc.data)


def request_message(request_id: RequestId, method: str, params: Any = None) -> bytes:
    return encode(_Request("2.0", request_id, method, params))


def notification_message(method: str, params: Any = None) -> bytes:
    return encode(_Notification("2.0", method, params))


def valid_utf8(data: bytes | memoryview) -> bool:
    """Whether a message is UTF-8 throughout. msgspec checks the strings it decodes, but not the keys and
    values it skips (unknown fields) or keeps raw: a typed decode alone accepts invalid UTF-8 there. Called
    after such a decode; an ASCII message (the common case) costs one fast scan."""
    if type(data) is bytes and data.isascii():
        return True
    try:
        str(data, "utf-8")
    except UnicodeDecodeError:
        return False
    return True


INVALID_UTF8 = "Parse error: the message is not valid UTF-8"


def valid_id(value: Any) -> bool:
    """A request id is a string or an integer (never null, a float or a bool)."""
    return (type(value) is int) or isinstance(value, str)
