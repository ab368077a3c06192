"""Whole-word loads and stores on a mapped segment, for the words lock-free readers poll.

A reader that takes no lock (a sequence counter, a ring cursor, an entry count) must see each word either
before or after a store, never in between. The `struct` module cannot promise that: `pack_into` zeroes its
whole target before it writes the fields (CPython's `s_pack_internal`), so a reader may see 0 for a moment,
and `unpack_from` of `<I` assembles the word byte by byte. A memoryview cast to `I` or `Q` moves a native
word with one aligned access instead. Everything else a writer changes goes in with one slice assignment
(`mm[a:b] = S.pack(...)`, a memcpy), bracketed by a sequence counter where readers need it whole.
"""

from __future__ import annotations

import mmap
import sys

if sys.byteorder != "little":  # the layouts (ipc/LAYOUT.md) are little-endian; native words must be too
    raise ImportError("mcprt's shared memory needs a little-endian machine")


class Words:
    """Native u32 and u64 views over a whole mapping. Offsets are in bytes and must be aligned to the
    word's size (every polled field of ipc/LAYOUT.md is). `release()` before the mapping is closed."""

    def __init__(self, mm: mmap.mmap) -> None:
        whole = memoryview(mm)
        self._bytes = whole[: len(mm) // 8 * 8]
        whole.release()
        self.u32 = self._bytes.cast("I")
        self.u64 = self._bytes.cast("Q")

    def load32(self, offset: int) -> int:
        return self.u32[offset >> 2]

    def store32(self, offset: int, value: int) -> None:
        self.u32[offset >> 2] = value & 0xFFFFFFFF

    def load64(self, offset: int) -> int:
        return self.u64[offset >> 3]

    def store64(self, offset: int, value: int) -> None:
        self.u64[offset >> 3] = value

    def release(self) -> None:
        self.u32.release()
        self.u64.release()
        self._bytes.release()
