"""Property: any message, valid or not, gets the same JSON-RPC answer bytes over stdio and over HTTP.

One real `mcprt serve --stdio` subprocess and one real `mcprt serve --http` subprocess (JSON responses) serve
tests/apps/same_bytes.py; each holds one initialized session, and every generated message goes to both, in
the same order, so both sessions stay in the same state (logging/setLevel, subscriptions).

What is compared: the bytes of the JSON-RPC answer, exactly: a stdio line against the HTTP response body.
Nothing is normalised: the app answers deterministically and no answer names the session. What legitimately
differs is left out of the comparison, not normalised:
- the HTTP status (400 for a parse error, 202 for a notification or a response): stdio has none;
- messages stdio cannot frame: containing a newline (none are generated: json.dumps escapes them), blank
  (stdio skips empty lines; HTTP answers an empty body with a parse error), or ending in CR (stdio's framing
  strips a CR before the newline);
- nothing is answered to a notification or a response on either transport (HTTP: 202 with no body, stdio: no
  line), which is checked with a ping sent after it on stdio.
"""

from __future__ import annotations

import http.client
import json
import queue
import subprocess
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.conftest import RunningServer, serve_command

APP = "tests/apps/same_bytes.py:server"
VERSION = "2025-11-25"
READ_SECONDS = 10.0
SYNC = "sync-"  # the ids of stdio's pings after a message; generated ids never start with it
INITIALIZE = {
    "protocolVersion": VERSION,
    "capabilities": {},
    "clientInfo": {"name": "same-bytes", "version": "1.0"},
}


def encode(message: Any) -> bytes:
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode()


class StdioSession:
    """The server as a subprocess; lines read by a thread into a queue, so reads can time out."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            serve_command("--stdio", app=APP),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        self.lines: queue.Queue[bytes] = queue.Queue()
        self._syncs = 0
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip(b"\n"))

    def write(self, data: bytes) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(data + b"\n")
        self.process.stdin.flush()

    def read(self) -> bytes:
        try:
            return self.lines.get(timeout=READ_SECONDS)
        except queue.Empty:
            raise AssertionError("stdio: no answer in time") from None

    def exchange(self, data: bytes, answered: bool) -> list[bytes]:
        """Send `data` and a ping behind it; the lines that are not the ping's answer, waiting for one when
        `answered` (the answer may come after the ping's when the handler runs in a thread)."""
        self._syncs += 1
        sync = encode({"jsonrpc": "2.0", "id": f"{SYNC}{self._syncs}", "method": "ping"})
        self.write(data)
        self.write(sync)
        sync_answer = encode({"jsonrpc": "2.0", "id": f"{SYNC}{self._syncs}", "result": {}})
        got: list[bytes] = []
        synced = False
        while not synced or (answered and not got):
            line = self.read()
            if line == sync_answer:
                synced = True
            else:
                got.append(line)
        return got

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        assert self.process.stdout is not None
        self.process.stdout.close()


class HttpSession:
    """One Streamable HTTP session, JSON responses, over a kept-alive connection."""

    def __init__(self) -> None:
        self.server = RunningServer(app=APP)
        self.connection = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=READ_SECONDS)
        self.session_id: str | None = None

    def post(self, data: bytes) -> tuple[int, str, bytes]:
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json, text/event-stream",
        }
        if self.session_id is not None:
            headers |= {"Mcp-Session-Id": self.session_id, "MCP-Protocol-Version": VERSION}
        try:
            self.connection.request("POST", "/mcp", body=data, headers=headers)
            response = self.connection.getresponse()
        except (ConnectionError, http.client.RemoteDisconnected):  # the idle kept-alive connection closed
            self.connection.close()
            self.connection.request("POST", "/mcp", body=data, headers=headers)
            response = self.connection.getresponse()
        body = response.read()
        if self.session_id is None:
            self.session_id = response.getheader("Mcp-Session-Id")
        return response.status, response.getheader("Content-Type") or "", body

    def close(self) -> None:
        self.connection.close()
        self.server.stop()


