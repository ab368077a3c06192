"""The verifier an `Auth` uses: its own, one its factory makes (per worker process), or by default JWT
access tokens (RFC 9068) checked against the issuer's keys (`JwtVerifier`), or, with `introspection`
set, opaque tokens asked of the issuer (`IntrospectionVerifier`, RFC 7662). The default verifiers learn
the JWKS / introspection endpoint from the issuer's metadata on first use."""

from __future__ import annotations

from runtime.auth.principal import TokenVerifier
from runtime.auth.resource import Auth


def make_verifier(auth: Auth) -> TokenVerifier:
    if auth.verifier is not None:
        return auth.verifier
    if auth.verifier_factory is not None:
        return auth.verifier_factory(auth)
    if auth.introspection is not None:
        from runtime.auth.introspection import IntrospectionVerifier

        client_id, secret = auth.introspection
        return IntrospectionVerifier(auth.issuer, auth.audience, client_id=client_id, client_secret=secret)
    from runtime.auth.jwt import JwtVerifier

    return JwtVerifier(auth.issuer, auth.audience)
