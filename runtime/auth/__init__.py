"""Authorization (basic/authorization.mdx): mcprt as an OAuth 2.1 resource server.

`Principal` is who a verified access token speaks for; a `TokenVerifier` turns a bearer token into one or
refuses it. The HTTP transport asks the verifier before any MCP processing; the rest of the runtime sees
only the `Principal` (in `Context.principal`, in the scope checks, in the session's binding).

The verifiers: `JwtVerifier` (RFC 9068 JWT access tokens, checked against the issuer's JWKS) and
`IntrospectionVerifier` (opaque tokens, RFC 7662); each caches what it verified until the token expires.
"""

from typing import TYPE_CHECKING, Any

from runtime.auth.principal import InvalidToken, Principal, TokenVerifier, VerifierUnavailable

if TYPE_CHECKING:
    from runtime.auth.introspection import IntrospectionVerifier
    from runtime.auth.jwt import JwtVerifier
    from runtime.auth.metadata import IssuerMetadata, fetch_metadata

# The verifiers import joserfc (and cryptography): loaded on first use, not by every process that only
# needs `Principal`.
_LAZY = {
    "IntrospectionVerifier": "runtime.auth.introspection",
    "JwtVerifier": "runtime.auth.jwt",
    "IssuerMetadata": "runtime.auth.metadata",
    "fetch_metadata": "runtime.auth.metadata",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'runtime.auth' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)


__all__ = [
    "IntrospectionVerifier",
    "InvalidToken",
    "IssuerMetadata",
    "JwtVerifier",
    "Principal",
    "TokenVerifier",
    "VerifierUnavailable",
    "fetch_metadata",
]
