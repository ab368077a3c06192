"""workers/streamable/transport.py without sockets: the Streamable HTTP endpoint behind the real HTTP protocol
object, over a fake transport (tests/unit/fake_transport.py), serving a real `Server`. Routing, Host and
Origin, media types, sessions, versions, SSE, DELETE and batches per revision, with the exact responses."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from runtime import Context, Server
from runtime.protocol import jsonrpc as rpc
from runtime.protocol.versions import SUPPORTED_VERSIONS
from tests.unit.fake_transport import (
    FakeTransport,
    Response,
    connect,
    hang_up,
    http_request,
    parse_responses,
    settle,
    wait_until,
)
from workers.httpd.protocol import HttpProtocol
from workers.streamable.sessions import MemorySessions
from workers.streamable.transport import StreamableHttp, StreamableSettings

pytestmark = pytest.mark.timeout(10)
ACCEPT = "application/json, text/event-stream"
LATEST = "2025-11-25"


def make_app() -> Server:
    app = Server("unit-test", "1.0.0")

    @app.tool()
    async def echo(text: str) -> str:
        return text

    @app.tool()
    async def progressing(ctx: Context) -> str:
        """Sends a message before its result: the answer becomes an SSE stream."""
        ctx.report_progress(1, 2, "half")
        await asyncio.sleep(0)
        return "done"

    @app.tool()
    async def polled(ctx: Context) -> str:
        """Closes its SSE connection before the result (server-side polling): the result is resumed."""
        ctx.close_sse_stream()
        await asyncio.sleep(0)
        return "polled"

    @app.tool()
    async def nap(seconds: float = 0.0) -> str:
        await asyncio.sleep(seconds)
        return "rested"

    @app.tool()
    async def nap_with_context(ctx: Context, seconds: float = 0.0) -> str:
        """Takes the context, so it runs on the runner's path (not the quick one)."""
        await asyncio.sleep(seconds)
        return "rested"

    return app


def initialize(version: str = LATEST, request_id: int = 0) -> dict[str, Any]:
    params = {"protocolVersion": version, "capabilities": {}, "clientInfo": {"name": "unit", "version": "1"}}
    return {"jsonrpc": "2.0", "id": request_id, "method": "initialize", "params": params}


def req(request_id: int, method: str, params: Any = None) -> dict[str, Any]:
    message: dict[str, Any] = {"jsonrpc": "2.0", "id": request_id, "method": method}
    if params is not None:
        message["params"] = params
    return message


def call(
    name: str, arguments: dict[str, Any] | None = None, request_id: int = 1, **meta: Any
) -> dict[str, Any]:
    params: dict[str, Any] = {"name": name, "arguments": arguments or {}}
    if meta:
        params["_meta"] = meta
    return req(request_id, "tools/call", params)


INITIALIZED = {"jsonrpc": "2.0", "method": "notifications/initialized"}


class Client:
    """One keep-alive connection to the endpoint, speaking raw HTTP/1.1."""

    def __init__(self, endpoint: StreamableHttp) -> None:
        self.conn: HttpProtocol
        self.transport: FakeTransport
        self.conn, self.transport = connect(endpoint)
        self.session_id: str | None = None
        self.version: str | None = None

    async def send(self, raw: bytes, *, whole: bool = True) -> Response:
        """Send one request; its response once complete (`whole`) or once its head is here (a stream)."""
        self.transport.take()
        self.conn.data_received(raw)

        def arrived() -> bool:
            responses = parse_responses(bytes(self.transport.out))
            return bool(responses) and responses[0].status != 0 and (responses[0].complete or not whole)

        await settle(arrived)
        (response,) = parse_responses(bytes(self.transport.out))
        return response

    def headers(self, **overrides: str | None) -> list[tuple[str, str]]:
        """The headers a good client sends, with overrides (None: leave one out)."""
        fields: dict[str, str | None] = {
            "Accept": ACCEPT,
            "Content-Type": "application/json",
            "Mcp-Session-Id": self.session_id,
            "MCP-Protocol-Version": self.version,
        }
        for name, value in overrides.items():
            fields[name.replace("_", "-")] = value
        return [(name, value) for name, value in fields.items() if value is not None]

    async def post(
        self,
        message: Any = None,
        *,
        raw: bytes | None = None,
        host: str | None = "127.0.0.1",
        whole: bool = True,
        **overrides: str | None,
    ) -> Response:
        body = raw if raw is not None else json.dumps(message).encode()
        request = http_request("POST", "/mcp", self.headers(**overrides), body, host=host)
        return await self.send(request, whole=whole)

    async def get(self, path: str = "/mcp", *, whole: bool = False, **overrides: str | None) -> Response:
        fields = self.headers(**{"Accept": "text/event-stream", "Content_Type": None, **overrides})
        return await self.send(http_request("GET", path, fields), whole=whole)

    async def delete(self, **overrides: str | None) -> Response:
        return await self.send(http_request("DELETE", "/mcp", self.headers(Content_Type=None, **overrides)))

    async def open_session(self, version: str = LATEST) -> str:
        response = await self.post(initialize(version), Mcp_Session_Id=None, MCP_Protocol_Version=None)
        assert response.status == 200 and response.headers["content-type"] == "application/json"
        assert response.json()["result"]["protocolVersion"] == version
        self.session_id, self.version = response.headers["mcp-session-id"], version
        accepted = await self.post(INITIALIZED)
        assert (accepted.status, accepted.body) == (202, b"")
        return self.session_id


