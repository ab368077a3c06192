"""Real upstreams for the gateway tests: the reference server-everything from npm (pinned in
tests/node/everything, installed here with `npm ci` when missing) over stdio and Streamable HTTP, the
official-SDK server tests/apps/sdk_upstream.py, and `mcprt gateway` itself as a subprocess."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, end_process

NPM_DIR = ROOT / "tests" / "node" / "everything"
EVERYTHING_JS = NPM_DIR / "node_modules" / "@modelcontextprotocol" / "server-everything" / "dist" / "index.js"
SDK_UPSTREAM = ROOT / "tests" / "apps" / "sdk_upstream.py"


def everything_js() -> Path:
    """The reference server's entry point, installed from the lock file if it is not there yet."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.fail("node and npm are needed for the gateway tests (tools/test installs them)")
    if not EVERYTHING_JS.exists():
        command = [npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"]
        subprocess.run(command, cwd=NPM_DIR, check=True, timeout=300)
    return EVERYTHING_JS


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Logged:
    """A subprocess whose stderr is read on in a thread (so its pipe never fills), line by line."""

    def __init__(self, command: list[str], env: dict[str, str] | None = None, cwd: str | None = None) -> None:
        self.process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, **(env or {})},
            cwd=cwd,
        )
        self.lines: list[str] = []
        self._seen = threading.Condition()
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        assert self.process.stderr is not None
        with contextlib.suppress(ValueError, OSError):
            for line in self.process.stderr:
                with self._seen:
                    self.lines.append(line)
                    self._seen.notify_all()
        with self._seen:
            self._seen.notify_all()

    def wait_for(self, pattern: str, timeout: float = 30.0) -> re.Match[str]:
        """The first line (so far or to come) that matches `pattern`."""
        deadline = time.monotonic() + timeout
        regex = re.compile(pattern)
        checked = 0
        with self._seen:
            while True:
                for line in self.lines[checked:]:
                    match = regex.search(line)
                    if match is not None:
                        return match
                checked = len(self.lines)
                left = deadline - time.monotonic()
                if left <= 0 or (self.process.poll() is not None and checked == len(self.lines)):
                    raise AssertionError(f"no line matching {pattern!r} in {''.join(self.lines)!r}")
                self._seen.wait(min(left, 0.2))

    def stop(self) -> None:
        end_process(self.process)
        if self.process.stderr is not None:
            with contextlib.suppress(OSError):
                self.process.stderr.close()


class EverythingHttp(Logged):
    """server-everything in its streamableHttp mode on a free loopback port (or the one given)."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        super().__init__(["node", str(everything_js()), "streamableHttp"], env={"PORT": str(self.port)})
        self.wait_for(r"listening on port")
        self.url = f"http://127.0.0.1:{self.port}/mcp"


class GatewayServer(Logged):
    """`mcprt gateway CONFIG --http 127.0.0.1:0 ARGS` as a subprocess, with the URL it serves."""

    def __init__(self, config: Path, *args: str, workers: int = 1) -> None:
        command = [sys.executable, "-m", "runtime", "gateway", str(config), "--http", "127.0.0.1:0"]
        super().__init__([*command, "--workers", str(workers), *args])
        match = self.wait_for(r"serving .* at (http://127\.0\.0\.1:(\d+)/\S*)")
        self.url = match.group(1)
        self.port = int(match.group(2))

    def stop(self) -> None:
        super().stop()
        for path in Path("/dev/shm").glob(f"mcprt-{os.getuid()}-{self.port}-*"):
            path.unlink(missing_ok=True)  # left only by a killed server


def stdio_everything() -> list[str]:
    return ["node", str(everything_js()), "stdio"]


def sdk_upstream() -> list[str]:
    return [sys.executable, str(SDK_UPSTREAM)]


def toml_list(items: list[str]) -> str:
    return "[" + ", ".join(f'"{item}"' for item in items) + "]"


def write_config(path: Path, servers: dict[str, str], extra: str = "") -> Path:
    """A gateway.toml: `servers` maps a name to its table's body (command = ... or url = ...)."""
    parts = [extra.strip() + "\n"] if extra.strip() else []
    for name, body in servers.items():
        parts.append(f"[servers.{name}]\n{body.strip()}\n")
    path.write_text("\n".join(parts))
    return path


# The SDK server's deprecation warnings (sampling, logging) are noise on the gateway's stderr.
SDK_ENV = 'env = { PYTHONWARNINGS = "ignore" }'


def sampled(params: object) -> dict[str, object]:
    """The downstream client's sampling handler: a fixed, recognisable answer."""
    return {"role": "assistant", "content": {"type": "text", "text": "sampled-by-downstream"}, "model": "m"}
