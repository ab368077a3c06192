"""workers/httpd/protocol.py without sockets: bytes in through `data_received`, the exact bytes out through a
fake transport (tests/unit/fake_transport.py). Parsing, keep-alive, pipelining, chunked bodies, limits,
timeouts and streams; the socket tests (tests/test_http_*.py) cover the same layer end to end."""

from __future__ import annotations

import asyncio
import json
import re
import time
from typing import Any

import pytest

from runtime.protocol import jsonrpc as rpc
from tests.unit.fake_transport import (
    FakeTransport,
    chunked,
    connect,
    hang_up,
    http_request,
    one_response,
    parse_responses,
    settle,
    wait_until,
)
from workers.httpd.protocol import (
    Connections,
    HttpProtocol,
    Responder,
    ResponseStream,
    error_body,
    status_line,
)
from workers.httpd.server import serve
from workers.httpd.types import HttpLimits, HttpRequest

pytestmark = pytest.mark.timeout(10)


class Recorder:
    """A handler that answers every request with 200 and its path, and keeps the requests it saw."""

    def __init__(self) -> None:
        self.requests: list[HttpRequest] = []

    def __call__(self, request: HttpRequest, responder: Responder) -> None:
        self.requests.append(request)
        responder.respond(200, [(b"content-type", b"text/plain")], request.path.encode())


class Holder:
    """A handler that answers nothing itself: the test answers each responder when it likes."""

    def __init__(self) -> None:
        self.pending: list[tuple[HttpRequest, Responder]] = []

    def __call__(self, request: HttpRequest, responder: Responder) -> None:
        self.pending.append((request, responder))


def get(path: str = "/x", *headers: tuple[str, str], version: str = "1.1") -> bytes:
    return http_request("GET", path, list(headers), version=version)


def assert_error(raw: bytes, status: int, phrase: str, code: int = rpc.INVALID_REQUEST) -> None:
    """One response: the HTTP layer's own error, a JSON-RPC error with a null id, closing the connection."""
    response = one_response(raw)
    assert response.status == status, raw[:300]
    assert response.headers["content-type"] == "application/json"
    assert response.headers["connection"] == "close"
    message = response.json()
    assert message["jsonrpc"] == "2.0" and message["id"] is None
    assert message["error"]["code"] == code and phrase in message["error"]["message"], message


@pytest.fixture
def served() -> Any:
    """connect(...) for a test, hung up at its end."""
    made: list[HttpProtocol] = []

    def make(handler: Any, limits: HttpLimits | None = None) -> tuple[HttpProtocol, FakeTransport]:
        conn, transport = connect(handler, limits)
        made.append(conn)
        return conn, transport

    yield make
    for conn in made:
        hang_up(conn)


# -- the request line and headers ----------------------------------------------------------------------------


async def test_request_reaches_the_handler_parsed(served: Any) -> None:
    handler = Recorder()
    conn, transport = served(handler)
    assert transport.write_limits == (256 * 1024, 64 * 1024)  # flow control set from the limits
    conn.data_received(
        b"POST /a/b?x=1&y=2 HTTP/1.1\r\nHost: example\r\nX-Mixed-Case: V a l\r\nContent-Length: 3\r\n\r\nabc"
    )
    (request,) = handler.requests
    assert (request.method, request.path, request.query, request.body) == ("POST", "/a/b", "x=1&y=2", b"abc")
    assert request.headers == {"host": b"example", "x-mixed-case": b"V a l", "content-length": b"3"}
    assert request.keep_alive and request.client == ("127.0.0.1", 40000)
    assert bytes(transport.out) == (
        b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 4\r\n\r\n/a/b"
    )
    assert not transport.closed and not transport.paused


async def test_header_names_are_lower_cased_first_time_and_cached(served: Any) -> None:
    handler = Recorder()
    conn, _ = served(handler)
    spelling = ("HOST", "x"), ("ACCEPT-Language", "en")
    conn.data_received(get("/1", *spelling).replace(b"Host: 127.0.0.1\r\n", b""))
    conn.data_received(get("/2", *spelling).replace(b"Host: 127.0.0.1\r\n", b""))  # the cached name set
    assert [r.headers for r in handler.requests] == [{"host": b"x", "accept-language": b"en"}] * 2


