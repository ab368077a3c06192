"""The official MCP Python SDK (`mcp`, MCPServer) serving the benchmark tool, in its default configuration.

python perf/peers/official_sdk.py --stdio | --http 127.0.0.1:PORT [--workers N]
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from mcp.server.mcpserver import MCPServer
from starlette.applications import Starlette

server = MCPServer("bench-echo")


@server.tool()
async def echo(text: str) -> str:
    """Echo the text back."""
    return text


@server.tool()
async def echo_after_await(text: str) -> str:
    """Echo the text back after one suspension (a tool that awaits anything)."""
    await asyncio.sleep(0)
    return text


@server.resource("bench://static/1k", mime_type="text/plain")
async def static_1k() -> str:
    return "x" * 1024


def app() -> Starlette:
    """The Streamable HTTP app with the SDK's defaults (uvicorn factory for --workers)."""
    return server.streamable_http_app()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--stdio", action="store_true")
    parser.add_argument("--http")
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    if args.http:
        import uvicorn

        host, _, port = args.http.rpartition(":")
        if args.workers > 1:
            uvicorn.run(
                "perf.peers.official_sdk:app",
                factory=True,
                host=host,
                port=int(port),
                workers=args.workers,
                log_level="warning",
                app_dir=str(Path(__file__).resolve().parents[2]),  # the repo root: `perf` is importable
            )
        else:
            uvicorn.run(app(), host=host, port=int(port), log_level="warning")
    else:
        server.run("stdio")


if __name__ == "__main__":
    main()
