"""Requests to the token endpoint (always the one in the authorization server's metadata): the
authorization code exchange, refresh, and the client credentials grant for machine clients; and the
client authentication each carries: none, client_secret_basic, client_secret_post or private_key_jwt
(RFC 7523, signed with joserfc)."""

from __future__ import annotations

import base64
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from runtime.client.auth.http import request
from runtime.client.auth.tokens import ClientRegistration, Tokens
from runtime.client.errors import OAuthError
from runtime.client.http import Verify

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


@dataclass(frozen=True)
class PrivateKey:
    """A key for private_key_jwt: a PEM private key (or a JWK dict) and the JWS algorithm to sign with."""

    key: str | bytes | dict[str, Any]
    algorithm: str = "ES256"
    key_id: str | None = None


def usable_token(value: object) -> bool:
    """A token that can ride in `Authorization: Bearer`: visible ASCII only (no space, CR or LF, which would
    split the header: RFC 6750 2.1 allows less still)."""
    return isinstance(value, str) and bool(value) and all("!" <= char <= "~" for char in value)


def choose_auth_method(registration: ClientRegistration, metadata: dict[str, Any], has_key: bool) -> str:
    """The registration's own method if it has one; else by what the client holds and the authorization
    server advertises (RFC 8414's default: client_secret_basic)."""
    if registration.token_endpoint_auth_method:
        return registration.token_endpoint_auth_method
    supported = metadata.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
    if has_key and "private_key_jwt" in supported:
        return "private_key_jwt"
    if registration.client_secret is not None:
        for method in ("client_secret_basic", "client_secret_post"):
            if method in supported:
                return method
        return "client_secret_basic"
    return "none"


def client_assertion(client_id: str, audience: str, key: PrivateKey) -> str:
    """A signed JWT naming the client (iss = sub = client_id) for the authorization server (aud)."""
    from joserfc import jwt
    from joserfc.jwk import import_key

    if isinstance(key.key, dict):
        signing_key = import_key(key.key)
    else:
        pem = key.key.encode() if isinstance(key.key, str) else key.key
        kty = "EC" if key.algorithm.startswith("ES") else "OKP" if key.algorithm == "EdDSA" else "RSA"
        signing_key = import_key(pem, kty)  # type: ignore[call-overload]
    now = int(time.time())
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": audience,
        "iat": now,
        "exp": now + 300,
        "jti": secrets.token_urlsafe(16),
    }
    header: dict[str, Any] = {"alg": key.algorithm, "typ": "JWT"}
    if key.key_id:
        header["kid"] = key.key_id
    return str(jwt.encode(header, claims, signing_key, algorithms=[key.algorithm]))


def authenticate(
    method: str,
    registration: ClientRegistration,
    form: dict[str, str],
    headers: dict[str, str],
    issuer: str,
    key: PrivateKey | None,
) -> None:
    """Add the client authentication of `method` to a token request's form and headers."""
    if method == "client_secret_basic":
        if registration.client_secret is None:
            raise OAuthError("client_secret_basic needs a client secret")
        pair = f"{quote(registration.client_id, safe='')}:{quote(registration.client_secret, safe='')}"
        headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
    elif method == "client_secret_post":
        if registration.client_secret is None:
            raise OAuthError("client_secret_post needs a client secret")
        form["client_id"] = registration.client_id
        form["client_secret"] = registration.client_secret
    elif method == "private_key_jwt":
        if key is None:
            raise OAuthError("private_key_jwt needs a private key")
        form["client_id"] = registration.client_id
        form["client_assertion_type"] = ASSERTION_TYPE
        form["client_assertion"] = client_assertion(registration.client_id, issuer, key)
    elif method == "none":
        form["client_id"] = registration.client_id
    else:
        raise OAuthError(f"unsupported token endpoint authentication method {method!r}")


async def token_request(
    metadata: dict[str, Any],
    registration: ClientRegistration,
    form: dict[str, str],
    *,
    resource: str,
    scopes: list[str],
    key: PrivateKey | None,
    verify: Verify,
    previous: Tokens | None = None,
) -> Tokens:
    """POST a grant to the metadata's token endpoint and read the token response (RFC 6749 5.1)."""
    endpoint = metadata.get("token_endpoint")
    issuer = str(metadata.get("issuer"))
    if not isinstance(endpoint, str):
        raise OAuthError(f"the metadata of {issuer} has no token_endpoint")
    form = {**form, "resource": resource}
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    authenticate(
        choose_auth_method(registration, metadata, key is not None), registration, form, headers, issuer, key
    )
    reply = await request("POST", endpoint, headers=headers, body=urlencode(form).encode(), verify=verify)
    answer = reply.json()
    if reply.status != 200 or not isinstance(answer, dict):
        error = answer.get("error") if isinstance(answer, dict) else None
        raise OAuthError(
            f"the token endpoint of {issuer} refused the {form.get('grant_type')} grant: "
            f"HTTP {reply.status}" + (f" {error}" if error else "")
        )
    access_token = answer.get("access_token")
    token_type = answer.get("token_type", "Bearer")
    if not isinstance(access_token, str) or not usable_token(access_token):
        raise OAuthError(f"the token response of {issuer} has no usable access_token")
    if not isinstance(token_type, str) or token_type.lower() != "bearer":
        raise OAuthError(f"the token response of {issuer} is of type {token_type!r}, not Bearer")
    expires_in = answer.get("expires_in")
    refresh = answer.get("refresh_token")
    granted = answer.get("scope")
    return Tokens(
        access_token=access_token,
        issuer=issuer,
        resource=resource,
        refresh_token=refresh if isinstance(refresh, str) else previous.refresh_token if previous else None,
        expires_at=time.time() + expires_in
        if isinstance(expires_in, int | float) and expires_in > 0
        else None,
        scopes=granted.split() if isinstance(granted, str) and granted.strip() else list(scopes),
    )


async def exchange_code(
    metadata: dict[str, Any],
    registration: ClientRegistration,
    code: str,
    verifier: str,
    redirect_uri: str,
    *,
    resource: str,
    scopes: list[str],
    key: PrivateKey | None,
    verify: Verify,
) -> Tokens:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "code_verifier": verifier,
        "redirect_uri": redirect_uri,
    }
    return await token_request(
        metadata, registration, form, resource=resource, scopes=scopes, key=key, verify=verify
    )


async def refresh(
    metadata: dict[str, Any],
    registration: ClientRegistration,
    tokens: Tokens,
    *,
    key: PrivateKey | None,
    verify: Verify,
) -> Tokens:
    if tokens.refresh_token is None:
        raise OAuthError("no refresh token")
    form = {"grant_type": "refresh_token", "refresh_token": tokens.refresh_token}
    return await token_request(
        metadata,
        registration,
        form,
        resource=tokens.resource,
        scopes=tokens.scopes,
        key=key,
        verify=verify,
        previous=tokens,
    )


async def client_credentials(
    metadata: dict[str, Any],
    registration: ClientRegistration,
    *,
    resource: str,
    scopes: list[str],
    key: PrivateKey | None,
    verify: Verify,
) -> Tokens:
    form = {"grant_type": "client_credentials"}
    if scopes:
        form["scope"] = " ".join(scopes)
    return await token_request(
        metadata, registration, form, resource=resource, scopes=scopes, key=key, verify=verify
    )
