#!/usr/bin/env python3
"""The client program the conformance suite drives: `client.py <server url>`, with the scenario in
MCP_CONFORMANCE_SCENARIO. Built on runtime.Client; exits 0 when the scenario's part ran."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from runtime import Client
from runtime.client.auth import OAuth, PrivateKey

# The client ID metadata document URL the auth scenarios expect (auth/basic-cimd): never fetched by the mock.
CLIENT_METADATA_URL = "https://conformance-test.local/client-metadata.json"


def defaults_of(schema: dict[str, Any]) -> dict[str, Any]:
    """Accept an elicitation as a user who changes nothing would: every field at its default (SEP-1034)."""
    return {name: spec["default"] for name, spec in schema.get("properties", {}).items() if "default" in spec}


async def elicitation_handler(params: dict[str, Any]) -> dict[str, Any]:
    if params.get("mode") == "url":
        return {"action": "decline"}
    return {"action": "accept", "content": defaults_of(params.get("requestedSchema", {}))}


async def sampling_handler(params: Any) -> dict[str, Any]:
    return {"role": "assistant", "content": {"type": "text", "text": "conformance"}, "model": "none"}


def oauth_for(name: str, context: dict[str, Any]) -> OAuth | None:
    """The auth scenarios' client: pre-registered credentials or a client credentials key from the context
    (MCP_CONFORMANCE_CONTEXT), the suite's metadata document URL, the headless browser."""
    if not name.startswith("auth/"):
        return None
    key = None
    if context.get("private_key_pem"):
        key = PrivateKey(context["private_key_pem"], context.get("signing_algorithm", "ES256"))
    return OAuth(
        client_id=context.get("client_id"),
        client_secret=context.get("client_secret"),
        private_key=key,
        issuer=context.get("issuer"),
        client_metadata_url=CLIENT_METADATA_URL,
        client_name="mcprt-conformance-client",
        grant="client_credentials" if name.startswith("auth/client-credentials") else "authorization_code",
    )


async def scenario(url: str, name: str) -> None:
    version = os.environ.get("MCP_CONFORMANCE_PROTOCOL_VERSION", "2025-11-25")
    context = json.loads(os.environ.get("MCP_CONFORMANCE_CONTEXT", "{}"))
    async with Client(
        url,
        name="mcprt-conformance-client",
        protocol_version=version,
        elicitation_handler=elicitation_handler,
        sampling_handler=sampling_handler,
        roots=[],
        timeout=20,
        auth=oauth_for(name, context),
    ) as client:
        if name == "initialize":
            return
        tools = {tool.name: tool for tool in await client.list_tools()}
        if name == "json-schema-2020-12-preservation":
            focal = tools["json_schema_2020_12_tool"]
            await client.call_tool("json_schema_echo", {"schema": focal.input_schema})
            return
        if name == "tools_call" and "add_numbers" in tools:
            await client.call_tool("add_numbers", {"a": 2, "b": 3})
            return
        if context.get("toolCalls"):  # the scenario names the calls to make (http-custom-headers)
            for call in context["toolCalls"]:
                await client.call_tool(call["name"], call.get("arguments", {}))
            return
        for tool in tools.values():
            await client.call_tool(tool.name, {})
        if name == "http-standard-headers":  # every named request once: the headers are what is checked
            for resource in await client.list_resources():
                await client.read_resource(resource.uri)
            for prompt in await client.list_prompts():
                await client.get_prompt(prompt.name, {})


def main() -> int:
    if len(sys.argv) < 2:
        print("usage: client.py SERVER_URL", file=sys.stderr)
        return 2
    name = os.environ.get("MCP_CONFORMANCE_SCENARIO", "initialize")
    try:
        asyncio.run(scenario(sys.argv[-1], name))
    except Exception as exc:
        print(f"conformance client: {name}: {exc!r}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
