"""MCP 2026-07-28 over Streamable HTTP, against a real `mcprt serve` of the everything example: the per-request
envelope, the mirrored headers, the modern results, multi round-trip requests with their sealed state,
subscriptions/listen, and the legacy era still served on the same endpoint."""

from __future__ import annotations

import base64
import http.client
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from runtime.protocol import jsonrpc as rpc
from runtime.protocol.versions import SUPPORTED_VERSIONS
from tests.cluster_support import ClusterServer
from tests.conftest import ROOT, RunningServer

MODERN = "2026-07-28"
META = {
    "io.modelcontextprotocol/protocolVersion": MODERN,
    "io.modelcontextprotocol/clientInfo": {"name": "modern-test", "version": "1"},
    "io.modelcontextprotocol/clientCapabilities": {"elicitation": {}, "sampling": {}, "roots": {}},
}
NAMED = {"tools/call": "name", "prompts/get": "name", "resources/read": "uri"}


@pytest.fixture(scope="module")
def server() -> Iterator[RunningServer]:
    running = RunningServer()
    yield running
    running.stop()


class Reply:
    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    def messages(self) -> list[dict[str, Any]]:
        """The JSON body, or every data line of an SSE body, in order."""
        if self.headers.get("content-type", "").startswith("text/event-stream"):
            lines = self.body.decode().splitlines()
            return [json.loads(line[5:]) for line in lines if line.startswith("data:") and line[5:].strip()]
        return [json.loads(self.body)] if self.body else []

    @property
    def json(self) -> dict[str, Any]:
        return self.messages()[-1]


def post(
    port: int,
    method: str,
    params: dict[str, Any] | None = None,
    *,
    request_id: int = 1,
    headers: dict[str, str] | None = None,
    meta: dict[str, Any] | None = None,
    raw: bytes | None = None,
) -> Reply:
    """A modern POST with the headers a conforming client sends, overridable one by one (None drops one)."""
    params = {**(params or {})}
    if meta is not None or "_meta" not in params:
        params["_meta"] = META if meta is None else meta
    if not params["_meta"]:
        del params["_meta"]
    body = (
        raw or json.dumps({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}).encode()
    )
    sent = {
        "Content-Type": "application/json",
        "Accept": "application/json, text/event-stream",
        "MCP-Protocol-Version": MODERN,
        "Mcp-Method": method,
    }
    if method in NAMED:
        sent["Mcp-Name"] = str(params.get(NAMED[method]))
    for name, value in (headers or {}).items():
        if value is None:
            sent.pop(name, None)
        else:
            sent[name] = value
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("POST", "/mcp", body, {k: v for k, v in sent.items() if v is not None})
        response = conn.getresponse()
        return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
    finally:
        conn.close()


def call(port: int, name: str, arguments: dict[str, Any] | None = None, **extra: Any) -> Reply:
    return post(port, "tools/call", {"name": name, "arguments": arguments or {}, **extra})


# -- discovery and the envelope ------------------------------------------------------------------------------


def test_discover_names_both_eras_and_the_server(server: RunningServer) -> None:
    reply = post(server.port, "server/discover")
    assert reply.status == 200
    result = reply.json["result"]
    assert result["resultType"] == "complete"
    assert result["supportedVersions"] == list(SUPPORTED_VERSIONS) and MODERN in result["supportedVersions"]
    assert "tools" in result["capabilities"] and "tasks" not in result["capabilities"]
    assert result["_meta"]["io.modelcontextprotocol/serverInfo"]["name"] == "mcprt-demo"
    assert result["instructions"].startswith("A demo server")
    assert result["ttlMs"] == 0 and result["cacheScope"] == "public"


