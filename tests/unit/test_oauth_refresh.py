"""Refresh, which no conformance scenario reaches (their tokens outlive the run): an expired token is
refreshed at the token endpoint of the authorization server's metadata, with the stored registration and
the `resource`; a failed refresh drops the tokens. The authorization server is a small real HTTP server on
loopback (a stand-in until the node-oidc-provider harness), the client code under test is the real one."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs

import pytest

from runtime.client.auth import ClientRegistration, MemoryTokenStore, OAuth, Tokens


class TinyAuthorizationServer:
    """Serves its metadata (token endpoint on a path no client could guess) and a refresh_token grant."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict[str, str], bytes]] = []
        self.refuse = False
        self.port = 0
        self._server: asyncio.Server | None = None

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode()
        request_line, *lines = head.split("\r\n")
        method, target, _ = request_line.split(" ")
        headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines if line)}
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        self.requests.append((method, target, headers, body))
        status, answer = self._answer(method, target, body)
        data = json.dumps(answer).encode()
        writer.write(
            f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {len(data)}\r\n"
            f"Connection: close\r\n\r\n".encode()
            + data
        )
        await writer.drain()
        writer.close()

    def _answer(self, method: str, target: str, body: bytes) -> tuple[int, dict[str, Any]]:
        if method == "GET" and target == "/.well-known/oauth-authorization-server":
            return 200, {
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.issuer}/oauth/authorize",
                "token_endpoint": f"{self.issuer}/oauth/v2/token",
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic"],
            }
        if method == "POST" and target == "/oauth/v2/token" and not self.refuse:
            form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
            if form.get("grant_type") == "refresh_token" and form.get("refresh_token") == "r1":
                return 200, {"access_token": "a2", "token_type": "bearer", "expires_in": 60}
        return 400, {"error": "invalid_grant"}


@pytest.fixture
async def server() -> AsyncIterator[TinyAuthorizationServer]:
    tiny = TinyAuthorizationServer()
    await tiny.start()
    yield tiny
    await tiny.stop()


async def _client(server: TinyAuthorizationServer) -> tuple[OAuth, MemoryTokenStore]:
    store = MemoryTokenStore()
    await store.set_registration(server.issuer, ClientRegistration("cid", server.issuer, "secret"))
    expired = Tokens(
        "a1", server.issuer, "https://mcp.example.com/mcp", refresh_token="r1", expires_at=time.time() - 1
    )
    await store.set_tokens("https://mcp.example.com/mcp", expired)
    oauth = OAuth(token_store=store)
    oauth.bind("https://mcp.example.com/mcp", True)
    return oauth, store


async def test_expired_token_is_refreshed_at_the_metadata_token_endpoint(
    server: TinyAuthorizationServer,
) -> None:
    oauth, store = await _client(server)
    assert await oauth.access_token() == "a2"
    method, target, headers, body = server.requests[-1]
    assert (method, target) == ("POST", "/oauth/v2/token")
    form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
    assert form == {
        "grant_type": "refresh_token",
        "refresh_token": "r1",
        "resource": "https://mcp.example.com/mcp",
    }
    assert base64.b64decode(headers["authorization"].removeprefix("Basic ")) == b"cid:secret"
    kept = await store.get_tokens("https://mcp.example.com/mcp")
    assert kept is not None and kept.refresh_token == "r1"  # the AS sent none: the old one stays
    assert kept.expires_at is not None and kept.expires_at > time.time()
    assert await oauth.access_token() == "a2"  # fresh now: no second refresh
    assert sum(1 for r in server.requests if r[0] == "POST") == 1


async def test_failed_refresh_drops_the_tokens(server: TinyAuthorizationServer) -> None:
    server.refuse = True
    oauth, store = await _client(server)
    assert await oauth.access_token() is None
    assert await store.get_tokens("https://mcp.example.com/mcp") is None


async def test_tokens_for_another_resource_are_not_sent(server: TinyAuthorizationServer) -> None:
    store = MemoryTokenStore()
    await store.set_tokens(
        "https://mcp.example.com/mcp", Tokens("a1", server.issuer, "https://other.example.com/mcp")
    )
    oauth = OAuth(token_store=store)
    oauth.bind("https://mcp.example.com/mcp", True)
    assert await oauth.access_token() is None
