"""The guard's steady state: an Authorization value it admitted is served from one lookup, but the verifier
is asked again at least every RECHECK_SECONDS and never later than the token's exp. The HTTP protocol and
the guard are real (a fake transport below them); the verifier is a user's `TokenVerifier`, counting."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from runtime import Auth, Server
from runtime.auth.principal import Principal
from tests.unit.fake_transport import connect, hang_up, one_response, settle
from workers.streamable import guard as guard_module
from workers.streamable.guard import RECHECK_SECONDS, AuthGuard


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def time(self) -> float:
        return self.now


class CountingVerifier:
    """Accepts one token; `cached` counts how often the guard asks it."""

    def __init__(self, expires_at: float | None) -> None:
        self.asked = 0
        self.principal = Principal("https://as.example", "alice", "app", frozenset({"a"}), expires_at)

    def cached(self, token: str) -> Principal | None:
        self.asked += 1
        return self.principal if token == "good" else None

    async def verify(self, token: str) -> Principal:
        from runtime.auth.principal import InvalidToken

        raise InvalidToken("unknown")

    async def aclose(self) -> None:
        pass


def _served(verifier: CountingVerifier) -> tuple[AuthGuard, list[Any]]:
    seen: list[Any] = []

    def endpoint(request: Any, responder: Any) -> None:
        seen.append(request.principal)
        responder.respond(200, [], b"ok")

    auth = Auth(issuer="https://as.example", audience="http://127.0.0.1/mcp", verifier=verifier)
    return AuthGuard(auth, verifier, Server("g"), "/mcp", endpoint), seen


async def _status(guard: AuthGuard, authorization: str) -> int:
    conn, transport = connect(guard)
    conn.data_received(
        b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: " + authorization.encode()
        + b"\r\nContent-Length: 2\r\n\r\n{}"
    )
    await settle(lambda: bool(transport.out))
    hang_up(conn)
    return one_response(transport.take()).status


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(guard_module, "time", clock)
    return clock


def test_an_admitted_value_is_asked_again_after_the_recheck_interval(clock: Clock) -> None:
    verifier = CountingVerifier(expires_at=clock.now + 3600)
    guard, seen = _served(verifier)

    async def run() -> None:
        assert await _status(guard, "Bearer good") == 200
        assert await _status(guard, "Bearer good") == 200
        assert verifier.asked == 1  # the second request: one lookup, no verifier
        clock.now += RECHECK_SECONDS + 0.01
        assert await _status(guard, "Bearer good") == 200
        assert verifier.asked == 2
        assert await _status(guard, "bearer good") == 200  # another value: its own entry
        assert verifier.asked == 3

    asyncio.run(run())
    assert seen == [verifier.principal] * 4


def test_an_entry_never_outlives_the_tokens_exp(clock: Clock) -> None:
    verifier = CountingVerifier(expires_at=clock.now + RECHECK_SECONDS / 4)
    guard, _ = _served(verifier)

    async def run() -> None:
        assert await _status(guard, "Bearer good") == 200
        clock.now += RECHECK_SECONDS / 2  # past exp, within the recheck interval
        assert await _status(guard, "Bearer good") == 200
        assert verifier.asked == 2  # asked again: the verifier decides on an expired token

    asyncio.run(run())


def test_a_refused_value_is_never_kept(clock: Clock) -> None:
    verifier = CountingVerifier(expires_at=None)
    guard, seen = _served(verifier)

    async def run() -> None:
        assert await _status(guard, "Bearer bad") == 401
        assert await _status(guard, "Bearer bad") == 401

    asyncio.run(run())
    assert seen == [] and not guard._admitted
