"""The authorization guard: an HTTP handler in front of the MCP endpoint (basic/authorization.mdx).

It serves the protected-resource metadata (RFC 9728) at its well-known paths, and lets a request to the
endpoint through only with a bearer token the verifier accepts (401 otherwise) whose scopes cover what the
request needs (403 `insufficient_scope` otherwise, naming the scopes: the client steps up). The request
goes on carrying its `Principal` (`request.principal`): sessions are bound to it, `Context.principal`
reads it. A token the verifier has seen is admitted without an await; a new one is verified in a task.
Refusals carry a JSON-RPC error body and never any part of the token.
"""

from __future__ import annotations

import inspect
import logging
import time
from collections.abc import Coroutine, Iterable
from typing import TYPE_CHECKING, Any

import msgspec

from runtime.auth.principal import InvalidToken, Principal, TokenVerifier, VerifierUnavailable
from runtime.protocol import jsonrpc as rpc

if TYPE_CHECKING:
    from runtime.auth.resource import Auth
    from runtime.server.app import Server
    from workers.httpd.protocol import Responder
    from workers.httpd.types import Handler, HttpRequest

log = logging.getLogger("mcprt.auth")
JSON = (b"content-type", b"application/json")
MAX_TOKEN_BYTES = 16 * 1024  # a longer Authorization value is refused unread
# RFC 6750 2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
_TOKEN_CHARS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/="
# Authorization values the verifier accepted lately, kept with their principal (a client sends the same
# value on every request): at most this many, each for RECHECK_SECONDS at most and never past its exp, so
# the verifier decides again that often. Values of refused tokens never enter it.
PARSED_VALUES = 1024
RECHECK_SECONDS = 1.0


def bearer_token(value: bytes) -> str | None:
    """The token of an `Authorization: Bearer <token>` value (the scheme is case-insensitive), or None when
    the value is not one."""
    scheme, _, token = value.strip().partition(b" ")
    token = token.strip(b" ")
    if scheme.lower() != b"bearer" or not token or len(token) > MAX_TOKEN_BYTES:
        return None
    # Every byte a token character (deleting them all leaves nothing, in C), "=" only at the end.
    if token.translate(None, _TOKEN_CHARS) or b"=" in token.rstrip(b"="):
        return None
    return token.decode("ascii")


