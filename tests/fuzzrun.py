"""Drives tests/fuzzgen.py's cases against real servers (HTTP over raw sockets, stdio over pipes) and checks
every answer: no 5xx, no HTTP-layer error body that is not a JSON-RPC error, no internal error or internal
detail for client input, each case's oracle, no hang, and a server still alive and answering afterwards."""

from __future__ import annotations

import contextlib
import json
import queue
import re
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from tests.fuzzgen import PROTOCOL, Case, Generator, encode

LEAKS = re.compile(r'Traceback|File "|site-packages|\.py\b|Error\(')  # internal detail in a message


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes = b""
    streaming: bool = False  # a stream left open (its head only was read)


@dataclass
class Failure:
    problem: str
    case: Case
    where: str  # seed:index, to replay
    detail: str = ""


@dataclass
class Report:
    target: str
    cases: int = 0
    failures: dict[tuple[str, str], list[Failure]] = field(default_factory=dict)
    seconds: float = 0.0

    def add(self, failure: Failure) -> None:
        key = (failure.problem, failure.case.kind.split("/")[0] + "/" + failure.case.kind.split("/")[-1])
        self.failures.setdefault(key, []).append(failure)

    def text(self) -> str:
        lines = [f"{self.target}: {self.cases} cases in {self.seconds:.1f} s, {len(self.failures)} distinct failures"]
        for (problem, kind), found in sorted(self.failures.items()):
            smallest = min(found, key=lambda f: len(f.case.data))
            data = smallest.case.data
            shown = repr(data[:300]) + (f"... ({len(data)} bytes)" if len(data) > 300 else "")
            lines.append(f"- {problem} [{kind}] x{len(found)}; smallest: case {smallest.where}")
            lines.append(f"    sent: {shown}")
            if smallest.detail:
                lines.append(f"    got:  {smallest.detail[:300]}")
        return "\n".join(lines)


# -- HTTP ----------------------------------------------------------------------------------------------------


class Reader:
    """Reads HTTP/1.1 responses (Content-Length, chunked, or to EOF) from a socket, bounded by a deadline."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = bytearray()
        self.eof = False

    def _fill(self, deadline: float) -> None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        self.sock.settimeout(remaining)
        chunk = self.sock.recv(1 << 20)
        if not chunk:
            self.eof = True
        self.buffer += chunk

    def _until(self, marker: bytes, deadline: float) -> bytes | None:
        while (end := self.buffer.find(marker)) < 0:
            if self.eof:
                return None
            self._fill(deadline)
        data = bytes(self.buffer[:end])
        del self.buffer[: end + len(marker)]
        return data

    def _exact(self, size: int, deadline: float) -> bytes | None:
        while len(self.buffer) < size:
            if self.eof:
                return None
            self._fill(deadline)
        data = bytes(self.buffer[:size])
        del self.buffer[:size]
        return data

    def response(self, deadline: float, stream_ok: bool = False) -> Response | None:
        while True:
            head = self._until(b"\r\n\r\n", deadline)
            if head is None:
                if self.buffer:
                    raise ValueError(f"truncated response head {bytes(self.buffer[:200])!r}")
                return None
            lines = head.decode("latin-1").split("\r\n")
            status = int(lines[0].split(" ")[1])
            if status >= 200:
                break
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        response = Response(status, headers)
        if stream_ok and headers.get("content-type", "").startswith("text/event-stream"):
            response.streaming = True
            return response
        if headers.get("transfer-encoding") == "chunked":
            parts = []
            while True:
                size_line = self._until(b"\r\n", deadline)
                if size_line is None:
                    raise ValueError("chunked response cut short")
                size = int(size_line.split(b";")[0], 16)
                if size == 0:
                    self._until(b"\r\n", deadline)
                    break
                parts.append(self._exact(size, deadline) or b"")
                self._until(b"\r\n", deadline)
            response.body = b"".join(parts)
        elif "content-length" in headers:
            response.body = self._exact(int(headers["content-length"]), deadline) or b""
        else:
            while not self.eof:
                self._fill(deadline)
            response.body, self.buffer = bytes(self.buffer), bytearray()
        return response


def _messages(response: Response) -> list[Any]:
    """The JSON-RPC messages in a response body (JSON, or SSE data lines); raises ValueError if unreadable."""
    if response.headers.get("content-type", "").startswith("text/event-stream"):
        data = [line[5:].strip() for line in response.body.split(b"\n") if line.startswith(b"data:")]
        return [json.loads(item) for item in data if item]
    return [json.loads(response.body)] if response.body else []


def is_rpc_error(message: Any) -> bool:
    if not isinstance(message, dict) or message.get("jsonrpc") != "2.0" or "result" in message:
        return False
    error = message.get("error")
    request_id = message.get("id")
    return (
        isinstance(error, dict)
        and type(error.get("code")) is int
        and isinstance(error.get("message"), str)
        and (request_id is None or type(request_id) is int or isinstance(request_id, str))
    )


def check_messages(messages: list[Any], case: Case, problems: list[tuple[str, str]]) -> None:
    """Problems any JSON-RPC answer to client input may not have, and the case's own oracle."""
    for message in messages:
        if not isinstance(message, dict) or message.get("jsonrpc") != "2.0":
            problems.append(("answer is not a JSON-RPC message", repr(message)[:300]))
            continue
        if "error" in message:
            if not is_rpc_error(message):
                problems.append(("malformed JSON-RPC error", repr(message)[:300]))
                continue
            if message["error"]["code"] == -32603:
                problems.append(("internal error (-32603) for client input", repr(message)[:300]))
            if LEAKS.search(message["error"]["message"]):
                problems.append(("internal detail in an error message", message["error"]["message"][:300]))
    errors = [m["error"]["code"] for m in messages if isinstance(m, dict) and isinstance(m.get("error"), dict)]
    if case.expect_rpc is not None and case.expect_rpc not in errors:
        problems.append((f"expected JSON-RPC error {case.expect_rpc}", repr(messages)[:300]))
    if case.answer_id is not None:
        ids = [m.get("id") for m in messages if isinstance(m, dict) and ("result" in m or "error" in m)]
        if case.answer_id not in ids:
            problems.append(("no response with the request's id", repr(messages)[:300]))


