"""The principal of a request and the interface every token verifier implements."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a verified access token speaks for.

    `key` identifies the principal across its tokens (a refreshed token keeps it): sessions are bound to it,
    so another principal's token cannot use, resume or delete them."""

    issuer: str
    subject: str | None  # `sub`: the end user, or the client itself for client_credentials
    client_id: str | None  # `client_id` (RFC 9068) or `azp`
    scopes: frozenset[str]
    expires_at: float | None  # `exp`, seconds since the epoch
    claims: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)
    # Made once (sessions compare it on every request): derived from the fields above.
    key: str = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", f"{self.issuer}\x1f{self.subject or ''}\x1f{self.client_id or ''}")

    def has_scopes(self, needed: frozenset[str] | set[str] | tuple[str, ...]) -> bool:
        return self.scopes.issuperset(needed)


class InvalidToken(Exception):
    """The token is missing, malformed, expired, not yet valid, of another issuer or audience, or its
    signature does not verify: 401 `invalid_token`. `reason` is for the server's log only, never for
    the client (it may describe the token)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class VerifierUnavailable(Exception):
    """The verifier could not decide (the issuer's JWKS or introspection endpoint is unreachable): the
    request gets 503 with a JSON-RPC error body, and the client may retry."""


class TokenVerifier(Protocol):
    """Turns a bearer token into a `Principal`. Implementations check the issuer, the audience (this
    server: no token passthrough), expiry with a bounded skew, and the signature or introspection answer."""

    def cached(self, token: str) -> Principal | None:
        """A principal for a token verified before and still valid, without awaiting (the hot path);
        None when the token must go through `verify`."""
        ...

    async def verify(self, token: str) -> Principal:
        """Verify the token, or raise `InvalidToken` / `VerifierUnavailable`. Never blocks the loop."""
        ...

    async def aclose(self) -> None:
        """Release connections and timers."""
        ...
