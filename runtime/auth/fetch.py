"""The small HTTP client the verifiers use to reach the authorization server: one request per connection
(metadata, JWKS and introspection answers are cached, so a pool would buy little), a total timeout, a
bounded body, and no redirect followed (a 3xx is an error: an authorization server's endpoints do not
move, and following one blindly could send client credentials elsewhere).

runtime/client/http.py is the MCP transport (SSE, sessions, reserved headers) and keeps its connection
class private; this is the same httptools parser under a one-shot request/response API."""

from __future__ import annotations

import asyncio
import ipaddress
import ssl
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode, urlsplit

import httptools
import msgspec

from runtime.client.http import Verify, ssl_context

DEFAULT_TIMEOUT = 5.0
DEFAULT_MAX_BYTES = 1 << 20  # a JWKS or metadata document is a few KiB


def plain_http_allowed(host: str) -> bool:
    """Plain http:// only to this machine (tests, a local issuer): anywhere else keys and introspection
    answers must come over TLS (OAuth 2.1 1.5), or anyone on the path could hand us their keys."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class FetchError(Exception):
    """The request failed: unreachable, timed out, a non-2xx status (`status`), too big, or not JSON."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


class _Reader:
    def __init__(self, max_bytes: int) -> None:
        self.status = 0
        self.parser: httptools.HttpResponseParser | None = None
        self.body = bytearray()
        self.max_bytes = max_bytes
        self.done = False
        self.too_big = False

    def on_headers_complete(self) -> None:
        assert self.parser is not None
        self.status = self.parser.get_status_code()

    def on_body(self, body: bytes) -> None:
        if len(self.body) + len(body) > self.max_bytes:
            self.too_big = True
        else:
            self.body += body

    def on_message_complete(self) -> None:
        self.done = True


async def _exchange(
    method: str, url: str, headers: Mapping[str, str], body: bytes, max_bytes: int, tls: ssl.SSLContext | None
) -> tuple[int, bytes]:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FetchError(f"not an http(s) URL: {url}")
    if parts.scheme == "http" and not plain_http_allowed(parts.hostname):
        raise FetchError(f"refusing plain http to a host other than loopback: {url}")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    host = parts.hostname
    host_header = f"[{host}]" if ":" in host else host
    if parts.port:
        host_header += f":{parts.port}"
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    reader, writer = await asyncio.open_connection(
        host,
        port,
        ssl=tls if parts.scheme == "https" else None,
        server_hostname=host if parts.scheme == "https" else None,
    )
    try:
        lines = [f"{method} {target} HTTP/1.1", f"Host: {host_header}", "Connection: close"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        lines.append(f"Content-Length: {len(body)}")
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        response = _Reader(max_bytes)
        parser = response.parser = httptools.HttpResponseParser(response)
        while not response.done:
            data = await reader.read(65536)
            if not data:
                break
            try:
                parser.feed_data(data)
            except httptools.HttpParserError as error:
                raise FetchError("bad HTTP response") from error
            if response.too_big:
                raise FetchError(f"response larger than {max_bytes} bytes")
        if not response.done:
            raise FetchError("connection closed before the end of the response")
        return response.status, bytes(response.body)
    finally:
        writer.close()


async def request_json(
    url: str,
    *,
    method: str = "GET",
    form: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    max_bytes: int = DEFAULT_MAX_BYTES,
    verify: Verify = True,
) -> Any:
    """GET (or POST `form` urlencoded) and decode the JSON answer of a 2xx; FetchError otherwise."""
    all_headers = {"Accept": "application/json", **(headers or {})}
    body = b""
    if form is not None:
        body = urlencode(form).encode()
        all_headers["Content-Type"] = "application/x-www-form-urlencoded"
    tls = ssl_context(verify) if url.startswith("https:") else None
    try:
        status, data = await asyncio.wait_for(
            _exchange(method, url, all_headers, body, max_bytes, tls), timeout
        )
    except TimeoutError as error:
        raise FetchError(f"{method} {url}: timed out after {timeout} s") from error
    except OSError as error:
        raise FetchError(f"{method} {url}: {error.__class__.__name__}: {error}") from error
    if not 200 <= status < 300:
        raise FetchError(f"{method} {url}: HTTP {status}", status)
    try:
        return msgspec.json.decode(data)
    except msgspec.DecodeError as error:
        raise FetchError(f"{method} {url}: the answer is not JSON") from error
