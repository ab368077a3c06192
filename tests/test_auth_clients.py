"""Real MCP clients against mcprt as an OAuth 2.1 resource server: our `Client` with `OAuth` (client
credentials with the three client authentications, authorization code + PKCE with dynamic and static
registration, step-up on 403, refresh on 401, opaque tokens), and the official Python SDK's OAuth client,
in front of a real authorization server (node-oidc-provider, tests/auth_server.py). Everything is a real
process on 127.0.0.1: `mcprt serve tests/apps/scoped.py:server --auth-issuer ...` with 1 and 2 workers."""

from __future__ import annotations

import asyncio
import base64
import json
import os
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx2
import pytest
from mcp import ClientSession
from mcp.client.auth import AuthorizationCodeResult, OAuthClientProvider
from mcp.client.auth.extensions.client_credentials import ClientCredentialsOAuthProvider
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import OAuthClientInformationFull, OAuthClientMetadata, OAuthToken

from runtime import Client
from runtime.client.auth import Authorize, OAuth, OAuthError, PrivateKey, headless_authorize
from tests.auth_server import REDIRECT_URI, AuthServer, free_port
from tests.conftest import RunningServer

pytestmark = pytest.mark.timeout(90)

APP = "tests/apps/scoped.py:server"
VERSIONS = ["2025-11-25", "2026-07-28"]
# A client the authorization server never grants mcp:admin (its registered scope lacks it).
LIMITED = {
    "client_id": "cc-limited",
    "client_secret": "cc-secret",
    "grant_types": ["client_credentials"],
    "response_types": [],
    "redirect_uris": [],
    "token_endpoint_auth_method": "client_secret_basic",
    "scope": "mcp:read mcp:write",
}


class Served:
    """`mcprt serve APP --auth-issuer ISSUER` on a free port."""

    def __init__(
        self, issuer: AuthServer, *flags: str, workers: int = 1, env: dict[str, str] | None = None
    ) -> None:
        self.issuer = issuer
        port = free_port()
        saved = dict(os.environ)
        os.environ.update(env or {})
        try:
            self.server = RunningServer(
                "--auth-issuer", issuer.issuer, "--no-pin", *flags, app=APP, workers=workers, port=port
            )
        finally:
            os.environ.clear()
            os.environ.update(saved)
        self.url = self.server.url

    def stop(self) -> None:
        self.server.stop()


@pytest.fixture(scope="module")
def issuer() -> Iterator[AuthServer]:
    with AuthServer.running({"clients": [LIMITED]}) as server:
        yield server


@pytest.fixture(scope="module", params=[1, 2], ids=["1-worker", "2-workers"])
def served(request: pytest.FixtureRequest, issuer: AuthServer) -> Iterator[Served]:
    server = Served(issuer, workers=request.param)
    yield server
    server.stop()


def counting(authorize: Authorize, calls: list[str]) -> Authorize:
    """The default headless authorizer (it follows the provider's login redirects with their cookies),
    recording each authorization URL."""

    async def wrapped(url: str) -> str:
        calls.append(url)
        return await authorize(url)

    return wrapped


def cc_oauth(issuer: AuthServer, client: str, scopes: list[str] | None = None) -> OAuth:
    if client == "cc-jwt":
        key = PrivateKey(issuer.client_jwk, "ES256", "cc-jwt-key")
        return OAuth(client_id=client, private_key=key, grant="client_credentials", scopes=scopes)
    return OAuth(client_id=client, client_secret="cc-secret", grant="client_credentials", scopes=scopes)


def claims(jwt: str) -> dict[str, Any]:
    """The payload of a JWT, unverified (the server verified it)."""
    payload = jwt.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


async def whoami(client: Client) -> dict[str, Any]:
    result = await client.call_tool("whoami", {})
    assert result.structured_content is not None
    return result.structured_content


# -- our Client: client credentials ------------------------------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("client_id", ["cc-basic", "cc-post", "cc-jwt"])
async def test_client_credentials_with_each_client_authentication(
    served: Served, issuer: AuthServer, client_id: str, version: str
) -> None:
    oauth = cc_oauth(issuer, client_id, ["mcp:read"])
    async with Client(served.url, protocol_version=version, auth=oauth) as client:
        assert (await client.call_tool("echo", {"text": "hi"})).content[0].text == "hi"  # type: ignore[union-attr]
        who = await whoami(client)
        assert who == {
            "issuer": issuer.issuer,
            "subject": client_id,
            "client_id": client_id,
            "scopes": ["mcp:read"],
        }
    tokens = await oauth.token_store.get_tokens(served.url)
    assert tokens is not None and tokens.resource == served.url and tokens.issuer == issuer.issuer
    # The token is for this server: its audience is the server's URL (RFC 8707 resource).
    assert claims(tokens.access_token)["aud"] == served.url


