"""Deeply nested and out-of-range input over Streamable HTTP: a 4xx with a JSON-RPC error, never a 500, with
one worker process and with two (where the session record is shared as msgpack)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.conftest import RunningServer
from tests.test_http_transport import INIT, request, start_session

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module", params=[1, 2])
def server(request: pytest.FixtureRequest) -> Iterator[RunningServer]:
    running = RunningServer("--max-message-bytes", str(4 * 10**6), workers=request.param)
    yield running
    running.stop()


def initialize_with(capability: bytes) -> bytes:
    init = json.dumps({**INIT, "params": {**INIT["params"], "capabilities": {}}}).encode()
    return init.replace(
        b'"capabilities": {}', b'"capabilities": {"experimental": {"x": ' + capability + b"}}"
    )


@pytest.mark.parametrize("depth", [990, 10**4, 10**6])
def test_deep_nesting_gets_400_with_a_json_rpc_error(server: RunningServer, depth: int) -> None:
    deep = b"[" * depth + b"]" * depth
    status, _, body = request(server, "POST", raw=initialize_with(deep))
    assert status == 400
    answer = json.loads(body)
    assert answer["id"] == 0 and answer["error"]["code"] == -32600
    session = start_session(server)
    call = b'{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"echo","arguments":{"text":%s}}}'
    status, _, body = request(server, "POST", raw=call % deep, headers=session)
    assert status == 400 and json.loads(body)["id"] == 3
    status, _, body = request(server, "POST", raw=call % b'"still here"', headers=session)
    assert status == 200 and json.loads(body)["result"]["content"][0]["text"] == "still here"


def test_nesting_at_the_limit_is_served(server: RunningServer) -> None:
    # The message 1, params 2, capabilities 3, experimental 4: 196 arrays in "x" nest 200 deep.
    status, _, body = request(server, "POST", raw=initialize_with(b"[" * 196 + b"]" * 196))
    assert status == 200 and json.loads(body)["result"]["protocolVersion"] == "2025-11-25"
    status, _, _ = request(server, "POST", raw=initialize_with(b"[" * 197 + b"]" * 197))
    assert status == 400


def test_integers_beyond_64_bits_in_initialize_never_give_500(server: RunningServer) -> None:
    for value in (b"18446744073709551616", b"-9223372036854775809", b'{"n": 1' + b"0" * 30 + b"}"):
        status, headers, body = request(server, "POST", raw=initialize_with(value))
        assert status in (200, 400), body
        answer = json.loads(body)
        assert answer["jsonrpc"] == "2.0" and ("result" in answer or answer["error"]["code"] == -32600)
        if status == 200:  # one worker keeps the record in memory: the session works
            assert "mcp-session-id" in headers
