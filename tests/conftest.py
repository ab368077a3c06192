"""Shared fixtures: how to start the everything example (examples/everything.py) for real (subprocesses,
sockets)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
EVERYTHING = str(ROOT / "examples" / "everything.py")  # every feature and conformance fixture
# The plainest initialize request: the latest revision, no client capabilities.
INIT = {
    "jsonrpc": "2.0",
    "id": 0,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "t", "version": "1"},
    },
}


def serve_command(*args: str, app: str | None = None) -> list[str]:
    """`mcprt serve APP ARGS`; APP is the everything example unless told."""
    return [sys.executable, "-m", "runtime", "serve", app or EVERYTHING, *args]


@pytest.fixture
def stdio_command() -> list[str]:
    return serve_command("--stdio")


@pytest.fixture(autouse=True)
def _repo_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONPATH", str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))


STOP_SECONDS = 15  # the HTTP grace period, its backstop and a margin


def end_process(process: subprocess.Popen[Any]) -> bool:
    """Terminate a server process; kill it if it outlives its grace period and backstop. True: it was
    killed (so it removed none of its shared memory)."""
    if process.poll() is not None:
        return False
    process.terminate()
    try:
        # Its requests in flight get the grace period (10 s over HTTP), and its backstop ends it one
        # second later: kill only after that, or the shared memory it would remove stays.
        process.wait(STOP_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        return True
    return False


class RunningServer:
    """A real `mcprt serve --http` subprocess on a free loopback port: one worker process unless told
    otherwise (tests/test_cluster.py covers several)."""

    def __init__(self, *args: str, app: str | None = None, workers: int = 1, port: int = 0) -> None:
        import re

        self.process = subprocess.Popen(
            serve_command("--http", f"127.0.0.1:{port}", "--workers", str(workers), *args, app=app),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.process.stderr is not None
        seen = ""
        while True:  # the supervisor logs its workers before the address
            line = self.process.stderr.readline()
            seen += line
            match = re.search(r"serving .* at http://127\.0\.0\.1:(\d+)(/\S*)", line)
            if match is not None or not line:
                break
        if match is None:
            self.stop()
            raise RuntimeError(f"server did not start: {seen!r}")
        self.port = int(match.group(1))
        self.url = f"http://127.0.0.1:{self.port}{match.group(2)}"
        self.lines: list[str] = []  # what it logs later (read on, so the pipe never fills and blocks it)
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        assert self.process.stderr is not None
        with contextlib.suppress(ValueError, OSError):
            for line in self.process.stderr:
                self.lines.append(line)

    def stop(self) -> None:
        if end_process(self.process):
            port = getattr(self, "port", None)
            for path in Path("/dev/shm").glob(f"mcprt-{os.getuid()}-{port}-*") if port else ():
                path.unlink(missing_ok=True)  # a killed server removes nothing
        if self.process.stderr is not None:
            self.process.stderr.close()


@pytest.fixture
def http_server():  # type: ignore[no-untyped-def]
    server = RunningServer()
    yield server
    server.stop()


@pytest.fixture(params=["stdio", "http"])
def target(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    """Where a Client connects: the everything example over stdio (a command) or over Streamable HTTP (a URL)."""
    if request.param == "stdio":
        yield serve_command("--stdio")
        return
    server = RunningServer()
    yield server.url
    server.stop()