async def test_a_wrong_client_secret_is_an_oauth_error(served: Served) -> None:
    oauth = OAuth(client_id="cc-basic", client_secret="wrong", grant="client_credentials")
    with pytest.raises(OAuthError, match="invalid_client"):
        async with Client(served.url, auth=oauth):
            pass


# -- our Client: authorization code + PKCE -----------------------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
async def test_authorization_code_with_dynamic_registration(
    served: Served, issuer: AuthServer, version: str
) -> None:
    calls: list[str] = []
    oauth = OAuth(
        scopes=["mcp:read"], redirect_uri=REDIRECT_URI, authorize=counting(headless_authorize(), calls)
    )
    async with Client(served.url, protocol_version=version, auth=oauth) as client:
        who = await whoami(client)
        registration = await oauth.token_store.get_registration(issuer.issuer)
        assert registration is not None and registration.client_id not in ("public-app", "")
        assert who["subject"] == "alice" and who["client_id"] == registration.client_id
        assert who["scopes"] == ["mcp:read"]
    assert len(calls) == 1
    query = parse_qs(urlsplit(calls[0]).query)
    assert query["code_challenge_method"] == ["S256"] and query["resource"] == [served.url]
    tokens = await oauth.token_store.get_tokens(served.url)
    assert tokens is not None and tokens.refresh_token  # offline_access asked for and granted


@pytest.mark.parametrize("version", VERSIONS)
async def test_authorization_code_with_a_preregistered_public_client(
    served: Served, issuer: AuthServer, version: str
) -> None:
    oauth = OAuth(client_id="public-app", redirect_uri=REDIRECT_URI, scopes=["mcp:read", "mcp:write"])
    async with Client(served.url, protocol_version=version, auth=oauth) as client:
        assert (await client.call_tool("write", {"text": "x"})).content[0].text == "wrote x"  # type: ignore[union-attr]
        who = await whoami(client)
        assert who["client_id"] == "public-app" and who["subject"] == "alice"
        assert who["scopes"] == ["mcp:read", "mcp:write"]
    assert await oauth.token_store.get_registration(issuer.issuer) is None  # never registered


# -- step-up ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
async def test_step_up_on_insufficient_scope_client_credentials(
    served: Served, issuer: AuthServer, version: str
) -> None:
    oauth = cc_oauth(issuer, "cc-basic", ["mcp:read"])
    async with Client(served.url, protocol_version=version, auth=oauth) as client:
        assert (await whoami(client))["scopes"] == ["mcp:read"]
        first = await oauth.token_store.get_tokens(served.url)
        assert (await client.call_tool("write", {"text": "up"})).content[0].text == "wrote up"  # type: ignore[union-attr]
        assert (await whoami(client))["scopes"] == ["mcp:read", "mcp:write"]  # the union, in the same client
        second = await oauth.token_store.get_tokens(served.url)
        assert first is not None and second is not None and first.access_token != second.access_token


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("client_id", [None, "public-app"], ids=["dynamic-registration", "public-app"])
async def test_step_up_on_insufficient_scope_authorization_code(
    served: Served, issuer: AuthServer, version: str, client_id: str | None
) -> None:
    """A user's client re-authorizes with the union of scopes; the session goes on (same principal)."""
    calls: list[str] = []
    oauth = OAuth(
        client_id=client_id,
        redirect_uri=REDIRECT_URI,
        scopes=["mcp:read"],
        authorize=counting(headless_authorize(), calls),
    )
    async with Client(served.url, protocol_version=version, auth=oauth) as client:
        session = client.transport.session_id  # type: ignore[attr-defined]
        assert (await whoami(client))["scopes"] == ["mcp:read"]
        assert (await client.call_tool("write", {"text": "up"})).content[0].text == "wrote up"  # type: ignore[union-attr]
        assert client.transport.session_id == session  # type: ignore[attr-defined]
        assert (await whoami(client))["scopes"] == ["mcp:read", "mcp:write"]
    assert len(calls) == 2
    stepped = parse_qs(urlsplit(calls[1]).query)["scope"][0].split()
    assert {"mcp:read", "mcp:write", "offline_access"} <= set(stepped)