def check_http(case: Case, responses: list[Response], problems: list[tuple[str, str]]) -> None:
    messages: list[Any] = []
    for response in responses:
        detail = f"{response.status} {response.body[:200]!r}"
        if response.status >= 500:
            problems.append((f"HTTP {response.status}", detail))
        if response.streaming:
            continue
        try:
            found = _messages(response)
        except ValueError:
            if response.status >= 400 or response.headers.get("content-type", "").startswith("application/json"):
                problems.append(("HTTP error body is not a JSON-RPC error", detail))
            continue
        if response.status >= 400 and not (len(found) == 1 and is_rpc_error(found[0])):
            problems.append(("HTTP error body is not a JSON-RPC error", detail))
            continue
        messages += found
    if case.expect is not None and responses and any(r.status not in case.expect for r in responses):
        got = [r.status for r in responses]
        problems.append((f"expected HTTP {sorted(case.expect)}", f"got {got} {responses[0].body[:200]!r}"))
    if case.raw and not responses:
        if case.expect is not None and len(case.data) < 32_000:
            problems.append((f"no answer (expected HTTP {sorted(case.expect)})", ""))
        return
    if case.expect_rpc is not None or case.answer_id is not None or messages:
        check_messages(messages, case, problems)


class HttpFuzzer:
    """Sends cases to one server: framed cases on a keep-alive connection (reopened when the server closes
    it, and every `spread` cases so SO_REUSEPORT spreads them over the workers), raw cases on their own."""

    def __init__(
        self, port: int, seed: int, timeout: float = 10.0, spread: int = 40, modern: bool = False
    ) -> None:
        self.modern = modern  # the 2026-07-28 wire's cases (Generator.modern_case), no session
        self.port = port
        self.seed = seed
        self.timeout = timeout
        self.spread = spread
        self.sock: socket.socket | None = None
        self.reader: Reader | None = None
        self.session = start_session(port)
        self.generator = Generator(seed, self.session, port)

    def _connect(self) -> tuple[socket.socket, Reader]:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=self.timeout)
        return sock, Reader(sock)

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
        self.sock = self.reader = None

    def run_case(self, index: int, report: Report) -> None:
        case = self.generator.modern_case(index) if self.modern else self.generator.case(index)
        problems: list[tuple[str, str]] = []
        try:
            responses = self._exchange(case, index)
        except TimeoutError:
            problems.append((f"hang: no complete answer within {self.timeout:.0f} s", ""))
            self.close()
            responses = []
        except ConnectionRefusedError:
            raise
        except (ConnectionError, ValueError) as exc:
            if not (case.raw and len(case.data) >= 32_000):
                problems.append(("connection broken without an answer", repr(exc)))
            self.close()
            responses = []
        check_http(case, responses, problems)
        for problem, detail in problems:
            report.add(Failure(problem, case, f"{self.seed}:{index}", detail))

    def _exchange(self, case: Case, index: int) -> list[Response]:
        deadline = time.monotonic() + self.timeout
        if case.raw:
            sock, reader = self._connect()
            try:
                try:
                    sock.sendall(case.data)
                    sock.shutdown(socket.SHUT_WR)
                except OSError:
                    pass  # refused while sending: read what the server said
                # The half-close is an end of file, which the server takes as the client gone (it cannot
                # tell it from a close, and a closed response stream cancels the request): a streamed
                # answer may stop after its head, which is all that is judged of it.
                responses = []
                while (response := reader.response(deadline, stream_ok=True)) is not None:
                    responses.append(response)
                    if response.streaming:
                        break
                return responses
            finally:
                sock.close()
        if self.sock is None or index % self.spread == 0:
            self.close()
            self.sock, self.reader = self._connect()
        assert self.reader is not None
        with contextlib.suppress(OSError):
            self.sock.sendall(case.data)
        responses = []
        for _ in range(case.requests):
            response = self.reader.response(deadline, stream_ok=case.stream_ok)
            if response is None:
                raise ConnectionError("closed by the server before its answer")
            responses.append(response)
            if response.streaming or response.headers.get("connection") == "close":
                self.close()
                break
        return responses


