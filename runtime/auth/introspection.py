"""`IntrospectionVerifier`: opaque access tokens, asked of the authorization server (RFC 7662).

An answer is taken only when `active` is true, `iss` (when given) is the issuer, `aud` names this server
(required by default: no token passthrough), and `exp` has not passed. Active answers are cached until the
token's `exp` but at most `max_cache_seconds` (so a revocation shows within that time). Inactive answers
are cached for `inactive_cache_seconds` (5 s by default, 0 turns it off): a token never becomes active
again, and without it a client retrying a revoked or made-up token would cost one introspection call per
request; kept short so the negative cache stays small and a mistaken answer does not stick."""

from __future__ import annotations

import base64
import time
from collections import OrderedDict
from collections.abc import Callable, Collection
from typing import Any
from urllib.parse import quote

from runtime.auth.cache import SingleFlight, TokenCache
from runtime.auth.fetch import DEFAULT_TIMEOUT, FetchError, request_json
from runtime.auth.jwt import MAX_LEEWAY, audiences, check_times, names_us, principal_from_claims
from runtime.auth.metadata import fetch_metadata
from runtime.auth.principal import InvalidToken, Principal, VerifierUnavailable
from runtime.client.http import Verify


class IntrospectionVerifier:
    """Verifies opaque tokens at `endpoint`, or at the issuer metadata's `introspection_endpoint`,
    authenticating as `client_id` / `client_secret` (client_secret_basic, or client_secret_post)."""

    def __init__(
        self,
        issuer: str,
        audience: str | Collection[str],
        *,
        client_id: str,
        client_secret: str,
        endpoint: str | None = None,
        auth_method: str = "client_secret_basic",
        require_audience: bool = True,
        leeway: float = 30.0,
        cache_size: int = 10_000,
        max_cache_seconds: float = 60.0,
        inactive_cache_seconds: float = 5.0,
        inactive_cache_size: int = 10_000,
        timeout: float = DEFAULT_TIMEOUT,
        verify: Verify = True,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if auth_method not in ("client_secret_basic", "client_secret_post"):
            raise ValueError("auth_method must be client_secret_basic or client_secret_post")
        if not 0 <= leeway <= MAX_LEEWAY:
            raise ValueError(f"leeway must be between 0 and {MAX_LEEWAY} s")
        self.issuer = issuer
        self.audiences = audiences(audience)
        self.endpoint = endpoint
        self.client_id = client_id
        self._client_secret = client_secret
        self.auth_method = auth_method
        self.require_audience = require_audience
        self.leeway = leeway
        self.max_cache_seconds = max_cache_seconds
        self.inactive_cache_seconds = inactive_cache_seconds
        self._inactive_size = inactive_cache_size
        self._inactive: OrderedDict[str, float] = OrderedDict()
        self._timeout = timeout
        self._verify_tls = verify
        self._clock = clock
        self._cache = TokenCache(cache_size, clock)
        self._flight: SingleFlight[Principal] = SingleFlight()
        self.calls = 0  # introspection requests sent, for tests and metrics

    def cached(self, token: str) -> Principal | None:
        return self._cache.get(token)

    async def verify(self, token: str) -> Principal:
        principal = self._cache.get(token)
        if principal is not None:
            return principal
        until = self._inactive.get(token)
        if until is not None:
            if until > self._clock():
                raise InvalidToken("inactive (cached)")
            del self._inactive[token]
        return await self._flight.run(token, lambda: self._introspect(token))

    async def _endpoint(self) -> str:
        if self.endpoint is None:
            metadata = await fetch_metadata(self.issuer, timeout=self._timeout, verify=self._verify_tls)
            if metadata.introspection_endpoint is None:
                raise VerifierUnavailable("the issuer's metadata has no introspection_endpoint")
            self.endpoint = metadata.introspection_endpoint
        return self.endpoint

    async def _introspect(self, token: str) -> Principal:
        if not token or len(token) > 16_384:
            raise InvalidToken("token of unacceptable size")
        endpoint = await self._endpoint()
        form = {"token": token, "token_type_hint": "access_token"}
        headers: dict[str, str] = {}
        if self.auth_method == "client_secret_basic":
            # RFC 6749 2.3.1: each part form-encoded before base64.
            pair = f"{quote(self.client_id, safe='')}:{quote(self._client_secret, safe='')}"
            headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
        else:
            form.update(client_id=self.client_id, client_secret=self._client_secret)
        self.calls += 1
        try:
            answer = await request_json(
                endpoint,
                method="POST",
                form=form,
                headers=headers,
                timeout=self._timeout,
                verify=self._verify_tls,
            )
        except FetchError as error:
            raise VerifierUnavailable(f"introspection failed: {error}") from None
        if not isinstance(answer, dict):
            raise VerifierUnavailable("introspection answer is not a JSON object")
        try:
            return self._accept(token, answer)
        except InvalidToken:
            self._remember_inactive(token)
            raise

    def _accept(self, token: str, answer: dict[str, Any]) -> Principal:
        if answer.get("active") is not True:
            raise InvalidToken("inactive")
        if "iss" in answer and answer["iss"] != self.issuer:
            raise InvalidToken("another issuer")
        if ("aud" in answer or self.require_audience) and not names_us(self.audiences, answer.get("aud")):
            raise InvalidToken("not for this audience")
        now = self._clock()
        exp = check_times(answer, now, self.leeway) if "exp" in answer else None
        principal = principal_from_claims(self.issuer, answer, exp)
        until = now + self.max_cache_seconds
        if exp is not None:
            until = min(until, exp + self.leeway)
        self._cache.put(token, principal, until)
        return principal

    def _remember_inactive(self, token: str) -> None:
        if self.inactive_cache_seconds <= 0 or self._inactive_size <= 0:
            return
        self._inactive[token] = self._clock() + self.inactive_cache_seconds
        self._inactive.move_to_end(token)
        while len(self._inactive) > self._inactive_size:
            self._inactive.popitem(last=False)

    async def aclose(self) -> None:
        await self._flight.aclose()
        self._cache.clear()
        self._inactive.clear()
