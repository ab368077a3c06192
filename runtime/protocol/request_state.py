"""The sealed `requestState` of a multi round-trip request (2026-07-28 basic/patterns/mrtr.mdx).

The client echoes the state back unchanged on its retry, so the state is attacker-controlled input: it is
sealed with an HMAC-SHA256 over its whole payload, and the payload binds it to the caller (the principal),
the request (method and a digest of its salient parameters) and a deadline. Every worker holds the same key
(`ServeConfig.state_key`, made once by the supervisor), so any worker can open what another sealed.

The payload also carries what the handler has been told so far (the input responses of earlier rounds),
which is what lets a handler that awaits `ctx.elicit(...)` run again from its start on each retry.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from typing import Any

import msgspec

# The most bytes a sealed state may have, as sent and as accepted: it rides in every retry, and a state that
# grows with each round must not grow without bound.
MAX_STATE_BYTES = 256 * 1024
# How long a round's state may be presented back (seconds): a person may answer an elicitation slowly.
DEFAULT_STATE_TTL = 900.0


class StateInvalid(Exception):
    """A requestState that is malformed, tampered with, expired or presented on another request."""


class _Payload(msgspec.Struct, array_like=True):
    version: int
    request: str  # digest of the method and its salient parameters
    principal: str
    expires: float
    answers: dict[str, Any]  # input responses of the earlier rounds, by key
    values: dict[str, Any]  # what the handler kept across rounds (Context.round_state)


_encode = msgspec.msgpack.Encoder().encode
_decode = msgspec.msgpack.Decoder(_Payload).decode


def new_key() -> bytes:
    return secrets.token_bytes(32)


def request_digest(method: str, salient: Any) -> str:
    """What a state is bound to: the method and the parameters that make it this request (the tool and its
    arguments, the prompt and its arguments, the resource URI)."""
    body = msgspec.json.encode([method, salient], order="deterministic")
    return hashlib.sha256(body).hexdigest()[:32]


class StateSealer:
    __slots__ = ("_key", "max_bytes", "ttl")

    def __init__(self, key: bytes, ttl: float = DEFAULT_STATE_TTL, max_bytes: int = MAX_STATE_BYTES) -> None:
        if len(key) < 16:
            raise ValueError("a requestState key needs at least 16 bytes")
        self._key = key
        self.ttl = ttl
        self.max_bytes = max_bytes

    def seal(self, request: str, principal: str, answers: dict[str, Any], values: dict[str, Any]) -> str:
        payload = _encode(_Payload(1, request, principal, time.time() + self.ttl, answers, values))
        tag = hmac.digest(self._key, payload, "sha256")
        sealed = base64.urlsafe_b64encode(tag + payload).decode().rstrip("=")
        if len(sealed) > self.max_bytes:
            raise StateInvalid(
                f"the request state would be {len(sealed)} bytes; the limit is {self.max_bytes}"
            )
        return sealed

    def open(self, sealed: str, request: str, principal: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """The answers and values a state carries, once it is shown to be ours, unexpired and for this
        request and caller."""
        if len(sealed) > self.max_bytes:
            raise StateInvalid("requestState is too large")
        try:
            raw = base64.urlsafe_b64decode(sealed + "=" * (-len(sealed) % 4))
        except (ValueError, TypeError):
            raise StateInvalid("requestState is not one this server issued") from None
        tag, payload = raw[:32], raw[32:]
        if len(tag) < 32 or not hmac.compare_digest(tag, hmac.digest(self._key, payload, "sha256")):
            raise StateInvalid("requestState failed its integrity check")
        try:
            state = _decode(payload)
        except (msgspec.DecodeError, msgspec.ValidationError):
            raise StateInvalid("requestState is not one this server issued") from None
        if state.expires < time.time():
            raise StateInvalid("requestState has expired; start the request again")
        if state.request != request or state.principal != principal:
            raise StateInvalid("requestState belongs to another request")
        return state.answers, state.values
