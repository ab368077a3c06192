"""The gateway: one MCP endpoint in front of upstream MCP servers (`mcprt gateway gateway.toml`).

    from router.gateway import Gateway
    gateway = Gateway.from_toml("gateway.toml")   # a runtime.Server: gateway.run() serves it over stdio

config.py reads gateway.toml; names.py is the namespacing; upstream.py keeps one upstream connected and relays
what it asks; app.py is the Server that lists and forwards.
"""

from __future__ import annotations

from router.gateway.app import Gateway, load_gateway
from router.gateway.config import (
    ConfigError,
    GatewayConfig,
    Reconnect,
    UpstreamConfig,
    load_config,
    parse_config,
)

__all__ = [
    "ConfigError",
    "Gateway",
    "GatewayConfig",
    "Reconnect",
    "UpstreamConfig",
    "load_config",
    "load_gateway",
    "parse_config",
]
