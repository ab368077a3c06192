"""The raw floor: uvloop + httptools + msgspec answering a canned JSON-RPC result, with no MCP logic.
The fastest any Python server can answer here; mcprt is measured as a fraction of it.

    python perf/peers/floor.py --http 127.0.0.1:PORT | --stdio  [--work-us N]

`--work-us N` spins N µs of CPU before each answer: a stand-in for the work a real server does per
request. Beside the floor in one run (`http_bench --servers floor,floor+3,...`), it shows how much work
per request a given fraction of the floor leaves room for.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time

import httptools
import msgspec
import uvloop


class _Id(msgspec.Struct):
    id: int | str | None = None
    method: str = ""


decode = msgspec.json.Decoder(_Id).decode
encode = msgspec.json.encode
RESULT = b',"result":{"content":[{"type":"text","text":"hello"}]}}'
INIT = (
    b',"result":{"protocolVersion":"2025-11-25","capabilities":{"tools":{}},'
    b'"serverInfo":{"name":"floor","version":"1"}}}'
)


WORK_NS = 0  # --work-us, in ns


def answer(body: bytes) -> bytes | None:
    if WORK_NS:
        end = time.perf_counter_ns() + WORK_NS
        while time.perf_counter_ns() < end:
            pass
    message = decode(body)
    if message.id is None:
        return None
    return (
        b'{"jsonrpc":"2.0","id":' + encode(message.id) + (INIT if message.method == "initialize" else RESULT)
    )


class Http(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        self.parser = httptools.HttpRequestParser(self)
        self.body = b""

    def data_received(self, data: bytes) -> None:
        self.parser.feed_data(data)

    def on_body(self, body: bytes) -> None:
        self.body += body

    def on_message_complete(self) -> None:
        data = answer(self.body) if self.body else b"ok"
        self.body = b""
        if data is None:
            self.transport.write(b"HTTP/1.1 202 Accepted\r\ncontent-length: 0\r\n\r\n")  # type: ignore[attr-defined]
            return
        self.transport.write(  # type: ignore[attr-defined]
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nmcp-session-id: floor\r\n"
            b"content-length: %d\r\n\r\n%s" % (len(data), data)
        )


async def serve_http(host: str, port: int) -> None:
    server = await asyncio.get_running_loop().create_server(Http, host, port, reuse_port=True)
    print(f"floor: serving at http://{host}:{port}/mcp", file=sys.stderr, flush=True)
    await server.serve_forever()


def serve_stdio() -> None:
    out = sys.stdout.buffer
    for line in sys.stdin.buffer:
        data = answer(line)
        if data is not None:
            out.write(data + b"\n")
            out.flush()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--stdio", action="store_true")
    parser.add_argument("--http")
    parser.add_argument("--work-us", type=float, default=0.0, help="CPU µs spent before each answer")
    args = parser.parse_args()
    global WORK_NS
    WORK_NS = int(args.work_us * 1000)
    if args.http:
        host, _, port = args.http.rpartition(":")
        uvloop.run(serve_http(host, int(port)))
    else:
        serve_stdio()


if __name__ == "__main__":
    main()
