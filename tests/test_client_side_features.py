"""The client's side of the newest features, over stdio and Streamable HTTP: task-augmented sampling and
elicitation run as tasks in the client and polled by the server, sampling with tool use, and the server's
hook for notifications/roots/list_changed. Then the same features from the official SDK client."""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import pytest
from mcp import ClientSession, StdioServerParameters, types
from mcp.client.stdio import stdio_client

from runtime import Client
from runtime.protocol import types as t
from tests.conftest import EVERYTHING

pytestmark = pytest.mark.timeout(60)


async def test_server_runs_sampling_and_elicitation_as_client_tasks(target: Any) -> None:
    received: list[Any] = []

    async def sample(params: t.CreateMessageRequestParams) -> dict[str, Any]:
        received.append(params)
        await asyncio.sleep(0.2)  # long enough for the server to be waiting on tasks/result
        text = params.messages[0].content.text  # type: ignore[union-attr]
        return {"role": "assistant", "content": {"type": "text", "text": text.upper()}, "model": "m"}

    async def elicit(params: dict[str, Any]) -> dict[str, Any]:
        received.append(params)
        return {"action": "accept", "content": {"name": "Ada"}}

    async with Client(target, sampling_handler=sample, elicitation_handler=elicit) as client:
        requests = client.capabilities["tasks"]["requests"]
        assert requests == {"sampling": {"createMessage": {}}, "elicitation": {"create": {}}}
        sampled = await client.call_tool("test_sampling_as_task", {"prompt": "hello"})
        assert sampled.content[0].text == "LLM response (task): HELLO"
        elicited = await client.call_tool("test_elicitation_as_task", {"message": "name?"})
        assert "accept" in elicited.content[0].text and "Ada" in elicited.content[0].text
        # The handlers saw the request without its task field; both tasks completed in the client.
        assert all("task" not in (p if isinstance(p, dict) else {}) for p in received)
        assert client.tasks is not None
        records = client.tasks.owned_by("server")
        assert [record.status for record in records] == ["completed", "completed"]
        assert await client.call_tool("echo", {"text": "still fine"})  # status notifications were accepted


async def test_task_augmentation_needs_the_client_capability(target: Any) -> None:
    async def sample(params: t.CreateMessageRequestParams) -> dict[str, Any]:
        return {"role": "assistant", "content": {"type": "text", "text": "x"}, "model": "m"}

    async with Client(target, sampling_handler=sample, accept_tasks=False) as client:
        assert "tasks" not in client.capabilities
        refused = await client.call_tool("test_sampling_as_task", {"prompt": "x"})
        assert refused.is_error and "tasks.requests.sampling.createMessage" in refused.content[0].text
        plain = await client.call_tool("test_sampling", {"prompt": "x"})
        assert plain.content[0].text == "LLM response: x"


async def test_sampling_with_tool_use_round_trip(target: Any) -> None:
    seen: list[t.CreateMessageRequestParams] = []

    async def model(params: t.CreateMessageRequestParams) -> dict[str, Any]:
        seen.append(params)
        if len(seen) == 1:
            assert params.tools and params.tools[0].name == "get_weather"
            use = {"type": "tool_use", "id": "call-1", "name": "get_weather", "input": {"city": "Paris"}}
            return {"role": "assistant", "content": [use], "model": "m", "stopReason": "toolUse"}
        answer = params.messages[-1].content
        blocks = answer if isinstance(answer, list) else [answer]
        result = blocks[0]
        assert isinstance(result, t.ToolResultContent) and result.tool_use_id == "call-1"
        text = result.content[0].text  # type: ignore[union-attr]
        return {"role": "assistant", "content": {"type": "text", "text": f"It is {text}."}, "model": "m"}

    async with Client(target, sampling_handler=model, sampling_tools=True) as client:
        result = await client.call_tool("weather_agent", {"question": "Weather in Paris?"})
        assert result.content[0].text == "It is sunny in Paris."
        assert len(seen) == 2 and seen[1].messages[1].role == "assistant"


async def test_roots_list_changed_reaches_the_server_hook(target: Any) -> None:
    async with Client(target, roots=[{"uri": "file:///one"}]) as client:
        assert (await client.call_tool("roots_seen")).structured_content == {"result": []}
        await client.roots_changed([{"uri": "file:///one"}, {"uri": "file:///two"}])
        for _ in range(50):  # the hook asks roots/list in the background
            seen = (await client.call_tool("roots_seen")).structured_content
            if seen == {"result": ["file:///one", "file:///two"]}:
                break
            await asyncio.sleep(0.05)
        assert seen == {"result": ["file:///one", "file:///two"]}


# -- the official SDK client -------------------------------------------------------------------------------


def sdk_transports(http_url: str) -> list[Any]:
    from mcp.client.streamable_http import streamable_http_client

    stdio = StdioServerParameters(command=sys.executable, args=["-m", "runtime", "serve", EVERYTHING, "--stdio"])
    return [stdio_client(stdio), streamable_http_client(http_url)]


async def test_official_sdk_client_polls_tasks(http_server: Any) -> None:
    """The official SDK client (2.3.0) validates every tools/call answer as CallToolResult, so it rejects the
    CreateTaskResult of a task-augmented call and cannot start a task. What it can send is checked here:
    tasks/list (empty for its session) and tasks/get of an unknown task (-32602)."""
    for transport in sdk_transports(http_server.url):
        async with transport as streams, ClientSession(streams[0], streams[1]) as session:
            await session.initialize()
            listed = await session.send_request(types.ListTasksRequest(), types.ListTasksResult)
            assert listed.tasks == []
            with pytest.raises(Exception, match="Task not found"):
                await session.send_request(
                    types.GetTaskRequest(params=types.GetTaskRequestParams(task_id="nope")),
                    types.GetTaskResult,
                )


async def test_official_sdk_client_roots_change_and_sampling_tools(http_server: Any) -> None:
    roots = [types.Root(uri="file:///sdk/a")]

    async def list_roots(context: Any) -> types.ListRootsResult:
        return types.ListRootsResult(roots=roots)

    async def model(context: Any, params: types.CreateMessageRequestParams) -> Any:
        last = params.messages[-1].content
        blocks = last if isinstance(last, list) else [last]
        if isinstance(blocks[0], types.ToolResultContent):
            text = blocks[0].content[0].text  # type: ignore[union-attr]
            return types.CreateMessageResult(
                role="assistant", content=types.TextContent(type="text", text=f"SDK says {text}"), model="m"
            )
        use = types.ToolUseContent(type="tool_use", id="u1", name="get_weather", input={"city": "Oslo"})
        return types.CreateMessageResultWithTools(
            role="assistant", content=[use], model="m", stop_reason="toolUse"
        )

    options = {
        "list_roots_callback": list_roots,
        "sampling_callback": model,
        "sampling_capabilities": types.SamplingCapability(tools=types.SamplingToolsCapability()),
    }
    for transport in sdk_transports(http_server.url):
        async with transport as streams, ClientSession(streams[0], streams[1], **options) as session:
            await session.initialize()
            agent = await session.call_tool("weather_agent", {"question": "Oslo?"})
            assert agent.content[0].text == "SDK says sunny in Oslo"
            roots.append(types.Root(uri="file:///sdk/b"))
            await session.send_roots_list_changed()
            expected = {"result": ["file:///sdk/a", "file:///sdk/b"]}
            for _ in range(50):
                seen = (await session.call_tool("roots_seen", {})).structured_content
                if seen == expected:
                    break
                await asyncio.sleep(0.05)
            assert seen == expected
            roots.pop()
