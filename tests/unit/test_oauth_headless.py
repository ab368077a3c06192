"""`headless_authorize` follows an authorization server's own login redirects with the cookies they set,
up to the redirect URI (which it returns, unvisited); the client's HTTP reader keeps every Set-Cookie and
joins repeated WWW-Authenticate fields; `prompt=consent` rides with offline_access; a short-lived token is
not refreshed before every request. A small real HTTP server on loopback plays the authorization server."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from runtime.client.auth import OAuthError, Tokens, headless_authorize
from runtime.client.auth.discovery import bearer_challenge
from runtime.client.auth.flow import authorization_url
from runtime.client.auth.http import request

REDIRECT_URI = "http://127.0.0.1/callback"


class LoginServer:
    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []  # (path, Cookie header)
        self.port = 0
        self._server: asyncio.Server | None = None

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode()
        target = head.split(" ")[1]
        headers = {
            k.strip().lower(): v.strip()
            for k, _, v in (line.partition(":") for line in head.split("\r\n")[1:])
        }
        cookie = headers.get("cookie", "")
        path = urlsplit(target).path
        self.seen.append((path, cookie))
        query = parse_qs(urlsplit(target).query)
        fields: list[str] = []
        status = "302 Found"
        if path == "/authorize":
            state = query["state"][0]
            fields = [
                "Location: /interaction/1?" + urlencode({"state": state}),
                "Set-Cookie: _interaction=one; path=/interaction/1; httponly",
                "Set-Cookie: _resume=two; path=/authorize/1",
            ]
        elif path == "/interaction/1":
            if cookie != "_interaction=one; _resume=two":
                status, fields = "400 Bad Request", []
            else:
                fields = ["Location: /authorize/1?" + urlencode({"state": query["state"][0]})]
        elif path == "/authorize/1":
            fields = [f"Location: {REDIRECT_URI}?" + urlencode({"code": "c0de", "state": query["state"][0]})]
        elif path == "/elsewhere":
            fields = ["Location: http://other.example/login"]
        elif path == "/challenge":
            status = "401 Unauthorized"
            fields = ['WWW-Authenticate: Basic realm="x"', 'WWW-Authenticate: Bearer scope="a b"']
        else:
            status = "200 OK"
        writer.write(
            f"HTTP/1.1 {status}\r\n".encode()
            + "".join(f"{field}\r\n" for field in fields).encode()
            + b"Content-Length: 0\r\nConnection: close\r\n\r\n"
        )
        await writer.drain()
        writer.close()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()


@pytest.fixture
async def login() -> AsyncIterator[LoginServer]:
    server = LoginServer()
    await server.start()
    yield server
    await server.stop()


async def test_the_login_redirects_are_followed_with_their_cookies(login: LoginServer) -> None:
    url = f"{login.origin}/authorize?" + urlencode({"state": "s1", "redirect_uri": REDIRECT_URI})
    landed = await headless_authorize()(url)
    assert landed == f"{REDIRECT_URI}?code=c0de&state=s1"
    assert [path for path, _ in login.seen] == ["/authorize", "/interaction/1", "/authorize/1"]
    assert login.seen[0][1] == ""  # no cookie before one is set


async def test_a_redirect_to_another_origin_is_returned_not_followed(login: LoginServer) -> None:
    url = f"{login.origin}/elsewhere?" + urlencode({"redirect_uri": REDIRECT_URI})
    assert await headless_authorize()(url) == "http://other.example/login"


async def test_a_page_that_is_no_redirect_is_an_error(login: LoginServer) -> None:
    with pytest.raises(OAuthError, match="200 without a redirect"):
        await headless_authorize()(f"{login.origin}/form?" + urlencode({"redirect_uri": REDIRECT_URI}))


async def test_every_set_cookie_and_every_challenge_is_kept(login: LoginServer) -> None:
    reply = await request("GET", f"{login.origin}/authorize?state=x")
    assert reply.set_cookies == (
        "_interaction=one; path=/interaction/1; httponly",
        "_resume=two; path=/authorize/1",
    )
    reply = await request("GET", f"{login.origin}/challenge")
    challenge = bearer_challenge(reply.headers["www-authenticate"])  # in the second field
    assert challenge is not None and challenge.scope == ["a", "b"]


def test_offline_access_asks_for_consent() -> None:
    def prompt(scopes: list[str]) -> list[str] | None:
        pending = authorization_url(
            "https://as/authorize", client_id="c", redirect_uri=REDIRECT_URI, resource="https://rs/mcp",
            scopes=scopes, issuer="https://as", iss_supported=False,
        )  # fmt: skip
        return parse_qs(urlsplit(pending.url).query).get("prompt")

    assert prompt(["mcp:read", "offline_access"]) == ["consent"]
    assert prompt(["mcp:read"]) is None


def test_a_short_lived_token_is_used_for_half_its_life() -> None:
    now = time.time()
    short = Tokens("t", "https://as", "https://rs/mcp", expires_at=now + 4, obtained_at=now)
    assert not short.expired()  # 30 s of leeway would have refreshed it at once
    assert Tokens("t", "https://as", "https://rs/mcp", expires_at=now + 1.5, obtained_at=now - 2.5).expired()
    assert Tokens("t", "https://as", "https://rs/mcp", expires_at=now + 20, obtained_at=now - 3600).expired()
    assert not Tokens(
        "t", "https://as", "https://rs/mcp", expires_at=now + 40, obtained_at=now - 3600
    ).expired()
