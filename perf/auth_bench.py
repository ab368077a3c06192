"""Micro benchmark of the token verifiers (runtime/auth): µs per token for a cold verification (header,
key lookup, signature, claims; the JWKS already fetched) of RS256 and ES256 JWT access tokens issued by the
real authorization server of the tests (tests/authserver, node-oidc-provider on 127.0.0.1), and for the
hot path `cached()` of a token verified before. Wall and CPU time per op (the machine may be shared: CPU
is the steadier figure); the best of `--repeat` runs.

    .venv/bin/python -m perf.auth_bench [--ops 2000] [--cached-ops 1000000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Awaitable, Callable

from runtime.auth.jwt import JwtVerifier
from tests.auth_server import AuthServer

AUDIENCE = "http://127.0.0.1:8000/mcp"


def best(runs: list[tuple[float, float]], ops: int) -> str:
    wall = min(r[0] for r in runs) / ops * 1e6
    cpu = min(r[1] for r in runs) / ops * 1e6
    return f"{wall:8.3f} µs wall  {cpu:8.3f} µs cpu"


async def timed(ops: int, repeat: int, run: Callable[[int], Awaitable[None]]) -> list[tuple[float, float]]:
    runs = []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        await run(ops)
        runs.append((time.perf_counter() - wall, time.process_time() - cpu))
    return runs


async def bench(alg: str, ops: int, cached_ops: int, repeat: int) -> None:
    with AuthServer.running({"alg": alg}) as server:
        token = server.token(AUDIENCE, "mcp:read mcp:write")
        print(f"{alg} token: {len(token)} characters")
        cold = JwtVerifier(server.issuer, AUDIENCE, algorithms=(alg,), cache_size=0)  # every call verifies
        await cold.verify(token)  # fetch the metadata and the JWKS first
        warm = JwtVerifier(server.issuer, AUDIENCE, algorithms=(alg,))
        await warm.verify(token)
        assert warm.cached(token) is not None

        async def verify(n: int) -> None:
            for _ in range(n):
                await cold.verify(token)

        async def cached(n: int) -> None:
            lookup = warm.cached
            for _ in range(n):
                lookup(token)

        print(f"{alg} verify (cold, signature)  {best(await timed(ops, repeat, verify), ops)}")
        print(f"{alg} cached()                  {best(await timed(cached_ops, repeat, cached), cached_ops)}")
        await cold.aclose()
        await warm.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ops", type=int, default=2000)
    parser.add_argument("--cached-ops", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    for alg in ("RS256", "ES256"):
        asyncio.run(bench(alg, args.ops, args.cached_ops, args.repeat))


if __name__ == "__main__":
    main()
