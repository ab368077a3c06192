"""An authorization server's metadata: RFC 8414 (`/.well-known/oauth-authorization-server` inserted before
the issuer's path), then OpenID Connect discovery (the same insertion, then appended to the issuer), the
order the MCP authorization spec gives. The document's `issuer` must be exactly the one asked for
(RFC 8414 section 3.3): otherwise another server could hand out its keys."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from runtime.auth.fetch import DEFAULT_TIMEOUT, FetchError, request_json
from runtime.auth.principal import VerifierUnavailable
from runtime.client.http import Verify


@dataclass(frozen=True, slots=True)
class IssuerMetadata:
    issuer: str
    jwks_uri: str | None = None
    introspection_endpoint: str | None = None
    token_endpoint: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False)


def metadata_urls(issuer: str) -> list[str]:
    """Where to look, in order, for `issuer`'s metadata."""
    parts = urlsplit(issuer)
    origin = f"{parts.scheme}://{parts.netloc}"
    path = parts.path.rstrip("/")
    urls = [f"{origin}/.well-known/oauth-authorization-server{path}"]
    urls.append(f"{origin}/.well-known/openid-configuration{path}")
    if path:
        urls.append(f"{origin}{path}/.well-known/openid-configuration")
    return urls


async def fetch_metadata(
    issuer: str, *, timeout: float = DEFAULT_TIMEOUT, verify: Verify = True
) -> IssuerMetadata:
    """The first metadata document found for `issuer`; VerifierUnavailable when none can be had."""
    failures: list[str] = []
    for url in metadata_urls(issuer):
        try:
            document = await request_json(url, timeout=timeout, verify=verify)
        except FetchError as error:
            failures.append(str(error))
            if error.status in (404, 400, 405, 410):
                continue  # not served there: try the next well-known path
            raise VerifierUnavailable(f"issuer metadata: {error}") from error
        if not isinstance(document, dict):
            failures.append(f"{url}: not a JSON object")
            continue
        if document.get("issuer") != issuer:
            failures.append(f"{url}: names another issuer")
            continue
        return IssuerMetadata(
            issuer=issuer,
            jwks_uri=_url(document.get("jwks_uri")),
            introspection_endpoint=_url(document.get("introspection_endpoint")),
            token_endpoint=_url(document.get("token_endpoint")),
            raw=document,
        )
    raise VerifierUnavailable("issuer metadata not found: " + "; ".join(failures))


def _url(value: Any) -> str | None:
    return value if isinstance(value, str) and value.startswith(("https://", "http://")) else None