async def test_step_up_to_a_scope_never_granted_is_a_clear_error(served: Served) -> None:
    """cc-limited may not have mcp:admin: the authorization server refuses the stepped-up grant, and the
    client says so at once (no loop); the session stays usable."""
    oauth = OAuth(
        client_id="cc-limited", client_secret="cc-secret", grant="client_credentials", scopes=["mcp:read"]
    )
    async with Client(served.url, auth=oauth) as client:
        with pytest.raises(OAuthError, match="invalid_scope"):
            await client.call_tool("report", {})
        assert (await client.call_tool("echo", {"text": "still"})).content[0].text == "still"  # type: ignore[union-attr]


async def test_step_up_that_never_covers_the_scope_stops_after_max_attempts(served: Served) -> None:
    """An authorizer whose user never grants mcp:admin (it drops the scope from the request): the client
    asks at most `max_attempts` times, then fails with OAuthError."""
    calls: list[str] = []
    inner = headless_authorize()

    async def stingy(url: str) -> str:
        calls.append(url)
        parts = urlsplit(url)
        query = parse_qs(parts.query)
        query["scope"] = [" ".join(s for s in query["scope"][0].split() if s != "mcp:admin")]
        return await inner(parts._replace(query=urlencode({k: v[0] for k, v in query.items()})).geturl())

    oauth = OAuth(client_id="public-app", redirect_uri=REDIRECT_URI, scopes=["mcp:read"], authorize=stingy)
    async with Client(served.url, auth=oauth) as client:
        with pytest.raises(OAuthError, match="authorization rounds"):
            await client.call_tool("report", {})
        assert len(calls) == 1 + oauth.max_attempts  # the first authorization, then 3 rounds, no more
        assert (await client.call_tool("echo", {"text": "ok"})).content[0].text == "ok"  # type: ignore[union-attr]


# -- refresh ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def skewed() -> Iterator[tuple[AuthServer, Served]]:
    """Access tokens the server refuses ~3 s after issue (exp = now-27 s, the verifier's leeway is 30 s),
    while the token response says 300 s: the client learns of the expiry from a 401. The issuer has a path,
    so a token endpoint guessed from the origin would not be found."""
    with AuthServer.running({"exp": -27, "path": "/tenant"}) as server:
        running = Served(server, workers=2)
        yield server, running
        running.stop()


@pytest.mark.parametrize("version", VERSIONS)
async def test_a_401_after_expiry_refreshes_and_the_session_goes_on(
    skewed: tuple[AuthServer, Served], version: str
) -> None:
    issuer, served = skewed
    calls: list[str] = []
    oauth = OAuth(
        client_id="public-app",
        redirect_uri=REDIRECT_URI,
        scopes=["mcp:read"],
        authorize=counting(headless_authorize(), calls),
    )
    async with Client(served.url, protocol_version=version, auth=oauth) as client:
        session = client.transport.session_id  # type: ignore[attr-defined]
        before = await whoami(client)
        first = await oauth.token_store.get_tokens(served.url)
        await asyncio.sleep(3.2)
        assert first is not None and not first.expired()  # the client still believes in it: the 401 tells
        after = await whoami(client)
        second = await oauth.token_store.get_tokens(served.url)
        assert second is not None and second.access_token != first.access_token
        assert second.refresh_token and second.refresh_token != first.refresh_token  # rotated: a refresh
        assert after == before
        assert client.transport.session_id == session  # type: ignore[attr-defined]
    assert len(calls) == 1  # refreshed, never authorized again
    assert issuer.issuer.endswith("/tenant")


async def test_concurrent_requests_after_expiry_refresh_once(skewed: tuple[AuthServer, Served]) -> None:
    """Eight calls meet the expiry together: one refresh serves them all (a second refresh with the same
    rotated refresh token would make the provider revoke the grant, and the client authorize again)."""
    _, served = skewed
    calls: list[str] = []
    oauth = OAuth(
        client_id="public-app",
        redirect_uri=REDIRECT_URI,
        scopes=["mcp:read"],
        authorize=counting(headless_authorize(), calls),
    )
    async with Client(served.url, auth=oauth) as client:
        await whoami(client)
        first = await oauth.token_store.get_tokens(served.url)
        await asyncio.sleep(3.2)
        results = await asyncio.gather(*(client.call_tool("echo", {"text": str(n)}) for n in range(8)))
        assert [r.content[0].text for r in results] == [str(n) for n in range(8)]  # type: ignore[union-attr]
        second = await oauth.token_store.get_tokens(served.url)
        assert first is not None and second is not None and second.refresh_token != first.refresh_token
    assert len(calls) == 1


