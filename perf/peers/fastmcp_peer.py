"""FastMCP serving the benchmark tool with its defaults.

python perf/peers/fastmcp_peer.py --stdio | --http 127.0.0.1:PORT
"""

from __future__ import annotations

import argparse
import asyncio

from fastmcp import FastMCP

server = FastMCP("bench-echo")


@server.tool
async def echo(text: str) -> str:
    """Echo the text back."""
    return text


@server.tool
async def echo_after_await(text: str) -> str:
    """Echo the text back after one suspension (a tool that awaits anything)."""
    await asyncio.sleep(0)
    return text


@server.resource("bench://static/1k", mime_type="text/plain")
async def static_1k() -> str:
    return "x" * 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--stdio", action="store_true")
    parser.add_argument("--http")
    args = parser.parse_args()
    if args.http:
        import uvicorn

        host, _, port = args.http.rpartition(":")
        uvicorn.run(server.http_app(), host=host, port=int(port), log_level="warning")
    else:
        server.run("stdio", show_banner=False)


if __name__ == "__main__":
    main()
