"""A seeded generator of hostile MCP input, shared by tests/test_fuzz.py (bounded) and perf/fuzz.py (long runs).

JSON-level cases (`json_case`) are bytes for one message: random methods and params, odd JSON-RPC shapes, huge
integers, invalid UTF-8, nesting up to 10^6 deep, garbage. HTTP cases (`http_case`) wrap them in requests with
mutated request lines, headers, Host/Origin, content types, chunked framing, pipelining, or raw byte damage.
Each case carries the oracle it implies (`expect`: the statuses allowed; `expect_rpc`: a JSON-RPC error code
the answer must carry; `answer_id`: the id a response must have). A case is a pure function of (seed, index).
"""

from __future__ import annotations

import base64
import json
import random
from dataclasses import dataclass, field
from typing import Any

from runtime.client.modern import header_value
from runtime.protocol.scan import DEFAULT_MAX_MESSAGE_BYTES

PROTOCOL = "2025-11-25"
ACCEPT = b"application/json, text/event-stream"
REQUESTS = [
    "ping", "initialize", "tools/list", "tools/call", "resources/list", "resources/templates/list",
    "resources/read", "resources/subscribe", "resources/unsubscribe", "prompts/list", "prompts/get",
    "completion/complete", "logging/setLevel", "tasks/get", "tasks/list", "tasks/result", "tasks/cancel",
]  # fmt: skip
NOTIFICATIONS = [
    "notifications/initialized", "notifications/cancelled", "notifications/progress",
    "notifications/roots/list_changed", "notifications/tasks/status", "notifications/message",
]  # fmt: skip
# Tools of examples/everything.py that answer at once whatever the arguments (slow, elicitation and
# sampling tools could wait).
TOOLS = [
    "echo", "add", "worker_info", "test_simple_text", "test_image_content", "test_error_handling",
    "test_multiple_content_types", "json_schema_2020_12_tool", "test_tool_with_progress",
    "test_tool_with_logging", "roots_seen", "needs_authorization", "touch_watched_resource",
]  # fmt: skip
URIS = ["test://static-text", "test://static-binary", "test://template/1/data", "test://watched-resource"]
PROMPTS = ["test_simple_prompt", "test_prompt_with_arguments", "test_prompt_with_image"]
HUGE_INTS = [
    2**31, 2**53 + 1, 2**63 - 1, 2**63, -(2**63) - 1, 2**64 - 1, 2**64, 2**64 + 1, -(2**64), 10**40, -(10**100),
]  # fmt: skip
BAD_UTF8 = [b"\xff", b"\xc3", b"\xc3\x28", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80", b"\xe2\x82", b"\x80", b"\xc0\xaf"]
DEPTHS = [10, 100, 1000, 5000, 20_000, 100_000, 1_000_000]


class Raw(bytes):
    """JSON text spliced in as is (invalid UTF-8, deep nesting, tokens Python's json cannot write)."""


def encode(value: Any) -> bytes:
    """JSON for generated values; Raw is spliced verbatim, so the output may be deliberately invalid."""
    if isinstance(value, Raw):
        return bytes(value)
    if isinstance(value, dict):
        items = [(bytes(k) if isinstance(k, Raw) else _string(k)) + b":" + encode(v) for k, v in value.items()]
        return b"{" + b",".join(items) + b"}"
    if isinstance(value, list):
        return b"[" + b",".join(encode(v) for v in value) + b"]"
    if isinstance(value, str):
        return _string(value)
    return json.dumps(value).encode()


def _string(text: str) -> bytes:
    return json.dumps(text, ensure_ascii=False).encode("utf-8", "surrogatepass")


@dataclass
class Case:
    kind: str
    data: bytes  # a JSON-RPC line (stdio) or the raw bytes of one connection (HTTP)
    expect: frozenset[int] | None = None  # HTTP statuses allowed (None: any below 500)
    expect_rpc: int | None = None  # a JSON-RPC error code that must be in the answer
    answer_id: Any = None  # a response with this id must come back (None: not required)
    requests: int = 1  # HTTP requests in `data` whose responses are awaited (pipelining)
    raw: bool = False  # HTTP: bytes sent then the write side shut; reply read to EOF, maybe none
    stream_ok: bool = False  # HTTP: a GET that may open a standalone SSE stream (read its head only)
    notes: list[str] = field(default_factory=list)


class Generator:
    """Cases for one target. `session` is a live session id (HTTP), used for most session-path cases."""

    def __init__(self, seed: int, session: str = "", port: int = 0, path: str = "/mcp") -> None:
        self.seed = seed
        self.session = session
        self.port = port
        self.path = path.encode()

    # -- values ---------------------------------------------------------------------------------------------

    def value(self, rng: random.Random, depth: int = 0) -> Any:
        roll = rng.random()
        if depth > 3 or roll < 0.55:
            return self.scalar(rng)
        if roll < 0.78:
            return [self.value(rng, depth + 1) for _ in range(rng.randrange(4))]
        return {self.key(rng): self.value(rng, depth + 1) for _ in range(rng.randrange(4))}

    def scalar(self, rng: random.Random) -> Any:
        return rng.choice(
            [
                None, True, False, 0, -1, rng.randrange(-1000, 1000), rng.choice(HUGE_INTS), 0.5, -0.0, 1e308,
                Raw(b"1e400"), Raw(b"-0"), Raw(b"1E-400"), "", "x", self.text(rng), rng.choice(URIS),
                rng.choice(TOOLS), "\u0000", "\ud800", "\U0001f600" * 3, "a" * rng.choice([100, 5000]),
            ]
        )  # fmt: skip

    def text(self, rng: random.Random) -> str:
        alphabet = "abc/{}:.%\\\"' \t\u00e9\u4e2d\U0001f600\u202e\ufeff\u0001"
        return "".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 12)))

    def key(self, rng: random.Random) -> str:
        return rng.choice(["", "a", "type", "name", "_meta", "progressToken", "id", self.text(rng)])

    def request_id(self, rng: random.Random) -> Any:
        return rng.choice([rng.randrange(1, 10**6), f"f-{rng.randrange(10**6)}", rng.randrange(1, 10**6)])

    # -- JSON-level cases -------------------------------------------------------------------------------

    def json_case(self, rng: random.Random, stdio: bool = False) -> Case:
        kind = rng.choices(
            ["request", "tool", "initialize", "notification", "response", "shape", "huge", "utf8", "deep", "junk"],
            [30, 15, 10, 8, 5, 10, 7, 7, 5, 3],
        )[0]  # fmt: skip
        case: Case = getattr(self, "_json_" + kind)(rng)
        case.kind = "json/" + kind
        if stdio:
            case.data = case.data.replace(b"\n", b" ")
        _derive_oracle(case)
        return case

    def _message(self, method: str, params: Any, rng: random.Random, request: bool = True) -> dict[str, Any]:
        message: dict[str, Any] = {"jsonrpc": "2.0"}
        if request:
            message["id"] = self.request_id(rng)
        message["method"] = method
        if params is not _MISSING:
            message["params"] = params
        return message

    def params(self, rng: random.Random, method: str) -> Any:
        if rng.random() < 0.15:
            return rng.choice([_MISSING, None, [], "x", 1, self.value(rng)])
        params: dict[str, Any] = {}
        if method == "tools/call":
            params = {"name": rng.choice([*TOOLS, self.text(rng)]), "arguments": self.arguments(rng)}
            if rng.random() < 0.1:
                params["task"] = rng.choice([{}, {"ttl": rng.choice([1, 1000, *HUGE_INTS])}, None])
        elif method in ("resources/read", "resources/subscribe", "resources/unsubscribe"):
            params = {"uri": rng.choice([*URIS, self.text(rng), "test://template/" + self.text(rng) + "/data"])}
        elif method == "prompts/get":
            params = {"name": rng.choice([*PROMPTS, self.text(rng)]), "arguments": self.arguments(rng)}
        elif method == "completion/complete":
            params = {
                "ref": rng.choice([{"type": "ref/prompt", "name": rng.choice(PROMPTS)},
                                   {"type": "ref/resource", "uri": "test://template/{id}/data"}, self.value(rng)]),
                "argument": {"name": rng.choice(["arg1", "id", self.text(rng)]), "value": self.text(rng)},
            }  # fmt: skip
        elif method == "logging/setLevel":
            params = {"level": rng.choice(["debug", "info", "emergency", "nope", 3])}
        elif method.startswith("tasks/"):
            params = {"taskId": rng.choice([self.text(rng), "0" * 32, 7])}
        elif method.endswith("/list"):
            params = rng.choice([{}, {"cursor": self.text(rng)}, {"cursor": 5}])
        elif method == "initialize":
            params = self.init_params(rng)
        for _ in range(rng.randrange(3) if rng.random() < 0.3 else 0):
            params[self.key(rng)] = self.value(rng)
        if rng.random() < 0.2:
            params["_meta"] = rng.choice([{"progressToken": self.scalar(rng)}, self.value(rng)])
        return params

    def arguments(self, rng: random.Random) -> Any:
        if rng.random() < 0.1:
            return self.value(rng)
        names = ["text", "numbers", "name", "address", "prompt", "arg1", "arg2", self.key(rng)]
        return {rng.choice(names): rng.choice([self.value(rng), "hello", [1, 2.5], [1, "x"]]) for _ in range(3)}

    def init_params(self, rng: random.Random) -> dict[str, Any]:
        capabilities: Any = {}
        for name in rng.sample(["roots", "sampling", "elicitation", "tasks", "experimental", self.key(rng)], 2):
            capabilities[name] = rng.choice([{}, {"listChanged": True}, self.value(rng)])
        return {
            "protocolVersion": rng.choice([PROTOCOL, "2025-06-18", "2024-11-05", "1999-01-01", "", 2025]),
            "capabilities": rng.choice([capabilities, capabilities, None, []]),
            "clientInfo": rng.choice([{"name": "fuzz", "version": "1"}, {"name": self.text(rng)}, self.value(rng)]),
        }  # fmt: skip

    def _json_request(self, rng: random.Random) -> Case:
        method = rng.choice([*REQUESTS, *REQUESTS, self.text(rng), "rpc.discover", "sampling/createMessage"])
        return Case("", encode(self._message(method, self.params(rng, method), rng)))

    def _json_tool(self, rng: random.Random) -> Case:
        return Case("", encode(self._message("tools/call", self.params(rng, "tools/call"), rng)))

    def _json_initialize(self, rng: random.Random) -> Case:
        params = self.init_params(rng)
        if rng.random() < 0.4:  # big integers in the record a worker shares (the 2-worker session table)
            target = rng.choice(["capabilities", "clientInfo"])
            if not isinstance(params[target], dict):
                params[target] = {}
            params[target][self.key(rng) or "k"] = rng.choice(HUGE_INTS)
        return Case("", encode(self._message("initialize", params, rng)))

    def _json_notification(self, rng: random.Random) -> Case:
        method = rng.choice([*NOTIFICATIONS, self.text(rng)])
        params: Any = rng.choice(
            [{"requestId": self.request_id(rng), "reason": "x"}, {"progressToken": self.scalar(rng), "progress": 1},
             self.value(rng), _MISSING]
        )  # fmt: skip
        return Case("", encode(self._message(method, params, rng, request=False)))

    def _json_response(self, rng: random.Random) -> Case:
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": rng.choice([1, 2**40, "x", self.scalar(rng)])}
        choice = rng.random()
        if choice < 0.4:
            message["result"] = self.value(rng)
        elif choice < 0.8:
            message["error"] = rng.choice([{"code": -1, "message": "no"}, self.value(rng)])
        else:
            message["result"] = {}
            message["error"] = {"code": 1, "message": "both"}
        return Case("", encode(message))

    def _json_shape(self, rng: random.Random) -> Case:
        base = self._message("ping", _MISSING, rng)
        variant = rng.randrange(12)
        if variant == 0:
            return Case("", encode([base, base]))  # a batch
        if variant == 1:
            return Case("", encode(rng.choice([[], 1, "x", None, True, self.value(rng)])))
        if variant == 2:
            base.pop("jsonrpc")
        elif variant == 3:
            base["jsonrpc"] = rng.choice(["1.0", "2.00", 2.0, None, ""])
        elif variant == 4:
            base["id"] = rng.choice([None, 1.5, True, [], {}, -0.0, Raw(b"1e3"), *HUGE_INTS])
        elif variant == 5:
            base["method"] = rng.choice([None, 1, [], {}, "", " ping"])
        elif variant == 6:
            base.pop("method")
        elif variant == 7:
            base[self.key(rng) or "extra"] = self.value(rng)
        elif variant == 8:  # duplicate members: which one wins must not matter to safety
            text = encode(base)[:-1] + b',"id":"dup","method":"tools/list"}'
            return Case("", text)
        elif variant == 9:
            return Case("", b"\xef\xbb\xbf" + encode(base))  # a byte order mark
        elif variant == 10:
            return Case("", b" \t\r " + encode(base) + b" \t ")
        else:
            base["params"] = rng.choice([[], "x", 1, None, self.value(rng)])
        return Case("", encode(base))

    def _json_huge(self, rng: random.Random) -> Case:
        big = rng.choice([*HUGE_INTS, Raw(b"1" * rng.choice([20, 400, 5000])), Raw(b"-" + b"9" * 30)])
        method = rng.choice(REQUESTS)
        message = self._message(method, self.params(rng, method), rng)
        where = rng.randrange(4)
        if where == 0:
            message["id"] = big
        elif where == 1 and isinstance(message.get("params"), dict):
            message["params"]["_meta"] = {"progressToken": big}
        elif where == 2:
            message = self._message("initialize", self.init_params(rng), rng)
            message["params"]["capabilities"] = {"experimental": {"n": big}, "roots": {"listChanged": big}}
        else:
            message = self._message("tools/call", {"name": "add", "arguments": {"numbers": [big, 1]}}, rng)
        return Case("", encode(message))

    def _json_utf8(self, rng: random.Random) -> Case:
        bad = rng.choice(BAD_UTF8)
        method = rng.choice(REQUESTS)
        message = self._message(method, self.params(rng, method), rng)
        where = rng.randrange(5)
        if where == 0:  # inside an object key
            target: dict[Any, Any] = message["params"] if isinstance(message.get("params"), dict) else message
            target[Raw(b'"k' + bad + b'"')] = 1
        elif where == 1:  # inside a string value
            message["params"] = {"name": Raw(b'"echo' + bad + b'"'), "arguments": {"text": Raw(b'"' + bad + b'"')}}
        elif where == 2:
            message["method"] = Raw(b'"ping' + bad + b'"')
        elif where == 3:  # in an initialize, whose fields end up in the shared session record
            message = self._message("initialize", self.init_params(rng), rng)
            message["params"]["clientInfo"] = {"name": Raw(b'"n' + bad + b'"'), "version": "1"}
            message["params"]["capabilities"] = {Raw(b'"c' + bad + b'"'): {}}
        else:  # outside any string
            return Case("", encode(message)[:-1] + bad + b"}")
        return Case("", encode(message))

    def _json_deep(self, rng: random.Random) -> Case:
        depth = rng.choices(DEPTHS, [20, 20, 20, 15, 10, 8, 4])[0]
        opener, closer = rng.choice([(b"[", b"]"), (b'{"a":', b"}"), (b'[{"a":', b"}]")])
        inner = b"1" if opener == b"[" else b"null"
        balanced = rng.random() < 0.85
        nest = Raw(opener * depth + inner + (closer * depth if balanced else b""))
        where = rng.randrange(5)
        if where == 0:
            return Case("", bytes(nest))
        if where == 1:
            message = self._message("tools/call", {"name": "echo", "arguments": {"text": nest}}, rng)
        elif where == 2:
            message = self._message("initialize", self.init_params(rng), rng)
            message["params"]["capabilities"] = {"experimental": nest}
        elif where == 3:
            message = self._message("ping", {"_meta": nest}, rng)
        else:
            message = self._message("notifications/progress", {"progressToken": nest}, rng, request=False)
        return Case("", encode(message))

    def _json_junk(self, rng: random.Random) -> Case:
        text = encode(self._message("tools/list", {}, rng))
        return Case(
            "",
            rng.choice(
                [b"", b" ", b"{", b"}", b"null", text[: rng.randrange(1, len(text))], bytes(rng.randbytes(20)),
                 b'{"jsonrpc":"2.0","id":1,"method":"ping"' , b"NaN", b"[1,]", b'{"a":1,}', b"\x00" * 5]
            ),
        )  # fmt: skip

    # -- HTTP cases ---------------------------------------------------------------------------------------

    def http_case(self, rng: random.Random) -> Case:
        kind = rng.choices(["post", "headers", "framing", "other", "pipeline", "raw"], [45, 17, 8, 5, 3, 22])[0]
        case: Case = getattr(self, "_http_" + kind)(rng)
        return case

    def _request(
        self, method: bytes, headers: list[tuple[bytes, bytes]], body: bytes = b"", target: bytes | None = None,
        version: bytes = b"HTTP/1.1", chunked: list[bytes] | None = None,
    ) -> bytes:  # fmt: skip
        head = [method + b" " + (self.path if target is None else target) + b" " + version]
        head += [name + b": " + value for name, value in headers]
        if chunked is not None:
            return b"\r\n".join(head) + b"\r\n\r\n" + b"".join(chunked)
        if body or method == b"POST":
            head.append(b"Content-Length: %d" % len(body))
        return b"\r\n".join(head) + b"\r\n\r\n" + body

    def post_headers(self, session: str | None) -> list[tuple[bytes, bytes]]:
        headers = [(b"Host", b"127.0.0.1:%d" % self.port), (b"Content-Type", b"application/json"), (b"Accept", ACCEPT)]
        if session:
            headers += [(b"Mcp-Session-Id", session.encode()), (b"MCP-Protocol-Version", PROTOCOL.encode())]
        return headers

    def _session_choice(self, rng: random.Random) -> tuple[str | None, str]:
        roll = rng.random()
        if roll < 0.55:
            return self.session, "session"
        if roll < 0.9:
            return None, "new"
        return "deadbeef" * 4, "unknown"

    def _http_post(self, rng: random.Random) -> Case:
        case = self.json_case(rng)
        session, where = self._session_choice(rng)
        case.kind = f"http-{where}/{case.kind}"
        body = case.data
        case.data = self._request(b"POST", self.post_headers(session), body)
        if len(body) > DEFAULT_MAX_MESSAGE_BYTES:
            # Over the body limit: refused (413) from its Content-Length, before it is read or its session
            # looked up, whatever it holds.
            case.expect, case.expect_rpc, case.answer_id = frozenset({413}), None, None
        elif where == "unknown":
            # Too deep a body is refused (400) before its session is looked up (404): either is right.
            statuses = {400, 404} if case.kind.endswith("/deep") else {404}
            case.expect, case.expect_rpc, case.answer_id = frozenset(statuses), None, None
        elif where == "new":
            case.answer_id = None  # without a session only initialize is answered with its id
        return case

    def _http_headers(self, rng: random.Random) -> Case:
        """One header mutation of a valid ping, with the status it must get."""
        session = self.session if rng.random() < 0.7 else None
        body = encode({"jsonrpc": "2.0", "id": 7, "method": "ping"}) if session else encode(
            self._message("initialize", {"protocolVersion": PROTOCOL, "capabilities": {},
                                         "clientInfo": {"name": "fuzz", "version": "1"}}, rng))  # fmt: skip
        headers = self.post_headers(session)
        ok = frozenset({200})
        mutation = rng.randrange(22)
        expect: frozenset[int] | None = ok
        version = b"HTTP/1.1"
        name = ""
        if mutation == 0:
            headers = [h for h in headers if h[0] != b"Host"]
            expect, name = frozenset({400}), "no Host on HTTP 1.1"
        elif mutation == 1:
            host = rng.choice([b"evil.example", b"10.0.0.1", b"localhost.evil.example", b"127.0.0.1.nip.io:80"])
            headers[0] = (b"Host", host)
            expect, name = frozenset({421}), "foreign Host"
        elif mutation == 2:
            headers[0] = (b"Host", rng.choice([b"localhost", b"localhost:1", b"[::1]:8000", b"127.0.0.2", b"LocalHost"]))
            name = "loopback Host"
        elif mutation == 3:
            headers[0] = (b"Host", rng.choice([b"", b"a b", b"[::1", b":80", b"\x80\xff"]))
            expect, name = None, "odd Host"
        elif mutation == 4:
            origin = rng.choice([b"http://evil.example", b"null", b"https://localhost.evil.example", b"file://"])
            headers.append((b"Origin", origin))
            expect, name = frozenset({403}), "foreign Origin"
        elif mutation == 5:
            headers.append((b"Origin", rng.choice([b"http://localhost:3000", b"https://127.0.0.1", b"HTTP://LOCALHOST"])))
            name = "loopback Origin"
        elif mutation == 6:
            headers = [h for h in headers if h[0] != b"Content-Type"]
            expect, name = frozenset({415}), "no Content-Type"
        elif mutation == 7:
            headers[1] = (b"Content-Type", rng.choice([b"text/plain", b"application/x-www-form-urlencoded", b""]))
            expect, name = frozenset({415}), "foreign Content-Type"
        elif mutation == 8:
            headers[1] = (b"Content-Type", rng.choice(
                [b"application/json; charset=utf-8", b"application/json;charset=UTF-8", b"application/json "]))
            name = "Content-Type with parameters"  # fmt: skip
        elif mutation == 9:
            headers = [h for h in headers if h[0] != b"Accept"]
            expect, name = frozenset({406}), "no Accept"
        elif mutation == 10:
            headers[2] = (b"Accept", rng.choice([b"*/*", b"application/json;q=0.9, text/event-stream;q=0.5"]))
            name = "Accept variant"
        elif mutation == 11:
            headers = [(n, v) if n != b"MCP-Protocol-Version" else (n, rng.choice([b"1.0", b"", b"2025-11-25x"]))
                       for n, v in headers] if session else [*headers, (b"MCP-Protocol-Version", b"nope")]
            expect, name = frozenset({400}), "bad MCP-Protocol-Version"  # fmt: skip
        elif mutation == 12:
            headers = [h for h in headers if h[0] != b"Mcp-Session-Id"]
            if session:  # a ping without a session: refused, nothing allocated
                expect, name = frozenset({400}), "no Mcp-Session-Id"
            else:
                name = "initialize"
        elif mutation == 13:
            headers.append((b"X-Fuzz-" + self.text(rng).encode("utf-8", "surrogatepass")[:8], b"v"))
            expect, name = None, "odd header name"
        elif mutation == 14:
            headers.append((b"X-Big", b"x" * rng.choice([1000, 70_000])))
            expect, name = (ok if len(headers[-1][1]) < 60_000 else frozenset({431})), "big header"
        elif mutation == 15:
            headers += [(b"X-%d" % i, b"v") for i in range(rng.choice([50, 150]))]
            expect, name = (ok if len(headers) < 100 else frozenset({431})), "many headers"
        elif mutation == 16:
            headers.append((b"X-Bad", rng.choice([b"a\x00b", b"a\x7fb", b"a\rb"])))
            expect, name = None, "control byte in a value"
        elif mutation == 17:
            headers.append((b"Expect", b"100-continue"))
            name = "Expect: 100-continue"
        elif mutation == 18:
            version, name = b"HTTP/1.0", "HTTP/1.0"
        elif mutation == 19:
            headers.append((b"Connection", rng.choice([b"close", b"keep-alive", b"upgrade"])))
            headers.append((b"Upgrade", b"websocket")) if headers[-1][1] == b"upgrade" else None
            expect, name = None, "Connection"
        elif mutation == 20:
            headers.append((b"Content-Length", b"%d" % (len(body) + 1)))  # two different lengths
            expect, name = frozenset({400}), "two Content-Lengths"
        else:
            headers += [(b"Content-Type", b"text/plain"), (b"Content-Type", b"application/json")]
            headers = [h for i, h in enumerate(headers) if i != 1]
            expect, name = frozenset({400}), "repeated Content-Type (a field sent once at most)"
        data = self._request(b"POST", headers, body, version=version)
        case = Case("http-headers/" + name, data, expect=expect)
        case.raw = mutation in (13, 16, 19)
        return case

    def _http_framing(self, rng: random.Random) -> Case:
        """Chunked bodies, Content-Length games."""
        body = encode({"jsonrpc": "2.0", "id": 9, "method": "tools/list"})
        headers = [h for h in self.post_headers(self.session)]
        mutation = rng.randrange(7)
        chunks: list[bytes] = []
        rest = body
        while rest:
            size = rng.randrange(1, len(rest) + 1)
            extension = rng.choice([b"", b"", b";a=b", b";x"])
            chunks.append(b"%x%s\r\n%s\r\n" % (size, extension, rest[:size]))
            rest = rest[size:]
        te = [(b"Transfer-Encoding", b"chunked")]
        if mutation == 0:
            data = self._request(b"POST", headers + te, chunked=[*chunks, b"0\r\n\r\n"])
            return Case("http-framing/chunked", data, expect=frozenset({200}), answer_id=9)
        if mutation == 1:
            data = self._request(b"POST", headers + te, chunked=[*chunks, b"0\r\nX-Trailer: 1\r\n\r\n"])
            return Case("http-framing/chunked with trailer", data, expect=frozenset({200}), answer_id=9)
        if mutation == 2:
            data = self._request(b"POST", headers + te, chunked=[b"zz\r\n", *chunks, b"0\r\n\r\n"])
            return Case("http-framing/bad chunk size", data, expect=frozenset({400}), raw=True)
        if mutation == 3:
            both = [*headers, *te, (b"Content-Length", b"%d" % len(body))]
            data = self._request(b"POST", both, chunked=[*chunks, b"0\r\n\r\n"])
            return Case("http-framing/Transfer-Encoding with Content-Length", data, expect=frozenset({400}), raw=True)
        if mutation == 4:
            data = self._request(b"POST", headers + te, chunked=chunks)  # never finished
            return Case("http-framing/unfinished chunked", data, raw=True)
        if mutation == 5:
            lie = rng.choice([b"-1", b"abc", b"1e3", b" 5", b"99999999999999999999"])
            data = self._request(b"POST", [*headers, (b"Content-Length", lie)], chunked=[body])
            return Case("http-framing/bad Content-Length", data, expect=frozenset({400, 413}), raw=True)
        short = self._request(b"POST", headers, body)[: -rng.randrange(1, 10)]
        return Case("http-framing/short body", short, raw=True)

    def _http_other(self, rng: random.Random) -> Case:
        """Other methods, paths and targets."""
        host = [(b"Host", b"127.0.0.1:%d" % self.port)]
        mutation = rng.randrange(8)
        if mutation == 0:
            method = rng.choice([b"PUT", b"PATCH", b"OPTIONS"])
            return Case("http-other/method", self._request(method, host), expect=frozenset({405}))
        if mutation == 1:
            method = rng.choice([b"FOO", b"post", b"GET\x00", b"P0ST", b"CONNECT"])
            return Case("http-other/unknown method", self._request(method, host), raw=True)
        if mutation == 2:
            target = rng.choice([b"/MCP", b"//mcp", b"/mcp/..", b"/", b"*", b"http://127.0.0.1/mcp", b"/%6dcp"])
            return Case("http-other/path", self._request(b"GET", host, target=target), expect=None)
        if mutation == 3:
            target = rng.choice([b"/mcp?x=" + b"a" * 70_000, b"/\xff\xfe", b"/mcp#frag", b"/ mcp"])
            return Case("http-other/target", self._request(b"GET", host, target=target), raw=True)
        if mutation == 4:
            version = rng.choice([b"HTTP/2.0", b"HTTP/0.9", b"HTTP/1.2", b"HTTP/9", b"HTTX/1.1"])
            return Case("http-other/version", self._request(b"POST", host, target=b"/mcp", version=version), raw=True)
        if mutation == 5:
            sent = rng.choice([b"deadbeef", b"", self.session.encode()])
            headers = [*host, (b"Mcp-Session-Id", sent)] if sent != self.session.encode() else host
            expect = frozenset({404} if sent == b"deadbeef" else {400, 404})
            return Case("http-other/DELETE", self._request(b"DELETE", headers), expect=expect)
        accept = rng.choice([b"text/event-stream", b"application/json", b"*/*", b""])
        session = rng.choice([self.session.encode(), b"deadbeef", None])
        headers = [*host, (b"Accept", accept), (b"MCP-Protocol-Version", PROTOCOL.encode())]
        if session is not None:
            headers.append((b"Mcp-Session-Id", session))
        if mutation == 7 and session is not None:
            headers.append((b"Last-Event-ID", rng.choice([b"x", b"0.0", b".", b"g1.1", b"\xff"])))
        return Case("http-other/GET", self._request(b"GET", headers), stream_ok=True)

    def _http_pipeline(self, rng: random.Random) -> Case:
        count = rng.randrange(2, 6)
        data = b"".join(
            self._request(b"POST", self.post_headers(self.session), encode({"jsonrpc": "2.0", "id": 100 + i, "method": "ping"}))
            for i in range(count)
        )  # fmt: skip
        return Case("http-pipeline", data, expect=frozenset({200}), requests=count)

    def _http_raw(self, rng: random.Random) -> Case:
        """Byte damage to a valid request: flips, insertions, deletions, bare LFs, truncation."""
        base = self._http_post(rng)
        data = bytearray(base.data)
        for _ in range(rng.randrange(1, 4)):
            if not data:
                break
            where = rng.randrange(len(data))
            op = rng.randrange(6)
            if op == 0:
                data[where] ^= 1 << rng.randrange(8)
            elif op == 1:
                data[where:where] = rng.choice([b"\r\n", b"\n", b"\x00", b"\xff", b" ", b":", rng.randbytes(3)])
            elif op == 2:
                del data[where : where + rng.randrange(1, 8)]
            elif op == 3:
                data[where:where] = data[where : where + rng.randrange(1, 40)]
            elif op == 4:
                data = bytearray(bytes(data).replace(b"\r\n", b"\n", rng.randrange(1, 4)))
            else:
                del data[where:]
        return Case("http-raw/" + base.kind, bytes(data), raw=True)

    def case(self, index: int, stdio: bool = False) -> Case:
        rng = random.Random(f"{self.seed}:{index}")
        return self.json_case(rng, stdio=True) if stdio else self.http_case(rng)

    def modern_case(self, index: int) -> Case:
        """A JSON case POSTed on the 2026-07-28 wire: no session; most carry the per-request `_meta` and the
        Mcp-Method / Mcp-Name headers that mirror the body (Base64 when not plain ASCII), some do not."""
        rng = random.Random(f"{self.seed}:modern:{index}")
        base = self.json_case(rng)
        body = base.data
        headers = [*self.post_headers(None), (b"MCP-Protocol-Version", MODERN.encode())]
        try:  # numbers kept as written (1e400 stays 1e400, not inf); NaN and Infinity are not JSON
            message = json.loads(body, parse_float=_raw_number, parse_constant=_no_constant)
        except (ValueError, RecursionError):
            message = None
        if isinstance(message, dict) and rng.random() < 0.85:
            params = message.get("params")
            if params is None and "method" in message and rng.random() < 0.5:
                params = message["params"] = {}
            if isinstance(params, dict) and rng.random() < 0.9:
                meta = params.get("_meta")
                params["_meta"] = {**(meta if isinstance(meta, dict) else {}), **MODERN_META}
            body = encode(message)
            method = message.get("method")
            if isinstance(method, str) and rng.random() < 0.9:
                headers.append((b"Mcp-Method", _header_value(method)))
                named = (params.get("name") or params.get("uri")) if isinstance(params, dict) else None
                if isinstance(named, str):
                    headers.append((b"Mcp-Name", _header_value(named)))
        case = Case("http-modern/" + base.kind.removeprefix("json/"), self._request(b"POST", headers, body))
        if len(body) > DEFAULT_MAX_MESSAGE_BYTES:
            case.expect = frozenset({413})  # refused from its Content-Length
        else:
            oracle = Case("", body)
            _derive_oracle(oracle)
            case.expect, case.expect_rpc, case.answer_id = oracle.expect, oracle.expect_rpc, oracle.answer_id
        return case