@pytest.mark.parametrize(
    "meta",
    [
        {},
        {"io.modelcontextprotocol/clientCapabilities": {}},
        {"io.modelcontextprotocol/protocolVersion": MODERN},
        {**META, "io.modelcontextprotocol/clientCapabilities": "all"},
        {**META, "io.modelcontextprotocol/logLevel": "loud"},
    ],
)
def test_a_request_without_the_required_meta_is_400_invalid_params(
    server: RunningServer, meta: dict[str, Any]
) -> None:
    reply = post(server.port, "tools/list", meta=meta, request_id=7)
    assert reply.status == 400
    assert reply.json["id"] == 7 and reply.json["error"]["code"] == rpc.INVALID_PARAMS


def test_client_info_is_optional(server: RunningServer) -> None:
    meta = {k: v for k, v in META.items() if k != "io.modelcontextprotocol/clientInfo"}
    reply = post(server.port, "tools/list", meta=meta)
    assert reply.status == 200 and reply.json["result"]["tools"]


def test_an_unsupported_version_names_the_supported_ones(server: RunningServer) -> None:
    meta = {**META, "io.modelcontextprotocol/protocolVersion": "1900-01-01"}
    reply = post(
        server.port,
        "server/discover",
        meta=meta,
        headers={"MCP-Protocol-Version": "1900-01-01"},
        request_id=3,
    )
    assert reply.status == 400
    assert reply.json["id"] == 3
    error = reply.json["error"]
    assert error["code"] == rpc.UNSUPPORTED_PROTOCOL_VERSION
    assert error["data"] == {"supported": list(SUPPORTED_VERSIONS), "requested": "1900-01-01"}


def test_a_body_version_other_than_the_header_is_a_header_mismatch(server: RunningServer) -> None:
    meta = {**META, "io.modelcontextprotocol/protocolVersion": "2025-11-25"}
    reply = post(server.port, "server/discover", meta=meta)
    assert reply.status == 400 and reply.json["error"]["code"] == rpc.HEADER_MISMATCH


@pytest.mark.parametrize(
    "method",
    [
        "initialize",
        "ping",
        "logging/setLevel",
        "resources/subscribe",
        "tasks/result",
        "tasks/list",
        "no/such",
    ],
)
def test_methods_the_revision_lacks_are_404_method_not_found(server: RunningServer, method: str) -> None:
    reply = post(server.port, method, request_id=11)
    assert reply.status == 404
    assert reply.json["id"] == 11 and reply.json["error"]["code"] == rpc.METHOD_NOT_FOUND


@pytest.mark.parametrize("verb", ["GET", "DELETE"])
def test_get_and_delete_are_405(server: RunningServer, verb: str) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request(verb, "/mcp", headers={"MCP-Protocol-Version": MODERN, "Accept": "text/event-stream"})
    response = conn.getresponse()
    assert response.status == 405 and response.getheader("allow") == "POST"
    conn.close()


# -- the headers that mirror the body ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {"Mcp-Method": None},
        {"Mcp-Method": "tools/list"},
        {"Mcp-Method": "TOOLS/CALL"},
        {"Mcp-Name": None},
        {"Mcp-Name": "test_other"},
        {"Mcp-Name": "=?base64?not base64?="},
    ],
)
def test_standard_headers_must_match_the_body(server: RunningServer, headers: dict[str, str | None]) -> None:
    reply = post(server.port, "tools/call", {"name": "test_simple_text", "arguments": {}}, headers=headers)  # type: ignore[arg-type]
    assert reply.status == 400 and reply.json["error"]["code"] == rpc.HEADER_MISMATCH


def test_header_values_are_trimmed_and_names_case_insensitive(server: RunningServer) -> None:
    encoded = "=?base64?" + base64.b64encode(b"test_simple_text").decode() + "?="
    headers = {"Mcp-Method": None, "mcp-method": "  tools/call ", "Mcp-Name": encoded}
    reply = post(server.port, "tools/call", {"name": "test_simple_text", "arguments": {}}, headers=headers)  # type: ignore[arg-type]
    assert reply.status == 200 and not reply.json["result"].get("isError")


