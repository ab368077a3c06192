"""perf/route_bench.py's server: MCPRT_BENCH_TOOLS synthetic tools (perf/route_catalog.py) with tool search.

Served with `mcprt serve perf.apps.big_catalog:server --http ... --tool-search`. The catalog's vectors come
from perf/route_catalog.py's table (the same the in-process benchmark uses); queries are embedded with the
real MiniLM int8 on the search thread. The catalog is built at start (warm); the first search waits for
the build. `ping` is the transport's floor; `bench://route-sized`, a cached resource of a route's size, the
readers' reference.
"""

from __future__ import annotations

import os
from typing import Any

from router.embed import default_embedder
from runtime import Server, ToolSearch

SIZE = int(os.environ.get("MCPRT_BENCH_TOOLS", "100"))


def embedder() -> Any:
    from perf.route_catalog import TableEmbedder, synthesise

    model = default_embedder(threads=1)
    return TableEmbedder(model, synthesise(SIZE, model).table())


server = Server("big-catalog", "1.0.0", tool_search=ToolSearch(embedder=embedder, warm=True))


def _tool() -> str:
    return "ok"


def register() -> None:
    from perf.route_catalog import real_tools, synthetic_entries

    for entry in synthetic_entries(SIZE, real_tools()):
        server.add_tool(_tool, name=entry.name, description=entry.description, input_schema=entry.schema,
                        title=entry.title or None)  # fmt: skip


@server.tool()
def ping() -> str:
    """The transport's floor: a tool call that does nothing."""
    return "pong"


register()

ROUTE_SIZED = "x" * int(os.environ.get("MCPRT_BENCH_RESOURCE_BYTES", "4000"))


@server.resource("bench://route-sized", mime_type="text/plain")
def route_sized() -> str:
    """A cached resource of about a route's size: the readers' `get` of it is the same path, for reference."""
    return ROUTE_SIZED
