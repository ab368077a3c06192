"""ServeConfig: every `mcprt serve` flag lands in it and reaches the component it configures; it travels to
a worker whole and intact; and a limit set by flag is honoured by every worker of `--workers 2`."""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Callable
from typing import Any

import pytest

from runtime.cli import build_parser, configure_app
from runtime.config import AUTH_SECRET_ENV, ServeConfig, WorkerStart
from runtime.server.app import Server
from runtime.tasks import DEFAULT_MAX_TASKS
from tests.cluster_support import ACCEPT, ClusterServer, conns_by_worker, start_session
from workers.cluster.config import ClusterConfig
from workers.shutdown import HTTP_GRACE, STDIO_GRACE

Reading = Callable[[ServeConfig], Any]


def _http(config: ServeConfig) -> Any:
    return config.http_limits()


def _streamable(config: ServeConfig) -> Any:
    return config.streamable_settings()


def _supervisor(config: ServeConfig) -> Any:
    return config.supervisor_settings()


def _cache(config: ServeConfig) -> Any:
    return config.cache_limits()


def _configured(config: ServeConfig, read: Callable[[Server], Any]) -> Any:
    """What `read` sees of a real application configured by the flags."""
    app = Server("config-test")
    try:
        try:
            configure_app(app, config)
        except SystemExit as exc:  # tool search without its extra
            pytest.skip(str(exc))
        return read(app)
    finally:
        app.shutdown()


def _auth(config: ServeConfig, field: str) -> Any:
    """A field of the `Auth` the flags make (None without one), the introspection secret in its variable."""
    saved = os.environ.get(AUTH_SECRET_ENV)
    os.environ[AUTH_SECRET_ENV] = "s3cret"
    try:
        auth = config.auth()
    finally:
        if saved is None:
            del os.environ[AUTH_SECRET_ENV]
        else:
            os.environ[AUTH_SECRET_ENV] = saved
    return None if auth is None else getattr(auth, field)


AS = ["--http", "127.0.0.1:8123", "--auth-issuer", "https://as.example"]


def _tool_search(config: ServeConfig) -> Any:
    return _configured(config, lambda app: app.tool_search and app.tool_search.config)