async def test_a_method_outside_the_common_ones_is_named_as_sent(served: Any) -> None:
    handler = Recorder()
    conn, transport = served(handler)
    conn.data_received(get().replace(b"GET", b"PROPFIND"))
    assert handler.requests[0].method == "PROPFIND"
    assert one_response(bytes(transport.out)).status == 200


@pytest.mark.parametrize(
    "raw",
    [
        b"NONSENSE\r\n\r\n",
        b"BREW /x HTTP/1.1\r\nHost: a\r\n\r\n",  # not a method
        b"GET /x HTTP/1.1\r\nHost : a\r\n\r\n",  # space before the colon (RFC 9112 5.1)
        b"GET /x HTTP/1.1\r\nHost: a\r\nX: 1\r\n folded\r\n\r\n",  # obsolete line folding
        b"GET /x HTTP/1.1\nHost: a\n\n",  # bare LF
        b"GET /x HTTP/1.1\r\nHost: a\r\nX\x01: 1\r\n\r\n",  # a control character in a name
        b"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc",
        b"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n",
        # Both framings: a request smuggling vector (RFC 9112 6.3), refused rather than guessed.
        b"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
        b"POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\nabc",  # chunked is not last
    ],
)
async def test_malformed_requests_get_400_and_no_handler_call(served: Any, raw: bytes) -> None:
    handler = Recorder()
    conn, transport = served(handler)
    conn.data_received(raw)
    assert handler.requests == []
    assert_error(bytes(transport.out), 400, "Bad Request: malformed HTTP request")
    assert transport.eof and not transport.closed  # half-closed: draining what the client still sends


async def test_http11_needs_host_and_http10_does_not(served: Any) -> None:
    handler = Recorder()
    conn, transport = served(handler)
    conn.data_received(http_request("GET", "/x", host=None))
    assert_error(bytes(transport.out), 400, "needs a Host header")
    assert handler.requests == []
    conn, transport = served(handler)
    conn.data_received(http_request("GET", "/x", host=None, version="1.0"))
    assert one_response(bytes(transport.out)).status == 200
    assert handler.requests[0].headers == {}


@pytest.mark.parametrize("second", ["Host", "host"])
async def test_duplicate_host_is_400(served: Any, second: str) -> None:
    handler = Recorder()
    conn, transport = served(handler)
    conn.data_received(get("/x", (second, "evil.example")))
    assert handler.requests == []
    assert_error(bytes(transport.out), 400, "host header field appears more than once")  # RFC 9112 3.2


# -- keep-alive and close ------------------------------------------------------------------------------------


async def test_http11_keeps_the_connection_open_by_default(served: Any) -> None:
    handler = Recorder()
    conn, transport = served(handler)
    conn.data_received(get("/1"))
    first = one_response(transport.take())
    assert "connection" not in first.headers and not transport.closed
    conn.data_received(get("/2"))
    assert one_response(transport.take()).body == b"/2"
    assert handler.requests[0].keep_alive and not transport.closed


async def test_connection_close_answers_then_closes_and_ignores_what_follows(served: Any) -> None:
    handler = Recorder()
    conn, transport = served(handler)
    conn.data_received(get("/1", ("Connection", "close")) + get("/2"))
    response = one_response(bytes(transport.out))
    assert response.headers["connection"] == "close" and response.body == b"/1"
    assert transport.closed and [r.path for r in handler.requests] == ["/1"]  # /2 is not processed
    await settle(lambda: conn.lost)


async def test_http10_closes_by_default_and_keeps_alive_when_asked(served: Any) -> None:
    handler = Recorder()
    conn, transport = served(handler)
    conn.data_received(get("/1", version="1.0"))
    assert one_response(bytes(transport.out)).headers["connection"] == "close" and transport.closed
    conn, transport = served(handler)
    conn.data_received(get("/1", ("Connection", "keep-alive"), version="1.0"))
    assert "connection" not in one_response(transport.take()).headers and not transport.closed
    assert handler.requests[-1].keep_alive


