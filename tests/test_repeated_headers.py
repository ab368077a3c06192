"""A request that repeats a field that must appear once (Host, Origin, Content-Length, Content-Type,
Mcp-Session-Id, MCP-Protocol-Version, Last-Event-ID) is refused with 400 and a JSON-RPC error body, whatever
the case of the names, wherever the head falls in the chunks read, pipelined or not; a repeated list field
(Accept) is joined, as RFC 9110 5.3 says. Over raw sockets."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator

import pytest

from tests.cluster_support import start_session
from tests.conftest import RunningServer

pytestmark = pytest.mark.timeout(60)
BODY = b'{"jsonrpc":"2.0","id":1,"method":"ping"}'


@pytest.fixture(scope="module")
def server() -> Iterator[RunningServer]:
    running = RunningServer()
    yield running
    running.stop()


def _head(server: RunningServer, *extra: str, session: dict[str, str] | None = None) -> bytes:
    lines = [
        "POST /mcp HTTP/1.1",
        *extra,
        "Accept: application/json, text/event-stream",
        "Content-Type: application/json",
        f"Content-Length: {len(BODY)}",
        *[f"{k}: {v}" for k, v in (session or {}).items()],
    ]
    if not any(line.lower().startswith("host:") for line in extra):
        lines.insert(1, f"Host: 127.0.0.1:{server.port}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _exchange(server: RunningServer, *parts: bytes, responses: int = 1) -> list[tuple[int, bytes]]:
    """Send `parts` (each its own write, a pause between), read `responses` responses (or until close)."""
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    try:
        for n, part in enumerate(parts):
            if n:
                time.sleep(0.1)  # its own chunk on the server side
            sock.sendall(part)
        data = b""
        found: list[tuple[int, bytes]] = []
        while len(found) < responses:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
            while b"\r\n\r\n" in data:
                head, rest = data.split(b"\r\n\r\n", 1)
                length = next(
                    int(line.split(b":", 1)[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length")
                )
                if len(rest) < length:
                    break
                found.append((int(head.split(b" ")[1]), rest[:length]))
                data = rest[length:]
        return found
    finally:
        sock.close()


def _refused(answer: tuple[int, bytes], field: str) -> None:
    status, body = answer
    assert status == 400, answer
    error = json.loads(body)
    assert error["jsonrpc"] == "2.0" and error["id"] is None and error["error"]["code"] == -32600
    assert field in error["error"]["message"] or "malformed" in error["error"]["message"]


@pytest.mark.parametrize(
    ("field", "lines"),
    [
        ("host", ["Host: 127.0.0.1", "Host: 127.0.0.1"]),
        ("host", ["Host: 127.0.0.1", "host: evil.example"]),
        ("host", ["HOST: evil.example", "Host: 127.0.0.1"]),
        ("origin", ["Origin: http://127.0.0.1", "Origin: http://evil.example"]),
        ("mcp-protocol-version", ["MCP-Protocol-Version: 2025-11-25", "MCP-Protocol-Version: 2025-06-18"]),
        ("content-type", ["Content-Type: application/json"]),  # and the one _head adds
    ],
)
def test_repeated_single_fields_are_refused(server: RunningServer, field: str, lines: list[str]) -> None:
    [answer] = _exchange(server, _head(server, *lines) + BODY)
    _refused(answer, field)


def test_repeated_session_id_and_content_length(server: RunningServer) -> None:
    session = start_session(server.port)
    sid = session["Mcp-Session-Id"]
    [answer] = _exchange(server, _head(server, f"Mcp-Session-Id: {sid}", session=session) + BODY)
    _refused(answer, "mcp-session-id")
    # llhttp refuses a second Content-Length itself, equal or not: 400 with a JSON-RPC body too.
    for extra in (f"Content-Length: {len(BODY)}", "Content-Length: 1"):
        [answer] = _exchange(server, _head(server, extra, session=session) + BODY)
        _refused(answer, "content-length")
    [answer] = _exchange(server, _head(server, session=session) + BODY)  # the session is still fine
    assert answer[0] == 200 and json.loads(answer[1])["result"] == {}


def test_refused_in_every_position(server: RunningServer) -> None:
    session = start_session(server.port)
    good = _head(server, session=session) + BODY
    bad = _head(server, "Origin: http://127.0.0.1", "Origin: http://127.0.0.1", session=session) + BODY
    # pipelined behind a good request in one write: the good one is answered, then the repeat refused
    first, second = _exchange(server, good + bad, responses=2)
    assert first[0] == 200 and json.loads(first[1])["result"] == {}
    _refused(second, "origin")
    # a head that spans two reads (cut in the middle of the repeated field)
    cut = bad.index(b"Origin: http://127.0.0.1\r\nOrigin") + 30
    [answer] = _exchange(server, bad[:cut], bad[cut:])
    _refused(answer, "origin")
    # behind a chunked request in the same write
    chunked = _head(server, session=session).replace(
        f"Content-Length: {len(BODY)}".encode(), b"Transfer-Encoding: chunked"
    )
    chunked += b"%x\r\n%s\r\n0\r\n\r\n" % (len(BODY), BODY)
    first, second = _exchange(server, chunked + bad, responses=2)
    assert first[0] == 200
    _refused(second, "origin")


def test_repeated_list_fields_are_joined(server: RunningServer) -> None:
    session = start_session(server.port)
    head = _head(server, session=session).replace(
        b"Accept: application/json, text/event-stream",
        b"Accept: application/json\r\naccept: text/event-stream\r\nAccept: */*;q=0",
    )
    [answer] = _exchange(server, head + BODY)
    assert answer[0] == 200 and json.loads(answer[1])["result"] == {}
    # One Accept line alone would be 406: the second line's value counts.
    head = _head(server, session=session).replace(
        b"Accept: application/json, text/event-stream",
        b"Accept: application/json\r\nAccept: text/event-stream",
    )
    [answer] = _exchange(server, head + BODY)
    assert answer[0] == 200
