"""The authorization code flow's pure parts and its browser step: PKCE S256 (RFC 7636), scope selection,
the authorization request URL (with RFC 8707 `resource`), and the checks of the authorization response
(`state`, then `iss` per RFC 9207 as the MCP spec's table says). `headless_authorize` is the default
browser: it GETs the authorization URL and follows the authorization server's own redirects (with their
cookies) to the redirect URI, for authorization servers that approve without a user (tests, the
conformance suite)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import secrets
import webbrowser
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit, urlunsplit

from runtime.client.auth.http import request
from runtime.client.errors import OAuthError
from runtime.client.http import Verify

Authorize = Callable[[str], Awaitable[str]]
"""Given the authorization URL, bring the user there and return the URL the authorization server redirected
to (the redirect URI with `code`, `state`, `iss` or `error` in its query)."""


def code_challenge(verifier: str) -> str:
    """The S256 code challenge of a verifier: BASE64URL(SHA256(ASCII(verifier))), unpadded."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def code_verifier() -> str:
    """A fresh verifier: 64 unreserved characters (43 to 128 allowed), 384 bits of randomness."""
    return secrets.token_urlsafe(48)


def select_scopes(
    challenge_scope: list[str] | None,
    scopes_supported: list[str] | None,
    previous: Iterable[str] = (),
    configured: list[str] | None = None,
) -> list[str]:
    """The scopes to ask for: the challenge's when it names some (authoritative for the operation), else the
    ones configured on the client, else all the protected resource's `scopes_supported`, else none (the
    `scope` parameter is then omitted). Scopes requested before are kept (step-up is a union)."""
    chosen = challenge_scope or configured or scopes_supported or []
    return list(dict.fromkeys([*previous, *chosen]))


def with_offline_access(scopes: list[str], as_scopes_supported: object) -> list[str]:
    """Add `offline_access` (a refresh token) when the authorization server lists it and scopes are asked
    for at all; never when it does not list it."""
    if scopes and isinstance(as_scopes_supported, list) and "offline_access" in as_scopes_supported:
        return list(dict.fromkeys([*scopes, "offline_access"]))
    return scopes


@dataclass(frozen=True)
class PendingAuthorization:
    """What is recorded before the browser goes: checked against the response, used in the code exchange."""

    url: str
    state: str
    verifier: str
    issuer: str
    iss_supported: bool
    redirect_uri: str


def authorization_url(
    endpoint: str,
    *,
    client_id: str,
    redirect_uri: str,
    resource: str,
    scopes: list[str],
    issuer: str,
    iss_supported: bool,
) -> PendingAuthorization:
    verifier = code_verifier()
    state = secrets.token_urlsafe(24)
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "state": state,
        "code_challenge": code_challenge(verifier),
        "code_challenge_method": "S256",
        "resource": resource,
    }
    if scopes:
        query["scope"] = " ".join(scopes)
    if "offline_access" in scopes:
        # OpenID Connect Core 11: an OpenID provider ignores offline_access (no refresh token) unless
        # the request has prompt=consent.
        query["prompt"] = "consent"
    parts = urlsplit(endpoint)
    joined = "&".join(p for p in (parts.query, urlencode(query)) if p)
    url = urlunsplit((parts.scheme, parts.netloc, parts.path, joined, ""))
    return PendingAuthorization(url, state, verifier, issuer, iss_supported, redirect_uri)


def check_issuer(iss: str | None, issuer: str, advertised: bool) -> None:
    """RFC 9207 2.4 as the MCP spec applies it: a present `iss` must be exactly the recorded issuer (simple
    string comparison, no normalization), advertised or not; an absent one is refused only when the
    authorization server advertised `authorization_response_iss_parameter_supported`."""
    if iss is None:
        if advertised:
            raise OAuthError(
                "the authorization response has no iss, and the authorization server said it sends one"
            )
        return
    if iss != issuer:
        raise OAuthError(f"the authorization response comes from issuer {iss!r}, not {issuer!r}")


def authorization_code(redirected: str, pending: PendingAuthorization) -> str:
    """The code from the redirect, after the checks: `state` first (the response is ours), then `iss` (it is
    from the authorization server we chose), and only then an `error` is believed."""
    query = parse_qs(urlsplit(redirected).query, keep_blank_values=True)

    def one(name: str) -> str | None:
        values = query.get(name)
        return values[0] if values else None

    if one("state") != pending.state:
        raise OAuthError("the authorization response does not carry the state of this request")
    check_issuer(one("iss"), pending.issuer, pending.iss_supported)
    if one("error") is not None:
        description = one("error_description")
        raise OAuthError(
            f"authorization refused: {one('error')}" + (f" ({description})" if description else "")
        )
    code = one("code")
    if not code:
        raise OAuthError("the authorization response has no code")
    return code


