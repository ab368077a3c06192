"""The in-memory connector: `Client(server)` talks to a Server in this process and event loop, through the
session core and runner that stdio uses, with every feature working both ways."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from runtime import Client, Context, McpError, Server, ToolError
from runtime.client.errors import ClientClosed
from runtime.protocol import types as t


def make_server() -> Server:
    server = Server("in-memory", "1.0")

    @server.tool()
    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    @server.tool()
    async def count_up(steps: int, ctx: Context) -> str:
        """Report progress `steps` times, logging each step."""
        for step in range(1, steps + 1):
            await ctx.report_progress(step, steps, f"step {step}")
            await ctx.info(f"step {step}")
        return "counted"

    @server.tool()
    async def ask_llm(prompt: str, ctx: Context) -> str:
        """Ask the client's LLM (sampling)."""
        result = await ctx.sample(prompt, max_tokens=20)
        assert isinstance(result.content, t.TextContent)
        return f"llm said: {result.content.text}"

    @server.tool()
    async def ask_user(ctx: Context) -> str:
        """Elicit a name from the user."""
        answer = await ctx.elicit("Your name?", {"type": "object", "properties": {"name": {"type": "string"}}})
        return f"{answer.action}: {answer.content}"

    @server.tool()
    async def client_roots(ctx: Context) -> list[str]:
        """The client's roots."""
        return [root.uri for root in await ctx.list_roots()]

    @server.tool()
    def fail(reason: str) -> str:
        """Always fails with a ToolError."""
        raise ToolError(f"refused: {reason}")

    @server.tool()
    def crash() -> str:
        """Fails with an unexpected exception (its text must not reach the client)."""
        raise RuntimeError("secret internal detail")

    @server.tool()
    async def sleep_forever() -> str:
        """Never answers: closing the client must end it."""
        await asyncio.sleep(3600)
        return "woke"

    @server.tool(task_support="optional")
    async def slow_square(n: int) -> int:
        """Square a number, taking its time (runs as a task when asked)."""
        await asyncio.sleep(0.01)
        return n * n

    @server.resource("memo://greeting", mime_type="text/plain")
    def greeting() -> str:
        """A fixed greeting."""
        return "hello from memory"

    @server.resource("memo://users/{name}")
    def user(name: str) -> str:
        return f"user {name}"

    @server.prompt()
    def review(code: str) -> str:
        """Review some code."""
        return f"Please review: {code}"

    return server


def leftover_tasks() -> set[asyncio.Task[Any]]:
    return {task for task in asyncio.all_tasks() if task is not asyncio.current_task() and not task.done()}


async def test_tools_list_and_call() -> None:
    async with Client(make_server()) as client:
        assert client.server_info is not None and client.server_info.name == "in-memory"
        names = {tool.name for tool in await client.list_tools()}
        assert {"add", "count_up", "ask_llm", "fail"} <= names
        result = await client.call_tool("add", {"a": 2, "b": 3})
        assert not result.is_error
        assert result.structured_content == {"result": 5}


async def test_in_memory_constructor_and_many_clients_of_one_server() -> None:
    server = make_server()
    async with Client.in_memory(server, name="first") as one, Client(server, name="second") as two:
        first, second = await asyncio.gather(
            one.call_tool("add", {"a": 1, "b": 1}), two.call_tool("add", {"a": 2, "b": 2})
        )
        assert (first.structured_content, second.structured_content) == ({"result": 2}, {"result": 4})
    # The server outlives its clients: a new one connects to it again.
    async with Client(server) as again:
        assert (await again.call_tool("add", {"a": 3, "b": 3})).structured_content == {"result": 6}


async def test_resources_and_templates() -> None:
    async with Client(make_server()) as client:
        assert [resource.uri for resource in await client.list_resources()] == ["memo://greeting"]
        templates = await client.list_resource_templates()
        assert [template.uri_template for template in templates] == ["memo://users/{name}"]
        read = await client.read_resource("memo://greeting")
        assert read.contents == [{"uri": "memo://greeting", "mimeType": "text/plain", "text": "hello from memory"}]
        templated = await client.read_resource("memo://users/ada")
        assert templated.contents[0]["text"] == "user ada"


async def test_prompts() -> None:
    async with Client(make_server()) as client:
        assert [prompt.name for prompt in await client.list_prompts()] == ["review"]
        prompt = await client.get_prompt("review", {"code": "x = 1"})
        content = prompt.messages[0].content
        assert isinstance(content, t.TextContent) and content.text == "Please review: x = 1"


