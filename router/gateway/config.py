"""The gateway's configuration: `gateway.toml` read with tomllib into typed, checked structs.

    name = "my-gateway"                 # the gateway's serverInfo.name (optional)

    [reconnect]                          # all optional: the defaults below
    initial_delay = 0.5                  # s before the first new attempt after a failure
    max_delay = 30.0                     # the delay doubles after each failed attempt, up to this
    max_attempts = 0                     # consecutive failed attempts before giving up (0: never give up)
    connect_timeout = 10.0               # s for one attempt: start, initialize, list everything

    [servers.everything]                 # the name prefixes its tools, prompts and resource URIs
    command = ["npx", "-y", "@modelcontextprotocol/server-everything"]
    env = { LOG_LEVEL = "info" }         # added to the gateway's own environment

    [servers.remote]
    url = "https://mcp.example.com/mcp"
    headers = { Authorization = "Bearer ${REMOTE_TOKEN}" }   # ${VAR}: from the environment, at load
    timeout = 120                        # s for one forwarded request (60)

`${NAME}` in a command, url, header or env value is replaced by that environment variable (a missing one is
a configuration error), so credentials stay out of the file. A command runs in the directory of the file
(or in `cwd`, read from there).
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any

import msgspec

# A server's name prefixes tool and prompt names (`<server>_<tool>`, tools.mdx: A-Z a-z 0-9 _ - .) and
# resource URIs (`<server>+<uri>`, an RFC 3986 scheme prefix): lowercase letters, digits and '-', so that
# neither an underscore nor a '+' in it could make two prefixed names meet.
SERVER_NAME = re.compile(r"[a-z][a-z0-9-]{0,31}\Z")
_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
LOG_LEVELS = ("debug", "info", "notice", "warning", "error", "critical", "alert", "emergency")


class ConfigError(ValueError):
    """The gateway configuration cannot be used; the message says where and why."""


class Reconnect(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """How an upstream that failed (or never came up) is connected again: exponential back-off."""

    initial_delay: float = 0.5
    max_delay: float = 30.0
    multiplier: float = 2.0
    max_attempts: int = 0  # consecutive failures before the upstream is given up; 0: never
    connect_timeout: float = 10.0

    def check(self) -> None:
        if not 0 < self.initial_delay <= self.max_delay:
            raise ConfigError("reconnect: need 0 < initial_delay <= max_delay")
        if self.multiplier < 1:
            raise ConfigError("reconnect.multiplier must be at least 1")
        if self.max_attempts < 0:
            raise ConfigError("reconnect.max_attempts must be 0 (never give up) or more")
        if not self.connect_timeout > 0:
            raise ConfigError("reconnect.connect_timeout must be positive")

    def delay(self, failures: int) -> float:
        """The wait after `failures` consecutive failed attempts (1, 2, ...)."""
        return float(min(self.max_delay, self.initial_delay * self.multiplier ** (failures - 1)))


class UpstreamConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One upstream MCP server: a stdio `command` or a Streamable HTTP `url`."""

    name: str = ""  # the table's key
    command: list[str] | None = None
    url: str | None = None
    headers: dict[str, str] = msgspec.field(default_factory=dict)  # HTTP only (credentials)
    env: dict[str, str] | None = None  # stdio only: added to the gateway's environment
    cwd: str | None = None  # stdio only
    verify: bool | str = True  # https: True (system CAs), a CA bundle path, or False (testing only)
    timeout: float = 60.0  # one forwarded request, s
    log_level: str | None = "info"  # logging/setLevel sent to the upstream; None: leave its default

    def check(self) -> None:
        where = f"servers.{self.name}"
        if not SERVER_NAME.match(self.name):
            raise ConfigError(
                f"{where}: a server name is 1-32 of a-z, 0-9 and '-', starting with a letter "
                "(it prefixes tool names and resource URIs)"
            )
        if (self.command is None) == (self.url is None):
            raise ConfigError(f"{where}: give exactly one of command (stdio) or url (Streamable HTTP)")
        if self.command is not None and not self.command:
            raise ConfigError(f"{where}: command is empty")
        if self.url is not None and not self.url.startswith(("http://", "https://")):
            raise ConfigError(f"{where}: url must start with http:// or https://")
        if self.url is not None and (self.env is not None or self.cwd is not None):
            raise ConfigError(f"{where}: env and cwd are for a command; an HTTP server has headers")
        if self.command is not None and self.headers:
            raise ConfigError(f"{where}: headers are for a url; a command has env")
        if not self.timeout > 0:
            raise ConfigError(f"{where}.timeout must be positive")
        if self.log_level is not None and self.log_level not in LOG_LEVELS:
            raise ConfigError(f"{where}.log_level must be one of {', '.join(LOG_LEVELS)}")

    @property
    def target(self) -> str:
        return self.url if self.url is not None else " ".join(self.command or [])


class GatewayConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The whole gateway: its identity, the back-off, and the upstream servers by name."""

    servers: dict[str, UpstreamConfig]
    name: str = "mcprt-gateway"
    version: str = "0.1.0"
    instructions: str | None = None
    reconnect: Reconnect = Reconnect()
    # Answered to an upstream's roots/list that no forwarded call is waiting on (see README "Gateway").
    roots: list[dict[str, Any]] = msgspec.field(default_factory=list)

    def check(self) -> None:
        if not self.servers:
            raise ConfigError("no [servers.<name>] table: the gateway needs at least one upstream")
        self.reconnect.check()
        for server in self.servers.values():
            server.check()


def parse_config(data: dict[str, Any], base: Path | None = None) -> GatewayConfig:
    """A checked GatewayConfig from the TOML document's table; `base`: where relative paths start."""
    servers = data.get("servers")
    if isinstance(servers, dict):
        data = {
            **data,
            "servers": {k: {**v, "name": k} if isinstance(v, dict) else v for k, v in servers.items()},
        }
    try:
        config = msgspec.convert(_expanded(data), GatewayConfig)
    except msgspec.ValidationError as exc:
        raise ConfigError(str(exc)) from None
    config.check()
    if base is not None:
        config = _anchored(config, base)
    return config


def load_config(path: str | os.PathLike[str]) -> GatewayConfig:
    """Read and check a gateway.toml (ConfigError with a one-line reason when it cannot be used)."""
    file = Path(path)
    try:
        data = tomllib.loads(file.read_text())
    except OSError as exc:
        raise ConfigError(f"cannot read {file}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file}: {exc}") from None
    return parse_config(data, file.resolve().parent)


def _expanded(value: Any) -> Any:
    """Every string with its ${VAR}s replaced from the environment."""
    if isinstance(value, str):
        return _VARIABLE.sub(_variable, value)
    if isinstance(value, list):
        return [_expanded(v) for v in value]
    if isinstance(value, dict):
        return {k: _expanded(v) for k, v in value.items()}
    return value


def _variable(match: re.Match[str]) -> str:
    name = match.group(1)
    value = os.environ.get(name)
    if value is None:
        raise ConfigError(
            f"environment variable {name} is not set (named as ${{{name}}} in the configuration)"
        )
    return value


def _anchored(config: GatewayConfig, base: Path) -> GatewayConfig:
    """A command runs in the configuration's directory (or `cwd` read from there), so its relative paths
    mean what they say in the file."""
    servers = {}
    for name, server in config.servers.items():
        if server.command is not None:
            cwd = str(base / server.cwd) if server.cwd is not None else str(base)
            server = msgspec.structs.replace(server, cwd=cwd)
        servers[name] = server
    return msgspec.structs.replace(config, servers=servers)
