"""A yardstick: the least a transport keeping the layer's promises does for a request that
succeeds at its first attempt.

:class:`FloorTransport` does, inline and with no bookkeeping, only the steps that
``ReliableTransport``'s promises require of such a request, using the layer's own pieces:

- a new client request ID and the attempt number in the headers (one identity per request);
- every header value checked before anything is sent (h11 would quote a bad one, secret and
  all, in its error and its DEBUG log);
- the attempt's timeouts capped at the time left, and the deadline guard in place for the
  guarded httpcore streams;
- the body read inside the transport, with the size cap and the deadline checked at each
  chunk (a truncated body is a typed, retryable failure, not an error in the caller's
  ``.json()``);
- the answer's headers read once (the server's request ID, an HTML page, a Content-Encoding);
- the retry budget refunded, the request's header encoding settled, and the response handed on
  with its body.

It retries nothing, records nothing, and answers anything but a plain 2xx with a
``RuntimeError``: it is not a transport to use. It measures how far below ``ReliableTransport``'s
cost any implementation of the same promises could go (``benchmarks/instructions.py`` counts
it). Run as a script, it times it beside the layer, in interleaved runs over the in-memory
transport, and prints each run and the medians:

    .venv/bin/python benchmarks/floor.py --runs 20
"""

from __future__ import annotations

import argparse
import importlib
import statistics
import time

import httpx

from stateset_voice_wrapper._reliability import guard
from stateset_voice_wrapper._reliability.bodies import close_inner, raw_chunks, rebuild
from stateset_voice_wrapper._reliability.identity import AnswerHead, settle_encoding, stamp_identity
from stateset_voice_wrapper._reliability.options import ReliabilityConfig, current_overrides
from stateset_voice_wrapper._reliability.policy import capped_timeouts, phase_timeouts
from stateset_voice_wrapper._shared.defaults import MAX_RESPONSE_BODY
from stateset_voice_wrapper._shared.telemetry import instruments

__all__ = ["FloorTransport"]


class FloorTransport(httpx.BaseTransport):
    """The promised steps of a first-attempt success, and nothing else (see the module)."""

    def __init__(self, inner: httpx.BaseTransport, config: ReliabilityConfig) -> None:
        if config.deadline is None:
            raise ValueError("the yardstick measures a request with a deadline")
        self.inner = inner
        self.config = config

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        config = self.config
        clock = config.clock
        options = current_overrides()
        expires = clock() + config.deadline  # type: ignore[operator]  # checked in __init__
        stamp_identity(config, request, options)
        if instruments(config.telemetry) is not None:
            raise RuntimeError("the yardstick measures a request with telemetry off")
        phases = phase_timeouts(config.timeout, request.extensions.get("timeout"))
        remaining = expires - clock()
        request.extensions["timeout"] = capped_timeouts(phases, remaining)
        token = guard.enter(guard.AttemptGuard(time.monotonic() + remaining))
        try:
            response = self.inner.handle_request(request)
            chunks = []
            size = 0
            for chunk in raw_chunks(response):
                chunks.append(chunk)
                size += len(chunk)
                if size > MAX_RESPONSE_BODY or clock() >= expires:
                    raise RuntimeError("the yardstick reads small bodies in time only")
            body = b"".join(chunks)
            close_inner(response)
        finally:
            guard.leave(token)
        head = AnswerHead(response.headers)
        if not 200 <= response.status_code < 300 or head.html or head.content_encoding:
            raise RuntimeError("the yardstick measures a plain 2xx only")
        config.budget.record_success()
        settle_encoding(request.headers)
        return rebuild(response, body, request, body)


def main() -> None:
    parser = argparse.ArgumentParser(description="the yardstick timed beside the layer")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--requests", type=int, default=3000, help="GETs per variant per run")
    args = parser.parse_args()
    # The sibling scripts (this script's directory is sys.path[0]), loaded here: opcodes
    # imports this module.
    client_for = importlib.import_module("opcodes").client_for
    interleaved_latency = importlib.import_module("run").interleaved_latency
    variants = ("plain", "floor", "layered", "telemetry")
    clients = {variant: client_for(variant) for variant in variants}
    added: dict[str, list[float]] = {name: [] for name in (*variants[1:], "telemetry over layered")}
    print(
        "µs per GET: plain, then floor, layered and telemetry over plain, and telemetry over layered"
    )
    for _ in range(args.runs):
        medians = interleaved_latency(
            {
                variant: (
                    (lambda c=client: c.get("/api/v1/call-logs/call_1").read()),
                    args.requests,
                )
                for variant, client in clients.items()
            }
        )
        plain = medians["plain"] * 1e6
        row = {variant: medians[variant] * 1e6 - plain for variant in variants[1:]}
        for variant, value in row.items():
            added[variant].append(value)
        added["telemetry over layered"].append(row["telemetry"] - row["layered"])
        print(
            f"{plain:7.1f}  floor {row['floor']:+6.1f}  layered {row['layered']:+6.1f}"
            f"  telemetry {row['telemetry']:+6.1f} ({row['telemetry'] - row['layered']:+.1f})"
        )
    for client in clients.values():
        client.close()
    print("medians: " + ", ".join(f"{k} {statistics.median(v):+.1f}" for k, v in added.items()))


if __name__ == "__main__":
    main()
