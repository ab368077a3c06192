"""The quick path of a modern (2026-07-28) tools/call over Streamable HTTP (runtime/server/quick.py
`modern_call`/`run_modern`, workers/streamable/modern.py `headers_match`): a plain tool's call answered
without a session, a Context or the runner.

Each case is sent twice to the real endpoint behind the real HTTP protocol object (tests/unit/fake_transport.py):
once as it comes, once with the quick path turned off; the status and body bytes must be the same. A spy
says which path answered, so a case meant for the quick path fails if it silently stops taking it, and one
that must take the normal path (the precise errors, multi round-trip state, the tasks extension, headers
only `_check` may judge) fails if the quick path takes it."""

from __future__ import annotations

import asyncio
import base64
import json
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest

from runtime import Server
from runtime.protocol import jsonrpc as rpc
from runtime.server import quick
from runtime.server.task_extension import EXTENSION
from tests.unit.fake_transport import connect, hang_up, http_request, parse_responses, settle
from workers.streamable.transport import StreamableHttp

pytestmark = pytest.mark.timeout(10)
MODERN = "2026-07-28"
META: dict[str, Any] = {
    "io.modelcontextprotocol/protocolVersion": MODERN,
    "io.modelcontextprotocol/clientInfo": {"name": "unit", "version": "1"},
    "io.modelcontextprotocol/clientCapabilities": {},
}
RELEASE = asyncio.Event()
CANCELLED: list[str] = []


def make_app() -> Server:
    app = Server("quick-test", "1.0.0")

    @app.tool()
    async def echo(text: str) -> str:
        return text

    @app.tool()
    async def echo_later(text: str) -> str:
        await asyncio.sleep(0)
        return text

    @app.tool()
    async def not_found(uri: str) -> str:
        raise rpc.McpError(rpc.RESOURCE_NOT_FOUND, f"no {uri}", {"uri": uri})  # renumbered: -32602

    @app.tool()
    async def not_found_later(uri: str) -> str:
        await asyncio.sleep(0)
        raise rpc.McpError(rpc.RESOURCE_NOT_FOUND, f"no {uri}", {"uri": uri})

    @app.tool()
    async def unknown_method() -> str:
        raise rpc.McpError(rpc.METHOD_NOT_FOUND, "gone")  # a 404, as the normal path gives it

    @app.tool()
    async def fails() -> str:
        raise ValueError("broken")  # an isError result

    @app.tool()
    async def unconvertible() -> Any:
        return object()  # an internal error

    @app.tool()
    async def with_meta() -> dict[str, Any]:
        return {"content": [{"type": "text", "text": "x"}], "_meta": {"mine": 1}}  # merged exactly

    @app.tool()
    async def count(n: int) -> int:
        return n

    @app.tool()
    async def blocks() -> str:
        try:
            await RELEASE.wait()
        except asyncio.CancelledError:
            CANCELLED.append("blocks")
            raise
        return "released"

    @app.tool(
        input_schema={
            "type": "object",
            "properties": {
                "region": {"type": "string", "x-mcp-header": "Region"},
                "query": {"type": "string"},
            },
            "required": ["region", "query"],
        }
    )
    async def regional(region: str, query: str) -> str:
        return f"{query} in {region}"

    @app.tool(task_support="optional")
    async def maybe_task(text: str) -> str:
        return text

    return app


