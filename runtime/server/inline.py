"""Running an async handler that cannot suspend without a task, as Python 3.12's eager tasks would.

`async def add(a, b): return a + b` never awaits, so it finishes at its first step: creating a task, queueing
it on the loop and stepping it there costs more than the handler. A coroutine function whose code has no
await point (no `await`, `async with` or `async for`) runs inline instead, in a copy of the current context as
a task would. The one visible difference: inside it `asyncio.current_task()` is None (it cannot await, so
nothing that needs a task can be used there). A handler with any await point runs as a task, as before.
"""

from __future__ import annotations

import asyncio
import contextvars
import dis
import inspect
import types
from collections.abc import Callable, Coroutine
from typing import Any

_SUSPENDING_OPS = frozenset(
    {"GET_AWAITABLE", "SEND", "YIELD_VALUE", "BEFORE_ASYNC_WITH", "GET_AITER", "GET_ANEXT", "END_ASYNC_FOR"}
)


def cannot_suspend(fn: Callable[..., Any]) -> bool:
    """True for a plain `async def` function with no await point in its own code."""
    if not isinstance(fn, types.FunctionType) or not inspect.iscoroutinefunction(fn):
        return False  # a wrapper, a partial or a callable object: what it runs is unknown
    return not any(op.opname in _SUSPENDING_OPS for op in dis.get_instructions(fn.__code__))


def run_inline(coro: Coroutine[Any, Any, Any]) -> Any:
    """Run an await-free coroutine to its end and return its value (or raise its exception)."""
    try:
        contextvars.copy_context().run(coro.send, None)
    except StopIteration as stop:
        return stop.value
    except asyncio.CancelledError as exc:  # nothing cancels an inline run: the handler raised it itself
        raise RuntimeError("the handler raised CancelledError") from exc
    coro.close()  # unreachable for code with no await point; never leave a suspended coroutine behind
    raise RuntimeError("a handler without await points suspended")
