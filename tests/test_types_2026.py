"""The generated 2026-07-28 types: they are what tools/gen_types.py makes of the spec's schema, and every answer
our server gives on the modern wire decodes into them strictly (required fields such as resultType, ttlMs and
cacheScope present, with the right types)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import msgspec
import pytest

from runtime import Client
from runtime.protocol import types_2026_07_28 as t26
from runtime.protocol.modern import META_CAPABILITIES
from tests.conftest import ROOT, RunningServer
from tests.test_modern_http import META, call, post

SPEC = ROOT.parent / "shared" / "spec"


@pytest.mark.parametrize(
    ("revision", "module"), [("2025-11-25", "types"), ("2026-07-28", "types_2026_07_28")]
)
def test_the_generated_types_match_the_schema(revision: str, module: str, tmp_path: Path) -> None:
    if not (SPEC / revision / "schema.json").exists():
        pytest.skip("the spec folder is not beside this checkout")
    out = tmp_path / f"{module}.py"
    command = [sys.executable, "tools/gen_types.py", "--revision", revision, "--out", str(out)]
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
    assert out.read_text() == (ROOT / "runtime" / "protocol" / f"{module}.py").read_text()


@pytest.fixture(scope="module")
def server() -> Any:
    running = RunningServer()
    yield running
    running.stop()


async def elicit(params: dict[str, Any]) -> dict[str, Any]:
    return {"action": "accept", "content": {"name": "Ada"}}


async def test_modern_answers_decode_into_the_2026_types(server: RunningServer) -> None:
    async with Client(server.url, protocol_version="2026-07-28", elicitation_handler=elicit) as client:
        discovered = await client.request("server/discover", result_type=t26.DiscoverResult)
        assert "2026-07-28" in discovered.supported_versions
        assert discovered.meta is not None and discovered.meta.server_info is not None
        listed = await client.request("tools/list", result_type=t26.ListToolsResult)
        assert listed.result_type == "complete" and listed.ttl_ms is not None and listed.cache_scope
        called = await client.request(
            "tools/call", {"name": "test_simple_text", "arguments": {}}, result_type=t26.CallToolResult
        )
        assert called.result_type == "complete" and called.content
        await client.request("resources/list", result_type=t26.ListResourcesResult)
        await client.request("resources/templates/list", result_type=t26.ListResourceTemplatesResult)
        await client.request(
            "resources/read", {"uri": "test://static-text"}, result_type=t26.ReadResourceResult
        )
        await client.request("prompts/list", result_type=t26.ListPromptsResult)
        await client.request("prompts/get", {"name": "test_simple_prompt"}, result_type=t26.GetPromptResult)


def test_raw_modern_messages_decode_into_the_2026_types(server: RunningServer) -> None:
    """What the Client hides: the first round of an input-required tool and the modern errors."""
    first = call(server.port, "test_input_required_result_elicitation").json
    needs = msgspec.convert(first["result"], t26.InputRequiredResult)
    assert needs.result_type == "input_required" and needs.input_requests and needs.request_state
    params = {"name": "test_missing_capability", "arguments": {}}
    refused = post(server.port, "tools/call", params, meta={**META, META_CAPABILITIES: {}}).json
    assert msgspec.convert(refused, t26.MissingRequiredClientCapabilityError).error["code"] == -32021
    unsupported = post(server.port, "tools/list", headers={"MCP-Protocol-Version": "2099-01-01"}).json
    assert msgspec.convert(unsupported, t26.UnsupportedProtocolVersionError).error["code"] == -32022
