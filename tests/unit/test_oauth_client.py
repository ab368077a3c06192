"""The OAuth client's pure parts (runtime/client/auth): WWW-Authenticate parsing, the well-known URLs, the
resource check, PKCE S256, scope selection, the authorization response checks (state, iss) and the token
endpoint's client authentication. The flows end to end are the conformance suite's auth scenarios."""

from __future__ import annotations

import base64
import re

import pytest

from runtime.client.auth import OAuthError, PrivateKey
from runtime.client.auth.discovery import (
    authorization_server_urls,
    bearer_challenge,
    parse_www_authenticate,
    protected_resource_urls,
    resource_matches,
)
from runtime.client.auth.flow import (
    authorization_code,
    authorization_url,
    check_issuer,
    code_challenge,
    code_verifier,
    select_scopes,
    with_offline_access,
)
from runtime.client.auth.grants import authenticate, choose_auth_method, client_assertion, usable_token
from runtime.client.auth.registration import application_type
from runtime.client.auth.tokens import ClientRegistration, Tokens

# -- WWW-Authenticate ---------------------------------------------------------------------------------------


def test_bearer_parameters_with_quoted_commas_and_escapes() -> None:
    header = (
        'Bearer error="invalid_token", error_description="Missing, or \\"bad\\" token", '
        'resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp", scope="a b"'
    )
    (challenge,) = parse_www_authenticate(header)
    assert challenge.scheme == "bearer"
    assert challenge.error == "invalid_token"
    assert challenge.params["error_description"] == 'Missing, or "bad" token'
    assert challenge.resource_metadata == "https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
    assert challenge.scope == ["a", "b"]


def test_several_challenges_in_one_header() -> None:
    header = 'Basic realm="x, y", Negotiate abc==, Bearer Scope=files:read , DPoP algs="ES256"'
    challenges = parse_www_authenticate(header)
    assert [c.scheme for c in challenges] == ["basic", "negotiate", "bearer", "dpop"]
    assert challenges[0].params == {"realm": "x, y"}
    assert challenges[1].token68 == "abc=="
    assert challenges[2].params == {"scope": "files:read"}  # names are case-insensitive, tokens unquoted
    assert bearer_challenge(header) == challenges[2]


def test_bearer_challenge_is_found_after_another_scheme() -> None:
    challenge = bearer_challenge('Basic realm="a", Bearer resource_metadata="https://r/x"')
    assert challenge is not None and challenge.resource_metadata == "https://r/x"
    assert bearer_challenge('Basic realm="a"') is None
    assert bearer_challenge(None) is None


@pytest.mark.parametrize(
    "header",
    [
        "",
        ",,,",
        '="',
        "=,=",
        'Bearer scope="never closed',
        "Bearer ,,, scope",
        '"quoted" Bearer',
        "Bearer \x00\x01",
    ],
)
def test_bad_input_does_not_raise(header: str) -> None:
    for challenge in parse_www_authenticate(header):
        assert isinstance(challenge.scheme, str)


def test_unterminated_quote_runs_to_the_end_and_junk_is_skipped() -> None:
    assert parse_www_authenticate('Bearer scope="a b')[0].scope == ["a", "b"]
    (challenge,) = parse_www_authenticate('Bearer realm=x junk more, resource_metadata="u"')
    assert challenge.params == {"realm": "x", "resource_metadata": "u"}


def test_empty_scope_is_no_scope() -> None:
    assert parse_www_authenticate('Bearer scope=""')[0].scope is None
    assert parse_www_authenticate("Bearer")[0].scope is None


# -- well-known URLs, resource check ------------------------------------------------------------------------


def test_protected_resource_urls_header_first_then_path_then_root() -> None:
    assert protected_resource_urls(
        "https://mcp.example.com/public/mcp", "https://mcp.example.com/custom.json"
    ) == [
        "https://mcp.example.com/custom.json",
        "https://mcp.example.com/.well-known/oauth-protected-resource/public/mcp",
        "https://mcp.example.com/.well-known/oauth-protected-resource",
    ]


def test_protected_resource_urls_of_a_root_server() -> None:
    expected = ["https://mcp.example.com:8443/.well-known/oauth-protected-resource"]
    assert protected_resource_urls("https://mcp.example.com:8443") == expected
    assert protected_resource_urls("https://mcp.example.com:8443/") == expected


def test_authorization_server_urls_with_path_insertion() -> None:
    assert authorization_server_urls("https://auth.example.com/tenant1") == [
        "https://auth.example.com/.well-known/oauth-authorization-server/tenant1",
        "https://auth.example.com/.well-known/openid-configuration/tenant1",
        "https://auth.example.com/tenant1/.well-known/openid-configuration",
    ]


