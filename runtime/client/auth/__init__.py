"""OAuth 2.1 for the MCP client (the spec's "Authorization"): `Client(url, auth=OAuth(...))`.

discovery: WWW-Authenticate, protected resource and authorization server metadata; registration:
pre-registered, client ID metadata documents, dynamic registration; flow: PKCE, the authorization request
and response checks, the headless browser; grants: the token endpoint; tokens: what is kept, and where."""

from runtime.client.auth.flow import Authorize, browser_authorize, headless_authorize
from runtime.client.auth.grants import PrivateKey
from runtime.client.auth.oauth import OAuth
from runtime.client.auth.tokens import ClientRegistration, MemoryTokenStore, Tokens, TokenStore
from runtime.client.errors import OAuthError

__all__ = [
    "Authorize",
    "ClientRegistration",
    "MemoryTokenStore",
    "OAuth",
    "OAuthError",
    "PrivateKey",
    "TokenStore",
    "Tokens",
    "browser_authorize",
    "headless_authorize",
]
