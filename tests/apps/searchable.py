"""A test app with tool search: a few tools, a resource, a prompt, and tools that change the registry.

MCPRT_TEST_TINY_DIR set: the search embeds with the tiny model in that folder (router/tiny.py, built by the
test); unset: the real MiniLM. MCPRT_TEST_DEFERRED=1: deferred listing, with `add_numbers` pinned.
MCPRT_TEST_THRESHOLD: the "no good match" score instead of the measured one.
"""

from __future__ import annotations

import os
from pathlib import Path

from runtime import Server
from runtime.server.tool_search import ToolSearch

tiny = os.environ.get("MCPRT_TEST_TINY_DIR")
embedder = None
if tiny:
    from router.embed import OnnxEmbedder

    def embedder():  # type: ignore[no-untyped-def]
        return OnnxEmbedder(Path(tiny) / "tiny.onnx", Path(tiny) / "tokenizer.json")


server = Server(
    "searchable",
    "1.0",
    tool_search=ToolSearch(
        deferred=os.environ.get("MCPRT_TEST_DEFERRED") == "1",
        pinned=["add_numbers"],
        embedder=embedder,
        limit_max=4,
        threshold=float(os.environ["MCPRT_TEST_THRESHOLD"]) if "MCPRT_TEST_THRESHOLD" in os.environ else None,
    ),
)


@server.tool()
def read_file(path: str) -> str:
    """Read the contents of a text file from disk."""
    return f"contents of {path}"


@server.tool()
def send_slack_message(channel: str, text: str) -> str:
    """Send a message to a Slack channel."""
    return f"sent to {channel}"


@server.tool()
def weather_forecast(city: str) -> str:
    """Tomorrow's weather forecast for a city."""
    return f"sunny in {city}"


@server.tool()
def query_database(sql: str) -> str:
    """Run a SQL query against the database and return the rows."""
    return "no rows"


@server.tool()
def create_github_issue(repository: str, title: str) -> str:
    """Create an issue in a GitHub repository."""
    return f"issue {title!r} in {repository}"


@server.tool()
def add_numbers(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


@server.tool()
def register(name: str, description: str) -> str:
    """Register a new tool at run time."""

    def dynamic() -> str:
        return f"I am {name}"

    server.add_tool(dynamic, name=name, description=description)
    return "registered"


@server.tool()
def unregister(name: str) -> str:
    """Remove a tool at run time."""
    server.remove_tool(name)
    return "removed"


@server.resource("file:///logs/app.log", name="app_log", description="The application's log file")
def app_log() -> str:
    return "log"


@server.resource("weather://cities/{city}/today", name="today", description="Today's weather in a city")
def today(city: str) -> str:
    return f"sunny in {city}"


@server.prompt()
def review_code(language: str) -> str:
    """Review a piece of code for bugs."""
    return f"Review this {language} code."


@server.prompt()
def plan_trip(city: str) -> str:
    """Plan a trip to a city."""
    return f"Plan a trip to {city}."
