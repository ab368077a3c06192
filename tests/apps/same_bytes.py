"""A test app for tests/test_same_bytes.py: a few tools, resources, a template, a prompt and a completion,
all answering at once and deterministically (no progress, no logs, no server requests), so that the
answer to a message depends only on the message and the session's state, not on the transport."""

from __future__ import annotations

from typing import Literal

from runtime import Server, ToolError

server = Server("same-bytes", "1.0.0")


@server.tool()
def echo(text: str) -> str:
    """Echo the text."""
    return text


@server.tool()
async def add(a: int, b: int = 0) -> int:
    """Add two integers."""
    return a + b


@server.tool()
def pick(colour: Literal["red", "green", "blue"], times: int = 1) -> list[str]:
    """Repeat a colour (at most 5 times)."""
    if not 0 <= times <= 5:
        raise ToolError("times must be between 0 and 5")
    return [colour] * times


@server.tool()
def divide(a: float, b: float) -> float:
    """Divide; dividing by zero is an unexpected error (its detail must not reach the client)."""
    return a / b


@server.resource("same://fixed", mime_type="text/plain")
def fixed() -> str:
    """A fixed text."""
    return "fixed text"


@server.resource("same://items/{item}")
def item(item: str) -> str:
    """An item by name."""
    return f"item {item}"


@server.prompt()
def greet(name: str, style: str = "plain") -> str:
    """Greet someone."""
    return f"Hello {name} ({style})"


@server.completion(prompt="greet", argument="style")
def complete_style(value: str) -> list[str]:
    return [style for style in ("plain", "formal", "pirate") if style.startswith(value)]