def test_authorization_server_urls_without_path() -> None:
    expected = [
        "https://auth.example.com/.well-known/oauth-authorization-server",
        "https://auth.example.com/.well-known/openid-configuration",
    ]
    assert authorization_server_urls("https://auth.example.com") == expected
    assert authorization_server_urls("https://auth.example.com/") == expected


@pytest.mark.parametrize(
    ("resource", "server", "matches"),
    [
        ("https://mcp.example.com/mcp", "https://mcp.example.com/mcp", True),
        ("https://mcp.example.com", "https://mcp.example.com/mcp", True),
        ("HTTPS://MCP.example.com/mcp", "https://mcp.example.com/mcp", True),
        ("https://mcp.example.com/mcp/", "https://mcp.example.com/mcp", True),
        ("https://mcp.example.com/mc", "https://mcp.example.com/mcp", False),  # whole segments only
        ("https://mcp.example.com/mcp/other", "https://mcp.example.com/mcp", False),
        ("https://evil.example.com/mcp", "https://mcp.example.com/mcp", False),
        ("http://mcp.example.com/mcp", "https://mcp.example.com/mcp", False),
        ("https://mcp.example.com:8443/mcp", "https://mcp.example.com/mcp", False),
        ("https://mcp.example.com/mcp#frag", "https://mcp.example.com/mcp", False),
    ],
)
def test_resource_matches(resource: str, server: str, matches: bool) -> None:
    assert resource_matches(resource, server) is matches


# -- PKCE ---------------------------------------------------------------------------------------------------


