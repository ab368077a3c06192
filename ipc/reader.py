"""The co-located client: a process on the same host reading a running server's result cache directly from
shared memory (no JSON-RPC, no socket), with a fallback to the server's normal transport on a miss.

    from ipc.reader import CacheReader, ColocatedClient
    reader = CacheReader.for_port(8000)           # the server of `mcprt serve --http 127.0.0.1:8000`
    reader.get("test://static-text")              # the resources/read result (JSON bytes) or None
    reader.search("read a file")                  # a repeated search_tools result (ipc/search_keys.py)
    client = ColocatedClient("http://127.0.0.1:8000/mcp")
    client.read_resource("test://static-text")    # from the cache, else over HTTP (which fills the cache)

The segment is private to the server's user (0600): another user's reader is refused with SegmentError.
When the server stops (it marks the segment closed) or dies, `get` answers None and the reader attaches to
the next server of that name when one appears (checked at most every `recheck` seconds).
"""

from __future__ import annotations

import contextlib
import http.client
import itertools
import json
import time
from typing import Any
from urllib.parse import urlsplit

from ipc.cache import _STATE, STATE_OPEN, SharedCache
from ipc.errors import SegmentError
from ipc.search_keys import DEFAULT_LIMIT, search_key
from ipc.segment import HEADER_SIZE, instance_prefix, instance_prefixes, pid_alive
from runtime.protocol.versions import LATEST

_STATE_AT = HEADER_SIZE + _STATE
_STATE_WORD = _STATE_AT >> 2  # index of the state word in `SharedCache.u32`


def cache_name(prefix: str) -> str:
    """The cache segment of a server instance (workers.cluster.config uses the same)."""
    return f"{prefix}-cache"


def name_for_port(port: int) -> str:
    """The usual cache name of the server on `port` (see `names_for_port` for where else it may be)."""
    return cache_name(instance_prefix(str(port)))


def names_for_port(port: int) -> list[str]:
    """Every name the cache of the server on `port` may have, in the order it claims them (ipc/CACHE.md)."""
    return [cache_name(prefix) for prefix in instance_prefixes(str(port))]


def find_cache(names: list[str], *, stopped: bool = False) -> SharedCache:
    """The first of `names` that is ours (owner and mode checked on attach), open and whose creator lives;
    with `stopped`, failing that, the first of ours at all (for inspection)."""
    problems: list[str] = []
    fallback: SharedCache | None = None
    for name in names:
        try:
            cache = SharedCache.attach(name)
        except (SegmentError, OSError) as exc:
            problems.append(str(exc))
            continue
        if not cache.closed_by_owner and pid_alive(cache.creator_pid):
            if fallback is not None:
                fallback.close()
            return cache
        if stopped and fallback is None:
            fallback = cache
        else:
            cache.close()
        problems.append(f"{name}: the server stopped")
    if fallback is not None:
        return fallback
    # The usual name's problem, unless a later one tells more than "no such segment".
    told = [p for p in problems if not p.endswith("no such segment")]
    raise SegmentError((told or problems or ["no cache names"])[0])


CLOCK_EVERY = 64
SLOTS_KEPT = 4096  # queries whose place in the segment a reader remembers


