"""Streamable HTTP against a real `mcprt serve --http` process: status codes, sessions, SSE, limits."""

from __future__ import annotations

import http.client
import json
import socket
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import INIT, RunningServer

pytestmark = pytest.mark.timeout(60)
DYNAMIC = str(Path(__file__).parent / "apps" / "dynamic.py") + ":server"
INLINE = str(Path(__file__).parent / "apps" / "inline.py") + ":server"
ACCEPT = "application/json, text/event-stream"


def request(
    server: RunningServer,
    method: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
    raw: bytes | None = None,
) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    all_headers = {"Accept": ACCEPT, "Content-Type": "application/json", **(headers or {})}
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    conn.request(method, "/mcp", body=data, headers=all_headers)
    response = conn.getresponse()
    payload = response.read()
    result = response.status, {k.lower(): v for k, v in response.getheaders()}, payload
    conn.close()
    return result


def start_session(server: RunningServer) -> dict[str, str]:
    status, headers, _ = request(server, "POST", INIT)
    assert status == 200 and headers["content-type"] == "application/json"
    session = {"Mcp-Session-Id": headers["mcp-session-id"], "MCP-Protocol-Version": "2025-11-25"}
    assert (
        request(server, "POST", {"jsonrpc": "2.0", "method": "notifications/initialized"}, session)[0] == 202
    )
    return session


def sse_events(body: bytes) -> list[dict[str, str]]:
    events = []
    for block in body.decode().split("\n\n"):
        fields: dict[str, str] = {}
        for line in block.splitlines():
            name, _, value = line.partition(":")
            fields[name] = value.removeprefix(" ")
        if fields:
            events.append(fields)
    return events


def call(
    name: str, arguments: dict[str, Any] | None = None, request_id: int = 1, meta: Any = None
) -> dict[str, Any]:
    params: dict[str, Any] = {"name": name, "arguments": arguments or {}}
    if meta is not None:
        params["_meta"] = meta
    return {"jsonrpc": "2.0", "id": request_id, "method": "tools/call", "params": params}


def test_session_lifecycle(http_server: RunningServer) -> None:
    session = start_session(http_server)
    assert len(session["Mcp-Session-Id"]) == 32 and all(
        c in "0123456789abcdef" for c in session["Mcp-Session-Id"]
    )
    status, headers, body = request(http_server, "POST", call("echo", {"text": "hi"}), session)
    assert status == 200 and headers["content-type"] == "application/json"
    assert json.loads(body)["result"]["content"][0]["text"] == "hi"
    assert request(http_server, "POST", call("echo", {"text": "x"}))[0] == 400  # no session id
    unknown = {**session, "Mcp-Session-Id": "0" * 32}
    assert request(http_server, "POST", call("echo", {"text": "x"}), unknown)[0] == 404
    assert request(http_server, "DELETE", None, session)[0] == 200
    assert request(http_server, "POST", call("echo", {"text": "x"}), session)[0] == 404
    assert request(http_server, "DELETE", None, session)[0] == 404


def test_bad_input_gets_spec_shaped_errors(http_server: RunningServer) -> None:
    session = start_session(http_server)
    status, _, body = request(http_server, "POST", None, session, raw=b"{not json")
    error = json.loads(body)
    assert status == 400 and error["error"]["code"] == -32700 and "id" not in error
    status, _, body = request(
        http_server, "POST", None, session, raw=b'[{"jsonrpc":"2.0","id":1,"method":"ping"}]'
    )
    assert status == 400 and json.loads(body)["error"]["code"] == -32600
    assert request(http_server, "POST", INIT, {"Accept": "application/json"})[0] == 406
    assert request(http_server, "POST", INIT, {"Content-Type": "text/plain"})[0] == 415
    bad_version = {**session, "MCP-Protocol-Version": "1999-01-01"}
    assert request(http_server, "POST", call("echo", {"text": "x"}), bad_version)[0] == 400
    assert request(http_server, "PUT", INIT)[0] == 405
    # A response or notification is accepted with 202 and no body.
    status, _, body = request(http_server, "POST", {"jsonrpc": "2.0", "id": 99, "result": {}}, session)
    assert status == 202 and body == b""