def custom(port: int, header: str | None, region: str = "eu-west") -> Reply:
    arguments = {"region": region, "query": "select 1"}
    extra = {"Mcp-Param-Region": header} if header is not None else {}
    return post(port, "tools/call", {"name": "test_custom_header", "arguments": arguments}, headers=extra)


def test_x_mcp_header_parameters_are_checked_against_the_body(server: RunningServer) -> None:
    assert custom(server.port, "eu-west").status == 200
    assert custom(server.port, "=?base64?" + base64.b64encode(b"eu-west").decode() + "?=").status == 200
    hello = "Hello, 世界"
    assert (
        custom(server.port, "=?base64?" + base64.b64encode(hello.encode()).decode() + "?=", hello).status
        == 200
    )
    for wrong in (None, "us-east", "=?base64?ZXUtd2VzdA?=", "=?base64?***?="):  # absent, other, bad padding
        reply = custom(server.port, wrong)
        assert reply.status == 400 and reply.json["error"]["code"] == rpc.HEADER_MISMATCH, wrong


# -- results ---------------------------------------------------------------------------------------------------


def test_every_result_has_its_type_and_the_server_identity(server: RunningServer) -> None:
    result = call(server.port, "test_simple_text").json["result"]
    assert result["resultType"] == "complete" and result["content"][0]["type"] == "text"
    assert result["_meta"]["io.modelcontextprotocol/serverInfo"]["name"] == "mcprt-demo"
    assert "ttlMs" not in result  # a tool result is not cacheable
    for method in ("tools/list", "prompts/list", "resources/list", "resources/templates/list"):
        listed = post(server.port, method).json["result"]
        assert (
            listed["resultType"] == "complete" and listed["ttlMs"] == 0 and listed["cacheScope"] == "public"
        )


def test_an_unknown_resource_is_invalid_params_with_its_uri(server: RunningServer) -> None:
    reply = post(server.port, "resources/read", {"uri": "test://nowhere"})
    error = reply.json["error"]
    assert error["code"] == rpc.INVALID_PARAMS and error["data"] == {"uri": "test://nowhere"}


def test_missing_client_capability_is_32021_with_what_is_missing(server: RunningServer) -> None:
    meta = {**META, "io.modelcontextprotocol/clientCapabilities": {}}
    reply = post(server.port, "tools/call", {"name": "test_missing_capability", "arguments": {}}, meta=meta)
    assert reply.status == 400
    error = reply.json["error"]
    assert error["code"] == rpc.MISSING_CLIENT_CAPABILITY
    assert error["data"] == {"requiredCapabilities": {"sampling": {}}}


def test_logs_go_only_to_a_request_that_names_a_level(server: RunningServer) -> None:
    quiet = call(server.port, "test_logging_tool")
    assert [m for m in quiet.messages() if m.get("method") == "notifications/message"] == []
    meta = {**META, "io.modelcontextprotocol/logLevel": "warning"}
    loud = post(server.port, "tools/call", {"name": "test_logging_tool", "arguments": {}}, meta=meta)
    levels = [m["params"]["level"] for m in loud.messages() if m.get("method") == "notifications/message"]
    assert levels == ["warning", "error"]
    assert loud.messages()[-1]["result"]["resultType"] == "complete"


# -- multi round-trip requests -------------------------------------------------------------------------------


def test_an_elicitation_is_an_input_request_then_a_retry(server: RunningServer) -> None:
    first = call(server.port, "test_input_required_result_elicitation").json["result"]
    assert first["resultType"] == "input_required"
    request = first["inputRequests"]["user_name"]
    assert request["method"] == "elicitation/create" and request["params"]["message"] == "What is your name?"
    answer = {"user_name": {"action": "accept", "content": {"name": "Ada"}}}
    done = call(
        server.port,
        "test_input_required_result_elicitation",
        inputResponses=answer,
        requestState=first["requestState"],
    ).json["result"]
    assert done["resultType"] == "complete" and done["content"][0]["text"] == "Hello, Ada!"


