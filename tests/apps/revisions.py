"""A server using a feature of every protocol revision, for tests/test_revisions.py: what each negotiated
revision is shown of it."""

import asyncio

from runtime import Context, Server
from runtime.protocol import types as t
from runtime.server import content

ICON = [{"src": "https://example.com/icon.png", "mimeType": "image/png"}]

server = Server(
    "revisions-test",
    "1.0.0",
    title="Revisions Test",
    description="Shows each revision what it has",
    website_url="https://example.com",
    icons=ICON,
)


@server.tool(
    title="Weather",
    annotations={"readOnlyHint": True, "title": "Weather"},
    icons=ICON,
    meta={"vendor/x": 1},
)
async def weather(city: str) -> dict[str, float]:
    """Structured output: an outputSchema from the return annotation."""
    return {"celsius": 21.5}


@server.tool()
async def echo(text: str) -> str:
    return text


@server.tool()
async def media() -> t.CallToolResult:
    """Content a revision may not have: a resource link and audio."""
    link = t.ResourceLink(uri="test://doc", name="doc", title="The doc", icons=[t.Icon(src="https://e.x/i")])
    return t.CallToolResult(content=[content.text("here"), link, content.audio(b"RIFF", "audio/wav")])


@server.tool(task_support="optional")
async def slow(seconds: float = 0.0) -> str:
    await asyncio.sleep(seconds)
    return "done"


@server.tool(task_support="required")
async def task_only() -> str:
    return "only as a task"


@server.resource(
    "test://doc",
    title="The doc",
    icons=ICON,
    annotations={"priority": 1.0, "lastModified": "2025-01-01T00:00:00Z"},
)
def doc() -> str:
    return "the doc"


@server.prompt(title="Greeting", icons=ICON)
def greet(name: str) -> str:
    return f"Hello {name}"


@server.completion(prompt="greet", argument="name")
def complete_name(value: str) -> list[str]:
    return [n for n in ("alice", "bob") if n.startswith(value)]


@server.tool()
async def progressing(ctx: Context) -> str:
    await ctx.report_progress(0.5, 1.0, message="halfway")
    await asyncio.sleep(0.01)
    return "ok"


@server.tool(cache_ttl=60)
async def cached_weather(city: str) -> dict[str, float]:
    """Answered from the shared cache after the first call, whichever revision made it."""
    return {"celsius": 19.0}


@server.tool()
async def elicits(ctx: Context) -> str:
    """Elicitation on a revision without it is refused before anything is sent."""
    try:
        await ctx.elicit("name?", {"type": "object", "properties": {"n": {"type": "string"}}}, timeout=5)
    except Exception as exc:
        return f"refused: {exc}"
    return "sent"


@server.prompt()
def listen() -> list:  # type: ignore[type-arg]
    """A prompt whose message is audio."""
    return [t.PromptMessage(role="user", content=content.audio(b"RIFF", "audio/wav"))]