# flag: (its arguments, [(what reads it, the value it must read)]). Every serve flag has a row.
FLAGS: dict[str, tuple[list[str], list[tuple[Reading, Any]]]] = {
    "app": (["tests/apps/x.py:app"], [(lambda c: c.app, "tests/apps/x.py:app")]),
    "--stdio": (["--stdio"], [(lambda c: (c.stdio, c.http), (True, None))]),
    "--http": (
        ["--http", "0.0.0.0:8123"],
        [
            (lambda c: (_supervisor(c).host, _supervisor(c).port), ("0.0.0.0", 8123)),
            (lambda c: _streamable(c).bound_to_loopback, False),
        ],
    ),
    "--path": (
        ["--path", "/x"],
        [(lambda c: _streamable(c).path, "/x"), (lambda c: _supervisor(c).path, "/x")],
    ),
    "--max-message-bytes": (["--max-message-bytes", "1234"], [(lambda c: _http(c).max_body_bytes, 1234)]),
    "--max-nesting-depth": (["--max-nesting-depth", "17"], [(lambda c: _streamable(c).max_depth, 17)]),
    "--tool-search": (["--tool-search"], [(lambda c: _tool_search(c) is not None, True)]),
    "--tool-search-deferred": (
        ["--tool-search", "--tool-search-deferred"],
        [(lambda c: _tool_search(c) and _tool_search(c).deferred, True)],
    ),
    "--tool-search-limit-max": (
        ["--tool-search", "--tool-search-limit-max", "7"],
        [(lambda c: _tool_search(c) and _tool_search(c).limit_max, 7)],
    ),
    "--stateless": (["--stateless"], [(lambda c: _streamable(c).stateless, True)]),
    "--allow-origin": (
        ["--allow-origin", "https://a", "--allow-origin", "https://b"],
        [(lambda c: _streamable(c).allowed_origins, frozenset({"https://a", "https://b"}))],
    ),
    "--allow-host": (
        ["--allow-host", "example.com"],
        [(lambda c: _streamable(c).allowed_hosts, frozenset({"example.com"}))],
    ),
    "--session-timeout": (["--session-timeout", "12.5"], [(lambda c: _streamable(c).idle_timeout, 12.5)]),
    "--max-sessions": (
        ["--max-sessions", "77"],
        [(lambda c: _streamable(c).max_sessions, 77), (lambda c: _supervisor(c).max_sessions, 77)],
    ),
    "--max-streams": (["--max-streams", "3"], [(lambda c: _streamable(c).max_streams_per_session, 3)]),
    "--sse-retry-ms": (["--sse-retry-ms", "250"], [(lambda c: _streamable(c).sse_retry_ms, 250)]),
    "--sse-max-seconds": (
        ["--sse-max-seconds", "9"],
        [(lambda c: _streamable(c).sse_max_stream_seconds, 9.0)],
    ),
    "--no-get-stream": (["--no-get-stream"], [(lambda c: _streamable(c).enable_get_stream, False)]),
    "--event-stream-bytes": (
        ["--event-stream-bytes", "8K"],
        [(lambda c: _streamable(c).event_store_stream_bytes, 8192)],
    ),
    "--max-header-bytes": (["--max-header-bytes", "4000"], [(lambda c: _http(c).max_header_bytes, 4000)]),
    "--header-timeout": (["--header-timeout", "1.5"], [(lambda c: _http(c).header_timeout, 1.5)]),
    "--body-timeout": (["--body-timeout", "2.5"], [(lambda c: _http(c).body_timeout, 2.5)]),
    "--keep-alive-timeout": (["--keep-alive-timeout", "3.5"], [(lambda c: _http(c).keep_alive_timeout, 3.5)]),
    "--drain-max-bytes": (["--drain-max-bytes", "999"], [(lambda c: _http(c).drain_max_bytes, 999)]),
    "--drain-timeout": (["--drain-timeout", "0.5"], [(lambda c: _http(c).drain_timeout, 0.5)]),
    "--workers": (["--workers", "3"], [(lambda c: _supervisor(c).workers, 3)]),
    "--no-pin": (["--no-pin"], [(lambda c: _supervisor(c).pin_cpus, False)]),
    "--hang-timeout": (["--hang-timeout", "4.5"], [(lambda c: _supervisor(c).hang_timeout, 4.5)]),
    "--max-worker-rss": (["--max-worker-rss", "300"], [(lambda c: _supervisor(c).max_worker_rss_mb, 300.0)]),
    "--grace": (["--grace", "2"], [(lambda c: (c.grace, _supervisor(c).grace), (2.0, 2.0))]),
    "--event-log-bytes": (
        ["--event-log-bytes", "2M"],
        [
            (lambda c: _supervisor(c).event_log_bytes, 2 << 20),
            (lambda c: _streamable(c).event_store_bytes, 2 << 20),
        ],
    ),
    "--inbox-bytes": (["--inbox-bytes", "64K"], [(lambda c: _supervisor(c).ring_bytes, 64 << 10)]),
    "--session-record-bytes": (
        ["--session-record-bytes", "8K"],
        [(lambda c: _supervisor(c).session_record_bytes, 8 << 10)],
    ),
    "--max-tasks": (
        ["--max-tasks", "21"],
        [
            (lambda c: _supervisor(c).task_capacity, 21),
            (lambda c: _configured(c, lambda app: app.tasks.max_tasks), 21),
        ],
    ),
    "--task-record-bytes": (
        ["--task-record-bytes", "16K"],
        [(lambda c: _supervisor(c).task_record_bytes, 16 << 10)],
    ),
    "--max-inflight": (["--max-inflight", "99"], [(lambda c: _supervisor(c).max_inflight, 99)]),
    "--no-cache": (["--no-cache"], [(_cache, None), (lambda c: _supervisor(c).cache, None)]),
    "--cache-bytes": (["--cache-bytes", "8M"], [(lambda c: _cache(c).bytes, 8 << 20)]),
    "--cache-entries": (["--cache-entries", "4096"], [(lambda c: _cache(c).entries, 4096)]),
    "--cache-shards": (["--cache-shards", "4"], [(lambda c: _cache(c).shards, 4)]),
    "--cache-max-value": (["--cache-max-value", "512K"], [(lambda c: _cache(c).max_value_bytes, 512 << 10)]),
    "--semantic-cache-entries": (
        ["--semantic-cache-entries", "7"],
        [(lambda c: _configured(c, lambda app: app.semantic_settings.entries), 7)],
    ),
    "--auth-issuer": (
        AS,
        [
            (lambda c: _auth(c, "issuer"), "https://as.example"),
            (lambda c: _auth(c, "audience"), "http://127.0.0.1:8123/mcp"),
            (lambda c: _configured(c, lambda app: app.auth and app.auth.issuer), "https://as.example"),
        ],
    ),
    "--auth-audience": (
        [*AS, "--auth-audience", "https://mcp.example/mcp"],
        [(lambda c: _auth(c, "audience"), "https://mcp.example/mcp")],
    ),
    "--auth-scopes": ([*AS, "--auth-scopes", "a b"], [(lambda c: _auth(c, "scopes"), ("a", "b"))]),
    "--auth-required-scopes": (
        [*AS, "--auth-required-scopes", "a"],
        [(lambda c: _auth(c, "required_scopes"), ("a",))],
    ),
    "--auth-filter-lists": ([*AS, "--auth-filter-lists"], [(lambda c: _auth(c, "filter_lists"), True)]),
    "--auth-introspect": (
        [*AS, "--auth-introspect", "--auth-client-id", "rs"],
        [(lambda c: _auth(c, "introspection"), ("rs", "s3cret"))],
    ),
    "--auth-client-id": (
        [*AS, "--auth-introspect", "--auth-client-id", "rs2"],
        [(lambda c: _auth(c, "introspection"), ("rs2", "s3cret"))],
    ),
}


