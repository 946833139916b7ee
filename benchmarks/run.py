"""Benchmarks: the wrapper against raw httpx and the seed's requests-based wrapper, in one run.

    .venv/bin/python benchmarks/run.py [--requests 2000] [--items 100000]

Everything runs against the same local server (a separate process, HTTP/1.1 keep-alive) and is
reported as ratios to raw httpx, so the figures compare like with like on whatever machine runs
them. Results go to stdout as a Markdown table; docs/benchmarks.md records a real run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import multiprocessing
import os
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import requests

from stateset_voice_wrapper import (
    AsyncVoiceClient,
    ReliabilityConfig,
    ReliableTransport,
    RetryBudget,
    VoiceClient,
)

CALL_LOG: dict[str, Any] = {
    "call_id": "call_01JD4Z9K2P7W3X8Y5V6T4R2Q1M",
    "status": "completed",
    "direction": "outbound",
    "to": "+15555555678",
    "from": "+15555551234",
    "agent_key": "front_desk",
    "session_id": "vs_01JD4Z9M4Q8B2C7D3E9F5G1H6J",
    "duration_seconds": 94,
    "escalated": False,
    "escalation_reason": None,
    "summary": "Customer confirmed the appointment.",
    "created_at": "2026-11-20T15:04:05Z",
    "started_at": "2026-11-20T15:04:11Z",
    "ended_at": "2026-11-20T15:05:45Z",
}
ONE = json.dumps(CALL_LOG).encode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    total_items = 100_000
    # One write per response and no Nagle: otherwise delayed ACKs add ~40 ms to every request.
    wbufsize = -1
    disable_nagle_algorithm = True

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path == "/api/v1/call-logs":
            query = parse_qs(url.query)
            limit = int(query.get("limit", ["25"])[0])
            offset = int(query.get("offset", ["0"])[0])
            count = max(0, min(limit, self.total_items - offset))
            items = ",".join([ONE.decode()] * count)
            body = (
                f'{{"items":[{items}],"total":{self.total_items},"limit":{limit},'
                f'"offset":{offset},"has_more":{"true" if offset + count < self.total_items else "false"}}}'
            ).encode()
        else:
            body = ONE
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("x-request-id", "req_bench")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class Server(ThreadingHTTPServer):
    request_queue_size = 256  # 64 concurrent keep-alive connections must not overflow the backlog
    daemon_threads = True


def serve(port_queue: Any, total_items: int) -> None:
    Handler.total_items = total_items
    server = Server(("127.0.0.1", 0), Handler)
    port_queue.put(server.server_address[1])
    server.serve_forever()


def seed_wrapper_get(base_url: str, api_key: str, path: str) -> dict[str, Any]:
    """The requests-based wrapper from the StateSet docs page, verbatim in behaviour (GET)."""
    headers = {"Authorization": f"Bearer {api_key}", "content-type": "application/json"}
    for attempt in range(3):
        response = requests.request("GET", f"{base_url}{path}", headers=headers, timeout=20)
        if response.status_code not in {429, 500, 502, 503}:
            response.raise_for_status()
            result: dict[str, Any] = response.json()
            return result
        time.sleep(0.5 * (2**attempt))
    response.raise_for_status()
    return {}


def interleaved_latency(
    variants: dict[str, tuple[Callable[[], object], int]], rounds: int = 10
) -> dict[str, float]:
    """Median seconds per call of each variant, measured in alternating rounds.

    ``variants`` maps a name to ``(fn, samples)``. Each round runs every variant for its share of
    samples, in an order rotated every round, so a slow patch on the machine (another process,
    frequency scaling) lands on every variant alike instead of skewing one ratio.
    """
    for fn, samples in variants.values():
        for _ in range(min(50, samples)):
            fn()
    collected: dict[str, list[float]] = {name: [] for name in variants}
    names = list(variants)
    for round_number in range(rounds):
        shift = round_number % len(names)
        for name in names[shift:] + names[:shift]:
            fn, samples = variants[name]
            for _ in range(max(1, samples // rounds)):
                start = time.perf_counter()
                fn()
                collected[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in collected.items()}


def in_memory_overhead(n: int) -> tuple[float, float]:
    """Median µs per GET through a plain client and through ReliableTransport, both over an
    in-memory transport: the layer's own CPU cost, free of network and server noise."""

    def handler(_: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=ONE, headers={"x-request-id": "req_bench"})

    plain = httpx.Client(base_url="http://bench.local", transport=httpx.MockTransport(handler))
    layered = httpx.Client(
        base_url="http://bench.local",
        transport=ReliableTransport(config=quiet_config(), transport=httpx.MockTransport(handler)),
    )
    with plain, layered:
        medians = interleaved_latency(
            {
                "plain": (lambda: plain.get("/api/v1/call-logs/call_1").read(), n),
                "layered": (lambda: layered.get("/api/v1/call-logs/call_1").read(), n),
            }
        )
    return medians["plain"] * 1e6, medians["layered"] * 1e6


