"""The sans-io session core, fed bytes directly: lifecycle, negotiation, malformed input, error codes."""

from __future__ import annotations

import json
from typing import Any

import pytest

from runtime import Server
from runtime.protocol.core import Call, Cancel, Notice, Reply, ServerSession
from runtime.protocol.state import OPERATING, dump_state, load_state
from tests.conftest import INIT


def make_server() -> Server:
    server = Server("core-test", "1.0")

    @server.tool()
    def echo(text: str) -> str:
        return text

    return server


def send(session: ServerSession, message: Any) -> Any:
    data = message if isinstance(message, bytes) else json.dumps(message).encode()
    return session.receive(data)


def reply(action: Any) -> dict[str, Any]:
    assert isinstance(action, Reply), action
    return json.loads(action.data)


@pytest.fixture
def session() -> ServerSession:
    s = ServerSession(make_server().profile)
    reply(send(s, INIT))
    send(s, {"jsonrpc": "2.0", "method": "notifications/initialized"})
    assert s.state.phase == OPERATING
    return s


def test_initialize_result_and_version_negotiation() -> None:
    s = ServerSession(make_server().profile)
    answer = reply(send(s, INIT))
    assert answer["id"] == 0
    result = answer["result"]
    assert result["protocolVersion"] == "2025-11-25"
    assert result["serverInfo"] == {"name": "core-test", "version": "1.0"}
    assert "tools" in result["capabilities"] and "completions" not in result["capabilities"]

    old = ServerSession(make_server().profile)
    params = {**INIT["params"], "protocolVersion": "2024-11-05"}
    assert reply(send(old, {**INIT, "params": params}))["result"]["protocolVersion"] == "2024-11-05"
    unknown = ServerSession(make_server().profile)
    params = {**INIT["params"], "protocolVersion": "3000-01-01"}
    assert reply(send(unknown, {**INIT, "params": params}))["result"]["protocolVersion"] == "2025-11-25"


def test_requests_before_initialize_are_refused_but_ping_works() -> None:
    s = ServerSession(make_server().profile)
    error = reply(send(s, {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}))
    assert error["error"]["code"] == -32600 and "before initialize" in error["error"]["message"]
    assert isinstance(send(s, {"jsonrpc": "2.0", "id": 2, "method": "ping"}), Call)


def test_second_initialize_is_refused(session: ServerSession) -> None:
    assert reply(send(session, {**INIT, "id": 9}))["error"]["code"] == -32600


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"{not json", -32700),
        (b"\xff\xfe", -32700),
        (b"[]", -32600),
        (b'[{"jsonrpc":"2.0","id":1,"method":"ping"}]', -32600),
        (b'"just a string"', -32600),
        (b'{"jsonrpc":"1.0","id":1,"method":"ping"}', -32600),
        (b'{"id":1,"method":"ping"}', -32600),
        (b'{"jsonrpc":"2.0","id":null,"method":"ping"}', -32600),
        (b'{"jsonrpc":"2.0","id":1.5,"method":"ping"}', -32600),
        (b'{"jsonrpc":"2.0","id":true,"method":"ping"}', -32600),
        (b'{"jsonrpc":"2.0","id":{"a":1},"method":"ping"}', -32600),
        (b'{"jsonrpc":"2.0","id":1,"method":5}', -32600),
    ],
)
def test_malformed_messages(session: ServerSession, data: bytes, code: int) -> None:
    error = reply(session.receive(data))
    assert error["error"]["code"] == code
    assert "id" not in error or error["id"] is not None


def test_unknown_method_and_invalid_params(session: ServerSession) -> None:
    assert reply(send(session, {"jsonrpc": "2.0", "id": 3, "method": "no/such"}))["error"]["code"] == -32601
    # A server-side method sent to the server is not a client request.
    sampling = {"jsonrpc": "2.0", "id": 4, "method": "sampling/createMessage", "params": {}}
    assert reply(send(session, sampling))["error"]["code"] == -32601
    wrong = {"jsonrpc": "2.0", "id": 5, "method": "tools/call", "params": {"name": 7}}
    error = reply(send(session, wrong))["error"]
    assert error["code"] == -32602 and "name" in error["message"]
    not_object = {"jsonrpc": "2.0", "id": 6, "method": "tools/call", "params": [1]}
    assert reply(send(session, not_object))["error"]["code"] == -32602
    # Unknown or invalid notifications are ignored, never answered.
    assert send(session, {"jsonrpc": "2.0", "method": "notifications/whatever"}) is None


def test_capability_not_declared_is_method_not_found(session: ServerSession) -> None:
    ask = {
        "jsonrpc": "2.0",
        "id": 7,
        "method": "completion/complete",
        "params": {"ref": {"type": "ref/prompt", "name": "x"}, "argument": {"name": "a", "value": ""}},
    }
    assert reply(send(session, ask))["error"]["code"] == -32601
    prompts = {"jsonrpc": "2.0", "id": 8, "method": "prompts/list"}
    assert reply(send(session, prompts))["error"]["code"] == -32601


@pytest.mark.parametrize("request_id", [0, -1, 2**63 + 12345, 10**40, "", "abc", "ü-\u0000-x"])
def test_ids_are_echoed_exactly(session: ServerSession, request_id: Any) -> None:
    action = send(session, {"jsonrpc": "2.0", "id": request_id, "method": "ping"})
    assert isinstance(action, Call)
    data = session.result(action, b"{}")
    assert json.loads(data) == {"jsonrpc": "2.0", "id": request_id, "result": {}}


def test_duplicate_in_flight_id_is_refused_and_cancel_finds_it(session: ServerSession) -> None:
    call = send(session, {"jsonrpc": "2.0", "id": "x", "method": "tools/call", "params": {"name": "echo"}})
    assert isinstance(call, Call)
    session.inflight[call.id] = object()
    again = reply(send(session, {"jsonrpc": "2.0", "id": "x", "method": "ping"}))
    assert again["error"]["code"] == -32600 and "in flight" in again["error"]["message"]
    cancel = send(
        session, {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": "x"}}
    )
    assert isinstance(cancel, Cancel) and cancel.request_id == "x"
    unknown = {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": "nope"}}
    ignored = send(session, unknown)  # not running here: nothing to cancel in this process
    assert isinstance(ignored, Cancel) and ignored.handle is None
    session.result(call, b"{}")
    assert "x" not in session.inflight


def test_roots_changed_is_a_notice(session: ServerSession) -> None:
    notice = send(session, {"jsonrpc": "2.0", "method": "notifications/roots/list_changed"})
    assert isinstance(notice, Notice) and notice.method == "notifications/roots/list_changed"


def test_state_round_trips(session: ServerSession) -> None:
    session.state.subscriptions.append("test://x")
    restored = load_state(dump_state(session.state))
    assert restored == session.state
    again = ServerSession(session.profile, restored)
    assert isinstance(send(again, {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}), Call)


def test_responses_are_answers(session: ServerSession) -> None:
    from runtime.protocol.core import Answer

    answer = send(session, {"jsonrpc": "2.0", "id": 5, "result": {"roots": []}})
    assert isinstance(answer, Answer) and answer.result == {"roots": []}
    error = send(session, {"jsonrpc": "2.0", "id": 6, "error": {"code": -1, "message": "no"}})
    assert isinstance(error, Answer) and error.error["code"] == -1
