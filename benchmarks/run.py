"""Benchmarks: the wrapper against raw httpx and the seed's requests-based wrapper, in one run.

    .venv/bin/python benchmarks/run.py [--requests 2000] [--items 100000]
    .venv/bin/python benchmarks/run.py --http httpx2    # also httpx2, from .venv-httpx2

With ``--http httpx2`` the sync latency and the async throughput at concurrency 64 are measured
for both HTTP stacks against the same server, each in its own interpreter (httpx2 stands in for
httpx through ``alias_httpx()``, see ``make check-httpx2``), in alternating repeats.

Everything runs against the same local server (a separate process, HTTP/1.1 keep-alive) and is
reported as ratios to raw httpx, so the figures compare like with like on whatever machine runs
them. Results go to stdout as a Markdown table; docs/benchmarks.md records a real run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import json
import math
import multiprocessing
import os
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator
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

# The sibling script (benchmarks/ is this script's sys.path[0]).
import_times: Callable[[str], dict[str, float]] = importlib.import_module("importtime").import_times

# `make bench-import`'s venv: only the package, httpx and attrs, as a user installs them. In the
# dev venv `import httpx` also loads its command line's click and rich (the code generator brings
# them), which adds 30-40 ms to every import row.
RUNTIME_PYTHON = ".venv-runtime/bin/python"


def _venv_note(python: str) -> str:
    if python == RUNTIME_PYTHON:
        return "the runtime venv: the package, httpx and attrs only (`make bench-import`)"
    if python == sys.executable:
        return "this interpreter: `make bench-import` builds the runtime venv"
    return "as given by --import-python"


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
            body = list_body(limit, offset, self.total_items)
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


@contextlib.contextmanager
def served(total_items: int) -> Iterator[str]:
    """The benchmark server in a process of its own, for the block: yields its base URL."""
    ctx = multiprocessing.get_context("spawn")
    ports = ctx.Queue()
    proc = ctx.Process(target=serve, args=(ports, total_items), daemon=True)
    proc.start()
    try:
        yield f"http://127.0.0.1:{ports.get(timeout=10)}"
    finally:
        proc.terminate()
        proc.join(5)


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


def in_memory_overhead(n: int) -> dict[str, float]:
    """Median µs per GET through a plain client and through ReliableTransport, both over an
    in-memory transport: the layer's own CPU cost, free of network and server noise.

    ``layered`` has telemetry off (the default); ``telemetry`` has it on with OpenTelemetry's
    default no-op tracer and meter (no SDK configured), when opentelemetry-api is installed.
    """

    def handler(_: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=ONE, headers={"x-request-id": "req_bench"})

    def client(**options: Any) -> httpx.Client:
        transport = ReliableTransport(
            config=quiet_config(**options), transport=httpx.MockTransport(handler)
        )
        return httpx.Client(base_url="http://bench.local", transport=transport)

    clients = {
        "plain": httpx.Client(base_url="http://bench.local", transport=httpx.MockTransport(handler))
    }
    clients["layered"] = client()
    if telemetry_available():
        clients["telemetry"] = client(telemetry=True)

    def get(c: httpx.Client) -> Callable[[], object]:
        return lambda: c.get("/api/v1/call-logs/call_1").read()

    try:
        medians = interleaved_latency({name: (get(c), n) for name, c in clients.items()})
    finally:
        for c in clients.values():
            c.close()
    return {name: seconds * 1e6 for name, seconds in medians.items()}


def telemetry_available() -> bool:
    """Whether this build has the telemetry switch and opentelemetry-api is installed."""
    import importlib.util

    return "telemetry" in attrs_fields(ReliabilityConfig) and bool(
        importlib.util.find_spec("opentelemetry")
    )


def attrs_fields(cls: type) -> set[str]:
    import attrs

    return {field.name for field in attrs.fields(cls)}


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


def quiet_config(**options: Any) -> ReliabilityConfig:
    return ReliabilityConfig(budget=RetryBudget(), **options)


def list_body(limit: int, offset: int, total: int) -> bytes:
    """A page of ``CallLogList`` JSON, as the server below sends it."""
    count = max(0, min(limit, total - offset))
    # Each item has its own call_id: the client stops a listing whose page repeats the last.
    template = ONE.decode().replace(CALL_LOG["call_id"], "call_{}")
    items = ",".join(template.replace("{}", str(offset + i), 1) for i in range(count))
    more = "true" if offset + count < total else "false"
    return (
        f'{{"items":[{items}],"total":{total},"limit":{limit},"offset":{offset},"has_more":{more}}}'
    ).encode()


def sync_latency(base: str, path: str, samples: int, list_limit: int) -> dict[str, float]:
    """One interleaved repeat of the sync latency variants, seconds per call (median)."""
    from stateset_voice_public.models import CallLogList

    params = {"limit": str(list_limit)}
    with (
        httpx.Client(base_url=base) as raw,
        httpx.Client(base_url=base, transport=ReliableTransport(config=quiet_config())) as wrapped,
        VoiceClient("sk_bench", base_url=base, reliability=quiet_config()) as voice,
    ):
        return interleaved_latency(
            {
                "raw": (lambda: raw.get(path).read(), samples),
                "transport": (lambda: wrapped.get(path).read(), samples),
                "facade": (lambda: voice.call_logs.get("call_1"), samples),
                "list_raw": (
                    lambda: CallLogList.from_dict(
                        raw.get("/api/v1/call-logs", params=params).json()
                    ),
                    max(100, samples // 4),
                ),
                "list_page": (
                    lambda: voice.call_logs.list_page(limit=list_limit),
                    max(100, samples // 4),
                ),
                "seed": (lambda: seed_wrapper_get(base, "sk_bench", path), max(200, samples // 4)),
            }
        )


async def throughput(
    base: str, path: str, total: int, first: str, warm: int = 500
) -> dict[str, float]:
    """Requests per second at concurrency 64, raw and through ReliableTransport, measured back
    to back (``first`` goes first).

    Each client is built, warmed, measured and closed before the other starts, so neither runs
    beside the other's 64 keep-alive connections (and the threads the server keeps for them):
    measured with both pools open, the order of the two moved the ratio between 0.58x and 1.97x.

    The pool keeps its 64 connections for the whole run (no keep-alive expiry). With httpx's
    5 s expiry, the connections the pool happens not to reuse expire part-way through and it
    settles at about 15, where raw httpx runs 3-4 times faster than at 64: a run would then
    measure whichever mixture of the two its timing gave it."""
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64, keepalive_expiry=None)

    def build(name: str) -> httpx.AsyncClient:
        if name == "raw":
            return httpx.AsyncClient(base_url=base, limits=limits)
        inner = httpx.AsyncHTTPTransport(limits=limits)
        transport = ReliableTransport(config=quiet_config(), async_transport=inner)
        return httpx.AsyncClient(base_url=base, transport=transport)

    rps: dict[str, float] = {}
    for name in (first, "wrapped" if first == "raw" else "raw"):
        async with build(name) as client:
            await async_throughput(client, path, warm, 64)
            rps[name] = await async_throughput(client, path, total, 64)
    return rps


def stack_child(base: str, samples: int, list_limit: int, first: str) -> None:
    """``--stack-child``: one repeat of the stack comparison in this interpreter, as JSON."""
    path = "/api/v1/call-logs/call_1"
    latency = sync_latency(base, path, samples, list_limit)
    rps = asyncio.run(throughput(base, path, samples * 2, first))
    print(
        json.dumps(
            {"stack": f"{httpx.__name__} {httpx.__version__}", "latency": latency, "rps": rps}
        )
    )


def stack_comparison(args: argparse.Namespace, base: str) -> list[tuple[str, str, str]]:
    """httpx (this interpreter) and httpx2 (``--httpx2-python``), each in a child process,
    alternating which goes first in each repeat."""
    pythons = {"httpx": sys.executable, "httpx2": args.httpx2_python}
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in pythons}
    for repeat in range(args.repeat):
        order = list(pythons) if repeat % 2 == 0 else list(reversed(pythons))
        for name in order:
            out = subprocess.run(
                [
                    pythons[name],
                    __file__,
                    *("--stack-child", base, "--requests", str(args.requests)),
                    *("--list-limit", str(args.list_limit)),
                    *("--first", "raw" if repeat % 2 == 0 else "wrapped"),
                ],
                capture_output=True,
                text=True,
                check=True,
            )
            results[name].append(json.loads(out.stdout.strip().splitlines()[-1]))
    rows: list[tuple[str, str, str]] = []

    def median(name: str, section: str, key: str) -> float:
        return float(statistics.median(r[section][key] for r in results[name]))

    base_raw_latency = [r["latency"]["raw"] for r in results["httpx"]]
    base_raw_rps = [r["rps"]["raw"] for r in results["httpx"]]
    for name in pythons:
        label = results[name][0]["stack"]
        for key, what in (
            ("raw", "raw Client"),
            ("transport", "Client + ReliableTransport"),
            ("facade", "VoiceClient.call_logs.get"),
        ):
            ratio = [
                r["latency"][key] / b for r, b in zip(results[name], base_raw_latency, strict=True)
            ]
            rows.append(
                (
                    f"[{label}] sync GET median latency, {what}",
                    f"{median(name, 'latency', key) * 1e6:.0f} µs",
                    f"{spread(ratio)} of httpx raw",
                )
            )
        for key, what in (
            ("raw", "raw AsyncClient"),
            ("wrapped", "AsyncClient + ReliableTransport"),
        ):
            ratio = [r["rps"][key] / b for r, b in zip(results[name], base_raw_rps, strict=True)]
            rows.append(
                (
                    f"[{label}] async throughput @64, {what}",
                    f"{median(name, 'rps', key):.0f} req/s",
                    f"{spread(ratio)} of httpx raw",
                )
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--page-size", type=int, default=200)
    parser.add_argument("--list-limit", type=int, default=100, help="items per list_page")
    parser.add_argument(
        "--repeat", type=int, default=5, help="repeat the latency and throughput comparisons"
    )
    parser.add_argument("--http", choices=["httpx", "httpx2"], default="httpx")
    parser.add_argument("--httpx2-python", default=".venv-httpx2/bin/python")
    parser.add_argument("--stack-child", metavar="BASE_URL", help=argparse.SUPPRESS)
    parser.add_argument("--first", default="raw", help=argparse.SUPPRESS)
    parser.add_argument(
        "--import-python",
        default=RUNTIME_PYTHON,
        help="interpreter for the import rows (default: make bench-import's runtime venv, "
        "if built; else this one)",
    )
    args = parser.parse_args()
    if args.stack_child:
        stack_child(args.stack_child, args.requests, args.list_limit, args.first)
        return

    server = contextlib.ExitStack()
    base = server.enter_context(served(args.items))
    path = "/api/v1/call-logs/call_1"
    rows: list[tuple[str, str, str]] = []
    try:
        # -- sync GET latency ---------------------------------------------------------------
        # Every comparison is repeated --repeat times; the table shows the median of the
        # per-repeat figures and the range of the ratios, so run-to-run noise is visible.
        latency: dict[str, list[float]] = {}
        for _ in range(args.repeat):
            for variant, seconds in sync_latency(
                base, path, args.requests, args.list_limit
            ).items():
                latency.setdefault(variant, []).append(seconds)

        def ratios(name: str, reference: str = "raw") -> list[float]:
            return [v / r for v, r in zip(latency[name], latency[reference], strict=True)]

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
                f"list {args.list_limit} call logs, raw httpx.Client + CallLogList.from_dict",
                micros("list_raw"),
                "1.00×",
            ),
            (
                f"list {args.list_limit} call logs, VoiceClient.call_logs.list_page",
                micros("list_page"),
                spread(ratios("list_page", "list_raw")) + " of raw + from_dict",
            ),
            (
                "GET median latency, seed requests wrapper",
                micros("seed"),
                spread(ratios("seed")),
            ),
        ]

        memory = in_memory_overhead(max(2000, args.requests * 5))
        rows.append(
            (
                "ReliableTransport's own cost per GET (in-memory transport, no network)",
                f"{memory['layered'] - memory['plain']:.0f} µs",
                f"{memory['plain']:.0f} µs → {memory['layered']:.0f} µs",
            )
        )
        if "telemetry" in memory:
            rows.append(
                (
                    "… with telemetry on, no-op tracer and meter (added to the line above)",
                    f"{memory['telemetry'] - memory['layered']:.0f} µs",
                    f"{memory['layered']:.0f} µs → {memory['telemetry']:.0f} µs",
                )
            )

        # The same in bytecodes, which do not move with the machine (benchmarks/opcodes.py).
        opcodes: Callable[[str, int], dict[str, float]] = importlib.import_module("opcodes").count
        bytecodes = {
            variant: sum(opcodes(variant, 200).values()) for variant in ("plain", "layered")
        }
        rows.append(
            (
                "… the same in bytecodes executed per GET (benchmarks/opcodes.py)",
                f"+{bytecodes['layered'] - bytecodes['plain']:.0f}",
                f"{bytecodes['plain']:.0f} → {bytecodes['layered']:.0f}",
            )
        )
        if "telemetry" in memory:
            with_telemetry = sum(opcodes("telemetry", 200).values())
            rows.append(
                (
                    "… telemetry on, in bytecodes (added to the line above)",
                    f"+{with_telemetry - bytecodes['layered']:.0f}",
                    f"{bytecodes['layered']:.0f} → {with_telemetry:.0f}",
                )
            )

        # -- async throughput at concurrency 64 --------------------------------------------
        raw_rps: list[float] = []
        wrapped_rps: list[float] = []
        for repeat in range(args.repeat):
            first = "raw" if repeat % 2 == 0 else "wrapped"
            rps = asyncio.run(throughput(base, path, args.requests * 2, first))
            raw_rps.append(rps["raw"])
            wrapped_rps.append(rps["wrapped"])
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
        if args.http == "httpx2":
            rows += stack_comparison(args, base)
    finally:
        server.close()

    # -- import time ---------------------------------------------------------------------------
    import_python = args.import_python if os.path.exists(args.import_python) else sys.executable
    times = import_times(import_python)
    httpx_ms = times["import httpx"]
    for statement, target in (
        ("import httpx", None),
        ("import stateset_voice_wrapper", 100),
        ("from stateset_voice_wrapper import VoiceClient", 120),
    ):
        ms = times[statement]
        note = "the reference, same runs" if target is None else f"target < {target} ms"
        if target is not None:
            note += f"; httpx + {ms - httpx_ms:.0f} ms"
        rows.append((f"`{statement}` (-X importtime, median of 7)", f"{ms:.0f} ms", note))
    rows.append(
        ("… the interpreter the import rows ran in", import_python, _venv_note(import_python))
    )

    print("| measurement | value | ratio / note |")
    print("| --- | --- | --- |")
    for name, value, ratio in rows:
        print(f"| {name} | {value} | {ratio} |")


if __name__ == "__main__":
    main()
