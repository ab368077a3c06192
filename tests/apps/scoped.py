"""A server whose entries ask for OAuth scopes, for the authorization tests (served with --auth-issuer)."""

from __future__ import annotations

from typing import Any

from runtime import Context, Server

server = Server("scoped", "1.0.0")


@server.tool()
async def echo(text: str) -> str:
    """Any valid token may call it."""
    return text


@server.tool(scopes=["mcp:write"])
async def write(text: str) -> str:
    """Needs mcp:write."""
    return f"wrote {text}"


@server.tool(scopes=["mcp:admin"], cache_ttl=60)
async def report() -> str:
    """Needs mcp:admin; its result is kept in the shared cache."""
    return "the admin report"


@server.tool()
async def whoami(ctx: Context) -> dict[str, Any]:
    """The principal the request's token speaks for."""
    principal = ctx.principal
    if principal is None:
        return {"principal": None}
    return {
        "issuer": principal.issuer,
        "subject": principal.subject,
        "client_id": principal.client_id,
        "scopes": sorted(principal.scopes),
    }


@server.prompt(scopes=["mcp:admin"])
def admin_prompt() -> str:
    return "for admins"


@server.resource("scoped://open", mime_type="text/plain")
def open_resource() -> str:
    return "open"


@server.resource("scoped://admin/{name}", mime_type="text/plain", scopes=["mcp:admin"])
def admin_resource(name: str) -> str:
    return f"admin {name}"
