"""The serialisable record of one session.

Everything a later request of the session needs lives here and nowhere else, so the record can be kept in
any session store (in-process, shared memory, Redis) and any worker can serve any request. It is encoded
with msgpack by the stores; keep it to plain values.
"""

from __future__ import annotations

from typing import Any

import msgspec

# Lifecycle phases (lifecycle.mdx).
NEW = 0  # nothing received yet
INITIALIZING = 1  # initialize answered, notifications/initialized not yet received
OPERATING = 2
CLOSED = 3

LOG_LEVELS: dict[str, int] = {
    "debug": 0,
    "info": 1,
    "notice": 2,
    "warning": 3,
    "error": 4,
    "critical": 5,
    "alert": 6,
    "emergency": 7,
}
DEFAULT_LOG_LEVEL = "info"


class SessionState(msgspec.Struct, kw_only=True):
    session_id: str = ""
    phase: int = NEW
    protocol_version: str = ""
    client_info: dict[str, Any] | None = None
    client_capabilities: dict[str, Any] = msgspec.field(default_factory=dict)
    # Numeric log threshold (LOG_LEVELS); messages below it are not sent.
    log_level: int = LOG_LEVELS[DEFAULT_LOG_LEVEL]
    subscriptions: list[str] = msgspec.field(default_factory=list)
    created_at: float = 0.0
    last_seen: float = 0.0
    # With several worker processes: the worker whose standalone GET stream carries the session's unrelated
    # messages (each message goes to one stream only, transports.mdx); -1: none.
    stream_worker: int = -1
    # That stream (its id) and its holder's nonce (a restarted worker of the same slot has another), when
    # the holder claimed it, and the holder before ("<slot>-<nonce>"): a server-wide event published
    # before the claim is the previous holder's to deliver (workers/cluster/node.py).
    stream_id: str = ""
    stream_nonce: str = ""
    stream_since: float = 0.0
    stream_before: str = ""
    # With authorization: the principal (runtime.auth.Principal.key) whose token created the session; no
    # other principal may use, resume or end it. "" without authorization.
    principal_key: str = ""

    def client_supports(self, capability: str, sub: str | None = None) -> bool:
        caps = self.client_capabilities.get(capability)
        if caps is None:
            return False
        return sub is None or (isinstance(caps, dict) and caps.get(sub) is not None)


_state_encoder = msgspec.msgpack.Encoder()
_state_decoder = msgspec.msgpack.Decoder(SessionState)


def dump_state(state: SessionState) -> bytes:
    return _state_encoder.encode(state)


def load_state(data: bytes) -> SessionState:
    return _state_decoder.decode(data)