class Spy:
    """Which path answered: counts the calls `run_modern` admitted, or turns the quick path off."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.quick = 0
        self.enabled = True
        real_modern_call, real_run = quick.modern_call, quick.run_modern

        def modern_call(server: Server, data: bytes) -> Any:
            return real_modern_call(server, data) if self.enabled else None

        def run_modern(*args: Any) -> Any:
            admitted = real_run(*args)
            self.quick += admitted is not None  # None: refused, the normal path words it
            return admitted

        monkeypatch.setattr(quick, "modern_call", modern_call)
        monkeypatch.setattr(quick, "run_modern", run_modern)


@pytest.fixture
async def endpoint() -> AsyncIterator[StreamableHttp]:
    made = StreamableHttp(make_app())
    yield made
    made.close()


def body_of(name: str, arguments: Any = None, meta: Any = META, request_id: Any = 7, **extra: Any) -> bytes:
    params: dict[str, Any] = {"name": name, **extra}
    if arguments is not None:
        params["arguments"] = arguments
    if meta is not None:
        params["_meta"] = meta
    return json.dumps({"jsonrpc": "2.0", "id": request_id, "method": "tools/call", "params": params}).encode()


def headers_of(name: str, **extra: str) -> list[tuple[str, str]]:
    fields = {
        "Accept": "application/json, text/event-stream",
        "Content-Type": "application/json",
        "MCP-Protocol-Version": MODERN,
        "Mcp-Method": "tools/call",
        "Mcp-Name": name,
        **extra,
    }
    return [(key, value) for key, value in fields.items() if value != "-"]


async def post(endpoint: StreamableHttp, body: bytes, headers: list[tuple[str, str]]) -> tuple[int, bytes]:
    conn, transport = connect(endpoint)
    try:
        conn.data_received(http_request("POST", "/mcp", headers, body))

        def arrived() -> bool:
            responses = parse_responses(bytes(transport.out))
            return bool(responses) and responses[0].complete

        await settle(arrived)
        (response,) = parse_responses(bytes(transport.out))
        return response.status, response.body
    finally:
        hang_up(conn)


async def both(
    endpoint: StreamableHttp, spy: Spy, body: bytes, headers: list[tuple[str, str]]
) -> tuple[int, dict[str, Any], bool]:
    """The answer with the quick path on; checked the same, byte for byte, with it off. And whether the quick
    path gave it."""
    before = spy.quick
    status, data = await post(endpoint, body, headers)
    took_quick = spy.quick > before
    spy.enabled = False
    try:
        assert _steady(await post(endpoint, body, headers)) == _steady((status, data))
    finally:
        spy.enabled = True
    return status, json.loads(data), took_quick


_RANDOM = re.compile(rb'reference \w+|"reference":"\w+"|"taskId":"[^"]+"|"\w+At":"[^"]+"')


def _steady(answer: tuple[int, bytes]) -> tuple[int, bytes]:
    """An answer without what is random in it (error references, task ids and times)."""
    return answer[0], _RANDOM.sub(b"~", answer[1])


QUICK_CASES = [
    ("echo", {"text": "hi"}, {}),
    ("echo_later", {"text": "hi"}, {}),
    ("echo", {"text": 5}, {}),  # invalid arguments: an isError result
    ("echo", None, {}),  # no arguments: invalid too
    ("not_found", {"uri": "x:y"}, {}),
    ("not_found_later", {"uri": "x:y"}, {}),
    ("unknown_method", {}, {}),
    ("fails", {}, {}),
    ("unconvertible", {}, {}),
    ("with_meta", {}, {}),
    ("regional", {"region": "eu", "query": "q"}, {"Mcp-Param-Region": "eu"}),
]


@pytest.mark.parametrize(("name", "arguments", "extra"), QUICK_CASES)
async def test_plain_calls_take_the_quick_path_with_the_normal_answer(
    endpoint: StreamableHttp,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    arguments: Any,
    extra: dict[str, str],
) -> None:
    spy = Spy(monkeypatch)
    status, message, took_quick = await both(
        endpoint, spy, body_of(name, arguments), headers_of(name, **extra)
    )
    assert took_quick, message
    assert message["id"] == 7
    if "result" in message:
        assert status == 200
        result = message["result"]
        assert result["resultType"] == "complete"
        assert result["_meta"]["io.modelcontextprotocol/serverInfo"]["name"] == "quick-test"


async def test_the_quick_answers_are_the_modern_ones(
    endpoint: StreamableHttp, monkeypatch: pytest.MonkeyPatch
) -> None:
    spy = Spy(monkeypatch)
    _, echoed, _ = await both(endpoint, spy, body_of("echo", {"text": "hi"}), headers_of("echo"))
    assert echoed["result"]["content"] == [{"type": "text", "text": "hi"}]
    status, missing, _ = await both(
        endpoint, spy, body_of("not_found", {"uri": "x:y"}), headers_of("not_found")
    )
    assert (
        status == 200
        and missing["error"]["code"] == rpc.INVALID_PARAMS
        and missing["error"]["data"] == {"uri": "x:y"}
    )
    status, gone, _ = await both(endpoint, spy, body_of("unknown_method", {}), headers_of("unknown_method"))
    assert status == 404 and gone["error"]["code"] == rpc.METHOD_NOT_FOUND
    _, merged, _ = await both(endpoint, spy, body_of("with_meta", {}), headers_of("with_meta"))
    assert merged["result"]["_meta"]["io.modelcontextprotocol/serverInfo"]["name"] == "quick-test"
    _, failed, _ = await both(endpoint, spy, body_of("fails", {}), headers_of("fails"))
    assert failed["result"]["isError"] is True


NORMAL_CASES: list[tuple[bytes, list[tuple[str, str]]]] = [
    # the envelope: what ModernSession refuses, or what only it reads
    (body_of("echo", {"text": "hi"}, meta=None), headers_of("echo")),
    (
        body_of(
            "echo", {"text": "hi"}, meta={**META, "io.modelcontextprotocol/protocolVersion": "2099-01-01"}
        ),
        headers_of("echo"),
    ),
    (
        body_of("echo", {"text": "hi"}, meta={"io.modelcontextprotocol/protocolVersion": MODERN}),
        headers_of("echo"),
    ),
    (
        body_of("echo", {"text": "hi"}, meta={**META, "io.modelcontextprotocol/logLevel": "loud"}),
        headers_of("echo"),
    ),
    (body_of("echo", {"text": "hi"}, inputResponses={"a": {}}), headers_of("echo")),
    (body_of("echo", {"text": "hi"}, requestState="sealed"), headers_of("echo")),
    (body_of("echo", {"text": "hi"}, task={"ttl": 1000}), headers_of("echo")),
    (body_of("echo", [1]), headers_of("echo")),
    (body_of("nope", {}), headers_of("nope")),
    (body_of("echo", {"text": "hi"}, request_id=1.5), headers_of("echo")),
    # the headers: missing, different, or in a form only `_check` reads
    (body_of("echo", {"text": "hi"}), headers_of("echo", **{"Mcp-Method": "-"})),
    (body_of("echo", {"text": "hi"}), headers_of("echo", **{"Mcp-Method": "tools/list"})),
    (body_of("echo", {"text": "hi"}), headers_of("echo", **{"Mcp-Name": "-"})),
    (body_of("echo", {"text": "hi"}), headers_of("echo", **{"Mcp-Name": "other"})),
    (
        body_of("echo", {"text": "hi"}),
        headers_of("echo", **{"Mcp-Name": "=?base64?" + base64.b64encode(b"echo").decode() + "?="}),
    ),
    (body_of("echo", {"text": "hi"}), headers_of("echo", **{"Mcp-Name": "=?base64?!!!?="})),
    (body_of("regional", {"region": "eu", "query": "q"}), headers_of("regional")),
    (
        body_of("regional", {"region": "eu", "query": "q"}),
        headers_of("regional", **{"Mcp-Param-Region": "us"}),
    ),
    # a tool the tasks extension may run as a task
    (body_of("maybe_task", {"text": "hi"}), headers_of("maybe_task")),
    (
        body_of(
            "maybe_task",
            {"text": "hi"},
            meta={**META, "io.modelcontextprotocol/clientCapabilities": {"extensions": {EXTENSION: {}}}},
        ),
        headers_of("maybe_task"),
    ),
]


@pytest.mark.parametrize(("body", "headers"), NORMAL_CASES)
async def test_what_the_session_must_judge_takes_the_normal_path(
    endpoint: StreamableHttp, monkeypatch: pytest.MonkeyPatch, body: bytes, headers: list[tuple[str, str]]
) -> None:
    spy = Spy(monkeypatch)
    _, message, took_quick = await both(endpoint, spy, body, headers)
    assert not took_quick, message


async def test_trimmed_headers_are_accepted_by_the_normal_path(
    endpoint: StreamableHttp, monkeypatch: pytest.MonkeyPatch
) -> None:
    spy = Spy(monkeypatch)
    status, message, took_quick = await both(
        endpoint, spy, body_of("echo", {"text": "hi"}), headers_of("echo", **{"Mcp-Name": " echo\t"})
    )
    assert not took_quick and status == 200 and message["result"]["content"][0]["text"] == "hi"


async def test_a_valid_log_level_stays_quick(
    endpoint: StreamableHttp, monkeypatch: pytest.MonkeyPatch
) -> None:
    spy = Spy(monkeypatch)
    meta = {**META, "io.modelcontextprotocol/logLevel": "debug"}
    status, _, took_quick = await both(
        endpoint, spy, body_of("echo", {"text": "hi"}, meta=meta), headers_of("echo")
    )
    assert took_quick and status == 200


async def test_hanging_up_cancels_an_awaiting_quick_call(
    endpoint: StreamableHttp, monkeypatch: pytest.MonkeyPatch
) -> None:
    spy = Spy(monkeypatch)
    CANCELLED.clear()
    RELEASE.clear()
    conn, transport = connect(endpoint)
    conn.data_received(http_request("POST", "/mcp", headers_of("blocks"), body_of("blocks", {})))
    await settle()
    assert spy.quick == 1 and transport.out == b""  # running, not answered
    conn.connection_lost(None)
    await settle(lambda: CANCELLED == ["blocks"])
    assert transport.out == b""
