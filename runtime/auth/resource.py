"""mcprt as an OAuth 2.1 resource server (basic/authorization.mdx): its settings (`Auth`), its protected-
resource metadata (RFC 9728) and the `WWW-Authenticate` challenges of its 401 and 403 answers (RFC 6750 3)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from runtime.auth.principal import TokenVerifier

WELL_KNOWN = "/.well-known/oauth-protected-resource"


@dataclass(frozen=True)
class Auth:
    """Protect a server's HTTP endpoint with OAuth bearer tokens.

    `issuer`: the authorization server whose tokens are accepted. `audience`: this server's canonical URL as
    clients reach it (`https://mcp.example.com/mcp`, behind a proxy its public URL): the `resource` of the
    metadata, and what every token's `aud` must name (tokens for other services are refused, never passed
    on). `scopes`: `scopes_supported`. `required_scopes`: needed by every request (per-entry scopes come
    from `@server.tool(scopes=...)` and the like). `filter_lists`: list results show a principal only the
    tools, prompts and resources it may use. `verifier`: how tokens are checked; by default JWT access
    tokens (RFC 9068) against the issuer's JWKS, or with `introspection=(client_id, secret)` opaque ones by
    RFC 7662; `verifier_factory` makes one per worker process instead.
    """

    issuer: str
    audience: str
    scopes: tuple[str, ...] = ()
    required_scopes: tuple[str, ...] = ()
    filter_lists: bool = False
    resource_name: str | None = None
    documentation: str | None = None
    # Opaque tokens: RFC 7662 introspection at the issuer, as this client (id, secret); None: JWTs.
    introspection: tuple[str, str] | None = field(default=None, repr=False)
    verifier: TokenVerifier | None = field(default=None, compare=False)
    verifier_factory: Callable[[Auth], TokenVerifier] | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        for name, url in (("issuer", self.issuer), ("audience", self.audience)):
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.netloc or parts.fragment:
                raise ValueError(f"auth {name} must be an absolute http(s) URL without a fragment: {url!r}")
        for scope in (*self.scopes, *self.required_scopes):
            if not scope or any(c in scope for c in ' "\\') or not scope.isprintable():
                raise ValueError(f"invalid OAuth scope: {scope!r}")

    # -- protected-resource metadata (RFC 9728) ------------------------------------------------------------

    @property
    def metadata_url(self) -> str:
        """Where the metadata is, by RFC 9728 3.1: the well-known prefix inserted before the resource's path
        (what `resource_metadata` in a challenge names)."""
        parts = urlsplit(self.audience)
        path = parts.path.rstrip("/")
        return f"{parts.scheme}://{parts.netloc}{WELL_KNOWN}{path}"

    def metadata_paths(self, endpoint_path: str) -> frozenset[str]:
        """The request paths the metadata is served at: the path-based URL of the public resource, of the
        endpoint as this process serves it (a proxy may strip a prefix), and the root one."""
        public = urlsplit(self.audience).path.rstrip("/")
        return frozenset({WELL_KNOWN + public, WELL_KNOWN + endpoint_path.rstrip("/"), WELL_KNOWN})

    def metadata(self, scopes: Iterable[str] | None = None) -> dict[str, object]:
        """The document; `scopes`: `scopes_supported` when `Auth.scopes` is empty (the server's own)."""
        document: dict[str, object] = {
            "resource": self.audience,
            "authorization_servers": [self.issuer],
            "bearer_methods_supported": ["header"],
        }
        supported = list(self.scopes) or list(scopes or ())
        if supported:
            document["scopes_supported"] = supported
        if self.resource_name:
            document["resource_name"] = self.resource_name
        if self.documentation:
            document["resource_documentation"] = self.documentation
        return document

    # -- challenges (RFC 6750 3) ---------------------------------------------------------------------------

    def challenge(self, error: str | None = None, scopes: Iterable[str] = (), description: str = "") -> bytes:
        """A `WWW-Authenticate: Bearer ...` value. No `error` for a request without a token (RFC 6750 3.1);
        `scopes`: what the request needs (the client asks for them, basic/authorization.mdx)."""
        params = []
        if error:
            params.append(f'error="{error}"')
        wanted = " ".join(dict.fromkeys(scopes))
        if wanted:
            params.append(f'scope="{wanted}"')
        params.append(f'resource_metadata="{self.metadata_url}"')
        if description:
            params.append(f'error_description="{description}"')
        return ("Bearer " + ", ".join(params)).encode()
