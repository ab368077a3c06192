"""A server's `request_timeout` answers -32001 for a handler that outlives it, and an `McpError` raised by a
tool is a JSON-RPC error on every path: inline (await-free) and awaiting, over HTTP, stdio and in memory,
with and without a request timeout (a timeout sends awaiting calls through the runner's timed path)."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator

import pytest

from runtime import Client, McpError
from tests.conftest import ROOT, RunningServer, serve_command

APP = str(ROOT / "tests" / "apps" / "timeouts.py")


@pytest.fixture(params=["http", "stdio"])
def timed_target(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    monkeypatch.setenv("TIMEOUTS_APP_REQUEST_TIMEOUT", "0.3")
    yield from _target(request.param)


@pytest.fixture(params=["http", "stdio"])
def untimed_target(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    monkeypatch.delenv("TIMEOUTS_APP_REQUEST_TIMEOUT", raising=False)
    yield from _target(request.param)


def _target(kind: str) -> Iterator[object]:
    if kind == "stdio":
        yield serve_command("--stdio", app=APP)
        return
    server = RunningServer(app=APP)
    try:
        yield server.url
    finally:
        server.stop()


async def _refusals(client: Client) -> None:
    for tool, message in (("refuse_later", "refused after a wait"), ("refuse_now", "refused at once")):
        with pytest.raises(McpError) as raised:
            await client.call_tool(tool, {})
        assert (raised.value.code, raised.value.message) == (-32042, message), tool


async def test_a_call_past_the_request_timeout_gets_32001(timed_target: object) -> None:
    async with Client(timed_target) as client:  # type: ignore[arg-type]
        with pytest.raises(McpError) as raised:
            await client.call_tool("nap", {"seconds": 5})
        assert raised.value.code == -32001
        # A call within the timeout is answered, and the session goes on.
        result = await client.call_tool("nap", {"seconds": 0.01})
        assert not result.is_error
        await _refusals(client)


async def test_a_tools_mcp_error_is_a_json_rpc_error_without_a_timeout(untimed_target: object) -> None:
    async with Client(untimed_target) as client:  # type: ignore[arg-type]
        result = await client.call_tool("nap", {"seconds": 0.5})  # no timeout: a slow call is answered
        assert not result.is_error
        await _refusals(client)


@pytest.mark.parametrize("timeout", ["0.3", None])
async def test_in_memory(timeout: str | None, monkeypatch: pytest.MonkeyPatch) -> None:
    if timeout is None:
        monkeypatch.delenv("TIMEOUTS_APP_REQUEST_TIMEOUT", raising=False)
    else:
        monkeypatch.setenv("TIMEOUTS_APP_REQUEST_TIMEOUT", timeout)
    sys.modules.pop("tests.apps.timeouts", None)
    app = importlib.import_module("tests.apps.timeouts")
    async with Client(app.server) as client:
        if timeout is not None:
            with pytest.raises(McpError) as raised:
                await client.call_tool("nap", {"seconds": 5})
            assert raised.value.code == -32001
        await _refusals(client)
    sys.modules.pop("tests.apps.timeouts", None)