def test_media_types_as_rfc_9110_reads_them(http_server: RunningServer) -> None:
    """Media types compare case-insensitively, Content-Type is one media type (not a prefix), q=0 refuses;
    the same after the common header spellings are cached."""
    session = start_session(http_server)
    echo = call("echo", {"text": "x"})
    assert request(http_server, "POST", echo, session)[0] == 200
    for content_type, accept in [
        ("Application/JSON", ACCEPT),
        ("application/json", "Application/JSON, Text/Event-Stream"),
        ("APPLICATION/JSON; Charset=UTF-8", "text/event-stream;q=0.5, application/*"),
    ]:
        headers = session | {"Content-Type": content_type, "Accept": accept}
        status, _, body = request(http_server, "POST", echo, headers)
        assert status == 200 and json.loads(body)["result"]["content"][0]["text"] == "x", body
    for content_type in ["application/json-seq", "application/jsonx", "application/json garbage"]:
        status, _, body = request(http_server, "POST", echo, session | {"Content-Type": content_type})
        assert status == 415 and "Content-Type" in json.loads(body)["error"]["message"], body
    for accept in ["application/json;q=0, text/event-stream", "*/*;q=0", "application/json, text/html"]:
        status, _, body = request(http_server, "POST", echo, session | {"Accept": accept})
        assert status == 406 and "Accept" in json.loads(body)["error"]["message"], body
    bad_version = {**session, "MCP-Protocol-Version": "1999-01-01"}
    assert request(http_server, "DELETE", None, bad_version)[0] == 400
    assert request(http_server, "GET", None, bad_version | {"Accept": "text/event-stream"})[0] == 400
    assert request(http_server, "POST", echo, session)[0] == 200  # the refused DELETE left the session


def test_missing_protocol_version_header_is_accepted(http_server: RunningServer) -> None:
    session = start_session(http_server)
    del session["MCP-Protocol-Version"]
    assert request(http_server, "POST", call("echo", {"text": "x"}), session)[0] == 200


def test_dns_rebinding_protection(http_server: RunningServer) -> None:
    assert request(http_server, "POST", INIT, {"Origin": "http://evil.example"})[0] == 403
    assert request(http_server, "POST", INIT, {"Host": "evil.example"})[0] == 421
    assert request(http_server, "POST", INIT, {"Origin": "http://localhost:3000"})[0] == 200


def test_rejected_requests_allocate_no_session() -> None:
    server = RunningServer("--max-sessions", "1")
    try:
        for _ in range(20):
            assert request(server, "POST", call("echo", {"text": "x"}))[0] == 400
            assert request(server, "POST", None, raw=b"garbage")[0] == 400
        start_session(server)
        status, headers, _ = request(server, "POST", INIT)
        assert status == 503 and headers["retry-after"]
    finally:
        server.stop()


def test_idle_sessions_expire() -> None:
    server = RunningServer("--session-timeout", "0.5")
    try:
        session = start_session(server)
        time.sleep(1.0)
        assert request(server, "POST", call("echo", {"text": "x"}), session)[0] == 404
    finally:
        server.stop()


def test_body_limit() -> None:
    server = RunningServer("--max-message-bytes", "1000")
    try:
        session = start_session(server)
        big = call("echo", {"text": "x" * 2000})
        assert request(server, "POST", big, session)[0] == 413
        assert request(server, "POST", call("echo", {"text": "small"}), session)[0] == 200
    finally:
        server.stop()


