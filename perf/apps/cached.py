"""The cache benchmark's app: the same 1 KiB and 64 KiB resources, cached (static) and not (cache=False)."""

from runtime import Server

server = Server("bench-cache", "1.0.0")
KIB = "x" * 1024
KIB64 = "x" * 65536


@server.resource("bench://cached/1k", mime_type="text/plain")
async def cached_1k() -> str:
    return KIB


@server.resource("bench://cached/64k", mime_type="text/plain")
async def cached_64k() -> str:
    return KIB64


@server.resource("bench://uncached/1k", mime_type="text/plain", cache=False)
async def uncached_1k() -> str:
    return KIB


@server.resource("bench://uncached/64k", mime_type="text/plain", cache=False)
async def uncached_64k() -> str:
    return KIB64