@pytest.fixture
async def serve() -> AsyncIterator[Any]:
    """serve(settings, **options) -> (endpoint, make_client): an endpoint on a fresh `Server`; at the end
    every connection is hung up and the endpoint closed (its sweeper timer, its sessions detached)."""
    endpoints: list[StreamableHttp] = []
    clients: list[Client] = []

    def make(settings: StreamableSettings | None = None, **options: Any) -> tuple[StreamableHttp, Any]:
        endpoint = StreamableHttp(make_app(), settings, **options)
        endpoints.append(endpoint)

        def client() -> Client:
            made = Client(endpoint)
            clients.append(made)
            return made

        return endpoint, client

    yield make
    for made in clients:
        hang_up(made.conn)
    for endpoint in endpoints:
        endpoint.close()


@pytest.fixture
async def client(serve: Any) -> Client:
    _, make_client = serve()
    return make_client()


def assert_refused(response: Response, status: int, phrase: str, code: int = rpc.INVALID_REQUEST) -> None:
    """A refusal by the transport: a JSON-RPC error response without an id (transports.mdx)."""
    assert response.status == status, (response.status, response.body)
    assert response.headers["content-type"] == "application/json"
    message = response.json()
    assert "id" not in message and message["jsonrpc"] == "2.0", message
    assert message["error"]["code"] == code and phrase in message["error"]["message"], message


# -- routing -----------------------------------------------------------------------------------------------------


async def test_other_paths_are_404_and_healthz_answers(client: Client) -> None:
    assert_refused(await client.get("/elsewhere", whole=True), 404, "Not found")
    assert_refused(
        await client.send(http_request("POST", "/mcp/x", client.headers(), b"{}")), 404, "Not found"
    )
    health = await client.get("/healthz", whole=True)
    assert (health.status, health.headers["content-type"], health.body) == (200, "text/plain", b"ok\n")
    client.transport.take()
    client.conn.data_received(http_request("HEAD", "/healthz"))
    assert (
        bytes(client.transport.out)
        == b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 3\r\n\r\n"
    )
    assert_refused(await client.send(http_request("POST", "/healthz", [], b"")), 404, "Not found")


@pytest.mark.parametrize("method", ["PUT", "PATCH", "OPTIONS", "HEAD"])
async def test_other_methods_on_the_endpoint_are_405(client: Client, method: str) -> None:
    client.transport.take()
    client.conn.data_received(
        http_request(method, "/mcp", client.headers(), b"{}" if method != "HEAD" else b"")
    )
    raw = bytes(client.transport.out)
    assert raw.startswith(b"HTTP/1.1 405 Method Not Allowed\r\nallow: GET, POST, DELETE\r\n")
    if method != "HEAD":  # HEAD: the same head, no body
        assert_refused(parse_responses(raw)[0], 405, "Method not allowed")
    else:
        assert raw.endswith(b"\r\n\r\n")


# -- Host and Origin (DNS rebinding protection) ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "status"),
    [
        ("127.0.0.1", 200),
        ("localhost:8000", 200),
        ("[::1]:8000", 200),
        ("127.0.0.2", 200),  # all of 127/8 is loopback
        ("[::1", 400),
        ("[not-an-ip]", 400),
        ("[1::2::3]", 400),  # bracketed, but not an IPv6 address
        ("a b", 400),
        ("", 400),
        ("localhost:8000:1", 400),
        ("evil.example", 421),
        ("10.0.0.1", 421),
    ],
)
async def test_host_on_a_loopback_server(client: Client, host: str, status: int) -> None:
    response = await client.post(initialize(), host=host)
    if status == 200:
        assert response.status == 200
    else:
        assert_refused(response, status, "Host")


