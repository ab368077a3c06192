"""The token verifiers (runtime/auth) against a real authorization server: node-oidc-provider on 127.0.0.1
(tests/auth_server.py), real sockets, no mocks. Plus unit tests of the pure parts."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import secrets
import ssl
import time
from collections.abc import Iterator
from typing import Any

import pytest
from joserfc import jws
from joserfc.jwk import OctKey

from runtime.auth.cache import SingleFlight, TokenCache
from runtime.auth.fetch import FetchError, plain_http_allowed, request_json
from runtime.auth.introspection import IntrospectionVerifier
from runtime.auth.jwks import parse_jwks
from runtime.auth.jwt import JwtVerifier, check_times, parse_scopes
from runtime.auth.metadata import fetch_metadata, metadata_urls
from runtime.auth.principal import InvalidToken, Principal, VerifierUnavailable
from tests.auth_server import AuthServer, free_port

AUD = "http://127.0.0.1:8000/mcp"


@pytest.fixture(scope="module")
def rs_server() -> Iterator[AuthServer]:
    with AuthServer.running({"alg": "RS256"}) as server:
        yield server


@pytest.fixture(scope="module")
def es_server() -> Iterator[AuthServer]:
    with AuthServer.running({"alg": "ES256"}) as server:
        yield server


@pytest.fixture(scope="module")
def opaque_server() -> Iterator[AuthServer]:
    with AuthServer.running({"format": "opaque"}) as server:
        yield server


def header(token: str) -> dict[str, Any]:
    return dict(json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "==")))


def b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def with_header(token: str, **fields: Any) -> str:
    _, payload, signature = token.split(".")
    return ".".join([b64({**header(token), **fields}), payload, signature])


async def reason(verifier: Any, token: str) -> str:
    with pytest.raises(InvalidToken) as caught:
        await verifier.verify(token)
    return caught.value.reason


# -- valid tokens


@pytest.mark.parametrize("client", ["cc-basic", "cc-post", "cc-jwt"])
async def test_valid_rs256(rs_server: AuthServer, client: str) -> None:
    token = rs_server.token(AUD, "mcp:read mcp:write", client=client)
    assert header(token) == {"alg": "RS256", "typ": "at+jwt", "kid": "rs-1"}
    verifier = JwtVerifier(rs_server.issuer, AUD)
    try:
        principal = await verifier.verify(token)
    finally:
        await verifier.aclose()
    assert principal.issuer == rs_server.issuer
    assert principal.subject == client and principal.client_id == client
    assert principal.scopes == {"mcp:read", "mcp:write"}
    assert principal.expires_at is not None and 250 < principal.expires_at - time.time() <= 300
    assert principal.claims["aud"] == AUD


async def test_valid_es256(es_server: AuthServer) -> None:
    token = es_server.token(AUD, "mcp:admin")
    assert header(token)["alg"] == "ES256"
    verifier = JwtVerifier(es_server.issuer, [AUD, "http://other.example/mcp"], algorithms=("ES256",))
    principal = await verifier.verify(token)
    assert principal.scopes == {"mcp:admin"}
    assert principal.has_scopes({"mcp:admin"})
    await verifier.aclose()


async def test_issuer_with_a_path_found_by_rfc8414_path_insertion() -> None:
    with AuthServer.running({"path": "/tenant"}) as server:
        assert server.issuer.endswith("/tenant")
        metadata = await fetch_metadata(server.issuer)
        assert metadata.jwks_uri == server.issuer + "/jwks"
        assert metadata.introspection_endpoint == server.issuer + "/token/introspection"
        verifier = JwtVerifier(server.issuer, AUD)
        assert (await verifier.verify(server.token(AUD))).issuer == server.issuer
        await verifier.aclose()


def test_metadata_urls() -> None:
    assert metadata_urls("https://as.example/tenant/") == [
        "https://as.example/.well-known/oauth-authorization-server/tenant",
        "https://as.example/.well-known/openid-configuration/tenant",
        "https://as.example/tenant/.well-known/openid-configuration",
    ]
    assert metadata_urls("https://as.example") == [
        "https://as.example/.well-known/oauth-authorization-server",
        "https://as.example/.well-known/openid-configuration",
    ]


async def test_metadata_of_another_issuer_is_refused(rs_server: AuthServer) -> None:
    # Served at the right place, but the document names "http://127.0.0.1:PORT", not ".../": never
    # trusted for another issuer string (RFC 8414 3.3), so its jwks_uri is never used.
    with pytest.raises(VerifierUnavailable, match="names another issuer"):
        await fetch_metadata(rs_server.issuer + "/")
    with pytest.raises(VerifierUnavailable, match="not found"):
        await fetch_metadata(rs_server.issuer + "/other")  # nothing there at all


# -- times


async def test_expired(rs_server: AuthServer) -> None:
    verifier = JwtVerifier(rs_server.issuer, AUD, leeway=0)
    assert await reason(verifier, rs_server.expired_token(AUD)) == "expired"
    await verifier.aclose()


async def test_leeway_bounds_expiry(rs_server: AuthServer) -> None:
    token = rs_server.token(AUD, test_exp=-10)
    strict = JwtVerifier(rs_server.issuer, AUD, leeway=0)
    lenient = JwtVerifier(rs_server.issuer, AUD, leeway=30)
    assert await reason(strict, token) == "expired"
    assert (await lenient.verify(token)).expires_at is not None
    with pytest.raises(ValueError):
        JwtVerifier(rs_server.issuer, AUD, leeway=61)
    await strict.aclose()
    await lenient.aclose()


async def test_not_yet_valid(rs_server: AuthServer) -> None:
    verifier = JwtVerifier(rs_server.issuer, AUD, leeway=30)
    assert await reason(verifier, rs_server.token(AUD, test_nbf=600)) == "not valid yet (nbf)"
    assert await reason(verifier, rs_server.token(AUD, test_iat=600)) == "issued in the future (iat)"
    assert (await verifier.verify(rs_server.token(AUD, test_nbf=10))).subject == "cc-basic"  # within leeway
    await verifier.aclose()


# -- audience, issuer, signature, typ, alg


async def test_wrong_audience(rs_server: AuthServer) -> None:
    verifier = JwtVerifier(rs_server.issuer, AUD)
    assert await reason(verifier, rs_server.other_audience_token()) == "not for this audience"
    await verifier.aclose()


async def test_wrong_issuer(rs_server: AuthServer) -> None:
    with AuthServer.running({"alg": "RS256"}) as other:
        token = other.token(AUD)
        verifier = JwtVerifier(rs_server.issuer, AUD)
        # Another provider's key (same kid "rs-1"): the signature does not verify with ours.
        assert await reason(verifier, token) == "bad signature"
        # Keys shared with (or served by) another issuer: the signature verifies, `iss` does not match.
        mixed = JwtVerifier(rs_server.issuer, AUD, jwks_uri=other.url("/jwks"))
        assert await reason(mixed, token) == "another issuer"
        await verifier.aclose()
        await mixed.aclose()


async def test_tampered(rs_server: AuthServer) -> None:
    token = rs_server.token(AUD, "mcp:read")
    head, payload, signature = token.split(".")
    verifier = JwtVerifier(rs_server.issuer, AUD)
    flipped = signature[:10] + ("A" if signature[10] != "A" else "B") + signature[11:]
    assert await reason(verifier, f"{head}.{payload}.{flipped}") == "bad signature"
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["scope"] = "mcp:read mcp:admin"
    assert await reason(verifier, f"{head}.{b64(claims)}.{signature}") == "bad signature"
    assert await reason(verifier, "not-a-jwt") == "not a compact JWS of acceptable size"
    assert (await reason(verifier, "a.b.c")).startswith("malformed JWS")
    await verifier.aclose()


async def test_typ_must_be_at_jwt(rs_server: AuthServer) -> None:
    verifier = JwtVerifier(rs_server.issuer, AUD)
    assert await reason(verifier, rs_server.token(AUD, test_typ="JWT")) == "typ is not at+jwt"
    assert (await verifier.verify(rs_server.token(AUD, test_typ="application/at+jwt"))).scopes == {"mcp:read"}
    # An ID token of the same issuer (authorization code + PKCE, no browser): signed by the same key.
    answer = rs_server.authorization_code(AUD, "openid offline_access mcp:read")
    assert header(answer["id_token"]).get("typ", "JWT") == "JWT"
    assert await reason(verifier, answer["id_token"]) == "typ is not at+jwt"
    principal = await verifier.verify(answer["access_token"])
    assert principal.subject == "alice" and principal.client_id == "public-app"
    refreshed = rs_server.refresh(answer["refresh_token"], AUD)
    assert (await verifier.verify(refreshed["access_token"])).key == principal.key
    await verifier.aclose()


async def test_alg_not_allowed(rs_server: AuthServer) -> None:
    token = rs_server.token(AUD)
    only_es = JwtVerifier(rs_server.issuer, AUD, algorithms=("ES256",))
    assert await reason(only_es, token) == "alg not allowed"
    await only_es.aclose()
    verifier = JwtVerifier(rs_server.issuer, AUD)
    _, payload, _ = token.split(".")
    assert await reason(verifier, f"{b64({'alg': 'none', 'typ': 'at+jwt'})}.{payload}.") == "alg not allowed"
    # HMAC keyed with the issuer's public key (the classic confusion): refused before any key is used.
    jwks = await request_json(rs_server.url("/jwks"))
    forged = jws.serialize_compact(
        {"alg": "HS256", "typ": "at+jwt", "kid": "rs-1"},
        base64.urlsafe_b64decode(payload + "=="),
        OctKey.import_key(json.dumps(jwks["keys"][0]).encode()),
        algorithms=["HS256"],
    )
    assert await reason(verifier, forged) == "alg not allowed"
    await verifier.aclose()
    for algorithms in (("none",), ("HS256",), ()):
        with pytest.raises(ValueError):
            JwtVerifier(rs_server.issuer, AUD, algorithms=algorithms)


async def test_registered_client_gets_tokens(rs_server: AuthServer) -> None:
    client = rs_server.register(
        {
            "grant_types": ["client_credentials"],
            "response_types": [],
            "redirect_uris": [],
            "token_endpoint_auth_method": "client_secret_basic",
            "scope": "mcp:read",
        }
    )
    token = rs_server.token(AUD, "mcp:read", client=client["client_id"], secret=client["client_secret"])
    verifier = JwtVerifier(rs_server.issuer, AUD)
    assert (await verifier.verify(token)).client_id == client["client_id"]
    await verifier.aclose()


async def test_short_ttl_variant_expires_for_real() -> None:
    with AuthServer.running({"ttl": 1, "alg": "ES256"}) as server:
        answer = server.token_response(AUD)
        assert answer["expires_in"] == 1
        claims = json.loads(base64.urlsafe_b64decode(answer["access_token"].split(".")[1] + "=="))
        assert claims["exp"] - claims["iat"] == 1
        verifier = JwtVerifier(server.issuer, AUD, leeway=0)
        principal = await verifier.verify(answer["access_token"])
        assert principal.expires_at == claims["exp"]
        await asyncio.sleep(max(0.0, claims["exp"] - time.time()) + 0.05)
        assert verifier.cached(answer["access_token"]) is None
        assert await reason(verifier, answer["access_token"]) == "expired"
        await verifier.aclose()


# -- JWKS: rotation, rate limit, outage


async def test_key_rotation_refetches_once() -> None:
    with AuthServer.running({"keys": [{"alg": "RS256", "kid": "old"}]}) as server:
        verifier = JwtVerifier(server.issuer, AUD, min_refresh_interval=0)
        old = server.token(AUD)
        await verifier.verify(old)
        assert verifier.jwks.fetches == 1
        server.restart({"keys": [{"alg": "RS256", "kid": "new"}]})
        new = server.token(AUD)
        assert header(new)["kid"] == "new"
        assert (await verifier.verify(new)).subject == "cc-basic"
        assert verifier.jwks.fetches == 2
        await verifier.verify(server.token(AUD))  # known kid now: no fetch
        assert verifier.jwks.fetches == 2
        await verifier.aclose()


async def test_unknown_kid_flood_is_rate_limited(rs_server: AuthServer) -> None:
    verifier = JwtVerifier(rs_server.issuer, AUD, min_refresh_interval=0.5)
    token = rs_server.token(AUD)
    await verifier.verify(token)
    assert verifier.jwks.fetches == 1
    await asyncio.sleep(0.55)
    forged = [with_header(token, kid=secrets.token_hex(8)) for _ in range(300)]
    results = await asyncio.gather(*(verifier.verify(t) for t in forged), return_exceptions=True)
    assert all(isinstance(r, InvalidToken) for r in results)
    assert verifier.jwks.fetches == 2  # one refetch for the whole flood
    for t in forged[:50]:
        assert "no RS256 key" in await reason(verifier, t)
    assert verifier.jwks.fetches == 2
    await asyncio.sleep(0.55)
    assert "no RS256 key" in await reason(verifier, with_header(token, kid="again"))
    assert verifier.jwks.fetches == 3  # the interval passed: one more
    await verifier.aclose()


async def test_jwks_unreachable_is_unavailable() -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    verifier = JwtVerifier(closed, AUD)
    token = f"{b64({'alg': 'RS256', 'typ': 'at+jwt', 'kid': 'k'})}.{b64({'iss': closed})}.AAAA"
    with pytest.raises(VerifierUnavailable):
        await verifier.verify(token)
    explicit = JwtVerifier(closed, AUD, jwks_uri=closed + "/jwks")
    with pytest.raises(VerifierUnavailable):
        await explicit.verify(token)
    await verifier.aclose()
    await explicit.aclose()


async def test_stale_keys_kept_while_refresh_fails() -> None:
    server = AuthServer()
    server.start()
    try:
        first, second = server.token(AUD), server.token(AUD, "mcp:write")
        verifier = JwtVerifier(server.issuer, AUD, jwks_max_age=0, min_refresh_interval=0)
        await verifier.verify(first)
        unknown = with_header(first, kid="rotated")
    finally:
        server.stop()
    assert (await verifier.verify(second)).scopes == {"mcp:write"}  # the refresh failed, the keys stayed
    assert verifier.jwks.fetches >= 2
    with pytest.raises(VerifierUnavailable):  # a kid we lack while the JWKS is down: cannot decide
        await verifier.verify(unknown)
    await verifier.aclose()


# -- the cache


async def test_cache_hit_and_expiry(rs_server: AuthServer) -> None:
    now = [time.time()]
    verifier = JwtVerifier(rs_server.issuer, AUD, leeway=0, clock=lambda: now[0])
    token = rs_server.token(AUD, "mcp:read")
    assert verifier.cached(token) is None
    principal = await verifier.verify(token)
    assert verifier.cached(token) is principal
    assert await verifier.verify(token) is principal
    assert principal.expires_at is not None
    now[0] = principal.expires_at - 1
    assert verifier.cached(token) is principal
    now[0] = principal.expires_at
    assert verifier.cached(token) is None
    assert await reason(verifier, token) == "expired"
    await verifier.aclose()


async def test_concurrent_verifications_share_one(rs_server: AuthServer) -> None:
    verifier = JwtVerifier(rs_server.issuer, AUD)
    token = rs_server.token(AUD)
    principals = await asyncio.gather(*(verifier.verify(token) for _ in range(20)))
    assert all(p is principals[0] for p in principals)
    assert verifier.jwks.fetches == 1
    await verifier.aclose()


def test_token_cache_lru_and_expiry() -> None:
    now = [100.0]
    cache = TokenCache(2, clock=lambda: now[0])
    p = [Principal("i", str(n), None, frozenset(), None) for n in range(3)]
    cache.put("a", p[0], 200)
    cache.put("b", p[1], 150)
    assert cache.get("a") is p[0]  # a is now the most recent
    cache.put("c", p[2], 200)
    assert cache.get("b") is None and cache.get("a") is p[0] and cache.get("c") is p[2]
    now[0] = 200
    assert cache.get("a") is None and len(cache) == 1
    cache.put("d", p[0], 150)  # already expired: not stored
    assert cache.get("d") is None
    assert TokenCache(0).get("x") is None


async def test_single_flight_survives_a_cancelled_waiter() -> None:
    flight: SingleFlight[int] = SingleFlight()
    runs = []

    async def work() -> int:
        runs.append(1)
        await asyncio.sleep(0.05)
        return 7

    first = asyncio.ensure_future(flight.run("k", work))
    second = asyncio.ensure_future(flight.run("k", work))
    await asyncio.sleep(0.01)
    first.cancel()
    assert await second == 7 and runs == [1] and len(flight) == 0


# -- pure parts


def test_parse_scopes() -> None:
    assert parse_scopes({"scope": "mcp:read  mcp:write"}) == {"mcp:read", "mcp:write"}
    assert parse_scopes({"scp": ["a", "b", 3]}) == {"a", "b"}
    assert parse_scopes({"scp": "a b"}) == {"a", "b"}
    assert parse_scopes({"scope": "x", "scp": ["y"]}) == {"x"}
    assert parse_scopes({}) == frozenset()


def test_check_times() -> None:
    assert check_times({"exp": 110}, 100, 0) == 110
    with pytest.raises(InvalidToken, match="no exp"):
        check_times({}, 100, 0)
    with pytest.raises(InvalidToken, match="expired"):
        check_times({"exp": 100}, 100, 0)
    assert check_times({"exp": 100}, 100, 5) == 100
    with pytest.raises(InvalidToken, match="nbf"):
        check_times({"exp": 200, "nbf": 106}, 100, 5)
    with pytest.raises(InvalidToken, match="not a number"):
        check_times({"exp": "200"}, 100, 5)
    with pytest.raises(InvalidToken, match="not a number"):
        check_times({"exp": True}, 100, 5)


def test_parse_jwks_takes_only_public_signing_keys() -> None:
    rsa = {
        "kty": "RSA",
        "kid": "r",
        "n": base64.urlsafe_b64encode(b"\xff" * 256).rstrip(b"=").decode(),
        "e": "AQAB",
    }
    document = {
        "keys": [
            rsa,
            {"kty": "oct", "kid": "h", "k": "c2VjcmV0"},
            {**rsa, "kid": "enc", "use": "enc"},
            {**rsa, "kid": "hs", "alg": "HS256"},
            {**rsa, "kid": "priv", "d": "AQAB"},
            "junk",
        ]
    }
    assert list(parse_jwks(document)) == ["r"]
    with pytest.raises(ValueError):
        parse_jwks({"nokeys": []})


# -- the HTTP fetch: no redirects, bounded size


async def test_fetch_refuses_redirects_and_big_bodies() -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request = await reader.readuntil(b"\r\n\r\n")
        if b" /redirect " in request:
            writer.write(
                b"HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:1/\r\nContent-Length: 2\r\n\r\n{}"
            )
        else:
            body = b'"' + b"x" * 5000 + b'"'
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    with pytest.raises(FetchError) as caught:
        await request_json(f"http://127.0.0.1:{port}/redirect")
    assert caught.value.status == 302
    with pytest.raises(FetchError, match="larger than"):
        await request_json(f"http://127.0.0.1:{port}/big", max_bytes=1000)
    assert len(await request_json(f"http://127.0.0.1:{port}/big")) == 5000
    server.close()
    await server.wait_closed()


async def test_fetch_refuses_plain_http_beyond_loopback() -> None:
    # Refused before any name is resolved or connection made (as.example cannot resolve anyway).
    with pytest.raises(FetchError, match="refusing plain http"):
        await request_json("http://as.example/jwks")
    with pytest.raises(FetchError, match="not an http"):
        await request_json("ftp://127.0.0.1/x")
    assert plain_http_allowed("127.0.0.1") and plain_http_allowed("::1") and plain_http_allowed("localhost")
    assert not plain_http_allowed("127.0.0.1.nip.io") and not plain_http_allowed("192.0.2.1")


# -- introspection (opaque tokens)


def introspector(server: AuthServer, **options: Any) -> IntrospectionVerifier:
    return IntrospectionVerifier(server.issuer, AUD, client_id="rs", client_secret="rs-secret", **options)


async def test_introspection_active_and_cached(opaque_server: AuthServer) -> None:
    token = opaque_server.token(AUD, "mcp:read mcp:write")
    assert token.count(".") == 0
    verifier = introspector(opaque_server)
    principal = await verifier.verify(token)
    assert principal.scopes == {"mcp:read", "mcp:write"}
    assert principal.client_id == "cc-basic" and principal.issuer == opaque_server.issuer
    assert verifier.calls == 1
    assert verifier.cached(token) is principal and await verifier.verify(token) is principal
    assert verifier.calls == 1
    await verifier.aclose()


async def test_introspection_max_cache_time(opaque_server: AuthServer) -> None:
    now = [time.time()]
    verifier = introspector(opaque_server, max_cache_seconds=10, clock=lambda: now[0])
    token = opaque_server.token(AUD)
    principal = await verifier.verify(token)
    now[0] += 9
    assert verifier.cached(token) is principal
    now[0] += 2
    assert verifier.cached(token) is None  # well before exp (300 s): asked again
    now[0] = time.time()
    await verifier.verify(token)
    assert verifier.calls == 2
    await verifier.aclose()


async def test_introspection_revoked_and_made_up(opaque_server: AuthServer) -> None:
    verifier = introspector(opaque_server, inactive_cache_seconds=5)
    token = opaque_server.token(AUD)
    await verifier.verify(token)
    opaque_server.revoke(token)
    fresh = introspector(opaque_server, inactive_cache_seconds=5)
    assert await reason(fresh, token) == "inactive"
    assert await reason(fresh, token) == "inactive (cached)"
    assert fresh.calls == 1
    uncached = introspector(opaque_server, inactive_cache_seconds=0)
    assert await reason(uncached, "made-up") == "inactive"
    assert await reason(uncached, "made-up") == "inactive"
    assert uncached.calls == 2
    for v in (verifier, fresh, uncached):
        await v.aclose()


async def test_introspection_wrong_audience(opaque_server: AuthServer) -> None:
    verifier = introspector(opaque_server)
    assert await reason(verifier, opaque_server.other_audience_token()) == "not for this audience"
    await verifier.aclose()


async def test_introspection_unavailable(opaque_server: AuthServer) -> None:
    wrong_secret = IntrospectionVerifier(opaque_server.issuer, AUD, client_id="rs", client_secret="nope")
    with pytest.raises(VerifierUnavailable):
        await wrong_secret.verify(opaque_server.token(AUD))
    closed = f"http://127.0.0.1:{free_port()}"
    down = IntrospectionVerifier(
        closed, AUD, client_id="rs", client_secret="x", endpoint=closed + "/introspect"
    )
    with pytest.raises(VerifierUnavailable):
        await down.verify("anything")
    await wrong_secret.aclose()
    await down.aclose()


async def test_jwt_tokens_not_confused_with_opaque(rs_server: AuthServer, opaque_server: AuthServer) -> None:
    # A JWT verifier never accepts an opaque token; an introspection answer of another issuer is refused.
    verifier = JwtVerifier(rs_server.issuer, AUD)
    assert await reason(verifier, opaque_server.token(AUD)) == "not a compact JWS of acceptable size"
    cross = IntrospectionVerifier(
        rs_server.issuer,
        AUD,
        client_id="rs",
        client_secret="rs-secret",
        endpoint=opaque_server.url("/token/introspection"),
    )
    assert await reason(cross, opaque_server.token(AUD)) == "another issuer"
    await verifier.aclose()
    await cross.aclose()


# -- end to end: `mcprt serve --auth-issuer` with the default verifier, against the real provider


def _post(url: str, token: str | None) -> tuple[int, dict[str, str], bytes]:
    import urllib.error
    import urllib.request

    from tests.conftest import INIT

    headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=json.dumps(INIT).encode(), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()
    except urllib.error.HTTPError as error:
        return error.code, {k.lower(): v for k, v in error.headers.items()}, error.read()


@pytest.mark.parametrize("mode", ["jwt", "introspection"])
def test_serve_with_the_default_verifier(
    rs_server: AuthServer, opaque_server: AuthServer, mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from runtime.config import AUTH_SECRET_ENV
    from tests.conftest import RunningServer

    issuer = rs_server if mode == "jwt" else opaque_server
    port = free_port()
    audience = f"http://127.0.0.1:{port}/mcp"
    args = ["--http", f"127.0.0.1:{port}", "--auth-issuer", issuer.issuer, "--auth-audience", audience]
    if mode == "introspection":
        args += ["--auth-introspect", "--auth-client-id", "rs"]
        monkeypatch.setenv(AUTH_SECRET_ENV, "rs-secret")
    server = RunningServer(*args)
    try:
        status, headers, _ = _post(server.url, None)
        assert status == 401 and "resource_metadata=" in headers.get("www-authenticate", "")
        token = issuer.token(audience, "mcp:read")
        status, _, body = _post(server.url, token)
        assert status == 200, body
        assert token.encode() not in body
        status, _, body = _post(server.url, issuer.token("http://127.0.0.1:1/elsewhere"))
        assert status == 401 and b"elsewhere" not in body
    finally:
        server.stop()


async def test_fetch_over_tls(tmp_path: Any) -> None:
    from tests.http_proxy import self_signed_cert, server_tls

    cert, key = self_signed_cert(tmp_path)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
            await reader.readuntil(b"\r\n\r\n")
            writer.write(b'HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n{"keys":[]}')
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=server_tls(cert, key))
    url = f"https://127.0.0.1:{server.sockets[0].getsockname()[1]}/jwks"
    assert await request_json(url, verify=str(cert)) == {"keys": []}
    with pytest.raises(FetchError):  # not signed by a CA of the system: refused
        await request_json(url)
    server.close()
    await server.wait_closed()
