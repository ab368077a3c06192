"""Each negotiated protocol revision gets what it has and nothing else: capabilities, serverInfo, list fields,
tools/call results, methods and JSON-RPC batches (2025-03-26 only), over real HTTP and stdio processes."""

from __future__ import annotations

import http.client
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import RunningServer, serve_command
from tests.test_http_transport import sse_events

pytestmark = pytest.mark.timeout(90)
APP = str(Path(__file__).parent / "apps" / "revisions.py") + ":server"
ACCEPT = "application/json, text/event-stream"
VERSIONS = ["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"]
ORDER = {version: index for index, version in enumerate(reversed(VERSIONS))}


def at_least(version: str, since: str) -> bool:
    return ORDER[version] >= ORDER[since]


def initialize(version: str, request_id: int = 0, capabilities: Any = None) -> dict[str, Any]:
    params = {
        "protocolVersion": version,
        "capabilities": capabilities or {},
        "clientInfo": {"name": "t", "version": "1"},
    }
    return {"jsonrpc": "2.0", "id": request_id, "method": "initialize", "params": params}


def req(request_id: int, method: str, params: Any = None) -> dict[str, Any]:
    message: dict[str, Any] = {"jsonrpc": "2.0", "id": request_id, "method": method}
    if params is not None:
        message["params"] = params
    return message


INITIALIZED = {"jsonrpc": "2.0", "method": "notifications/initialized"}


class HttpSession:
    def __init__(self, server: RunningServer, version: str) -> None:
        self.port = server.port
        self.version = version
        status, headers, body = self.post(initialize(version), session=False)
        assert status == 200, body
        self.id = headers["mcp-session-id"]
        self.init = json.loads(body)["result"]
        assert self.post(INITIALIZED)[0] == 202

    def post(self, message: Any, session: bool = True) -> tuple[int, dict[str, str], bytes]:
        headers = {"Accept": ACCEPT, "Content-Type": "application/json"}
        if session:
            headers["Mcp-Session-Id"] = self.id
            if at_least(self.version, "2025-06-18"):
                headers["MCP-Protocol-Version"] = self.version
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=20)
        conn.request("POST", "/mcp", body=json.dumps(message).encode(), headers=headers)
        response = conn.getresponse()
        result = response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        conn.close()
        return result

    def rpc(self, message: Any) -> Any:
        status, headers, body = self.post(message)
        assert status == 200, body
        if headers["content-type"] == "text/event-stream":
            return [json.loads(e["data"]) for e in sse_events(body) if e.get("data")][-1]
        return json.loads(body)