async def test_host_of_a_server_bound_elsewhere_and_with_an_allow_list(serve: Any) -> None:
    _, make_client = serve(StreamableSettings(bound_to_loopback=False))
    assert (await make_client().post(initialize(), host="mcp.example.com")).status == 200
    _, make_client = serve(StreamableSettings(allowed_hosts=frozenset({"mcp.example.com", "b:81"})))
    assert (await make_client().post(initialize(), host="mcp.example.com:443")).status == 200  # by name
    assert (await make_client().post(initialize(), host="b:81")).status == 200  # by value
    assert_refused(await make_client().post(initialize(), host="b:82"), 421, "Invalid Host")
    assert_refused(await make_client().post(initialize(), host="localhost"), 421, "Invalid Host")


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("http://localhost:3000", True),
        ("https://127.0.0.1", True),
        ("http://[::1]:3000", True),
        ("HTTP://LOCALHOST", True),
        ("http://evil.example", False),
        ("http://localhost.evil.example", False),
        ("http://localhost/path", False),
        ("ftp://localhost", False),
        ("localhost", False),
        ("null", False),
    ],
)
async def test_origin_by_default_is_a_loopback_one(client: Client, origin: str, allowed: bool) -> None:
    response = await client.post(initialize(), Origin=origin)
    if allowed:
        assert response.status == 200
    else:
        assert_refused(response, 403, f"Origin not allowed: {origin}")


async def test_origin_with_an_allow_list_is_matched_exactly(serve: Any) -> None:
    _, make_client = serve(StreamableSettings(allowed_origins=frozenset({"https://app.example"})))
    assert (await make_client().post(initialize(), Origin="https://app.example")).status == 200
    assert_refused(await make_client().post(initialize(), Origin="https://app.example:443"), 403, "Origin")
    assert_refused(await make_client().post(initialize(), Origin="http://localhost"), 403, "Origin")


async def test_origin_is_checked_on_every_method_and_after_checks_were_cached(client: Client) -> None:
    await client.open_session()
    for _ in range(2):  # the second time the Host and the POST's headers are known good
        assert (await client.post(req(1, "ping"))).status == 200
    evil = "http://evil.example"
    assert_refused(await client.post(req(2, "ping"), Origin=evil), 403, "Origin")
    assert_refused(await client.get(Origin=evil, whole=True), 403, "Origin")
    assert_refused(await client.delete(Origin=evil), 403, "Origin")
    assert (await client.post(req(3, "ping"))).status == 200  # the session is untouched


async def test_a_bad_host_is_refused_after_a_good_post_shape_was_cached(client: Client) -> None:
    await client.open_session()
    assert (await client.post(req(1, "ping"))).status == 200
    assert_refused(await client.post(req(2, "ping"), host="evil.example"), 421, "Host")


# -- Content-Type and Accept --------------------------------------------------------------------------------------


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded", ""])
async def test_a_post_that_is_not_json_is_415(client: Client, content_type: str | None) -> None:
    assert_refused(await client.post(initialize(), Content_Type=content_type), 415, "Content-Type")


async def test_json_with_parameters_is_json(client: Client) -> None:
    assert (await client.post(initialize(), Content_Type="application/json; charset=utf-8")).status == 200


@pytest.mark.parametrize(
    ("content_type", "accept"),
    [
        ("Application/JSON", ACCEPT),
        ("application/json", "Application/JSON, Text/Event-Stream"),
        ("APPLICATION/JSON;Charset=UTF-8", "TEXT/EVENT-STREAM;q=0.5 , application/JSON"),
        ('application/json ; charset="utf-8"', "application/*, text/*;q=0.1"),
    ],
)
async def test_media_types_are_case_insensitive(client: Client, content_type: str, accept: str) -> None:
    """RFC 9110 8.3.1: type, subtype and parameter names compare case-insensitively."""
    assert (await client.post(initialize(), Content_Type=content_type, Accept=accept)).status == 200


@pytest.mark.parametrize(
    "content_type",
    ["application/json-seq", "application/jsonx", "application/json/x", "application/json garbage", "json"],
)
async def test_a_media_type_that_only_starts_like_json_is_415(client: Client, content_type: str) -> None:
    """Content-Type names one media type: application/json-seq is another one, not application/json."""
    assert_refused(await client.post(initialize(), Content_Type=content_type), 415, "Content-Type")


@pytest.mark.parametrize(
    "accept",
    [
        "application/json;q=0, text/event-stream",
        "application/json, text/event-stream;q=0",
        "*/*;q=0",
        "application/json;q=0, text/event-stream, */*",  # the most specific range decides (RFC 9110 12.5.1)
        "application/json;q=2, text/event-stream",  # not a qvalue: a malformed Accept lists nothing
        "application/json, text/event-stream, <html>",
    ],
)
async def test_a_range_with_q_0_refuses_that_type(client: Client, accept: str) -> None:
    """RFC 9110 12.4.2: q=0 means not acceptable, so such an Accept does not list both types."""
    assert_refused(await client.post(initialize(), Accept=accept), 406, "Accept must list")


