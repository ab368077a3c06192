"""mcprt as an OAuth 2.1 resource server (basic/authorization.mdx), end to end: `mcprt serve --auth-issuer`
in front of a real authorization server (node-oidc-provider, tests/auth_server.py), with one worker and two.
Raw HTTP, so every status, challenge and body is seen as a client sees it."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.auth_server import AuthServer, free_port
from tests.conftest import RunningServer

APP = "tests/apps/scoped.py:server"
ACCEPT = "application/json, text/event-stream"
WELL_KNOWN = "/.well-known/oauth-protected-resource"


class Answer:
    def __init__(self, response: http.client.HTTPResponse) -> None:
        self.status = response.status
        self.headers = response.headers
        raw = response.read()
        self.raw = raw
        self.body: Any = None
        if raw and "json" in (response.headers.get("content-type") or ""):
            self.body = json.loads(raw)
        elif raw.startswith(b"event:") or raw.startswith(b"id:") or b"\ndata: " in raw or raw.startswith(b"data:"):
            datas = [line[6:] for line in raw.split(b"\n") if line.startswith(b"data: ")]
            self.body = json.loads(datas[-1]) if datas else None

    @property
    def challenge(self) -> str:
        return self.headers.get("www-authenticate") or ""


class Protected:
    """`mcprt serve` protected by an authorization server, and raw HTTP requests to it."""

    def __init__(self, issuer: AuthServer, *flags: str, workers: int = 1, app: str = APP) -> None:
        self.port = free_port()
        self.audience = f"http://127.0.0.1:{self.port}/mcp"
        self.issuer = issuer
        self.server = RunningServer(
            "--auth-issuer", issuer.issuer, "--auth-scopes", "mcp:read mcp:write mcp:admin", *flags,
            app=app, workers=workers, port=self.port,
        )

    def stop(self) -> None:
        self.server.stop()

    def token(self, scope: str = "mcp:read", client: str = "cc-basic", **test: str | int) -> str:
        return self.issuer.token(self.audience, scope, client, **test)

    def request(
        self, method: str, path: str, body: Any = None, token: str | None = None, **headers: str
    ) -> Answer:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=20)
        try:
            sent = {"Accept": ACCEPT, "Content-Type": "application/json"}
            if token is not None:
                sent["Authorization"] = f"Bearer {token}"
            sent.update({name.replace("_", "-"): value for name, value in headers.items()})
            data = json.dumps(body) if body is not None and not isinstance(body, bytes) else body
            conn.request(method, path, body=data, headers=sent)
            return Answer(conn.getresponse())
        finally:
            conn.close()

    def post(self, message: dict[str, Any], token: str | None, session: str | None = None, **headers: str) -> Answer:
        if session is not None:
            headers["Mcp-Session-Id"] = session
            headers["MCP-Protocol-Version"] = "2025-11-25"
        return self.request("POST", "/mcp", message, token, **headers)

    def open_session(self, token: str) -> str:
        init = {
            "jsonrpc": "2.0", "id": 0, "method": "initialize",
            "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
        }
        answer = self.post(init, token)
        assert answer.status == 200, (answer.status, answer.raw)
        session = answer.headers["mcp-session-id"]
        assert self.post({"jsonrpc": "2.0", "method": "notifications/initialized"}, token, session).status == 202
        return session

    def call(self, token: str | None, session: str, name: str, arguments: dict[str, Any] | None = None) -> Answer:
        message = {"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {"name": name, "arguments": arguments or {}}}
        return self.post(message, token, session)


@pytest.fixture(scope="module")
def issuer() -> Iterator[AuthServer]:
    with AuthServer.running() as server:
        yield server


@pytest.fixture(scope="module", params=[1, 2], ids=["1-worker", "2-workers"])
def protected(request: pytest.FixtureRequest, issuer: AuthServer) -> Iterator[Protected]:
    server = Protected(issuer, "--no-pin", workers=request.param)
    yield server
    server.stop()


def _challenge_params(value: str) -> dict[str, str]:
    assert value.startswith("Bearer ")
    params = {}
    for part in value[len("Bearer ") :].split(", "):
        name, _, quoted = part.partition("=")
        params[name] = quoted.strip('"')
    return params


# -- protected-resource metadata -----------------------------------------------------------------------------


@pytest.mark.parametrize("path", [WELL_KNOWN + "/mcp", WELL_KNOWN])
def test_the_metadata_names_the_resource_and_its_issuer(protected: Protected, path: str) -> None:
    answer = protected.request("GET", path)
    assert answer.status == 200
    assert answer.body == {
        "resource": protected.audience,
        "authorization_servers": [protected.issuer.issuer],
        "bearer_methods_supported": ["header"],
        "scopes_supported": ["mcp:read", "mcp:write", "mcp:admin"],
    }
    assert protected.request("POST", path, {}).status == 405


def test_the_metadata_is_found_behind_a_path_prefix(issuer: AuthServer) -> None:
    """A proxy serves https://public.example/tenant/mcp from this process's /mcp: the challenge names the
    public metadata URL, and both path-based URLs answer."""
    server = Protected(issuer, "--auth-audience", "https://public.example/tenant/mcp")
    try:
        answer = server.post({"jsonrpc": "2.0", "id": 1, "method": "ping"}, None)
        assert answer.status == 401
        params = _challenge_params(answer.challenge)
        assert params["resource_metadata"] == f"https://public.example{WELL_KNOWN}/tenant/mcp"
        for path in (f"{WELL_KNOWN}/tenant/mcp", f"{WELL_KNOWN}/mcp", WELL_KNOWN):
            found = server.request("GET", path)
            assert found.status == 200 and found.body["resource"] == "https://public.example/tenant/mcp"
    finally:
        server.stop()


# -- 401 ------------------------------------------------------------------------------------------------------


def test_no_token_gets_401_with_the_metadata_and_what_the_request_needs(protected: Protected) -> None:
    answer = protected.post({"jsonrpc": "2.0", "id": 1, "method": "ping"}, None)
    assert answer.status == 401
    params = _challenge_params(answer.challenge)
    assert "error" not in params  # no credentials: no error code (RFC 6750 3.1)
    assert params["resource_metadata"] == f"http://127.0.0.1:{protected.port}{WELL_KNOWN}/mcp"
    assert "scope" not in params  # a ping needs no scope: the client asks for what it wants
    assert answer.body["jsonrpc"] == "2.0" and answer.body["error"]["code"] == -32600
    call = {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "write", "arguments": {}}}
    params = _challenge_params(protected.post(call, None).challenge)
    assert params["scope"] == "mcp:write"  # least privilege: what this request needs, not everything


@pytest.mark.parametrize(
    "authorization",
    ["Basic dXNlcjpwYXNz", "Bearer", "Bearer not a token", "Bearer garbage.garbage.garbage", "Bearer abc"],
)
def test_a_malformed_or_garbage_token_gets_401(protected: Protected, authorization: str) -> None:
    answer = protected.request("POST", "/mcp", {"jsonrpc": "2.0", "id": 1, "method": "ping"}, Authorization=authorization)
    assert answer.status == 401
    if authorization.startswith("Bearer "):
        assert _challenge_params(answer.challenge)["error"] == "invalid_token"
    secret = authorization.partition(" ")[2]
    if secret:
        assert secret.encode() not in answer.raw  # nothing of the token comes back


def test_expired_foreign_and_tampered_tokens_get_401(protected: Protected, issuer: AuthServer) -> None:
    good = protected.token()
    header, payload, signature = good.split(".")
    flipped = signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")
    refused = {
        "expired": issuer.expired_token(protected.audience),
        "another audience": issuer.other_audience_token(),
        "tampered signature": f"{header}.{payload}.{flipped}",
        "not an access token (typ JWT)": protected.token(test_typ="JWT"),
    }
    for what, token in refused.items():
        answer = protected.post({"jsonrpc": "2.0", "id": 1, "method": "ping"}, token)
        assert answer.status == 401, what
        assert _challenge_params(answer.challenge)["error"] == "invalid_token", what
        assert payload.encode() not in answer.raw
    # The good token passes the guard: the transport then asks for a session (400), not for a token.
    assert protected.post({"jsonrpc": "2.0", "id": 1, "method": "ping"}, good).status == 400


def test_a_token_of_another_issuer_gets_401(protected: Protected) -> None:
    with AuthServer.running() as other:  # the same audience, signed by keys the server does not trust
        token = other.token(protected.audience, "mcp:read")
    answer = protected.post({"jsonrpc": "2.0", "id": 1, "method": "ping"}, token)
    assert answer.status == 401


# -- a valid token ------------------------------------------------------------------------------------------


def test_a_valid_token_opens_a_session_and_its_principal_reaches_the_handler(protected: Protected) -> None:
    token = protected.token("mcp:read mcp:write")
    session = protected.open_session(token)
    answer = protected.call(token, session, "echo", {"text": "hi"})
    assert answer.status == 200 and answer.body["result"]["content"][0]["text"] == "hi"
    who = protected.call(token, session, "whoami").body["result"]["structuredContent"]
    assert who["issuer"] == protected.issuer.issuer
    assert who["client_id"] == "cc-basic"
    assert who["scopes"] == ["mcp:read", "mcp:write"]


def test_the_modern_wire_is_protected_the_same(protected: Protected) -> None:
    message = {
        "jsonrpc": "2.0", "id": 1, "method": "tools/call",
        "params": {
            "name": "whoami", "arguments": {},
            "_meta": {"io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {}},
        },
    }
    headers = {"MCP-Protocol-Version": "2026-07-28", "Mcp-Method": "tools/call", "Mcp-Name": "whoami"}
    assert protected.request("POST", "/mcp", message, None, **headers).status == 401
    answer = protected.request("POST", "/mcp", message, protected.token(), **headers)
    assert answer.status == 200, answer.raw
    assert answer.body["result"]["structuredContent"]["client_id"] == "cc-basic"


# -- 403: scopes --------------------------------------------------------------------------------------------


def test_a_tool_needing_a_scope_the_token_lacks_gets_403_naming_it(protected: Protected) -> None:
    reader = protected.token("mcp:read")
    session = protected.open_session(reader)
    answer = protected.call(reader, session, "write", {"text": "x"})
    assert answer.status == 403
    params = _challenge_params(answer.challenge)
    assert params["error"] == "insufficient_scope"
    assert params["scope"].split() == ["mcp:write", "mcp:read"]  # what it needs, and what it keeps
    assert params["resource_metadata"].endswith(f"{WELL_KNOWN}/mcp")
    # Step up: a token with the scope, same client (same principal), same session.
    writer = protected.token("mcp:read mcp:write")
    stepped = protected.call(writer, session, "write", {"text": "x"})
    assert stepped.status == 200 and stepped.body["result"]["content"][0]["text"] == "wrote x"


def test_prompts_and_resource_templates_need_their_scopes(protected: Protected) -> None:
    reader = protected.token("mcp:read")
    session = protected.open_session(reader)
    get = {"jsonrpc": "2.0", "id": 3, "method": "prompts/get", "params": {"name": "admin_prompt"}}
    read = {"jsonrpc": "2.0", "id": 4, "method": "resources/read", "params": {"uri": "scoped://admin/x"}}
    assert protected.post(get, reader, session).status == 403
    assert protected.post(read, reader, session).status == 403
    opened = {"jsonrpc": "2.0", "id": 5, "method": "resources/read", "params": {"uri": "scoped://open"}}
    assert protected.post(opened, reader, session).status == 200
    admin = protected.token("mcp:read mcp:admin")
    assert protected.post(get, admin, session).status == 200
    assert protected.post(read, admin, session).body["result"]["contents"][0]["text"] == "admin x"


def test_a_cached_result_is_never_served_to_a_principal_without_the_scope(protected: Protected) -> None:
    admin = protected.token("mcp:read mcp:admin")
    session = protected.open_session(admin)
    for _ in range(2):  # the second answer comes from the shared cache
        assert protected.call(admin, session, "report").body["result"]["content"][0]["text"] == "the admin report"
    reader = protected.token("mcp:read", client="cc-post")
    other = protected.open_session(reader)
    assert protected.call(reader, other, "report").status == 403


def test_required_scopes_apply_to_every_request(issuer: AuthServer) -> None:
    server = Protected(issuer, "--auth-required-scopes", "mcp:read")
    try:
        answer = server.post({"jsonrpc": "2.0", "id": 1, "method": "ping"}, server.token("mcp:write"))
        assert answer.status == 403
        assert _challenge_params(answer.challenge)["scope"].split()[0] == "mcp:read"
        assert server.post({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"},
        }}, server.token("mcp:read")).status == 200
    finally:
        server.stop()


def test_lists_can_show_only_what_the_caller_may_use(issuer: AuthServer) -> None:
    server = Protected(issuer, "--auth-filter-lists")
    try:
        listing = {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}
        reader = server.token("mcp:read")
        session = server.open_session(reader)
        names = {tool["name"] for tool in server.post(listing, reader, session).body["result"]["tools"]}
        assert names == {"echo", "whoami"}
        admin = server.token("mcp:read mcp:write mcp:admin")
        names = {tool["name"] for tool in server.post(listing, admin, session).body["result"]["tools"]}
        assert names == {"echo", "whoami", "write", "report"}
        prompts = {"jsonrpc": "2.0", "id": 3, "method": "prompts/list"}
        assert server.post(prompts, reader, session).body["result"]["prompts"] == []
    finally:
        server.stop()


def test_without_the_filter_lists_show_everything(protected: Protected) -> None:
    reader = protected.token("mcp:read")
    session = protected.open_session(reader)
    listing = protected.post({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}, reader, session)
    assert {tool["name"] for tool in listing.body["result"]["tools"]} == {"echo", "whoami", "write", "report"}


def _found(server: Protected, token: str, session: str, tool: str, query: str, limit: int = 5) -> list[str]:
    arguments = {"query": query, "limit": limit}
    answer = server.call(token, session, tool, arguments)
    assert answer.status == 200, (answer.status, answer.raw)
    result = answer.body["result"]
    assert not result.get("isError"), result
    (kind,) = result["structuredContent"]
    return [match.get("uri") or match.get("uriTemplate") or match["name"] for match in result["structuredContent"][kind]]


@pytest.mark.parametrize("filtered", [True, False], ids=["filtered", "unfiltered"])
def test_searches_show_only_what_the_caller_may_use_when_lists_do(issuer: AuthServer, filtered: bool) -> None:
    """--auth-filter-lists covers search_tools, search_resources and search_prompts as it covers the lists:
    a caller finds only what its scopes let it use, and the best `limit` of those (the hidden ones take no
    places). Without the flag, searches show everything, as the lists do."""
    flags = ["--auth-filter-lists"] if filtered else []
    server = Protected(issuer, *flags, app="tests/apps/scoped_search.py:server")
    try:
        reader = server.token("mcp:read")
        session = server.open_session(reader)
        admin = server.token("mcp:read mcp:write mcp:admin")
        everything = {"echo", "write", "report", "whoami"}
        query = "needs token cache principal"
        assert set(_found(server, admin, session, "search_tools", query)) == everything
        assert set(_found(server, reader, session, "search_tools", query)) == (
            {"echo", "whoami"} if filtered else everything
        )
        # "needs" ranks the two scoped tools first: filtered, the best visible one still comes back.
        top = _found(server, reader, session, "search_tools", "needs mcp write admin token", limit=1)
        assert top in ([["echo"], ["whoami"]] if filtered else [["write"]])
        resources = _found(server, reader, session, "search_resources", "scoped open admin")
        assert set(resources) == ({"scoped://open"} if filtered else {"scoped://open", "scoped://admin/{name}"})
        assert set(_found(server, admin, session, "search_resources", "scoped open admin")) == {
            "scoped://open",
            "scoped://admin/{name}",
        }
        prompts = _found(server, reader, session, "search_prompts", "admin prompt")
        assert prompts == ([] if filtered else ["admin_prompt"])
        assert _found(server, admin, session, "search_prompts", "admin prompt") == ["admin_prompt"]
    finally:
        server.stop()


# -- sessions belong to their principal ---------------------------------------------------------------------


def test_another_principal_cannot_use_resume_or_end_a_session(protected: Protected) -> None:
    owner = protected.token("mcp:read")
    session = protected.open_session(owner)
    intruder = protected.token("mcp:read", client="cc-post")  # a valid token of another client
    assert protected.call(intruder, session, "echo", {"text": "x"}).status == 404
    get = protected.request("GET", "/mcp", None, intruder, Accept="text/event-stream", Mcp_Session_Id=session)
    assert get.status == 404
    delete = protected.request("DELETE", "/mcp", None, intruder, Mcp_Session_Id=session)
    assert delete.status == 404
    # The owner's session is untouched, and a fresh token of the same principal may use it.
    assert protected.call(protected.token("mcp:read"), session, "echo", {"text": "still"}).status == 200
    assert protected.request("DELETE", "/mcp", None, owner, Mcp_Session_Id=session).status == 200


def test_the_readme_example_defines_what_it_says() -> None:
    """The README's Authorization example, run as written: its Auth and its scopes are registered."""
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    section = readme.split("\n## Authorization\n", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    scope: dict[str, Any] = {}
    exec(compile(code, "README.md", "exec"), scope)
    server = scope["server"]
    assert server.auth.audience == "https://mcp.example.com/mcp"
    assert server.scopes.of("tools", "save") == {"files:write"}
    assert server.scopes.of_uri("files://x", fixed=False) == {"files:read"}


def test_without_auth_scopes_the_server_advertises_what_its_entries_ask_for(issuer: AuthServer) -> None:
    port = free_port()
    server = RunningServer("--auth-issuer", issuer.issuer, app=APP, port=port)
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
        conn.request("GET", WELL_KNOWN + "/mcp")
        document = json.loads(conn.getresponse().read())
        assert document["scopes_supported"] == ["mcp:admin", "mcp:write"]  # scoped.py's, sorted
        conn.close()
    finally:
        server.stop()
