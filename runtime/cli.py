"""The `mcprt` command line."""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runtime.config import AUTH_SECRET_ENV, STATE_KEY_ENV, ServeConfig, parse_host_port
from runtime.protocol.scan import DEFAULT_MAX_MESSAGE_BYTES
from runtime.server.semantic_cache import DEFAULT_ENTRIES as DEFAULT_SEMANTIC_ENTRIES
from runtime.server.tool_search import LIMIT_MAX
from runtime.tasks import DEFAULT_MAX_TASKS

if TYPE_CHECKING:
    from workers.cluster.config import ClusterConfig

DEFAULT_APP = "runtime.default_app:server"


def load_app(spec: str) -> Any:
    """Load a Server from `module:attr` or `path/to/file.py:attr` (attr defaults to `server`)."""
    target, _, attr = spec.partition(":")
    if target.endswith(".py") or "/" in target:
        path = Path(target).resolve()
        if not path.exists():
            raise SystemExit(f"mcprt: no such file: {target}")
        sys.path.insert(0, str(path.parent))
        module_spec = importlib.util.spec_from_file_location(path.stem, path)
        if module_spec is None or module_spec.loader is None:
            raise SystemExit(f"mcprt: cannot import {target}")
        module = importlib.util.module_from_spec(module_spec)
        sys.modules[path.stem] = module
        module_spec.loader.exec_module(module)
    else:
        sys.path.insert(0, str(Path.cwd()))
        try:
            module = importlib.import_module(target)
        except ImportError as exc:
            raise SystemExit(f"mcprt: cannot import {target!r}: {exc}") from None
    from runtime.server.app import Server

    if attr:
        app = getattr(module, attr, None)
        if app is None:
            raise SystemExit(f"mcprt: {target!r} has no attribute {attr!r}")
    else:
        candidates = [v for v in vars(module).values() if isinstance(v, Server)]
        if len(candidates) != 1:
            raise SystemExit(f"mcprt: name the server in {target!r} as {target}:ATTR")
        app = candidates[0]
    if callable(app) and not isinstance(app, Server):
        app = app()  # a factory
    if not isinstance(app, Server):
        raise SystemExit(f"mcprt: {spec!r} is not a runtime.Server")
    return app


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mcprt", description="mcprt: a fast Model Context Protocol runtime")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve an MCP server application")
    serve.add_argument(
        "app", nargs="?", default=DEFAULT_APP, help=f"module:attr or file.py:attr ({DEFAULT_APP})"
    )
    serve.set_defaults(gateway=None)
    add_serve_options(serve)
    gateway = commands.add_parser(
        "gateway", help="serve one MCP endpoint in front of the upstream servers of a gateway.toml"
    )
    gateway.add_argument("gateway", metavar="gateway.toml", help="the upstream servers (README: Gateway)")
    gateway.set_defaults(app="")
    add_serve_options(gateway)
    status = commands.add_parser("status", help="the workers and the cache of a running `serve --http`")
    status.add_argument("--http", metavar="HOST:PORT", default="127.0.0.1:8000", help="its address")
    inspect = commands.add_parser("cache", help="inspect the shared result cache of a running server")
    inspect.add_argument("--http", metavar="HOST:PORT", default="127.0.0.1:8000", help="its address")
    inspect.add_argument(
        "what",
        nargs="?",
        default="stats",
        choices=["stats", "keys", "get", "read", "clear"],
        help="stats (default); keys: the entries; get KEY: a value; read URI: a resource; clear",
    )
    inspect.add_argument("key", nargs="?", help="the key (get) or the resource URI (read)")
    inspect.add_argument("--limit", type=int, default=100, help="entries shown by `keys` (100)")
    return parser