def test_the_answers_of_earlier_rounds_ride_in_the_state(server: RunningServer) -> None:
    name = "test_input_required_result_multi_round"
    first = call(server.port, name).json["result"]
    second = call(
        server.port,
        name,
        inputResponses={"step1": {"action": "accept", "content": {"name": "Ada"}}},
        requestState=first["requestState"],
    ).json["result"]
    assert second["resultType"] == "input_required" and list(second["inputRequests"]) == ["step2"]
    third = call(
        server.port,
        name,
        inputResponses={"step2": {"action": "accept", "content": {"color": "blue"}}},
        requestState=second["requestState"],
    ).json["result"]
    assert third["content"][0]["text"] == "Ada likes blue"


def test_requests_started_together_are_asked_for_together(server: RunningServer) -> None:
    first = call(server.port, "test_input_required_result_multiple_inputs").json["result"]
    assert set(first["inputRequests"]) == {"user_name", "greeting", "client_roots"}


def test_a_missing_answer_is_asked_for_again(server: RunningServer) -> None:
    again = call(
        server.port, "test_input_required_result_elicitation", inputResponses={"other": {"action": "decline"}}
    ).json["result"]
    assert again["resultType"] == "input_required" and "user_name" in again["inputRequests"]


@pytest.mark.parametrize("responses", ["text", {"user_name": "text"}, {"user_name": {"action": 5}}])
def test_malformed_answers_are_invalid_params(server: RunningServer, responses: Any) -> None:
    reply = call(server.port, "test_input_required_result_elicitation", inputResponses=responses)
    assert reply.json["error"]["code"] == rpc.INVALID_PARAMS


def test_a_state_is_refused_when_tampered_or_moved_to_another_request(server: RunningServer) -> None:
    state = call(server.port, "test_input_required_result_elicitation").json["result"]["requestState"]
    flipped = state[:-2] + ("A" if state[-2] != "A" else "B") + state[-1]
    answer = {"user_name": {"action": "accept", "content": {"name": "Ada"}}}
    for name, sealed in (
        ("test_input_required_result_elicitation", flipped),  # tampered
        ("test_input_required_result_tampered_state", state),  # another tool
        ("test_input_required_result_elicitation", "garbage"),
    ):
        reply = call(server.port, name, inputResponses=answer, requestState=sealed)
        assert reply.json["error"]["code"] == rpc.INVALID_PARAMS, name
    other_arguments = post(
        server.port,
        "tools/call",
        {
            "name": "test_input_required_result_elicitation",
            "arguments": {"extra": 1},
            "inputResponses": answer,
            "requestState": state,
        },
    )
    assert other_arguments.json["error"]["code"] == rpc.INVALID_PARAMS


def test_prompts_may_ask_for_input_too(server: RunningServer) -> None:
    name = "test_input_required_result_prompt"
    first = post(server.port, "prompts/get", {"name": name}).json["result"]
    assert first["resultType"] == "input_required" and "user_context" in first["inputRequests"]
    answer = {"user_context": {"action": "accept", "content": {"context": "tests"}}}
    done = post(
        server.port,
        "prompts/get",
        {"name": name, "inputResponses": answer, "requestState": first["requestState"]},
    ).json["result"]
    assert done["messages"][0]["content"]["text"] == "Use this context: tests"


def test_any_worker_opens_the_state_another_sealed() -> None:
    """The supervisor gives its workers one key: rounds on fresh connections (spread over the two workers
    by SO_REUSEPORT) all succeed."""
    cluster = ClusterServer(2)
    try:
        for _ in range(12):
            first = call(cluster.port, "test_input_required_result_elicitation").json["result"]
            done = call(
                cluster.port,
                "test_input_required_result_elicitation",
                inputResponses={"user_name": {"action": "accept", "content": {"name": "Ada"}}},
                requestState=first["requestState"],
            ).json
            assert done["result"]["content"][0]["text"] == "Hello, Ada!", done
    finally:
        cluster.stop()


