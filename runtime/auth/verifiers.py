"""The verifier an `Auth` uses: its own, one its factory makes (per worker process), or by default JWT
access tokens (RFC 9068) checked against the issuer's keys."""

from __future__ import annotations

from runtime.auth.principal import TokenVerifier
from runtime.auth.resource import Auth


def make_verifier(auth: Auth) -> TokenVerifier:
    if auth.verifier is not None:
        return auth.verifier
    if auth.verifier_factory is not None:
        return auth.verifier_factory(auth)
    raise NotImplementedError("the default JWT verifier lands with runtime/auth/jwt.py")
