"""The author API: schemas from type hints, registration rules, run-time changes and their notifications."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import msgspec
import pytest

from runtime import Client, Context, McpError, Server
from runtime.protocol import types as t
from runtime.server.uritemplate import UriTemplate
from tests.conftest import serve_command

DYNAMIC = str(Path(__file__).parent / "apps" / "dynamic.py") + ":server"


@dataclass
class Point:
    x: float
    y: float


def test_input_schema_from_type_hints() -> None:
    server = Server("s")

    @server.tool()
    def place(
        name: Annotated[str, msgspec.Meta(description="what to place", max_length=20)],
        where: Point,
        tags: list[str] | None = None,
        count: int = 1,
        ctx: Context | None = None,
    ) -> dict[str, Any]:
        """Place a thing."""
        return {}

    definition = server._tools["place"].definition
    schema = definition["inputSchema"]
    assert schema["type"] == "object"
    assert schema["required"] == ["name", "where"]
    assert schema["properties"]["name"] == {"type": "string", "description": "what to place", "maxLength": 20}
    assert schema["properties"]["where"] == {"$ref": "#/$defs/Point"}
    assert schema["$defs"]["Point"]["required"] == ["x", "y"]
    assert schema["properties"]["count"]["default"] == 1
    assert "ctx" not in schema["properties"]
    assert definition["description"] == "Place a thing."
    assert definition["outputSchema"] == {"type": "object"}


def test_output_schema_wraps_non_objects() -> None:
    server = Server("s")

    @server.tool()
    def numbers() -> list[int]:
        return [1]

    @server.tool()
    def plain() -> str:
        return "x"

    wrapped = server._tools["numbers"].definition["outputSchema"]
    assert wrapped == {
        "type": "object",
        "properties": {"result": {"type": "array", "items": {"type": "integer"}}},
        "required": ["result"],
    }
    assert "outputSchema" not in server._tools["plain"].definition


@pytest.mark.parametrize("name", ["", "has space", "x" * 129, "slash/name", "ünïcode"])
def test_invalid_tool_names_are_refused(name: str) -> None:
    server = Server("s")
    with pytest.raises(ValueError, match="invalid tool name"):
        server.add_tool(lambda: "x", name=name)


def test_duplicates_and_bad_templates_are_refused() -> None:
    server = Server("s")
    server.add_tool(lambda: "x", name="a.b-c_D")
    with pytest.raises(ValueError, match="already registered"):
        server.add_tool(lambda: "y", name="a.b-c_D")
    with pytest.raises(TypeError, match="lacks parameters"):
        server.resource("x://{id}")(lambda: "no id parameter")
    with pytest.raises(ValueError, match="unsupported JSON Schema dialect"):
        server.add_tool(lambda: "x", name="d", input_schema={"$schema": "urn:nope", "type": "object"})


def test_uri_templates() -> None:
    assert UriTemplate("a://{x}/b/{y}").match("a://1/b/2") == {"x": "1", "y": "2"}
    assert UriTemplate("a://{x}").match("a://1/2") is None
    assert UriTemplate("file:///{+path}").match("file:///a/b%20c") == {"path": "a/b c"}
    assert UriTemplate("s://q{?a,b}").match("s://q?a=1&b=2") == {"a": "1", "b": "2"}
    assert UriTemplate("s://p{/seg*}").match("s://p/x/y") == {"seg": "/x/y"[1:]}


async def test_pagination_follows_cursors_and_rejects_bad_ones() -> None:
    async with Client(serve_command("--stdio", app=DYNAMIC)) as client:
        first = await client.request("tools/list")
        assert len(first["tools"]) == 3 and first["nextCursor"]
        tools = await client.list_tools()
        assert len(tools) == 11 and len({tool.name for tool in tools}) == 11
        with pytest.raises(McpError) as bad:
            await client.request("tools/list", {"cursor": "not-a-cursor"})
        assert bad.value.code == -32602
        with pytest.raises(McpError):
            await client.request("resources/list", {"cursor": first["nextCursor"]})  # another list's cursor


async def test_run_time_registration_sends_list_changed() -> None:
    seen: list[str] = []
    async with Client(
        serve_command("--stdio", app=DYNAMIC), on_notification=lambda m, p: seen.append(m)
    ) as client:
        await client.call_tool("register", {"name": "fresh"})
        assert (await client.call_tool("fresh")).content[0].text == "I am fresh"
        await client.call_tool("unregister", {"name": "fresh"})
        await asyncio.sleep(0.05)
        assert seen.count("notifications/tools/list_changed") == 2
        with pytest.raises(McpError):
            await client.call_tool("fresh")


async def test_resource_updates_reach_subscribers_only() -> None:
    updates: list[Any] = []

    def on_notification(method: str, params: Any) -> None:
        if method == "notifications/resources/updated":
            updates.append(params["uri"])

    async with Client(serve_command("--stdio", app=DYNAMIC), on_notification=on_notification) as client:
        told = await client.call_tool("touch", {"uri": "memo://notes"})
        assert told.structured_content == {"result": 0}
        await client.subscribe("memo://notes")
        told = await client.call_tool("touch", {"uri": "memo://notes"})
        assert told.structured_content == {"result": 1}
        await asyncio.sleep(0.05)
        assert updates == ["memo://notes"]
        await client.unsubscribe("memo://notes")
        await client.call_tool("touch", {"uri": "memo://notes"})
        await asyncio.sleep(0.05)
        assert updates == ["memo://notes"]


def test_content_types_decode() -> None:
    block = msgspec.json.decode(b'{"type":"image","data":"AA==","mimeType":"image/png"}', type=t.ContentBlock)
    assert isinstance(block, t.ImageContent) and block.mime_type == "image/png"


def test_handlers_without_await_points_are_recognised() -> None:
    from runtime.server.inline import cannot_suspend

    async def plain(x: int) -> int:
        return x

    async def awaits() -> None:
        await asyncio.sleep(0)

    async def timed() -> int:
        async with asyncio.timeout(1):
            return 1

    async def iterates(source: Any) -> list[Any]:
        return [item async for item in source]

    def sync() -> int:
        return 1

    assert cannot_suspend(plain)
    assert not any(cannot_suspend(fn) for fn in (awaits, timed, iterates, sync))


async def test_await_free_handlers_run_inline_with_task_semantics() -> None:
    app = str(Path(__file__).parent / "apps" / "inline.py") + ":server"
    async with Client(serve_command("--stdio", app=app)) as client:
        assert (await client.call_tool("add", {"a": 2, "b": 3})).structured_content == {"result": 5}
        assert (await client.call_tool("set_marker", {"value": "one"})).content[0].text == "unset"
        assert (await client.call_tool("set_marker", {"value": "two"})).content[0].text == "unset"
        failed = await client.call_tool("fails")
        assert failed.is_error and "inline failure" in failed.content[0].text
        with pytest.raises(McpError) as refused:
            await client.call_tool("refuses")
        assert refused.value.code == -32602
        assert (await client.call_tool("in_task")).content[0].text == "task"
        read = await client.request("resources/read", {"uri": "inline://text"})
        assert read["contents"][0]["text"] == "inline text"
        with pytest.raises(McpError) as gone:
            await client.request("resources/read", {"uri": "inline://missing"})
        assert gone.value.code == -32002
        bad = await client.call_tool("add", {"a": "x", "b": 1})
        assert bad.is_error
