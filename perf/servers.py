"""The servers the benchmarks compare, as commands: mcprt, the official SDK, FastMCP and the raw floor."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable

STDIO: dict[str, list[str]] = {
    "mcprt": [PY, "-m", "runtime", "serve", "perf.apps.echo:server", "--stdio"],
    "official-sdk": [PY, "perf/peers/official_sdk.py", "--stdio"],
    "fastmcp": [PY, "perf/peers/fastmcp_peer.py", "--stdio"],
    "floor": [PY, "perf/peers/floor.py", "--stdio"],
}


def http_command(name: str, port: int, workers: int = 1, auth: tuple[str, str] | None = None) -> list[str]:
    """`auth`: (issuer, audience), for the servers that check tokens (mcprt-auth, official-sdk-auth)."""
    address = f"127.0.0.1:{port}"
    if name in ("mcprt-auth", "official-sdk-auth") and auth is None:
        raise RuntimeError(f"{name} needs an authorization server (http_bench --auth)")
    if name == "mcprt":
        app = "perf.apps.echo:server"
        return [PY, "-m", "runtime", "serve", app, "--http", address, "--workers", str(workers)]
    if name == "mcprt-auth" and auth is not None:
        app = "perf.apps.echo:server"
        issuer, audience = auth
        flags = ["--auth-issuer", issuer, "--auth-audience", audience]
        return [PY, "-m", "runtime", "serve", app, "--http", address, "--workers", str(workers), *flags]
    if name == "official-sdk":
        return [PY, "perf/peers/official_sdk.py", "--http", address, "--workers", str(workers)]
    if name == "official-sdk-auth" and auth is not None:
        issuer, audience = auth
        flags = ["--issuer", issuer, "--audience", audience]
        return [PY, "perf/peers/official_sdk_auth.py", "--http", address, *flags]
    if name == "fastmcp":
        return [PY, "perf/peers/fastmcp_peer.py", "--http", address]
    if name == "floor":
        return [PY, "perf/peers/floor.py", "--http", address]
    if name.startswith("floor+"):  # floor+N: the floor spending N µs of CPU per request (see floor.py)
        return [PY, "perf/peers/floor.py", "--http", address, "--work-us", name.removeprefix("floor+")]
    raise KeyError(name)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pinned(command: list[str], cpu: int | None) -> list[str]:
    return ["taskset", "-c", str(cpu), *command] if cpu is not None else command


def start_http(
    name: str, cpu: int | None = 0, workers: int = 1, auth: tuple[str, str] | None = None
) -> tuple[subprocess.Popen[bytes], int]:
    """Start a server pinned to `cpu` and wait until its port accepts connections."""
    port = free_port()
    process = subprocess.Popen(
        pinned(http_command(name, port, workers, auth), cpu),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited: {process.stderr.read().decode()[-500:]}")  # type: ignore[union-attr]
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process, port
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"{name} did not start")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return bool(response.status == 200)
    except OSError:
        return False
