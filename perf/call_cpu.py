"""In-process CPU µs per tools/call through the Streamable HTTP transport (the HTTP parser, the transport,
the session and the runner; no sockets): what the server side of `perf.http_bench` spends on one call.

    .venv/bin/python -m perf.call_cpu [--calls 20000] [--repeats 7]

Cases: `echo` (await-free, runs inline) and `echo_after_await` (awaits once: runs as a task), the tools of
the HTTP benchmark's app (perf/apps/echo.py), on the 2025-11-25
session wire and on the 2026-07-28 standalone one. Prints the median and the best of the repeats.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from typing import Any

import uvloop

from perf.apps.echo import server as echo_app
from tests.unit.fake_transport import connect, http_request, parse_responses
from workers.streamable.transport import StreamableHttp

MODERN = "2026-07-28"
ACCEPT = [("Accept", "application/json, text/event-stream"), ("Content-Type", "application/json")]
META = {
    "io.modelcontextprotocol/protocolVersion": MODERN,
    "io.modelcontextprotocol/clientInfo": {"name": "bench", "version": "1"},
    "io.modelcontextprotocol/clientCapabilities": {},
}


def call_body(name: str, modern: bool) -> bytes:
    params: dict[str, Any] = {"name": name, "arguments": {"text": "hello"}}
    if modern:
        params["_meta"] = META
    return json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": params}).encode()


async def measure(endpoint: StreamableHttp, wire: str, tool: str, calls: int) -> float:
    conn, transport = connect(endpoint)
    if wire == MODERN:
        headers = [*ACCEPT, ("MCP-Protocol-Version", MODERN), ("Mcp-Method", "tools/call")]
        headers.append(("Mcp-Name", tool))
    else:
        init = {
            "jsonrpc": "2.0",
            "id": 0,
            "method": "initialize",
            "params": {
                "protocolVersion": wire,
                "capabilities": {},
                "clientInfo": {"name": "bench", "version": "1"},
            },
        }
        conn.data_received(http_request("POST", "/mcp", ACCEPT, json.dumps(init).encode()))
        (response,) = parse_responses(bytes(transport.out))
        session_id = response.headers["mcp-session-id"]
        headers = [*ACCEPT, ("MCP-Protocol-Version", wire), ("Mcp-Session-Id", session_id)]
        note = {"jsonrpc": "2.0", "method": "notifications/initialized"}
        conn.data_received(http_request("POST", "/mcp", headers, json.dumps(note).encode()))
        await asyncio.sleep(0)
    request = http_request("POST", "/mcp", headers, call_body(tool, wire == MODERN))
    out = transport.out
    awaits = tool != "echo"
    start = time.process_time()
    for _ in range(calls):
        out.clear()
        conn.data_received(request)
        if awaits:
            while not out:
                await asyncio.sleep(0)
    elapsed = time.process_time() - start
    assert b'"hello"' in out, bytes(out)
    conn.connection_lost(None)
    return elapsed / calls * 1e6


async def main_async(calls: int, repeats: int) -> None:
    endpoint = StreamableHttp(echo_app)
    for wire in ("2025-11-25", MODERN):
        for tool in ("echo", "echo_after_await"):
            await measure(endpoint, wire, tool, calls // 10)  # warm up
            samples = [await measure(endpoint, wire, tool, calls) for _ in range(repeats)]
            print(
                f"{wire} {tool:16s} median {statistics.median(samples):6.2f} µs/call  "
                f"best {min(samples):6.2f}"
            )
    endpoint.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=20000)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    uvloop.run(main_async(args.calls, args.repeats))


if __name__ == "__main__":
    main()
