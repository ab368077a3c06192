"""The semantic cache's vectors segment (ipc/vectors.py) as a data structure: real segments in /dev/shm, a real
writer process rewriting a slot while this process looks it up, two processes creating it at once."""

from __future__ import annotations

import multiprocessing
import os
import time
from pathlib import Path

import pytest

np = pytest.importorskip("numpy")

from ipc.errors import SegmentError  # noqa: E402
from ipc.vectors import SharedVectors  # noqa: E402

pytestmark = pytest.mark.timeout(60)
DIM = 8


def name(tag: str) -> str:
    return f"/mcprt-test-{os.getpid()}-{tag}-vectors"


def unit(i: int) -> np.ndarray:  # type: ignore[type-arg]
    vector = np.zeros(DIM, np.float32)
    vector[i] = 1.0
    return vector


@pytest.fixture
def cleanup():  # type: ignore[no-untyped-def]
    made: list[str] = []
    yield made
    for segment in made:
        Path("/dev/shm", segment.lstrip("/")).unlink(missing_ok=True)


def _rewrite(segment: str, seconds: float) -> None:
    """Keep replacing the one entry of a one-slot segment: key k0 with vector e0, then k1 with e1, ..."""
    vectors = SharedVectors.attach(segment)
    deadline = time.monotonic() + seconds
    i = 0
    while time.monotonic() < deadline:
        vectors.add("tool", 0, f"t:tool:k{i % 2}", unit(i % 2))
        i += 1
    vectors.close()


def test_a_lookup_never_pairs_a_key_with_another_entrys_vector(cleanup: list[str]) -> None:
    segment = name("torn")
    cleanup.append(segment)
    vectors = SharedVectors.create(segment, 1, DIM)
    vectors.add("tool", 0, "t:tool:k0", unit(0))
    writer = multiprocessing.get_context("spawn").Process(target=_rewrite, args=(segment, 3.5))
    writer.start()
    try:
        time.sleep(0.3)  # the writer is running
        seen = {"t:tool:k0": 0, "t:tool:k1": 0}
        deadline = time.monotonic() + 3.0
        while time.monotonic() < deadline:
            match = vectors.best("tool", 0, unit(0), 0.99)
            if match is not None:
                seen[match.key] += 1
        assert seen["t:tool:k0"] > 0  # lookups succeeded while the slot was rewritten
        assert seen["t:tool:k1"] == 0  # e0 matched, but never with the key stored beside e1
    finally:
        writer.join()
        vectors.close()


def _create(segment: str, queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    vectors = SharedVectors.attach_or_create(segment, 16, DIM, None)
    queue.put((vectors.segment.created, vectors.capacity))
    vectors.close()


def test_two_processes_creating_it_at_once_share_one(cleanup: list[str]) -> None:
    segment = name("race")
    cleanup.append(segment)
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    processes = [context.Process(target=_create, args=(segment, queue)) for _ in range(2)]
    for process in processes:
        process.start()
    results = [queue.get(timeout=30) for _ in processes]
    for process in processes:
        process.join()
    assert sorted(created for created, _ in results) == [False, True]  # one made it, the other attached
    assert all(capacity == 16 for _, capacity in results)


def test_the_oldest_entry_goes_first_and_a_stored_key_is_overwritten(cleanup: list[str]) -> None:
    segment = name("ring")
    cleanup.append(segment)
    vectors = SharedVectors.create(segment, 2, DIM)
    try:
        for i in range(2):
            vectors.add("tool", 0, f"t:tool:k{i}", unit(i))
        vectors.add("tool", 0, "t:tool:k1", unit(1))  # the same key again: overwritten in place
        assert vectors.stats().entries == 2 and vectors.stats().evictions == 0
        vectors.add("tool", 0, "t:tool:k2", unit(2))  # full: k0, the oldest, goes
        assert vectors.best("tool", 0, unit(0), 0.99) is None
        assert vectors.best("tool", 0, unit(1), 0.99).key == "t:tool:k1"  # type: ignore[union-attr]
        assert vectors.stats().evictions == 1
        assert vectors.best("other", 0, unit(1), 0.5) is None  # another tool's entries are not searched
        assert vectors.best("tool", 7, unit(1), 0.5) is None  # nor another partition's
        assert vectors.remove_tool("tool") == 2 and vectors.stats().entries == 0
    finally:
        vectors.close()


def test_a_corrupt_header_is_refused(cleanup: list[str]) -> None:
    segment = name("corrupt")
    cleanup.append(segment)
    vectors = SharedVectors.create(segment, 4, DIM)
    vectors.mm[64:68] = (0).to_bytes(4, "little")  # capacity 0
    vectors.close()
    with pytest.raises(SegmentError, match="corrupt"):
        SharedVectors.attach(segment)
