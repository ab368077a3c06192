"""MCP 2026-07-28 over stdio: a dual-era process serves modern requests before any initialize, and an
initialize picks the legacy era for the rest of the process."""

from __future__ import annotations

import json
import subprocess
from typing import Any

from tests.conftest import serve_command

META = {
    "io.modelcontextprotocol/protocolVersion": "2026-07-28",
    "io.modelcontextprotocol/clientCapabilities": {},
}


def exchange(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    lines = "".join(json.dumps(m) + "\n" for m in messages)
    done = subprocess.run(serve_command("--stdio"), input=lines, capture_output=True, text=True, timeout=60)
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]


def test_modern_requests_then_the_legacy_era() -> None:
    unsupported = {**META, "io.modelcontextprotocol/protocolVersion": "1900-01-01"}
    init = {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}
    answers = exchange(
        [
            {"jsonrpc": "2.0", "id": 1, "method": "server/discover", "params": {"_meta": META}},
            {"jsonrpc": "2.0", "id": 2, "method": "server/discover", "params": {"_meta": unsupported}},
            {"jsonrpc": "2.0", "id": 3, "method": "server/discover", "params": {}},
            {
                "jsonrpc": "2.0",
                "id": 4,
                "method": "tools/call",
                "params": {"name": "test_simple_text", "_meta": META},
            },
            {"jsonrpc": "2.0", "id": 5, "method": "initialize", "params": init},
            {"jsonrpc": "2.0", "method": "notifications/initialized"},
            {
                "jsonrpc": "2.0",
                "id": 6,
                "method": "tools/call",
                "params": {"name": "test_simple_text", "_meta": META},
            },
        ]
    )
    by_id = {answer["id"]: answer for answer in answers}
    assert "2026-07-28" in by_id[1]["result"]["supportedVersions"]
    assert by_id[2]["error"]["code"] == -32022 and by_id[2]["error"]["data"]["requested"] == "1900-01-01"
    assert by_id[3]["error"]["code"] == -32602  # a modern probe without its _meta
    assert by_id[4]["result"]["resultType"] == "complete"
    assert by_id[5]["result"]["protocolVersion"] == "2025-11-25"
    assert "resultType" not in by_id[6]["result"]  # the process speaks the legacy era now
