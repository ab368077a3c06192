"""The client against real mcprt servers: a new session after HTTP 404, https://, custom headers,
-32602 for server requests needing capabilities the client did not declare, and output schema checks."""

from __future__ import annotations

import asyncio
import socket
import ssl
from pathlib import Path
from typing import Any

import pytest

from runtime import Client
from runtime.client.errors import OutputSchemaError, SessionExpired
from tests.conftest import RunningServer, serve_command
from tests.http_proxy import Proxy, self_signed_cert, server_tls

pytestmark = pytest.mark.timeout(90)

APP = str(Path(__file__).parent / "apps" / "client_checks.py") + ":server"


@pytest.fixture
def server():  # type: ignore[no-untyped-def]
    running = RunningServer(app=APP)
    yield running
    running.stop()


@pytest.fixture(params=["stdio", "http"])
def checks(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    """The test app over stdio (a command) or Streamable HTTP (a URL)."""
    if request.param == "stdio":
        yield serve_command("--stdio", app=APP)
        return
    running = RunningServer(app=APP)
    yield running.url
    running.stop()


async def delete_session(url: str, session_id: str) -> int:
    """End a session on the server, as a client leaving would (a real DELETE); returns the status."""
    async with Client(url) as other:  # its own session, only to learn the negotiated version
        version = other.protocol_version
    port = int(url.split(":")[2].split("/")[0])
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        f"DELETE /mcp HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nMcp-Session-Id: {session_id}\r\n"
        f"MCP-Protocol-Version: {version}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".encode()
    )
    status = int((await reader.readline()).split()[1])
    await reader.read()
    writer.close()
    return status


async def whoami(client: Client) -> dict[str, Any]:
    result = await client.call_tool("whoami")
    assert result.structured_content is not None
    return result.structured_content


# -- 1. HTTP 404: a new session ----------------------------------------------------------------------------


async def test_a_404_starts_a_new_session_and_retries_the_request(server: RunningServer) -> None:
    async def elicit(params: dict[str, Any]) -> dict[str, Any]:
        return {"action": "decline"}

    async with Client(server.url, name="checker", version="7.0", elicitation_handler=elicit) as client:
        first = await whoami(client)
        assert first["session"] == client.session_id
        assert await delete_session(server.url, first["session"]) == 200
        second = await whoami(client)  # 404, initialize again, the same call once more
        assert second["session"] == client.session_id != first["session"]
        assert second["client"] == first["client"] == {"name": "checker", "version": "7.0"}
        assert second["capabilities"] == first["capabilities"]
        # The new session is whole: notifications/initialized was sent (the server asks the client only
        # then) and its standalone stream carries server requests.
        answered = await client.call_tool("elicit_in_mode", {"mode": "form"})
        assert answered.content[0].text == 'result: {"action":"decline"}'


async def test_requests_refused_together_start_one_new_session(server: RunningServer) -> None:
    proxy = Proxy(server.url)
    await proxy.start()
    try:
        async with Client(proxy.url) as client:
            old = client.session_id
            assert old is not None and await delete_session(server.url, old) == 200
            seen = await asyncio.gather(*(whoami(client) for _ in range(6)))
            assert {who["session"] for who in seen} == {client.session_id}
            initializes = [r for r in proxy.requests if b'"initialize"' in r.body]
            assert len(initializes) == 2 and "mcp-session-id" not in initializes[1].headers
    finally:
        await proxy.stop()


