"""What a call limiter adds to each call: taking, attaching and releasing a permit.

    .venv/bin/python benchmarks/limits.py [--calls 2000] [--repeat 3] [--redis-url URL]

Without ``--redis-url`` a private redis-server is started on loopback (``make bench-limits``).
Each operation is timed per call, in process and against Redis, in alternating rounds (every
variant runs a tenth of its calls per round, in a rotated order) so that noise on a shared
machine hits all of them alike; the table shows the median over ``--repeat`` repeats of each
percentile, and the round trips each operation made (counted on the client). The end-to-end
rows time ``VoiceClient.calls.create`` over an in-memory transport, without and with a limiter.
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from benchmarks.redis_server import CountingRedis, redis_server
else:  # the sibling module: this script's directory is sys.path[0]
    from redis_server import CountingRedis, redis_server

from stateset_voice_wrapper import (
    CallLimiter,
    InProcessCallLimiter,
    RedisCallLimiter,
    ReliabilityConfig,
    RetryBudget,
    VoiceClient,
)

CALL = {
    "call_id": "call_01JD4Z9K2P7W3X8Y5V6T4R2Q1M",
    "status": "queued",
    "to": "+15555555678",
    "from": "+15555551234",
    "agent_key": "front_desk",
    "session_id": None,
    "created_at": "2026-11-20T15:04:05Z",
    "metadata": {"appointment_id": "A-123"},
}


class Variant:
    """One timed operation: ``step(timed)`` runs one call's worth, timing what it passes to
    ``timed`` (set-up and clean-up around it are neither timed nor counted)."""

    def __init__(
        self,
        name: str,
        step: Callable[[Callable[[Callable[[], object]], None]], None],
        counter: CountingRedis | None,
    ) -> None:
        self.name = name
        self.step = step
        self.counter = counter
        self.samples: list[float] = []
        self.round_trips: list[int] = []

    def timed(self, fn: Callable[[], object]) -> None:
        before = self.counter.round_trips if self.counter else 0
        start = time.perf_counter()
        fn()
        self.samples.append(time.perf_counter() - start)
        if self.counter:
            self.round_trips.append(self.counter.round_trips - before)

    def run(self, n: int) -> None:
        for _ in range(n):
            self.step(self.timed)


Timed = Callable[[Callable[[], object]], None]


def _variants(limiter: CallLimiter, kind: str, counter: CountingRedis | None) -> list[Variant]:
    ids = (f"call_{uuid.uuid4().hex}" for _ in itertools.count())

    def take_and_attach(timed: Timed) -> None:
        call_id = next(ids)
        timed(lambda: limiter.acquire().attach(call_id))
        limiter.release_for_call(call_id)

    def release_for_call(timed: Timed) -> None:
        call_id = next(ids)
        limiter.acquire().attach(call_id)
        timed(lambda: limiter.release_for_call(call_id))

    def take_and_release(timed: Timed) -> None:
        timed(lambda: limiter.acquire().release())

    return [
        Variant(f"{kind}: acquire + attach (the create's path)", take_and_attach, counter),
        Variant(f"{kind}: release_for_call (the consumer's)", release_for_call, counter),
        Variant(f"{kind}: acquire + release (a failed send)", take_and_release, counter),
    ]


def _rate_variant(limiter: CallLimiter, kind: str, counter: CountingRedis | None) -> Variant:
    return Variant(f"{kind}: a rate token alone", lambda timed: timed(limiter.acquire), counter)


def _create_variant(name: str, limiter: CallLimiter | None) -> Variant:
    transport = httpx.MockTransport(lambda request: httpx.Response(201, json=CALL))
    voice = VoiceClient(
        "sk_bench",
        base_url="https://voice.example.com",
        transport=transport,
        call_limiter=limiter,
        reliability=ReliabilityConfig(budget=RetryBudget()),
    )

    def create(timed: Timed) -> None:
        timed(
            lambda: voice.calls.create(
                to="+15555555678", from_="+15555551234", agent_key="front_desk"
            )
        )
        if limiter is not None:
            limiter.release_for_call(str(CALL["call_id"]))  # the webhook consumer's, untimed

    return Variant(f"calls.create, {name}", create, None)


def _ping(client: CountingRedis) -> Callable[[Timed], None]:
    return lambda timed: timed(client.ping)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def measure(url: str, calls: int, repeat: int) -> list[dict[str, Any]]:
    rows: dict[str, list[dict[str, float]]] = {}
    for _ in range(repeat):
        client = CountingRedis.connect(url)
        name = f"bench-{uuid.uuid4().hex[:8]}"
        in_process = InProcessCallLimiter(concurrency=100)
        in_redis = RedisCallLimiter(client, name=name, concurrency=100)
        rate_memory = InProcessCallLimiter(rate=10**9)
        rate_redis = RedisCallLimiter(client, name=name + "-rate", rate=10**9)
        create_memory = InProcessCallLimiter(concurrency=100)
        create_redis = RedisCallLimiter(client, name=name + "-create", concurrency=100)
        variants = [
            *_variants(in_process, "in process", None),
            *_variants(in_redis, "Redis", client),
            _rate_variant(rate_memory, "in process", None),
            _rate_variant(rate_redis, "Redis", client),
            _create_variant("no limiter", None),
            _create_variant("InProcessCallLimiter", create_memory),
            _create_variant("RedisCallLimiter", create_redis),
            Variant("Redis PING (one round trip, for scale)", _ping(client), client),
        ]
        for variant in variants:
            variant.run(20)  # warm-up: scripts loaded, pools filled
            variant.samples.clear()
            variant.round_trips.clear()
        per_round = max(1, calls // 10)
        for round_index in range(10):
            shift = round_index % len(variants)
            for variant in variants[shift:] + variants[:shift]:
                variant.run(per_round)
        for variant in variants:
            rows.setdefault(variant.name, []).append(
                {
                    "p50": _percentile(variant.samples, 0.50),
                    "p99": _percentile(variant.samples, 0.99),
                    "round_trips": statistics.mean(variant.round_trips)
                    if variant.round_trips
                    else float("nan"),
                }
            )
        client.close()
    return [
        {
            "measurement": name,
            "p50_us": statistics.median(r["p50"] for r in runs) * 1e6,
            "p99_us": statistics.median(r["p99"] for r in runs) * 1e6,
            "round_trips": statistics.median(r["round_trips"] for r in runs),
        }
        for name, runs in rows.items()
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--redis-url", help="an existing redis-server (default: start one)")
    parser.add_argument("--json", type=Path, help="also write the rows as JSON")
    args = parser.parse_args(argv)
    if args.redis_url:
        rows = measure(args.redis_url, args.calls, args.repeat)
    else:
        with redis_server() as url:
            rows = measure(url, args.calls, args.repeat)
    print("| measurement | p50 | p99 | Redis round trips |")
    print("| --- | --- | --- | --- |")
    for row in rows:
        trips = "" if row["round_trips"] != row["round_trips"] else f"{row['round_trips']:g}"
        print(
            f"| {row['measurement']} | {row['p50_us']:.0f} µs | {row['p99_us']:.0f} µs | {trips} |"
        )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
