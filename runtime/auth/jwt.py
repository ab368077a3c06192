"""`JwtVerifier`: JWT access tokens (RFC 9068) checked locally against the issuer's JWKS (joserfc).

The checks, in order: a compact JWS of bounded size; header `typ` is `at+jwt` (or `application/at+jwt`),
so an ID token or another JWT of the issuer is not taken for an access token; `alg` is on the allow-list
(asymmetric only: never `none`, never HMAC); no `crit` extension; the key by `kid` fits the algorithm;
the signature; `iss` exactly the issuer; `aud` names this server (no token passthrough); `exp` required and
`nbf` / `iat` honoured, each with a bounded leeway. Verified tokens are cached until their own `exp`."""

from __future__ import annotations

import time
from collections.abc import Callable, Collection
from typing import Any

import msgspec
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.util import urlsafe_b64decode

from runtime.auth.cache import SingleFlight, TokenCache
from runtime.auth.fetch import DEFAULT_TIMEOUT
from runtime.auth.jwks import ASYMMETRIC_ALGORITHMS, JwksCache
from runtime.auth.metadata import fetch_metadata
from runtime.auth.principal import InvalidToken, Principal, VerifierUnavailable
from runtime.client.http import Verify

MAX_LEEWAY = 60.0
ACCESS_TOKEN_TYPES = frozenset({"at+jwt", "application/at+jwt"})
_JWS_ALGORITHMS = jws.JWSRegistry.algorithms


def canonical(uri: str) -> str:
    """A resource URI with its scheme and host in lower case (2026-07-28 authorization: uppercase ones
    are accepted for robustness); the path stays as it is."""
    scheme, separator, rest = uri.partition("://")
    if not separator:
        return uri
    host, slash, path = rest.partition("/")
    return f"{scheme.lower()}://{host.lower()}{slash}{path}"


def audiences(audience: str | Collection[str]) -> frozenset[str]:
    found = [audience] if isinstance(audience, str) else list(audience)
    if not found or not all(isinstance(a, str) and a for a in found):
        raise ValueError("audience must name this resource server")
    return frozenset(canonical(a) for a in found)


def names_us(ours: frozenset[str], aud: Any) -> bool:
    """Whether a token's `aud` (a string or a list) names one of our audiences."""
    named = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
    return any(isinstance(a, str) and canonical(a) in ours for a in named)


def parse_scopes(claims: dict[str, Any]) -> frozenset[str]:
    """`scope` (a space-separated string, RFC 9068 / RFC 8693) or `scp` (a list or a string)."""
    value = claims.get("scope")
    if value is None:
        value = claims.get("scp")
    if isinstance(value, str):
        return frozenset(value.split())
    if isinstance(value, list):
        return frozenset(item for item in value if isinstance(item, str) and item)
    return frozenset()


def _number(claims: dict[str, Any], name: str) -> float | None:
    value = claims.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidToken(f"claim {name} is not a number")
    return float(value)


def check_times(claims: dict[str, Any], now: float, leeway: float) -> float:
    """`exp` (required), `nbf` and `iat` against `now` with `leeway`; returns exp."""
    exp = _number(claims, "exp")
    if exp is None:
        raise InvalidToken("no exp claim")
    if now >= exp + leeway:
        raise InvalidToken("expired")
    nbf = _number(claims, "nbf")
    if nbf is not None and now + leeway < nbf:
        raise InvalidToken("not valid yet (nbf)")
    iat = _number(claims, "iat")
    if iat is not None and now + leeway < iat:
        raise InvalidToken("issued in the future (iat)")
    return exp


def principal_from_claims(issuer: str, claims: dict[str, Any], exp: float | None) -> Principal:
    sub = claims.get("sub")
    client_id = claims.get("client_id")
    if client_id is None:
        client_id = claims.get("azp")
    return Principal(
        issuer=issuer,
        subject=sub if isinstance(sub, str) else None,
        client_id=client_id if isinstance(client_id, str) else None,
        scopes=parse_scopes(claims),
        expires_at=exp,
        claims=claims,
    )


