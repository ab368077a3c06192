"""The official MCP Python SDK serving the benchmark tool behind its own bearer-token middleware
(`AuthSettings` + a `TokenVerifier`): JWT access tokens checked with joserfc against the issuer's JWKS,
fetched once at start, as a user of the SDK would write it (the SDK ships no JWT verifier, and its
middleware calls `verify_token` on every request: no cache of verified tokens).

python perf/peers/official_sdk_auth.py --http 127.0.0.1:PORT --issuer URL --audience URL
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
import urllib.request

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from mcp.server.auth.provider import AccessToken
from mcp.server.auth.settings import AuthSettings
from mcp.server.mcpserver import MCPServer


class JwtVerifier:
    def __init__(self, issuer: str, audience: str) -> None:
        with urllib.request.urlopen(issuer + "/.well-known/oauth-authorization-server", timeout=10) as answer:
            metadata = json.load(answer)
        with urllib.request.urlopen(metadata["jwks_uri"], timeout=10) as answer:
            self.keys = KeySet.import_key_set(json.load(answer))
        self.issuer = issuer
        self.audience = audience

    async def verify_token(self, token: str) -> AccessToken | None:
        try:
            decoded = jwt.decode(token, self.keys, algorithms=["RS256", "ES256"])
        except (JoseError, ValueError):
            return None
        claims = decoded.claims
        audience = claims.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if claims.get("iss") != self.issuer or self.audience not in audiences:
            return None
        if not isinstance(claims.get("exp"), int) or claims["exp"] < time.time():
            return None
        return AccessToken(
            token=token,
            client_id=str(claims.get("client_id", "")),
            scopes=str(claims.get("scope", "")).split(),
            expires_at=claims["exp"],
            resource=self.audience,
            subject=claims.get("sub"),
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--http", required=True)
    parser.add_argument("--issuer", required=True)
    parser.add_argument("--audience", required=True)
    args = parser.parse_args()
    server = MCPServer(
        "bench-echo",
        token_verifier=JwtVerifier(args.issuer, args.audience),
        # The verifier checks `aud` itself and reports the audience as the token's resource: the SDK's own
        # resource check (the 3.0 default) passes, and costs what it costs.
        auth=AuthSettings(
            issuer_url=args.issuer, resource_server_url=args.audience, validate_token_resource=True
        ),
    )

    @server.tool()
    async def echo(text: str) -> str:
        """Echo the text back."""
        return text

    @server.tool()
    async def echo_after_await(text: str) -> str:
        """Echo the text back after one suspension (a tool that awaits anything)."""
        await asyncio.sleep(0)
        return text

    @server.resource("bench://static/1k", mime_type="text/plain")
    async def static_1k() -> str:
        return "x" * 1024

    import uvicorn

    host, _, port = args.http.rpartition(":")
    uvicorn.run(server.streamable_http_app(), host=host, port=int(port), log_level="warning")


if __name__ == "__main__":
    main()
