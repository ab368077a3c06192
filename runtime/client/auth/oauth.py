"""`OAuth`: what a `Client` needs to talk to a protected MCP server. The HTTP transport asks it for the
`Authorization` header of each request and hands it each 401 (and 403 `insufficient_scope`) it gets; it
discovers, registers, authorizes (or refreshes) and stores the tokens."""

from __future__ import annotations

import asyncio
from typing import Any, Literal

from runtime.client.auth import discovery, flow, grants, registration
from runtime.client.auth.grants import PrivateKey
from runtime.client.auth.tokens import ClientRegistration, MemoryTokenStore, Tokens, TokenStore
from runtime.client.errors import OAuthError
from runtime.client.http import Verify

DEFAULT_REDIRECT_URI = "http://127.0.0.1:33418/callback"


class OAuth:
    """OAuth 2.1 for one MCP server: pass it as `Client(url, auth=OAuth(...))`.

    - `client_id` / `client_secret` / `private_key`: pre-registered credentials (used first); `issuer` binds
      them to one authorization server (else they are offered to whichever the server names). A
      `private_key` (`PrivateKey`: PEM or JWK, and its algorithm) authenticates with private_key_jwt.
    - `client_metadata_url`: this client's client ID metadata document (an https URL), used as the client_id
      where the authorization server supports them; else the client registers dynamically (RFC 7591) as
      `client_name` with `redirect_uri`.
    - `grant`: "authorization_code" (a user, PKCE S256, the default) or "client_credentials" (a machine
      client: needs `client_id` and a secret or a key).
    - `scopes`: asked for when the server's challenge names none (before its `scopes_supported`);
      `offline_access`: ask for a refresh token where the authorization server lists that scope.
    - `authorize`: given the authorization URL, returns the URL the authorization server redirected to
      (`browser_authorize(redirect_uri)`: the system browser and a loopback listener on `redirect_uri`);
      the default, `headless_authorize`, GETs the URL and follows the authorization server's redirects
      with their cookies until one goes to the redirect URI (servers that approve without a user: tests,
      the conformance suite).
    - `token_store`: where tokens and registrations are kept (`MemoryTokenStore` by default).
    - `verify`: TLS check for the authorization server (default: the client's own setting).
    - `max_attempts`: authorization rounds for one request (401 and step-up on 403 together) before it fails.
    """

    def __init__(
        self,
        *,
        client_id: str | None = None,
        client_secret: str | None = None,
        private_key: PrivateKey | None = None,
        issuer: str | None = None,
        client_metadata_url: str | None = None,
        client_name: str = "mcprt-client",
        redirect_uri: str = DEFAULT_REDIRECT_URI,
        grant: Literal["authorization_code", "client_credentials"] = "authorization_code",
        scopes: list[str] | None = None,
        offline_access: bool = True,
        authorize: flow.Authorize | None = None,
        token_store: TokenStore | None = None,
        verify: Verify | None = None,
        max_attempts: int = 3,
    ) -> None:
        if grant == "client_credentials" and client_id is None:
            raise ValueError(
                "the client_credentials grant needs a client_id (and a client_secret or private_key)"
            )
        self.client_id = client_id
        self.client_secret = client_secret
        self.private_key = private_key
        self.issuer = issuer
        self.client_metadata_url = client_metadata_url
        self.client_name = client_name
        self.redirect_uri = redirect_uri
        self.grant = grant
        self.scopes = list(scopes) if scopes else None
        self.offline_access = offline_access
        self.token_store: TokenStore = token_store if token_store is not None else MemoryTokenStore()
        self.max_attempts = max_attempts
        self._authorize = authorize
        self._verify = verify
        self._server_url: str | None = None
        self._metadata: dict[str, dict[str, Any]] = {}
        self._requested: list[str] = []
        self._lock = asyncio.Lock()

    # -- the transport's side -------------------------------------------------------------------------------

    def bind(self, server_url: str, verify: Verify) -> None:
        """Called by the HTTP transport: the server these tokens are for (one `OAuth` serves one server)."""
        if self._server_url is not None and self._server_url != server_url:
            raise ValueError("an OAuth object serves one MCP server: make another for another server")
        self._server_url = server_url
        if self._verify is None:
            self._verify = verify

    @property
    def verify(self) -> Verify:
        return True if self._verify is None else self._verify

    @property
    def server_url(self) -> str:
        if self._server_url is None:
            raise RuntimeError("OAuth is not bound to a server: pass it to Client(url, auth=...)")
        return self._server_url

    async def access_token(self) -> str | None:
        """The token to send now (refreshed first when it has expired), or None before authorization."""
        tokens = await self.token_store.get_tokens(self.server_url)
        if tokens is None:
            return None
        if not discovery.resource_matches(tokens.resource, self.server_url):
            return None  # issued for another resource: never sent here
        if tokens.expired() and tokens.refresh_token is not None:
            async with self._lock:
                tokens = await self.token_store.get_tokens(self.server_url)
                if tokens is not None and tokens.expired():
                    tokens = await self._try_refresh(tokens)
        return tokens.access_token if tokens is not None else None

    async def challenged(self, status: int, www_authenticate: str | None, sent: str | None) -> None:
        """The server refused the token `sent` (None: no token) with 401, or with 403 insufficient_scope: get
        a new one. Another request's round may have done it meanwhile: then there is nothing to do."""
        async with self._lock:
            current = await self.token_store.get_tokens(self.server_url)
            if current is not None and current.access_token != sent:
                return
            challenge = discovery.bearer_challenge(www_authenticate)
            resource = await discovery.discover_protected_resource(
                self.server_url, challenge.resource_metadata if challenge else None, self.verify
            )
            issuer = resource.authorization_servers[0]
            metadata = await self._metadata_of(issuer, fresh=True)
            refreshable = status == 401 and current is not None and current.issuer == issuer
            if (
                refreshable
                and current is not None
                and current.refresh_token
                and await self._try_refresh(current)
            ):
                return
            previous = self._requested if status == 403 else []
            scopes = flow.select_scopes(
                challenge.scope if challenge else None, resource.scopes_supported, previous, self.scopes
            )
            if self.grant == "client_credentials":
                client = self._preregistered(issuer)
                if client is None:
                    raise OAuthError(f"the client credentials are not for the authorization server {issuer}")
                tokens = await grants.client_credentials(
                    metadata,
                    client,
                    resource=resource.resource,
                    scopes=scopes,
                    key=self.private_key,
                    verify=self.verify,
                )
            else:
                if self.offline_access:
                    scopes = flow.with_offline_access(scopes, metadata.get("scopes_supported"))
                tokens = await self._authorization_code(metadata, resource, scopes)
            self._requested = scopes
            await self.token_store.set_tokens(self.server_url, tokens)

    # -- the rounds ------------------------------------------------------------------------------------------

    async def _authorization_code(
        self, metadata: dict[str, Any], protected: discovery.ProtectedResource, scopes: list[str]
    ) -> Tokens:
        issuer = str(metadata["issuer"])
        resource = protected.resource
        methods = metadata.get("code_challenge_methods_supported")
        if not isinstance(methods, list) or "S256" not in methods:
            raise OAuthError(f"the authorization server {issuer} does not advertise PKCE S256: refusing it")
        endpoint = metadata.get("authorization_endpoint")
        if not isinstance(endpoint, str):
            raise OAuthError(f"the metadata of {issuer} has no authorization_endpoint")
        client = await self._registration(metadata, scopes, protected.scopes_supported)
        redirect_uri = client.redirect_uri or self.redirect_uri
        pending = flow.authorization_url(
            endpoint,
            client_id=client.client_id,
            redirect_uri=redirect_uri,
            resource=resource,
            scopes=scopes,
            issuer=issuer,
            iss_supported=metadata.get("authorization_response_iss_parameter_supported") is True,
        )
        authorize = self._authorize or flow.headless_authorize(self.verify)
        redirected = await authorize(pending.url)
        code = flow.authorization_code(redirected, pending)
        return await grants.exchange_code(
            metadata,
            client,
            code,
            pending.verifier,
            redirect_uri,
            resource=resource,
            scopes=scopes,
            key=self.private_key,
            verify=self.verify,
        )

    async def _try_refresh(self, tokens: Tokens) -> Tokens | None:
        """Refresh at the token endpoint of the issuer's metadata; None (the tokens dropped) on failure."""
        try:
            metadata = await self._metadata_of(tokens.issuer)
            client = self._preregistered(tokens.issuer) or await self.token_store.get_registration(
                tokens.issuer
            )
            if client is None:
                raise OAuthError("no registration to refresh with")
            fresh = await grants.refresh(metadata, client, tokens, key=self.private_key, verify=self.verify)
        except OAuthError:
            await self.token_store.set_tokens(self.server_url, None)
            return None
        await self.token_store.set_tokens(self.server_url, fresh)
        return fresh

    async def _metadata_of(self, issuer: str, fresh: bool = False) -> dict[str, Any]:
        if fresh or issuer not in self._metadata:
            self._metadata[issuer] = await discovery.discover_authorization_server(issuer, self.verify)
        return self._metadata[issuer]

    def _preregistered(self, issuer: str) -> ClientRegistration | None:
        if self.client_id is None or (self.issuer is not None and self.issuer != issuer):
            return None
        return ClientRegistration(self.client_id, issuer, self.client_secret)

    async def _registration(
        self, metadata: dict[str, Any], scopes: list[str], scopes_supported: list[str] | None
    ) -> ClientRegistration:
        """Pre-registered, else the stored registration at this issuer, else a client ID metadata document,
        else dynamic registration; a registration belongs to its issuer alone. A dynamic registration
        names every scope the resource supports (an authorization server may hold the client to the
        registered ones, and a later step-up needs more than the first authorization); when the resource
        lists none, it names no scope (the authorization server's default set)."""
        issuer = str(metadata["issuer"])
        client = self._preregistered(issuer) or await self.token_store.get_registration(issuer)
        if client is not None:
            return client
        if self.client_metadata_url and metadata.get("client_id_metadata_document_supported") is True:
            client = registration.metadata_document_registration(
                self.client_metadata_url, metadata, self.private_key is not None
            )
        else:
            client = await registration.register(
                metadata,
                client_name=self.client_name,
                redirect_uri=self.redirect_uri,
                scopes=list(dict.fromkeys([*scopes, *scopes_supported])) if scopes_supported else [],
                grant_types=["authorization_code", "refresh_token"],
                verify=self.verify,
            )
        await self.token_store.set_registration(issuer, client)
        return client
