"""mcprt: a fast Model Context Protocol runtime.

from runtime import Server, Client, Context
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from runtime.auth.resource import Auth
from runtime.protocol import types
from runtime.protocol.jsonrpc import McpError
from runtime.server import content
from runtime.server.app import Server
from runtime.server.client_requests import ClientCapabilityError, ClientRequestError
from runtime.server.context import Context, RequestCancelled, url_elicitation_required
from runtime.server.failures import ToolError
from runtime.server.tool_search import ToolSearch

if TYPE_CHECKING:
    from runtime.client.client import Client

__all__ = [
    "Auth",
    "Client",
    "ClientCapabilityError",
    "ClientRequestError",
    "Context",
    "McpError",
    "RequestCancelled",
    "Server",
    "ToolError",
    "ToolSearch",
    "content",
    "types",
    "url_elicitation_required",
]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    # The client is imported on first use so that a server process never pays for it.
    if name == "Client":
        from runtime.client.client import Client

        return Client
    raise AttributeError(name)
