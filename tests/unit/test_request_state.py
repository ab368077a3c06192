"""The sealed requestState of modern multi round-trip requests (runtime/protocol/request_state.py)."""

from __future__ import annotations

import time

import pytest

from runtime.protocol.request_state import StateInvalid, StateSealer, new_key, request_digest

REQUEST = request_digest("tools/call", ["greet", {}])


def test_a_state_opens_with_the_same_key_request_and_caller() -> None:
    sealer = StateSealer(new_key())
    sealed = sealer.seal(REQUEST, "alice", {"name": {"action": "accept"}}, {"round": 1})
    assert sealer.open(sealed, REQUEST, "alice") == ({"name": {"action": "accept"}}, {"round": 1})


def test_another_key_caller_or_request_is_refused() -> None:
    key = new_key()
    sealed = StateSealer(key).seal(REQUEST, "alice", {}, {})
    with pytest.raises(StateInvalid, match="integrity"):
        StateSealer(new_key()).open(sealed, REQUEST, "alice")
    with pytest.raises(StateInvalid, match="another request"):
        StateSealer(key).open(sealed, REQUEST, "bob")
    with pytest.raises(StateInvalid, match="another request"):
        StateSealer(key).open(sealed, request_digest("tools/call", ["greet", {"x": 1}]), "alice")


@pytest.mark.parametrize("tampered", ["", "x", "!!!!", "A" * 60])
def test_garbage_is_refused(tampered: str) -> None:
    with pytest.raises(StateInvalid):
        StateSealer(new_key()).open(tampered, REQUEST, "")


def test_a_state_expires() -> None:
    sealer = StateSealer(new_key(), ttl=0.05)
    sealed = sealer.seal(REQUEST, "", {}, {})
    sealer.open(sealed, REQUEST, "")
    time.sleep(0.06)
    with pytest.raises(StateInvalid, match="expired"):
        sealer.open(sealed, REQUEST, "")


def test_the_size_limit_holds_both_ways() -> None:
    sealer = StateSealer(new_key(), max_bytes=200)
    sealer.seal(REQUEST, "", {"a": "x" * 40}, {})  # under the limit
    with pytest.raises(StateInvalid, match="limit"):
        sealer.seal(REQUEST, "", {"a": "x" * 400}, {})
    with pytest.raises(StateInvalid, match="too large"):
        sealer.open("A" * 201, REQUEST, "")


def test_a_short_key_is_refused() -> None:
    with pytest.raises(ValueError):
        StateSealer(b"short")