@pytest.mark.parametrize("accept", [None, "application/json", "text/event-stream", "text/html"])
async def test_a_post_that_does_not_accept_both_is_406(client: Client, accept: str | None) -> None:
    assert_refused(await client.post(initialize(), Accept=accept), 406, "Accept must list")


@pytest.mark.parametrize(
    "accept",
    [
        "*/*",
        "text/event-stream, application/json",
        "application/json;q=0.9, text/event-stream",
        "text/event-stream,,application/json,",  # empty list elements are allowed (RFC 9110 5.6.1)
        'application/json;profile="a,b", text/event-stream;q=1.000',
        "application/json;q=0, */*;q=0.5, application/json;q=1, text/event-stream",
    ],
)
async def test_accept_listing_both_in_any_order_or_anything(client: Client, accept: str) -> None:
    assert (await client.post(initialize(), Accept=accept)).status == 200


# -- MCP-Protocol-Version -----------------------------------------------------------------------------------------


async def test_an_unsupported_protocol_version_is_400(client: Client) -> None:
    """UnsupportedProtocolVersionError (2026-07-28 versioning.mdx), which a legacy client shows as is: the
    request's id, the versions this server speaks and the one asked for."""
    await client.open_session()
    response = await client.post(req(1, "ping"), MCP_Protocol_Version="1999-01-01")
    assert response.status == 400
    assert response.json() == {
        "jsonrpc": "2.0",
        "id": 1,
        "error": {
            "code": rpc.UNSUPPORTED_PROTOCOL_VERSION,
            "message": "Unsupported protocol version",
            "data": {"supported": list(SUPPORTED_VERSIONS), "requested": "1999-01-01"},
        },
    }
    refused = await client.get(MCP_Protocol_Version="2025-13-01", whole=True)
    assert refused.status == 400 and refused.json()["error"]["data"]["requested"] == "2025-13-01"
    refused = await client.post(initialize(), Mcp_Session_Id=None, MCP_Protocol_Version="x")
    assert refused.status == 400 and refused.json()["error"]["code"] == rpc.UNSUPPORTED_PROTOCOL_VERSION


async def test_no_protocol_version_header_is_accepted(client: Client) -> None:
    await client.open_session()
    response = await client.post(req(1, "ping"), MCP_Protocol_Version=None)
    assert (response.status, response.json()) == (200, {"jsonrpc": "2.0", "id": 1, "result": {}})


async def test_delete_with_an_unsupported_protocol_version_is_400(client: Client) -> None:
    """transports.mdx: a request with an unsupported MCP-Protocol-Version MUST get 400, DELETE too."""
    await client.open_session()
    refused = await client.delete(MCP_Protocol_Version="1999-01-01")
    assert refused.status == 400 and refused.json()["error"]["code"] == rpc.UNSUPPORTED_PROTOCOL_VERSION
    assert (await client.post(req(1, "ping"))).status == 200  # and the session lives on


# -- sessions ------------------------------------------------------------------------------------------------------


async def test_initialize_creates_a_session(serve: Any) -> None:
    endpoint, make_client = serve()
    client = make_client()
    response = await client.post(initialize(), Mcp_Session_Id=None, MCP_Protocol_Version=None)
    session_id = response.headers["mcp-session-id"]
    assert len(session_id) == 32 and all(c in "0123456789abcdef" for c in session_id)
    assert response.headers["content-type"] == "application/json"
    result = response.json()
    assert result["id"] == 0 and result["result"]["serverInfo"]["name"] == "unit-test"
    assert len(endpoint.sessions) == 1 and endpoint.sessions.get(session_id) is not None


async def test_a_request_without_a_session_id_is_400_and_allocates_nothing(serve: Any) -> None:
    endpoint, make_client = serve()
    response = await make_client().post(req(1, "ping"))
    assert_refused(response, 400, "Mcp-Session-Id header is required")
    assert_refused(await make_client().post(INITIALIZED), 400, "Mcp-Session-Id header is required")
    assert len(endpoint.sessions) == 0


async def test_unreadable_json_without_a_session_is_a_parse_error(serve: Any) -> None:
    endpoint, make_client = serve()
    response = await make_client().post(raw=b"{not json")
    assert_refused(response, 400, "Parse error", rpc.PARSE_ERROR)
    assert len(endpoint.sessions) == 0


