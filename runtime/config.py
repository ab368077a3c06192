"""`ServeConfig`: every setting of `mcprt serve`, built once from the command line. The per-component
settings (HTTP limits, Streamable HTTP, the cache, the supervisor) are derived from it, and a supervisor hands
it whole to each worker process, with that worker's own part (`WorkerStart`), so no worker parses argv."""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING

import msgspec

from workers.cluster.config import ClusterConfig

if TYPE_CHECKING:
    from ipc.cache import CacheLimits
    from runtime.auth.resource import Auth
    from runtime.supervisor import SupervisorSettings
    from workers.httpd.types import HttpLimits
    from workers.streamable.transport import StreamableSettings

WORKER_ENV = "MCPRT_WORKER"  # a worker's WorkerStart, as JSON, set by the supervisor
# The key (hex) that seals the requestState of modern multi round-trip requests: the supervisor makes one for
# its workers when it is not set; set the same on every host that serves one server.
STATE_KEY_ENV = "MCPRT_STATE_KEY"
# The client secret a server uses at the issuer's introspection endpoint (`--auth-introspect`).
AUTH_SECRET_ENV = "MCPRT_AUTH_CLIENT_SECRET"


def parse_host_port(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep:
        return "127.0.0.1", int(value)
    return host.strip("[]") or "127.0.0.1", int(port)


class ServeConfig(msgspec.Struct, frozen=True, kw_only=True):
    """One field per `mcprt serve` flag, named as its argparse dest; the parser holds the defaults."""

    app: str
    stdio: bool
    http: str | None  # HOST:PORT; None: stdio
    path: str
    max_message_bytes: int
    max_nesting_depth: int
    tool_search: bool
    tool_search_deferred: bool
    tool_search_limit_max: int
    stateless: bool
    allow_origin: tuple[str, ...] | None
    allow_host: tuple[str, ...] | None
    session_timeout: float
    max_sessions: int
    max_streams: int
    sse_retry_ms: int
    sse_max_seconds: float | None
    no_get_stream: bool
    event_stream_bytes: int
    max_header_bytes: int
    header_timeout: float
    body_timeout: float
    keep_alive_timeout: float
    drain_max_bytes: int
    drain_timeout: float
    workers: int  # resolved: the usable CPUs when not given
    no_pin: bool
    hang_timeout: float
    max_worker_rss: float | None
    grace: float  # resolved: HTTP_GRACE or STDIO_GRACE when not given
    event_log_bytes: int
    inbox_bytes: int
    session_record_bytes: int
    max_tasks: int | None  # None: the application's own TaskRunner limit stands
    task_record_bytes: int
    max_inflight: int
    no_cache: bool
    cache_bytes: int
    cache_entries: int
    cache_shards: int
    cache_max_value: int
    semantic_cache_entries: int
    gateway: str | None = None  # `mcprt gateway`: the gateway.toml (absolute) served instead of `app`
    auth_issuer: str | None = None
    auth_audience: str | None = None  # None: http://HOST:PORT/PATH as served
    auth_scopes: str = ""
    auth_required_scopes: str = ""
    auth_filter_lists: bool = False
    auth_introspect: bool = False
    auth_client_id: str | None = None

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> ServeConfig:
        """From parsed `serve` arguments, with the defaults computed at start filled in."""
        from workers.shutdown import HTTP_GRACE, STDIO_GRACE

        values = {name: getattr(args, name) for name in cls.__struct_fields__}
        for name in ("allow_origin", "allow_host"):
            values[name] = tuple(values[name]) if values[name] else None
        if values["workers"] is None:
            values["workers"] = len(os.sched_getaffinity(0))
        if values["gateway"] is not None:  # a worker may start elsewhere: the path is made absolute now
            values["gateway"] = os.path.abspath(values["gateway"])
        if values["grace"] is None:
            values["grace"] = HTTP_GRACE if args.http else STDIO_GRACE
        return cls(**values)

    @property
    def host(self) -> str:
        return parse_host_port(self.http)[0] if self.http else "127.0.0.1"

    @property
    def port(self) -> int:
        return parse_host_port(self.http)[1] if self.http else 0

    @property
    def supervised(self) -> bool:
        """Served by a supervisor and its workers (else by this one process)."""
        return self.http is not None and self.workers > 1

    def auth(self) -> Auth | None:
        """The `Auth` the --auth-* flags ask for (None without --auth-issuer); ValueError when they are
        inconsistent. The introspection secret comes from the environment, never from argv."""
        from runtime.auth.resource import Auth

        if self.auth_issuer is None:
            if self.auth_audience or self.auth_introspect or self.auth_client_id:
                raise ValueError("the --auth-* flags need --auth-issuer")
            return None
        if not self.http:
            raise ValueError("--auth-issuer protects HTTP; stdio takes credentials from its environment")
        host = f"[{self.host}]" if ":" in self.host else self.host
        audience = self.auth_audience or f"http://{host}:{self.port}{self.path}"
        introspection = None
        if self.auth_introspect:
            secret = os.environ.get(AUTH_SECRET_ENV)
            if not self.auth_client_id or not secret:
                raise ValueError(f"--auth-introspect needs --auth-client-id and ${AUTH_SECRET_ENV}")
            introspection = (self.auth_client_id, secret)
        return Auth(
            issuer=self.auth_issuer,
            audience=audience,
            scopes=tuple(self.auth_scopes.split()),
            required_scopes=tuple(self.auth_required_scopes.split()),
            filter_lists=self.auth_filter_lists,
            introspection=introspection,
        )

    def http_limits(self) -> HttpLimits:
        from workers.httpd.types import HttpLimits

        return HttpLimits(
            max_body_bytes=self.max_message_bytes,
            max_header_bytes=self.max_header_bytes,
            header_timeout=self.header_timeout,
            body_timeout=self.body_timeout,
            keep_alive_timeout=self.keep_alive_timeout,
            drain_max_bytes=self.drain_max_bytes,
            drain_timeout=self.drain_timeout,
        )

    def streamable_settings(self) -> StreamableSettings:
        from workers.streamable.transport import StreamableSettings, _is_loopback

        return StreamableSettings(
            path=self.path,
            stateless=self.stateless,
            allowed_origins=frozenset(self.allow_origin) if self.allow_origin else None,
            allowed_hosts=frozenset(self.allow_host) if self.allow_host else None,
            bound_to_loopback=_is_loopback(self.host),
            idle_timeout=self.session_timeout,
            max_sessions=self.max_sessions,
            max_streams_per_session=self.max_streams,
            enable_get_stream=not self.no_get_stream,
            sse_retry_ms=self.sse_retry_ms,
            sse_max_stream_seconds=self.sse_max_seconds,
            event_store_stream_bytes=self.event_stream_bytes,
            event_store_bytes=self.event_log_bytes,
            max_depth=self.max_nesting_depth,
        )

    def cache_limits(self) -> CacheLimits | None:
        """The shared result cache's limits (None: no cache); ValueError when they do not fit together."""
        from ipc.cache import CacheLimits

        if self.no_cache:
            return None
        limits = CacheLimits(
            bytes=self.cache_bytes,
            entries=self.cache_entries,
            shards=self.cache_shards,
            max_value_bytes=self.cache_max_value,
        )
        limits.check()
        return limits

    def supervisor_settings(self) -> SupervisorSettings:
        from runtime.supervisor import SupervisorSettings
        from runtime.tasks import DEFAULT_MAX_TASKS

        return SupervisorSettings(
            workers=self.workers,
            host=self.host,
            port=self.port,
            serve=self,
            pin_cpus=not self.no_pin,
            hang_timeout=self.hang_timeout,
            max_worker_rss_mb=self.max_worker_rss,
            grace=self.grace,
            max_sessions=self.max_sessions,
            path=self.path,
            cache=self.cache_limits(),
            event_log_bytes=self.event_log_bytes,
            ring_bytes=self.inbox_bytes,
            session_record_bytes=self.session_record_bytes,
            task_capacity=self.max_tasks or DEFAULT_MAX_TASKS,
            task_record_bytes=self.task_record_bytes,
            max_inflight=self.max_inflight,
        )


class WorkerStart(msgspec.Struct, frozen=True, kw_only=True):
    """What a worker process starts from: the server's whole config and this worker's own part."""

    serve: ServeConfig
    cluster: ClusterConfig

    def encode(self) -> str:
        return msgspec.json.encode(self).decode()

    @classmethod
    def decode(cls, raw: str | bytes) -> WorkerStart:
        return msgspec.json.decode(raw, type=cls)

    @classmethod
    def take_from_env(cls) -> WorkerStart:
        """Read and remove it: the application's own child processes are no workers."""
        raw = os.environ.pop(WORKER_ENV, None)
        if not raw:
            raise SystemExit(f"mcprt: a worker starts from {WORKER_ENV}, set by the supervisor")
        return cls.decode(raw)
