"""Opaque cursors for list methods (pagination.mdx): a cursor is the next page's offset, base64url-encoded
with a tag so that a cursor of another list or a forged one is refused with -32602."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from typing import TypeVar

from runtime.protocol.jsonrpc import INVALID_PARAMS, McpError

T = TypeVar("T")


def make_cursor(kind: str, offset: int) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{offset}".encode()).decode().rstrip("=")


def read_cursor(kind: str, cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        tag, _, offset = text.partition(":")
        value = int(offset)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        value, tag = -1, ""
    if tag != kind or value < 0:
        raise McpError(INVALID_PARAMS, "Invalid cursor", {"cursor": cursor})
    return value


def page(kind: str, items: Sequence[T], cursor: str | None, size: int) -> tuple[Sequence[T], str | None]:
    start = read_cursor(kind, cursor) if cursor else 0
    end = start + size
    return items[start:end], (make_cursor(kind, end) if end < len(items) else None)