async def test_head_sends_the_length_without_the_body(served: Any) -> None:
    conn, transport = served(Recorder())
    conn.data_received(http_request("HEAD", "/abc") + get("/next"))
    assert bytes(transport.out) == (
        b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 4\r\n\r\n"
        b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 5\r\n\r\n/next"
    )


async def test_idle_connection_closes_after_the_keep_alive_timeout(served: Any) -> None:
    conn, transport = served(Recorder(), HttpLimits(keep_alive_timeout=0.04))
    started = time.monotonic()
    conn.data_received(get())
    await wait_until(lambda: transport.closed)
    assert time.monotonic() - started >= 0.04  # two idle ticks of half the timeout, at least
    await settle(lambda: conn.lost)


async def test_a_connection_with_a_request_in_flight_is_not_idle(served: Any) -> None:
    holder = Holder()
    conn, transport = served(holder, HttpLimits(keep_alive_timeout=0.02))
    conn.data_received(get())
    await asyncio.sleep(0.1)  # ten ticks: the unanswered request keeps it open
    assert not transport.closed
    holder.pending[0][1].respond(204, [], b"")
    await wait_until(lambda: transport.closed)


async def test_shutdown_closes_an_idle_connection_at_once(served: Any) -> None:
    conn, transport = served(Recorder())
    conn.shutdown()
    assert transport.closed


async def test_shutdown_lets_the_response_in_flight_finish_then_closes(served: Any) -> None:
    holder = Holder()
    conn, transport = served(holder)
    conn.data_received(get("/1"))
    conn.shutdown()
    assert not transport.closed
    conn.data_received(get("/2"))  # arrives while stopping: answered with connection: close
    holder.pending[0][1].respond(200, [], b"one")
    assert not transport.closed
    holder.pending[1][1].respond(200, [], b"two")
    first, second = parse_responses(bytes(transport.out))
    assert "connection" not in first.headers and second.headers["connection"] == "close"
    assert transport.closed


# -- pipelining ------------------------------------------------------------------------------------------------


async def test_pipelined_requests_in_one_read_are_answered_in_order(served: Any) -> None:
    handler = Recorder()
    conn, transport = served(handler)
    conn.data_received(b"".join(get(f"/{i}") for i in range(5)))
    assert [r.body for r in parse_responses(bytes(transport.out))] == [b"/%d" % i for i in range(5)]
    assert not transport.closed


async def test_responses_leave_in_request_order_whatever_order_they_finish(served: Any) -> None:
    holder = Holder()
    conn, transport = served(holder)
    conn.data_received(get("/1") + get("/2") + get("/3"))
    (_, first), (_, second), (_, third) = holder.pending
    third.respond(200, [], b"3")
    second.respond_json(b'{"n":2}')  # not alone in line: buffered like the rest
    assert transport.out == b""
    first.respond(200, [], b"1")
    assert [r.body for r in parse_responses(bytes(transport.out))] == [b"1", b'{"n":2}', b"3"]
    assert not conn.queue


async def test_a_request_split_at_every_byte_is_read_whole(served: Any) -> None:
    handler = Recorder()
    conn, transport = served(handler)
    raw = http_request("POST", "/split", [("X-Long", "v" * 40)], b'{"k": "body"}')
    for i in range(len(raw)):
        conn.data_received(raw[i : i + 1])
    assert handler.requests[0].body == b'{"k": "body"}'
    assert one_response(bytes(transport.out)).body == b"/split"
    assert conn._request_timer is None  # the partial request's deadline was cancelled


async def test_a_read_ending_mid_headers_after_complete_requests(served: Any) -> None:
    handler = Recorder()
    conn, transport = served(handler)
    second = get("/b", ("X-Pad", "p" * 50))
    conn.data_received(get("/a") + second[:30])
    assert [r.path for r in handler.requests] == ["/a"]
    conn.data_received(second[30:])
    assert [r.body for r in parse_responses(bytes(transport.out))] == [b"/a", b"/b"]


async def test_reading_pauses_at_the_pipelining_limit_and_resumes_below_it(served: Any) -> None:
    holder = Holder()
    conn, transport = served(holder, HttpLimits(max_pipelined=3))
    conn.data_received(get("/1") + get("/2"))
    assert not transport.paused
    conn.data_received(get("/3"))
    assert transport.paused and transport.pauses == 1
    holder.pending[0][1].respond(200, [], b"")
    assert not transport.paused and transport.resumes == 1
    for _, responder in holder.pending[1:]:
        responder.respond(200, [], b"")
    assert len(parse_responses(bytes(transport.out))) == 3