async def test_an_unknown_session_is_404(client: Client) -> None:
    await client.open_session()
    assert_refused(await client.post(req(1, "ping"), Mcp_Session_Id="0" * 32), 404, "Session not found")
    assert_refused(await client.get(Mcp_Session_Id="0" * 32, whole=True), 404, "Session not found")
    assert_refused(await client.delete(Mcp_Session_Id="0" * 32), 404, "Session not found")


async def test_the_session_table_full_is_503_with_retry_after(serve: Any) -> None:
    _, make_client = serve(sessions=MemorySessions(max_sessions=1))
    await make_client().open_session()
    response = await make_client().post(initialize())
    assert_refused(response, 503, "Too many sessions")
    assert response.headers["retry-after"] == "5"


async def test_a_request_is_answered_with_json(client: Client) -> None:
    await client.open_session()
    response = await client.post(call("echo", {"text": "hi"}))
    assert response.status == 200 and response.headers["content-type"] == "application/json"
    assert response.json()["result"]["content"] == [{"type": "text", "text": "hi"}]
    assert "connection" not in response.headers and not client.transport.closed


@pytest.mark.parametrize(
    "message",
    [
        INITIALIZED,
        {"jsonrpc": "2.0", "method": "notifications/unknown"},
        {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 7}},
        {"jsonrpc": "2.0", "id": 99, "result": {}},  # a response to nothing the server asked
        {"jsonrpc": "2.0", "id": 98, "error": {"code": -1, "message": "no"}},
    ],
)
async def test_notifications_and_responses_are_202_without_a_body(client: Client, message: Any) -> None:
    await client.open_session()
    response = await client.post(message)
    assert (response.status, response.body, response.headers["content-length"]) == (202, b"", "0")
    assert "content-type" not in response.headers


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b"{not json", rpc.PARSE_ERROR),
        (b"", rpc.PARSE_ERROR),
        (b'{"jsonrpc":"2.0","id":1,"method":"ping"', rpc.PARSE_ERROR),  # cut short
        (b'{"jsonrpc":"2.0","method":5}', rpc.INVALID_REQUEST),  # a notification it cannot accept
        (b'{"jsonrpc":"1.0","id":1,"method":"ping"}', rpc.INVALID_REQUEST),
        (b'{"jsonrpc":"2.0","id":[1],"method":"ping"}', rpc.INVALID_REQUEST),
        (b"7", rpc.INVALID_REQUEST),
    ],
)
async def test_unreadable_messages_are_400_with_a_json_rpc_error(
    client: Client, raw: bytes, code: int
) -> None:
    await client.open_session()
    response = await client.post(raw=raw)
    assert response.status == 400 and response.headers["content-type"] == "application/json"
    assert response.json()["error"]["code"] == code and "id" not in response.json()
    assert (await client.post(req(1, "ping"))).status == 200  # the session goes on


@pytest.mark.parametrize(
    "raw",
    [
        b'{"jsonrpc":"2.0","id":5,"method":"ping","\xff":1}',
        b'{"jsonrpc":"2.0","id":5,"method":"ping","x":"\xc3("}',
        b'{"jsonrpc":"2.0","id":5,"method":"ping","params":{"_meta":{"\xed\xa0\x80":1}}}',  # a surrogate
        b'{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"echo","arguments":{"text":"\xfe"}}}',
    ],
)
async def test_invalid_utf8_is_a_parse_error(client: Client, raw: bytes) -> None:
    await client.open_session()
    response = await client.post(raw=raw)
    assert response.status == 400 and response.json()["error"]["code"] == rpc.PARSE_ERROR


async def test_valid_utf8_passes(client: Client) -> None:
    await client.open_session()
    response = await client.post(
        raw=json.dumps(call("echo", {"text": "héllo ✓"}), ensure_ascii=False).encode()
    )
    assert response.json()["result"]["content"][0]["text"] == "héllo ✓"


@pytest.mark.parametrize(("depth", "refused"), [(8, False), (9, True), (500, True)])
async def test_nesting_depth_at_its_edge(serve: Any, depth: int, refused: bool) -> None:
    _, make_client = serve(StreamableSettings(max_depth=8))
    client = make_client()
    await client.open_session()
    body = b'{"jsonrpc":"2.0","id":3,"method":"ping","params":{"_meta":{"x":' + b"[" * (depth - 3)
    body += b"]" * (depth - 3) + b"}}}"
    response = await client.post(raw=body)
    if refused:
        assert response.status == 400 and response.headers["content-type"] == "application/json"
        assert response.json() == {
            "jsonrpc": "2.0",
            "id": 3,  # found by a bounded scan: the client's request fails at once
            "error": {"code": rpc.INVALID_REQUEST, "message": "Invalid request: nested deeper than 8 levels"},
        }
    else:
        assert response.status == 200 and response.json()["id"] == 3


