"""`mcprt gateway` in front of real upstreams: the reference server-everything (npm) over stdio and over
Streamable HTTP, and an official-SDK server over stdio; our Client and the official SDK client in front.
One gateway process (with --tool-search) and its upstreams are shared by the whole module."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from runtime.client.client import Client
from runtime.protocol import types as t
from tests.gateway_support import (
    SDK_ENV,
    EverythingHttp,
    GatewayServer,
    everything_js,
    sampled,
    sdk_upstream,
    stdio_everything,
    toml_list,
    write_config,
)

SamplingHandler = Callable[[t.CreateMessageRequestParams], Awaitable[dict[str, Any]]]

pytestmark = pytest.mark.timeout(90)

ELICITED = {"action": "accept", "content": {"name": "Ada"}}
ROOTS = [{"uri": "file:///work/project", "name": "project"}]


@pytest.fixture(scope="module")
def everything_http() -> Iterator[EverythingHttp]:
    everything_js()
    server = EverythingHttp()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory, everything_http: EverythingHttp) -> Path:
    return write_config(
        tmp_path_factory.mktemp("gateway") / "gateway.toml",
        {
            "ev": f"command = {toml_list(stdio_everything())}",
            "evhttp": f'url = "{everything_http.url}"\nheaders = {{ X-Test-Token = "t0ken" }}',
            "sdk": f"command = {toml_list(sdk_upstream())}\n{SDK_ENV}",
        },
    )


@pytest.fixture(scope="module")
def gateway(config: Path) -> Iterator[GatewayServer]:
    server = GatewayServer(config, "--tool-search")
    yield server
    server.stop()


def front(url: str, **options: Any) -> Client:
    """Our Client in front of the gateway, answering sampling, elicitation and roots."""
    return Client(
        url,
        sampling_handler=sampled,
        elicitation_handler=lambda params: ELICITED,
        roots=ROOTS,
        **options,
    )


def direct(target: str | list[str]) -> Client:
    """Our Client on an upstream itself, with the capabilities the gateway declares to it."""
    return Client(
        target,
        sampling_handler=sampled,
        elicitation_handler=lambda p: ELICITED,
        roots=ROOTS,
        accept_tasks=False,
    )


def texts(result: t.CallToolResult) -> list[str]:
    return [block.text for block in result.content if isinstance(block, t.TextContent)]


# Arguments for every tool of server-everything 2026.8.31 (17 tools once the client declares sampling,
# elicitation and roots; simulate-research-query requires a task, which the gateway runs for the caller).
DATA_URI = "data:text/plain;base64," + base64.b64encode(b"hello gateway").decode()
EVERYTHING_CALLS: dict[str, dict[str, Any]] = {
    "echo": {"message": "hi"},
    "get-annotated-message": {"messageType": "success", "includeImage": True},
    "get-env": {},
    "get-resource-links": {"count": 2},
    "get-resource-reference": {"resourceType": "Text", "resourceId": 1},
    "get-structured-content": {"location": "Chicago"},
    "get-sum": {"a": 2, "b": 3},
    "get-tiny-image": {},
    "gzip-file-as-resource": {"name": "g.gz", "data": DATA_URI, "outputType": "resource"},
    "toggle-simulated-logging": {},
    "toggle-subscriber-updates": {},
    "trigger-long-running-operation": {"duration": 0.2, "steps": 2},
    "get-roots-list": {},
    "trigger-elicitation-request": {},
    "trigger-url-elicitation": {"url": "https://example.com/consent"},
    "trigger-sampling-request": {"prompt": "hello"},
    "simulate-research-query": {"topic": "gateways"},
}
ASKING = ("sampling", "elicitation", "roots", "ask_")  # tools that send the client a request
SDK_CALLS: dict[str, dict[str, Any]] = {
    "add": {"a": 2, "b": 40},
    "count": {"steps": 2},
    "ask_llm": {"question": "?"},
    "ask_user": {},
    "roots": {},
    "sleep": {"seconds": 0.01},
    "cancelled": {},
    "grow": {},
    "touch": {"uri": "sdk://greeting"},
}


async def test_every_upstream_tool_is_listed_and_forwarded(
    gateway: GatewayServer, everything_http: EverythingHttp
) -> None:
    upstream_names: dict[str, set[str]] = {}
    for prefix, target in (
        ("ev", stdio_everything()),
        ("evhttp", everything_http.url),
        ("sdk", sdk_upstream()),
    ):
        async with direct(target) as client:
            await asyncio.sleep(0.3)  # server-everything registers its conditional tools after initialize
            upstream_names[prefix] = {tool.name for tool in await client.list_tools()}
    assert upstream_names["ev"] == set(EVERYTHING_CALLS) == upstream_names["evhttp"]
    assert set(SDK_CALLS) <= upstream_names["sdk"]
    async with front(gateway.url) as client:
        listed = {tool.name for tool in await client.list_tools()}
        expected = {f"{p}_{name}" for p, names in upstream_names.items() for name in names}
        assert expected <= listed
        extra = {name for name in listed - expected if not name.startswith("sdk_grown_")}
        assert extra <= {"search_tools", "search_resources", "search_prompts"}
        calls = [(f"{p}_{name}", args) for p in ("ev", "evhttp") for name, args in EVERYTHING_CALLS.items()]
        calls += [(f"sdk_{name}", args) for name, args in SDK_CALLS.items()]
        # Concurrently, but one at a time for the tools that ask the client something: over stdio the
        # gateway relays such a request only while the calls in flight on that upstream serve one session,
        # and every test of this module shares these upstreams (README).
        asking = {name for name, _ in calls if any(word in name for word in ASKING)}
        results_by_name = dict(
            zip(
                [name for name, _ in calls if name not in asking],
                await asyncio.gather(*(client.call_tool(n, a) for n, a in calls if n not in asking)),
                strict=True,
            )
        )
        for name, args in calls:
            if name in asking:
                results_by_name[name] = await client.call_tool(name, args)
        results = [results_by_name[name] for name, _ in calls]
    for (name, _), result in zip(calls, results, strict=True):
        assert not result.is_error, (name, result)
        assert result.content or result.structured_content is not None, name
    by_name = dict(zip([name for name, _ in calls], results, strict=True))
    assert texts(by_name["ev_echo"]) == ["Echo: hi"]
    assert by_name["evhttp_get-structured-content"].structured_content == (
        by_name["ev_get-structured-content"].structured_content
    )
    assert "5" in texts(by_name["ev_get-sum"])[0]
    assert texts(by_name["sdk_add"]) == ["42"]
    assert any("gateways" in text for text in texts(by_name["ev_simulate-research-query"]))  # ran as a task


async def test_forwarded_results_match_the_upstream_called_directly(gateway: GatewayServer) -> None:
    deterministic = ["echo", "get-sum", "get-structured-content", "get-tiny-image", "get-annotated-message"]
    async with direct(stdio_everything()) as upstream, front(gateway.url) as client:
        for name in deterministic:
            mine = await upstream.call_tool(name, EVERYTHING_CALLS[name])
            theirs = await client.call_tool(f"ev_{name}", EVERYTHING_CALLS[name])
            assert theirs == mine, name


@pytest.mark.parametrize("prefix", ["ev", "evhttp", "sdk"])
async def test_sampling_and_elicitation_reach_the_downstream_client(
    gateway: GatewayServer, prefix: str
) -> None:
    asked: list[tuple[str, Any]] = []

    def sampling(params: t.CreateMessageRequestParams) -> dict[str, Any]:
        asked.append(("sampling", params.messages[0].content))
        return sampled(params)

    def elicitation(params: dict[str, Any]) -> dict[str, Any]:
        asked.append(("elicitation", params.get("message")))
        return ELICITED if prefix == "sdk" else {"action": "decline"}

    async with Client(gateway.url, sampling_handler=sampling, elicitation_handler=elicitation) as client:
        if prefix == "sdk":
            sample = await client.call_tool("sdk_ask_llm", {"question": "what?"})
            elicit = await client.call_tool("sdk_ask_user", {})
            assert texts(elicit) == ["hello Ada"]
        else:
            sample = await client.call_tool(f"{prefix}_trigger-sampling-request", {"prompt": "relay me"})
            elicit = await client.call_tool(f"{prefix}_trigger-elicitation-request", {})
            assert "decline" in " ".join(texts(elicit)).lower()
    assert "sampled-by-downstream" in texts(sample)[0]
    assert [kind for kind, _ in asked] == ["sampling", "elicitation"]


async def test_a_client_without_sampling_gets_the_upstreams_refusal_not_a_hang(
    gateway: GatewayServer,
) -> None:
    from runtime.protocol.jsonrpc import McpError

    async with Client(gateway.url) as client:  # declares neither sampling nor elicitation
        # The SDK server turns the refusal its request got into a JSON-RPC error of the call.
        with pytest.raises(McpError, match="did not declare the 'sampling' capability"):
            await client.call_tool("sdk_ask_llm", {"question": "?"})
        # server-everything turns it into an isError result.
        result = await client.call_tool("ev_trigger-sampling-request", {"prompt": "?"})
    assert result.is_error
    assert "sampling" in " ".join(texts(result))


async def test_roots_asked_during_a_call_come_from_the_downstream_client(gateway: GatewayServer) -> None:
    async with front(gateway.url) as client:
        assert (await client.call_tool("sdk_roots", {})).structured_content == {
            "result": ["file:///work/project"]
        }
    from runtime.protocol.jsonrpc import McpError

    async with Client(gateway.url) as client:  # no roots capability: the upstream's request is refused
        with pytest.raises(McpError, match="did not declare the 'roots' capability"):
            await client.call_tool("sdk_roots", {})


@pytest.mark.parametrize("prefix", ["ev", "evhttp"])
async def test_progress_is_relayed(gateway: GatewayServer, prefix: str) -> None:
    seen: list[tuple[float, float | None]] = []
    async with front(gateway.url) as client:
        result = await client.call_tool(
            f"{prefix}_trigger-long-running-operation",
            {"duration": 0.3, "steps": 3},
            progress=lambda value, total, message: seen.append((value, total)),
        )
    assert not result.is_error
    assert seen == [(1, 3), (2, 3), (3, 3)]


async def test_progress_and_logs_of_the_sdk_server(gateway: GatewayServer) -> None:
    progress: list[tuple[float, str | None]] = []
    logs: list[t.LoggingMessageNotificationParams] = []
    async with front(gateway.url, on_log=logs.append) as client:
        await client.set_log_level("info")
        result = await client.call_tool(
            "sdk_count",
            {"steps": 3},
            progress=lambda value, total, message: progress.append((value, message)),
        )
    assert texts(result) == ["counted to 3"]
    assert progress == [(1, "step 1"), (2, "step 2"), (3, "step 3")]
    mine = [(log.logger, log.data) for log in logs if log.logger == "sdk"]
    assert mine == [("sdk", "counted 1"), ("sdk", "counted 2"), ("sdk", "counted 3")]


async def test_a_cancelled_call_is_cancelled_upstream(gateway: GatewayServer) -> None:
    async with front(gateway.url) as client:
        before = (await client.call_tool("sdk_cancelled", {})).structured_content
        with pytest.raises(TimeoutError):
            await client.call_tool("sdk_sleep", {"seconds": 7.5}, timeout=0.5)
        for _ in range(50):
            after = (await client.call_tool("sdk_cancelled", {})).structured_content
            if after != before:
                break
            await asyncio.sleep(0.05)
    assert after is not None and 7.5 in after["result"]


async def test_resources_templates_and_prompts_are_namespaced(gateway: GatewayServer) -> None:
    async with direct(stdio_everything()) as upstream, front(gateway.url) as client:
        theirs = await upstream.list_resources()
        mine = await client.list_resources()
        for prefix in ("ev", "evhttp"):
            assert {f"{prefix}+{r.uri}" for r in theirs} <= {r.uri for r in mine}
        assert "sdk+sdk://greeting" in {r.uri for r in mine}
        templates = {tpl.uri_template for tpl in await client.list_resource_templates()}
        assert "ev+demo://resource/dynamic/text/{resourceId}" in templates
        static = next(r.uri for r in theirs if r.uri.startswith("demo://resource/static/"))
        read = await client.read_resource(f"evhttp+{static}")
        expected = await upstream.read_resource(static)
        assert [c["uri"] if isinstance(c, dict) else c.uri for c in read.contents] == [f"evhttp+{static}"]
        assert read.contents[0]["text"] == expected.contents[0]["text"]  # type: ignore[index]
        dynamic = await client.read_resource("ev+demo://resource/dynamic/text/7")
        assert dynamic.contents[0]["uri"] == "ev+demo://resource/dynamic/text/7"  # type: ignore[index]
        assert (await client.read_resource("sdk+sdk://greeting")).contents[0]["text"] == "hello from the SDK"  # type: ignore[index]
        prompts = {p.name for p in await client.list_prompts()}
        assert {"ev_simple-prompt", "evhttp_args-prompt", "sdk_review"} <= prompts
        prompt = await client.get_prompt("sdk_review", {"code": "x = 1"})
        assert prompt.messages[0].content.text == "Please review: x = 1"  # type: ignore[union-attr]
        completion = await client.complete(
            {"type": "ref/prompt", "name": "ev_completable-prompt"}, "department", "E"
        )
        direct_completion = await upstream.complete(
            {"type": "ref/prompt", "name": "completable-prompt"}, "department", "E"
        )
        assert completion.completion.values == direct_completion.completion.values != []
        # A resource link in a tool result names the resource through the gateway, and it reads.
        links = await client.call_tool("ev_get-resource-links", {"count": 1})
        link = next(b for b in links.content if isinstance(b, t.ResourceLink))
        assert link.uri.startswith("ev+demo://")
        assert (await client.read_resource(link.uri)).contents


async def test_unknown_names_get_spec_shaped_errors(gateway: GatewayServer) -> None:
    from runtime.protocol.jsonrpc import McpError

    async with front(gateway.url) as client:
        with pytest.raises(McpError) as unknown_tool:
            await client.call_tool("nosuch_echo", {})
        assert unknown_tool.value.code == -32602
        with pytest.raises(McpError) as unknown_resource:
            await client.read_resource("nosuch+demo://x")
        assert unknown_resource.value.code == -32002
        with pytest.raises(McpError) as unknown_prompt:
            await client.get_prompt("ev_nosuch")
        assert unknown_prompt.value.code == -32602
        # The upstream's own refusal of bad arguments comes back as the upstream said it.
        bad = await client.call_tool("ev_get-sum", {"a": "two"})
        assert bad.is_error


async def test_list_changed_upstream_reaches_the_downstream_client(gateway: GatewayServer) -> None:
    heard: list[str] = []
    async with front(gateway.url, on_notification=lambda method, params: heard.append(method)) as client:
        await client.list_tools()
        grown = texts(await client.call_tool("sdk_grow", {}))[0]
        for _ in range(100):
            if "notifications/tools/list_changed" in heard:
                break
            await asyncio.sleep(0.05)
        assert "notifications/tools/list_changed" in heard
        assert f"sdk_{grown}" in {tool.name for tool in await client.list_tools()}
        assert texts(await client.call_tool(f"sdk_{grown}", {})) == [grown]


async def test_tool_search_over_the_union(gateway: GatewayServer) -> None:
    async with front(gateway.url) as client:
        result = await client.call_tool("search_tools", {"query": "add two integers together", "limit": 5})
    assert result.structured_content is not None
    found = [tool["name"] for tool in result.structured_content["tools"]]
    assert {"sdk_add", "ev_get-sum", "evhttp_get-sum"} & set(found[:3]), found


async def test_the_official_sdk_client_in_front(gateway: GatewayServer) -> None:
    from mcp import ClientSession, types
    from mcp.client.streamable_http import streamable_http_client

    async def sampling(context: Any, params: types.CreateMessageRequestParams) -> types.CreateMessageResult:
        return types.CreateMessageResult(
            role="assistant", content=types.TextContent(type="text", text="sdk-sampled"), model="m"
        )

    async with (
        streamable_http_client(gateway.url) as (read, write, *_),
        ClientSession(read, write, sampling_callback=sampling) as session,
    ):
        await session.initialize()
        tools = {tool.name for tool in (await session.list_tools()).tools}
        assert {"ev_echo", "evhttp_echo", "sdk_add"} <= tools
        echo = await session.call_tool("evhttp_echo", {"message": "from the SDK"})
        assert echo.content[0].text == "Echo: from the SDK"  # type: ignore[union-attr]
        sample = await session.call_tool("ev_trigger-sampling-request", {"prompt": "x"})
        assert "sdk-sampled" in sample.content[0].text  # type: ignore[union-attr]
        read = await session.read_resource("sdk+sdk://greeting")
        assert read.contents[0].text == "hello from the SDK"  # type: ignore[union-attr]


async def test_the_gateway_over_stdio(config: Path) -> None:
    import sys

    async with front([sys.executable, "-m", "runtime", "gateway", str(config), "--stdio"]) as client:
        assert texts(await client.call_tool("ev_echo", {"message": "stdio"})) == ["Echo: stdio"]
        assert texts(await client.call_tool("sdk_ask_llm", {"question": "?"})) == ["sampled-by-downstream"]


def samplers_meeting(count: int) -> Callable[[str], SamplingHandler]:
    """Makes sampling handlers that answer `text` only once `count` sampling requests (to any of them) are
    outstanding at once: proof that the gateway relays them concurrently."""
    gate = asyncio.Event()
    arrived = 0

    def answering(text: str) -> SamplingHandler:
        async def sampling(params: t.CreateMessageRequestParams) -> dict[str, Any]:
            nonlocal arrived
            arrived += 1
            if arrived == count:
                gate.set()
            await asyncio.wait_for(gate.wait(), 10)
            return {"role": "assistant", "content": {"type": "text", "text": text}, "model": "m"}

        return sampling

    return answering


async def test_concurrent_sampling_over_http_goes_to_each_callers_own_client(gateway: GatewayServer) -> None:
    """Over HTTP the upstream's request arrives on the forwarded POST's own stream: with calls of two clients
    in flight on one upstream connection at once, each sampling request reaches the client whose call it
    serves, never the other."""
    answering = samplers_meeting(2)
    async with (
        Client(gateway.url, sampling_handler=answering("answer-a")) as first,
        Client(gateway.url, sampling_handler=answering("answer-b")) as second,
    ):
        one, two = await asyncio.gather(
            first.call_tool("evhttp_trigger-sampling-request", {"prompt": "a"}),
            second.call_tool("evhttp_trigger-sampling-request", {"prompt": "b"}),
        )
    assert "answer-a" in texts(one)[0] and "answer-b" not in texts(one)[0]
    assert "answer-b" in texts(two)[0] and "answer-a" not in texts(two)[0]


async def test_concurrent_sampling_of_one_session_over_stdio_is_relayed(gateway: GatewayServer) -> None:
    """Over stdio nothing on the wire says which call an upstream's request serves, but calls of one
    downstream session share its client: with two of them in flight at once, both sampling requests reach it."""
    async with Client(gateway.url, sampling_handler=samplers_meeting(2)("answer")) as client:
        one, two = await asyncio.gather(
            client.call_tool("ev_trigger-sampling-request", {"prompt": "a"}),
            client.call_tool("ev_trigger-sampling-request", {"prompt": "b"}),
        )
    assert not one.is_error and not two.is_error
    assert "answer" in texts(one)[0] and "answer" in texts(two)[0]


async def test_a_subscription_is_forwarded_and_its_updates_come_back_prefixed(gateway: GatewayServer) -> None:
    updates: list[Any] = []

    def heard(method: str, params: Any) -> None:
        if method == "notifications/resources/updated":
            updates.append(params["uri"])

    logs: list[t.LoggingMessageNotificationParams] = []
    async with front(gateway.url, on_notification=heard, on_log=logs.append) as client:
        await client.set_log_level("info")
        # The SDK server offers no resources/subscribe: the gateway records it and passes its updates on.
        await client.subscribe("sdk+sdk://greeting")
        await client.call_tool("sdk_touch", {"uri": "sdk://greeting"})
        for _ in range(100):
            if updates:
                break
            await asyncio.sleep(0.05)
        # server-everything does: the subscription goes upstream with its own URI (it logs what it got).
        await client.subscribe("ev+demo://resource/static/document/features.md")
    assert updates == ["sdk+sdk://greeting"]
    received = [str(log.data) for log in logs if log.logger == "ev"]
    assert any(
        "Received Subscribe Resource request for URI: demo://resource/static/document/features.md" in d
        for d in received
    ), received