async def test_the_fast_json_path_resumes_paused_reading(served: Any) -> None:
    holder = Holder()
    conn, transport = served(holder, HttpLimits(max_pipelined=1))
    conn.data_received(get("/1") + get("/2"))
    assert transport.paused
    holder.pending[0][1].respond(200, [], b"")
    assert transport.paused  # one still in line: the limit
    holder.pending[1][1].respond_json(b"{}")
    assert not transport.paused and len(parse_responses(bytes(transport.out))) == 2


# -- the JSON fast path ------------------------------------------------------------------------------------------


async def test_respond_json_alone_in_line_is_one_write(served: Any) -> None:
    holder = Holder()
    conn, transport = served(holder)
    conn.data_received(get())
    holder.pending[0][1].respond_json(b'{"a":1}')
    assert transport.writes == 1
    assert bytes(transport.out) == (
        b'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 7\r\n\r\n{"a":1}'
    )
    assert not conn.queue


async def test_respond_json_of_a_large_body_is_written_whole(served: Any) -> None:
    holder = Holder()
    conn, transport = served(holder)
    conn.data_received(get())
    body = b'"' + b"x" * (64 * 1024) + b'"'
    holder.pending[0][1].respond_json(body)
    assert one_response(bytes(transport.out)).body == body


async def test_respond_json_on_a_closing_connection_says_close(served: Any) -> None:
    holder = Holder()
    conn, transport = served(holder)
    conn.data_received(get("/1", ("Connection", "close")))
    responder = holder.pending[0][1]
    responder.respond_json(b"{}")
    responder.respond_json(b"{}")  # answered once only
    response = one_response(bytes(transport.out))
    assert response.headers == {
        "content-type": "application/json",
        "content-length": "2",
        "connection": "close",
    }
    assert transport.closed


# -- chunked bodies --------------------------------------------------------------------------------------------


async def test_a_chunked_body_is_joined_and_its_trailers_dropped(served: Any) -> None:
    handler = Recorder()
    conn, transport = served(handler)
    head = http_request("POST", "/c", [("Transfer-Encoding", "chunked")], length=False)
    conn.data_received(head + chunked(b"hel", b"lo ", b"world", trailers=b"X-Trailer: t\r\n") + get("/n"))
    first, second = handler.requests
    assert first.body == b"hello world" and "x-trailer" not in first.headers
    assert "x-trailer" not in second.headers
    assert len(parse_responses(bytes(transport.out))) == 2


async def test_a_chunked_body_across_reads(served: Any) -> None:
    handler = Recorder()
    conn, _ = served(handler)
    raw = http_request("POST", "/c", [("Transfer-Encoding", "chunked")], length=False)
    raw += chunked(b"a" * 100, b"b" * 100)
    for start in range(0, len(raw), 17):
        conn.data_received(raw[start : start + 17])
    assert handler.requests[0].body == b"a" * 100 + b"b" * 100


# -- the body limit: 413 with a JSON-RPC body, then the rest is drained ---------------------------------------


def post(body: bytes, *headers: tuple[str, str], length: bool = True) -> bytes:
    return http_request("POST", "/x", list(headers), body, length=length)


@pytest.mark.parametrize("size", [100, 99])
async def test_a_body_at_the_limit_is_served(served: Any, size: int) -> None:
    handler = Recorder()
    conn, transport = served(handler, HttpLimits(max_body_bytes=100))
    raw = post(b"x" * size)
    conn.data_received(raw[:-size])  # the head first, the body after: both checks see it
    conn.data_received(raw[-size:])
    assert handler.requests[0].body == b"x" * size
    assert one_response(bytes(transport.out)).status == 200