async def test_a_refused_refresh_falls_back_to_authorizing_again() -> None:
    """The refresh token is gone too (refreshTtl 1 s): the refresh is refused, the tokens dropped, and the
    client authorizes again, once; the session goes on (the same user and client: the same principal)."""
    with AuthServer.running({"exp": -27, "refreshTtl": 1}) as server:
        served = Served(server)
        try:
            calls: list[str] = []
            oauth = OAuth(
                client_id="public-app",
                redirect_uri=REDIRECT_URI,
                scopes=["mcp:read"],
                authorize=counting(headless_authorize(), calls),
            )
            async with Client(served.url, auth=oauth) as client:
                session = client.transport.session_id  # type: ignore[attr-defined]
                before = await whoami(client)
                await asyncio.sleep(3.2)
                assert await whoami(client) == before
                assert client.transport.session_id == session  # type: ignore[attr-defined]
            assert len(calls) == 2
        finally:
            served.stop()


async def test_a_short_lived_token_is_refreshed_before_it_expires(issuer: AuthServer) -> None:
    """ttl 4 s: the client refreshes by the clock (not before every request), the session goes on."""
    with AuthServer.running({"ttl": 4}) as short:
        served = Served(short)
        try:
            calls: list[str] = []
            oauth = OAuth(
                client_id="public-app",
                redirect_uri=REDIRECT_URI,
                scopes=["mcp:read"],
                authorize=counting(headless_authorize(), calls),
            )
            async with Client(served.url, auth=oauth) as client:
                session = client.transport.session_id  # type: ignore[attr-defined]
                await whoami(client)
                first = await oauth.token_store.get_tokens(served.url)
                await whoami(client)
                assert await oauth.token_store.get_tokens(served.url) is first  # fresh: not refreshed
                await asyncio.sleep(4.2)
                assert (await whoami(client))["subject"] == "alice"
                second = await oauth.token_store.get_tokens(served.url)
                assert first is not None and second is not None
                assert (
                    second.access_token != first.access_token and second.refresh_token != first.refresh_token
                )
                assert client.transport.session_id == session  # type: ignore[attr-defined]
            assert len(calls) == 1
        finally:
            served.stop()


# -- sessions belong to their principal -------------------------------------------------------------------


async def test_two_clients_have_their_own_sessions_and_principals(served: Served, issuer: AuthServer) -> None:
    async with (
        Client(served.url, auth=cc_oauth(issuer, "cc-basic", ["mcp:read"])) as one,
        Client(served.url, auth=cc_oauth(issuer, "cc-post", ["mcp:read"])) as two,
    ):
        assert one.transport.session_id != two.transport.session_id  # type: ignore[attr-defined]
        assert (await whoami(one))["client_id"] == "cc-basic"
        assert (await whoami(two))["client_id"] == "cc-post"
        # The second client's token on the first's session: refused as if the session did not exist.
        token = await two.transport.auth.access_token()  # type: ignore[attr-defined]
        answer = await asyncio.to_thread(_raw_call, served.url, token, one.transport.session_id)  # type: ignore[attr-defined]
        assert answer == 404
        assert (await whoami(one))["client_id"] == "cc-basic"  # untouched


def _raw_call(url: str, token: str, session: str) -> int:
    import http.client
    import json

    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        body = {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "tools/call",
            "params": {"name": "whoami", "arguments": {}},
        }
        headers = {
            "Authorization": f"Bearer {token}",
            "Mcp-Session-Id": session,
            "MCP-Protocol-Version": "2025-11-25",
            "Accept": "application/json, text/event-stream",
            "Content-Type": "application/json",
        }
        conn.request("POST", parts.path, json.dumps(body), headers)
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


# -- opaque tokens ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def opaque() -> Iterator[tuple[AuthServer, Served]]:
    with AuthServer.running({"format": "opaque"}) as server:
        running = Served(
            server,
            "--auth-introspect",
            "--auth-client-id",
            "rs",
            workers=2,
            env={"MCPRT_AUTH_CLIENT_SECRET": "rs-secret"},
        )
        yield server, running
        running.stop()


