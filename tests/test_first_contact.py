"""What a new user runs first: the scripts in tools/ with the arguments the README shows."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from tests.conftest import ROOT

INIT = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
}


@pytest.mark.skipif(not (ROOT / ".venv" / "bin" / "python").exists(), reason="needs the repository's .venv")
def test_tools_serve_stdio_answers_initialize() -> None:
    # tools/_setup.sh once took the caller's "$@" as the extras to install: `pip install -e ".[--stdio]"`.
    env = {k: v for k, v in os.environ.items() if k != "MCPRT_EXTRAS"}
    done = subprocess.run(
        [str(ROOT / "tools" / "serve"), "--stdio"],
        input=json.dumps(INIT) + "\n",
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert "installing" not in done.stderr, "a runtime-only install is satisfied by the dev one"
    reply = json.loads(done.stdout.splitlines()[0])
    assert reply["id"] == 1 and reply["result"]["protocolVersion"] == "2025-11-25"
    assert reply["result"]["serverInfo"]["name"] == "mcprt-demo", "with no app it serves examples/everything.py"


@pytest.mark.skipif(not (ROOT / ".venv" / "bin" / "python").exists(), reason="needs the repository's .venv")
def test_tools_serve_takes_an_app_first() -> None:
    env = {k: v for k, v in os.environ.items() if k != "MCPRT_EXTRAS"}
    done = subprocess.run(
        [str(ROOT / "tools" / "serve"), "examples/hello.py", "--stdio"],
        input=json.dumps(INIT) + "\n",
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[0])["result"]["serverInfo"]["name"] == "hello"


@pytest.mark.skipif(not (ROOT / ".venv" / "bin" / "python").exists(), reason="needs the repository's .venv")
def test_tools_serve_help() -> None:
    done = subprocess.run([str(ROOT / "tools" / "serve"), "--help"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "usage: mcprt serve" in done.stdout, done.stderr


@pytest.mark.skipif(not (ROOT / ".venv" / "bin" / "python").exists(), reason="needs the repository's .venv")
def test_setup_ignores_the_callers_arguments(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A script that sources _setup.sh without arguments: its own "$@" are not the extras."""
    script = tmp_path / "caller"
    script.write_text(
        "#!/usr/bin/env bash\nset -euo pipefail\n"
        'MCPRT_EXTRAS="" source "$1/tools/_setup.sh"\necho "extras=[$EXTRAS] args=$*"\n'
    )
    script.chmod(0o755)
    done = subprocess.run(
        [str(script), str(ROOT), "--stdio"], capture_output=True, text=True, timeout=120, env={**os.environ}
    )
    assert done.returncode == 0, done.stderr
    assert f"extras=[] args={ROOT} --stdio" in done.stdout