def start_session(port: int, timeout: float = 10.0) -> str:
    """initialize + notifications/initialized on a fresh connection; returns the session id."""
    init = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {"protocolVersion": PROTOCOL, "capabilities": {}, "clientInfo": {"name": "fuzz", "version": "1"}},
    }
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        reader = Reader(sock)
        headers = [(b"Host", b"127.0.0.1"), (b"Content-Type", b"application/json"), (b"Accept", b"application/json, text/event-stream")]
        sock.sendall(Generator(0)._request(b"POST", headers, encode(init)))
        response = reader.response(time.monotonic() + timeout)
        assert response is not None and response.status == 200, response
        session = response.headers["mcp-session-id"]
        headers += [(b"Mcp-Session-Id", session.encode()), (b"MCP-Protocol-Version", PROTOCOL.encode())]
        sock.sendall(Generator(0)._request(b"POST", headers, b'{"jsonrpc":"2.0","method":"notifications/initialized"}'))
        response = reader.response(time.monotonic() + timeout)
        assert response is not None and response.status == 202, response
    return session


def http_alive(port: int, timeout: float = 10.0, tries: int = 8) -> str | None:
    """None if fresh sessions on fresh connections (likely reaching every worker) get an echo answered."""
    for _ in range(tries):
        try:
            session = start_session(port, timeout)
            with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
                headers = Generator(0, session, port).post_headers(session)
                call = {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "echo", "arguments": {"text": "hi"}}}
                sock.sendall(Generator(0)._request(b"POST", headers, encode(call)))
                response = Reader(sock).response(time.monotonic() + timeout)
        except (OSError, AssertionError, KeyError) as exc:
            return f"normal request failed: {exc!r}"
        if response is None or response.status != 200 or b'"hi"' not in response.body:
            return f"normal request failed: {response}"
    return None


# -- stdio ---------------------------------------------------------------------------------------------------


