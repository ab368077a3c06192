"""One-shot HTTP requests for the OAuth exchanges (metadata, registration, authorization, token), made with
the MCP client's own HTTP/1.1 connection (http.py): no second HTTP stack, the same TLS settings."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import msgspec

from runtime.client.errors import OAuthError
from runtime.client.http import Verify, _Connection, ssl_context

TIMEOUT = 15.0


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]  # names in lower case
    body: bytes
    set_cookies: tuple[str, ...] = ()  # every Set-Cookie field, as received

    def json(self) -> Any:
        try:
            return msgspec.json.decode(self.body)
        except msgspec.DecodeError:
            return None


async def request(
    method: str,
    url: str,
    *,
    headers: dict[str, str] | None = None,
    body: bytes = b"",
    verify: Verify = True,
    timeout: float = TIMEOUT,
) -> Reply:
    """Send one request and read the whole answer; redirects are not followed (an authorization endpoint's
    redirect is the answer)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise OAuthError(f"not an http(s) URL: {url!r}")
    tls = ssl_context(verify) if parts.scheme == "https" else None
    port = parts.port or (443 if tls is not None else 80)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    sent = {"Accept": "application/json", "Connection": "close", **(headers or {})}
    conn = _Connection(parts.hostname, port, tls)
    try:
        response = await asyncio.wait_for(conn.request(method, target, sent, body), timeout)
        data = await asyncio.wait_for(response.body(), timeout)
        return Reply(response.status, dict(response.headers), data, tuple(response.set_cookies))
    except (OSError, TimeoutError) as exc:
        raise OAuthError(f"{method} {parts.scheme}://{parts.netloc}{parts.path}: {exc!r}") from None
    finally:
        conn.close()


async def get_json(url: str, verify: Verify) -> Any:
    """GET a JSON document: None when it is not there (any status but 200, or not JSON)."""
    reply = await request("GET", url, verify=verify)
    if reply.status != 200:
        return None
    return reply.json()
