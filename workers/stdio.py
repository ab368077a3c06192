"""The stdio transport: newline-delimited JSON-RPC on stdin/stdout, logs on stderr (transports.mdx "stdio").

One session for the life of the process. Nothing is written to stdout before the first message; the process
exits cleanly on EOF or SIGTERM: requests in flight get the grace period to finish and have their answers
written, then the process exits even if a handler thread is still busy (workers/shutdown.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import stat
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, BinaryIO

from runtime.protocol import jsonrpc as rpc
from runtime.protocol import scan
from runtime.protocol.core import ServerSession
from runtime.protocol.modern import ModernSession
from runtime.protocol.state import NEW
from runtime.server.runner import Outbound, Runner
from workers.loop import install_uvloop
from workers.shutdown import STDIO_GRACE, GracePeriod, run_within_grace

if TYPE_CHECKING:
    from runtime.server.app import Server

DEFAULT_MAX_MESSAGE_BYTES = scan.DEFAULT_MAX_MESSAGE_BYTES
# When the grace period is over, how long the answers already written still have to reach the pipe.
FLUSH_SECONDS = 0.5


# After a progress notification, the response to the same request waits this long (s): the TypeScript SDK
# client handles a notification a microtask later than a response read in the same chunk, and drops a
# progress that arrives with the response that ends its request (typescript-sdk #2580). Only calls that
# reported progress within this time before their result wait, and only the remainder.
PROGRESS_GAP = 0.002


def claim_stdio() -> tuple[int, int]:
    """Keep fds 0 and 1 for the protocol only, before any user code runs: the protocol reads and writes
    private duplicates; fd 1 (and sys.stdout) now go to stderr and fd 0 reads /dev/null, so print(), logging
    to stdout and child processes write to stderr and never read the client's messages."""
    sys.stdout.flush()
    read_fd, write_fd = os.dup(0), os.dup(1)  # not inherited by child processes
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    return read_fd, write_fd


class StdoutWriter:
    """The single channel of a stdio session: every message is one line on stdout."""

    __slots__ = ("_write",)
    progress_gap = PROGRESS_GAP
    _write: Callable[[bytes], object]

    def __init__(self, transport: asyncio.WriteTransport | None, fd: int) -> None:
        if transport is not None:
            self._write = transport.write
        else:  # stdout is a regular file: blocking writes are fine there
            self._write = lambda data: os.write(fd, data)

    def send(self, data: bytes) -> None:
        self._write(data + b"\n")

    def finish(self, data: bytes | None, invalid: bool = False) -> None:
        if data is not None:
            self._write(data + b"\n")


class LineReader(asyncio.Protocol):
    """Splits stdin into lines and feeds each to the runner; an over-long line is answered and skipped."""

    def __init__(self, feed: Feed, max_bytes: int, done: asyncio.Future[None]) -> None:
        self._feed = feed
        self._max = max_bytes
        self._buffer = bytearray()
        self._skipping = False
        # Skipping a line whose start showed no id: answer when it ends, with the id its end may show.
        self._unanswered = False
        self._tail = b""
        self._done = done

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer
        buffer += data
        start = 0
        while True:
            end = buffer.find(b"\n", start)
            if end < 0:
                break
            if self._skipping:
                self._skipping = False
                if self._unanswered:
                    self._unanswered = False
                    self._feed.too_large(scan.tail_id(self._tail + buffer[start:end]))
            elif end - start > self._max:
                self._feed.too_large(scan.find_id(buffer[start:end]))
            elif end > start:
                self._feed(bytes(buffer[start:end]))
            start = end + 1
        del buffer[:start]
        if len(buffer) > self._max and not self._skipping:
            # An unfinished line already over the limit: drop the rest of it as it arrives.
            self._skipping = True
            request_id = scan.head_id(buffer)
            if request_id is None:
                self._unanswered = True
            else:
                self._feed.too_large(request_id)
        if self._skipping:
            self._tail = bytes(buffer[-scan.ID_SCAN_BYTES :])
            buffer.clear()

    def eof_received(self) -> bool:
        if self._unanswered:
            self._feed.too_large(None)
        elif self._buffer.strip() and not self._skipping:
            self._feed(bytes(self._buffer))
        self._buffer.clear()
        if not self._done.done():
            self._done.set_result(None)
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        if not self._done.done():
            self._done.set_result(None)


class Feed:
    """Feeds lines to the session, refusing those over the size or nesting limits."""

    __slots__ = ("max_bytes", "max_depth", "out", "runner", "session")

    def __init__(
        self, runner: Runner, session: ServerSession, out: Outbound, max_bytes: int, max_depth: int
    ) -> None:
        self.runner = runner
        self.session = session
        self.out = out
        self.max_bytes = max_bytes
        self.max_depth = max_depth

    def __call__(self, line: bytes) -> None:
        if line.endswith(b"\r"):
            line = line[:-1]
        refused = scan.depth_error(line, self.max_depth)
        if refused is not None:
            self.out.finish(refused)
            return
        session = self.session
        if session.state.phase == NEW and _looks_modern(line):
            # A modern (2026-07-28) request stands alone; until an initialize picks the legacy era for this
            # process, each one is served so. Its in-flight entry is the connection's, so that
            # notifications/cancelled finds it (basic/versioning.mdx "dual-era server").
            modern = ModernSession(session.profile, inflight=session.inflight)
            self.runner.feed(modern, line, self.out)
            return
        self.runner.feed(session, line, self.out)

    def too_large(self, request_id: rpc.RequestId | None) -> None:
        message = f"Message larger than the limit of {self.max_bytes} bytes"
        self.out.finish(rpc.error_message(request_id, rpc.INVALID_REQUEST, message))


