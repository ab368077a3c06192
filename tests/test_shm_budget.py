"""The shared memory a `--workers 2` server takes at default flags: the supervisor's start-up line gives the
segments' summed size, which is what /dev/shm holds for its port and what the README's limits table states."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.cluster_support import ClusterServer
from tests.conftest import ROOT

pytestmark = pytest.mark.timeout(90)


def _readme_total() -> float:
    """The MiB the README states for `--workers 2` at default flags."""
    text = (ROOT / "README.md").read_text()
    match = re.search(r"\| \*\*total\*\* .*?\*\*([0-9.]+) MiB\*\* at `--workers 2`", text)
    assert match, "the README's shared-memory table has no total row"
    return float(match.group(1))


def test_shared_memory_at_default_flags() -> None:
    cluster = ClusterServer(2)
    try:
        match = re.search(
            r"shared memory: (\d+) bytes \(([0-9.]+) MiB\) in (\d+) segments (\S+)-\*", cluster.log()
        )
        assert match, cluster.log()
        logged, segments, prefix = int(match.group(1)), int(match.group(3)), match.group(4)
        assert prefix.startswith(f"/mcprt-{os.getuid()}-{cluster.port}")
        stem = prefix.lstrip("/") + "-"
        found = [p for p in Path("/dev/shm").iterdir() if p.name.startswith(stem)]
        assert len(found) == segments
        on_disk = sum(p.stat().st_size for p in found)
        assert on_disk == logged
        readme = _readme_total() * 2**20
        assert abs(readme - logged) <= 0.02 * logged, (readme / 2**20, logged / 2**20)
        assert logged < 512 * 2**20  # the task table alone used to be 2 GiB
    finally:
        assert cluster.stop() == 0
    assert not [p for p in Path("/dev/shm").iterdir() if p.name.startswith(stem)]
