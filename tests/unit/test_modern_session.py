"""The modern session's result envelope and refusals, sans-io (runtime/protocol/modern.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from runtime.protocol import jsonrpc as rpc
from runtime.protocol.core import Call, Reply, Route, ServerProfile
from runtime.protocol.modern import ModernSession, error_status

INFO = {"name": "s", "version": "1"}
META = {
    "io.modelcontextprotocol/protocolVersion": "2026-07-28",
    "io.modelcontextprotocol/clientCapabilities": {},
}


def profile(list_ttl_ms: int = 0) -> ServerProfile:
    routes = {
        "tools/list": Route("tools/list", "tools", lambda ctx, params: b"{}"),
        "ping": Route("ping", None, lambda ctx, params: b"{}"),
    }
    return ServerProfile(routes, {"tools": {}}, INFO, None, list_ttl_ms=list_ttl_ms)


@pytest.mark.parametrize(
    ("method", "body", "expected"),
    [
        ("tools/call", b"{}", {}),
        ("tools/call", b'{"content":[]}', {"content": []}),
        ("tools/list", b'{"tools":[]}', {"tools": [], "ttlMs": 5000, "cacheScope": "public"}),
        ("tools/call", b'{"content":[],"_meta":{"k":1}}', {"content": [], "_meta": {"k": 1}}),
        ("tools/call", b'{"resultType":"complete","x":1}', {"x": 1}),
    ],
)
def test_results_get_type_identity_and_cache_hints(
    method: str, body: bytes, expected: dict[str, Any]
) -> None:
    result = json.loads(ModernSession(profile(5000)).envelope(method, body))
    meta = result.pop("_meta")
    assert meta["io.modelcontextprotocol/serverInfo"] == INFO
    assert {k: v for k, v in meta.items() if k != "io.modelcontextprotocol/serverInfo"} == expected.pop(
        "_meta", {}
    )
    assert result.pop("resultType") == "complete"
    assert result == expected


def classify(message: dict[str, Any]) -> tuple[ModernSession, Any]:
    session = ModernSession(profile())
    return session, session.receive(json.dumps(message).encode())


def test_a_removed_method_is_404_and_a_served_one_a_call() -> None:
    session, action = classify({"jsonrpc": "2.0", "id": 1, "method": "ping", "params": {"_meta": META}})
    assert isinstance(action, Reply) and session.status == 404
    assert json.loads(action.data)["error"]["code"] == rpc.METHOD_NOT_FOUND
    session, action = classify({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {"_meta": META}})
    assert isinstance(action, Call) and session.status == 200


def test_the_log_level_is_per_request() -> None:
    session, _ = classify({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {"_meta": META}})
    assert not session.wants_log("emergency")
    meta = {**META, "io.modelcontextprotocol/logLevel": "error"}
    session, _ = classify({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {"_meta": meta}})
    assert session.wants_log("error") and not session.wants_log("warning")


def test_parse_errors_are_400() -> None:
    session = ModernSession(profile())
    action = session.receive(b"{not json")
    assert isinstance(action, Reply) and session.status == 400


@pytest.mark.parametrize(
    ("code", "status"),
    [(-32601, 404), (-32020, 400), (-32021, 400), (-32022, 400), (-32603, 200), (-32602, 200)],
)
def test_error_statuses(code: int, status: int) -> None:
    assert error_status(rpc.error_message(1, code, "x")) == status
    assert error_status(b'{"jsonrpc":"2.0","id":1,"result":{}}') == 200


def test_an_unsupported_version_in_meta_is_32022() -> None:
    """What stdio gets (over HTTP the header is checked first): the supported versions and the one asked."""
    meta = {**META, "io.modelcontextprotocol/protocolVersion": "1900-01-01"}
    session, action = classify({"jsonrpc": "2.0", "id": 9, "method": "tools/list", "params": {"_meta": meta}})
    assert isinstance(action, Reply) and session.status == 400
    error = json.loads(action.data)["error"]
    assert error["code"] == rpc.UNSUPPORTED_PROTOCOL_VERSION and error["data"]["requested"] == "1900-01-01"
