"""The Client's 2026-07-28 rules, in process: a scripted peer under a `ClientTransport` (the allowed fake: a
transport under the protocol object) answers server/discover and tools/call as a given kind of server would,
and the pure helpers of runtime/client/modern.py against the transport page's own tables."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest

from runtime import Client
from runtime.client import modern
from runtime.protocol import jsonrpc as rpc

Reply = Callable[[dict[str, Any]], dict[str, Any] | None]  # a request -> its result or error body, or silence


class ScriptedPeer:
    """Answers each request with `reply(request)`: {"result": ...} or {"error": ...}; None stays silent."""

    def __init__(self, reply: Reply) -> None:
        self.reply = reply
        self.sent: list[dict[str, Any]] = []
        self._deliver: Callable[[bytes], None] = lambda data: None

    async def start(
        self, on_message: Callable[[bytes], None], on_close: Callable[[BaseException | None], None]
    ) -> None:
        self._deliver = on_message

    async def send(self, data: bytes) -> None:
        message = json.loads(data)
        self.sent.append(message)
        if "id" not in message:
            return
        answer = self.reply(message)
        if answer is not None:
            body = json.dumps({"jsonrpc": "2.0", "id": message["id"], **answer}).encode()
            asyncio.get_running_loop().call_soon(self._deliver, body)

    async def close(self) -> None:
        pass

    def methods(self) -> list[str]:
        return [message["method"] for message in self.sent]


INIT_RESULT = {
    "protocolVersion": "2025-11-25",
    "capabilities": {"tools": {}},
    "serverInfo": {"name": "legacy", "version": "1"},
}
DISCOVER = {
    "resultType": "complete",
    "supportedVersions": ["2026-07-28"],
    "capabilities": {"tools": {}},
    "_meta": {"io.modelcontextprotocol/serverInfo": {"name": "modern", "version": "2"}},
}


def legacy_server(refusal: dict[str, Any] | None) -> Reply:
    """A legacy server: `refusal` (or silence) for anything before initialize."""

    def reply(request: dict[str, Any]) -> dict[str, Any] | None:
        if request["method"] == "initialize":
            return {"result": INIT_RESULT}
        if request["method"] == "tools/list":
            return {"result": {"tools": []}}
        return refusal

    return reply


@pytest.mark.parametrize(
    "refusal",
    [
        {"error": {"code": -32601, "message": "Method not found"}},
        {"error": {"code": -32602, "message": "Server not initialized"}},
        {"error": {"code": -32600, "message": "Bad request"}},
    ],
)
async def test_a_non_modern_error_to_the_probe_means_legacy(refusal: dict[str, Any]) -> None:
    peer = ScriptedPeer(legacy_server(refusal))
    async with Client(peer, protocol_version="2026-07-28") as client:
        assert client.modern_version is None and client.protocol_version == "2025-11-25"
        await client.list_tools()
    assert peer.methods()[:3] == ["server/discover", "initialize", "notifications/initialized"]
    assert "_meta" not in (peer.sent[-1].get("params") or {})  # legacy requests carry no envelope


async def test_a_silent_server_is_legacy_after_the_probe_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("runtime.client.client.PROBE_SECONDS", 0.2)
    peer = ScriptedPeer(legacy_server(None))
    async with Client(peer, protocol_version="2026-07-28") as client:
        assert client.modern_version is None
    assert "notifications/cancelled" not in peer.methods()  # the unanswered probe is not cancelled


async def test_unsupported_version_listing_only_legacy_falls_back_to_that_version() -> None:
    def reply(request: dict[str, Any]) -> dict[str, Any] | None:
        if request["method"] == "initialize":
            return {"result": {**INIT_RESULT, "protocolVersion": request["params"]["protocolVersion"]}}
        data = {"supported": ["2025-06-18"], "requested": "2026-07-28"}
        return {"error": {"code": -32022, "message": "Unsupported protocol version", "data": data}}

    peer = ScriptedPeer(reply)
    async with Client(peer, protocol_version="2026-07-28") as client:
        assert client.protocol_version == "2025-06-18"
    assert peer.sent[1]["params"]["protocolVersion"] == "2025-06-18"


async def test_unsupported_version_with_nothing_in_common_is_an_error() -> None:
    data = {"supported": ["2030-01-01"], "requested": "2026-07-28"}
    peer = ScriptedPeer(lambda request: {"error": {"code": -32022, "message": "no", "data": data}})
    with pytest.raises(rpc.McpError) as failed:
        async with Client(peer, protocol_version="2026-07-28"):
            pass
    assert failed.value.code == rpc.UNSUPPORTED_PROTOCOL_VERSION
    assert peer.methods() == ["server/discover"]  # nothing to retry with


async def test_a_refusal_of_a_listed_version_is_retried_once() -> None:
    answers = iter(
        [
            {"error": {"code": -32022, "message": "no", "data": {"supported": ["2026-07-28"]}}},
            {"result": DISCOVER},
        ]
    )
    peer = ScriptedPeer(lambda request: next(answers))
    async with Client(peer, protocol_version="2026-07-28") as client:
        assert client.modern_version == "2026-07-28"
        assert client.server_info is not None and client.server_info.name == "modern"
    assert [message["id"] for message in peer.sent] == [1, 2]


async def test_input_rounds_echo_the_state_exactly_and_omit_it_when_absent() -> None:
    rounds: list[dict[str, Any]] = []

    def reply(request: dict[str, Any]) -> dict[str, Any] | None:
        if request["method"] == "server/discover":
            return {"result": DISCOVER}
        rounds.append(request)
        if len(rounds) == 1:
            ask = {"method": "elicitation/create", "params": {"message": "name?", "requestedSchema": {}}}
            return {
                "result": {"resultType": "input_required", "inputRequests": {"q": ask}, "requestState": "s1"}
            }
        if len(rounds) == 2:
            return {
                "result": {"resultType": "input_required", "inputRequests": {"r": {"method": "roots/list"}}}
            }
        return {"result": {"content": [{"type": "text", "text": "done"}]}}  # no resultType: complete

    async def elicit(params: dict[str, Any]) -> dict[str, Any]:
        return {"action": "accept", "content": {"name": "Ada"}}

    peer = ScriptedPeer(reply)
    async with Client(peer, protocol_version="2026-07-28", elicitation_handler=elicit, roots=[]) as client:
        result = await client.call_tool("t", {})
    assert result.content[0].text == "done"  # type: ignore[union-attr]
    first, second, third = (request["params"] for request in rounds)
    assert "requestState" not in first and "inputResponses" not in first
    assert second["requestState"] == "s1"
    assert second["inputResponses"] == {"q": {"action": "accept", "content": {"name": "Ada"}}}
    assert "requestState" not in third and third["inputResponses"] == {"r": {"roots": []}}
    assert len({request["id"] for request in rounds}) == 3  # each round is a new request


async def test_a_server_that_never_stops_asking_is_given_up_on() -> None:
    def reply(request: dict[str, Any]) -> dict[str, Any]:
        if request["method"] == "server/discover":
            return {"result": DISCOVER}
        return {"result": {"resultType": "input_required", "requestState": "again"}}

    peer = ScriptedPeer(reply)
    async with Client(peer, protocol_version="2026-07-28") as client:
        with pytest.raises(rpc.McpError, match="asked for input"):
            await client.call_tool("t", {})


async def test_input_for_an_undeclared_capability_is_refused_locally() -> None:
    def reply(request: dict[str, Any]) -> dict[str, Any]:
        if request["method"] == "server/discover":
            return {"result": DISCOVER}
        ask = {"method": "sampling/createMessage", "params": {"messages": [], "maxTokens": 1}}
        return {"result": {"resultType": "input_required", "inputRequests": {"s": ask}}}

    peer = ScriptedPeer(reply)
    async with Client(peer, protocol_version="2026-07-28") as client:
        with pytest.raises(rpc.McpError, match="does not offer"):
            await client.call_tool("t", {})


async def test_every_modern_request_carries_the_envelope() -> None:
    def reply(request: dict[str, Any]) -> dict[str, Any]:
        return {"result": DISCOVER if request["method"] == "server/discover" else {"tools": []}}

    peer = ScriptedPeer(reply)
    async with Client(peer, protocol_version="2026-07-28", roots=[]) as client:
        await client.set_log_level("debug")
        await client.list_tools()
    meta = peer.sent[-1]["params"]["_meta"]
    assert meta["io.modelcontextprotocol/protocolVersion"] == "2026-07-28"
    assert meta["io.modelcontextprotocol/clientInfo"]["name"] == "mcprt-client"
    assert meta["io.modelcontextprotocol/clientCapabilities"]["roots"] == {}  # no listChanged in 2026
    assert meta["io.modelcontextprotocol/logLevel"] == "debug"
    assert "logging/setLevel" not in peer.methods()


@pytest.mark.parametrize(
    ("value", "header"),
    [  # streamable-http.mdx "Encoding examples"
        ("us-west1", "us-west1"),
        ("Hello, 世界", "=?base64?SGVsbG8sIOS4lueVjA==?="),
        (" padded ", "=?base64?IHBhZGRlZCA=?="),
        ("line1\nline2", "=?base64?bGluZTEKbGluZTI=?="),
        ("=?base64?literal?=", "=?base64?PT9iYXNlNjQ/bGl0ZXJhbD89?="),
        ("us west 1", "us west 1"),
        ("", ""),
    ],
)
def test_header_values_are_encoded_as_the_page_shows(value: str, header: str) -> None:
    assert modern.header_value(value) == header


@pytest.mark.parametrize(
    "prop",
    [
        {"type": "string", "x-mcp-header": ""},
        {"type": "string", "x-mcp-header": "My Region"},
        {"type": "string", "x-mcp-header": "Région"},
        {"type": "number", "x-mcp-header": "Score"},
        {"type": "object", "x-mcp-header": "Data"},
        {"type": "array", "items": {"type": "string"}, "x-mcp-header": "Items"},
        {"type": "array", "items": {"type": "string", "x-mcp-header": "Item"}},
        {"anyOf": [{"type": "string", "x-mcp-header": "Either"}]},
    ],
)
def test_a_broken_mark_excludes_the_tool(prop: dict[str, Any]) -> None:
    assert modern.header_marks({"type": "object", "properties": {"p": prop}}) is None


def test_marks_through_properties_are_kept_and_mirrored() -> None:
    schema = {
        "type": "object",
        "properties": {
            "region": {"type": "string", "x-mcp-header": "Region"},
            "opts": {"type": "object", "properties": {"fast": {"type": "boolean", "x-mcp-header": "Fast"}}},
            "n": {"type": "integer", "x-mcp-header": "N", "default": {"x-mcp-header": "not a schema"}},
        },
    }
    marks = modern.header_marks(schema)
    assert marks == [("Region", ("region",)), ("Fast", ("opts", "fast")), ("N", ("n",))]
    headers = modern.param_headers(marks, {"region": "eu", "opts": {"fast": False}, "n": None})
    assert headers == {"Mcp-Param-Region": "eu", "Mcp-Param-Fast": "false"}  # null is omitted
    twice = {
        "type": "object",
        "properties": {
            "a": schema["properties"]["region"],
            "b": {**schema["properties"]["region"], "x-mcp-header": "region"},
        },
    }
    assert modern.header_marks(twice) is None  # unique case-insensitively


def test_standard_headers_name_what_the_request_names() -> None:
    assert modern.standard_headers("tools/list", {}) == {"Mcp-Method": "tools/list"}
    assert modern.standard_headers("resources/read", {"uri": "file:///ü"}) == {
        "Mcp-Method": "resources/read",
        "Mcp-Name": modern.header_value("file:///ü"),
    }
