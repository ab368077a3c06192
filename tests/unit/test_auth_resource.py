"""The resource server's pure parts: bearer-token parsing, the protected-resource metadata and its URLs
(RFC 9728), the challenges (RFC 6750 3), and which scopes a message needs."""

from __future__ import annotations

import pytest

from runtime.auth.resource import Auth
from runtime.auth.scopes import ScopeTable, scope_set
from workers.streamable.guard import MAX_TOKEN_BYTES, bearer_token


@pytest.mark.parametrize(
    ("value", "token"),
    [
        (b"Bearer abc.def-ghi_~+/", "abc.def-ghi_~+/"),
        (b"bearer abc==", "abc=="),
        (b"BEARER  abc ", "abc"),
        (b"Basic dXNlcjpwYXNz", None),
        (b"Bearer", None),
        (b"Bearer ", None),
        (b"Bearer a b", None),
        (b"Bearer a=b", None),  # "=" only at the end (b64token)
        (b"Bearer \xff", None),
        (b"Bearer " + b"a" * (MAX_TOKEN_BYTES + 1), None),
        (b"Bearer " + b"a" * MAX_TOKEN_BYTES, "a" * MAX_TOKEN_BYTES),
    ],
)
def test_bearer_token(value: bytes, token: str | None) -> None:
    assert bearer_token(value) == token


def test_metadata_url_inserts_the_well_known_prefix_before_the_path() -> None:
    auth = Auth(issuer="https://as.example", audience="https://mcp.example/public/mcp")
    assert auth.metadata_url == "https://mcp.example/.well-known/oauth-protected-resource/public/mcp"
    # Behind a proxy that strips /public, this process serves /mcp: both path-based URLs and the root.
    assert auth.metadata_paths("/mcp") == {
        "/.well-known/oauth-protected-resource/public/mcp",
        "/.well-known/oauth-protected-resource/mcp",
        "/.well-known/oauth-protected-resource",
    }
    root = Auth(issuer="https://as.example", audience="https://mcp.example/")
    assert root.metadata_url == "https://mcp.example/.well-known/oauth-protected-resource"


def test_metadata_document() -> None:
    auth = Auth(issuer="https://as.example", audience="https://mcp.example/mcp", scopes=("a", "b"))
    assert auth.metadata() == {
        "resource": "https://mcp.example/mcp",
        "authorization_servers": ["https://as.example"],
        "bearer_methods_supported": ["header"],
        "scopes_supported": ["a", "b"],
    }
    assert "scopes_supported" not in Auth(issuer="https://as.example", audience="https://m.example").metadata()


def test_challenges() -> None:
    auth = Auth(issuer="https://as.example", audience="https://mcp.example/mcp")
    meta = 'resource_metadata="https://mcp.example/.well-known/oauth-protected-resource/mcp"'
    assert auth.challenge() == f"Bearer {meta}".encode()
    assert auth.challenge("invalid_token") == f'Bearer error="invalid_token", {meta}'.encode()
    assert auth.challenge("insufficient_scope", ["b", "a", "b"]) == (
        f'Bearer error="insufficient_scope", scope="b a", {meta}'.encode()
    )


@pytest.mark.parametrize(
    ("issuer", "audience"),
    [("as.example", "https://m.example"), ("https://as.example", "ftp://m.example"), ("https://a", "https://m#x")],
)
def test_auth_refuses_urls_that_are_not_absolute_http(issuer: str, audience: str) -> None:
    with pytest.raises(ValueError):
        Auth(issuer=issuer, audience=audience)


@pytest.mark.parametrize("scope", ["", "a b", 'a"', "a\\", "a\n"])
def test_invalid_scopes_are_refused(scope: str) -> None:
    with pytest.raises(ValueError):
        scope_set([scope])
    with pytest.raises(ValueError):
        Auth(issuer="https://as.example", audience="https://m.example", scopes=(scope,))


