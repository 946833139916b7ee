"""Raw httpx at concurrency 64 over time, with httpx's default keep-alive expiry: requests per
second and the connections in the pool, batch by batch.

    .venv/bin/python benchmarks/pool_probe.py [--batches 12] [--batch 200]

It shows why ``benchmarks/run.py`` measures async throughput on a pool whose 64 connections
never expire: with the default 5 s expiry, the connections the pool happens not to reuse
expire part-way through a run, the pool settles at a fraction of 64, and raw httpx's
throughput changes several-fold (docs/benchmarks.md, "httpx2"). The connection count is read
from httpcore's pool, a private attribute: this is a probe, not an API.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import time

import httpx


async def probe(base: str, batches: int, batch: int) -> list[tuple[float, float, int]]:
    """(seconds since start, requests per second, connections in the pool) per batch."""
    async_throughput = importlib.import_module("run").async_throughput
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)  # default expiry
    rows = []
    start = time.perf_counter()
    async with httpx.AsyncClient(base_url=base, limits=limits) as client:
        for _ in range(batches):
            rps = await async_throughput(client, "/api/v1/call-logs/call_1", batch, 64)
            connections = len(client._transport._pool.connections)  # type: ignore[attr-defined]
            rows.append((time.perf_counter() - start, rps, connections))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--batches", type=int, default=12)
    parser.add_argument("--batch", type=int, default=200, help="requests per batch")
    args = parser.parse_args()
    served = importlib.import_module("run").served  # the sibling script: sys.path[0]
    with served(1000) as base:
        print("   after  req/s  connections")
        for elapsed, rps, connections in asyncio.run(probe(base, args.batches, args.batch)):
            print(f"{elapsed:7.2f}s {rps:6.0f}  {connections:3d}")


if __name__ == "__main__":
    main()
