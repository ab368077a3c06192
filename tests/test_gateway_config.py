"""gateway.toml: what is accepted, what is refused (one line, before anything starts), ${VAR} expansion, the
back-off schedule, and the namespacing round trip."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from router.gateway import ConfigError, Reconnect, load_config, parse_config
from router.gateway.names import prefixed_name, prefixed_uri, split_name, split_uri


def test_a_full_configuration_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REMOTE_TOKEN", "s3cret")
    file = tmp_path / "gateway.toml"
    file.write_text(
        'name = "gw"\n'
        "[reconnect]\ninitial_delay = 0.25\nmax_delay = 4\nmax_attempts = 5\n"
        '[servers.local]\ncommand = ["node", "server.js"]\nenv = { A = "1" }\n'
        '[servers.remote]\nurl = "https://mcp.example.com/mcp"\n'
        'headers = { Authorization = "Bearer ${REMOTE_TOKEN}" }\ntimeout = 120\n'
    )
    config = load_config(file)
    assert config.name == "gw"
    assert config.reconnect == Reconnect(initial_delay=0.25, max_delay=4.0, max_attempts=5)
    local, remote = config.servers["local"], config.servers["remote"]
    assert local.command == ["node", "server.js"] and local.cwd == str(tmp_path) and local.env == {"A": "1"}
    assert remote.headers == {"Authorization": "Bearer s3cret"} and remote.timeout == 120


@pytest.mark.parametrize(
    ("servers", "why"),
    [
        ({}, "at least one upstream"),
        ({"Upper": {"command": ["x"]}}, "a server name is 1-32"),
        ({"a_b": {"command": ["x"]}}, "a server name is 1-32"),
        ({"a+b": {"command": ["x"]}}, "a server name is 1-32"),
        ({"x" * 33: {"command": ["x"]}}, "a server name is 1-32"),
        ({"both": {"command": ["x"], "url": "http://h/mcp"}}, "exactly one of command"),
        ({"neither": {}}, "exactly one of command"),
        ({"empty": {"command": []}}, "command is empty"),
        ({"ftp": {"url": "ftp://h/mcp"}}, "http:// or https://"),
        ({"hdr": {"command": ["x"], "headers": {"A": "b"}}}, "headers are for a url"),
        ({"env": {"url": "http://h/mcp", "env": {"A": "b"}}}, "env and cwd are for a command"),
        ({"slow": {"command": ["x"], "timeout": 0}}, "timeout must be positive"),
        ({"lvl": {"command": ["x"], "log_level": "loud"}}, "log_level must be one of"),
        ({"typo": {"command": ["x"], "comand": ["y"]}}, "unknown field"),
        ({"var": {"url": "http://h/mcp", "headers": {"A": "${MCPRT_TEST_UNSET_VARIABLE}"}}}, "is not set"),
    ],
)
def test_bad_configurations_are_refused(servers: dict[str, object], why: str) -> None:
    with pytest.raises(ConfigError, match=why):
        parse_config({"servers": servers})


@pytest.mark.parametrize(
    ("reconnect", "why"),
    [
        ({"initial_delay": 0}, "initial_delay"),
        ({"initial_delay": 5, "max_delay": 1}, "initial_delay <= max_delay"),
        ({"multiplier": 0.5}, "multiplier"),
        ({"max_attempts": -1}, "max_attempts"),
        ({"connect_timeout": 0}, "connect_timeout"),
    ],
)
def test_bad_back_off_is_refused(reconnect: dict[str, float], why: str) -> None:
    with pytest.raises(ConfigError, match=why):
        parse_config({"servers": {"a": {"command": ["x"]}}, "reconnect": reconnect})


def test_the_back_off_doubles_up_to_its_limit() -> None:
    reconnect = Reconnect(initial_delay=0.5, max_delay=3.0)
    assert [reconnect.delay(n) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]


def test_the_cli_refuses_a_bad_file_in_one_line(tmp_path: Path) -> None:
    file = tmp_path / "gateway.toml"
    file.write_text("[servers.Bad]\ncommand = ['x']\n")
    for target in (file, tmp_path / "missing.toml"):
        proc = subprocess.run(
            [sys.executable, "-m", "runtime", "gateway", str(target), "--stdio"],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert proc.returncode != 0
        assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("mcprt gateway: "), proc.stderr
    bad_toml = tmp_path / "broken.toml"
    bad_toml.write_text("[servers.a\n")
    with pytest.raises(ConfigError, match=r"broken\.toml"):
        load_config(bad_toml)


def test_names_and_uris_round_trip() -> None:
    assert prefixed_name("ev", "get-sum") == "ev_get-sum"
    assert split_name("ev_get_sum_x") == ("ev", "get_sum_x")  # the first '_' is the gateway's
    assert prefixed_name("ev", "has space") is None  # not a valid tool name
    assert prefixed_name("ev", "x" * 126) is None  # longer than 128 characters with the prefix
    assert prefixed_name("ev", "x" * 125) == "ev_" + "x" * 125
    for uri in ("demo://resource/1", "git+ssh://host/repo", "file:///a%20b", "demo://r/{id}"):
        assert split_uri(prefixed_uri("ev", uri)) == ("ev", uri)
    assert split_uri("demo://no-prefix") is None


async def test_the_example_configuration_runs() -> None:
    """examples/gateway.toml as the README shows it (the npm server left out: no network in tests)."""
    import msgspec

    from router.gateway import Gateway
    from runtime.client.client import Client
    from tests.conftest import ROOT

    config = load_config(ROOT / "examples" / "gateway.toml")
    assert set(config.servers) == {"hello", "weather", "everything"}
    servers = {
        name: msgspec.structs.replace(server, command=[sys.executable, *(server.command or [])[1:]])
        for name, server in config.servers.items()
        if name != "everything"
    }
    gateway = Gateway(msgspec.structs.replace(config, servers=servers))
    try:
        async with Client.in_memory(gateway) as client:
            names = {tool.name for tool in await client.list_tools()}
            assert {"hello_greet", "weather_forecast"} <= names
            greeting = await client.call_tool("hello_greet", {"name": "gateway"})
            assert greeting.content[0].text == "Hello, gateway!"  # type: ignore[union-attr]
            forecast = await client.call_tool("weather_forecast", {"city": "Paris"})
            assert forecast.structured_content == {"city": "Paris", "celsius": 21.5}
    finally:
        await gateway.aclose()
