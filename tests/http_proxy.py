"""A real HTTP/1.1 proxy on 127.0.0.1 in front of a real server, for the client's tests: it may terminate
TLS (a self-signed certificate made here), records every request's method and headers, and may end the
session a request names (a real DELETE to the server) just before passing the request on."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import ipaddress
import ssl
from pathlib import Path

import httptools


def self_signed_cert(directory: Path, ip: bool = True) -> tuple[Path, Path]:
    """A certificate for localhost and (unless `ip` is False) 127.0.0.1, and its key (PEM files)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mcprt test")])
    now = datetime.datetime.now(datetime.UTC)
    names: list[x509.GeneralName] = [x509.DNSName("localhost")]
    if ip:
        names.append(x509.IPAddress(ipaddress.ip_address("127.0.0.1")))
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_file, key_file


def server_tls(cert_file: Path, key_file: Path) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    return context


class Request:
    def __init__(self) -> None:
        self.method = ""
        self.headers: dict[str, str] = {}
        self.body = b""
        self.complete = False

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers[name.decode().lower()] = value.decode()

    def on_body(self, body: bytes) -> None:
        self.body += body

    def on_message_complete(self) -> None:
        self.complete = True


class Proxy:
    """`await proxy.start()`, then point a client at `proxy.url`; `await proxy.stop()` at the end.
    `end_sessions`: how many tools/call requests get their session ended on the server before they go on."""

    def __init__(self, upstream_url: str, tls: ssl.SSLContext | None = None) -> None:
        from urllib.parse import urlsplit

        parts = urlsplit(upstream_url)
        self.upstream_port = parts.port
        self.path = parts.path
        self.tls = tls
        self.requests: list[Request] = []
        self.end_sessions = 0
        self.ended: list[str] = []
        self._connections: set[asyncio.Task[None]] = set()
        self._server: asyncio.Server | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}{self.path}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self.tls)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._connections):
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        back = asyncio.create_task(self._pipe(up_reader, writer))
        try:
            request = Request()
            parser = httptools.HttpRequestParser(request)
            pending = b""
            while data := await reader.read(65536):
                pending += data
                parser.feed_data(data)
                if not request.complete:
                    continue  # the client sends one request at a time: hold it until it is whole
                request.method = parser.get_method().decode()
                self.requests.append(request)
                await self._before_forwarding(request)
                up_writer.write(pending)
                pending = b""
                request = Request()
                parser = httptools.HttpRequestParser(request)
        except (ConnectionError, httptools.HttpParserError, ssl.SSLError):
            pass
        finally:
            up_writer.close()
            back.cancel()  # the client is gone: nothing more to answer
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await back
            writer.close()
            self._connections.discard(task)

    async def _pipe(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, ssl.SSLError):
            while data := await source.read(65536):
                sink.write(data)
                await sink.drain()
        sink.close()

    async def _before_forwarding(self, request: Request) -> None:
        session = request.headers.get("mcp-session-id")
        if self.end_sessions > 0 and session is not None and b'"tools/call"' in request.body:
            self.end_sessions -= 1
            await self._delete(session, request.headers.get("mcp-protocol-version", "2025-11-25"))

    async def _delete(self, session: str, version: str) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        writer.write(
            f"DELETE {self.path} HTTP/1.1\r\nHost: 127.0.0.1:{self.upstream_port}\r\n"
            f"Mcp-Session-Id: {session}\r\nMCP-Protocol-Version: {version}\r\n"
            "Content-Length: 0\r\nConnection: close\r\n\r\n".encode()
        )
        status = (await reader.readline()).split()[1]
        await reader.read()
        writer.close()
        assert status == b"200", status
        self.ended.append(session)
