"""A test app whose tools change the server while it runs: registration, removal, resource updates."""

from __future__ import annotations

from runtime import Context, Server

server = Server("dynamic", "1.0", page_size=3)

for i in range(7):

    def make(i: int = i):  # type: ignore[no-untyped-def]
        def numbered() -> str:
            return f"tool {i}"

        numbered.__name__ = f"numbered_{i}"
        return numbered

    server.add_tool(make())


@server.tool()
def register(name: str) -> str:
    """Register a new tool at run time (sends notifications/tools/list_changed)."""

    def dynamic() -> str:
        return f"I am {name}"

    server.add_tool(dynamic, name=name)
    return "registered"


@server.tool()
def unregister(name: str) -> str:
    server.remove_tool(name)
    return "removed"


@server.tool()
def touch(uri: str) -> int:
    """Publish an update of a resource; returns how many sessions were told."""
    return server.resource_updated(uri)


@server.resource("memo://notes", mime_type="text/plain")
def notes() -> str:
    return "notes"


@server.tool()
def check_cancel(ctx: Context) -> bool:
    return ctx.cancelled
