"""What a session of an older revision is shown: the server builds everything in the latest revision's shape,
and these functions take out what the session's `Revision` lacks (capabilities, serverInfo fields, list
entries' fields, tools/call content). Lists and the initialize result are shaped once per revision and
memoised by their callers; only tools/call results are shaped per call, and only for older revisions.

Each function returns its input unchanged (the same object) when the revision lacks nothing it carries.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

from runtime.protocol.jsonrpc import decode_any, encode
from runtime.protocol.versions import Revision

# Bytes any field shaped below would show in an encoded tools/call result; without them there is nothing
# to take out, and the bytes go as they are.
_RESULT_MARKERS = re.compile(rb"structuredContent|resource_link|audio|_meta|lastModified")


def capabilities(caps: dict[str, Any], revision: Revision) -> dict[str, Any]:
    drop = set()
    if not revision.has_tasks:
        drop.add("tasks")
    if not revision.has_completions:
        drop.add("completions")
    if not drop & caps.keys():
        return caps
    return {key: value for key, value in caps.items() if key not in drop}


def server_info(info: dict[str, Any], revision: Revision) -> dict[str, Any]:
    drop = set()
    if not revision.has_titles:
        drop.add("title")
    if not revision.has_icons:
        drop.update(("icons", "description", "websiteUrl"))
    return _without(info, drop)


def definition(kind: str, item: dict[str, Any], revision: Revision) -> dict[str, Any] | None:
    """A tools/resources/templates/prompts list entry as `revision` has it; None: not listed at all (a tool
    that must run as a task, to a session that has no tasks, could never be called)."""
    drop = set()
    if not revision.has_titles:
        drop.add("title")
    if not revision.has_icons:
        drop.add("icons")
    if not revision.has_item_meta:
        drop.add("_meta")
    if kind == "tools":
        execution = item.get("execution")
        required = isinstance(execution, dict) and execution.get("taskSupport") == "required"
        if required and not revision.has_tasks:
            return None
        if not revision.has_structured_output:
            drop.add("outputSchema")
        if not revision.has_tool_annotations:
            drop.add("annotations")
        if not revision.has_tool_execution:
            drop.add("execution")
    shaped = _without(item, drop)
    if kind != "tools" and not revision.has_last_modified:
        annotations = shaped.get("annotations")
        if isinstance(annotations, dict) and "lastModified" in annotations:
            shaped = {**shaped, "annotations": _without(annotations, {"lastModified"})}
    if kind == "prompts" and not revision.has_titles and shaped.get("arguments"):
        arguments = [_without(a, {"title"}) if isinstance(a, dict) else a for a in shaped["arguments"]]
        shaped = {**shaped, "arguments": arguments}
    return shaped


def tool_result(result: Any, revision: Revision) -> Any:
    """A tools/call result (a Struct, a dict or encoded bytes) as `revision` has it: no structuredContent
    before 2025-06-18 (the text block the server always adds carries the same JSON), resource links and
    audio as text blocks where the revision has no such content, no `_meta` or `lastModified` inside
    content before 2025-06-18."""
    if type(result) is bytes:
        if _RESULT_MARKERS.search(result) is None:
            return result
        value = decode_any(result)
    else:
        value = msgspec.to_builtins(result)
    if not isinstance(value, dict):
        return result
    shaped = dict(value)
    if not revision.has_structured_output:
        shaped.pop("structuredContent", None)
    content = shaped.get("content")
    if isinstance(content, list):
        shaped["content"] = [content_block(block, revision) for block in content]
    return encode(shaped)


def prompt_result(result: Any, revision: Revision) -> Any:
    """A prompts/get result as `revision` has it: its messages' content shaped as in tool results."""
    value = msgspec.to_builtins(result)
    messages = value.get("messages") if isinstance(value, dict) else None
    if not isinstance(messages, list):
        return result
    shaped = [
        {**m, "content": content_block(m.get("content"), revision)} if isinstance(m, dict) else m
        for m in messages
    ]
    return {**value, "messages": shaped}


def content_block(block: Any, revision: Revision) -> Any:
    if not isinstance(block, dict):
        return block
    kind = block.get("type")
    if kind == "resource_link" and not revision.has_resource_links:
        # The link as text: the client can still read the resource by its URI.
        name = block.get("title") or block.get("name") or ""
        block = {"type": "text", "text": f"{name}: {block.get('uri', '')}" if name else block.get("uri", "")}
    elif kind == "audio" and not revision.has_audio_content:
        block = {"type": "text", "text": f"[{block.get('mimeType', 'audio')} content omitted]"}
    elif kind == "resource_link":
        block = _without(block, set() if revision.has_icons else {"icons"})
    if not revision.has_item_meta:
        block = _without(block, {"_meta"})
        resource = block.get("resource")
        if isinstance(resource, dict) and "_meta" in resource:
            block = {**block, "resource": _without(resource, {"_meta"})}
    if not revision.has_last_modified:
        annotations = block.get("annotations")
        if isinstance(annotations, dict) and "lastModified" in annotations:
            block = {**block, "annotations": _without(annotations, {"lastModified"})}
    return block


def _without(item: dict[str, Any], drop: set[str]) -> dict[str, Any]:
    if not drop & item.keys():
        return item
    return {key: value for key, value in item.items() if key not in drop}