async def test_a_restarted_server_gets_a_new_session(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    running = RunningServer("--http", f"127.0.0.1:{port}", app=APP)
    try:
        async with Client(running.url) as client:
            before = await whoami(client)
            running.stop()
            running = RunningServer("--http", f"127.0.0.1:{port}", app=APP)
            after = await whoami(client)
            assert after["session"] == client.session_id != before["session"]
    finally:
        running.stop()


async def test_a_second_404_after_the_new_session_is_a_clear_error(server: RunningServer) -> None:
    proxy = Proxy(server.url)
    await proxy.start()
    try:
        async with Client(proxy.url) as client:
            proxy.end_sessions = 2  # the call's session, then the new session's, end before the call
            with pytest.raises(SessionExpired, match="404 again after starting a new session"):
                await client.call_tool("whoami")
            assert len(set(proxy.ended)) == 2
            # The next call starts yet another session and goes through.
            assert (await whoami(client))["session"] == client.session_id not in proxy.ended
    finally:
        await proxy.stop()


async def test_a_request_the_ended_session_accepted_fails_and_is_not_resent(server: RunningServer) -> None:
    async with Client(server.url) as client:
        session = client.session_id
        assert session is not None
        slow = asyncio.ensure_future(client.call_tool("slow", {"seconds": 30}))
        await asyncio.sleep(0.5)  # accepted by the server: running
        assert await delete_session(server.url, session) == 200
        await whoami(client)  # learns of the end (404) and starts a new session
        # Not resent, since it may have run: it fails when the new session starts, or when its answer
        # stream cannot be resumed (the server ended it), whichever comes first.
        with pytest.raises(ConnectionError, match=r"ended the session before answering|could not resume"):
            await asyncio.wait_for(slow, 10)


async def test_the_standalone_stream_notices_an_ended_session(server: RunningServer) -> None:
    """A client that only listens: its GET stream ends, cannot resume (404), and a fresh GET's 404 starts
    a new session without waiting for a request."""
    async with Client(server.url) as client:
        old = client.session_id
        assert old is not None and await delete_session(server.url, old) == 200
        for _ in range(300):
            if client.session_id not in (None, old):
                break
            await asyncio.sleep(0.05)
        assert client.session_id not in (None, old)
        assert (await whoami(client))["session"] == client.session_id


# -- 2. https:// -------------------------------------------------------------------------------------------


@pytest.fixture
async def tls_proxy(server: RunningServer, tmp_path: Path):  # type: ignore[no-untyped-def]
    cert, key = self_signed_cert(tmp_path)
    proxy = Proxy(server.url, tls=server_tls(cert, key))
    proxy.cert = cert  # type: ignore[attr-defined]
    await proxy.start()
    yield proxy
    await proxy.stop()


async def test_https_with_the_servers_ca(tls_proxy: Proxy) -> None:
    cert = str(tls_proxy.cert)  # type: ignore[attr-defined]
    assert tls_proxy.url.startswith("https://127.0.0.1:")
    async with Client(tls_proxy.url, verify=cert, headers={"Authorization": "Bearer t0ken"}) as client:
        assert (await client.call_tool("honest_count", {"n": 2})).structured_content == {"count": 2}
    methods = {request.method for request in tls_proxy.requests}
    assert methods == {"POST", "GET", "DELETE"}  # all of them over TLS
    assert all(r.headers["authorization"] == "Bearer t0ken" for r in tls_proxy.requests)


async def test_https_verifies_the_certificate_by_default(tls_proxy: Proxy) -> None:
    with pytest.raises(ssl.SSLCertVerificationError):
        async with Client(tls_proxy.url):
            pass
    context = ssl.create_default_context(cafile=str(tls_proxy.cert))  # type: ignore[attr-defined]
    async with Client(tls_proxy.url, verify=context) as client:
        await client.ping()
    async with Client(tls_proxy.url, verify=False) as client:  # verification off: for tests only
        await client.ping()


async def test_https_checks_the_host_name(server: RunningServer, tmp_path: Path) -> None:
    """A certificate trusted but made out to another name (localhost, not 127.0.0.1) is refused."""
    cert, key = self_signed_cert(tmp_path, ip=False)
    proxy = Proxy(server.url, tls=server_tls(cert, key))
    await proxy.start()
    try:
        with pytest.raises(ssl.SSLCertVerificationError, match="IP address mismatch"):
            async with Client(proxy.url, verify=str(cert)):
                pass
    finally:
        await proxy.stop()


# -- 3. custom headers -------------------------------------------------------------------------------------


async def test_custom_headers_go_with_every_request(server: RunningServer) -> None:
    proxy = Proxy(server.url)
    await proxy.start()
    try:
        headers = {"Authorization": "Bearer abc", "X-Request-Source": "tests"}
        async with Client(proxy.url, headers=headers) as client:
            await client.call_tool("whoami")
        by_method: dict[str, list[dict[str, str]]] = {}
        for request in proxy.requests:
            by_method.setdefault(request.method, []).append(request.headers)
        assert set(by_method) == {"POST", "GET", "DELETE"}
        for sent in proxy.requests:
            assert sent.headers["authorization"] == "Bearer abc"
            assert sent.headers["x-request-source"] == "tests"
        # The protocol's own headers are untouched.
        posts = by_method["POST"]
        assert all(h["content-type"] == "application/json" for h in posts)
        assert all(h["accept"] == "application/json, text/event-stream" for h in posts)
        assert "mcp-session-id" not in posts[0] and all("mcp-session-id" in h for h in posts[1:])
        assert by_method["GET"][0]["accept"] == "text/event-stream"
    finally:
        await proxy.stop()


@pytest.mark.parametrize(
    "headers",
    [
        {"Mcp-Session-Id": "mine"},
        {"mcp-protocol-version": "2024-11-05"},
        {"Content-Type": "text/plain"},
        {"ACCEPT": "*/*"},
        {"Host": "example.com"},
        {"X-Evil": "a\r\nInjected: yes"},
        {"Bad Name": "x"},
    ],
)
def test_headers_that_would_break_the_protocol_are_refused(headers: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="header"):
        Client("http://127.0.0.1:1/mcp", headers=headers)


def test_headers_are_for_http_only() -> None:
    with pytest.raises(ValueError, match="HTTP"):
        Client(serve_command("--stdio"), headers={"Authorization": "x"})


# -- 4. server requests the client did not declare ---------------------------------------------------------


async def test_elicitation_in_an_undeclared_mode_is_invalid_params(checks: Any) -> None:
    seen: list[Any] = []

    async def elicit(params: dict[str, Any]) -> dict[str, Any]:
        seen.append(params)
        return {"action": "accept", "content": {"name": "Ada"}}

    async with Client(checks, elicitation_handler=elicit, elicitation_modes=("form",)) as client:
        assert client.capabilities["elicitation"] == {"form": {}}
        refused = await client.call_tool("elicit_in_mode", {"mode": "url"})
        assert refused.content[0].text.startswith("error -32602: Elicitation mode 'url' was not declared")
        assert seen == []
        for mode in ("form", "none"):  # no mode field means form mode
            accepted = await client.call_tool("elicit_in_mode", {"mode": mode})
            assert accepted.content[0].text == 'result: {"action":"accept","content":{"name":"Ada"}}'
        assert len(seen) == 2

    async with Client(checks, elicitation_handler=elicit, elicitation_modes=("url",)) as client:
        for mode in ("form", "none"):
            refused = await client.call_tool("elicit_in_mode", {"mode": mode})
            assert refused.content[0].text.startswith(
                "error -32602: Elicitation mode 'form' was not declared"
            )
        accepted = await client.call_tool("elicit_in_mode", {"mode": "url"})
        assert accepted.content[0].text.startswith("result:")

    # An empty elicitation capability (the 2025-06-18 form) declares form mode only.
    async with Client(checks, capabilities={"elicitation": {}}, elicitation_handler=elicit) as client:
        refused = await client.call_tool("elicit_in_mode", {"mode": "url"})
        assert refused.content[0].text.startswith("error -32602:")
        assert (
            (await client.call_tool("elicit_in_mode", {"mode": "form"})).content[0].text.startswith("result:")
        )


async def test_tool_use_in_sampling_needs_sampling_tools(checks: Any) -> None:
    seen: list[Any] = []

    async def sample(params: Any) -> dict[str, Any]:
        seen.append(params)
        return {"role": "assistant", "content": {"type": "text", "text": "sunny"}, "model": "m"}

    async with Client(checks, sampling_handler=sample) as client:
        assert client.capabilities["sampling"] == {}
        refused = await client.call_tool("sample_with_tools", {"with_tools": True})
        assert refused.content[0].text.startswith("error -32602: Tool use in sampling needs")
        assert seen == []
        plain = await client.call_tool("sample_with_tools", {"with_tools": False})
        assert plain.content[0].text.startswith("result:") and len(seen) == 1

    async with Client(checks, sampling_handler=sample, sampling_tools=True) as client:
        assert client.capabilities["sampling"] == {"tools": {}}
        answered = await client.call_tool("sample_with_tools", {"with_tools": True})
        assert answered.content[0].text.startswith("result:") and len(seen) == 2


# -- 5. structuredContent against outputSchema -------------------------------------------------------------


async def test_structured_results_are_checked_against_the_output_schema(checks: Any) -> None:
    async with Client(checks) as client:
        # The first structured result of an unknown tool lists the tools once to learn its schema.
        good = await client.call_tool("lying_count", {"value": 3})
        assert good.structured_content == {"count": 3}
        with pytest.raises(OutputSchemaError, match=r"'lying_count'.*at /count: .*integer") as caught:
            await client.call_tool("lying_count", {"value": "three"})
        assert caught.value.result.structured_content == {"count": "three"}
        with pytest.raises(OutputSchemaError, match="no structuredContent"):
            await client.call_tool("lying_count", {"value": 3, "structured": False})
        # An error result is not checked: the server's own check made this one.
        failed = await client.call_tool("honest_count", {"n": -1})
        assert failed.is_error and failed.structured_content is None
        assert (await client.call_tool("honest_count", {"n": 1})).structured_content == {"count": 1}

    async with Client(checks, validate_output=False) as client:
        unchecked = await client.call_tool("lying_count", {"value": "three"})
        assert unchecked.structured_content == {"count": "three"}


# -- 6. the README's example -------------------------------------------------------------------------------


def test_the_readme_client_example_runs(http_server: RunningServer) -> None:
    import re
    import subprocess
    import sys

    from tests.conftest import ROOT

    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("\n## Client\n") :]
    example = re.search(r"```python\n(.*?)```", section, re.S)
    assert example is not None
    code = example.group(1).replace("http://127.0.0.1:8000/mcp", http_server.url)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "echo" in lines[0] and lines[1] == "hello"
    assert lines[2] == "LLM response: HI"
    assert "ada" in lines[3]
    assert lines[4] == "{'total': 5, 'count': 2}"


async def test_an_http_error_without_an_answer_fails_the_request_at_once() -> None:
    """A refusal whose JSON-RPC body names no request (id null), such as 413, raises at once: it used to be
    taken for a message and the request waited for its timeout."""
    from runtime.client.errors import HttpStatusError

    running = RunningServer("--max-message-bytes", "2000")
    try:
        async with Client(running.url, timeout=30) as client:
            started = asyncio.get_running_loop().time()
            with pytest.raises(HttpStatusError) as caught:
                await client.call_tool("echo", {"text": "x" * 5000})
            assert caught.value.status == 413
            assert asyncio.get_running_loop().time() - started < 10
            assert (await client.call_tool("echo", {"text": "fine"})).content[0].text == "fine"
    finally:
        running.stop()
