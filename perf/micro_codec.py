"""pyperf micro-benchmarks of the JSON-RPC codec: mcprt (msgspec, typed) against the official SDK (pydantic),
same messages, same process.

    .venv/bin/python -m perf.micro_codec --fast [-o perf/results/micro.json]

- decode: a tools/call request from bytes to typed objects (mcprt: one msgspec decode into the tagged union
  of client messages; SDK: jsonrpc_message_adapter + client_request_adapter, as its server does);
- session: mcprt's whole sans-io receive (decode, lifecycle and capability checks, routing);
- encode: a CallToolResult with one text block to the bytes of a JSON-RPC response.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # pyperf workers run this file by path

import msgspec
import pyperf
from mcp import types as sdk

from runtime.protocol import jsonrpc as rpc
from runtime.protocol import types as t
from runtime.protocol.core import ServerSession
from runtime.protocol.state import OPERATING, SessionState

CALL = b'{"jsonrpc":"2.0","id":42,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"}}}'
decoder = msgspec.json.Decoder(t.ClientMessage)


def mcprt_decode() -> None:
    decoder.decode(CALL)


def sdk_decode() -> None:
    message = sdk.jsonrpc_message_adapter.validate_json(CALL)
    sdk.client_request_adapter.validate_python(message.model_dump(by_alias=True, exclude_none=True))


def mcprt_encode() -> None:
    rpc.result_message(b"42", rpc.encode(t.CallToolResult(content=[t.TextContent(text="hello")])))


def sdk_encode() -> None:
    result = sdk.CallToolResult(content=[sdk.TextContent(type="text", text="hello")])
    body = result.model_dump(by_alias=True, exclude_none=True)
    response = sdk.JSONRPCResponse(jsonrpc="2.0", id=42, result=body)
    response.model_dump_json(by_alias=True, exclude_none=True)


def main() -> None:
    from perf.apps.echo import server

    session = ServerSession(server.profile, SessionState(phase=OPERATING, protocol_version="2025-11-25"))
    runner = pyperf.Runner()
    runner.bench_func("decode tools/call: mcprt", mcprt_decode)
    runner.bench_func("decode tools/call: official SDK", sdk_decode)
    runner.bench_func("session receive tools/call: mcprt", session.receive, CALL)
    runner.bench_func("encode CallToolResult response: mcprt", mcprt_encode)
    runner.bench_func("encode CallToolResult response: official SDK", sdk_encode)


if __name__ == "__main__":
    main()