async def test_nesting_is_refused_before_a_session_is_looked_up(serve: Any) -> None:
    endpoint, make_client = serve(StreamableSettings(max_depth=4))
    response = await make_client().post(raw=b"[[[[[[]]]]]]")
    assert response.status == 400 and response.json()["error"]["code"] == rpc.INVALID_REQUEST
    assert len(endpoint.sessions) == 0


# -- SSE on POST ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["2025-11-25", "2025-06-18"])
async def test_a_message_before_the_result_makes_the_answer_an_sse_stream(
    client: Client, version: str
) -> None:
    await client.open_session(version)
    response = await client.post(call("progressing", progressToken="p"))
    assert response.status == 200 and response.complete  # the stream ended after the result
    assert response.headers["content-type"] == "text/event-stream"
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["transfer-encoding"] == "chunked"
    events = response.events()
    if version == "2025-11-25":  # the priming event: an id and empty data (2025-11-25 on)
        priming = events.pop(0)
        assert priming["data"] == "" and priming["retry"] == "1000" and priming["id"]
    progress, result = (json.loads(event["data"]) for event in events)
    assert progress["method"] == "notifications/progress" and progress["params"]["progressToken"] == "p"
    assert result["id"] == 1 and result["result"]["content"][0]["text"] == "done"
    assert len({event["id"] for event in response.events()}) == len(response.events())  # ids are unique
    assert not client.transport.closed


async def test_a_post_stream_can_be_resumed_with_last_event_id(client: Client) -> None:
    await client.open_session()
    events = (await client.post(call("progressing", progressToken="p"))).events()
    replay = await client.get(Last_Event_ID=events[0]["id"], whole=True)  # after the priming event
    assert replay.status == 200 and replay.headers["content-type"] == "text/event-stream"
    assert replay.events() == events[1:] and replay.complete  # the stream had ended: replayed, closed
    assert_refused(
        await client.get(Last_Event_ID="nope", whole=True), 404, "Unknown or expired Last-Event-ID"
    )


async def test_server_side_polling_closes_the_connection_and_the_result_is_resumed(client: Client) -> None:
    await client.open_session()
    response = await client.post(call("polled"))
    assert response.status == 200 and response.headers["content-type"] == "text/event-stream"
    priming, retry = response.events()  # and the connection closed, the stream not ended
    assert priming["data"] == "" and retry == {"retry": "1000"}
    await settle()
    resumed = await client.get(Last_Event_ID=priming["id"], whole=True)
    (result,) = resumed.events()
    assert json.loads(result["data"])["result"]["content"][0]["text"] == "polled" and resumed.complete


async def test_an_idle_session_expires_and_then_is_404(serve: Any) -> None:
    _, make_client = serve(StreamableSettings(idle_timeout=0.02))
    client = make_client()
    await client.open_session()
    await asyncio.sleep(0.05)
    assert_refused(await client.post(req(1, "ping")), 404, "Session not found")


async def test_another_sessions_event_id_is_not_replayed(serve: Any) -> None:
    _, make_client = serve()
    owner = make_client()
    await owner.open_session()
    events = (await owner.post(call("progressing", progressToken="p"))).events()
    stranger = make_client()
    await stranger.open_session()
    response = await stranger.get(Last_Event_ID=events[0]["id"], whole=True)
    assert_refused(response, 404, "Unknown or expired Last-Event-ID")


# -- GET: the standalone stream ----------------------------------------------------------------------------------


