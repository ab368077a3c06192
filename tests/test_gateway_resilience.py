"""The gateway when upstreams fail: a stdio upstream killed (and a call in flight with it), an HTTP upstream
stopped and started again, an upstream that never comes up (given up at reconnect.max_attempts), and
`--workers 2` (each worker its own upstream connections). Real processes throughout."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from runtime.client.client import Client
from runtime.protocol import types as t
from tests.gateway_support import (
    EverythingHttp,
    GatewayServer,
    everything_js,
    free_port,
    stdio_everything,
    toml_list,
    write_config,
)

pytestmark = pytest.mark.timeout(90)
FAST_RECONNECT = "[reconnect]\ninitial_delay = 0.1\nmax_delay = 0.4\nconnect_timeout = 5.0\n"
INTERNALS = ("Traceback", "ClientClosed", "ConnectionError", "Errno", "reference ")


def texts(result: t.CallToolResult) -> str:
    return " ".join(block.text for block in result.content if isinstance(block, t.TextContent))


def upstream_processes(gateway: GatewayServer) -> list[psutil.Process]:
    """The server-everything processes the gateway (its workers included) started."""
    children = psutil.Process(gateway.process.pid).children(recursive=True)
    return [p for p in children if any("index.js" in part for part in p.cmdline())]


async def until_answered(
    client: Client, name: str, arguments: dict[str, object], seconds: float = 15.0
) -> t.CallToolResult:
    """Call until the result is no error (the upstream is back), at most `seconds`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while True:
        result = await client.call_tool(name, arguments)
        if not result.is_error or loop.time() > deadline:
            return result
        await asyncio.sleep(0.1)


@pytest.fixture(scope="module")
def stdio_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayServer]:
    everything_js()
    config = write_config(
        tmp_path_factory.mktemp("killed") / "gateway.toml",
        {"ev": f"command = {toml_list(stdio_everything())}"},
        FAST_RECONNECT,
    )
    server = GatewayServer(config)
    yield server
    server.stop()


async def test_a_killed_stdio_upstream_gives_a_clear_error_and_is_reconnected(
    stdio_gateway: GatewayServer,
) -> None:
    async with Client(stdio_gateway.url) as client:
        assert texts(await client.call_tool("ev_echo", {"message": "before"})) == "Echo: before"
        [first] = upstream_processes(stdio_gateway)
        in_flight = asyncio.ensure_future(
            client.call_tool("ev_trigger-long-running-operation", {"duration": 5, "steps": 5})
        )
        await asyncio.sleep(0.3)
        first.send_signal(signal.SIGKILL)
        lost = await asyncio.wait_for(in_flight, 5)
        assert lost.is_error
        assert "upstream server 'ev'" in texts(lost)
        down = await client.call_tool("ev_echo", {"message": "while down"})
        if down.is_error:  # unless the reconnection was already done
            assert "upstream server 'ev' is unavailable" in texts(down)
        for result in (lost, down):
            assert not any(word in texts(result) for word in INTERNALS), texts(result)
        back = await until_answered(client, "ev_echo", {"message": "after"})
        assert texts(back) == "Echo: after"
        [second] = upstream_processes(stdio_gateway)
        assert second.pid != first.pid
    stdio_gateway.wait_for(r"upstream 'ev' disconnected")
    for _ in range(50):  # the line comes once the new connection's lists are in
        if sum("upstream 'ev' connected" in line for line in stdio_gateway.lines) == 2:
            break
        await asyncio.sleep(0.05)
    assert sum("upstream 'ev' connected" in line for line in stdio_gateway.lines) == 2, stdio_gateway.lines


async def test_a_restarted_http_upstream_is_reconnected(tmp_path: Path) -> None:
    upstream = EverythingHttp()
    config = write_config(tmp_path / "gateway.toml", {"remote": f'url = "{upstream.url}"'}, FAST_RECONNECT)
    gateway = GatewayServer(config)
    try:
        async with Client(gateway.url) as client:
            assert texts(await client.call_tool("remote_echo", {"message": "one"})) == "Echo: one"
            upstream.stop()
            down = await client.call_tool("remote_echo", {"message": "down"})
            assert down.is_error and "upstream server 'remote'" in texts(down)
            assert not any(word in texts(down) for word in INTERNALS), texts(down)
            upstream = EverythingHttp(port=upstream.port)  # a new process: its sessions are new too
            back = await until_answered(client, "remote_echo", {"message": "two"})
            assert texts(back) == "Echo: two"
    finally:
        gateway.stop()
        upstream.stop()


async def test_an_upstream_that_never_comes_up_is_given_up_at_max_attempts(tmp_path: Path) -> None:
    everything_js()
    nobody = f"http://127.0.0.1:{free_port()}/mcp"  # nothing listens there
    reconnect = "[reconnect]\ninitial_delay = 0.05\nmax_delay = 0.1\nmax_attempts = 3\n"
    config = write_config(
        tmp_path / "gateway.toml",
        {"gone": f'url = "{nobody}"', "ev": f"command = {toml_list(stdio_everything())}"},
        reconnect,
    )
    gateway = GatewayServer(config)
    try:
        async with Client(gateway.url) as client:
            names = {tool.name for tool in await client.list_tools()}  # the others are served meanwhile
            assert "ev_echo" in names and not any(name.startswith("gone_") for name in names)
            assert texts(await client.call_tool("ev_echo", {"message": "x"})) == "Echo: x"
        gateway.wait_for(r"upstream 'gone' given up after 3 failed attempts", timeout=10)
        await asyncio.sleep(0.3)  # time for a fourth attempt, if there were one
        assert sum("upstream 'gone' failed" in line for line in gateway.lines) == 3
    finally:
        gateway.stop()


async def test_each_worker_connects_to_the_upstreams_itself(tmp_path: Path) -> None:
    everything_js()
    config = write_config(tmp_path / "gateway.toml", {"ev": f"command = {toml_list(stdio_everything())}"})
    gateway = GatewayServer(config, workers=2)
    try:
        for round_ in range(6):  # new connections: the kernel spreads them over both workers
            async with Client(gateway.url) as client:
                result = await client.call_tool("ev_echo", {"message": f"w{round_}"})
                assert texts(result) == f"Echo: w{round_}"
        processes = upstream_processes(gateway)
        assert 1 <= len(processes) <= 2
        parents = {p.ppid() for p in processes}
        assert os.getpid() not in parents and gateway.process.pid not in parents  # started by the workers
    finally:
        gateway.stop()


async def test_a_forwarded_request_is_cut_at_the_servers_timeout(tmp_path: Path) -> None:
    from tests.gateway_support import SDK_ENV, sdk_upstream

    config = write_config(
        tmp_path / "gateway.toml", {"sdk": f"command = {toml_list(sdk_upstream())}\n{SDK_ENV}\ntimeout = 0.5"}
    )
    gateway = GatewayServer(config)
    try:
        async with Client(gateway.url) as client:
            assert texts(await client.call_tool("sdk_sleep", {"seconds": 0.05})) == "slept"  # within it
            late = await client.call_tool("sdk_sleep", {"seconds": 3})
            assert late.is_error
            assert "upstream server 'sdk' did not answer within 0.5 s" in texts(late)
            cancelled: object = None
            for _ in range(40):  # the upstream was told notifications/cancelled
                cancelled = (await client.call_tool("sdk_cancelled", {})).structured_content
                if cancelled == {"result": [3.0]}:
                    break
                await asyncio.sleep(0.05)
            assert cancelled == {"result": [3.0]}
    finally:
        gateway.stop()
