"""What the OAuth client keeps: the tokens for a resource and the client registration at each
authorization server, behind a small interface (`TokenStore`) with an in-memory default."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Protocol


@dataclass
class Tokens:
    """The tokens an authorization server (`issuer`) issued for one resource. `repr` hides the secrets."""

    access_token: str = field(repr=False)
    issuer: str
    resource: str
    token_type: str = "Bearer"
    refresh_token: str | None = field(default=None, repr=False)
    expires_at: float | None = None  # time.time() seconds
    scopes: list[str] = field(default_factory=list)  # the scopes requested (or granted, when the AS said)
    obtained_at: float = field(default_factory=time.time)

    def expired(self, leeway: float = 30.0) -> bool:
        """Whether the token is (about to be) expired: `leeway` seconds before `expires_at`, at most half
        its lifetime (a token that lives 10 s is used for 5, not refreshed before every request)."""
        if self.expires_at is None:
            return False
        leeway = max(0.0, min(leeway, (self.expires_at - self.obtained_at) / 2))
        return time.time() + leeway >= self.expires_at


@dataclass
class ClientRegistration:
    """The client's identity at one authorization server (`issuer`): pre-registered, a client ID metadata
    document URL, or what dynamic registration returned."""

    client_id: str
    issuer: str
    client_secret: str | None = field(default=None, repr=False)
    token_endpoint_auth_method: str | None = None
    redirect_uri: str | None = None


class TokenStore(Protocol):
    """Where tokens and registrations live: keyed by resource (the MCP server's canonical URI) for tokens,
    by issuer for registrations (a registration is never reused at another authorization server)."""

    async def get_tokens(self, resource: str) -> Tokens | None: ...

    async def set_tokens(self, resource: str, tokens: Tokens | None) -> None: ...

    async def get_registration(self, issuer: str) -> ClientRegistration | None: ...

    async def set_registration(self, issuer: str, registration: ClientRegistration | None) -> None: ...


class MemoryTokenStore:
    """The default `TokenStore`: this process's memory, gone when it exits."""

    def __init__(self) -> None:
        self._tokens: dict[str, Tokens] = {}
        self._registrations: dict[str, ClientRegistration] = {}

    async def get_tokens(self, resource: str) -> Tokens | None:
        return self._tokens.get(resource)

    async def set_tokens(self, resource: str, tokens: Tokens | None) -> None:
        if tokens is None:
            self._tokens.pop(resource, None)
        else:
            self._tokens[resource] = tokens

    async def get_registration(self, issuer: str) -> ClientRegistration | None:
        return self._registrations.get(issuer)

    async def set_registration(self, issuer: str, registration: ClientRegistration | None) -> None:
        if registration is None:
            self._registrations.pop(issuer, None)
        else:
            self._registrations[issuer] = registration
