"""Shared fixtures: how to start the demo server for real (subprocesses, sockets)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def serve_command(*args: str, app: str | None = None) -> list[str]:
    command = [sys.executable, "-m", "runtime", "serve"]
    if app:
        command.append(app)
    return [*command, *args]


@pytest.fixture
def stdio_command() -> list[str]:
    return serve_command("--stdio")


@pytest.fixture(autouse=True)
def _repo_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONPATH", str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
