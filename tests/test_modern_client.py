"""Our `Client` speaking MCP 2026-07-28 to real servers: `mcprt serve` of the everything example over HTTP and
stdio (discover, the envelope, the mirrored headers, input rounds driving the same handlers as the legacy
server requests, progress, logging, cancellation), the official Python SDK's server in its modern mode,
and legacy-only servers it falls back to `initialize` for."""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import pytest

from runtime import Client
from runtime.protocol import jsonrpc as rpc
from runtime.protocol import types as t
from tests.conftest import ROOT, RunningServer, serve_command
from tests.gateway_support import EverythingHttp, sdk_upstream, stdio_everything

MODERN = "2026-07-28"
CANCELS = str(ROOT / "tests" / "apps" / "cancels.py")


async def elicit(params: dict[str, Any]) -> dict[str, Any]:
    message = params["message"]
    content = {"color": "blue"} if "color" in message else {"name": "Ada", "ok": True, "context": "tests"}
    return {"action": "accept", "content": content}


async def sample(params: t.CreateMessageRequestParams) -> dict[str, Any]:
    return {"role": "assistant", "content": {"type": "text", "text": "Paris"}, "model": "test"}


def modern_client(target: Any, **options: Any) -> Client:
    return Client(
        target,
        protocol_version=MODERN,
        elicitation_handler=elicit,
        sampling_handler=sample,
        roots=[{"uri": "file:///tmp", "name": "tmp"}],
        timeout=20,
        **options,
    )


def text(result: t.CallToolResult) -> str:
    block = result.content[0]
    assert isinstance(block, t.TextContent), result
    return block.text


async def test_everything_over_2026_07_28(target: Any) -> None:
    """Over HTTP and stdio: the server is discovered (no session), tools, resources and prompts work, and
    the input-required fixtures are answered by the client's own handlers, one round or several."""
    async with modern_client(target) as client:
        assert client.modern_version == MODERN and client.protocol_version == MODERN
        assert client.session_id is None
        assert client.server_info is not None and client.server_info.name
        assert client.server_capabilities is not None and client.server_capabilities.tools is not None
        assert MODERN in client.supported_versions
        names = {tool.name for tool in await client.list_tools()}
        assert "test_custom_header" in names
        expected = {
            "test_input_required_result_elicitation": "Hello, Ada!",
            "test_input_required_result_multi_round": "Ada likes blue",
            "test_input_required_result_multiple_inputs": "Paris Ada (1 roots)",
            "test_input_required_result_list_roots": "Roots: file:///tmp",
            "test_input_required_result_request_state": "state-ok: confirmed=True",
        }
        for name, answer in expected.items():
            assert text(await client.call_tool(name, {})) == answer, name
        header = await client.call_tool("test_custom_header", {"region": "eu west ü", "query": "q"})
        assert not header.is_error, header  # the server checks Mcp-Param-Region against the body
        read = await client.read_resource("test://static-text")
        assert read.contents
        prompt = await client.get_prompt("test_input_required_result_prompt", {})
        assert prompt.messages


async def test_progress_and_logging_ride_on_each_request(target: Any) -> None:
    progress: list[float] = []
    logs: list[str] = []

    async def on_log(params: t.LoggingMessageNotificationParams) -> None:
        logs.append(params.level)

    async with modern_client(target, on_log=on_log) as client:
        await client.call_tool("test_logging_tool", {})
        assert logs == []  # no level asked: a modern server sends none
        await client.set_log_level("warning")
        await client.call_tool("test_logging_tool", {})
        await client.call_tool(
            "test_tool_with_progress", {}, progress=lambda done, total, message: progress.append(done)
        )
    assert logs == ["warning", "error"]
    assert progress and progress == sorted(progress)


async def test_a_refused_capability_is_the_servers_modern_error(target: Any) -> None:
    """A client that declares no sampling gets -32021 for a tool that needs it, not a hang."""
    async with Client(target, protocol_version=MODERN, timeout=20) as client:
        with pytest.raises(rpc.McpError) as refused:
            await client.call_tool("test_missing_capability", {})
    assert refused.value.code == rpc.MISSING_CLIENT_CAPABILITY


async def test_methods_the_modern_revision_removed_are_refused_here() -> None:
    async with modern_client(serve_command("--stdio")) as client:
        await client.ping()  # server/discover stands in for it
        with pytest.raises(rpc.McpError, match="subscriptions/listen"):
            await client.subscribe("test://static-text")
        with pytest.raises(rpc.McpError, match="extension"):
            await client.start_tool_task("test_tool_with_task", {})


async def _started(client: Client, kind: str) -> None:
    for _ in range(300):
        if kind in ((await client.call_tool("holds_started", {})).structured_content or {})["result"]:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the held call never started")


async def _cancellations(client: Client) -> Any:
    for _ in range(150):
        seen = (await client.call_tool("cancellations", {})).structured_content
        if seen and seen["result"]:
            return seen
        await asyncio.sleep(0.1)
    return seen