def _looks_modern(line: bytes) -> bool:
    """A request of the modern era: it carries the per-request protocol version, or asks server/discover
    (the probe a dual-era client sends first, stdio.mdx "Backward Compatibility")."""
    return line.find(b'"io.modelcontextprotocol/protocolVersion"') >= 0 or line.find(b'"server/discover"') > 0


def _is_stream(fd: int) -> bool:
    """Pipes, sockets and terminals can be driven by the event loop; regular files cannot (uvloop aborts)."""
    mode = os.fstat(fd).st_mode
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) or os.isatty(fd)


class _WritePipe(asyncio.Protocol):
    """stdout's protocol: tells when everything written has left (the transport is closed)."""

    def __init__(self) -> None:
        self.closed = asyncio.get_running_loop().create_future()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)


async def serve_stdio(
    server: Server,
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
    fds: tuple[int, int] | None = None,
    max_depth: int = scan.DEFAULT_MAX_DEPTH,
    grace: GracePeriod | None = None,
) -> None:
    """Serve one session; `fds`: the protocol's (read, write) descriptors from `claim_stdio` (claimed now
    when None); `grace`: how long requests in flight have once stdin ends or a signal asks to stop
    (`run_stdio` also ends the process then)."""
    grace = grace or GracePeriod(STDIO_GRACE, backstop=False)
    loop = asyncio.get_running_loop()
    read_fd, write_fd = fds if fds is not None else claim_stdio()
    stdin, stdout = os.fdopen(read_fd, "rb", buffering=0), os.fdopen(write_fd, "wb", buffering=0)
    write_transport = write_pipe = read_transport = None
    if _is_stream(write_fd):
        write_transport, write_pipe = await loop.connect_write_pipe(_WritePipe, stdout)
    out = StdoutWriter(write_transport, write_fd)
    session = ServerSession(server.profile)
    server.hub.attach(session, out.send)
    feed = Feed(Runner(server, loop), session, out, max_message_bytes, max_depth)
    done: asyncio.Future[None] = loop.create_future()

    def stop() -> None:
        if not done.done():
            done.set_result(None)

    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop)
    # The stop begins even while a handler blocks the loop (and the backstop then ends the process).
    grace.watch((signal.SIGTERM, signal.SIGINT), read_fd if _is_stream(read_fd) else None)
    if _is_stream(read_fd):
        read_transport, _ = await loop.connect_read_pipe(
            lambda: LineReader(feed, max_message_bytes, done), stdin
        )
    else:
        _read_in_thread(loop, LineReader(feed, max_message_bytes, done), stdin)
    try:
        await done
        grace.begin()
        if read_transport is not None and not read_transport.is_closing():
            read_transport.pause_reading()  # stopping on a signal: no new requests
        # Handlers already running have the grace period to finish and write their answers; the rest are
        # cancelled (a sync handler's thread runs on: GracePeriod.finish ends the process without it).
        pending = [ctx._task for ctx in session.inflight.values() if ctx._task is not None]
        if pending:
            _, unfinished = await asyncio.wait(pending, timeout=grace.remaining())
            for task in unfinished:
                task.cancel()
            if unfinished:
                await asyncio.wait(unfinished, timeout=FLUSH_SECONDS)
    finally:
        server.hub.detach(session)
        server.shutdown()
        if write_transport is not None and write_pipe is not None:
            write_transport.close()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(write_pipe.closed, max(grace.remaining(), FLUSH_SECONDS))


def _read_in_thread(loop: asyncio.AbstractEventLoop, reader: LineReader, stream: BinaryIO) -> None:
    """stdin is a regular file (not a pipe): read it in a thread and hand the data to the loop."""

    def pump() -> None:
        while chunk := stream.read(65536):
            loop.call_soon_threadsafe(reader.data_received, chunk)
        loop.call_soon_threadsafe(reader.eof_received)

    threading.Thread(target=pump, name="mcprt-stdin", daemon=True).start()


def run_stdio(
    server: Server,
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
    fds: tuple[int, int] | None = None,
    max_depth: int = scan.DEFAULT_MAX_DEPTH,
    grace: float = STDIO_GRACE,
) -> None:
    """Serve stdio until stdin ends or SIGTERM/SIGINT, then exit within `grace` seconds (plus the
    backstop's second if the cleanup hangs) whatever the handlers are doing."""
    install_uvloop()
    period = GracePeriod(grace)
    run_within_grace(serve_stdio(server, max_message_bytes, fds, max_depth, period), period)