class JwtVerifier:
    """Verifies RFC 9068 JWT access tokens of `issuer` meant for `audience` (this server's resource URL,
    or several names of it). The JWKS comes from `jwks_uri`, or from the issuer's metadata when not given."""

    def __init__(
        self,
        issuer: str,
        audience: str | Collection[str],
        *,
        algorithms: Collection[str] = ("RS256", "ES256"),
        jwks_uri: str | None = None,
        leeway: float = 30.0,
        cache_size: int = 10_000,
        accept_typ: Collection[str] = ACCESS_TOKEN_TYPES,
        min_refresh_interval: float = 30.0,
        jwks_max_age: float = 3600.0,
        max_token_bytes: int = 16_384,
        timeout: float = DEFAULT_TIMEOUT,
        verify: Verify = True,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not issuer:
            raise ValueError("issuer is required")
        bad = [alg for alg in algorithms if alg not in ASYMMETRIC_ALGORITHMS]
        if bad or not algorithms:
            raise ValueError(f"algorithms must be asymmetric JWS algorithms (not {bad or 'none'})")
        if not 0 <= leeway <= MAX_LEEWAY:
            raise ValueError(f"leeway must be between 0 and {MAX_LEEWAY} s")
        self.issuer = issuer
        self.audiences = audiences(audience)
        self.algorithms = frozenset(algorithms)
        self.accept_typ = frozenset(typ.lower() for typ in accept_typ)
        self.leeway = leeway
        self.max_token_bytes = max_token_bytes
        self._clock = clock
        self._cache = TokenCache(cache_size, clock)
        self._flight: SingleFlight[Principal] = SingleFlight()
        self.jwks = JwksCache(
            jwks_uri,
            locate=self._locate_jwks,
            min_refresh_interval=min_refresh_interval,
            max_age=jwks_max_age,
            timeout=timeout,
            verify=verify,
        )
        self._timeout = timeout
        self._verify_tls = verify

    async def _locate_jwks(self) -> str:
        metadata = await fetch_metadata(self.issuer, timeout=self._timeout, verify=self._verify_tls)
        if metadata.jwks_uri is None:
            raise VerifierUnavailable("the issuer's metadata has no jwks_uri")
        return metadata.jwks_uri

    def cached(self, token: str) -> Principal | None:
        return self._cache.get(token)

    async def verify(self, token: str) -> Principal:
        principal = self._cache.get(token)
        if principal is not None:
            return principal
        return await self._flight.run(token, lambda: self._verify(token))

    async def _verify(self, token: str) -> Principal:
        if len(token) > self.max_token_bytes or token.count(".") != 2:
            raise InvalidToken("not a compact JWS of acceptable size")
        try:
            signed = jws.extract_compact(token.encode("ascii"))
        except (JoseError, ValueError, UnicodeError) as error:
            raise InvalidToken(f"malformed JWS: {error.__class__.__name__}") from None
        header = signed.headers()
        typ = header.get("typ")
        if not isinstance(typ, str) or typ.lower() not in self.accept_typ:
            raise InvalidToken("typ is not at+jwt")
        alg = header.get("alg")
        if not isinstance(alg, str) or alg not in self.algorithms:
            raise InvalidToken("alg not allowed")
        if "crit" in header:
            raise InvalidToken("crit header not understood")
        kid = header.get("kid")
        key = await self.jwks.key(kid if isinstance(kid, str) else None, alg)
        data = token.encode("ascii")
        cut = data.rindex(b".")
        try:
            signature = urlsafe_b64decode(data[cut + 1 :])
            good = _JWS_ALGORITHMS[alg].verify(data[:cut], signature, key)
        except (JoseError, ValueError, TypeError):
            good = False
        if not good:
            raise InvalidToken("bad signature")
        try:
            claims = msgspec.json.decode(signed.payload)
        except msgspec.DecodeError:
            raise InvalidToken("payload is not JSON") from None
        if not isinstance(claims, dict):
            raise InvalidToken("payload is not a JSON object")
        if claims.get("iss") != self.issuer:
            raise InvalidToken("another issuer")
        if not names_us(self.audiences, claims.get("aud")):
            raise InvalidToken("not for this audience")
        exp = check_times(claims, self._clock(), self.leeway)
        principal = principal_from_claims(self.issuer, claims, exp)
        self._cache.put(token, principal, exp + self.leeway)
        return principal

    async def aclose(self) -> None:
        await self._flight.aclose()
        await self.jwks.aclose()
        self._cache.clear()
