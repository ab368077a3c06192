"""A worker process of `mcprt serve --workers N`, started by the supervisor as `python -m runtime.worker`.
It starts from the WorkerStart the supervisor put in its environment: the server's whole ServeConfig and
this worker's slot, CPU and listening socket. It reads no command line."""

from __future__ import annotations

from runtime.cli import serve
from runtime.config import WorkerStart


def main() -> int:
    start = WorkerStart.take_from_env()
    return serve(start.serve, start.cluster)


if __name__ == "__main__":
    raise SystemExit(main())