def test_streaming_answer_with_priming_event_and_progress(http_server: RunningServer) -> None:
    session = start_session(http_server)
    status, headers, body = request(
        http_server, "POST", call("test_tool_with_progress", meta={"progressToken": "p1"}), session
    )
    assert status == 200 and headers["content-type"] == "text/event-stream"
    events = sse_events(body)
    assert events[0]["data"] == "" and events[0]["id"] and events[0]["retry"]
    messages = [json.loads(e["data"]) for e in events[1:]]
    assert [m["params"]["progress"] for m in messages[:-1]] == [0, 50, 100]
    assert messages[-1]["id"] == 1 and "result" in messages[-1]
    ids = [e["id"] for e in events]
    assert len(set(ids)) == len(ids)


def test_resumption_with_last_event_id(http_server: RunningServer) -> None:
    session = start_session(http_server)
    status, _, body = request(http_server, "POST", call("test_reconnection", request_id=7), session)
    events = sse_events(body)
    assert status == 200 and len(events) >= 1 and events[0]["data"] == ""  # closed before the result
    assert not any(e.get("data") for e in events)
    time.sleep(0.4)
    status, _, body = request(
        http_server, "GET", None, {**session, "Accept": "text/event-stream", "Last-Event-ID": events[0]["id"]}
    )
    replayed = [json.loads(e["data"]) for e in sse_events(body) if e.get("data")]
    assert status == 200 and replayed[-1]["id"] == 7
    assert replayed[-1]["result"]["content"][0]["text"] == "Reconnection test completed successfully"
    unknown = {**session, "Accept": "text/event-stream", "Last-Event-ID": "nope.1"}
    assert request(http_server, "GET", None, unknown)[0] == 404


def test_standalone_get_stream_carries_list_changed() -> None:
    server = RunningServer(app=DYNAMIC)
    try:
        session = start_session(server)
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        sock.sendall(
            b"GET /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n"
            + f"Mcp-Session-Id: {session['Mcp-Session-Id']}\r\n\r\n".encode()
        )
        head = sock.recv(4096)
        assert head.startswith(b"HTTP/1.1 200") and b"text/event-stream" in head
        conflict = request(server, "GET", None, {**session, "Accept": "text/event-stream"})
        assert conflict[0] == 409
        assert request(server, "GET", None, session | {"Accept": "application/json"})[0] == 406
        request(server, "POST", call("register", {"name": "fresh"}), session)
        received = b""
        deadline = time.monotonic() + 5
        while b"notifications/tools/list_changed" not in received and time.monotonic() < deadline:
            received += sock.recv(4096)
        assert b"notifications/tools/list_changed" in received
        sock.close()
    finally:
        server.stop()


def test_stateless_mode() -> None:
    server = RunningServer("--stateless")
    try:
        status, headers, body = request(server, "POST", call("echo", {"text": "no session"}))
        assert status == 200 and "mcp-session-id" not in headers
        assert json.loads(body)["result"]["content"][0]["text"] == "no session"
        assert request(server, "GET", None, {"Accept": "text/event-stream"})[0] == 405
    finally:
        server.stop()


def raw_exchange(port: int, data: bytes, expect_responses: int, timeout: float = 5.0) -> bytes:
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    sock.sendall(data)
    received = b""
    deadline = time.monotonic() + timeout
    while received.count(b"HTTP/1.1 ") < expect_responses and time.monotonic() < deadline:
        chunk = sock.recv(65536)
        if not chunk:
            break
        received += chunk
    sock.close()
    return received


def test_http_pipelining_keep_alive_and_chunked_bodies(http_server: RunningServer) -> None:
    session = start_session(http_server)
    headers = (
        f"Host: 127.0.0.1\r\nAccept: {ACCEPT}\r\nContent-Type: application/json\r\n"
        f"Mcp-Session-Id: {session['Mcp-Session-Id']}\r\n"
    )

    def post(body: bytes) -> bytes:
        return f"POST /mcp HTTP/1.1\r\n{headers}Content-Length: {len(body)}\r\n\r\n".encode() + body

    slow = json.dumps(call("slow", {"seconds": 0.3}, request_id=1)).encode()
    fast = json.dumps(call("echo", {"text": "second"}, request_id=2)).encode()
    answer = raw_exchange(http_server.port, post(slow) + post(fast), 2)
    assert answer.index(b'"id":1') < answer.index(b'"id":2')  # responses in request order

    body = json.dumps(call("echo", {"text": "chunked"}, request_id=3)).encode()
    chunked = (
        f"POST /mcp HTTP/1.1\r\n{headers}Transfer-Encoding: chunked\r\n\r\n".encode()
        + b"%x\r\n%s\r\n" % (10, body[:10])
        + b"%x\r\n%s\r\n" % (len(body) - 10, body[10:])
        + b"0\r\n\r\n"
    )
    assert b"chunked" in raw_exchange(http_server.port, chunked, 1)