def _serve_parser() -> argparse.ArgumentParser:
    commands = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return commands.choices["serve"]  # type: ignore[no-any-return]


def _config(*args: str) -> ServeConfig:
    return ServeConfig.from_args(build_parser().parse_args(["serve", *args]))


def _name(action: argparse.Action) -> str:
    return next((o for o in action.option_strings if o.startswith("--")), action.dest)


def test_every_serve_flag_has_a_field_and_a_row() -> None:
    actions = [a for a in _serve_parser()._actions if not isinstance(a, argparse._HelpAction)]
    # `gateway` is no serve flag: `mcprt gateway FILE` sets it (tests/test_gateway_config.py).
    assert {a.dest for a in actions} == set(ServeConfig.__struct_fields__) - {"gateway"}
    assert {_name(a) for a in actions} == set(FLAGS)


@pytest.mark.parametrize("flag", sorted(FLAGS))
def test_the_flag_reaches_its_component(flag: str) -> None:
    args, readings = FLAGS[flag]
    config = _config(*args)
    default = _config()
    for read, expected in readings:
        assert read(config) == expected
        assert read(default) != expected, "the row's value must differ from the default"


def test_auth_flags_refuse_what_does_not_fit() -> None:
    with pytest.raises(ValueError, match="need --auth-issuer"):
        _config("--http", "127.0.0.1:1", "--auth-audience", "https://x.example/mcp").auth()
    with pytest.raises(ValueError, match="stdio"):
        _config("--auth-issuer", "https://as.example").auth()
    with pytest.raises(ValueError, match="absolute"):
        _config("--http", "127.0.0.1:1", "--auth-issuer", "as.example").auth()
    saved = os.environ.pop(AUTH_SECRET_ENV, None)
    try:
        with pytest.raises(ValueError, match=AUTH_SECRET_ENV):
            _config(*AS, "--auth-introspect", "--auth-client-id", "rs").auth()
    finally:
        if saved is not None:
            os.environ[AUTH_SECRET_ENV] = saved


def test_computed_defaults() -> None:
    import os

    assert _config().grace == STDIO_GRACE
    assert _config("--http", "127.0.0.1:0").grace == HTTP_GRACE
    assert _config().workers == len(os.sched_getaffinity(0))
    assert _config().max_tasks is None  # the application's own TaskRunner limit stands
    assert _config().supervisor_settings().task_capacity == DEFAULT_MAX_TASKS


def test_a_worker_gets_the_config_whole() -> None:
    everything = [
        arg for flag, (args, _) in FLAGS.items() if flag not in ("--stdio", "--no-cache") for arg in args
    ]
    config = _config(*everything)
    assert config.supervisor_settings().serve == config  # what the supervisor hands to each worker
    cluster = ClusterConfig(prefix="/mcprt-t", slot=1, slots=4, wake=[(3, 4), (5, 6)], cpu=1, listen_fd=7)
    start = WorkerStart(serve=config, cluster=cluster)
    decoded = WorkerStart.decode(start.encode())
    assert decoded == start
    assert decoded.serve.http_limits() == config.http_limits()
    assert decoded.serve.streamable_settings() == config.streamable_settings()
    assert decoded.serve.cache_limits() == config.cache_limits()


def test_max_header_bytes_is_honoured_by_every_worker() -> None:
    """A limit by flag reaches each worker of --workers 2 (it is far below the 64 KiB default)."""
    server = ClusterServer(2, "--max-header-bytes", "2048", "--no-pin")
    try:
        session = start_session(server.port)
        workers = conns_by_worker(server.port, session, 2)
        assert len(workers) == 2
        for conn in workers.values():
            # On this worker's keep-alive connection: a small request is served, a large one refused.
            headers = {"Accept": ACCEPT, "Content-Type": "application/json", "X-Pad": "p" * 500, **session}
            ping = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
            conn.http.request("POST", "/mcp", body=json.dumps(ping), headers=headers)
            response = conn.http.getresponse()
            response.read()
            assert response.status == 200
            conn.http.request("POST", "/mcp", body=json.dumps(ping), headers={**headers, "X-Pad": "p" * 4000})
            response = conn.http.getresponse()
            response.read()
            assert response.status == 431
            conn.close()
    finally:
        assert server.stop() == 0