async def test_a_declared_length_over_the_limit_is_refused_from_the_head(served: Any) -> None:
    handler = Recorder()
    limits = HttpLimits(max_body_bytes=100, drain_max_bytes=1000)
    conn, transport = served(handler, limits)
    conn.data_received(post(b"")[: -len(b"Content-Length: 0\r\n\r\n")] + b"Content-Length: 101\r\n\r\n")
    assert_error(bytes(transport.out), 413, "Content Too Large: the body limit is 100 bytes")
    assert handler.requests == []
    # Half-closed and reading on, so the client (still sending) reads the 413 instead of a reset.
    assert transport.eof and not transport.paused and transport.pauses == 1 and not transport.closed
    conn.data_received(b"x" * 1000)  # dropped, up to the drain limit
    assert not transport.closed and one_response(bytes(transport.out)).status == 413
    conn.data_received(b"x")
    assert transport.closed


async def test_a_body_over_the_limit_in_the_same_read_is_refused(served: Any) -> None:
    handler = Recorder()
    conn, transport = served(handler, HttpLimits(max_body_bytes=100))
    conn.data_received(post(b"x" * 101))
    assert_error(bytes(transport.out), 413, "100 bytes")
    assert handler.requests == []


async def test_an_earlier_response_leaves_before_the_413(served: Any) -> None:
    holder = Holder()
    conn, transport = served(holder, HttpLimits(max_body_bytes=10))
    conn.data_received(get("/ok") + post(b"y" * 11))
    assert transport.out == b""  # the 413 waits behind the unanswered first response
    holder.pending[0][1].respond(200, [], b"first")
    ok, refused = parse_responses(bytes(transport.out))
    assert ok.body == b"first" and refused.status == 413 and transport.eof
    assert len(holder.pending) == 1


async def test_a_chunked_body_over_the_limit_in_one_piece(served: Any) -> None:
    conn, transport = served(Recorder(), HttpLimits(max_body_bytes=10))
    conn.data_received(post(chunked(b"z" * 11), ("Transfer-Encoding", "chunked"), length=False))
    assert_error(bytes(transport.out), 413, "10 bytes")


async def test_a_chunked_body_over_the_limit_across_reads(served: Any) -> None:
    handler = Recorder()
    conn, transport = served(handler, HttpLimits(max_body_bytes=100))
    conn.data_received(post(b"", ("Transfer-Encoding", "chunked"), length=False))
    conn.data_received(b"40\r\n" + b"a" * 64 + b"\r\n")
    assert transport.out == b""
    conn.data_received(b"40\r\n" + b"a" * 64 + b"\r\n")  # 128 bytes: over before the body ends
    assert_error(bytes(transport.out), 413, "100 bytes")
    assert handler.requests == []


async def test_a_transport_that_cannot_half_close_is_closed_after_the_error() -> None:
    conn, transport = connect(Recorder(), transport=FakeTransport(half_close=False))
    try:
        conn.data_received(b"NONSENSE\r\n\r\n")
        assert_error(bytes(transport.out), 400, "malformed")
        assert transport.closed and not transport.eof
    finally:
        hang_up(conn)


async def test_the_drain_ends_after_its_timeout(served: Any) -> None:
    conn, transport = served(Recorder(), HttpLimits(max_body_bytes=1, drain_timeout=0.02))
    conn.data_received(post(b"")[: -len(b"Content-Length: 0\r\n\r\n")] + b"Content-Length: 50\r\n\r\n")
    assert transport.eof and not transport.closed
    await wait_until(lambda: transport.closed)


async def test_expect_100_continue_is_answered_only_for_a_body_in_the_limit(served: Any) -> None:
    handler = Recorder()
    conn, transport = served(handler, HttpLimits(max_body_bytes=10))
    raw = post(b"abc", ("Expect", "100-continue"))
    conn.data_received(raw[:-3])
    assert transport.take() == b"HTTP/1.1 100 Continue\r\n\r\n"
    conn.data_received(raw[-3:])
    assert one_response(transport.take()).status == 200 and handler.requests[0].body == b"abc"
    conn.data_received(post(b"x" * 11, ("Expect", "100-continue"))[:-11])
    assert_error(transport.take(), 413, "10 bytes")  # no 100 Continue first


async def test_a_whole_body_in_one_read_gets_no_100_continue(served: Any) -> None:
    conn, transport = served(Recorder())
    conn.data_received(post(b"abc", ("Expect", "100-continue")))
    assert one_response(bytes(transport.out)).status == 200 and b"100 Continue" not in transport.out


