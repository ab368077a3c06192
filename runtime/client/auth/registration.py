"""Who the client is at an authorization server, in the spec's order ("Client Registration"):
pre-registered credentials, else a client ID metadata document URL when the server supports them
(`client_id_metadata_document_supported`), else dynamic client registration (RFC 7591)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import msgspec

from runtime.client.auth.http import request
from runtime.client.auth.tokens import ClientRegistration
from runtime.client.errors import OAuthError
from runtime.client.http import Verify


def application_type(redirect_uri: str) -> str:
    """SEP-837: "native" for a loopback or custom-scheme redirect, "web" for an https one elsewhere."""
    parts = urlsplit(redirect_uri)
    if parts.scheme == "https" and parts.hostname not in ("localhost", "127.0.0.1", "::1"):
        return "web"
    return "native"


def registration_auth_method(metadata: dict[str, Any], confidential: bool) -> str:
    supported = metadata.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
    preference = (
        ("client_secret_basic", "client_secret_post", "none")
        if confidential
        else ("none", "client_secret_basic", "client_secret_post")
    )
    for method in preference:
        if method in supported:
            return method
    return "none"


async def register(
    metadata: dict[str, Any],
    *,
    client_name: str,
    redirect_uri: str,
    scopes: list[str],
    grant_types: list[str],
    verify: Verify,
) -> ClientRegistration:
    """Dynamic client registration at the metadata's `registration_endpoint`."""
    issuer = str(metadata.get("issuer"))
    endpoint = metadata.get("registration_endpoint")
    if not isinstance(endpoint, str):
        raise OAuthError(
            f"no way to identify this client at {issuer}: no pre-registered client_id, no client ID metadata "
            "document support, no registration_endpoint"
        )
    body: dict[str, Any] = {
        "client_name": client_name,
        "redirect_uris": [redirect_uri],
        "grant_types": grant_types,
        "response_types": ["code"],
        "token_endpoint_auth_method": registration_auth_method(metadata, confidential=False),
        "application_type": application_type(redirect_uri),
    }
    if scopes:
        body["scope"] = " ".join(scopes)
    reply = await request(
        "POST",
        endpoint,
        headers={"Content-Type": "application/json"},
        body=msgspec.json.encode(body),
        verify=verify,
    )
    answer = reply.json()
    if (
        reply.status not in (200, 201)
        or not isinstance(answer, dict)
        or not isinstance(answer.get("client_id"), str)
    ):
        raise OAuthError(f"dynamic client registration at {issuer} failed: HTTP {reply.status}")
    secret = answer.get("client_secret")
    method = answer.get("token_endpoint_auth_method")
    return ClientRegistration(
        client_id=answer["client_id"],
        issuer=issuer,
        client_secret=secret if isinstance(secret, str) else None,
        token_endpoint_auth_method=method if isinstance(method, str) else None,
        redirect_uri=redirect_uri,
    )


def metadata_document_registration(url: str, metadata: dict[str, Any], has_key: bool) -> ClientRegistration:
    """The client ID metadata document's URL is the client_id: a public client (or private_key_jwt with
    the document's keys)."""
    parts = urlsplit(url)
    if parts.scheme != "https" or parts.path in ("", "/"):
        raise OAuthError(f"a client ID metadata document URL must be https with a path: {url!r}")
    supported = metadata.get("token_endpoint_auth_methods_supported") or []
    method = "private_key_jwt" if has_key and "private_key_jwt" in supported else "none"
    return ClientRegistration(
        client_id=url, issuer=str(metadata.get("issuer")), token_endpoint_auth_method=method
    )
