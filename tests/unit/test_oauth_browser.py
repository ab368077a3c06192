"""The loopback receiver of `browser_authorize`: the "browser" (a thread doing what the authorization
server's redirect makes a browser do) lands on the redirect URI, and the authorize step returns that URL."""

from __future__ import annotations

import socket
import urllib.request
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from runtime.client.auth import OAuthError, browser_authorize


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_the_redirect_reaches_the_loopback_listener() -> None:
    redirect_uri = f"http://127.0.0.1:{_free_port()}/callback"
    opened: list[str] = []

    def browser(url: str) -> None:  # the authorization server approved: it redirects the browser
        opened.append(url)
        state = parse_qs(urlsplit(url).query)["state"][0]
        query = urlencode({"code": "the-code", "state": state, "iss": "https://as"})
        with urllib.request.urlopen(f"{redirect_uri}?{query}", timeout=5) as reply:
            assert reply.status == 200

    authorize = browser_authorize(redirect_uri, open_url=browser, timeout=10)
    redirected = await authorize("https://as/authorize?" + urlencode({"state": "s1"}))
    assert opened == ["https://as/authorize?state=s1"]
    assert urlsplit(redirected).path == "/callback"
    assert parse_qs(urlsplit(redirected).query) == {
        "code": ["the-code"],
        "state": ["s1"],
        "iss": ["https://as"],
    }


async def test_no_redirect_times_out() -> None:
    authorize = browser_authorize(
        f"http://127.0.0.1:{_free_port()}/cb", open_url=lambda url: None, timeout=0.2
    )
    with pytest.raises(OAuthError, match="no authorization response"):
        await authorize("https://as/authorize")


def test_only_a_loopback_redirect_uri() -> None:
    with pytest.raises(ValueError):
        browser_authorize("https://app.example.com/cb")