async def test_get_opens_the_standalone_sse_stream(serve: Any) -> None:
    endpoint, make_client = serve()
    client = make_client()
    session_id = await client.open_session()
    raw = http_request("GET", "/mcp", client.headers(Accept="text/event-stream", Content_Type=None))
    client.transport.take()
    client.conn.data_received(raw)
    await settle(lambda: b"data:" in client.transport.out)
    head, _, _ = bytes(client.transport.out).partition(b"\r\n\r\n")
    assert head == (
        b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\n"
        b"transfer-encoding: chunked"
    )
    (priming,) = parse_responses(bytes(client.transport.out))[0].events()
    assert priming["data"] == "" and priming["id"].startswith("g")
    assert endpoint.notify(session_id, b'{"jsonrpc":"2.0","method":"notifications/tools/list_changed"}')
    (stream,) = parse_responses(bytes(client.transport.out))
    assert not stream.complete
    assert json.loads(stream.events()[1]["data"])["method"] == "notifications/tools/list_changed"
    # A second standalone stream while this one is open: 409.
    other = make_client()
    other.session_id, other.version = session_id, LATEST
    assert_refused(await other.get(whole=True), 409, "already has a standalone SSE stream")
    # Its connection gone, the stream lives on: what is sent meanwhile is kept for a resumption.
    client.conn.connection_lost(None)
    assert endpoint.notify(session_id, b'{"jsonrpc":"2.0","method":"notifications/resources/list_changed"}')
    resumed = await other.get(Last_Event_ID=priming["id"])
    assert resumed.status == 200 and not resumed.complete
    assert [json.loads(event["data"])["method"] for event in resumed.events()] == [
        "notifications/tools/list_changed",  # after the priming event the client resumes from
        "notifications/resources/list_changed",  # sent while no connection was attached
    ]
    # A plain GET once that connection is gone too: a new stream, not a resumption.
    other.conn.connection_lost(None)
    third = make_client()
    third.session_id, third.version = session_id, LATEST
    fresh = await third.get()
    assert fresh.status == 200 and fresh.events()[0]["id"].split(".")[0] != priming["id"].split(".")[0]


async def test_resuming_an_open_stream_moves_it_to_the_new_connection(serve: Any) -> None:
    endpoint, make_client = serve()
    first = make_client()
    session_id = await first.open_session()
    (priming,) = (await first.get()).events()
    second = make_client()
    second.session_id, second.version = session_id, LATEST
    assert (await second.get(Last_Event_ID=priming["id"])).status == 200
    assert parse_responses(bytes(first.transport.out))[0].complete  # the old connection's body ended
    assert endpoint.notify(session_id, b'{"jsonrpc":"2.0","method":"notifications/x"}')
    assert b"notifications/x" in second.transport.out and b"notifications/x" not in first.transport.out


async def test_streams_are_closed_with_a_retry_hint_after_their_time(serve: Any) -> None:
    _, make_client = serve(StreamableSettings(sse_max_stream_seconds=0.02, sse_retry_ms=250))
    client = make_client()
    await client.open_session()
    (priming,) = (await client.get()).events()
    await wait_until(lambda: parse_responses(bytes(client.transport.out))[0].complete)
    events = parse_responses(bytes(client.transport.out))[0].events()
    assert events == [priming, {"retry": "250"}]  # the connection closes; the stream does not
    resumed = await client.get(Last_Event_ID=priming["id"])
    assert resumed.status == 200 and not resumed.complete


async def test_closing_the_endpoint_tells_stream_clients_when_to_come_back(serve: Any) -> None:
    endpoint, make_client = serve()
    client = make_client()
    await client.open_session()
    await client.get()
    endpoint.close()
    stream = parse_responses(bytes(client.transport.out))[0]
    assert stream.complete and stream.events()[-1] == {"retry": "1000"}


async def test_get_refusals(serve: Any) -> None:
    _, make_client = serve()
    client = make_client()
    await client.open_session()
    assert_refused(await client.get(Accept="application/json", whole=True), 406, "text/event-stream")
    assert_refused(await client.get(Accept="text/event-stream;q=0", whole=True), 406, "text/event-stream")
    assert_refused(
        await client.get(Mcp_Session_Id=None, whole=True), 400, "Mcp-Session-Id header is required"
    )
    assert (await make_client().send(http_request("GET", "/mcp", [("Accept", "*/*")]))).status == 400
    assert (await client.get(Accept="Text/Event-Stream")).status == 200  # case-insensitive (RFC 9110 8.3.1)


async def test_get_streams_per_session_are_limited(serve: Any) -> None:
    _, make_client = serve(StreamableSettings(max_streams_per_session=1))
    first = make_client()
    session_id = await first.open_session()
    assert (await first.get()).status == 200
    second = make_client()
    second.session_id, second.version = session_id, LATEST
    response = await second.get(whole=True)
    assert_refused(response, 429, "Too many SSE streams for this session (limit 1)")
    assert response.headers["retry-after"] == "1"


@pytest.mark.parametrize(
    "settings", [StreamableSettings(enable_get_stream=False), StreamableSettings(stateless=True)]
)
async def test_get_is_405_without_a_standalone_stream(serve: Any, settings: StreamableSettings) -> None:
    _, make_client = serve(settings)
    response = await make_client().get(whole=True)
    assert_refused(response, 405, "Method not allowed")
    assert response.headers["allow"] == "POST, DELETE"


# -- DELETE --------------------------------------------------------------------------------------------------------