class AuthGuard:
    """`handler(request, responder)` for the endpoint `next`, protected by `auth`."""

    def __init__(self, auth: Auth, verifier: TokenVerifier, server: Server, path: str, next: Handler) -> None:
        self.auth = auth
        self.verifier = verifier
        self.server = server
        self.path = path
        self.next = next
        # The handler's bound __call__ when it is an object (the transport): calling the method directly
        # skips the type's call slot on every request.
        self._next: Handler = next if inspect.isroutine(next) else next.__call__  # type: ignore[operator]
        self.required = frozenset(auth.required_scopes)
        # Authorization value -> (its principal, until when): the steady state's one lookup. An entry lives
        # at most RECHECK_SECONDS and never past the token's exp, so the verifier's own rules (its cache's
        # bounds, introspection's revocation window) are asked again at least that often.
        self._admitted: dict[bytes, tuple[Principal, float]] = {}
        # Without `Auth.scopes`, what the server asks for: the required scopes and every entry's, as
        # registered when serving starts (a client then knows what to ask for).
        self.supported = list(auth.scopes) or sorted(self.required | server.scopes.declared())
        self.metadata_paths = auth.metadata_paths(path)
        self._metadata = msgspec.json.encode(auth.metadata(self.supported))

    def __call__(self, request: HttpRequest, responder: Responder) -> Coroutine[Any, Any, None] | None:
        if request.path != self.path:
            if request.path in self.metadata_paths:
                self._serve_metadata(request, responder)
                return None
            return self.next(request, responder)
        value = request.headers.get("authorization")
        if value is not None:
            admitted = self._admitted.get(value)
            if admitted is not None and admitted[1] > time.time():
                principal = admitted[0]
                if not self.required and not self.server.scopes.any:  # nothing to check the scopes of
                    request.principal = principal
                    return self._next(request, responder)
                return self._admit(principal, request, responder)
        else:
            # No credentials: the challenge names the metadata and what this request needs, with no error
            # code (RFC 6750 3.1).
            message = "Unauthorized: a bearer token is required"
            self._refuse(responder, 401, None, message, self._needed(request))
            return None
        token = bearer_token(value)
        if token is None:
            message = "Unauthorized: malformed bearer token"
            self._refuse(responder, 401, "invalid_token", message, self._needed(request))
            return None
        verified = self.verifier.cached(token)
        if verified is None:
            return self._verify_then_admit(value, token, request, responder)
        self._keep(value, verified)
        return self._admit(verified, request, responder)

    def _keep(self, value: bytes, principal: Principal) -> None:
        admitted = self._admitted
        if len(admitted) >= PARSED_VALUES:
            admitted.clear()
        until = time.time() + RECHECK_SECONDS
        if principal.expires_at is not None:
            until = min(until, principal.expires_at)
        admitted[value] = (principal, until)

    async def _verify_then_admit(
        self, value: bytes, token: str, request: HttpRequest, responder: Responder
    ) -> None:
        try:
            principal = await self.verifier.verify(token)
        except InvalidToken as exc:
            log.info("bearer token refused: %s", exc.reason)
            message = "Unauthorized: invalid or expired token"
            self._refuse(responder, 401, "invalid_token", message, self._needed(request))
            return
        except VerifierUnavailable as exc:
            log.warning("cannot verify bearer tokens now: %s", exc)
            body = rpc.error_message(None, rpc.INTERNAL_ERROR, "Authorization is unavailable; retry later")
            responder.respond(503, [JSON, (b"retry-after", b"5")], body)
            return
        self._keep(value, principal)
        pending = self._admit(principal, request, responder)
        if pending is not None:
            await pending

    def _admit(
        self, principal: Principal, request: HttpRequest, responder: Responder
    ) -> Coroutine[Any, Any, None] | None:
        needed = self._needed(request)
        if needed and not principal.scopes.issuperset(needed):
            # The scopes the request needs and those the token holds (basic/authorization.mdx
            # "Recommended approach": a stepped-up token keeps what it had).
            wanted = sorted(needed) + sorted(principal.scopes - needed)
            self._refuse(responder, 403, "insufficient_scope", "Forbidden: insufficient scope", wanted)
            return None
        request.principal = principal
        return self._next(request, responder)

    def _needed(self, request: HttpRequest) -> frozenset[str]:
        """What the request needs: the required scopes and those of what it names."""
        server = self.server
        if not server.scopes.any or request.method != "POST":  # no entry with scopes: no body to read
            return self.required
        named = server.scopes.needed(request.body, server._resources)
        return self.required | named if named else self.required

    def _refuse(
        self, responder: Responder, status: int, error: str | None, message: str, scopes: Iterable[str]
    ) -> None:
        """A refusal whose challenge names `scopes`: only what the request needs (least privilege); none
        when it needs none, and the client asks for what it wants or for `scopes_supported`."""
        challenge = self.auth.challenge(error, sorted(scopes) if isinstance(scopes, frozenset) else scopes)
        data = {"error": error} if error else None
        body = rpc.error_message(None, rpc.INVALID_REQUEST, message, data)
        responder.respond(status, [JSON, (b"www-authenticate", challenge)], body)

    def _serve_metadata(self, request: HttpRequest, responder: Responder) -> None:
        if request.method not in ("GET", "HEAD"):
            body = rpc.error_message(None, rpc.INVALID_REQUEST, "Method not allowed")
            responder.respond(405, [(b"allow", b"GET, HEAD"), JSON], body)
            return
        # Public and the same for everyone: browser-based clients may read it from any origin.
        headers = [JSON, (b"access-control-allow-origin", b"*"), (b"cache-control", b"max-age=3600")]
        responder.respond(200, headers, self._metadata)