def test_http_limits_and_malformed_requests() -> None:
    server = RunningServer(
        "--max-header-bytes", "2048", "--header-timeout", "0.5", "--keep-alive-timeout", "0.5"
    )
    try:
        huge = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 4096 + b"\r\n\r\n"
        assert raw_exchange(server.port, huge, 1).startswith(b"HTTP/1.1 431")
        assert raw_exchange(server.port, b"NONSENSE\r\n\r\n", 1).startswith(b"HTTP/1.1 400")
        # A header block trickled in small pieces is refused once it passes the limit, not buffered forever.
        trickle = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        trickle.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        answer = b""
        for n in range(40):
            try:
                trickle.sendall(b"X-Pad-%d: %s\r\n" % (n, b"p" * 100))
            except OSError:
                break
            time.sleep(0.005)
        answer = trickle.recv(4096)
        trickle.close()
        assert answer.startswith(b"HTTP/1.1 431")
        # A declared body over the limit is refused from its headers, before the body is sent.
        declared = b"POST /mcp HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999\r\n\r\n"
        assert raw_exchange(server.port, declared, 1).startswith(b"HTTP/1.1 413")
        started = time.monotonic()
        partial = raw_exchange(server.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n", 1)
        assert partial.startswith(b"HTTP/1.1 408") and time.monotonic() - started < 3
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert sock.recv(4096).startswith(b"HTTP/1.1 200")
        time.sleep(1.0)
        assert sock.recv(4096) == b""  # closed by the keep-alive timeout
        sock.close()
        head = raw_exchange(server.port, b"HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 1)
        assert head.startswith(b"HTTP/1.1 200") and head.endswith(b"\r\n\r\n")
    finally:
        server.stop()


def recv_until(sock: socket.socket, marker: bytes) -> bytes:
    answer = b""
    while marker not in answer:
        chunk = sock.recv(65536)
        assert chunk, answer
        answer += chunk
    return answer


def test_expect_continue_split_requests_and_header_spellings(http_server: RunningServer) -> None:
    session = start_session(http_server)
    body = json.dumps(call("echo", {"text": "after-continue"}, request_id=7)).encode()
    # Any spelling of the header names; the request split into many small pieces.
    head = (
        f"POST /mcp HTTP/1.1\r\nhOST: 127.0.0.1\r\naccept: {ACCEPT}\r\nCONTENT-TYPE: application/json\r\n"
        f"mcp-SESSION-id: {session['Mcp-Session-Id']}\r\nExpect: 100-continue\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    sock = socket.create_connection(("127.0.0.1", http_server.port), timeout=5)
    try:
        for start in range(0, len(head), 7):
            sock.sendall(head[start : start + 7])
            time.sleep(0.001)
        assert sock.recv(4096).startswith(b"HTTP/1.1 100 Continue\r\n\r\n")  # the client may send the body
        sock.sendall(body[:5])
        time.sleep(0.05)
        sock.sendall(body[5:])
        assert recv_until(sock, b"after-continue").startswith(b"HTTP/1.1 200")
        # The same connection serves the next request, sent whole.
        again = json.dumps(call("echo", {"text": "whole"}, request_id=8)).encode()
        sock.sendall(
            head.replace(b"Expect: 100-continue\r\n", b"").replace(
                f"Content-Length: {len(body)}".encode(), f"Content-Length: {len(again)}".encode()
            )
            + again
        )
        assert b'"id":8' in recv_until(sock, b"whole")
    finally:
        sock.close()


def test_chunked_body_over_the_limit_in_one_piece() -> None:
    server = RunningServer("--max-message-bytes", "1000")
    try:
        session = start_session(server)
        body = json.dumps(call("echo", {"text": "x" * 2000})).encode()
        chunked = (
            f"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: {ACCEPT}\r\nContent-Type: application/json\r\n"
            f"Mcp-Session-Id: {session['Mcp-Session-Id']}\r\nTransfer-Encoding: chunked\r\n\r\n"
        ).encode() + b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
        assert raw_exchange(server.port, chunked, 1).startswith(b"HTTP/1.1 413")
        # The server is fine afterwards.
        assert request(server, "POST", call("echo", {"text": "small"}), session)[0] == 200
    finally:
        server.stop()


def test_inline_answers_match_the_normal_path() -> None:
    """Over HTTP, calls of await-free tools are answered without the session machinery; they must answer
    exactly as stdio (which always takes the normal path) does."""
    import subprocess

    from tests.conftest import serve_command

    calls = [
        ("add", {"a": 2, "b": 3}),
        ("add", {"a": "x", "b": 3}),  # invalid arguments
        ("add", {"a": 1}),  # a missing argument
        ("fails", {}),
        ("refuses", {}),
        ("raw_bytes", {}),
        ("missing_tool", {}),
        ("awaits", {"text": "t"}),
    ]
    messages = [call(name, arguments, request_id=n + 1) for n, (name, arguments) in enumerate(calls)]
    messages.append(
        {
            "jsonrpc": "2.0",
            "id": "s",
            "method": "tools/call",
            "params": {"name": "add", "arguments": {"a": 1, "b": 1}},
        }
    )
    lines = [INIT, {"jsonrpc": "2.0", "method": "notifications/initialized"}, *messages]
    stdio = subprocess.run(
        serve_command("--stdio", app=INLINE),
        input="".join(json.dumps(m) + "\n" for m in lines).encode(),
        capture_output=True,
        timeout=30,
        check=True,
    )
    by_stdio = {a["id"]: a for a in map(json.loads, stdio.stdout.splitlines()) if a.get("id") != 0}
    server = RunningServer(app=INLINE)
    try:
        session = start_session(server)
        for message in messages:
            status, _, body = request(server, "POST", message, session)
            assert status == 200
            assert json.loads(body) == by_stdio[message["id"]], message
    finally:
        server.stop()


def test_large_answers_arrive_whole(http_server: RunningServer) -> None:
    session = start_session(http_server)
    text = "x" * 200_000 + "end"  # over the size written with a vectored write
    status, headers, body = request(http_server, "POST", call("echo", {"text": text}), session)
    assert status == 200 and int(headers["content-length"]) == len(body)
    assert json.loads(body)["result"]["content"][0]["text"] == text


def test_awaiting_tool_calls_can_be_cancelled() -> None:
    import threading

    server = RunningServer(app=INLINE)
    try:
        session = start_session(server)
        answers: list[tuple[int, bytes]] = []

        def slow_call() -> None:
            status, _, body = request(
                server, "POST", call("sleeper", {"seconds": 30}, request_id=41), session
            )
            answers.append((status, body))

        caller = threading.Thread(target=slow_call)
        started = time.monotonic()
        caller.start()
        time.sleep(0.3)
        cancel = {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 41}}
        assert request(server, "POST", cancel, session)[0] == 202
        caller.join(10)
        assert answers == [(202, b"")] and time.monotonic() - started < 10  # no response to a cancelled call
        # The id is free again, and a short sleep answers.
        status, _, body = request(server, "POST", call("sleeper", {"seconds": 0.01}, request_id=41), session)
        assert status == 200 and json.loads(body)["result"]["content"][0]["text"] == "woke"
    finally:
        server.stop()