def add_serve_options(serve: argparse.ArgumentParser) -> None:
    """The options of `mcprt serve`, shared by `mcprt gateway` (a gateway is served like any application)."""
    mode = serve.add_mutually_exclusive_group()
    mode.add_argument("--stdio", action="store_true", help="serve over stdin/stdout (the default)")
    mode.add_argument("--http", metavar="HOST:PORT", help="serve Streamable HTTP (e.g. 127.0.0.1:8000)")
    serve.add_argument("--path", default="/mcp", help="the MCP endpoint's path over HTTP (/mcp)")
    serve.add_argument(
        "--max-message-bytes",
        type=int,
        default=DEFAULT_MAX_MESSAGE_BYTES,
        help=f"largest accepted message ({DEFAULT_MAX_MESSAGE_BYTES >> 20} MiB)",
    )
    serve.add_argument(
        "--max-nesting-depth", type=int, default=200, help="arrays and objects nested in a message (200)"
    )
    search = serve.add_argument_group("tool search (runtime/server/tool_search.py; needs mcprt[router])")
    search.add_argument(
        "--tool-search", action="store_true", help="add search_tools (search_resources, search_prompts)"
    )
    search.add_argument(
        "--tool-search-deferred",
        action="store_true",
        help="tools/list shows only the search tools (implies --tool-search); all stay callable by name",
    )
    search.add_argument(
        "--tool-search-limit-max",
        type=int,
        default=LIMIT_MAX,
        help=f"most results per search; a larger limit is cut to it ({LIMIT_MAX})",
    )
    http = serve.add_argument_group("Streamable HTTP")
    http.add_argument("--stateless", action="store_true", help="no sessions: every POST stands alone")
    http.add_argument("--allow-origin", action="append", default=None, help="allowed Origin (repeatable)")
    http.add_argument("--allow-host", action="append", default=None, help="allowed Host header (repeatable)")
    http.add_argument("--session-timeout", type=float, default=1800.0, help="idle session expiry, s (1800)")
    http.add_argument("--max-sessions", type=int, default=10_000, help="session cap (10000)")
    http.add_argument("--max-streams", type=int, default=16, help="SSE streams per session (16)")
    http.add_argument("--sse-retry-ms", type=int, default=1000, help="retry hint before closing SSE (1000)")
    http.add_argument(
        "--sse-max-seconds", type=float, default=None, help="close SSE connections after this long (off)"
    )
    http.add_argument("--no-get-stream", action="store_true", help="answer GET with 405")
    http.add_argument(
        "--event-stream-bytes", type=_size, default="4M", help="SSE events kept per stream (4M)"
    )
    http.add_argument(
        "--max-header-bytes", type=int, default=64 * 1024, help="request line + headers (64 KiB)"
    )
    http.add_argument("--header-timeout", type=float, default=10.0, help="to receive headers, s (10)")
    http.add_argument("--body-timeout", type=float, default=30.0, help="to receive the body, s (30)")
    http.add_argument("--keep-alive-timeout", type=float, default=5.0, help="idle connection close, s (5)")
    http.add_argument(
        "--drain-max-bytes",
        type=int,
        default=16 * 1024 * 1024,
        help="after an error response, bytes still read and dropped so the client can read it (16 MiB)",
    )
    http.add_argument(
        "--drain-timeout", type=float, default=5.0, help="after an error response, how long to drop, s (5)"
    )
    procs = serve.add_argument_group("worker processes (Streamable HTTP)")
    procs.add_argument(
        "--workers",
        type=int,
        default=None,
        help="worker processes sharing the port and the sessions (default: the usable CPUs)",
    )
    procs.add_argument("--no-pin", action="store_true", help="do not pin each worker to a CPU")
    procs.add_argument("--hang-timeout", type=float, default=3.0, help="replace a silent worker after, s (3)")
    procs.add_argument("--max-worker-rss", type=float, default=None, help="replace a worker above MB (off)")
    procs.add_argument(
        "--grace",
        type=float,
        default=None,
        help="on stop, in-flight requests finish within this, then the process exits, s (HTTP 10, stdio 5)",
    )
    shared = serve.add_argument_group("shared state of --workers N > 1 (ipc/LAYOUT.md)")
    shared.add_argument("--event-log-bytes", type=_size, default="64M", help="SSE event store (64M)")
    shared.add_argument("--inbox-bytes", type=_size, default="4M", help="cross-worker inbox per worker (4M)")
    shared.add_argument("--session-record-bytes", type=_size, default="4K", help="per session record (4K)")
    serve.add_argument(
        "--max-tasks",
        type=int,
        default=None,
        help=f"tasks kept at once, finished ones until they expire ({DEFAULT_MAX_TASKS}); more are refused",
    )
    shared.add_argument(
        "--task-record-bytes", type=_size, default="64K", help="per task, result included (64K)"
    )
    shared.add_argument(
        "--max-inflight", type=_positive, default=16_384, help="requests in flight, all workers (16384)"
    )
    cache = serve.add_argument_group("shared result cache (Streamable HTTP; ipc/CACHE.md)")
    cache.add_argument("--no-cache", action="store_true", help="no shared result cache")
    cache.add_argument("--cache-bytes", type=_size, default="64M", help="value storage (64M)")
    cache.add_argument("--cache-entries", type=int, default=65_536, help="index entries (65536)")
    cache.add_argument("--cache-shards", type=int, default=16, help="shards: writer locks (16)")
    cache.add_argument("--cache-max-value", type=_size, default="1M", help="largest cached result (1M)")
    cache.add_argument(
        "--semantic-cache-entries",
        type=_positive,
        default=DEFAULT_SEMANTIC_ENTRIES,
        help=f"vectors of semantic_cache= tools, all workers; oldest go first ({DEFAULT_SEMANTIC_ENTRIES})",
    )
    auth = serve.add_argument_group("authorization: OAuth 2.1 bearer tokens over HTTP (README)")
    auth.add_argument("--auth-issuer", metavar="URL", help="accept access tokens of this issuer")
    auth.add_argument(
        "--auth-audience",
        metavar="URL",
        help="this server's public URL, which tokens must name in aud (http://HOST:PORT/PATH)",
    )
    auth.add_argument("--auth-scopes", default="", help='scopes_supported, e.g. "mcp:read mcp:write"')
    auth.add_argument("--auth-required-scopes", default="", help="scopes every request needs")
    auth.add_argument(
        "--auth-filter-lists", action="store_true", help="list only what the caller's scopes allow"
    )
    auth.add_argument(
        "--auth-introspect",
        action="store_true",
        help=f"opaque tokens: RFC 7662 introspection as --auth-client-id, secret in ${AUTH_SECRET_ENV}",
    )
    auth.add_argument("--auth-client-id", help="this server's client id at the issuer (introspection)")


