"""tools/call runs in one place (`Server._call_tool`, awaited by the runner only), whichever decoder read the
request: the typed fast decoders of runtime/server/quick.py (a plain tool: async, no Context) or the session's
own. These pin what that path must keep, on every wire: a 2025-11-25 session over Streamable HTTP and over
stdio, and 2026-07-28 requests that stand alone over HTTP (and over stdio, where a connection's requests
share one in-flight table):

- a request id in flight is refused (-32600), never served twice, for an await-free and an awaiting tool;
- an `McpError` of a tool, awaiting or not, is a JSON-RPC error, never an isError result; any other exception
  is an isError result;
- a handler outliving `request_timeout` is answered -32001, on the fast shape (no Context) and the normal one;
- progress notifications reach the client in increasing order only.

Everything above the sockets is real (tests/unit/fake_transport.py); stdio is driven through its line feed.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from runtime import Context, McpError, Server
from runtime.protocol.core import ServerSession
from runtime.server.runner import Runner
from tests.unit.fake_transport import connect, hang_up, http_request, parse_responses, settle, wait_until
from workers.stdio import Feed
from workers.streamable.transport import StreamableHttp

pytestmark = pytest.mark.timeout(20)
LEGACY = "2025-11-25"
MODERN = "2026-07-28"
META: dict[str, Any] = {
    "io.modelcontextprotocol/protocolVersion": MODERN,
    "io.modelcontextprotocol/clientInfo": {"name": "unit", "version": "1"},
    "io.modelcontextprotocol/clientCapabilities": {},
}
ACCEPT = [("Accept", "application/json, text/event-stream"), ("Content-Type", "application/json")]
TIMEOUT = 0.2
IN_FLIGHT = -32600
REFUSED = -32050  # not one the modern revision renumbers


def make_app(request_timeout: float | None = None) -> Server:
    app = Server("one-path", "1.0.0", request_timeout=request_timeout)

    @app.tool()
    async def echo(text: str) -> str:  # await-free: runs inline
        return text

    @app.tool()
    async def nap(seconds: float) -> str:  # awaits, no Context: the fast decoder's
        await asyncio.sleep(seconds)
        return f"napped {seconds}"

    @app.tool()
    async def nap_ctx(seconds: float, ctx: Context) -> str:  # awaits, with a Context: the normal decoder's
        await asyncio.sleep(seconds)
        return f"napped {seconds}"

    @app.tool()
    async def refuse_now() -> str:
        raise McpError(REFUSED, "refused at once")

    @app.tool()
    async def refuse_later() -> str:
        await asyncio.sleep(0)
        raise McpError(REFUSED, "refused after a wait")

    @app.tool()
    async def refuse_later_ctx(ctx: Context) -> str:
        await asyncio.sleep(0)
        raise McpError(REFUSED, "refused after a wait")

    @app.tool()
    async def fails_now() -> str:
        raise ValueError("broken")

    @app.tool()
    async def fails_later() -> str:
        await asyncio.sleep(0)
        raise ValueError("broken")

    @app.tool()
    async def progress(ctx: Context) -> str:
        refused = 0
        for value in (1, 2, 2, 1.5, 3):  # a repeat and a step back: refused, never sent
            try:
                await ctx.report_progress(value, 3)
            except ValueError:
                refused += 1
            await asyncio.sleep(0)
        return f"refused {refused}"

    return app


# -- the wires: each sends one request and gives every message it got for it, the response last -------------


class Wire:
    modern = False

    async def start(self, request_id: int, name: str, arguments: dict[str, Any] | None = None) -> Any:
        """Send a tools/call; a handle for `finish`."""
        raise NotImplementedError

    async def finish(self, handle: Any) -> list[dict[str, Any]]:
        raise NotImplementedError

    async def call(self, request_id: int, name: str, arguments: dict[str, Any] | None = None) -> list[Any]:
        return await self.finish(await self.start(request_id, name, arguments))

    def body(self, request_id: int, name: str, arguments: dict[str, Any] | None) -> bytes:
        params: dict[str, Any] = {"name": name, "arguments": arguments or {}}
        meta: dict[str, Any] = {"progressToken": "p"} if name == "progress" else {}
        if self.modern:
            meta.update(META)
        if meta:
            params["_meta"] = meta
        return json.dumps(
            {"jsonrpc": "2.0", "id": request_id, "method": "tools/call", "params": params}
        ).encode()

    def close(self) -> None:
        pass


class HttpWire(Wire):
    def __init__(self, app: Server, modern: bool) -> None:
        self.endpoint = StreamableHttp(app)
        self.modern = modern
        self.headers = [*ACCEPT, ("MCP-Protocol-Version", MODERN if modern else LEGACY)]
        self.conns: list[Any] = []

    async def open(self) -> None:
        if self.modern:
            return
        init = {
            "jsonrpc": "2.0",
            "id": 0,
            "method": "initialize",
            "params": {
                "protocolVersion": LEGACY,
                "capabilities": {},
                "clientInfo": {"name": "u", "version": "1"},
            },
        }
        conn, transport = connect(self.endpoint)
        self.conns.append(conn)
        conn.data_received(http_request("POST", "/mcp", ACCEPT, json.dumps(init).encode()))
        (response,) = parse_responses(bytes(transport.out))
        self.headers.append(("Mcp-Session-Id", response.headers["mcp-session-id"]))
        note = json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}).encode()
        conn.data_received(http_request("POST", "/mcp", self.headers, note))
        await settle()

    async def start(self, request_id: int, name: str, arguments: dict[str, Any] | None = None) -> Any:
        headers = list(self.headers)
        if self.modern:
            headers += [("Mcp-Method", "tools/call"), ("Mcp-Name", name)]
        conn, transport = connect(self.endpoint)
        self.conns.append(conn)
        conn.data_received(http_request("POST", "/mcp", headers, self.body(request_id, name, arguments)))
        await asyncio.sleep(0)
        return transport

    async def finish(self, handle: Any) -> list[dict[str, Any]]:
        def arrived() -> bool:
            responses = parse_responses(bytes(handle.out))
            return bool(responses) and responses[0].complete

        await wait_until(arrived, 5.0)
        (response,) = parse_responses(bytes(handle.out))
        if response.headers.get("content-type") == "text/event-stream":
            return [json.loads(event["data"]) for event in response.events() if event.get("data")]
        return [response.json()]

    def close(self) -> None:
        for conn in self.conns:
            hang_up(conn)
        self.endpoint.close()


class Lines:
    """stdout of a stdio connection: every message, in order."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []

    def send(self, data: bytes) -> None:
        self.messages.append(json.loads(data))

    def finish(self, data: bytes | None, invalid: bool = False) -> None:
        if data is not None:
            self.messages.append(json.loads(data))