def _same_origin(a: str, b: str) -> bool:
    one, two = urlsplit(a), urlsplit(b)
    return (one.scheme.lower(), one.netloc.lower()) == (two.scheme.lower(), two.netloc.lower())


def _is_redirect_uri(location: str, redirect_uri: str) -> bool:
    here, there = urlsplit(location), urlsplit(redirect_uri)
    return _same_origin(location, redirect_uri) and (here.path or "/") == (there.path or "/")


def headless_authorize(verify: Verify = True, max_redirects: int = 10) -> Authorize:
    """An `Authorize` without a browser, for authorization servers that approve without a user (tests, the
    conformance suite, a login that needs no form): GET the authorization URL and follow its redirects,
    keeping the cookies they set, until one goes to the request's `redirect_uri`: that URL is returned,
    not visited. Only redirects on the authorization endpoint's origin are followed (its own interaction
    pages); a redirect elsewhere is returned as it is, and a page that is not a redirect (a login form)
    is an `OAuthError`."""

    async def authorize(url: str) -> str:
        redirect_uri = (parse_qs(urlsplit(url).query).get("redirect_uri") or [""])[0]
        cookies: dict[str, str] = {}
        current = url
        for _ in range(max_redirects):
            headers = {"Accept": "text/html, */*"}
            if cookies:
                headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in cookies.items())
            reply = await request("GET", current, verify=verify, headers=headers)
            location = reply.headers.get("location")
            if reply.status not in (301, 302, 303, 307, 308) or not location:
                raise OAuthError(f"the authorization endpoint answered {reply.status} without a redirect")
            for set_cookie in reply.set_cookies:
                name, _, rest = set_cookie.partition("=")
                if name.strip():
                    cookies[name.strip()] = rest.split(";", 1)[0].strip()
            target = urljoin(current, location)
            if not redirect_uri or _is_redirect_uri(target, redirect_uri) or not _same_origin(target, url):
                return target
            current = target
        raise OAuthError(f"the authorization endpoint redirected more than {max_redirects} times")

    return authorize


_DONE_PAGE = (
    b"<!doctype html><title>Authorized</title><p>Authorization is complete: you may close this window."
)


def browser_authorize(
    redirect_uri: str,
    *,
    open_url: Callable[[str], object] = webbrowser.open,
    timeout: float = 300.0,
) -> Authorize:
    """An `Authorize` for a user at this machine: listen on the loopback `redirect_uri`
    (http://127.0.0.1:PORT/path, the one registered), open the authorization URL with `open_url` (the
    system browser by default, run off the event loop), and return the first request to that path."""
    parts = urlsplit(redirect_uri)
    if parts.scheme != "http" or parts.hostname not in ("127.0.0.1", "localhost", "::1") or not parts.port:
        raise ValueError("browser_authorize needs a loopback http redirect_uri with a port")
    path = parts.path or "/"

    async def authorize(url: str) -> str:
        loop = asyncio.get_running_loop()
        arrived: asyncio.Future[str] = loop.create_future()

        async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            with contextlib.suppress(Exception):
                line = (await asyncio.wait_for(reader.readline(), 10)).decode("latin-1")
                target = line.split(" ")[1] if line.count(" ") >= 2 else ""
                found = urlsplit(target).path == path
                status = b"200 OK" if found else b"404 Not Found"
                body = _DONE_PAGE if found else b"not found"
                writer.write(
                    b"HTTP/1.1 "
                    + status
                    + b"\r\nContent-Type: text/html\r\nContent-Length: "
                    + str(len(body)).encode()
                    + b"\r\nConnection: close\r\n\r\n"
                    + body
                )
                await writer.drain()
                if found and not arrived.done():
                    arrived.set_result(
                        urlunsplit((parts.scheme, parts.netloc, path, urlsplit(target).query, ""))
                    )
            writer.close()

        server = await asyncio.start_server(serve, parts.hostname, parts.port)
        try:
            await loop.run_in_executor(None, open_url, url)
            return await asyncio.wait_for(arrived, timeout)
        except TimeoutError:
            raise OAuthError(f"no authorization response at {redirect_uri} within {timeout:g} s") from None
        finally:
            server.close()

    return authorize