@pytest.fixture(scope="module")
def sessions() -> Iterator[tuple[StdioSession, HttpSession]]:
    stdio, over_http = StdioSession(), HttpSession()
    try:
        initialize = encode({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": INITIALIZE})
        initialized = encode({"jsonrpc": "2.0", "method": "notifications/initialized"})
        stdio.write(initialize)
        assert b'"result"' in stdio.read()
        stdio.write(initialized)
        status, _, body = over_http.post(initialize)
        assert status == 200 and b'"result"' in body and over_http.session_id
        assert over_http.post(initialized)[0] == 202
        yield stdio, over_http
    finally:
        stdio.close()
        over_http.close()


# -- what is sent ------------------------------------------------------------------------------------------

text = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)  # no lone surrogates: not UTF-8
scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | text
values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3), max_leaves=6
)
good_ids = st.integers(-(2**53), 2**53) | text.filter(lambda s: not s.startswith(SYNC))
bad_ids = (
    st.none()
    | st.booleans()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.integers(2**63, 2**70)
    | st.lists(st.integers(), max_size=2)
    | st.dictionaries(text, st.integers(), max_size=2)
)

TOOLS = ["echo", "add", "pick", "divide"]
LEVELS = ["debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"]


def tool_arguments(name: str) -> st.SearchStrategy[Any]:
    right = {
        "echo": st.fixed_dictionaries({"text": text}),
        "add": st.fixed_dictionaries({"a": st.integers()}, optional={"b": st.integers()}),
        "pick": st.fixed_dictionaries(
            {"colour": st.sampled_from(["red", "green", "blue", "mauve"])}, optional={"times": st.integers(-2, 8)}
        ),
        "divide": st.fixed_dictionaries({"a": st.floats(-1e6, 1e6), "b": st.sampled_from([0.0, 1.0, 2.5, -4.0])}),
    }.get(name, st.just({}))
    return right | st.dictionaries(text, values, max_size=3) | values


def params_of(method: str, spoilt: bool = True) -> st.SearchStrategy[Any]:
    """Well-formed params for `method` (arguments may still be wrong); `spoilt`: sometimes wrong types or
    missing fields."""
    cursor = st.fixed_dictionaries({}, optional={"cursor": text})
    good: dict[str, st.SearchStrategy[Any]] = {
        "tools/call": st.sampled_from([*TOOLS, "nope"]).flatmap(
            lambda name: st.fixed_dictionaries({"name": st.just(name), "arguments": tool_arguments(name)})
        ),
        "resources/read": st.fixed_dictionaries(
            {"uri": st.sampled_from(["same://fixed", "same://missing"]) | text.map(lambda s: f"same://items/{s}")}
        ),
        "resources/subscribe": st.fixed_dictionaries({"uri": st.just("same://fixed") | text}),
        "resources/unsubscribe": st.fixed_dictionaries({"uri": st.just("same://fixed") | text}),
        "prompts/get": st.fixed_dictionaries(
            {"name": st.sampled_from(["greet", "nope"])},
            optional={"arguments": st.dictionaries(st.sampled_from(["name", "style", "x"]), text | values)},
        ),
        "completion/complete": st.fixed_dictionaries(
            {
                "ref": st.sampled_from([{"type": "ref/prompt", "name": "greet"}, {"type": "ref/prompt", "name": "x"}]),
                "argument": st.fixed_dictionaries({"name": st.sampled_from(["style", "name"]), "value": text}),
            }
        ),
        "logging/setLevel": st.fixed_dictionaries({"level": st.sampled_from([*LEVELS, "loud"])}),
        "tasks/get": st.fixed_dictionaries({"taskId": text}),
        "tasks/cancel": st.fixed_dictionaries({"taskId": text}),
        "tools/list": cursor,
        "resources/list": cursor,
        "resources/templates/list": cursor,
        "prompts/list": cursor,
        "tasks/list": cursor,
        "ping": st.just({}),
    }
    chosen = good.get(method, st.just({}))
    return chosen | values if spoilt else chosen  # `values`: wrong types, missing fields


METHODS = [
    "tools/call", "resources/read", "resources/subscribe", "resources/unsubscribe", "prompts/get",
    "completion/complete", "logging/setLevel", "tasks/get", "tasks/cancel", "tools/list", "resources/list",
    "resources/templates/list", "prompts/list", "tasks/list", "ping",
]  # fmt: skip
methods = st.sampled_from(METHODS) | st.sampled_from(["initialize", "nope/nothing", "notifications/whatever"]) | text


@st.composite
def requests(draw: st.DrawFn, valid: bool = False) -> dict[str, Any]:
    """A request; `valid`: to a method the app has, with well-formed params (tool arguments may be wrong)."""
    method = draw(st.sampled_from(METHODS) if valid else methods)
    message: dict[str, Any] = {"jsonrpc": "2.0", "id": draw(good_ids), "method": method}
    if draw(st.booleans()) or method != "ping":
        message["params"] = draw(params_of(method, spoilt=not valid))
    return message