@pytest.mark.parametrize("version", VERSIONS)
async def test_opaque_tokens_by_introspection(opaque: tuple[AuthServer, Served], version: str) -> None:
    issuer, served = opaque
    oauth = cc_oauth(issuer, "cc-post", ["mcp:read"])
    async with Client(served.url, protocol_version=version, auth=oauth) as client:
        who = await whoami(client)
        assert who["client_id"] == "cc-post" and who["scopes"] == ["mcp:read"]
        tokens = await oauth.token_store.get_tokens(served.url)
        assert tokens is not None and tokens.access_token.count(".") != 2  # not a JWT
        assert (await client.call_tool("write", {"text": "o"})).content[0].text == "wrote o"  # type: ignore[union-attr]
        assert (await whoami(client))["scopes"] == ["mcp:read", "mcp:write"]


# -- the official Python SDK's client ---------------------------------------------------------------------


class SdkStorage:
    def __init__(self, client_info: OAuthClientInformationFull | None = None) -> None:
        self.tokens: OAuthToken | None = None
        self.client_info = client_info

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client_info

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client_info = client_info


async def _sdk_tour(url: str, auth: httpx2.Auth) -> dict[str, Any]:
    async with (
        httpx2.AsyncClient(auth=auth, timeout=20) as http,
        streamable_http_client(url, http_client=http) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        names = {tool.name for tool in (await session.list_tools()).tools}
        assert names == {"echo", "whoami", "write", "report"}
        echoed = await session.call_tool("echo", {"text": "from the SDK"})
        assert echoed.content[0].text == "from the SDK" and not echoed.is_error  # type: ignore[union-attr]
        who = await session.call_tool("whoami", {})
        assert who.structured_content is not None
        return who.structured_content


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
async def test_sdk_client_credentials(served: Served, issuer: AuthServer, method: str) -> None:
    client_id = "cc-basic" if method == "client_secret_basic" else "cc-post"
    provider = ClientCredentialsOAuthProvider(
        served.url,
        SdkStorage(),
        client_id,
        "cc-secret",
        token_endpoint_auth_method=method,
        scope="mcp:read",
        issuer=issuer.issuer,  # type: ignore[arg-type]
    )
    who = await _sdk_tour(served.url, provider)
    # The SDK asks for the authorization server's scopes_supported when the server names none.
    # The SDK asks for scopes_supported, which defaults to what the app's entries declare.
    assert who["client_id"] == client_id and {"mcp:admin", "mcp:write"} <= set(who["scopes"])


def sdk_login() -> tuple[Any, Any, list[str]]:
    """The SDK's redirect handler runs our headless login (the provider's redirects with their cookies),
    its callback handler hands back the code from the final redirect."""
    landed: list[str] = []
    login = headless_authorize()

    async def redirect_handler(url: str) -> None:
        landed.append(await login(url))

    async def callback_handler() -> AuthorizationCodeResult:
        query = parse_qs(urlsplit(landed[-1]).query)
        return AuthorizationCodeResult(
            code=query["code"][0], state=query["state"][0], iss=query.get("iss", [None])[0]
        )

    return redirect_handler, callback_handler, landed


def sdk_metadata() -> OAuthClientMetadata:
    return OAuthClientMetadata(
        redirect_uris=[REDIRECT_URI],  # type: ignore[list-item]
        token_endpoint_auth_method="none",
        grant_types=["authorization_code", "refresh_token"],
        response_types=["code"],
        client_name="sdk-test",
    )


@pytest.mark.parametrize("registered", [False, True], ids=["dynamic-registration", "public-app"])
async def test_sdk_authorization_code(served: Served, registered: bool) -> None:
    redirect_handler, callback_handler, landed = sdk_login()
    metadata = sdk_metadata()
    info = (
        OAuthClientInformationFull(client_id="public-app", **metadata.model_dump(exclude_none=True))
        if registered
        else None
    )
    provider = OAuthClientProvider(
        served.url,
        metadata,
        SdkStorage(info),
        redirect_handler=redirect_handler,
        callback_handler=callback_handler,
    )
    who = await _sdk_tour(served.url, provider)
    assert who["subject"] == "alice" and {"mcp:admin", "mcp:write"} <= set(who["scopes"])
    assert (who["client_id"] == "public-app") is registered
    assert len(landed) == 1


async def test_sdk_steps_up_on_our_403(issuer: AuthServer) -> None:
    """The server's 401 names mcp:read only (--auth-scopes): the SDK gets a read token, our 403
    insufficient_scope on `write` makes it re-authorize with the union, and the call succeeds."""
    served = Served(issuer, "--auth-scopes", "mcp:read")
    try:
        redirect_handler, callback_handler, landed = sdk_login()
        metadata = sdk_metadata()
        info = OAuthClientInformationFull(client_id="public-app", **metadata.model_dump(exclude_none=True))
        provider = OAuthClientProvider(
            served.url,
            metadata,
            SdkStorage(info),
            redirect_handler=redirect_handler,
            callback_handler=callback_handler,
        )
        async with (
            httpx2.AsyncClient(auth=provider, timeout=20) as http,
            streamable_http_client(served.url, http_client=http) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            who = (await session.call_tool("whoami", {})).structured_content
            assert who is not None and "mcp:write" not in who["scopes"]
            wrote = await session.call_tool("write", {"text": "sdk"})
            assert wrote.content[0].text == "wrote sdk"  # type: ignore[union-attr]
            who = (await session.call_tool("whoami", {})).structured_content
            assert who is not None and {"mcp:read", "mcp:write"} <= set(who["scopes"])
        assert len(landed) == 2
    finally:
        served.stop()


async def test_sdk_private_key_jwt(served: Served, issuer: AuthServer) -> None:
    from joserfc.jwk import ECKey
    from mcp.client.auth.extensions.client_credentials import PrivateKeyJWTOAuthProvider, SignedJWTParameters

    pem = ECKey.import_key(issuer.client_jwk).as_pem(private=True).decode()
    assertion = SignedJWTParameters(
        issuer="cc-jwt", subject="cc-jwt", signing_key=pem, signing_algorithm="ES256"
    )
    provider = PrivateKeyJWTOAuthProvider(
        served.url,
        SdkStorage(),
        "cc-jwt",
        assertion.create_assertion_provider(),
        scope="mcp:read",
        issuer=issuer.issuer,
    )
    who = await _sdk_tour(served.url, provider)
    assert who["client_id"] == "cc-jwt" and {"mcp:admin", "mcp:write"} <= set(who["scopes"])


async def test_sdk_recovers_from_our_401_in_the_same_session(skewed: tuple[AuthServer, Served]) -> None:
    """The token's exp passes while the SDK still trusts expires_in: after our 401 the SDK gets a new token
    (mcp 2.3 authorizes again on a 401 rather than refresh) for the same principal, and its session goes on."""
    _, served = skewed
    redirect_handler, callback_handler, landed = sdk_login()
    metadata = sdk_metadata()
    info = OAuthClientInformationFull(client_id="public-app", **metadata.model_dump(exclude_none=True))
    storage = SdkStorage(info)
    provider = OAuthClientProvider(
        served.url, metadata, storage, redirect_handler=redirect_handler, callback_handler=callback_handler
    )
    async with (
        httpx2.AsyncClient(auth=provider, timeout=20) as http,
        streamable_http_client(served.url, http_client=http) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        assert (await session.call_tool("echo", {"text": "a"})).content[0].text == "a"  # type: ignore[union-attr]
        first = storage.tokens
        await asyncio.sleep(3.2)
        assert (await session.call_tool("echo", {"text": "b"})).content[0].text == "b"  # type: ignore[union-attr]
        assert first is not None and storage.tokens is not None
        assert storage.tokens.access_token != first.access_token
    assert 1 <= len(landed) <= 2  # 2 with mcp 2.3 (see above), 1 should the SDK refresh instead


async def test_plain_httpx_with_a_static_token(served: Served, issuer: AuthServer) -> None:
    token = issuer.token(served.url, "mcp:read")
    headers = {"Accept": "application/json, text/event-stream", "Authorization": f"Bearer {token}"}
    init = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": {"name": "h", "version": "1"},
        },
    }
    async with httpx2.AsyncClient(timeout=10) as http:
        assert (await http.post(served.url, json=init)).status_code == 401  # no token
        opened = await http.post(served.url, json=init, headers=headers)
        assert opened.status_code == 200
        headers |= {"Mcp-Session-Id": opened.headers["mcp-session-id"], "MCP-Protocol-Version": "2025-11-25"}
        assert (
            await http.post(
                served.url, json={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers=headers
            )
        ).status_code == 202
        call = {
            "jsonrpc": "2.0",
            "id": 2,
            "method": "tools/call",
            "params": {"name": "write", "arguments": {"text": "x"}},
        }
        refused = await http.post(served.url, json=call, headers=headers)
        assert (
            refused.status_code == 403 and 'error="insufficient_scope"' in refused.headers["www-authenticate"]
        )
        call["params"] = {"name": "whoami", "arguments": {}}
        answered = await http.post(served.url, json=call, headers=headers)
        assert answered.status_code == 200, answered.text
        assert "cc-basic" in answered.text
        assert (await http.delete(served.url, headers=headers)).status_code == 200