# -- the header limits: 431 -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("fields", "status"), [(10, 200), (11, 431)])
async def test_the_field_count_limit_at_its_edge(served: Any, fields: int, status: int) -> None:
    conn, transport = served(Recorder(), HttpLimits(max_headers=10))
    extra = [(f"X-{i}", "v") for i in range(fields - 1)]  # and Host
    conn.data_received(http_request("GET", "/x", extra))
    if status == 200:
        assert one_response(bytes(transport.out)).status == 200
    else:
        assert_error(bytes(transport.out), 431, "the limit is 65536 bytes and 10 fields")


async def test_header_bytes_over_the_limit_in_one_read(served: Any) -> None:
    conn, transport = served(Recorder(), HttpLimits(max_header_bytes=1024))
    conn.data_received(get("/x", ("X-Big", "b" * 900)))
    assert one_response(transport.take()).status == 200  # under the limit
    conn.data_received(get("/x", ("X-Big", "b" * 1100)))
    assert_error(bytes(transport.out), 431, "1024 bytes")


async def test_header_bytes_over_the_limit_across_reads_are_refused_before_the_head_ends(
    served: Any,
) -> None:
    conn, transport = served(Recorder(), HttpLimits(max_header_bytes=1024))
    conn.data_received(b"GET /x HTTP/1.1\r\nHost: a\r\nX-Big: " + b"b" * 500)
    assert transport.out == b""
    conn.data_received(b"b" * 600)  # no end of the head in sight: refused now, not buffered on
    assert_error(bytes(transport.out), 431, "1024 bytes")


async def test_complete_requests_before_a_partial_one_are_not_its_header_bytes(served: Any) -> None:
    conn, transport = served(Recorder(), HttpLimits(max_header_bytes=1024))
    many = b"".join(get(f"/{i}", ("X-Pad", "p" * 100)) for i in range(10))  # ~1.6 KiB together
    conn.data_received(many + b"GET /last HTTP/1.1\r\nHost: a\r\nX-Pa")
    conn.data_received(b"d: 1\r\n\r\n")
    responses = parse_responses(bytes(transport.out))
    assert [r.status for r in responses] == [200] * 11 and responses[-1].body == b"/last"


# -- timeouts: 408 ---------------------------------------------------------------------------------------------


async def test_headers_that_do_not_arrive_in_time_get_408(served: Any) -> None:
    conn, transport = served(Recorder(), HttpLimits(header_timeout=0.02))
    conn.data_received(b"GET /x HTTP/1.1\r\nHost: a\r\n")
    await wait_until(lambda: bool(transport.out))
    assert_error(bytes(transport.out), 408, "Request Timeout")


async def test_a_body_that_does_not_arrive_in_time_gets_408(served: Any) -> None:
    handler = Recorder()
    conn, transport = served(handler, HttpLimits(header_timeout=5.0, body_timeout=0.02))
    conn.data_received(post(b"abcdef")[:-3])
    await wait_until(lambda: bool(transport.out))
    assert_error(bytes(transport.out), 408, "Request Timeout")
    assert handler.requests == []


async def test_a_request_that_completes_in_time_is_not_timed_out(served: Any) -> None:
    conn, transport = served(Recorder(), HttpLimits(header_timeout=0.03, body_timeout=0.03))
    raw = post(b"abcdef")
    conn.data_received(raw[:10])
    conn.data_received(raw[10:])
    await asyncio.sleep(0.08)
    assert one_response(bytes(transport.out)).status == 200


# -- handler failures and Upgrade ------------------------------------------------------------------------------


