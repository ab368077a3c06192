"""What the client raises besides the server's own JSON-RPC errors (`McpError`)."""

from __future__ import annotations

from typing import Any


class ClientClosed(ConnectionError):
    """The connection to the server ended while a request was waiting."""


class HttpStatusError(ConnectionError):
    """The server answered an HTTP request with a status that carries no JSON-RPC answer to it."""

    def __init__(self, status: int, body: bytes, message: str | None = None) -> None:
        super().__init__(message or f"HTTP {status}: {body[:200].decode(errors='replace')}")
        self.status = status
        self.body = body


class OAuthError(ConnectionError):
    """Authorization with a protected MCP server failed: discovery, registration, the authorization response,
    a token request, or the server still refusing after the allowed rounds. The connection cannot be used
    (hence a ConnectionError). The message never carries a token or a client secret."""


class SessionExpired(HttpStatusError):
    """HTTP 404 for a request that carried an `Mcp-Session-Id`: the server ended the session
    (transports.mdx "Session Management"). The client starts a new session and retries the request once;
    it raises this when that is not possible or a request of the ended session went unanswered."""

    def __init__(self, message: str, body: bytes = b"") -> None:
        super().__init__(404, body, message)


class OutputSchemaError(ValueError):
    """A tools/call result does not conform to the tool's `outputSchema` (tools.mdx "Output Schema":
    clients SHOULD validate structured results). The result is kept in `result` for inspection."""

    def __init__(self, tool: str, reason: str, result: Any) -> None:
        super().__init__(f"tool {tool!r} returned a result that does not match its outputSchema: {reason}")
        self.tool = tool
        self.reason = reason
        self.result = result
