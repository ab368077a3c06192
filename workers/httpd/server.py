"""The listening side: serving a listening socket, and graceful shutdown."""

from __future__ import annotations

import asyncio
import socket

from workers.httpd.protocol import Connections, HttpProtocol
from workers.httpd.types import Handler, HttpLimits


def make_listen_socket(
    host: str, port: int, *, reuse_port: bool = False, backlog: int = 2048
) -> socket.socket:
    """A non-blocking listening socket; with SO_REUSEPORT other sockets of this user can join the port
    (a supervisor's workers get theirs from workers/httpd/listen.py instead)."""
    host = host.strip("[]")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
        sock.listen(backlog)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


class HttpServer:
    def __init__(self, server: asyncio.Server, connections: set[HttpProtocol]) -> None:
        self._server = server
        self.connections = connections

    @property
    def sockets(self) -> tuple[socket.socket, ...]:
        return tuple(self._server.sockets)

    @property
    def port(self) -> int:
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def active_connections(self) -> int:
        return len(self.connections)

    async def close(self, grace: float = 10.0) -> None:
        """Stop accepting, let requests in flight finish for up to `grace` seconds, then close the rest."""
        self._server.close()
        if isinstance(self.connections, Connections):
            self.connections.closed = True
        await asyncio.sleep(0)  # connections accepted before the close make themselves now, and are dropped
        for conn in list(self.connections):
            conn.shutdown()
        deadline = asyncio.get_running_loop().time() + grace
        while self.connections and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.02)
        for conn in list(self.connections):
            if conn.transport is not None:
                conn.transport.abort()
        await self._server.wait_closed()


async def serve(
    handler: Handler,
    host: str = "127.0.0.1",
    port: int = 8000,
    *,
    limits: HttpLimits | None = None,
    sock: socket.socket | None = None,
    reuse_port: bool = False,
    backlog: int = 2048,
) -> HttpServer:
    limits = limits or HttpLimits()
    connections = Connections()
    listener = sock or make_listen_socket(host, port, reuse_port=reuse_port, backlog=backlog)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: HttpProtocol(handler, limits, connections), sock=listener)
    return HttpServer(server, connections)