def spread(values: list[float]) -> str:
    """``median (min–max)`` of repeated ratios."""
    return f"{statistics.median(values):.2f}× ({min(values):.2f}–{max(values):.2f})"


async def async_throughput(
    client: httpx.AsyncClient, url: str, total: int, concurrency: int
) -> float:
    queue = iter(range(total))

    async def worker() -> None:
        for _ in queue:
            response = await client.get(url)
            response.read()

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return total / (time.perf_counter() - start)


def quiet_config() -> ReliabilityConfig:
    return ReliabilityConfig(budget=RetryBudget())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--page-size", type=int, default=200)
    parser.add_argument(
        "--repeat", type=int, default=5, help="repeat the latency and throughput comparisons"
    )
    args = parser.parse_args()

    ctx = multiprocessing.get_context("spawn")
    ports = ctx.Queue()
    proc = ctx.Process(target=serve, args=(ports, args.items), daemon=True)
    proc.start()
    base = f"http://127.0.0.1:{ports.get(timeout=10)}"
    path = "/api/v1/call-logs/call_1"
    rows: list[tuple[str, str, str]] = []
    try:
        # -- sync GET latency ---------------------------------------------------------------
        # Every comparison is repeated --repeat times; the table shows the median of the
        # per-repeat figures and the range of the ratios, so run-to-run noise is visible.
        latency: dict[str, list[float]] = {"raw": [], "transport": [], "facade": [], "seed": []}
        with (
            httpx.Client(base_url=base) as raw,
            httpx.Client(
                base_url=base, transport=ReliableTransport(config=quiet_config())
            ) as wrapped,
            VoiceClient("sk_bench", base_url=base, reliability=quiet_config()) as voice,
        ):
            for _ in range(args.repeat):
                medians = interleaved_latency(
                    {
                        "raw": (lambda: raw.get(path).read(), args.requests),
                        "transport": (lambda: wrapped.get(path).read(), args.requests),
                        "facade": (lambda: voice.call_logs.get("call_1"), args.requests),
                        "seed": (
                            lambda: seed_wrapper_get(base, "sk_bench", path),
                            max(200, args.requests // 4),
                        ),
                    }
                )
                for variant, seconds in medians.items():
                    latency[variant].append(seconds)

        def ratios(name: str) -> list[float]:
            return [v / r for v, r in zip(latency[name], latency["raw"], strict=True)]

        def micros(name: str) -> str:
            return f"{statistics.median(latency[name]) * 1e6:.0f} µs"

        rows += [
            ("GET median latency, raw httpx.Client (keep-alive)", micros("raw"), "1.00×"),
            (
                "GET median latency, httpx.Client + ReliableTransport",
                micros("transport"),
                spread(ratios("transport")),
            ),
            (
                "GET median latency, VoiceClient.call_logs.get (typed model)",
                micros("facade"),
                spread(ratios("facade")),
            ),
            (
                "GET median latency, seed requests wrapper",
                micros("seed"),
                spread(ratios("seed")),
            ),
        ]

        plain_us, layered_us = in_memory_overhead(max(2000, args.requests * 5))
        rows.append(
            (
                "ReliableTransport's own cost per GET (in-memory transport, no network)",
                f"{layered_us - plain_us:.0f} µs",
                f"{plain_us:.0f} µs → {layered_us:.0f} µs",
            )
        )

        # -- async throughput at concurrency 64 --------------------------------------------
        async def throughput() -> tuple[float, float]:
            """Requests per second of each client in one repeat, the two measured back to back
            in alternating order."""
            limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
            inner = httpx.AsyncHTTPTransport(limits=limits)
            transport = ReliableTransport(config=quiet_config(), async_transport=inner)
            rps: dict[str, float] = {}
            async with (
                httpx.AsyncClient(base_url=base, limits=limits) as raw_async,
                httpx.AsyncClient(base_url=base, transport=transport) as wrapped_async,
            ):
                for warm in (raw_async, wrapped_async):
                    await async_throughput(warm, path, 500, 64)
                order = ["raw", "wrapped"] if len(raw_rps) % 2 == 0 else ["wrapped", "raw"]
                for name in order:
                    client = raw_async if name == "raw" else wrapped_async
                    rps[name] = await async_throughput(client, path, args.requests * 2, 64)
            return rps["raw"], rps["wrapped"]

        raw_rps: list[float] = []
        wrapped_rps: list[float] = []
        for _ in range(args.repeat):
            raw_value, wrapped_value = asyncio.run(throughput())
            raw_rps.append(raw_value)
            wrapped_rps.append(wrapped_value)
        rows += [
            (
                "Async throughput @64, raw httpx.AsyncClient",
                f"{statistics.median(raw_rps):.0f} req/s",
                "1.00×",
            ),
            (
                "Async throughput @64, AsyncClient + ReliableTransport",
                f"{statistics.median(wrapped_rps):.0f} req/s",
                spread([w / r for w, r in zip(wrapped_rps, raw_rps, strict=True)]),
            ),
        ]

        # -- pagination ------------------------------------------------------------------------
        requests_seen = 0

        def count(_: httpx.Request) -> None:
            nonlocal requests_seen
            requests_seen += 1

        with VoiceClient("sk_bench", base_url=base, reliability=quiet_config()) as voice:
            voice._http.event_hooks["request"].append(count)
            tracemalloc.start()
            start = time.perf_counter()
            n = sum(1 for _ in voice.call_logs.list(page_size=args.page_size))
            elapsed = time.perf_counter() - start
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
        expected_requests = math.ceil(args.items / args.page_size)
        rows += [
            (
                f"Sync iterate {n} call logs (page {args.page_size})",
                f"{n / elapsed:.0f} items/s",
                f"peak +{peak / 2**20:.1f} MiB, {requests_seen} requests (ceil = {expected_requests})",
            ),
        ]

        async def aiterate() -> tuple[int, float, int]:
            async with AsyncVoiceClient(
                "sk_bench", base_url=base, reliability=quiet_config()
            ) as avoice:
                tracemalloc.start()
                start = time.perf_counter()
                total = 0
                async for _ in avoice.call_logs.list(page_size=args.page_size):
                    total += 1
                took = time.perf_counter() - start
                _, apeak = tracemalloc.get_traced_memory()
                tracemalloc.stop()
            return total, took, apeak

        an, aelapsed, apeak = asyncio.run(aiterate())
        rows.append(
            (
                f"Async iterate {an} call logs (page {args.page_size}, prefetch)",
                f"{an / aelapsed:.0f} items/s",
                f"peak +{apeak / 2**20:.1f} MiB",
            )
        )
    finally:
        proc.terminate()
        proc.join(5)

    # -- import time ---------------------------------------------------------------------------
    samples = []
    for _ in range(7):
        out = (
            subprocess.run(
                [sys.executable, "-X", "importtime", "-c", "import stateset_voice_wrapper"],
                capture_output=True,
                text=True,
                check=True,
                env={**os.environ, "PYTHONDONTWRITEBYTECODE": "0"},
            )
            .stderr.strip()
            .splitlines()[-1]
        )
        samples.append(int(out.split("|")[1]) / 1000)
    rows.append(
        (
            "`import stateset_voice_wrapper` (-X importtime, median of 7)",
            f"{statistics.median(samples):.0f} ms",
            "target < 150 ms",
        )
    )

    print("| measurement | value | ratio / note |")
    print("| --- | --- | --- |")
    for name, value, ratio in rows:
        print(f"| {name} | {value} | {ratio} |")


if __name__ == "__main__":
    main()
