"""Bounded looks at a raw message that will not be decoded whole: its nesting depth, and its id.

A message nested deeper than the limit is refused before any decoder or handler recurses into it (msgspec and
Python code walking it would hit the interpreter's recursion limit near 1000 levels). A message refused
(too large, too deep) is still answered with its id when a bounded scan of its start or its end finds one at
the top level, so the client's request fails at once instead of waiting out its timeout.
"""

from __future__ import annotations

import re
from itertools import accumulate

import msgspec

from runtime.protocol.jsonrpc import (
    INVALID_REQUEST,
    INVALID_UTF8,
    PARSE_ERROR,
    RequestId,
    error_message,
    valid_utf8,
)

# The official Python SDK's JSON parser (jiter, via pydantic) stops at 200 levels too.
DEFAULT_MAX_DEPTH = 200
# The largest message accepted, on every transport and entry point (`--max-message-bytes`, `Server.run()`,
# the HTTP body limit): larger ones are refused before they are decoded.
DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024
ID_SCAN_BYTES = 4096  # how much of a message's start and end is scanned for its id

_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_STEPS = tuple(1 if b in b"[{" else -1 for b in range(256))
_TOKEN = re.compile(rb'[ \t\r\n]*(?:("[^"\\]*(?:\\.[^"\\]*)*")|([{}\[\]:,])|([^ \t\r\n{}\[\]:,"]+))')
_INTEGER = re.compile(rb"-?(?:0|[1-9][0-9]*)")
# A valid object that ends with its "id" member: the last `}` is the top level's, so that member is too.
_TAIL_ID = re.compile(
    rb'[{,][ \t\r\n]*"id"[ \t\r\n]*:[ \t\r\n]*'
    rb'(-?(?:0|[1-9][0-9]*)|"[^"\\]*(?:\\.[^"\\]*)*")[ \t\r\n]*\}[ \t\r\n]*\Z'
)


def too_deep(data: bytes | memoryview, limit: int) -> bool:
    """Whether arrays and objects nest deeper than `limit` (the message itself is level 1). Two byte counts
    when the message has at most `limit` brackets (every ordinary message); a scan only beyond that."""
    if len(data) <= limit:
        return False
    raw = bytes(data)  # no copy of bytes; a memoryview has no count() before Python 3.14
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False
    brackets = _STRING.sub(b"", raw).translate(None, _NOT_BRACKETS)
    return max(accumulate(map(_STEPS.__getitem__, brackets)), default=0) > limit


def depth_error(data: bytes | memoryview, limit: int) -> bytes | None:
    """The error answer to a message nested deeper than `limit`, with its id when a scan finds one; None for
    a message within the limit (every transport refuses such a message the same way, before decoding it)."""
    if not too_deep(data, limit):
        return None
    if not valid_utf8(data):  # not JSON text at all (RFC 8259 8.1): a parse error, as when it is shallow
        return error_message(None, PARSE_ERROR, INVALID_UTF8)
    message = f"Invalid request: nested deeper than {limit} levels"
    return error_message(find_id(data), INVALID_REQUEST, message)


def find_id(data: bytes | bytearray | memoryview) -> RequestId | None:
    """The id of a whole message from a bounded scan of its start, then of its end (None if not found)."""
    found = head_id(data)
    return tail_id(data) if found is None else found


def tail_id(data: bytes | bytearray | memoryview) -> RequestId | None:
    """The id of a whole message that ends with its "id" member, from its last ID_SCAN_BYTES."""
    match = _TAIL_ID.search(bytes(data[-ID_SCAN_BYTES:]))
    return None if match is None else _id_value(match.group(1))


def head_id(data: bytes | bytearray | memoryview) -> RequestId | None:
    """The top-level "id" member's value, if it is in the first ID_SCAN_BYTES of the message (a start is
    enough: the rest may not have arrived)."""
    head = bytes(data[:ID_SCAN_BYTES])
    depth = 0
    recent: list[bytes] = []  # the last tokens at the top level
    pos = 0
    while (match := _TOKEN.match(head, pos)) is not None:
        pos = match.end()
        token = match.group(1) or match.group(2) or match.group(3)
        if token in (b"{", b"["):
            depth += 1
            if depth == 1:
                if token != b"{":
                    return None
                recent = [token]
            elif depth == 2:
                recent.append(b"")  # a nested value, skipped
            continue
        if token in (b"}", b"]"):
            depth -= 1
            if depth < 1:
                return None
            continue
        if depth != 1:
            if depth == 0:
                return None
            continue
        if recent[-3:-2] in ([b"{"], [b","]) and recent[-2:] == [b'"id"', b":"]:
            return _id_value(token)
        recent.append(token)
        del recent[:-3]
    return None


def _id_value(token: bytes) -> RequestId | None:
    if token.startswith(b'"'):
        try:
            return msgspec.json.decode(token, type=str)
        except msgspec.DecodeError:
            return None
    return int(token) if _INTEGER.fullmatch(token) else None
