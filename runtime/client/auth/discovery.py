"""Finding the authorization server: the `WWW-Authenticate` challenge (RFC 9110 11.6.1, RFC 6750 3), the
protected resource metadata (RFC 9728) and the authorization server metadata (RFC 8414, OpenID Connect
Discovery), in the order of the MCP authorization spec ("Authorization Server Discovery")."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from runtime.client.auth.http import get_json
from runtime.client.errors import OAuthError
from runtime.client.http import Verify

_TCHAR = frozenset("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_TOKEN68 = _TCHAR | frozenset(
    "/"
)  # RFC 9110 11.2: ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/", then "="s


@dataclass(frozen=True)
class Challenge:
    """One challenge of a `WWW-Authenticate` header: the scheme in lower case, its parameters (names in
    lower case, quoted strings unquoted) or its token68."""

    scheme: str
    params: dict[str, str] = field(default_factory=dict)
    token68: str | None = None

    @property
    def scope(self) -> list[str] | None:
        value = self.params.get("scope")
        return value.split() if value is not None and value.strip() else None

    @property
    def resource_metadata(self) -> str | None:
        return self.params.get("resource_metadata")

    @property
    def error(self) -> str | None:
        return self.params.get("error")


class _Scanner:
    def __init__(self, text: str) -> None:
        self.text = text
        self.at = 0

    def peek(self) -> str:
        return self.text[self.at] if self.at < len(self.text) else ""

    def spaces(self) -> None:
        while self.peek() in (" ", "\t") and self.peek():
            self.at += 1

    def token(self, chars: frozenset[str] = _TCHAR) -> str:
        start = self.at
        while self.peek() and self.peek() in chars:
            self.at += 1
        return self.text[start : self.at]

    def until_delimiter(self) -> str:
        start = self.at
        while self.peek() and self.peek() not in ', \t"':
            self.at += 1
        return self.text[start : self.at]

    def quoted(self) -> str:
        """A quoted-string, the opening quote current; an unterminated one runs to the end."""
        self.at += 1
        out = []
        while self.at < len(self.text):
            char = self.text[self.at]
            self.at += 1
            if char == "\\" and self.at < len(self.text):
                out.append(self.text[self.at])
                self.at += 1
            elif char == '"':
                break
            else:
                out.append(char)
        return "".join(out)

    def skip_to_comma(self) -> None:
        """Recover from what is not a parameter: drop it up to the next comma (outside quotes)."""
        while self.peek() and self.peek() != ",":
            if self.peek() == '"':
                self.quoted()
            else:
                self.at += 1


def parse_www_authenticate(value: str) -> list[Challenge]:
    """Every challenge in a `WWW-Authenticate` value (several may share one header, comma separated).
    Malformed parts are skipped, never raised on: a header is a hint from the server, not trusted input."""
    scan = _Scanner(value)
    challenges: list[Challenge] = []
    current: Challenge | None = None
    while scan.at < len(scan.text):
        scan.spaces()
        if scan.peek() == ",":
            scan.at += 1
            continue
        name = scan.token()
        if not name:
            scan.skip_to_comma()
            continue
        scan.spaces()
        if current is not None and scan.peek() == "=":  # name=value: a parameter of the current challenge
            scan.at += 1
            scan.spaces()
            # an unquoted value should be a token; ":" and "/" (scopes, URLs) are taken too, up to a delimiter
            param = scan.quoted() if scan.peek() == '"' else scan.until_delimiter()
            current.params.setdefault(name.lower(), param)
            scan.spaces()
            if scan.peek() not in (",", ""):
                scan.skip_to_comma()
            continue
        # a new challenge: the scheme, then a token68, its first parameter, or nothing
        current = Challenge(name.lower())
        challenges.append(current)
        mark = scan.at
        word = scan.token(_TOKEN68)
        if not word:
            continue
        equals = 0
        while scan.peek() == "=":
            scan.at += 1
            equals += 1
        scan.spaces()
        if scan.peek() in (",", ""):  # "Bearer abc==": a token68
            challenges[-1] = current = Challenge(current.scheme, {}, word + "=" * equals)
        elif equals == 1:  # "Bearer realm=...": the first parameter, read by the loop
            scan.at = mark
        else:
            scan.skip_to_comma()
    return challenges


def bearer_challenge(header: str | None) -> Challenge | None:
    """The Bearer challenge of a `WWW-Authenticate` value, if there is one."""
    for challenge in parse_www_authenticate(header or ""):
        if challenge.scheme == "bearer":
            return challenge
    return None


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}", parts.path.rstrip("/")


def protected_resource_urls(server_url: str, resource_metadata: str | None = None) -> list[str]:
    """Where to look for the protected resource metadata, in order: the challenge's `resource_metadata`,
    the well-known URL with the server's path inserted (RFC 9728 3.1), the root well-known URL."""
    origin, path = _origin(server_url)
    urls = [resource_metadata] if resource_metadata else []
    if path:
        urls.append(f"{origin}/.well-known/oauth-protected-resource{path}")
    urls.append(f"{origin}/.well-known/oauth-protected-resource")
    return list(dict.fromkeys(urls))


