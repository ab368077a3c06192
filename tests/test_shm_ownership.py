"""Shared-memory names are guessable and /dev/shm is writable by every local user: a segment planted under one
of our names (another owner, or readable by others) is never trusted — not by attach, not by the readers
(Python and Node.js), not by the start-up reclaim — and the server still starts, under the next generation of
its names (ipc/LAYOUT.md, "Ownership"). Tests run as root, so the planted segments are made by us and then
given away with fchown/fchmod."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from ipc.cache import SharedCache, resource_key
from ipc.errors import SegmentError
from ipc.reader import CacheReader, name_for_port, names_for_port
from ipc.ring import Ring
from ipc.segment import claim_prefix, instance_prefix, reclaim_stale
from tests.cluster_support import Conn, start_session
from tests.conftest import RunningServer

pytestmark = pytest.mark.timeout(90)
ROOT = Path(__file__).resolve().parent.parent
APP = "tests/apps/cached.py:server"
NOBODY = 65534
PLANTED = b'{"contents":[{"uri":"cached://static","text":"PLANTED"}]}'
NODE = shutil.which("node")


def shm(name: str) -> Path:
    return Path("/dev/shm", name.lstrip("/"))


def plant_cache(name: str, *, uid: int | None = NOBODY, mode: int = 0o600) -> SharedCache:
    """A well-formed cache segment with a live creator (this process) holding PLANTED, given to `uid`."""
    cache = SharedCache.create(name)
    cache.put(resource_key("cached://static"), PLANTED)
    if uid is not None:
        os.fchown(cache.segment.fd, uid, -1)
    os.fchmod(cache.segment.fd, mode)
    return cache


def remove(cache: SharedCache) -> None:
    cache.segment.unlink()
    cache.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def prefix() -> Iterator[str]:
    name = instance_prefix("own-" + secrets.token_hex(4))
    yield name
    for path in Path("/dev/shm").iterdir():
        if path.name.startswith(name.lstrip("/")):
            path.unlink()


@pytest.mark.parametrize(("uid", "mode"), [(NOBODY, 0o600), (None, 0o644), (NOBODY, 0o644)])
def test_attach_refuses_a_segment_we_did_not_create(prefix: str, uid: int | None, mode: int) -> None:
    planted = plant_cache(prefix + "-cache", uid=uid, mode=mode)
    try:
        with pytest.raises(SegmentError, match="not trusted"):
            SharedCache.attach(prefix + "-cache")
        with pytest.raises(SegmentError, match="not trusted"):
            CacheReader(prefix + "-cache")
    finally:
        remove(planted)


def test_reclaim_and_claim_skip_foreign_segments(prefix: str) -> None:
    instance = prefix.split("-", 2)[2]
    planted = plant_cache(prefix + "-cache")  # a live creator: ours would make the server refuse to start
    try:
        assert reclaim_stale(prefix) == []  # neither trusted (its pid) nor removed
        assert shm(prefix + "-cache").exists()
        ring = Ring.create(prefix + ".1-ring0", 1024)  # a leftover of ours at the next generation
        ring.close()
        chosen, removed = claim_prefix(instance)
        assert (chosen, removed) == (prefix + ".1", [prefix + ".1-ring0"])
    finally:
        remove(planted)
    assert claim_prefix(instance) == (prefix, [])


def test_claim_refuses_in_one_line_when_every_generation_is_squatted(prefix: str) -> None:
    instance = prefix.split("-", 2)[2]
    planted = [plant_cache(name.replace("-cache", "-x")) for name in names_for_port(instance)]  # type: ignore[arg-type]
    try:
        with pytest.raises(SegmentError, match="taken by another user's segments") as caught:
            claim_prefix(instance)
        assert "\n" not in str(caught.value)
    finally:
        for cache in planted:
            remove(cache)


def _node_get(port: int, uri: str) -> object:
    script = (
        f"import {{ CacheReader }} from {str(ROOT / 'ipc/node/cache-reader.mjs')!r};\n"
        f"try {{ const v = CacheReader.forPort({port}).get({uri!r});\n"
        "  console.log(JSON.stringify(v === null ? null : v.toString())); }\n"
        "catch (e) { console.log(JSON.stringify({ error: e.message })); }\n"
    )
    done = subprocess.run(
        [str(NODE), "--input-type=module", "-e", script], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.parametrize("workers", [1, 2], ids=["single", "supervisor"])
def test_server_starts_beside_a_planted_cache_and_readers_find_the_real_one(workers: int) -> None:
    port = free_port()
    planted = plant_cache(name_for_port(port))
    try:
        # Before the server: a reader refuses the planted segment (it would have returned PLANTED).
        with pytest.raises(SegmentError, match="not trusted"):
            CacheReader.for_port(port)
        if NODE:
            assert "not trusted" in str(_node_get(port, "cached://static"))
        server = RunningServer("--http", f"127.0.0.1:{port}", app=APP, workers=workers)
        try:
            conn = Conn(port, start_session(port))
            status, _, body = conn.post(
                {"jsonrpc": "2.0", "id": 1, "method": "resources/read", "params": {"uri": "cached://static"}}
            )
            conn.close()
            assert status == 200, body
            real = json.loads(body)["result"]
            assert real["contents"][0]["text"].startswith("static pid=")
            own = [n for n in names_for_port(port)[1:] if shm(n).exists()]
            assert own == [names_for_port(port)[1]]  # the server's cache, under the next generation
            reader = CacheReader.for_port(port)
            try:
                assert reader.name == own[0]
                assert json.loads(reader.get("cached://static") or b"null") == real
            finally:
                reader.close()
            if NODE:
                assert json.loads(str(_node_get(port, "cached://static"))) == real
        finally:
            server.stop()
        assert server.process.returncode == 0, server.lines
        assert not [n for n in names_for_port(port)[1:] if shm(n).exists()]  # it cleaned up its own
        assert shm(name_for_port(port)).exists()  # and left the planted one alone
    finally:
        remove(planted)