class CacheReader:
    """Lock-free reads of one server's cache; survives the server's restart."""

    def __init__(self, name: str | list[str], *, recheck: float = 0.5) -> None:
        self.names = [name] if isinstance(name, str) else list(name)
        self.name = self.names[0]
        self.recheck = recheck
        self.cache: SharedCache | None = None
        self._next_check = 0.0
        self._until_clock = 0  # gets left before the clock is read again (a clock read is ~0.1 µs)
        self.hits = 0
        self.misses = 0
        self.error: str | None = None  # why the reader is detached, if it is
        self._search_slots: dict[tuple[str, int, str], tuple[bytes, int, int, int, int]] = {}
        self._attach(strict=True)

    @classmethod
    def for_port(cls, port: int, **options: Any) -> CacheReader:
        return cls(names_for_port(port), **options)

    def _attach(self, strict: bool = False) -> bool:
        try:
            cache = find_cache(self.names)
        except SegmentError as exc:
            self.error = str(exc)
            if strict:
                raise
            return False
        self.name = cache.name
        self.cache = cache
        self._search_slots = {}  # slots are positions in one segment
        self.error = None
        return True

    def _alive(self) -> bool:
        """Whether the attached segment is still its server's; detach and try the next one if not."""
        now = time.monotonic()
        cache = self.cache
        if cache is not None and now < self._next_check:
            return True
        self._next_check = now + self.recheck
        if cache is not None:
            if not cache.closed_by_owner and pid_alive(cache.creator_pid):
                return True
            cache.close()
            self.cache = None
        return self._attach()

    def _due(self) -> bool:
        """Whether the liveness check is due; the clock is read once every CLOCK_EVERY gets (the state word,
        read on every get, already tells a server that stopped cleanly)."""
        self._until_clock = CLOCK_EVERY
        return time.monotonic() >= self._next_check

    @property
    def attached(self) -> bool:
        return self._alive()

    def get_key(self, key: str) -> bytes | None:
        """The value cached under a raw key (see `ipc.cache.resource_key`/`tool_key`), or None."""
        self._until_clock -= 1
        return self._get_checked(None, key.encode())

    def search(self, query: str, limit: int = DEFAULT_LIMIT, kind: str = "tools") -> bytes | None:
        """The stored `search_tools` result for `query` (`search_resources`/`search_prompts` by `kind`): the
        structuredContent JSON (`{"tools":[...]}`) of the last search the server ran for exactly that query
        and limit, or None (ipc/search_keys.py; dropped when the server's tools change). Each query's slot
        is worked out once (bounded), as `get` does for URIs."""
        cache = self.cache
        self._until_clock -= 1
        if cache is None or (self._until_clock <= 0 and self._due()):
            if not self._alive():
                return None
            cache = self.cache
            assert cache is not None
        if cache.u32[_STATE_WORD] != STATE_OPEN:  # the server stopped: what is left may be stale
            self._next_check = 0.0
            return None
        slots = self._search_slots
        slot = slots.get((query, limit, kind))
        if slot is None:
            slot = cache.slot(search_key(query, limit, kind).encode())
            if len(slots) < SLOTS_KEPT:
                slots[(query, limit, kind)] = slot
        value = cache.get_slot(slot)
        if value is None:
            self.misses += 1
        else:
            self.hits += 1
        return value

    def get(self, uri: str) -> bytes | None:
        """The cached resources/read result of `uri` (ready-to-send JSON), or None."""
        cache = self.cache
        self._until_clock -= 1
        if cache is None or self._until_clock <= 0:
            return self._get_checked(uri, None)
        if cache.u32[_STATE_WORD] != STATE_OPEN:  # the server stopped: what is left may be stale
            self._next_check = 0.0
            return None
        value = cache.get_resource(uri)
        if value is None:
            self.misses += 1
        else:
            self.hits += 1
        return value

    def _get_checked(self, uri: str | None, kb: bytes | None) -> bytes | None:
        """A get that first checks (now and then) that the segment is still its server's."""
        cache = self.cache
        if cache is None or self._due():
            if not self._alive():
                return None
            cache = self.cache
            assert cache is not None
        if cache.u32[_STATE_WORD] != STATE_OPEN:
            self._next_check = 0.0
            return None
        value = cache.get_resource(uri) if uri is not None else cache.get_bytes(kb)  # type: ignore[arg-type]
        if value is None:
            self.misses += 1
        else:
            self.hits += 1
        return value

    def close(self) -> None:
        if self.cache is not None:
            self.cache.close()
            self.cache = None


class ColocatedClient:
    """`get` from the cache, and on a miss one resources/read over the server's Streamable HTTP endpoint
    (one keep-alive connection, one MCP session) — the server then fills the cache."""

    def __init__(self, url: str, *, timeout: float = 10.0, reader: CacheReader | None = None) -> None:
        parts = urlsplit(url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.path = parts.path or "/mcp"
        self.timeout = timeout
        self.reader = reader
        if reader is None:
            with contextlib.suppress(SegmentError):
                self.reader = CacheReader.for_port(self.port)
        self._http: http.client.HTTPConnection | None = None
        self._session: dict[str, str] = {}
        self._ids = itertools.count(1)

    def read_resource(self, uri: str) -> bytes:
        """The resources/read result of `uri` as JSON bytes (McpError-shaped RuntimeError on an error)."""
        if self.reader is not None:
            cached = self.reader.get(uri)
            if cached is not None:
                return cached
        return self.request("resources/read", {"uri": uri})

    def request(self, method: str, params: dict[str, Any]) -> bytes:
        if not self._session:
            self._initialize()
        message = {"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": params}
        status, _headers, body = self._post(message)
        if status != 200:
            raise RuntimeError(f"{method}: HTTP {status}: {body[:200]!r}")
        answer = json.loads(_last_json(body))
        if "error" in answer:
            raise RuntimeError(f"{method}: {answer['error'].get('message')}")
        return json.dumps(answer["result"], separators=(",", ":")).encode()

    def _post(self, message: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
        if self._http is None:
            self._http = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        headers = {
            "Accept": "application/json, text/event-stream",
            "Content-Type": "application/json",
            **self._session,
        }
        self._http.request("POST", self.path, body=json.dumps(message), headers=headers)
        response = self._http.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()

    def _initialize(self) -> None:
        init = {
            "jsonrpc": "2.0",
            "id": 0,
            "method": "initialize",
            "params": {
                "protocolVersion": LATEST,
                "capabilities": {},
                "clientInfo": {"name": "mcprt-colocated", "version": "1"},
            },
        }
        status, headers, body = self._post(init)
        if status != 200:
            raise RuntimeError(f"initialize: HTTP {status}: {body[:200]!r}")
        negotiated = json.loads(_last_json(body))["result"]["protocolVersion"]
        self._session = {"MCP-Protocol-Version": negotiated}
        if "mcp-session-id" in headers:
            self._session["Mcp-Session-Id"] = headers["mcp-session-id"]
        self._post({"jsonrpc": "2.0", "method": "notifications/initialized"})

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None
        if self.reader is not None:
            self.reader.close()


def _last_json(body: bytes) -> bytes:
    """The answer in a JSON body or the last `data:` line of an SSE body."""
    if body.lstrip().startswith(b"{"):
        return body
    lines = [line[6:] for line in body.split(b"\n") if line.startswith(b"data: ")]
    return lines[-1] if lines else body
