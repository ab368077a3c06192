"""Client side of stdio: spawn the server, write lines to its stdin, read lines from its stdout."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import Callable, Mapping, Sequence

MessageSink = Callable[[bytes], None]
LINE_LIMIT = 64 * 1024 * 1024


class StdioTransport:
    """Runs the server as a subprocess. Shutdown follows lifecycle.mdx: close stdin, then SIGTERM, then
    SIGKILL."""

    def __init__(
        self,
        command: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
        stderr: int | None = None,
        shutdown_timeout: float = 2.0,
    ) -> None:
        if not command:
            raise ValueError("an empty command")
        self.command = list(command)
        self.env = {**os.environ, **env} if env is not None else None
        self.cwd = cwd
        self.stderr = stderr
        self.shutdown_timeout = shutdown_timeout
        self.process: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None

    async def start(self, on_message: MessageSink, on_close: Callable[[BaseException | None], None]) -> None:
        self.process = await asyncio.create_subprocess_exec(
            *self.command,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=self.stderr,
            env=self.env,
            cwd=self.cwd,
            limit=LINE_LIMIT,
        )
        self._reader = asyncio.create_task(self._read(on_message, on_close))

    async def _read(self, on_message: MessageSink, on_close: Callable[[BaseException | None], None]) -> None:
        assert self.process is not None and self.process.stdout is not None
        stdout = self.process.stdout
        error: BaseException | None = None
        try:
            while line := await stdout.readline():
                if line.strip():
                    on_message(line)
        except (asyncio.CancelledError, ConnectionError) as exc:
            error = exc
        except Exception as exc:  # a broken message stream ends the connection
            print(f"mcprt client: stdio read failed: {exc!r}", file=sys.stderr)
            error = exc
        on_close(error)

    async def send(self, data: bytes) -> None:
        if self.process is None or self.process.stdin is None:
            raise ConnectionError("the server process is not running")
        stdin = self.process.stdin
        try:
            stdin.write(data + b"\n")
            await stdin.drain()
        except (BrokenPipeError, ConnectionResetError) as exc:
            raise ConnectionError("the server process closed its stdin") from exc

    async def close(self) -> None:
        process = self.process
        if process is None:
            return
        if process.stdin is not None:
            with contextlib.suppress(Exception):
                process.stdin.close()
        if not await self._exited(process):
            with contextlib.suppress(ProcessLookupError):
                process.terminate()
            if not await self._exited(process):
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()
        if self._reader is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(self._reader, 1.0)

    async def _exited(self, process: asyncio.subprocess.Process) -> bool:
        try:
            await asyncio.wait_for(process.wait(), self.shutdown_timeout)
        except TimeoutError:
            return False
        return True