def stdio(version: str, *messages: Any, capabilities: Any = None) -> list[Any]:
    """Run a stdio server over one session of `version`: initialize, then `messages` (one line each)."""
    lines = [initialize(version, capabilities=capabilities), INITIALIZED, *messages]
    data = b"".join(json.dumps(m).encode() + b"\n" for m in lines)
    proc = subprocess.run(serve_command("--stdio", app=APP), input=data, capture_output=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    return [json.loads(line) for line in proc.stdout.splitlines()]


def by_id(answers: list[Any]) -> dict[Any, Any]:
    return {a["id"]: a for a in answers if isinstance(a, dict) and "id" in a}


@pytest.fixture(scope="module")
def server() -> Iterator[RunningServer]:
    running = RunningServer(app=APP)
    yield running
    running.stop()


# -- what each revision is shown -------------------------------------------------------------------------


def check_initialize(version: str, result: dict[str, Any]) -> None:
    assert result["protocolVersion"] == version
    caps = result["capabilities"]
    assert {"logging", "tools", "resources", "prompts"} <= caps.keys()
    assert ("completions" in caps) == at_least(version, "2025-03-26")
    assert ("tasks" in caps) == at_least(version, "2025-11-25")
    info = result["serverInfo"]
    assert info["name"] == "revisions-test" and info["version"] == "1.0.0"
    assert ("title" in info) == at_least(version, "2025-06-18")
    for field in ("description", "websiteUrl", "icons"):
        assert (field in info) == at_least(version, "2025-11-25"), field


def check_tools(version: str, tools: list[dict[str, Any]]) -> None:
    named = {tool["name"]: tool for tool in tools}
    weather = named["weather"]
    assert weather["inputSchema"]["type"] == "object" and weather["description"]
    assert ("annotations" in weather) == at_least(version, "2025-03-26")
    for field in ("title", "outputSchema", "_meta"):
        assert (field in weather) == at_least(version, "2025-06-18"), field
    assert ("icons" in weather) == at_least(version, "2025-11-25")
    assert ("execution" in named["slow"]) == at_least(version, "2025-11-25")
    # A tool that must run as a task cannot be called by a session without tasks: not listed to it.
    assert ("task_only" in named) == at_least(version, "2025-11-25")


def check_resources_and_prompts(version: str, resources: list[Any], prompts: list[Any]) -> None:
    (doc,) = resources
    assert doc["uri"] == "test://doc" and doc["annotations"]["priority"] == 1.0
    assert ("title" in doc) == at_least(version, "2025-06-18")
    assert ("lastModified" in doc["annotations"]) == at_least(version, "2025-06-18")
    assert ("icons" in doc) == at_least(version, "2025-11-25")
    greet, _listen = prompts
    assert greet["arguments"][0]["name"] == "name"
    assert ("title" in greet) == at_least(version, "2025-06-18")
    assert ("icons" in greet) == at_least(version, "2025-11-25")


def check_calls(version: str, weather: dict[str, Any], media: dict[str, Any], cached: dict[str, Any]) -> None:
    for result, celsius in ((weather, 21.5), (cached, 19.0)):
        # The text block carries the JSON for every revision; structuredContent only from 2025-06-18.
        assert json.loads(result["content"][0]["text"]) == {"celsius": celsius}
        assert ("structuredContent" in result) == at_least(version, "2025-06-18")
    kinds = [block["type"] for block in media["content"]]
    if at_least(version, "2025-06-18"):
        assert kinds == ["text", "resource_link", "audio"]
        assert ("icons" in media["content"][1]) == at_least(version, "2025-11-25")
    elif version == "2025-03-26":
        assert kinds == ["text", "text", "audio"]
        assert media["content"][1]["text"] == "The doc: test://doc"
    else:
        assert kinds == ["text", "text", "text"]
        assert "audio/wav" in media["content"][2]["text"]


def check_refusals(version: str, answers: dict[Any, Any]) -> None:
    tasks_list, complete = answers[20], answers[21]
    if at_least(version, "2025-11-25"):
        assert tasks_list["result"]["tasks"] == []
    else:
        assert tasks_list["error"]["code"] == -32601
    if at_least(version, "2025-03-26"):
        assert complete["result"]["completion"]["values"] == ["alice"]
    else:
        assert complete["error"]["code"] == -32601


TOUR = [
    req(1, "tools/list"),
    req(2, "resources/list"),
    req(3, "prompts/list"),
    req(10, "tools/call", {"name": "weather", "arguments": {"city": "x"}}),
    req(11, "tools/call", {"name": "media"}),
    req(12, "tools/call", {"name": "cached_weather", "arguments": {"city": "x"}}),
    req(20, "tasks/list"),
    req(
        21,
        "completion/complete",
        {"ref": {"type": "ref/prompt", "name": "greet"}, "argument": {"name": "name", "value": "a"}},
    ),
]


def check_tour(version: str, init: dict[str, Any], answers: dict[Any, Any]) -> None:
    check_initialize(version, init)
    check_tools(version, answers[1]["result"]["tools"])
    check_resources_and_prompts(version, answers[2]["result"]["resources"], answers[3]["result"]["prompts"])
    check_calls(version, answers[10]["result"], answers[11]["result"], answers[12]["result"])
    check_refusals(version, answers)


@pytest.mark.parametrize("version", VERSIONS)
def test_each_revision_over_http(server: RunningServer, version: str) -> None:
    session = HttpSession(server, version)
    check_tour(version, session.init, {m["id"]: session.rpc(m) for m in TOUR})


@pytest.mark.parametrize("version", VERSIONS)
def test_each_revision_over_stdio(version: str) -> None:
    answers = stdio(version, *TOUR)
    check_tour(version, answers[0]["result"], by_id(answers[1:]))


def test_revisions_share_one_server_and_its_cache(server: RunningServer) -> None:
    """Sessions of different revisions at once: the shared result and list caches hold the latest shape
    and each session is answered in its own (in both orders)."""
    for order in (VERSIONS, list(reversed(VERSIONS))):
        sessions = [HttpSession(server, version) for version in order]
        for session in sessions:
            check_tools(session.version, session.rpc(req(1, "tools/list"))["result"]["tools"])
            result = session.rpc(req(2, "tools/call", {"name": "cached_weather", "arguments": {"city": "y"}}))
            assert ("structuredContent" in result["result"]) == at_least(session.version, "2025-06-18")


# -- JSON-RPC batches: 2025-03-26 only -------------------------------------------------------------------

BATCH = [
    req(1, "ping"),
    {"jsonrpc": "2.0", "method": "notifications/unknown"},
    req(2, "tools/call", {"name": "slow", "arguments": {"seconds": 0.05}}),  # finishes last
    req(3, "tools/call", {"name": "echo", "arguments": {"text": "hi"}}),
    req(4, "nope/nope"),
    7,
    initialize("2025-03-26", request_id=5),
]


def check_batch_answer(answers: list[Any]) -> None:
    assert isinstance(answers, list) and len(answers) == 6  # the notification has no response
    indexed = by_id(answers)
    assert indexed[1]["result"] == {}
    assert indexed[2]["result"]["content"][0]["text"] == "done"
    assert indexed[3]["result"]["content"][0]["text"] == "hi"
    assert indexed[4]["error"]["code"] == -32601
    assert indexed[5]["error"]["code"] == -32600  # initialize must not be batched
    assert sum(1 for a in answers if "id" not in a and a["error"]["code"] == -32600) == 1  # the 7


@pytest.mark.parametrize("version", ["2024-11-05", "2025-03-26"])
def test_prompt_content_the_revision_lacks(version: str) -> None:
    answers = stdio(version, req(1, "prompts/get", {"name": "listen"}))
    (message,) = by_id(answers)[1]["result"]["messages"]
    assert message["content"]["type"] == ("audio" if version == "2025-03-26" else "text")


def test_batches_on_2025_03_26_over_http(server: RunningServer) -> None:
    session = HttpSession(server, "2025-03-26")
    status, headers, body = session.post(BATCH)
    assert status == 200 and headers["content-type"] == "application/json"
    check_batch_answer(json.loads(body))
    # Only notifications (or responses): 202 and no body.
    notifications = [{"jsonrpc": "2.0", "method": "notifications/unknown"}] * 2
    assert session.post(notifications)[:1] == (202,)
    status, _, body = session.post([])
    assert status == 400 and json.loads(body)["error"]["code"] == -32600


def test_batch_with_progress_over_http_streams(server: RunningServer) -> None:
    """A batch whose request sends a message before its result: SSE, the responses in one array event."""
    session = HttpSession(server, "2025-03-26")
    batch = [req(1, "tools/call", {"name": "progressing", "_meta": {"progressToken": "p"}}), req(2, "ping")]
    status, headers, body = session.post(batch)
    assert status == 200 and headers["content-type"] == "text/event-stream"
    events = [json.loads(e["data"]) for e in sse_events(body) if e.get("data")]
    assert events[0]["method"] == "notifications/progress"
    assert sorted(a["id"] for a in events[-1]) == [1, 2]


def test_batches_on_2025_03_26_over_stdio() -> None:
    notifications = [{"jsonrpc": "2.0", "method": "notifications/unknown"}]
    answers = stdio("2025-03-26", BATCH, notifications, [], req(9, "ping"))
    # Each line is answered when it is done: the batch after its slowest request, the rest meanwhile.
    (batch,) = [a for a in answers if isinstance(a, list)]
    check_batch_answer(batch)
    (empty,) = [a for a in answers[1:] if isinstance(a, dict) and "error" in a]
    assert empty["error"]["code"] == -32600 and "empty" in empty["error"]["message"]
    assert by_id(answers)[9] == {"jsonrpc": "2.0", "id": 9, "result": {}}
    assert len(answers) == 4  # initialize, batch, empty, ping: nothing for the notifications-only batch


def test_batch_size_limit_at_its_edge() -> None:
    from runtime.protocol.core import MAX_BATCH_MESSAGES

    full = [req(i, "ping") for i in range(MAX_BATCH_MESSAGES)]
    answers = stdio("2025-03-26", full, [*full, req(MAX_BATCH_MESSAGES, "ping")])
    assert len(answers[1]) == MAX_BATCH_MESSAGES
    assert answers[2]["error"]["code"] == -32600 and str(MAX_BATCH_MESSAGES) in answers[2]["error"]["message"]


@pytest.mark.parametrize("version", ["2025-11-25", "2025-06-18", "2024-11-05"])
def test_batches_refused_by_other_revisions(server: RunningServer, version: str) -> None:
    session = HttpSession(server, version)
    status, _, body = session.post([req(1, "ping")])
    assert status == 400 and json.loads(body)["error"]["code"] == -32600
    answers = stdio(version, [req(1, "ping")], req(2, "ping"))
    assert answers[1]["error"]["code"] == -32600 and version in answers[1]["error"]["message"]
    assert answers[2]["result"] == {}


# -- the rest the revision decides -----------------------------------------------------------------------


@pytest.mark.parametrize("version", ["2025-06-18", "2025-11-25"])
def test_priming_event_only_from_2025_11_25(server: RunningServer, version: str) -> None:
    session = HttpSession(server, version)
    message = req(1, "tools/call", {"name": "progressing", "_meta": {"progressToken": "p"}})
    status, headers, body = session.post(message)
    assert status == 200 and headers["content-type"] == "text/event-stream"
    primed = sse_events(body)[0].get("data") == ""
    assert primed == (version == "2025-11-25")


@pytest.mark.parametrize("version", ["2024-11-05", "2025-03-26"])
def test_progress_message_only_from_2025_03_26(version: str) -> None:
    answers = stdio(version, req(1, "tools/call", {"name": "progressing", "_meta": {"progressToken": "p"}}))
    progress = next(a for a in answers if a.get("method") == "notifications/progress")
    assert ("message" in progress["params"]) == (version == "2025-03-26")


def test_elicitation_not_sent_to_a_revision_without_it() -> None:
    """A 2025-03-26 client that declares elicitation anyway is not sent elicitation/create."""
    answers = stdio("2025-03-26", req(1, "tools/call", {"name": "elicits"}), capabilities={"elicitation": {}})
    assert not any(a.get("method") == "elicitation/create" for a in answers)
    text = by_id(answers)[1]["result"]["content"][0]["text"]
    assert text.startswith("refused:") and "2025-03-26" in text


def test_stateless_request_without_version_header_is_2025_03_26() -> None:
    stateless = RunningServer("--stateless", app=APP)
    try:

        def post(message: Any, version: str | None) -> tuple[int, bytes]:
            headers = {"Accept": ACCEPT, "Content-Type": "application/json"}
            if version is not None:
                headers["MCP-Protocol-Version"] = version
            conn = http.client.HTTPConnection("127.0.0.1", stateless.port, timeout=20)
            conn.request("POST", "/mcp", body=json.dumps(message).encode(), headers=headers)
            response = conn.getresponse()
            result = response.status, response.read()
            conn.close()
            return result

        weather = req(1, "tools/call", {"name": "weather", "arguments": {"city": "x"}})
        status, body = post([weather, req(2, "ping")], None)
        assert status == 200
        answers = by_id(json.loads(body))
        assert "structuredContent" not in answers[1]["result"] and answers[2]["result"] == {}
        assert post([weather], "2025-11-25")[0] == 400
        status, body = post(weather, "2025-11-25")
        assert status == 200 and "structuredContent" in json.loads(body)["result"]
    finally:
        stateless.stop()