class StdioWire(Wire):
    def __init__(self, app: Server, modern: bool) -> None:
        self.app = app
        self.modern = modern
        self.out = Lines()
        self.session = ServerSession(app.profile)

    async def open(self) -> None:
        self.feed = Feed(Runner(self.app), self.session, self.out, 1 << 20, 64)
        if self.modern:
            return
        init = {
            "jsonrpc": "2.0",
            "id": 0,
            "method": "initialize",
            "params": {
                "protocolVersion": LEGACY,
                "capabilities": {},
                "clientInfo": {"name": "u", "version": "1"},
            },
        }
        self.feed(json.dumps(init).encode())
        self.feed(json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}).encode())
        self.out.messages.clear()

    async def start(self, request_id: int, name: str, arguments: dict[str, Any] | None = None) -> Any:
        mark = len(self.out.messages)
        self.feed(self.body(request_id, name, arguments))
        await asyncio.sleep(0)
        return (request_id, mark)

    async def finish(self, handle: Any) -> list[dict[str, Any]]:
        request_id, mark = handle

        def answered(message: dict[str, Any]) -> bool:
            return message.get("id") == request_id and ("result" in message or "error" in message)

        await wait_until(lambda: any(answered(m) for m in self.out.messages[mark:]), 5.0)
        found = self.out.messages[mark:]
        end = next(i for i, m in enumerate(found) if answered(m))
        del self.out.messages[mark + end]  # taken: a second answer to the same id is another's
        return [m for m in found[:end] if "method" in m] + [found[end]]


WIRES: dict[str, Callable[[Server], Wire]] = {
    "http-2025-11-25": lambda app: HttpWire(app, modern=False),
    "stdio-2025-11-25": lambda app: StdioWire(app, modern=False),
    "http-2026-07-28": lambda app: HttpWire(app, modern=True),
    "stdio-2026-07-28": lambda app: StdioWire(app, modern=True),
}


async def _wire(name: str, app: Server) -> AsyncIterator[Wire]:
    wire = WIRES[name](app)
    await wire.open()  # type: ignore[attr-defined]
    try:
        yield wire
    finally:
        wire.close()


@pytest.fixture(params=list(WIRES))
async def wire(request: pytest.FixtureRequest) -> AsyncIterator[Wire]:
    async for made in _wire(request.param, make_app()):
        yield made


@pytest.fixture(params=list(WIRES))
async def timed_wire(request: pytest.FixtureRequest) -> AsyncIterator[Wire]:
    async for made in _wire(request.param, make_app(request_timeout=TIMEOUT)):
        yield made


def text_of(response: dict[str, Any]) -> str:
    assert "result" in response, response
    return str(response["result"]["content"][0]["text"])


# -- a request id in flight --------------------------------------------------------------------------------


