"""Bytecodes per request, by function: the reliability layer's cost, counted instead of timed.

Timings on a shared 2-core machine move by a few microseconds between runs; the number of
bytecodes a request executes does not. This counts them (``sys.settrace`` with opcode events)
for a GET over an in-memory transport, through a plain ``httpx.Client`` and through
``ReliableTransport`` (telemetry off, and on with OpenTelemetry's no-op tracer), and prints
what the layer adds, function by function: where to look before changing the hot path, and
how to tell whether a change removed work. ``benchmarks/run.py`` stays the measure of time.

    .venv/bin/python benchmarks/opcodes.py            # layered against plain
    .venv/bin/python benchmarks/opcodes.py --telemetry --top 30
"""

from __future__ import annotations

import argparse
import collections
import sys
from collections.abc import Callable
from types import FrameType
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from benchmarks.floor import FloorTransport
    from benchmarks.run import ONE, quiet_config
else:  # the sibling modules: this script's directory is sys.path[0]
    from floor import FloorTransport
    from run import ONE, quiet_config

from stateset_voice_wrapper import ReliableTransport

Tracer = Callable[[FrameType, str, Any], Any]


def _handler(_: httpx.Request) -> httpx.Response:
    return httpx.Response(200, content=ONE, headers={"x-request-id": "req_bench"})


def client_for(variant: str) -> httpx.Client:
    """A client for the GETs of ``variant``: ``plain`` (the in-memory transport alone),
    ``layered`` (ReliableTransport over it, telemetry off), ``telemetry`` (on, with whatever
    tracer is configured: none here) or ``floor`` (the yardstick of ``floor.py``)."""
    if variant == "plain":
        transport: httpx.BaseTransport = httpx.MockTransport(_handler)
    elif variant == "floor":
        transport = FloorTransport(httpx.MockTransport(_handler), quiet_config(telemetry=False))
    else:
        config = quiet_config(telemetry=variant == "telemetry")
        transport = ReliableTransport(config=config, transport=httpx.MockTransport(_handler))
    return httpx.Client(base_url="http://bench.local", transport=transport)


def _where(frame: FrameType) -> str:
    code = frame.f_code
    name = code.co_filename
    for marker in ("site-packages/", "/src/"):
        if marker in name:
            name = name.split(marker, 1)[1]
    return f"{name}:{code.co_name}"


def count(variant: str, requests: int) -> dict[str, float]:
    """Bytecodes per request of ``variant``, by function (after a warm-up)."""
    client = client_for(variant)
    for _ in range(50):  # warm the caches: the route patterns, the facts, the shapes
        client.get("/api/v1/call-logs/call_1").read()
    counts: collections.Counter[str] = collections.Counter()

    def tracer(frame: FrameType, event: str, arg: Any) -> Tracer:
        frame.f_trace_opcodes = True
        where = _where(frame)

        def local(frame: FrameType, event: str, arg: Any) -> Tracer:
            if event == "opcode":
                counts[where] += 1
            return local

        return local

    sys.settrace(tracer)
    try:
        for _ in range(requests):
            client.get("/api/v1/call-logs/call_1").read()
    finally:
        sys.settrace(None)
        client.close()
    return {where: number / requests for where, number in counts.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--top", type=int, default=25, help="functions to list")
    parser.add_argument(
        "--telemetry", action="store_true", help="telemetry on against telemetry off"
    )
    args = parser.parse_args()
    base, variant = ("layered", "telemetry") if args.telemetry else ("plain", "layered")
    before, after = count(base, args.requests), count(variant, args.requests)
    added = {k: after.get(k, 0.0) - before.get(k, 0.0) for k in before.keys() | after.keys()}
    print(
        f"bytecodes per GET: {base} {sum(before.values()):.0f}, {variant}"
        f" {sum(after.values()):.0f}, added {sum(added.values()):.0f}"
    )
    for where, number in sorted(added.items(), key=lambda item: -abs(item[1]))[: args.top]:
        print(f"{number:8.0f}  {where}")


if __name__ == "__main__":
    main()
