"""The grace period of a stopping server process, enforced.

A sync handler runs in a pool thread that nothing can interrupt, and the interpreter joins such threads at
exit (so does `asyncio.run` for `asyncio.to_thread`): one handler stuck in `time.sleep(30)` would keep the
process alive long after its stop. So once the transport has stopped within the grace period (answers
written, connections closed, shared memory removed), a process whose threads are still busy at the end of
the grace period leaves with `os._exit`; and a backstop thread does the same shortly after the grace period
if that cleanup itself hangs. `run_within_grace` is `asyncio.run` with that ending.

An async handler that blocks the event loop itself (time.sleep in an `async def`) keeps the loop from
running its own signal handler or reading the end of stdin, so the stop would never begin. `watch` begins
it without the loop: from a Python-level signal handler (run in the main thread between bytecodes; it
interrupts time.sleep) and, over stdio, from a thread that sees stdin hang up; the backstop then ends the
process. A handler blocking in C code that never checks for signals is out of reach (`kill` still works,
and a supervisor kills its workers once the grace period and its margin are over).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import select
import signal
import sys
import threading
import time
from collections.abc import Callable, Coroutine, Iterable
from types import FrameType
from typing import Any

# Seconds requests in flight have to finish once a stop is asked for (`--grace`). A stdio client waits a
# little for the server to exit after closing its stdin before it signals it (lifecycle.mdx "stdio"): a few
# seconds there; an HTTP server's clients are many and its requests longer-lived.
HTTP_GRACE = 10.0
STDIO_GRACE = 5.0
# After the grace period, how long the cleanup itself may take before the backstop ends the process.
BACKSTOP_SECONDS = 1.0
FORCED_EXIT_CODE = 0  # the stop was asked for, and it happened: busy threads are not a failure
BACKSTOP_EXIT_CODE = 1  # the cleanup hung: that is one
# The end of stdin as poll() reports it without reading: a pipe's writers gone (POLLHUP, always reported),
# a socket's peer done writing (POLLRDHUP).
_HANGUP_EVENTS = getattr(select, "POLLRDHUP", 0)


def _say(message: str) -> None:
    with contextlib.suppress(OSError, ValueError):
        print(f"mcprt: {message}", file=sys.stderr, flush=True)


def _exit_now(code: int) -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError, AttributeError):
            stream.flush()
    os._exit(code)


class GracePeriod:
    """The stop of one server process: `begin()` when the stop is asked for (idempotent), `remaining()` for
    what the transport may still wait, `finish()` once its event loop has returned. `backstop=False` for a
    transport served inside another program: the deadline bounds its waits, nothing ends the process."""

    def __init__(self, seconds: float, *, backstop: bool = True) -> None:
        self.seconds = max(0.0, seconds)
        self.backstop = backstop
        self.deadline: float | None = None
        # Run by the backstop before it exits: cleanup that must happen even then (shared memory removed).
        self.last_resort: list[Callable[[], object]] = []
        self._watcher: threading.Thread | None = None
        self._wake = -1  # written once the stop begins: wakes the watcher thread

    def begin(self) -> None:
        """Start the grace period; the backstop fires after it. Safe in a signal handler: no locks taken."""
        if self.deadline is not None:
            return
        self.deadline = time.monotonic() + self.seconds
        if not self.backstop:
            return
        if self._watcher is None:
            self._start_watcher(None)
        else:
            with contextlib.suppress(OSError):
                os.write(self._wake, b"\0")

    def watch(self, signums: Iterable[signal.Signals], stdin: int | None = None) -> None:
        """Begin the stop on `signums` and (stdio) when the pipe or socket `stdin` hangs up, even while the
        event loop is blocked. Call it after `loop.add_signal_handler` for the same signals: the loop's own
        handler still runs the graceful stop whenever the loop turns."""
        if not self.backstop:
            return
        if self._watcher is None:
            self._start_watcher(None if stdin is None else os.dup(stdin))
        for signum in signums:
            self._begin_on(signum)

    def _begin_on(self, signum: signal.Signals) -> None:
        previous = signal.getsignal(signum)

        def begin_then_previous(number: int, frame: FrameType | None) -> None:
            self.begin()
            if callable(previous):  # the loop's: it notes the signal for its handler (uvloop needs this)
                previous(number, frame)

        signal.signal(signum, begin_then_previous)

    def _start_watcher(self, stdin: int | None) -> None:
        read, self._wake = os.pipe()
        os.set_blocking(self._wake, False)
        self._watcher = threading.Thread(
            target=self._watch, args=(read, stdin), name="mcprt-grace-backstop", daemon=True
        )
        self._watcher.start()

    def _watch(self, wake: int, stdin: int | None) -> None:
        """Wait for the stop to begin (or stdin to hang up), then for the grace period and the backstop's
        margin: a process still here then is ended."""
        poller = select.poll()
        poller.register(wake, select.POLLIN)
        if stdin is not None:
            poller.register(stdin, _HANGUP_EVENTS)
        while self.deadline is None:
            if any(fd == stdin for fd, _ in poller.poll()):
                self.begin()
        deadline = self.deadline
        time.sleep(max(0.0, deadline + BACKSTOP_SECONDS - time.monotonic()))
        self._backstop()

    def remaining(self) -> float:
        if self.deadline is None:
            return self.seconds
        return max(0.0, self.deadline - time.monotonic())

    def finish(self) -> None:
        """Wait (until the end of the grace period) for the threads the interpreter would join at exit;
        exit at once if some are still busy then."""
        busy = _joined_at_exit()
        for thread in busy:
            thread.join(self.remaining())
        busy = [thread for thread in busy if thread.is_alive()]
        if busy:
            count, seconds = len(busy), self.seconds
            _say(f"{count} handler thread(s) still running after the grace period of {seconds:g} s; exiting")
            _exit_now(FORCED_EXIT_CODE)

    def _backstop(self) -> None:
        where = _main_thread_at()
        _say(f"the stop did not finish within the grace period of {self.seconds:g} s{where}; exiting")
        for cleanup in self.last_resort:
            with contextlib.suppress(Exception):
                cleanup()
        _exit_now(BACKSTOP_EXIT_CODE)


def _main_thread_at() -> str:
    """Where the main thread (the event loop's) is: the handler that blocks it, when one does."""
    frame = sys._current_frames().get(threading.main_thread().ident or 0)
    if frame is None:
        return ""
    code = frame.f_code
    return f" (the event loop's thread is at {code.co_filename}:{frame.f_lineno} in {code.co_name})"


def _joined_at_exit() -> list[threading.Thread]:
    main = threading.main_thread()
    return [t for t in threading.enumerate() if t is not main and not t.daemon and t.is_alive()]


def run_within_grace(main: Coroutine[Any, Any, None], period: GracePeriod) -> None:
    """`asyncio.run(main)`, except that the default executor's threads (`asyncio.to_thread`) are not waited
    for without limit: `period.finish()` waits for them only until the end of the grace period."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        loop.run_until_complete(main)
    finally:
        try:
            _cancel_all_tasks(loop)
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            asyncio.set_event_loop(None)
            loop.close()  # shuts the default executor down without waiting for its threads
    period.finish()


def _cancel_all_tasks(loop: asyncio.AbstractEventLoop) -> None:
    """What `asyncio.run` does with the tasks still pending when `main` returns."""
    tasks = asyncio.all_tasks(loop)
    if not tasks:
        return
    for task in tasks:
        task.cancel()
    loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
    for task in tasks:
        if not task.cancelled() and task.exception() is not None:
            loop.call_exception_handler(
                {
                    "message": "unhandled exception during shutdown",
                    "exception": task.exception(),
                    "task": task,
                }
            )