@st.composite
def broken(draw: st.DrawFn) -> Any:
    """A request spoilt one way: a bad id, no method, a method of the wrong type, a wrong version."""
    message = draw(requests())
    how = draw(st.sampled_from(["id", "no method", "method type", "version", "no version", "extra"]))
    if how == "id":
        message["id"] = draw(bad_ids)
    elif how == "no method":
        del message["method"]
    elif how == "method type":
        message["method"] = draw(values.filter(lambda v: not isinstance(v, str)))
    elif how == "version":
        message["jsonrpc"] = draw(st.sampled_from(["1.0", "2", 2.0, None]))
    elif how == "no version":
        del message["jsonrpc"]
    else:
        message[draw(text)] = draw(values)
    return message


notifications = st.builds(
    lambda method, params: {"jsonrpc": "2.0", "method": method, "params": params},
    st.sampled_from(["notifications/cancelled", "notifications/roots/list_changed", "notifications/nope"]) | text,
    st.fixed_dictionaries({"requestId": good_ids}) | values,
)
responses = st.builds(  # a client's answer to a request the server never sent
    lambda id_, result: {"jsonrpc": "2.0", "id": id_, "result": result}, good_ids, values
)
batches = st.lists(requests() | notifications, min_size=1, max_size=3)


def nested(depth: int) -> Any:
    value: Any = 1
    for level in range(depth):
        value = [value] if level % 2 else {"k": value}
    return value


deep = st.builds(  # around the nesting limit (200 levels, the message is 1)
    lambda id_, depth: {"jsonrpc": "2.0", "id": id_, "method": "tools/call", "params": {"name": "echo", "x": nested(depth)}},
    good_ids,
    st.integers(190, 210),
)


@st.composite
def odd_bytes(draw: st.DrawFn) -> bytes:
    """A request's bytes made odd: padding, a BOM, a duplicated key, something after the JSON value."""
    data = encode(draw(requests(valid=True)))
    how = draw(st.sampled_from(["pad", "bom", "duplicate id", "duplicate method", "trailing", "two values"]))
    if how == "pad":
        return draw(st.sampled_from([b" ", b"\t", b"  \t"])) + data + draw(st.sampled_from([b"", b" ", b"\t"]))
    if how == "bom":
        return b"\xef\xbb\xbf" + data
    if how == "duplicate id":
        return data[:-1] + b',"id":' + encode(draw(good_ids | bad_ids)) + b"}"
    if how == "duplicate method":
        return data[:-1] + b',"method":"ping"}'
    if how == "trailing":
        return data + draw(st.sampled_from([b"x", b",", b"]", b"}", b"null"]))
    return data + data
messages = st.one_of(
    requests(valid=True).map(encode),
    requests(valid=True).map(encode),
    requests(valid=True).map(encode),
    requests().map(encode),
    broken().map(encode),
    notifications.map(encode),
    responses.map(encode),
    batches.map(encode),
    deep.map(encode),
    odd_bytes(),
    values.map(encode),  # not a JSON-RPC object at all
    requests().map(encode).flatmap(lambda data: st.integers(1, len(data) - 1).map(lambda n: data[:n])),  # cut
    st.binary(min_size=1, max_size=20).map(lambda data: data.replace(b"\n", b" ")),  # not JSON (or UTF-8)
)
framable = messages.filter(lambda data: b"\n" not in data and data.strip() != b"" and not data.endswith(b"\r"))


@settings(
    max_examples=150,
    deadline=None,  # the time is the subprocesses': the whole run is bounded by max_examples
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=framable)
def test_same_answer_over_stdio_and_http(sessions: tuple[StdioSession, HttpSession], data: bytes) -> None:
    stdio, over_http = sessions
    status, content_type, body = over_http.post(data)
    assert not content_type.startswith("text/event-stream"), "the app never streams"
    answered = body != b""
    assert answered == (status != 202), (status, body)
    event(f"HTTP {status}: {_kind(body)}")  # pytest --hypothesis-show-statistics shows the mix
    lines = stdio.exchange(data, answered)
    assert lines == ([body] if answered else []), f"sent {data!r}: HTTP {status}"


def _kind(body: bytes) -> str:
    """What an answer is, for the statistics: a result, an error code, a batch, nothing."""
    if not body:
        return "none"
    answer = json.loads(body)
    if isinstance(answer, list):
        return "batch"
    error = answer.get("error")
    if error is not None:
        return f"error {error.get('code')}"
    result = answer.get("result") or {}
    return "tool error" if result.get("isError") else "result"