def test_scope_set_takes_one_string_as_oauth_writes_it() -> None:
    assert scope_set("a b") == {"a", "b"}
    assert scope_set(None) == frozenset()


def _table() -> ScopeTable:
    table = ScopeTable()
    table.set("tools", "write", ["files:write"])
    table.set("tools", "open", None)
    table.set("prompts", "secret", ["p"])
    table.set("resources", "file:///a", ["r"])
    table.set("templates", "file:///{name}", ["t"])
    return table


FIXED = {"file:///a": object()}


@pytest.mark.parametrize(
    ("body", "needed"),
    [
        (b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"write"}}', {"files:write"}),
        (b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"open"}}', set()),
        (b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"unknown"}}', set()),
        (b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":7}}', set()),
        (b'{"jsonrpc":"2.0","id":1,"method":"prompts/get","params":{"name":"secret"}}', {"p"}),
        (b'{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":"file:///a"}}', {"r"}),
        # Not the fixed resource: the template that matches it decides.
        (b'{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":"file:///b"}}', {"t"}),
        (b'{"jsonrpc":"2.0","id":1,"method":"resources/subscribe","params":{"uri":"file:///b"}}', {"t"}),
        (b'{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":"other:/b"}}', set()),
        (
            b'{"jsonrpc":"2.0","id":1,"method":"completion/complete",'
            b'"params":{"ref":{"type":"ref/prompt","name":"secret"},"argument":{"name":"x","value":""}}}',
            {"p"},
        ),
        (
            b'{"jsonrpc":"2.0","id":1,"method":"completion/complete",'
            b'"params":{"ref":{"type":"ref/resource","uri":"file:///{name}"},"argument":{"name":"x","value":""}}}',
            {"t"},
        ),
        (b'{"jsonrpc":"2.0","id":1,"method":"tools/list"}', set()),
        (
            b'[{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"write"}},'
            b'{"jsonrpc":"2.0","id":2,"method":"prompts/get","params":{"name":"secret"}}]',
            {"files:write", "p"},
        ),
        (b"not json", set()),
        (b'{"method":"tools/call","params":[1]}', set()),
    ],
)
def test_what_a_message_needs(body: bytes, needed: set[str]) -> None:
    assert _table().needed(body, FIXED) == needed


def test_an_empty_table_reads_nothing() -> None:
    table = ScopeTable()
    assert not table
    assert table.needed(b'{"method":"tools/call","params":{"name":"write"}}', {}) == frozenset()
    table.set("tools", "write", ["a"])
    table.discard("tools", "write")
    assert not table


def test_the_decorators_record_scopes_and_removal_forgets_them() -> None:
    from runtime import Server

    server = Server("scoped")

    @server.tool(scopes=["w"])
    async def write() -> str:
        return "ok"

    @server.prompt(scopes="p q")
    def secret() -> str:
        return "s"

    @server.resource("file:///{name}", scopes=["t"])
    def template(name: str) -> str:
        return name

    assert server.scopes.of("tools", "write") == {"w"}
    assert server.scopes.of("prompts", "secret") == {"p", "q"}
    assert server.scopes.of_uri("file:///x", fixed=False) == {"t"}
    server.remove_tool("write")
    server.remove_prompt("secret")
    server.remove_resource("file:///{name}")
    assert not server.scopes
    with pytest.raises(ValueError):
        server.tool(scopes=["bad scope"])(write)


def test_audiences_compare_with_scheme_and_host_in_any_case() -> None:
    from runtime.auth.jwt import audiences, names_us

    ours = audiences("https://MCP.example.com/Mcp")
    assert names_us(ours, "HTTPS://mcp.EXAMPLE.com/Mcp")
    assert names_us(ours, ["https://other.example", "https://mcp.example.com/Mcp"])
    assert not names_us(ours, "https://mcp.example.com/mcp")  # the path is compared as it is
    assert not names_us(ours, "https://mcp.example.com")
    assert not names_us(ours, None) and not names_us(ours, 7) and not names_us(ours, [7])