@pytest.mark.parametrize("holder", ["nap", "nap_ctx"])
@pytest.mark.parametrize(("second", "arguments"), [("echo", {"text": "twice"}), ("nap", {"seconds": 0.01})])
async def test_an_id_in_flight_is_refused_not_served_twice(
    wire: Wire, holder: str, second: str, arguments: dict[str, Any]
) -> None:
    held = await wire.start(5, holder, {"seconds": 0.3})
    (again,) = await wire.call(5, second, arguments)
    if isinstance(wire, HttpWire) and wire.modern:
        # 2026-07-28 over HTTP: every request stands alone (no session), so the same id is another request.
        assert "result" in again, again
    else:
        assert again.get("error", {}).get("code") == IN_FLIGHT and again["id"] == 5, again
    (first,) = await wire.finish(held)
    assert text_of(first) == "napped 0.3"
    # Answered, the id is free again.
    (later,) = await wire.call(5, second, arguments)
    assert "result" in later, later


# -- McpError and other exceptions -------------------------------------------------------------------------


@pytest.mark.parametrize("tool", ["refuse_now", "refuse_later", "refuse_later_ctx"])
async def test_a_tools_mcp_error_is_a_json_rpc_error(wire: Wire, tool: str) -> None:
    (response,) = await wire.call(3, tool)
    assert "result" not in response, response
    message = "refused at once" if tool == "refuse_now" else "refused after a wait"
    assert response["error"] == {"code": REFUSED, "message": message}, response


@pytest.mark.parametrize("tool", ["fails_now", "fails_later"])
async def test_another_exception_is_an_is_error_result(wire: Wire, tool: str) -> None:
    (response,) = await wire.call(3, tool)
    assert response["result"]["isError"] is True, response
    assert text_of(response).startswith(f"Error in tool {tool!r}: internal error (reference ")


# -- request_timeout -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("tool", ["nap", "nap_ctx"])
async def test_a_call_past_the_request_timeout_gets_32001(timed_wire: Wire, tool: str) -> None:
    (response,) = await timed_wire.call(4, tool, {"seconds": 5})
    assert response["error"]["code"] == -32001, response
    assert response["id"] == 4
    (within,) = await timed_wire.call(4, tool, {"seconds": 0.01})  # within it: answered; the id is free
    assert text_of(within) == "napped 0.01"
    (inline,) = await timed_wire.call(6, "echo", {"text": "hi"})  # an await-free call is never timed out
    assert text_of(inline) == "hi"


# -- progress ------------------------------------------------------------------------------------------------


async def test_progress_reaches_the_client_increasing(wire: Wire) -> None:
    *notes, response = await wire.call(8, "progress")
    assert text_of(response) == "refused 2"
    values = [n["params"]["progress"] for n in notes if n["method"] == "notifications/progress"]
    assert values == [1, 2, 3], notes
    assert all(n["params"]["progressToken"] == "p" for n in notes if n["method"] == "notifications/progress")


# -- the session's checks, whichever decoder read the call --------------------------------------------------


async def test_invalid_arguments_are_an_is_error_result(wire: Wire) -> None:
    (response,) = await wire.call(9, "echo", {"text": 5})
    assert response["result"]["isError"] is True, response
    assert text_of(response).startswith("Invalid arguments for tool 'echo': "), response


async def test_a_call_before_initialize_is_refused() -> None:
    app = make_app()
    out = Lines()
    feed = Feed(Runner(app), ServerSession(app.profile), out, 1 << 20, 64)
    feed(StdioWire(app, modern=False).body(1, "echo", {"text": "early"}))
    assert out.messages == [
        {
            "jsonrpc": "2.0",
            "id": 1,
            "error": {"code": -32600, "message": "Received 'tools/call' before initialize"},
        }
    ]


@pytest.mark.parametrize("name", ["http-2025-11-25", "stdio-2025-11-25", "http-2026-07-28"])
async def test_a_server_without_tools_has_no_tools_call(name: str) -> None:
    app = Server("no-tools", "1.0.0")

    @app.prompt()
    def greet() -> str:
        return "hello"

    async for wire in _wire(name, app):
        (response,) = await wire.call(2, "echo", {"text": "hi"})
        assert response["error"]["code"] == -32601, response


async def test_modern_requests_leave_nothing_behind() -> None:
    """A modern request's channel refers to its responder and back: the cycle is broken once answered (the
    responder is a Struct the collector does not track, so a cycle through it would never be freed)."""
    import gc

    from runtime.protocol.modern import ModernSession

    def alive() -> int:
        gc.collect()
        return sum(type(o) is ModernSession for o in gc.get_objects())

    before = alive()  # other tests' may still be held
    async for wire in _wire("http-2026-07-28", make_app()):
        for request_id in range(20):
            await wire.call(request_id, "echo", {"text": "hi"})
            await wire.call(request_id, "nap", {"seconds": 0})
        assert alive() == before