# -- subscriptions/listen --------------------------------------------------------------------------------------


def listen(port: int, notifications: dict[str, Any], trigger: str, wanted: int) -> list[dict[str, Any]]:
    """Open a listen stream, trigger a change, and read `wanted` messages (or what came in 3 s)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=3)
    body = {
        "jsonrpc": "2.0",
        "id": 42,
        "method": "subscriptions/listen",
        "params": {"_meta": META, "notifications": notifications},
    }
    conn.request(
        "POST",
        "/mcp",
        json.dumps(body),
        {
            "Content-Type": "application/json",
            "Accept": "application/json, text/event-stream",
            "MCP-Protocol-Version": MODERN,
            "Mcp-Method": "subscriptions/listen",
        },
    )
    response = conn.getresponse()
    assert response.status == 200 and response.getheader("content-type") == "text/event-stream"
    messages: list[dict[str, Any]] = []
    try:
        while len(messages) < wanted:
            line = response.fp.readline()
            if line.startswith(b"data:"):
                messages.append(json.loads(line[5:]))
                if len(messages) == 1:
                    call(port, trigger)
    except TimeoutError:
        pass
    finally:
        conn.close()
    return messages


def test_listen_acknowledges_then_tags_what_was_asked_for(server: RunningServer) -> None:
    messages = listen(
        server.port, {"toolsListChanged": True, "promptsListChanged": False}, "test_trigger_tool_change", 2
    )
    ack, change = messages
    assert ack["method"] == "notifications/subscriptions/acknowledged"
    assert ack["params"]["notifications"] == {"toolsListChanged": True}
    assert ack["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"] == 42
    assert change["method"] == "notifications/tools/list_changed"
    assert change["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"] == 42


def test_listen_sends_nothing_it_was_not_asked_for(server: RunningServer) -> None:
    messages = listen(server.port, {"promptsListChanged": True}, "test_trigger_tool_change", 2)
    assert [m["method"] for m in messages] == ["notifications/subscriptions/acknowledged"]


def test_the_legacy_era_is_served_beside_it(server: RunningServer) -> None:
    from tests.cluster_support import start_session

    session = start_session(server.port)
    assert session["Mcp-Session-Id"]


# -- cancellation -----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cancels() -> Iterator[RunningServer]:
    running = RunningServer(app=str(ROOT / "tests" / "apps" / "cancels.py"))
    yield running
    running.stop()


def _hold_and_hang_up(port: int, stream: bool) -> None:
    meta = {**META, "io.modelcontextprotocol/logLevel": "info"}
    body = {
        "jsonrpc": "2.0",
        "id": 5,
        "method": "tools/call",
        "params": {"name": "hold", "arguments": {"stream": stream}, "_meta": meta},
    }
    headers = {
        "Content-Type": "application/json",
        "Accept": "application/json, text/event-stream",
        "MCP-Protocol-Version": MODERN,
        "Mcp-Method": "tools/call",
        "Mcp-Name": "hold",
    }
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("POST", "/mcp", json.dumps(body), headers)
    if stream:
        response = conn.getresponse()
        assert response.getheader("content-type") == "text/event-stream"
        assert response.readline().startswith(b"data:")  # the log: the stream is open
    else:
        time.sleep(0.3)  # the handler is waiting; no byte of the answer has left
    conn.close()


@pytest.mark.parametrize("stream", [False, True])
def test_hanging_up_cancels_the_request(cancels: RunningServer, stream: bool) -> None:
    _hold_and_hang_up(cancels.port, stream)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        seen = call(cancels.port, "cancellations").json["result"]["structuredContent"]["result"]
        if ("stream" if stream else "json") in seen:
            return
        time.sleep(0.05)
    pytest.fail(f"the request was not cancelled: {seen}")
