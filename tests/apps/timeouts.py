"""Plain awaiting tools (no Context) for the request timeout and McpError checks. The server's
`request_timeout` comes from TIMEOUTS_APP_REQUEST_TIMEOUT (unset: none), so one app serves both cases."""

from __future__ import annotations

import asyncio
import os

from runtime import McpError, Server

_timeout = os.environ.get("TIMEOUTS_APP_REQUEST_TIMEOUT")
server = Server("timeouts", "1.0.0", request_timeout=float(_timeout) if _timeout else None)


@server.tool()
async def nap(seconds: float) -> str:
    """Sleep, then answer."""
    await asyncio.sleep(seconds)
    return f"napped {seconds} s"


@server.tool()
async def refuse_later() -> str:
    """Await once, then refuse with a protocol error (a JSON-RPC error, not an isError result)."""
    await asyncio.sleep(0.01)
    raise McpError(-32042, "refused after a wait")


@server.tool()
async def refuse_now() -> str:
    """Refuse with a protocol error without awaiting (runs inline)."""
    raise McpError(-32042, "refused at once")
