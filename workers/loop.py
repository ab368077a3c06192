"""Event loop set-up shared by every worker: uvloop when available."""

from __future__ import annotations

import asyncio


def install_uvloop() -> bool:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency; plain asyncio still works
        return False
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    return True