@pytest.mark.parametrize("stream", [False, True])
async def test_cancelling_closes_the_stream_and_the_server_cancels(stream: bool) -> None:
    """Over HTTP, cancelling a waiting call closes the request's connection (a JSON answer) or its SSE
    stream: the server takes that as the cancellation (cancellation.mdx). A timeout takes the same path."""
    server = RunningServer(app=CANCELS)
    try:
        async with Client(server.url, protocol_version=MODERN, timeout=20) as client:
            # With a progress token the tool's first progress turns its answer into an SSE stream.
            progress = (lambda done, total, message: None) if stream else None
            call = asyncio.ensure_future(client.call_tool("hold", {"stream": stream}, progress=progress))
            await _started(client, "stream" if stream else "json")
            call.cancel()
            with pytest.raises(asyncio.CancelledError):
                await call
            assert await _cancellations(client) == {"result": ["stream" if stream else "json"]}
            with pytest.raises(TimeoutError):  # a timeout: the caller gets TimeoutError
                await client.call_tool("hold", {"stream": stream}, timeout=0.5)
    finally:
        server.stop()


async def test_cancelling_over_stdio_sends_notifications_cancelled() -> None:
    async with Client(serve_command("--stdio", app=CANCELS), protocol_version=MODERN, timeout=20) as client:
        call = asyncio.ensure_future(client.call_tool("hold", {"stream": False}))
        await _started(client, "json")
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        assert await _cancellations(client) == {"result": ["json"]}


async def test_listen_receives_what_it_asked_for_and_close_ends_it(target: Any) -> None:
    """subscriptions/listen from the client: the acknowledged filter, the tagged notifications (to the
    subscription and to on_notification), and nothing it did not ask for; closing stops the stream."""
    heard: list[str] = []

    async def on_notification(method: str, params: Any) -> None:
        heard.append(method)

    async with modern_client(target, on_notification=on_notification) as client:
        subscription = await client.listen(tools=True, resource_uris=["test://watched-resource"])
        assert subscription.acknowledged == {
            "toolsListChanged": True,
            "resourceSubscriptions": ["test://watched-resource"],
        }
        await client.call_tool("test_trigger_prompt_change", {})  # not asked for: not heard
        await client.call_tool("test_trigger_tool_change", {})
        await client.call_tool("touch_watched_resource", {})
        got = []
        async with asyncio.timeout(10):
            async for method, params in subscription:
                got.append((method, params.get("uri")))
                if len(got) == 3:  # the tool comes and goes (two changes), then the update
                    break
        assert ("notifications/tools/list_changed", None) in got
        assert ("notifications/resources/updated", "test://watched-resource") in got
        await subscription.close()
        assert subscription.closed and not subscription.ended_by_server
        await asyncio.sleep(0.2)  # the server sees the stream close
        seen = len(heard)
        await client.call_tool("test_trigger_tool_change", {})  # the server no longer has a listener
        await asyncio.sleep(0.3)
        assert len(heard) == seen
    assert "notifications/prompts/list_changed" not in heard
    assert "notifications/subscriptions/acknowledged" not in heard


async def test_listen_is_refused_over_a_legacy_session() -> None:
    async with Client(serve_command("--stdio")) as client:
        with pytest.raises(rpc.McpError, match="subscribe"):
            await client.listen(tools=True)


async def test_the_official_sdk_server_in_its_modern_mode() -> None:
    """The SDK's server (2.3.0) discovered as modern over stdio; its tools, progress and logging work. (Its
    `ctx.elicit` and `create_message` need a back-channel its modern mode does not have: not exercised.)"""
    progress: list[float] = []
    logs: list[Any] = []

    async def on_log(params: t.LoggingMessageNotificationParams) -> None:
        logs.append(params.data)

    async with modern_client(sdk_upstream(), on_log=on_log) as client:
        assert client.modern_version == MODERN
        assert client.server_info is not None and client.server_info.name == "sdk-upstream"
        assert text(await client.call_tool("add", {"a": 2, "b": 3})) == "5"
        await client.set_log_level("info")
        counted = await client.call_tool(
            "count", {"steps": 3}, progress=lambda done, total, message: progress.append(done)
        )
        assert text(counted) == "counted to 3"
    assert progress == [1, 2, 3]
    assert logs == ["counted 1", "counted 2", "counted 3"]


async def test_a_legacy_server_over_stdio_gets_initialize() -> None:
    """The npm reference server answers server/discover with an error that is not a modern one: the client
    falls back to the handshake and works as a 2025-11-25 client (stdio.mdx "Backward Compatibility")."""
    async with modern_client(stdio_everything()) as client:
        assert client.modern_version is None
        assert client.protocol_version == "2025-11-25"
        tools = {tool.name for tool in await client.list_tools()}
        assert "echo" in tools
        assert "Echo: hi" in text(await client.call_tool("echo", {"message": "hi"}))


async def test_a_legacy_server_over_http_gets_initialize() -> None:
    upstream = EverythingHttp()
    try:
        async with modern_client(upstream.url) as client:
            assert client.modern_version is None
            assert client.session_id is not None  # a legacy session, with its id
            assert "Echo: hi" in text(await client.call_tool("echo", {"message": "hi"}))
    finally:
        upstream.stop()


if sys.platform != "linux":  # pragma: no cover
    pytest.skip("the servers run on Linux here", allow_module_level=True)
