"""Turning what a handler returns into MCP content: the conversions authors rely on, in one place.

- a tool returns `str`, a content block, a list of blocks, a `CallToolResult`, `None`, or structured data;
- a resource returns `str` (text), `bytes` (blob), resource contents, or a `ReadResourceResult`;
- a prompt returns `str`, a message, a list of messages/strings, or a `GetPromptResult`.
"""

from __future__ import annotations

import base64
from typing import Any

import msgspec

from runtime.protocol import types as t
from runtime.protocol.jsonrpc import encode

CONTENT_TYPES = (t.TextContent, t.ImageContent, t.AudioContent, t.ResourceLink, t.EmbeddedResource)
RESOURCE_CONTENTS = (t.TextResourceContents, t.BlobResourceContents)


def text(value: str) -> t.TextContent:
    return t.TextContent(text=value)


def image(data: bytes, mime_type: str = "image/png") -> t.ImageContent:
    return t.ImageContent(data=base64.b64encode(data).decode(), mime_type=mime_type)


def audio(data: bytes, mime_type: str = "audio/wav") -> t.AudioContent:
    return t.AudioContent(data=base64.b64encode(data).decode(), mime_type=mime_type)


def embedded_text(uri: str, value: str, mime_type: str | None = "text/plain") -> t.EmbeddedResource:
    return t.EmbeddedResource(resource=t.TextResourceContents(uri=uri, text=value, mime_type=mime_type))


def embedded_blob(uri: str, data: bytes, mime_type: str | None = None) -> t.EmbeddedResource:
    blob = base64.b64encode(data).decode()
    return t.EmbeddedResource(resource=t.BlobResourceContents(uri=uri, blob=blob, mime_type=mime_type))


def _is_content(value: Any) -> bool:
    return isinstance(value, CONTENT_TYPES) or (isinstance(value, dict) and "type" in value)


def tool_result(structured: bool, wrap: bool, value: Any) -> Any:
    """A tools/call result (Struct or pre-encoded bytes) from a tool's return value.

    `structured`: the tool declared an output schema, so the value goes to structuredContent too (with a JSON
    text block for clients that only read content); `wrap`: the schema wraps a non-object as {"result": v}.
    """
    if type(value) is str:
        # The commonest case, spliced without building a struct.
        return b'{"content":[{"type":"text","text":' + encode(value) + b"}]}"
    if isinstance(value, t.CallToolResult):
        return value
    if structured:
        data = msgspec.to_builtins({"result": value} if wrap else value)
        return t.CallToolResult(content=[t.TextContent(text=encode(data).decode())], structured_content=data)
    if value is None:
        return b'{"content":[]}'
    if _is_content(value):
        return t.CallToolResult(content=[value])
    if isinstance(value, list | tuple) and all(_is_content(v) for v in value):
        return t.CallToolResult(content=list(value))
    if isinstance(value, bytes):
        raise TypeError("a tool cannot return raw bytes: wrap them with content.image/audio/embedded_blob")
    data = msgspec.to_builtins(value)
    content: list[t.ContentBlock] = [t.TextContent(text=encode(data).decode())]
    if isinstance(data, dict):
        return t.CallToolResult(content=content, structured_content=data)
    return t.CallToolResult(content=content)


def resource_contents(uri: str, mime_type: str | None, value: Any) -> Any:
    """A resources/read result from a resource handler's return value."""
    if isinstance(value, t.ReadResourceResult):
        return value
    if isinstance(value, str):
        return t.ReadResourceResult(
            contents=[t.TextResourceContents(uri=uri, text=value, mime_type=mime_type)]
        )
    if isinstance(value, bytes | bytearray | memoryview):
        blob = base64.b64encode(value).decode()
        return t.ReadResourceResult(
            contents=[t.BlobResourceContents(uri=uri, blob=blob, mime_type=mime_type)]
        )
    if isinstance(value, (*RESOURCE_CONTENTS, dict)):
        return t.ReadResourceResult(contents=[value])
    if isinstance(value, list | tuple):
        return t.ReadResourceResult(
            contents=[resource_contents(uri, mime_type, v).contents[0] for v in value]
        )
    raise TypeError(f"a resource handler returned {type(value).__name__}; expected str, bytes or contents")


def prompt_messages(description: str | None, value: Any) -> Any:
    """A prompts/get result from a prompt handler's return value."""
    if isinstance(value, t.GetPromptResult):
        return value
    items = value if isinstance(value, list | tuple) else [value]
    messages: list[Any] = []  # a dict is passed on as the handler gave it (msgspec encodes both alike)
    for item in items:
        if isinstance(item, str):
            messages.append(t.PromptMessage(role="user", content=t.TextContent(text=item)))
        elif isinstance(item, t.PromptMessage | dict):
            messages.append(item)
        elif _is_content(item):
            messages.append(t.PromptMessage(role="user", content=item))
        else:
            raise TypeError(f"a prompt handler returned {type(item).__name__}; expected str or PromptMessage")
    return t.GetPromptResult(messages=messages, description=description)
