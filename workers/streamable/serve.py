"""Run one HTTP worker: uvloop, its listener, the Streamable HTTP endpoint, graceful stop."""

from __future__ import annotations

import asyncio
import functools
import signal
import socket
import sys
from dataclasses import dataclass

from ipc.cache import CacheLimits, SharedCache
from ipc.errors import SegmentError
from ipc.names import unlink_vectors
from ipc.segment import claim_prefix
from runtime.auth.principal import TokenVerifier
from runtime.auth.verifiers import make_verifier
from runtime.server.app import Server
from workers.cluster.config import ClusterConfig, cache_name
from workers.cluster.member import Member, join_cluster
from workers.httpd.listen import listen_exclusive
from workers.httpd.server import serve
from workers.httpd.types import Handler, HttpLimits
from workers.loop import install_uvloop
from workers.shutdown import HTTP_GRACE, GracePeriod, run_within_grace
from workers.streamable.guard import AuthGuard
from workers.streamable.transport import StreamableHttp, StreamableSettings, _is_loopback


async def serve_http(
    app: Server,
    host: str = "127.0.0.1",
    port: int = 8000,
    *,
    settings: StreamableSettings | None = None,
    limits: HttpLimits | None = None,
    grace: float | GracePeriod = HTTP_GRACE,
    ready: asyncio.Future[int] | None = None,
    cache: CacheLimits | None = None,
    sock: socket.socket | None = None,
    cluster: ClusterConfig | None = None,
) -> None:
    """`cache`: without a supervisor, create and own the shared result cache of this port; `grace`: how
    long requests in flight have once SIGTERM/SIGINT asks to stop (a `GracePeriod`: `run_http` enforces it
    on the process). `sock`: a listening socket to serve (a worker of a supervisor serves the one the
    supervisor made for it). `cluster`: this process is that worker of a supervisor's cluster."""
    period = grace if isinstance(grace, GracePeriod) else GracePeriod(grace, backstop=False)
    settings = settings or StreamableSettings(bound_to_loopback=_is_loopback(host))
    built = build_endpoint(app, settings, cluster)
    endpoint, member = built.endpoint, built.member
    if cluster is not None and cluster.listen_fd is not None:
        sock = socket.socket(fileno=cluster.listen_fd)
    http = await serve(built.handler, host, port, limits=limits, sock=sock or listen_exclusive(host, port))
    owned = _own_cache(app, http.port, cache) if cluster is None and cache is not None else None
    # The semantic cache's vectors, made at their first use (ipc/vectors.py), go with the result cache.
    owned_vectors = functools.partial(unlink_vectors, owned.name if owned else "")
    if owned is not None:
        period.last_resort.append(owned.unlink)  # even when the stop hangs: no segment left behind
        period.last_resort.append(owned_vectors)
    loop = asyncio.get_running_loop()
    stop: asyncio.Future[None] = loop.create_future()

    def stopping() -> None:
        if not stop.done():
            stop.set_result(None)

    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping)
    period.watch((signal.SIGTERM, signal.SIGINT))  # even while a handler blocks the loop
    shown = f"[{host}]" if ":" in host else host
    if member is not None:
        member.start()  # the supervisor announces the address once every worker is ready
    else:
        print(
            f"mcprt: serving {app.info['name']} at http://{shown}:{http.port}{settings.path}",
            file=sys.stderr,
            flush=True,
        )
    if ready is not None:
        ready.set_result(http.port)
    try:
        await stop
    finally:
        # Stopping: a second SIGTERM/SIGINT (Ctrl-C reaches the supervisor and its workers, and the
        # supervisor then passes SIGTERM on) must not turn a clean stop into death by signal.
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
            signal.signal(signum, signal.SIG_IGN)
        period.begin()
        endpoint.close()
        await http.close(period.remaining())
        await endpoint.settle(period.remaining())
        if built.verifier is not None:
            await built.verifier.aclose()
        app.shutdown()
        if member is not None:
            member.close()
        if owned is not None:
            app.cache = None
            owned.mark_closed()
            owned.unlink()
            owned_vectors()
            period.last_resort.remove(owned.unlink)  # the name may soon be another server's
            period.last_resort.remove(owned_vectors)
            owned.close()


@dataclass
class Endpoint:
    """What `build_endpoint` wires: the handler the HTTP server calls (the middleware, then the transport)."""

    handler: Handler
    endpoint: StreamableHttp
    member: Member | None = None
    verifier: TokenVerifier | None = None


def build_endpoint(
    app: Server, settings: StreamableSettings, cluster: ClusterConfig | None = None
) -> Endpoint:
    """The composition root of an HTTP worker: the transport with its stores (in-process, or the cluster's
    shared ones), then the middleware in front of it, outermost last: authorization when `app.auth` is
    set (workers/streamable/guard.py). Every layer is a `Handler` taking the next one."""
    member = None
    if cluster is not None:
        member = join_cluster(app, settings, cluster)
        endpoint = member.endpoint
    else:
        endpoint = StreamableHttp(app, settings)
    handler: Handler = endpoint
    verifier = None
    if app.auth is not None:
        verifier = make_verifier(app.auth)
        handler = AuthGuard(app.auth, verifier, app, settings.path, handler)
    return Endpoint(handler, endpoint, member, verifier)


def _own_cache(app: Server, port: int, limits: CacheLimits) -> SharedCache | None:
    """The cache segment of a single-process server, named after its port like a supervisor's."""
    try:
        prefix, removed = claim_prefix(str(port))
        for name in removed:
            print(f"mcprt: removed {name}, left by a server that did not stop cleanly", file=sys.stderr)
        if not prefix.endswith(f"-{port}"):
            taken = f"mcprt: the cache name of port {port} is taken by another user"
            print(f"{taken}: using {prefix}-cache", file=sys.stderr)
        cache = SharedCache.create(cache_name(prefix), limits)
    except (SegmentError, OSError, ValueError) as exc:
        print(f"mcprt: serving without the shared cache: {exc}", file=sys.stderr)
        return None
    cache.lane = 0
    app.cache = cache
    return cache


def run_http(app: Server, host: str, port: int, *, grace: float = HTTP_GRACE, **options: object) -> None:
    """Serve until SIGTERM/SIGINT, then exit within `grace` seconds (plus the backstop's second if the
    cleanup hangs) whatever the handlers are doing (workers/shutdown.py)."""
    install_uvloop()
    period = GracePeriod(grace)
    run_within_grace(serve_http(app, host, port, grace=period, **options), period)  # type: ignore[arg-type]