async def test_sampling_elicitation_and_roots_callbacks() -> None:
    seen: list[str] = []

    async def sample(params: t.CreateMessageRequestParams) -> dict[str, Any]:
        content = params.messages[0].content
        assert isinstance(content, t.TextContent)
        seen.append(content.text)
        return {"role": "assistant", "content": {"type": "text", "text": content.text.upper()}, "model": "m"}

    def elicit(params: dict[str, Any]) -> dict[str, Any]:
        return {"action": "accept", "content": {"name": "ada"}}

    client = Client(
        make_server(),
        sampling_handler=sample,
        elicitation_handler=elicit,
        roots=[{"uri": "file:///work", "name": "work"}],
    )
    async with client:
        sampled = await client.call_tool("ask_llm", {"prompt": "hi there"})
        assert isinstance(sampled.content[0], t.TextContent)
        assert sampled.content[0].text == "llm said: HI THERE"
        assert seen == ["hi there"]
        elicited = await client.call_tool("ask_user")
        assert isinstance(elicited.content[0], t.TextContent)
        assert elicited.content[0].text == "accept: {'name': 'ada'}"
        roots = await client.call_tool("client_roots")
        assert roots.structured_content == {"result": ["file:///work"]}


async def test_progress_and_logging() -> None:
    progress: list[tuple[float, float | None, str | None]] = []
    logs: list[Any] = []

    async def on_log(params: t.LoggingMessageNotificationParams) -> None:
        logs.append(params.data)

    async with Client(make_server(), on_log=on_log) as client:
        await client.set_log_level("info")
        result = await client.call_tool(
            "count_up", {"steps": 3}, progress=lambda p, total, message: progress.append((p, total, message))
        )
        assert isinstance(result.content[0], t.TextContent) and result.content[0].text == "counted"
        # Messages arrive in order: every progress and log of the call before its result.
        assert progress == [(1, 3, "step 1"), (2, 3, "step 2"), (3, 3, "step 3")]
        await asyncio.sleep(0)  # the log callbacks run as tasks
        assert logs == ["step 1", "step 2", "step 3"]


async def test_tool_errors() -> None:
    async with Client(make_server()) as client:
        refused = await client.call_tool("fail", {"reason": "no"})
        assert refused.is_error
        assert isinstance(refused.content[0], t.TextContent) and refused.content[0].text.endswith("refused: no")
        crashed = await client.call_tool("crash")
        assert crashed.is_error
        assert isinstance(crashed.content[0], t.TextContent)
        assert "secret internal detail" not in crashed.content[0].text
        invalid = await client.call_tool("add", {"a": "two", "b": 3})
        assert invalid.is_error
        with pytest.raises(McpError) as unknown:
            await client.request("no/such/method")
        assert unknown.value.code == -32601


async def test_a_tool_as_a_task() -> None:
    async with Client(make_server()) as client:
        result = await client.call_tool_as_task("slow_square", {"n": 7})
        assert result.structured_content == {"result": 49}
        assert [task.status for task in await client.list_tasks()] == ["completed"]


async def test_size_limit_is_stdio_s() -> None:
    async with Client.in_memory(make_server(), max_message_bytes=200) as client:
        with pytest.raises(McpError) as refused:
            await client.call_tool("add", {"a": 1, "b": 2, "pad": "x" * 300})
        assert refused.value.code == -32600
        assert (await client.call_tool("add", {"a": 1, "b": 2})).structured_content == {"result": 3}


async def test_nesting_limit_is_stdio_s() -> None:
    deep: Any = 1
    for _ in range(300):
        deep = [deep]
    async with Client(make_server()) as client:
        with pytest.raises(McpError) as refused:
            await client.call_tool("add", {"a": 1, "b": 2, "deep": deep})
        assert refused.value.code == -32600
        assert (await client.call_tool("add", {"a": 1, "b": 2})).structured_content == {"result": 3}


async def test_close_leaves_no_task_behind() -> None:
    before = leftover_tasks()
    client = Client(make_server())
    await client.connect()
    waiting = asyncio.ensure_future(client.call_tool("sleep_forever"))
    for _ in range(20):  # let the call reach the server
        await asyncio.sleep(0)
    assert leftover_tasks() - before - {waiting}, "the handler should be running"
    await client.close()
    with pytest.raises(ClientClosed):
        await waiting
    assert leftover_tasks() - before == set()
    with pytest.raises(ClientClosed):
        await client.call_tool("add", {"a": 1, "b": 2})


async def test_close_ends_callbacks_still_running() -> None:
    """A sampling handler still waiting when the client closes is ended with it (and the tool asking)."""
    before = leftover_tasks()
    asked = asyncio.Event()

    async def never_answers(params: t.CreateMessageRequestParams) -> dict[str, Any]:
        asked.set()
        await asyncio.sleep(3600)
        return {}

    client = Client(make_server(), sampling_handler=never_answers, accept_tasks=False)
    await client.connect()
    waiting = asyncio.ensure_future(client.call_tool("ask_llm", {"prompt": "hi"}))
    await asyncio.wait_for(asked.wait(), 10)
    await client.close()
    with pytest.raises(ClientClosed):
        await waiting
    assert leftover_tasks() - before == set()


def test_readme_example_runs(tmp_path: Any) -> None:
    """The README's "Testing your server" example, as a script in a fresh process."""
    import re
    import subprocess
    import sys
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    section = readme.split("## Testing your server", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match is not None
    script = tmp_path / "test_weather.py"
    script.write_text(match.group(1))
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