async def test_delete_ends_the_session(serve: Any) -> None:
    endpoint, make_client = serve()
    client = make_client()
    await client.open_session()
    stream_client = make_client()
    stream_client.session_id, stream_client.version = client.session_id, LATEST
    assert (await stream_client.get()).status == 200
    response = await client.delete()
    assert (response.status, response.body) == (200, b"")
    assert len(endpoint.sessions) == 0
    assert parse_responses(bytes(stream_client.transport.out))[0].complete  # its stream ended too
    assert_refused(await client.post(req(1, "ping")), 404, "Session not found")
    assert_refused(await client.delete(), 404, "Session not found")
    assert_refused(await client.delete(Mcp_Session_Id=None), 400, "Mcp-Session-Id header is required")


async def test_an_awaiting_tool_call_is_answered_with_json(client: Client) -> None:
    await client.open_session()
    response = await client.post(call("nap"))
    assert response.status == 200 and response.json()["result"]["content"][0]["text"] == "rested"


@pytest.mark.parametrize("tool", ["nap", "nap_with_context"])  # the quick path, the runner's path
async def test_a_request_in_flight_when_its_session_ends_is_not_202(serve: Any, tool: str) -> None:
    """A POSTed request MUST be answered with application/json or text/event-stream, never 202 (that is
    for notifications and responses), and once the server has ended a session it MUST answer that
    session's requests with 404 (transports.mdx). So a request whose session is DELETEd while it runs
    gets what it would get a moment later: 404 with a JSON-RPC error, here naming its id so the client
    can fail that request. (200 with an error would claim the session still served it.)"""
    _, make_client = serve()
    client = make_client()
    session_id = await client.open_session()
    waiting = make_client()
    waiting.session_id, waiting.version = session_id, LATEST
    body = json.dumps(call(tool, {"seconds": 30}, 5)).encode()
    waiting.conn.data_received(http_request("POST", "/mcp", waiting.headers(), body))
    await settle()
    assert waiting.transport.out == b""  # still running
    assert (await client.delete()).status == 200
    await settle(lambda: bool(waiting.transport.out))
    (response,) = parse_responses(bytes(waiting.transport.out))
    assert response.status == 404 and response.headers["content-type"] == "application/json", response
    message = response.json()
    assert message["id"] == 5 and message["error"]["code"] == rpc.INVALID_REQUEST, message
    assert "Session not found" in message["error"]["message"]


# -- batches, per revision -----------------------------------------------------------------------------------------


async def test_batches_on_2025_03_26(client: Client) -> None:
    await client.open_session("2025-03-26")
    batch = [req(1, "ping"), INITIALIZED, call("echo", {"text": "b"}, 2), req(3, "nope/nope"), 7]
    response = await client.post(batch)
    assert response.status == 200 and response.headers["content-type"] == "application/json"
    answers = response.json()
    by_id = {a.get("id"): a for a in answers}
    assert len(answers) == 4 and by_id[1]["result"] == {}
    assert by_id[2]["result"]["content"][0]["text"] == "b"
    assert by_id[3]["error"]["code"] == rpc.METHOD_NOT_FOUND
    assert by_id[None]["error"]["code"] == rpc.INVALID_REQUEST  # the 7
    only_notifications = await client.post([INITIALIZED, {"jsonrpc": "2.0", "method": "notifications/x"}])
    assert (only_notifications.status, only_notifications.body) == (202, b"")
    assert_refused(await client.post([]), 400, "empty batch")
    initialize_in_batch = (await client.post([initialize("2025-03-26", 9)])).json()
    assert (
        initialize_in_batch[0]["id"] == 9 and "must not be part" in initialize_in_batch[0]["error"]["message"]
    )


@pytest.mark.parametrize("version", ["2025-11-25", "2025-06-18", "2024-11-05"])
async def test_batches_are_refused_by_other_revisions(client: Client, version: str) -> None:
    await client.open_session(version)
    assert_refused(
        await client.post([req(1, "ping")]), 400, f"Batch requests are not supported by MCP {version}"
    )


# -- stateless ------------------------------------------------------------------------------------------------------


async def test_stateless_posts_stand_alone(serve: Any) -> None:
    endpoint, make_client = serve(StreamableSettings(stateless=True))
    client = make_client()
    response = await client.post(call("echo", {"text": "s"}), MCP_Protocol_Version=LATEST)
    assert response.status == 200 and "mcp-session-id" not in response.headers
    assert response.json()["result"]["content"][0]["text"] == "s"
    assert (await client.post(initialize())).status == 200
    assert len(endpoint.sessions) == 0
    refused = await client.post(req(1, "ping"), MCP_Protocol_Version="nope")
    assert refused.status == 400 and refused.json()["error"]["code"] == rpc.UNSUPPORTED_PROTOCOL_VERSION