MODERN = "2026-07-28"
MODERN_META = {
    "io.modelcontextprotocol/protocolVersion": MODERN,
    "io.modelcontextprotocol/clientCapabilities": {},
    "io.modelcontextprotocol/clientInfo": {"name": "fuzz", "version": "1"},
}


def _raw_number(text: str) -> Raw:
    return Raw(text.encode())


def _no_constant(text: str) -> Any:
    raise ValueError(f"{text} is not JSON")


def _header_value(text: str) -> bytes:
    """A value as our client's header carries it (runtime/client/modern.py); one with a lone surrogate,
    which no client can encode as UTF-8, in the Base64 form of its surrogatepass bytes."""
    try:
        return header_value(text).encode()
    except UnicodeEncodeError:
        return b"=?base64?" + base64.b64encode(text.encode("utf-8", "surrogatepass")) + b"?="


_MISSING: Any = object()


def _int64(text: str) -> int:
    value = int(text)
    if not -(2**63) <= value < 2**64:
        raise ValueError("an integer a parser may refuse")
    return value


def _finite(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError("a number a parser may refuse")
    return value


def _derive_oracle(case: Case) -> None:
    """What any correct server must answer to these bytes, whatever else it does."""
    try:
        text = case.data.decode("utf-8")
    except UnicodeDecodeError:
        case.expect_rpc, case.expect = -32700, frozenset({400})  # JSON text must be UTF-8 (RFC 8259 8.1)
        return
    try:
        pairs: list[list[tuple[str, Any]]] = []

        def keep_pairs(p: list[tuple[str, Any]]) -> dict[str, Any]:
            pairs.append(p)
            return dict(p)

        message = json.loads(text, object_pairs_hook=keep_pairs, parse_int=_int64, parse_float=_finite)
    except (ValueError, RecursionError):  # unreadable, or beyond a parser's allowed limits (RFC 8259 9)
        return
    if any(len({k for k, _ in p}) != len(p) for p in pairs) or not isinstance(message, dict):
        return
    request_id = message.get("id")
    if (
        message.get("jsonrpc") == "2.0"
        and isinstance(message.get("method"), str)
        and ((type(request_id) is int and abs(request_id) < 2**53) or isinstance(request_id, str))
    ):
        case.answer_id = request_id
