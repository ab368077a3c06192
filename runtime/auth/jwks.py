"""An issuer's signing keys (its JWKS), fetched without blocking, cached, and re-fetched when a token names
a key we do not have (a rotation), at most once per `min_refresh_interval` so a flood of made-up `kid`s
cannot become a flood of fetches. Keys already known are kept while a refresh fails.

Only asymmetric signing keys are taken from a JWKS (RSA, EC, OKP): a symmetric (`oct`) key there would let
anyone who read the public document sign tokens, the HMAC-with-a-public-key confusion."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from joserfc.errors import JoseError
from joserfc.jwk import ECKey, JWKRegistry, OKPKey, RSAKey

from runtime.auth.fetch import DEFAULT_TIMEOUT, FetchError, request_json
from runtime.auth.principal import InvalidToken, VerifierUnavailable
from runtime.client.http import Verify

PublicKey = RSAKey | ECKey | OKPKey

# The key type (and curve) each allowed algorithm needs.
_KEY_FOR_ALG: dict[str, tuple[str, str | None]] = {
    "RS256": ("RSA", None), "RS384": ("RSA", None), "RS512": ("RSA", None),
    "PS256": ("RSA", None), "PS384": ("RSA", None), "PS512": ("RSA", None),
    "ES256": ("EC", "P-256"), "ES384": ("EC", "P-384"), "ES512": ("EC", "P-521"),
    "EdDSA": ("OKP", None), "Ed25519": ("OKP", "Ed25519"),
}  # fmt: skip
ASYMMETRIC_ALGORITHMS = frozenset(_KEY_FOR_ALG)


def key_fits(key: PublicKey, jwk: dict[str, Any], alg: str) -> bool:
    kty, crv = _KEY_FOR_ALG[alg]
    if jwk.get("kty") != kty or (crv is not None and jwk.get("crv") != crv):
        return False
    return jwk.get("alg") in (None, alg)


class JwksCache:
    """The keys at `jwks_uri`, or at the URI `locate()` finds (from the issuer's metadata) on first use."""

    def __init__(
        self,
        jwks_uri: str | None = None,
        *,
        locate: Callable[[], Awaitable[str]] | None = None,
        min_refresh_interval: float = 30.0,
        max_age: float = 3600.0,
        timeout: float = DEFAULT_TIMEOUT,
        verify: Verify = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if jwks_uri is None and locate is None:
            raise ValueError("JwksCache needs jwks_uri or locate")
        self.jwks_uri = jwks_uri
        self._locate = locate
        self.min_refresh_interval = min_refresh_interval
        self.max_age = max_age
        self.timeout = timeout
        self.verify = verify
        self._clock = clock
        self._keys: dict[str | None, list[tuple[PublicKey, dict[str, Any]]]] = {}
        self._loaded_at: float | None = None  # when the keys we hold were fetched
        self._attempted_at: float | None = None  # when a fetch last started
        self._last_error: str | None = None  # why the last fetch failed (None: it succeeded)
        self._refreshing: asyncio.Task[None] | None = None
        self.fetches = 0  # fetches started, for tests and metrics

    async def key(self, kid: str | None, alg: str) -> PublicKey:
        """The key to check a token signed with `alg` by key `kid`."""
        now = self._clock()
        if self._loaded_at is None or now - self._loaded_at > self.max_age:
            await self._refresh_if_allowed(now)
        found = self._find(kid, alg)
        if found is None and self._may_fetch(self._clock()):
            await self._refresh_if_allowed(self._clock())
            found = self._find(kid, alg)
        if found is not None:
            return found
        if self._loaded_at is None or self._last_error is not None:
            raise VerifierUnavailable(f"JWKS unavailable: {self._last_error}")
        raise InvalidToken(f"no {alg} key with this kid in the issuer's JWKS")  # (the kid is the token's)

    def _may_fetch(self, now: float) -> bool:
        return self._attempted_at is None or now - self._attempted_at >= self.min_refresh_interval

    def _find(self, kid: str | None, alg: str) -> PublicKey | None:
        if kid is None:
            # No kid: only unambiguous when one key of the issuer fits the algorithm.
            fitting = [key for keys in self._keys.values() for key, jwk in keys if key_fits(key, jwk, alg)]
            return fitting[0] if len(fitting) == 1 else None
        for key, jwk in self._keys.get(kid, ()):
            if key_fits(key, jwk, alg):
                return key
        return None

    async def _refresh_if_allowed(self, now: float) -> None:
        if self._refreshing is None:
            if not self._may_fetch(now):
                return
            self._attempted_at = now
            self._refreshing = asyncio.get_running_loop().create_task(self._refresh())
        task = self._refreshing
        try:
            await asyncio.shield(task)
        finally:
            if task.done() and self._refreshing is task:
                self._refreshing = None

    async def _refresh(self) -> None:
        self.fetches += 1
        try:
            if self.jwks_uri is None:
                assert self._locate is not None
                self.jwks_uri = await self._locate()
            document = await request_json(self.jwks_uri, timeout=self.timeout, verify=self.verify)
            keys = parse_jwks(document)
        except (FetchError, VerifierUnavailable, ValueError) as error:
            self._last_error = str(error)  # the keys we had stay in use
            return
        self._keys = keys
        self._loaded_at = self._clock()
        self._last_error = None

    async def aclose(self) -> None:
        if self._refreshing is not None:
            self._refreshing.cancel()
            await asyncio.gather(self._refreshing, return_exceptions=True)
            self._refreshing = None


def parse_jwks(document: Any) -> dict[str | None, list[tuple[PublicKey, dict[str, Any]]]]:
    """The usable signing keys of a JWKS document, by kid; ValueError if it is not a JWKS."""
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise ValueError("not a JWKS document")
    keys: dict[str | None, list[tuple[PublicKey, dict[str, Any]]]] = {}
    for jwk in document["keys"]:
        if not isinstance(jwk, dict) or jwk.get("kty") not in ("RSA", "EC", "OKP"):
            continue
        if jwk.get("use") not in (None, "sig") or "d" in jwk:
            continue
        if jwk.get("alg") is not None and jwk.get("alg") not in ASYMMETRIC_ALGORITHMS:
            continue
        try:
            key = JWKRegistry.import_key(jwk)
        except (JoseError, ValueError, TypeError):
            continue
        if isinstance(key, RSAKey | ECKey | OKPKey):
            kid = jwk.get("kid")
            keys.setdefault(kid if isinstance(kid, str) else None, []).append((key, jwk))
    return keys
