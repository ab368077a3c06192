"""Errors of the shared-memory layer."""

from __future__ import annotations


class SegmentError(Exception):
    """A segment is missing, foreign, corrupt, of another layout version, or owned by a live server."""