class StdioFuzzer:
    """One `mcprt serve --stdio` process: each case line is followed by a ping whose answer bounds the wait."""

    def __init__(self, command: list[str], seed: int, timeout: float = 10.0, env: dict[str, str] | None = None) -> None:
        self.seed = seed
        self.timeout = timeout
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
        )
        self.lines: queue.Queue[bytes | None] = queue.Queue()
        self.log: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._drain, daemon=True).start()
        self.generator = Generator(seed)
        self._pings = 0
        init = {"jsonrpc": "2.0", "id": "init", "method": "initialize",
                "params": {"protocolVersion": PROTOCOL, "capabilities": {}, "clientInfo": {"name": "fuzz", "version": "1"}}}  # fmt: skip
        self._send(encode(init))
        self._collect("init", None)  # returns once the initialize answer is in
        self._send(b'{"jsonrpc":"2.0","method":"notifications/initialized"}')

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip(b"\n"))
        self.lines.put(None)

    def _drain(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.log.append(line.decode("utf-8", "replace"))

    def _send(self, line: bytes) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line + b"\n")
        self.process.stdin.flush()

    def _collect(self, ping_id: str, answer_id: Any) -> list[Any]:
        """Lines until the ping's answer (and the case's, if it needs one) arrive; TimeoutError if not."""
        deadline = time.monotonic() + self.timeout
        got: list[Any] = []
        pinged = answered = False
        while not (pinged and (answered or answer_id is None)):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            try:
                line = self.lines.get(timeout=remaining)
            except queue.Empty:
                raise TimeoutError from None
            if line is None:
                raise ConnectionError(f"the process exited (code {self.process.wait()})")
            try:
                message = json.loads(line)
            except ValueError:
                got.append(line)
                continue
            if isinstance(message, dict) and message.get("id") == ping_id and "method" not in message:
                pinged = True
                continue
            if isinstance(message, dict) and message.get("id") == answer_id and "method" not in message:
                answered = True
            got.append(message)
        return got

    def ping(self) -> list[Any]:
        self._pings += 1
        ping_id = f"live-{self._pings}"
        self._send(encode({"jsonrpc": "2.0", "id": ping_id, "method": "ping"}))
        return self._collect(ping_id, None)

    def run_case(self, index: int, report: Report) -> bool:
        """False once the process is gone (nothing more to send)."""
        case = self.generator.case(index, stdio=True)
        problems: list[tuple[str, str]] = []
        alive = True
        try:
            self._send(case.data)
            self._pings += 1
            ping_id = f"live-{self._pings}"
            self._send(encode({"jsonrpc": "2.0", "id": ping_id, "method": "ping"}))
            messages = self._collect(ping_id, case.answer_id)
            check_messages(messages, case, problems)
        except TimeoutError:
            problems.append((f"hang: no answer to the next ping within {self.timeout:.0f} s", ""))
        except (ConnectionError, BrokenPipeError) as exc:
            problems.append(("stdio server exited", repr(exc) + " " + "".join(self.log[-3:])[:300]))
            alive = False
        for problem, detail in problems:
            report.add(Failure(problem, case, f"{self.seed}:{index}", detail))
        return alive

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.close()  # type: ignore[union-attr]
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def logged_errors(lines: list[str]) -> list[str]:
    """Internal errors and worker deaths a server logged while being fuzzed (one line each)."""
    patterns = ("Traceback", "handler error", "exited (code", " hung:", "killed", "restarting", "Error")
    return sorted({line.strip()[:300] for line in lines if any(p in line for p in patterns)})


def run(fuzzer: HttpFuzzer | StdioFuzzer, report: Report, first: int, count: int, seconds: float | None = None,
        progress: bool = False) -> None:  # fmt: skip
    started = time.monotonic()
    for index in range(first, first + count):
        if seconds is not None and time.monotonic() - started > seconds:
            break
        try:
            alive = fuzzer.run_case(index, report)
        except ConnectionRefusedError as exc:
            report.add(Failure("server stopped accepting connections", fuzzer.generator.case(index), f"{fuzzer.seed}:{index}", repr(exc)))  # fmt: skip
            alive = False
        report.cases += 1
        if alive is False:
            break
        if progress and report.cases % 1000 == 0:
            print(f"{report.target}: {report.cases} cases, {len(report.failures)} distinct failures",
                  file=sys.stderr, flush=True)  # fmt: skip
    report.seconds = time.monotonic() - started