def _size(value: str) -> int:
    """A byte count: 1048576, 512K, 64M, 1G."""
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    text = value.strip().upper().removesuffix("B").removesuffix("I")
    try:
        if text and text[-1] in units:
            return int(float(text[:-1]) * units[text[-1]])
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a size: {value!r} (e.g. 65536, 512K, 64M)") from None


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"not a positive integer: {value!r}")
    return number


def add_tool_search(app: Any, config: ServeConfig) -> None:
    """`--tool-search`: the application's own ToolSearch settings, if it has them, with the flags on top."""
    from dataclasses import replace

    from runtime.server.tool_search import ToolSearch, ToolSearchUnavailable, enable_tool_search

    settings = app.tool_search.config if app.tool_search is not None else ToolSearch()
    deferred = settings.deferred or config.tool_search_deferred
    # The flag's default leaves the application's own limit_max as it is.
    limit_max = config.tool_search_limit_max
    if limit_max == LIMIT_MAX:
        limit_max = settings.limit_max
    try:
        settings = replace(settings, deferred=deferred, limit_max=limit_max)
        enable_tool_search(app, settings)
    except (ToolSearchUnavailable, ValueError) as exc:
        raise SystemExit(f"mcprt: {exc}") from None


def load_gateway(path: str) -> Any:
    """`mcprt gateway`: the Gateway of a gateway.toml (router/gateway), a Server like any application."""
    from router.gateway import ConfigError, Gateway

    try:
        return Gateway.from_toml(path)
    except ConfigError as exc:
        raise SystemExit(f"mcprt gateway: {exc}") from None