def authorization_server_urls(issuer: str) -> list[str]:
    """The metadata URLs of an issuer, in the spec's order: RFC 8414 with path insertion, OpenID Connect
    Discovery with path insertion, then with the path appended (the last only for an issuer with a path)."""
    origin, path = _origin(issuer)
    if not path:
        return [
            f"{origin}/.well-known/oauth-authorization-server",
            f"{origin}/.well-known/openid-configuration",
        ]
    return [
        f"{origin}/.well-known/oauth-authorization-server{path}",
        f"{origin}/.well-known/openid-configuration{path}",
        f"{origin}{path}/.well-known/openid-configuration",
    ]


def resource_matches(resource: str, server_url: str) -> bool:
    """Whether a protected resource identifier covers the server URL: the same scheme, host and port
    (scheme and host compared without case), and a path that is the server's or a whole-segment prefix."""
    try:
        ours, theirs = urlsplit(server_url), urlsplit(resource)
        our_port, their_port = ours.port, theirs.port
    except ValueError:
        return False
    if theirs.fragment or (theirs.scheme.lower(), theirs.hostname) != (ours.scheme.lower(), ours.hostname):
        return False
    if (their_port or None) != (our_port or None):
        return False
    prefix, path = theirs.path.rstrip("/"), ours.path.rstrip("/")
    return path == prefix or path.startswith(prefix + "/")


@dataclass(frozen=True)
class ProtectedResource:
    resource: str
    authorization_servers: list[str]
    scopes_supported: list[str] | None
    metadata: dict[str, Any]


async def discover_protected_resource(
    server_url: str, resource_metadata: str | None, verify: Verify
) -> ProtectedResource:
    """The server's protected resource metadata, checked: its `resource` must be the server's (a document
    naming another resource is refused: its authorization servers are not this server's)."""
    for url in protected_resource_urls(server_url, resource_metadata):
        document = await get_json(url, verify)
        if not isinstance(document, dict):
            continue
        resource = document.get("resource")
        servers = document.get("authorization_servers")
        if not isinstance(resource, str) or not isinstance(servers, list):
            continue
        servers = [s for s in servers if isinstance(s, str) and s]
        if not servers:
            continue
        if not resource_matches(resource, server_url):
            raise OAuthError(
                f"the protected resource metadata at {url} is for {resource!r}, not for {server_url!r}"
            )
        scopes = document.get("scopes_supported")
        scopes_list = [s for s in scopes if isinstance(s, str)] if isinstance(scopes, list) else None
        return ProtectedResource(resource, servers, scopes_list, document)
    raise OAuthError(f"no protected resource metadata found for {server_url}")


async def discover_authorization_server(issuer: str, verify: Verify) -> dict[str, Any]:
    """The issuer's metadata. A document whose `issuer` is not exactly the one its URL was built from is
    not used (RFC 8414 3.3); neither is one that lacks S256 in `code_challenge_methods_supported`."""
    refused: list[str] = []
    for url in authorization_server_urls(issuer):
        document = await get_json(url, verify)
        if not isinstance(document, dict):
            continue
        if document.get("issuer") != issuer:
            refused.append(f"{url} names issuer {document.get('issuer')!r}")
            continue
        return document
    detail = f" ({'; '.join(refused)})" if refused else ""
    raise OAuthError(f"no usable authorization server metadata for {issuer}{detail}")