def test_s256_rfc7636_appendix_b() -> None:
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert code_challenge(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_verifier_is_43_to_128_unreserved_characters_and_fresh() -> None:
    verifier = code_verifier()
    assert re.fullmatch(r"[A-Za-z0-9\-._~]{43,128}", verifier)
    assert verifier != code_verifier()


def test_authorization_url_carries_pkce_resource_state_and_scope() -> None:
    pending = authorization_url(
        "https://as.example.com/authorize?tenant=1",
        client_id="c",
        redirect_uri="http://127.0.0.1:1/cb",
        resource="https://mcp.example.com/mcp",
        scopes=["a", "b"],
        issuer="https://as.example.com",
        iss_supported=True,
    )
    from urllib.parse import parse_qs, urlsplit

    query = parse_qs(urlsplit(pending.url).query)
    assert query["tenant"] == ["1"]
    assert query["code_challenge_method"] == ["S256"]
    assert query["code_challenge"] == [code_challenge(pending.verifier)]
    assert query["resource"] == ["https://mcp.example.com/mcp"]
    assert query["state"] == [pending.state]
    assert query["scope"] == ["a b"]
    omitted = authorization_url(
        "https://as/authorize",
        client_id="c",
        redirect_uri="r",
        resource="x",
        scopes=[],
        issuer="i",
        iss_supported=False,
    )
    assert "scope" not in parse_qs(urlsplit(omitted.url).query)


# -- scopes -------------------------------------------------------------------------------------------------


def test_scope_selection_order() -> None:
    assert select_scopes(["c"], ["s1", "s2"], configured=["k"]) == ["c"]  # the challenge wins
    assert select_scopes(None, ["s1", "s2"], configured=["k"]) == ["k"]
    assert select_scopes(None, ["s1", "s2"]) == ["s1", "s2"]
    assert select_scopes(None, None) == []  # the scope parameter is then omitted


def test_step_up_is_a_union_with_the_previous_scopes() -> None:
    assert select_scopes(["write", "read"], ["read"], previous=["read", "basic"]) == [
        "read",
        "basic",
        "write",
    ]


def test_offline_access_only_where_the_as_lists_it() -> None:
    assert with_offline_access(["a"], ["a", "offline_access"]) == ["a", "offline_access"]
    assert with_offline_access(["a"], ["a", "b"]) == ["a"]
    assert with_offline_access(["a"], None) == ["a"]
    assert with_offline_access([], ["offline_access"]) == []


# -- the authorization response -----------------------------------------------------------------------------

ISSUER = "https://as.example.com"


@pytest.mark.parametrize(
    ("advertised", "iss", "accepted"),
    [
        (True, ISSUER, True),
        (True, None, False),  # advertised but absent: rejected
        (False, ISSUER, True),
        (False, "https://evil.example.com", False),  # not advertised, present: still compared
        (False, None, True),
        (True, ISSUER + "/", False),  # no normalization: trailing slash
        (True, "HTTPS://as.example.com", False),  # no case folding
        (True, "https://as.example.com:443", False),  # no default-port elision
    ],
)
def test_iss_table(advertised: bool, iss: str | None, accepted: bool) -> None:
    if accepted:
        check_issuer(iss, ISSUER, advertised)
    else:
        with pytest.raises(OAuthError):
            check_issuer(iss, ISSUER, advertised)


def _pending(iss_supported: bool = True):  # type: ignore[no-untyped-def]
    return authorization_url(
        ISSUER + "/authorize",
        client_id="c",
        redirect_uri="http://127.0.0.1:1/cb",
        resource="r",
        scopes=[],
        issuer=ISSUER,
        iss_supported=iss_supported,
    )


def test_code_after_state_and_iss() -> None:
    pending = _pending()
    redirected = f"http://127.0.0.1:1/cb?code=abc&state={pending.state}&iss=https%3A%2F%2Fas.example.com"
    assert authorization_code(redirected, pending) == "abc"


def test_wrong_state_is_refused() -> None:
    pending = _pending()
    with pytest.raises(OAuthError, match="state"):
        authorization_code(
            "http://127.0.0.1:1/cb?code=abc&state=other&iss=https%3A%2F%2Fas.example.com", pending
        )


def test_error_from_a_mismatched_issuer_is_not_believed() -> None:
    pending = _pending()
    redirected = f"http://127.0.0.1:1/cb?error=access_denied&state={pending.state}&iss=https%3A%2F%2Fevil"
    with pytest.raises(OAuthError, match="issuer") as caught:
        authorization_code(redirected, pending)
    assert "access_denied" not in str(caught.value)


# -- registration and the token endpoint -------------------------------------------------------------------


def test_application_type() -> None:
    assert application_type("http://127.0.0.1:3000/cb") == "native"
    assert application_type("com.example.app:/cb") == "native"
    assert application_type("https://app.example.com/cb") == "web"


def test_auth_method_choice() -> None:
    public = ClientRegistration("c", ISSUER)
    secret = ClientRegistration("c", ISSUER, "s")
    assert choose_auth_method(public, {"token_endpoint_auth_methods_supported": ["none"]}, False) == "none"
    assert choose_auth_method(
        secret, {"token_endpoint_auth_methods_supported": ["client_secret_post"]}, False
    ) == ("client_secret_post")
    assert choose_auth_method(secret, {}, False) == "client_secret_basic"  # RFC 8414's default
    assert choose_auth_method(
        secret, {"token_endpoint_auth_methods_supported": ["private_key_jwt"]}, True
    ) == ("private_key_jwt")
    told = ClientRegistration("c", ISSUER, "s", token_endpoint_auth_method="client_secret_post")
    assert choose_auth_method(
        told, {"token_endpoint_auth_methods_supported": ["client_secret_basic"]}, False
    ) == ("client_secret_post")


def test_client_secret_basic_form_encodes_the_pair() -> None:
    form: dict[str, str] = {}
    headers: dict[str, str] = {}
    authenticate(
        "client_secret_basic", ClientRegistration("id:1", ISSUER, "s&e cret"), form, headers, ISSUER, None
    )
    assert base64.b64decode(headers["Authorization"].removeprefix("Basic ")) == b"id%3A1:s%26e%20cret"
    assert "client_secret" not in form


def test_client_secret_post_and_none() -> None:
    form: dict[str, str] = {}
    authenticate("client_secret_post", ClientRegistration("c", ISSUER, "s"), form, {}, ISSUER, None)
    assert form == {"client_id": "c", "client_secret": "s"}
    form = {}
    headers: dict[str, str] = {}
    authenticate("none", ClientRegistration("c", ISSUER), form, headers, ISSUER, None)
    assert form == {"client_id": "c"} and headers == {}


def test_private_key_jwt_assertion_verifies() -> None:
    from joserfc import jwt
    from joserfc.jwk import ECKey

    key = ECKey.generate_key("P-256")
    pem = key.as_pem(private=True).decode()
    assertion = client_assertion("client-1", ISSUER, PrivateKey(pem, "ES256"))
    token = jwt.decode(assertion, ECKey.import_key(key.as_pem(private=False)), algorithms=["ES256"])
    assert token.header["alg"] == "ES256"
    claims = token.claims
    assert (claims["iss"], claims["sub"], claims["aud"]) == ("client-1", "client-1", ISSUER)
    assert claims["exp"] > claims["iat"] and claims["jti"]


def test_tokens_repr_hides_secrets() -> None:
    tokens = Tokens("secret-access", ISSUER, "r", refresh_token="secret-refresh")
    assert "secret" not in repr(tokens)
    assert "cret" not in repr(ClientRegistration("c", ISSUER, "secret-value"))


def test_only_header_safe_tokens_are_used() -> None:
    assert usable_token("eyJhbGciOi.J9-_~+/==")
    for bad in ("", "a b", "a\r\nX-Injected: 1", "caf\u00e9", None, 42):
        assert not usable_token(bad)