def check_gateway(path: str) -> None:
    """Refuse a gateway.toml that cannot be used before any worker starts (one line, no traceback)."""
    from router.gateway import ConfigError, load_config

    try:
        load_config(path)
    except ConfigError as exc:
        raise SystemExit(f"mcprt gateway: {exc}") from None


def configure_app(app: Any, config: ServeConfig) -> None:
    """The flags that configure the application itself (its TaskRunner, its tool search)."""
    if config.max_tasks is not None:  # else the application's own TaskRunner limit stands
        app.tasks.max_tasks = config.max_tasks
    if config.tool_search or config.tool_search_deferred:
        add_tool_search(app, config)
    if config.semantic_cache_entries != DEFAULT_SEMANTIC_ENTRIES:  # else the application's own stands
        set_semantic_entries(app, config.semantic_cache_entries)
    try:
        auth = config.auth()
    except ValueError as exc:
        raise SystemExit(f"mcprt: {exc}") from None
    if auth is not None:
        app.auth = auth
    shared_key = os.environ.get(STATE_KEY_ENV)
    if shared_key and hasattr(app, "use_state_key"):
        try:
            app.use_state_key(bytes.fromhex(shared_key))
        except ValueError:
            raise SystemExit(f"mcprt: {STATE_KEY_ENV} must be at least 16 bytes, in hex") from None


def set_semantic_entries(app: Any, entries: int) -> None:
    from dataclasses import replace

    try:
        app.semantic_settings = replace(app.semantic_settings, entries=entries)
    except ValueError as exc:
        raise SystemExit(f"mcprt: {exc}") from None
    if app.semantic is not None:
        app.semantic.reconfigure(app.semantic_settings)


def _cache_limits(config: ServeConfig) -> Any:
    try:
        return config.cache_limits()
    except ValueError as exc:
        raise SystemExit(f"mcprt: {exc}") from None


def _supervise(config: ServeConfig) -> int:
    from runtime.supervisor import Supervisor

    try:
        settings = config.supervisor_settings()
    except ValueError as exc:  # the cache's limits
        raise SystemExit(f"mcprt: {exc}") from None
    return Supervisor(settings).run()


def _listen(config: ServeConfig) -> Any:
    """The listener of a server without a supervisor, made before the application is imported, so a port
    in use is refused at once, in one line."""
    from workers.httpd.listen import ListenError, listen_exclusive

    try:
        return listen_exclusive(config.host, config.port)
    except ListenError as exc:
        raise SystemExit(str(exc)) from None


def serve(config: ServeConfig, cluster: ClusterConfig | None = None) -> int:
    """Serve one process: alone (stdio, `--workers 1`), or as worker `cluster.slot` of a supervisor."""
    if config.supervised and cluster is None:
        return _supervise(config)  # the supervisor never imports the application
    fds = sock = None
    if config.http and cluster is None:
        sock = _listen(config)
    if not config.http:  # before the application is imported: its output must not reach the client
        from workers.stdio import claim_stdio

        fds = claim_stdio()
    app = load_gateway(config.gateway) if config.gateway is not None else load_app(config.app)
    configure_app(app, config)
    if config.http:
        from workers.streamable.serve import run_http

        # A worker attaches the supervisor's cache; a process alone makes its own.
        cache = None if cluster is not None else _cache_limits(config)
        run_http(
            app,
            config.host,
            config.port,
            settings=config.streamable_settings(),
            limits=config.http_limits(),
            grace=config.grace,
            cache=cache,
            sock=sock,
            cluster=cluster,
        )
    else:
        from workers.stdio import run_stdio

        run_stdio(app, config.max_message_bytes, fds, config.max_nesting_depth, config.grace)
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    if args.command == "status":
        from runtime.status import print_status

        return print_status(*parse_host_port(args.http))
    if args.command == "cache":
        from runtime.cache_cli import inspect_cache

        return inspect_cache(parse_host_port(args.http)[1], args.what, args.key, args.limit)
    if args.command == "serve":
        return serve(ServeConfig.from_args(args))
    if args.command == "gateway":
        check_gateway(args.gateway)
        return serve(ServeConfig.from_args(args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