async def test_a_failing_handler_is_a_500_without_its_detail(
    served: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    def failing(request: HttpRequest, responder: Responder) -> None:
        raise RuntimeError("secret detail")

    conn, transport = served(failing)
    conn.data_received(get())
    response = one_response(bytes(transport.out))
    assert response.status == 500 and response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["jsonrpc"] == "2.0" and body["id"] is None and body["error"]["code"] == -32603
    reference = re.fullmatch(r"Internal error \(reference ([0-9a-f]+)\)", body["error"]["message"])
    assert reference is not None, body  # no detail, only a reference the log also names
    assert not transport.closed  # only this request failed
    log = capsys.readouterr().err
    assert "secret detail" in log and reference.group(1) in log


async def test_a_failing_async_handler_is_a_500(served: Any, capsys: pytest.CaptureFixture[str]) -> None:
    async def failing(request: HttpRequest, responder: Responder) -> None:
        await asyncio.sleep(0)
        raise ValueError("inner")

    conn, transport = served(failing)
    conn.data_received(get())
    await settle(lambda: bool(transport.out))
    assert one_response(bytes(transport.out)).status == 500
    assert "inner" in capsys.readouterr().err


async def test_an_async_handler_failing_mid_stream_ends_the_stream(
    served: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    async def streaming(request: HttpRequest, responder: Responder) -> None:
        if request.path == "/after":
            responder.respond(200, [], b"/after")
            return
        responder.start_stream(200, [(b"content-type", b"text/event-stream")]).write(b"data: 1\n\n")
        await asyncio.sleep(0)
        raise ValueError("mid-stream")

    conn, transport = served(streaming)
    conn.data_received(get() + get("/after"))
    await settle(lambda: transport.out.endswith(b"/after"))
    stream, after = parse_responses(bytes(transport.out))
    assert stream.complete and stream.body == b"data: 1\n\n" and after.status == 200
    assert "mid-stream" in capsys.readouterr().err


async def test_upgrade_is_ignored_answered_once_then_closed(served: Any) -> None:
    handler = Recorder()
    conn, transport = served(handler)
    upgrade = get("/ws", ("Connection", "upgrade"), ("Upgrade", "websocket"))
    conn.data_received(upgrade + b"frames the parser never reads")
    assert [r.path for r in handler.requests] == ["/ws"]
    assert one_response(bytes(transport.out)).status == 200
    assert transport.closed


async def test_upgrade_answered_later_closes_after_the_answer(served: Any) -> None:
    holder = Holder()
    conn, transport = served(holder)
    conn.data_received(get("/ws", ("Connection", "upgrade"), ("Upgrade", "h2c")))
    assert not transport.closed
    conn.data_received(b"x" * 100)  # dropped
    holder.pending[0][1].respond(200, [], b"")
    assert one_response(bytes(transport.out)).status == 200 and transport.closed


# -- streams ---------------------------------------------------------------------------------------------------


async def test_a_stream_is_chunked_on_http11_and_the_connection_lives_on(served: Any) -> None:
    holder = Holder()
    conn, transport = served(holder)
    conn.data_received(get("/s"))
    stream = holder.pending[0][1].start_stream(200, [(b"content-type", b"text/event-stream")])
    stream.write(b"data: a\n\n")
    stream.write(b"")  # nothing: no empty chunk (that would end the body)
    assert bytes(transport.out) == (
        b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"
        b"9\r\ndata: a\n\n\r\n"
    )
    stream.close()
    stream.close()
    stream.write(b"late")  # after close: dropped
    assert transport.out.endswith(b"\r\n0\r\n\r\n") and stream.closed
    conn.data_received(get("/next"))
    holder.pending[1][1].respond(200, [], b"n")
    assert [r.body for r in parse_responses(bytes(transport.out))] == [b"data: a\n\n", b"n"]
    assert not transport.closed


async def test_a_stream_on_http10_is_raw_and_closes_the_connection(served: Any) -> None:
    holder = Holder()
    conn, transport = served(holder)
    conn.data_received(get("/s", ("Connection", "keep-alive"), version="1.0"))
    stream = holder.pending[0][1].start_stream(200, [])
    stream.write(b"raw")
    assert bytes(transport.out) == b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\nraw"
    stream.close()
    assert transport.closed


async def test_a_stream_on_a_closing_http11_connection_says_close(served: Any) -> None:
    holder = Holder()
    conn, transport = served(holder)
    conn.data_received(get("/s", ("Connection", "close")))
    stream = holder.pending[0][1].start_stream(200, [])
    assert b"transfer-encoding: chunked\r\nconnection: close\r\n\r\n" in transport.out
    stream.close()
    assert transport.closed


async def test_a_response_starts_once(served: Any) -> None:
    holder = Holder()
    conn, transport = served(holder)
    conn.data_received(get())
    responder = holder.pending[0][1]
    stream = responder.start_stream(200, [])
    with pytest.raises(RuntimeError):
        responder.start_stream(200, [])
    responder.respond(500, [], b"ignored")
    stream.close()
    (response,) = parse_responses(bytes(transport.out))
    assert response.status == 200 and response.complete


async def test_a_stream_behind_an_unanswered_request_is_buffered(served: Any) -> None:
    holder = Holder()
    conn, transport = served(holder)
    conn.data_received(get("/1") + get("/2"))
    stream = holder.pending[1][1].start_stream(200, [])
    stream.write(b"early")
    stream.close()
    assert transport.out == b""
    holder.pending[0][1].respond(200, [], b"first")
    first, second = parse_responses(bytes(transport.out))
    assert (first.body, second.body, second.complete) == (b"first", b"early", True)


async def test_a_lost_connection_closes_its_streams_and_runs_their_callbacks(served: Any) -> None:
    holder = Holder()
    conn, transport = served(holder)
    conn.data_received(get())
    responder = holder.pending[0][1]
    stream: ResponseStream = responder.start_stream(200, [])
    closed: list[str] = []
    stream.add_close_callback(lambda: closed.append("first"))
    conn.connection_lost(ConnectionResetError())
    assert stream.closed and closed == ["first"] and responder.closed
    stream.add_close_callback(lambda: closed.append("late"))  # already closed: called at once
    assert closed == ["first", "late"]
    written = bytes(transport.out)
    stream.write(b"x")
    responder.respond(200, [], b"")
    assert bytes(transport.out) == written  # nothing goes to a lost connection


async def test_an_answer_after_the_connection_is_lost_goes_nowhere(served: Any) -> None:
    holder = Holder()
    conn, transport = served(holder)
    conn.data_received(get())
    conn.connection_lost(None)
    holder.pending[0][1].respond(200, [], b"late")
    assert transport.out == b"" and not conn.queue


async def test_drain_waits_for_the_transport_to_resume_writing(served: Any) -> None:
    holder = Holder()
    conn, _ = served(holder)
    conn.data_received(get())
    stream = holder.pending[0][1].start_stream(200, [])
    await stream.drain()  # not paused: at once
    conn.pause_writing()
    waiter = asyncio.ensure_future(stream.drain())
    await settle()
    assert not waiter.done()
    conn.resume_writing()
    await settle(waiter.done)
    conn.pause_writing()
    waiter = asyncio.ensure_future(stream.drain())
    await settle()
    conn.connection_lost(None)  # a lost connection releases its waiters
    await settle(waiter.done)


# -- the status line and error bodies ----------------------------------------------------------------------------


def test_status_lines_and_error_bodies() -> None:
    assert status_line(404) == b"HTTP/1.1 404 Not Found\r\n"
    assert status_line(599) == b"HTTP/1.1 599 Unknown\r\n"
    assert json.loads(error_body(503, "x"))["error"]["code"] == rpc.INTERNAL_ERROR
    assert json.loads(error_body(431, "x"))["error"]["code"] == rpc.INVALID_REQUEST


async def test_a_connection_made_after_its_server_stopped_accepting_is_dropped_unread() -> None:
    """A connection accepted just before `HttpServer.close()` is made only afterwards: it is aborted before
    any byte is read, so no request reaches a server whose shared state is being closed (a client retries a
    connection that sent no response byte)."""
    recorder = Recorder()
    for closed in (False, True):
        connections = Connections()
        connections.closed = closed
        conn = HttpProtocol(recorder, HttpLimits(), connections)
        transport = FakeTransport()
        transport.protocol = conn
        conn.connection_made(transport)
        assert transport.closed is closed and (conn in connections) is not closed
        if not closed:
            conn.data_received(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            await settle(lambda: bool(recorder.requests))
            hang_up(conn)
        await settle(lambda conn=conn: conn.lost)  # type: ignore[misc]
    assert len(recorder.requests) == 1


async def test_closing_the_server_marks_its_connections_closed() -> None:
    server = await serve(Recorder(), "127.0.0.1", 0)
    assert isinstance(server.connections, Connections) and not server.connections.closed
    await server.close(0.1)
    assert server.connections.closed
