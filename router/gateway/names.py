"""How the gateway names what its upstreams offer, and back.

- tools and prompts: `<server>_<name>`. Server names hold no '_' (config.SERVER_NAME), so the first '_'
  splits it again; the result must still be a valid tool name (tools.mdx: 1-128 of A-Z a-z 0-9 _ - .).
- resources and templates: `<server>+<uri>`, e.g. `everything+demo://resource/static/document/a.md`. The
  prefix joins the URI's own scheme (RFC 3986: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )), so
  the result is still a URI, a template stays a template, and the first '+' gives back the server and the
  upstream's URI. URIs inside results (resource contents, resource links, embedded resources) are prefixed
  the same way, so a client reads them through the gateway.
"""

from __future__ import annotations

from typing import Any

from runtime.server.tools import TOOL_NAME

NAME_SEPARATOR = "_"
URI_SEPARATOR = "+"


def prefixed_name(server: str, name: str) -> str | None:
    """The gateway's name for an upstream tool or prompt; None when the result is no valid tool name."""
    joined = f"{server}{NAME_SEPARATOR}{name}"
    return joined if TOOL_NAME.match(joined) else None


def split_name(name: str) -> tuple[str, str] | None:
    server, sep, rest = name.partition(NAME_SEPARATOR)
    return (server, rest) if sep and rest else None


def prefixed_uri(server: str, uri: str) -> str:
    return f"{server}{URI_SEPARATOR}{uri}"


def split_uri(uri: str) -> tuple[str, str] | None:
    server, sep, rest = uri.partition(URI_SEPARATOR)
    return (server, rest) if sep and rest else None


def prefix_content_uris(server: str, blocks: Any) -> None:
    """Prefix, in place, the URIs of resource links and embedded resources in a list of content blocks."""
    if not isinstance(blocks, list):
        return
    for block in blocks:
        _prefix_block(server, block)


def _prefix_block(server: str, block: Any) -> None:
    if not isinstance(block, dict):
        return
    kind = block.get("type")
    if kind == "resource_link" and isinstance(block.get("uri"), str):
        block["uri"] = prefixed_uri(server, block["uri"])
    elif kind == "resource":
        prefix_contents_uris(server, [block.get("resource")])


def prefix_contents_uris(server: str, contents: Any) -> None:
    """Prefix, in place, the `uri` of each resource contents item (resources/read, embedded resources)."""
    if not isinstance(contents, list):
        return
    for item in contents:
        if isinstance(item, dict) and isinstance(item.get("uri"), str):
            item["uri"] = prefixed_uri(server, item["uri"])


def prefix_prompt_uris(server: str, messages: Any) -> None:
    if isinstance(messages, list):
        for message in messages:
            if isinstance(message, dict):
                _prefix_block(server, message.get("content"))
