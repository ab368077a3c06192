"""The official TypeScript SDK client (pinned in tests/node/sdk, installed here with npm ci) over stdio."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import EVERYTHING

SDK = Path(__file__).resolve().parent / "node" / "sdk"
pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def node() -> str:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("node and npm are needed for the TypeScript SDK client")
    if not (SDK / "node_modules" / "@modelcontextprotocol" / "sdk").exists():
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=SDK, check=True, timeout=240
        )
    return node


def test_every_final_progress_reaches_the_typescript_client(node: str) -> None:
    # The tool's last progress and its result leave together; the TS client drops a progress read in the
    # same chunk as the response (typescript-sdk #2580) unless the server lets the progress go first.
    server = [sys.executable, "-m", "runtime", "serve", EVERYTHING, "--stdio"]
    command = [node, "progress_client.mjs", "10", "slow", '{"seconds":0.1}', "--", *server]
    proc = subprocess.run(command, cwd=SDK, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["received"] == [[1]] * 10, report
    assert report["errors"] == []
