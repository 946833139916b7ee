"""Chaos run: outbound calls through the client against a failing sandbox, and no call made twice.

    .venv/bin/python benchmarks/chaos.py --calls 2000 --fault-rate 0.2 --concurrency 32 --seed 7
    .venv/bin/python benchmarks/chaos.py ... --json chaos.json   # also write the report as JSON

**Pass 1** sends ``calls`` ``calls.create`` requests through :class:`AsyncVoiceClient`, each with
its own business idempotency key (``chaos-<seed>-<i>``), while the sandbox injects faults into
make-call: every error class (``429 500 502 503 504 drop reset html``) in every phase
(``before`` the call is created, ``during`` its processing, ``after`` it was created and the
answer is lost), plus added latency. **Pass 2** is the end of the outage: the faults are cleared
and every key is sent again, with the same request.

The invariants, checked at the end of the run (a breach is listed in
``ChaosReport.violations`` and makes the script exit with status 1):

- no idempotency key ever created more than one call (``Sandbox.creations_per_key()``);
- every pass-1 call either returned a call, or raised a ``StateSetVoiceError`` subclass whose
  ``idempotency_key`` is the key that was sent; any other exception is a breach;
- pass 2 returns a call for every key; a key that succeeded in pass 1 gets the same call id
  back, and a key whose call already existed is answered by a replay;
- after pass 2 there is exactly one call per key.

Retries are counted twice: by the client (``ReliabilityConfig(on_retry=...)`` and the attempts
``response_info()`` reports) and by the server (its request log). Fault counts per class and
phase come from the request log (``fault`` is ``"<kind>@<phase>"``); the latency count comes from
the sandbox's fault counters (``GET /_sandbox/faults``), which also count a latency draw on a
request that an error then ended.

``run_chaos(sandbox, calls=..., fault_rate=..., concurrency=..., seed=..., sleep=...)`` is the
same run as a function; ``tests/test_chaos.py`` runs a short form of it with a no-op sleep.

**Wire faults** the sandbox cannot inject come from the raw-socket server of
``tests/faultserver.py`` (``run_wire_chaos``), one class at a time, each on the first attempt
of a share of the calls, every later attempt answered well, then every key sent again:

- ``interim-trickle``: ``100 Continue`` every 50 ms, forever; ``header-trickle``: the status
  line, then one header line every 50 ms; ``late-stall``: the call is created and the whole
  head sent, then the body stops three bytes short. Each must end in ``APITimeoutError``
  within the deadline plus its margin, keep the key, and be recovered by the second send.
- ``new-enum-value``: a 201 whose ``status`` is a value the contract does not list; expected:
  success keeping the raw value (forward compatible). ``wrong-types``: a 201 whose
  ``call_id`` is a number; expected: ``APIResponseValidationError``.

The report gives, per class, what the client did (outcomes by type, the longest call against
the deadline) and whether the class's expectation held.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import math
import random
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from stateset_voice_wrapper import (
    AsyncVoiceClient,
    ReliabilityConfig,
    RetryBudget,
    RetryEvent,
    StateSetVoiceError,
    response_info,
)
from stateset_voice_wrapper.sandbox import ERROR_KINDS, FaultRule, Sandbox

# How many requests the sandbox's log keeps: a longer pass is not cross-checked request by request.
from stateset_voice_wrapper.sandbox._constants import REQUEST_LOG_SIZE

__all__ = [
    "FAULT_CLASSES",
    "PHASES",
    "WIRE_CLASSES",
    "ChaosReport",
    "Outcome",
    "PassReport",
    "WireClassReport",
    "call_key",
    "fault_rules",
    "run_chaos",
    "run_wire_chaos",
    "to_number",
    "wire_markdown",
]

MAKE_CALL_PATH = "/api/v1/make-call"
FROM_NUMBER = "+15555551234"
AGENT_KEY = "front_desk"
PHASES = ("before", "during", "after")
FAULT_CLASSES = (*ERROR_KINDS, "latency")
"""The nine fault classes: every error kind of the sandbox, and added latency."""
RATE_LIMIT = 1_000_000
"""Sandbox token bucket during the run: high enough that no 429 comes from the rate limiter, so
every 429 the client sees is an injected one."""

AsyncSleep = Callable[[float], Awaitable[None]]


def call_key(seed: int, index: int) -> str:
    """The business idempotency key of call ``index``."""
    return f"chaos-{seed}-{index:05d}"


def to_number(index: int) -> str:
    """A valid E.164 destination for call ``index`` (the outcome digit does not matter here)."""
    return f"+1555555{index:04d}"


def fault_rules(fault_rate: float, *, latency_ms: int, retry_after: int) -> list[FaultRule]:
    """Fault rules that inject, on average, ``fault_rate`` faults per make-call request.

    The nine fault classes get equal shares: 8/9 of ``fault_rate`` is an error (``mixed`` draws
    the kind uniformly), 1/9 is latency. Errors are split evenly over the three phases. The
    sandbox stops at the first error rule that fires, so a later phase's rate is conditioned on
    the earlier ones not firing; latency rules always draw and add up.
    """
    if not 0.0 <= fault_rate <= 1.0:
        raise ValueError("fault_rate must be between 0 and 1")
    error_share = fault_rate * len(ERROR_KINDS) / len(FAULT_CLASSES)
    per_phase = error_share / len(PHASES)
    latency_per_phase = fault_rate / len(FAULT_CLASSES) / len(PHASES)
    rules = [
        FaultRule(
            kind="mixed",
            rate=min(1.0, per_phase / (1.0 - n * per_phase)),
            path=MAKE_CALL_PATH,
            method="POST",
            when=phase,
            retry_after=retry_after,
        )
        for n, phase in enumerate(PHASES)
    ]
    rules += [
        FaultRule(
            kind="latency",
            rate=latency_per_phase,
            path=MAKE_CALL_PATH,
            method="POST",
            when=phase,
            latency_ms=latency_ms,
        )
        for phase in PHASES
    ]
    return rules


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one ``calls.create`` returned or raised."""

    index: int
    key: str
    call_id: str | None
    """The call returned, or None when the call raised."""
    error: Exception | None
    """The exception raised, if any."""
    replayed: bool
    """The last answer was a replay (``Idempotent-Replayed: true``)."""
    attempts: int
    seconds: float

    @property
    def ok(self) -> bool:
        return self.call_id is not None

    @property
    def error_type(self) -> str | None:
        return None if self.error is None else type(self.error).__name__

    @property
    def typed(self) -> bool:
        """False when an exception outside the ``StateSetVoiceError`` hierarchy was raised."""
        return self.error is None or isinstance(self.error, StateSetVoiceError)

    @property
    def error_key(self) -> str | None:
        """``idempotency_key`` carried by a typed error."""
        return self.error.idempotency_key if isinstance(self.error, StateSetVoiceError) else None


@dataclass(slots=True)
class PassReport:
    """Figures of one pass."""

    calls: int
    succeeded: int
    failed: int
    success_rate: float
    retries: int
    """Retries the client made (``on_retry`` events)."""
    retries_per_call: float
    attempts: int
    """Attempts the client reports (sum of ``response_info().attempts``)."""
    server_requests: int | None
    """make-call requests with this run's keys in the sandbox's request log (None if it
    overflowed)."""
    replayed: int
    """Calls whose answer was a replay of an earlier attempt's result."""
    latency_p50_ms: float
    latency_p99_ms: float
    latency_max_ms: float
    seconds: float
    failures_by_type: dict[str, int]
    retries_by_outcome: dict[str, int]
    outcomes: list[Outcome] = field(repr=False)
    retry_events: list[RetryEvent] = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            name: getattr(self, name)
            for name in self.__dataclass_fields__
            if name not in ("outcomes", "retry_events")
        }


@dataclass(slots=True)
class ChaosReport:
    """Everything a chaos run measured, and every invariant it saw broken."""

    calls: int
    fault_rate: float
    concurrency: int
    seed: int
    sandbox_seed: int
    max_retries: int
    latency_ms: int
    retry_after: int
    budget_capacity: float
    budget_left: float
    pass1: PassReport
    pass2: PassReport
    faults_by_class: dict[str, int]
    """Pass-1 faults per class: error kinds from the request log, latency from the sandbox's
    counters."""
    faults_by_phase: dict[str, int]
    """Pass-1 error faults per phase, from the request log."""
    faults_fired: dict[str, int]
    """The sandbox's own counters for pass 1 (``GET /_sandbox/faults`` ``fired``)."""
    faulted_requests: int
    """Pass-1 requests that got an error fault."""
    answers_lost: int
    """Pass-1 failures whose call had been created: the answer was lost, the key recovers it."""
    creations_after_pass1: dict[str, int] = field(repr=False)
    creations: dict[str, int] = field(repr=False)
    foreign_creations: int = 0
    """Calls created during the run under keys the run never used (a client that lost its
    key on a retry would create these)."""
    violations: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.violations

    @property
    def max_creations_per_key(self) -> int:
        counts = [*self.creations_after_pass1.values(), *self.creations.values()]
        return max(counts, default=0)

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data (per-call outcomes left out)."""
        return {
            "calls": self.calls,
            "fault_rate": self.fault_rate,
            "concurrency": self.concurrency,
            "seed": self.seed,
            "sandbox_seed": self.sandbox_seed,
            "max_retries": self.max_retries,
            "latency_ms": self.latency_ms,
            "retry_after": self.retry_after,
            "budget_capacity": self.budget_capacity,
            "budget_left": self.budget_left,
            "pass1": self.pass1.to_dict(),
            "pass2": self.pass2.to_dict(),
            "faults_by_class": self.faults_by_class,
            "faults_by_phase": self.faults_by_phase,
            "faults_fired": self.faults_fired,
            "faulted_requests": self.faulted_requests,
            "answers_lost": self.answers_lost,
            "keys_created_after_pass1": len(self.creations_after_pass1),
            "keys_created": len(self.creations),
            "total_creations": sum(self.creations.values()),
            "max_creations_per_key": self.max_creations_per_key,
            "foreign_creations": self.foreign_creations,
            "violations": self.violations,
            "ok": self.ok,
        }

    def to_markdown(self) -> str:
        p1, p2 = self.pass1, self.pass2
        classes = ", ".join(f"{k} {v}" for k, v in self.faults_by_class.items())
        phases = ", ".join(f"{k} {v}" for k, v in self.faults_by_phase.items())
        failures = ", ".join(f"{k} {v}" for k, v in sorted(p1.failures_by_type.items())) or "none"
        rows = [
            ("calls, concurrency, seed", f"{self.calls}, {self.concurrency}, {self.seed}"),
            (
                "faults injected (pass 1)",
                f"{sum(self.faults_by_class.values())} on {p1.attempts} attempts "
                f"(fault rate {self.fault_rate:g})",
            ),
            ("faults per class", classes),
            ("error faults per phase", phases),
            ("pass 1 success rate", f"{p1.success_rate:.2%} ({p1.succeeded}/{p1.calls})"),
            ("pass 1 failures (typed, key attached)", failures),
            ("pass 1 answers lost after creation", str(self.answers_lost)),
            ("pass 1 successes answered by a replay", str(p1.replayed)),
            (
                "pass 1 retries per call",
                f"{p1.retries_per_call:.3f} ({p1.retries} retries)",
            ),
            (
                "pass 1 attempts: client / server",
                f"{p1.attempts} / {_or_na(p1.server_requests)}",
            ),
            (
                "pass 1 latency per call p50 / p99 / max",
                f"{p1.latency_p50_ms:.1f} / {p1.latency_p99_ms:.1f} / {p1.latency_max_ms:.1f} ms",
            ),
            ("pass 1 wall time", f"{p1.seconds:.2f} s"),
            ("pass 2 success rate", f"{p2.success_rate:.2%} ({p2.succeeded}/{p2.calls})"),
            ("pass 2 answered by a replay", str(p2.replayed)),
            ("pass 2 retries", str(p2.retries)),
            (
                "pass 2 attempts: client / server",
                f"{p2.attempts} / {_or_na(p2.server_requests)}",
            ),
            (
                "pass 2 latency per call p50 / p99",
                f"{p2.latency_p50_ms:.1f} / {p2.latency_p99_ms:.1f} ms",
            ),
            (
                "calls created / keys / max per key / under other keys",
                f"{sum(self.creations.values())} / {len(self.creations)} / "
                f"{self.max_creations_per_key} / {self.foreign_creations}",
            ),
            (
                "retry budget (private)",
                f"{self.budget_left:g} of {self.budget_capacity:g} tokens left after pass 1",
            ),
            ("invariants", "all hold" if self.ok else f"{len(self.violations)} broken"),
        ]
        lines = ["| measurement | value |", "| --- | --- |"]
        lines += [f"| {name} | {value} |" for name, value in rows]
        lines += [f"- VIOLATION: {v}" for v in self.violations]
        return "\n".join(lines)


def _or_na(value: int | None) -> str:
    return "n/a" if value is None else str(value)


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (``p`` in 0..100); 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100.0 * len(ordered)))
    return ordered[rank - 1]


# -- one pass ---------------------------------------------------------------------------------


async def _create_one(voice: AsyncVoiceClient, index: int, key: str) -> Outcome:
    started = time.perf_counter()
    call_id: str | None = None
    error: Exception | None = None
    with response_info() as info:
        try:
            call = await voice.calls.create(
                to=to_number(index), from_=FROM_NUMBER, agent_key=AGENT_KEY, idempotency_key=key
            )
            call_id = call.call_id
        except Exception as exc:  # an untyped one is a finding of the run, not a crash of it
            error = exc
    attempts = info.attempts
    if isinstance(error, StateSetVoiceError):
        attempts = max(attempts, len(error.attempts))
    return Outcome(
        index=index,
        key=key,
        call_id=call_id,
        error=error,
        replayed=info.replayed,
        attempts=attempts,
        seconds=time.perf_counter() - started,
    )


async def _run_pass(
    sandbox: Sandbox, keys: Sequence[str], *, concurrency: int, config: ReliabilityConfig
) -> tuple[list[Outcome], float]:
    outcomes: list[Outcome | None] = [None] * len(keys)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with AsyncVoiceClient(
        sandbox.runtime_key,
        base_url=sandbox.base_url,
        reliability=config,
        transport=httpx.AsyncHTTPTransport(limits=limits),
    ) as voice:
        indices = iter(range(len(keys)))

        async def worker() -> None:
            for index in indices:
                outcomes[index] = await _create_one(voice, index, keys[index])

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    done = [o for o in outcomes if o is not None]
    if len(done) != len(keys):
        raise RuntimeError(f"only {len(done)} of {len(keys)} calls were made")
    return done, elapsed


def _pass_report(
    outcomes: list[Outcome],
    events: list[RetryEvent],
    seconds: float,
    server_requests: int | None,
) -> PassReport:
    calls = len(outcomes)
    succeeded = sum(1 for o in outcomes if o.ok)
    latencies = [o.seconds * 1000.0 for o in outcomes]
    return PassReport(
        calls=calls,
        succeeded=succeeded,
        failed=calls - succeeded,
        success_rate=succeeded / calls if calls else 0.0,
        retries=len(events),
        retries_per_call=len(events) / calls if calls else 0.0,
        attempts=sum(o.attempts for o in outcomes),
        server_requests=server_requests,
        replayed=sum(1 for o in outcomes if o.ok and o.replayed),
        latency_p50_ms=round(percentile(latencies, 50), 2),
        latency_p99_ms=round(percentile(latencies, 99), 2),
        latency_max_ms=round(max(latencies, default=0.0), 2),
        seconds=round(seconds, 3),
        failures_by_type=dict(Counter(o.error_type for o in outcomes if o.error_type)),
        retries_by_outcome=dict(Counter(e.outcome for e in events)),
        outcomes=outcomes,
        retry_events=events,
    )


# -- sandbox observations ---------------------------------------------------------------------


def _fired(sandbox: Sandbox) -> dict[str, int]:
    """The sandbox's per-kind fault counters (they survive ``set_faults``)."""
    response = httpx.get(
        sandbox.base_url + "/_sandbox/faults", headers={"x-admin-key": sandbox.admin_key}
    )
    response.raise_for_status()
    fired: dict[str, int] = response.json()["fired"]
    return fired


def _our_requests(
    log: Iterable[Mapping[str, Any]], keys: set[str], seen: set[str]
) -> list[Mapping[str, Any]]:
    """make-call requests carrying one of ``keys`` whose request id is not in ``seen``."""
    return [
        r
        for r in log
        if r["path"] == MAKE_CALL_PATH
        and r["idempotency_key"] in keys
        and r["request_id"] not in seen
    ]


def _creations(sandbox: Sandbox, keys: set[str]) -> dict[str, int]:
    return {k: n for k, n in sandbox.creations_per_key().items() if k in keys}


# -- the run ----------------------------------------------------------------------------------


def run_chaos(
    sandbox: Sandbox,
    *,
    calls: int,
    fault_rate: float,
    concurrency: int,
    seed: int,
    sleep: AsyncSleep | None = None,
    latency_ms: int = 50,
    retry_after: int = 1,
    max_retries: int = 2,
    budget_capacity: float | None = None,
    timeout: float | None = None,
) -> ChaosReport:
    """Run both passes against a running ``sandbox`` and return what was measured.

    ``sleep`` replaces the client's backoff sleep (``ReliabilityConfig.async_sleep``); tests pass
    a no-op. ``budget_capacity`` sizes the run's private retry budget; the default,
    ``calls * max_retries * 10`` (10 being the cost of a retry after a timeout, the dearest),
    pays for every retry the run could make, so the budget never decides an outcome. Pass ``RetryBudget().capacity`` (500) to run with the
    default-size budget, where a drained budget ends calls early with their error (still typed,
    still carrying the key). ``timeout`` (seconds, every phase) replaces the client's default
    timeouts; below ``latency_ms`` it turns latency faults into client timeouts.

    The sandbox's rate limit is raised for the run and its fault rules are replaced (and
    cleared for pass 2). The run checks its invariants itself; see ``ChaosReport.violations``.
    """
    if calls < 1 or concurrency < 1:
        raise ValueError("calls and concurrency must be at least 1")
    keys = [call_key(seed, i) for i in range(calls)]
    key_set = set(keys)
    if len(key_set) != calls:
        raise ValueError("idempotency keys must be unique")
    rules = fault_rules(fault_rate, latency_ms=latency_ms, retry_after=retry_after)
    jitter = random.Random(seed)
    costs = RetryBudget()
    most_per_retry = max(costs.retry_cost, costs.timeout_cost)
    capacity = (
        float(budget_capacity)
        if budget_capacity is not None
        else float(calls * max_retries * most_per_retry)
    )
    budget = RetryBudget(capacity=capacity)
    client_timeout = ReliabilityConfig().timeout if timeout is None else httpx.Timeout(timeout)

    def config(events: list[RetryEvent], pass_budget: RetryBudget) -> ReliabilityConfig:
        return ReliabilityConfig(
            timeout=client_timeout,
            max_retries=max_retries,
            budget=pass_budget,
            on_retry=events.append,
            async_sleep=sleep if sleep is not None else asyncio.sleep,
            random=jitter.random,
        )

    sandbox.set_rate_limit(limit=RATE_LIMIT, refill_per_second=float(RATE_LIMIT))
    seen = {r["request_id"] for r in sandbox.requests()}
    creations_before = sandbox.creations_per_key()
    fired_before = _fired(sandbox)
    sandbox.set_faults(*rules)

    # -- pass 1: the outage ----------------------------------------------------------------
    events1: list[RetryEvent] = []
    try:
        outcomes1, seconds1 = asyncio.run(
            _run_pass(sandbox, keys, concurrency=concurrency, config=config(events1, budget))
        )
        fired_after = _fired(sandbox)
    finally:
        sandbox.clear_faults()
    log1 = sandbox.requests()
    creations1 = _creations(sandbox, key_set)
    requests1 = _our_requests(log1, key_set, seen)
    log1_complete = len(log1) < REQUEST_LOG_SIZE
    seen |= {r["request_id"] for r in log1}

    # -- pass 2: the outage is over, every key again -----------------------------------------
    events2: list[RetryEvent] = []
    outcomes2, seconds2 = asyncio.run(
        _run_pass(
            sandbox,
            keys,
            concurrency=concurrency,
            config=config(events2, RetryBudget(capacity=capacity)),
        )
    )
    log2 = sandbox.requests()
    everything = sandbox.creations_per_key()
    creations2 = {k: n for k, n in everything.items() if k in key_set}
    foreign = sum(n - creations_before.get(k, 0) for k, n in everything.items() if k not in key_set)
    requests2 = _our_requests(log2, key_set, seen)
    log2_complete = len(log2) < REQUEST_LOG_SIZE

    # -- figures -----------------------------------------------------------------------------
    pass1 = _pass_report(outcomes1, events1, seconds1, len(requests1) if log1_complete else None)
    pass2 = _pass_report(outcomes2, events2, seconds2, len(requests2) if log2_complete else None)
    faults = [str(r["fault"]) for r in requests1 if r["fault"]]
    kinds = Counter(f.split("@")[0] for f in faults)
    phases = Counter(f.split("@")[1] for f in faults)
    fired = {kind: fired_after.get(kind, 0) - fired_before.get(kind, 0) for kind in FAULT_CLASSES}
    by_class = {kind: kinds.get(kind, 0) for kind in ERROR_KINDS}
    by_class["latency"] = fired["latency"]
    answers_lost = sum(1 for o in outcomes1 if not o.ok and creations1.get(o.key, 0) > 0)

    report = ChaosReport(
        calls=calls,
        fault_rate=fault_rate,
        concurrency=concurrency,
        seed=seed,
        sandbox_seed=sandbox.seed,
        max_retries=max_retries,
        latency_ms=latency_ms,
        retry_after=retry_after,
        budget_capacity=capacity,
        budget_left=budget.available,
        pass1=pass1,
        pass2=pass2,
        faults_by_class=by_class,
        faults_by_phase={phase: phases.get(phase, 0) for phase in PHASES},
        faults_fired=fired,
        faulted_requests=len(faults),
        answers_lost=answers_lost,
        creations_after_pass1=creations1,
        creations=creations2,
        foreign_creations=foreign,
    )
    report.violations = _violations(
        report,
        keys,
        requests1=requests1 if log1_complete else None,
        requests2=requests2 if log2_complete else None,
    )
    return report


def _violations(
    report: ChaosReport,
    keys: Sequence[str],
    *,
    requests1: Sequence[Mapping[str, Any]] | None,
    requests2: Sequence[Mapping[str, Any]] | None,
) -> list[str]:
    found: list[str] = []
    creations1, creations2 = report.creations_after_pass1, report.creations
    outcomes1, outcomes2 = report.pass1.outcomes, report.pass2.outcomes

    # No key ever created more than one call.
    for label, counts in (("pass 1", creations1), ("pass 2", creations2)):
        found += [f"{label}: key {k} created {n} calls" for k, n in counts.items() if n > 1]

    # Pass 1: a call, or a typed error carrying the key; a returned call exists exactly once.
    for o in outcomes1:
        if o.ok:
            if creations1.get(o.key) != 1:
                found.append(
                    f"pass 1: {o.key} returned {o.call_id} but created {creations1.get(o.key, 0)}"
                )
        elif not o.typed:
            found.append(f"pass 1: {o.key} raised an untyped {o.error_type}")
        elif o.error_key != o.key:
            found.append(f"pass 1: {o.key} raised {o.error_type} carrying key {o.error_key!r}")
    ids1 = [o.call_id for o in outcomes1 if o.ok]
    if len(set(ids1)) != len(ids1):
        found.append("pass 1: two keys returned the same call id")

    # Pass 2: every key completes; same id as pass 1; a call that existed is replayed.
    for o1, o2 in zip(outcomes1, outcomes2, strict=True):
        if not o2.ok:
            found.append(f"pass 2: {o2.key} failed with {o2.error_type} (typed={o2.typed})")
            continue
        if o1.ok and o2.call_id != o1.call_id:
            found.append(f"pass 2: {o2.key} returned {o2.call_id}, pass 1 returned {o1.call_id}")
        existed = creations1.get(o2.key, 0) > 0
        if o2.replayed != existed:
            found.append(f"pass 2: {o2.key} replayed={o2.replayed} but existed={existed}")
    ids2 = [o.call_id for o in outcomes2 if o.ok]
    if len(set(ids2)) != len(ids2):
        found.append("pass 2: two keys returned the same call id")
    if len(creations2) != len(keys) or any(n != 1 for n in creations2.values()):
        found.append(
            f"after pass 2: {len(creations2)} keys created {sum(creations2.values())} calls; "
            f"expected {len(keys)} keys with one call each"
        )

    if report.foreign_creations:
        found.append(f"{report.foreign_creations} calls were created under keys the run never sent")

    # The client and the server agree on how many attempts each call made.
    for label, outcomes, requests in (
        ("pass 1", outcomes1, requests1),
        ("pass 2", outcomes2, requests2),
    ):
        if requests is None:
            continue
        per_key = Counter(str(r["idempotency_key"]) for r in requests)
        for o in outcomes:
            if per_key.get(o.key, 0) != o.attempts:
                found.append(
                    f"{label}: {o.key} made {o.attempts} attempts, server saw {per_key.get(o.key, 0)}"
                )
    if requests1 is not None and len(requests1) != len(keys) + report.pass1.retries:
        found.append(
            f"pass 1: on_retry saw {report.pass1.retries} retries of {len(keys)} calls, "
            f"the server saw {len(requests1)} requests"
        )

    # The request log and the sandbox's own counters agree on the error faults.
    for kind in ERROR_KINDS:
        if report.faults_by_class[kind] != report.faults_fired[kind]:
            found.append(
                f"faults: request log shows {report.faults_by_class[kind]} {kind}, "
                f"the sandbox counted {report.faults_fired[kind]}"
            )
    return found


# -- wire faults from the raw-socket server -----------------------------------------------------

WIRE_CLASSES = ("interim-trickle", "header-trickle", "late-stall", "new-enum-value", "wrong-types")
"""The fault classes driven from ``tests/faultserver.py`` (the sandbox cannot inject them)."""

#: What each class must end in on a faulted first attempt.
WIRE_EXPECTED = {
    "interim-trickle": "APITimeoutError",
    "header-trickle": "APITimeoutError",
    "late-stall": "APITimeoutError",
    "new-enum-value": "success keeping the raw value",
    "wrong-types": "APIResponseValidationError",
}
#: Classes whose expectation depends on the typed clients' model code, not on the transport.


def _faultserver() -> Any:
    """``tests/faultserver.py`` as a module (tests/ is not a package)."""
    import importlib.util

    name = "stateset_chaos_faultserver"
    if name in sys.modules:
        return sys.modules[name]
    path = Path(__file__).resolve().parents[1] / "tests" / "faultserver.py"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@dataclass(slots=True)
class WireClassReport:
    """What the client did under one wire fault class."""

    fault_class: str
    calls: int
    faulted: int
    expected: str
    outcomes: dict[str, int]
    """First send: outcome per faulted call (error type, or "success" / "success keeping the
    raw value")."""
    max_seconds: float
    deadline: float
    recovered: int
    """Calls that succeeded on the second send."""
    max_creations_per_key: int
    expectation_met: bool
    violations: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def _wire_fault(fault_class: str, fs: Any) -> Any:
    interim = b"HTTP/1.1 100 Continue\r\n\r\n"
    if fault_class == "interim-trickle":
        return fs.Script(fs.Repeat(interim, every=0.05))
    if fault_class == "header-trickle":
        return fs.Script(
            fs.Send(b"HTTP/1.1 201 Created\r\n"), fs.Repeat(b"X-Pad: 1\r\n", every=0.05)
        )
    if fault_class == "late-stall":
        return fs.Script(fs.SendAnswer(end=-3), fs.Stall())
    return None  # the body classes rewrite the application's answer instead


class _BodyFaultApp:
    """The deduplicating application, with the first answer per key's body rewritten."""

    def __init__(self, fs: Any, fault_class: str, faulted: set[str]) -> None:
        self.inner = fs.CallApp()
        self.fs = fs
        self.fault_class = fault_class
        self.faulted = faulted
        self.calls = self.inner.calls
        self.creations = self.inner.creations
        self.done: set[str] = set()

    def __call__(self, request: Any) -> Any:
        answer = self.inner(request)
        key = request.header("Idempotency-Key")
        if key in self.faulted and key not in self.done:
            self.done.add(key)
            data = json.loads(answer.body)
            if self.fault_class == "new-enum-value":
                data["status"] = "ringing_v2"
            else:
                data["call_id"] = 12345
            answer = self.fs.Answer(answer.status, answer.headers, json.dumps(data).encode())
        return answer


async def _wire_pass(
    url: str, keys: Sequence[str], *, concurrency: int, deadline: float, seed: int
) -> list[tuple[str, Any, Exception | None, float]]:
    config = ReliabilityConfig(
        deadline=deadline,
        budget=RetryBudget(capacity=1e9),
        async_sleep=_no_sleep,
        random=random.Random(seed).random,
    )
    results: list[tuple[str, Any, Exception | None, float]] = []
    async with AsyncVoiceClient(
        "sk_test_chaos_wire_key", base_url=url, reliability=config
    ) as voice:
        todo = iter(enumerate(keys))

        async def worker() -> None:
            for index, key in todo:
                started = time.perf_counter()
                try:
                    call = await voice.calls.create(
                        to=to_number(index),
                        from_=FROM_NUMBER,
                        agent_key=AGENT_KEY,
                        idempotency_key=key,
                    )
                    results.append((key, call, None, time.perf_counter() - started))
                except Exception as exc:  # an untyped one is a finding of the run
                    results.append((key, None, exc, time.perf_counter() - started))

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return results


async def _no_sleep(_: float) -> None:
    return None


def run_wire_chaos(
    *,
    calls: int = 40,
    fault_share: float = 0.5,
    concurrency: int = 8,
    deadline: float = 1.0,
    seed: int = 7,
    classes: Sequence[str] = WIRE_CLASSES,
) -> list[WireClassReport]:
    """Each wire fault class on the first attempt of ``fault_share`` of ``calls`` creates,
    then every key again; one report per class."""
    from stateset_voice_wrapper._shared.defaults import DEADLINE_MARGIN

    fs = _faultserver()
    reports = []
    rng = random.Random(seed)
    for fault_class in classes:
        keys = [f"wire-{seed}-{fault_class}-{i:04d}" for i in range(calls)]
        faulted = {k for k in keys if rng.random() < fault_share}
        fault = _wire_fault(fault_class, fs)
        app = _BodyFaultApp(fs, fault_class, faulted if fault is None else set())
        ok = fs.Script(fs.SendAnswer())

        done: set[str] = set()

        def choose(
            request: Any,
            fault: Any = fault,
            ok: Any = ok,
            done: set[str] = done,
            faulted: set[str] = faulted,
        ) -> Any:
            # Only the first request of a faulted key meets the fault: its retries, and the
            # second send, are answered well.
            key = request.header("Idempotency-Key")
            if fault is not None and key in faulted and key not in done:
                done.add(key)
                return fault
            return ok

        server = fs.FaultServer(app=app, chooser=choose).start()
        try:
            first = asyncio.run(
                _wire_pass(server.url, keys, concurrency=concurrency, deadline=deadline, seed=seed)
            )
            second = asyncio.run(
                _wire_pass(server.url, keys, concurrency=concurrency, deadline=deadline, seed=seed)
            )
        finally:
            server.stop()
        outcomes: Counter[str] = Counter()
        violations: list[str] = []
        for key, call, error, _ in first:
            if key not in faulted:
                if error is not None:
                    violations.append(f"{fault_class}: unfaulted {key} failed with {error!r}")
                continue
            if error is None:
                raw = getattr(call.status, "value", call.status)
                outcomes["success keeping the raw value" if raw == "ringing_v2" else "success"] += 1
                continue
            outcomes[type(error).__name__] += 1
            if not isinstance(error, StateSetVoiceError):
                violations.append(f"{fault_class}: {key} raised an untyped {type(error).__name__}")
            elif error.idempotency_key != key:
                violations.append(f"{fault_class}: {key} raised without its key")
        slowest = max((seconds for *_, seconds in first + second), default=0.0)
        if slowest > deadline + DEADLINE_MARGIN + 0.25:
            violations.append(
                f"{fault_class}: a call took {slowest:.3f}s for a {deadline}s deadline"
            )
        recovered = sum(1 for _, call, error, _ in second if error is None)
        if recovered != calls:
            violations.append(f"{fault_class}: only {recovered} of {calls} keys recovered")
        most = max(app.creations.values(), default=0)
        if most > 1:
            violations.append(f"{fault_class}: a key created {most} calls")
        expected = WIRE_EXPECTED[fault_class]
        met = bool(faulted) and outcomes.get(expected, 0) == len(faulted)
        if not met:
            violations.append(f"{fault_class}: expected {expected}, got {dict(outcomes)}")
        reports.append(
            WireClassReport(
                fault_class=fault_class,
                calls=calls,
                faulted=len(faulted),
                expected=expected,
                outcomes=dict(outcomes),
                max_seconds=round(slowest, 3),
                deadline=deadline,
                recovered=recovered,
                max_creations_per_key=most,
                expectation_met=met,
                violations=violations,
            )
        )
    return reports


def wire_markdown(reports: Sequence[WireClassReport]) -> str:
    lines = [
        "| wire fault class | faulted / calls | first send: what the client did | expected | slowest call / deadline | recovered | max calls per key |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in reports:
        did = ", ".join(f"{k} {v}" for k, v in sorted(r.outcomes.items())) or "none"
        mark = "yes" if r.expectation_met else "NO"
        lines.append(
            f"| {r.fault_class} | {r.faulted} / {r.calls} | {did} | {r.expected}: {mark} |"
            f" {r.max_seconds:.3f} s / {r.deadline:g} s | {r.recovered} | {r.max_creations_per_key} |"
        )
    lines += [f"- VIOLATION: {v}" for r in reports for v in r.violations]
    return "\n".join(lines)


# -- command line -----------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--fault-rate", type=float, default=0.2)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--seed", type=int, default=7, help="keys, sandbox faults and jitter")
    parser.add_argument("--latency-ms", type=int, default=50, help="delay of a latency fault")
    parser.add_argument(
        "--retry-after", type=int, default=1, help="Retry-After of injected 429 and 503 faults"
    )
    parser.add_argument("--max-retries", type=int, default=2)
    parser.add_argument(
        "--timeout", type=float, default=None, help="client timeout per phase, in seconds"
    )
    parser.add_argument(
        "--budget-capacity",
        type=float,
        default=None,
        help="private retry budget size (default: enough for every possible retry)",
    )
    parser.add_argument(
        "--wire-calls", type=int, default=200, help="calls per wire fault class (0: skip them)"
    )
    parser.add_argument("--json", type=Path, default=None, help="also write the report here")
    parser.add_argument("--verbose", action="store_true", help="log every retry")
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.WARNING if args.verbose else logging.ERROR)
    with Sandbox(seed=args.seed, auto_advance=False, webhook_duplicate_probability=0.0) as sandbox:
        report = run_chaos(
            sandbox,
            calls=args.calls,
            fault_rate=args.fault_rate,
            concurrency=args.concurrency,
            seed=args.seed,
            latency_ms=args.latency_ms,
            retry_after=args.retry_after,
            max_retries=args.max_retries,
            budget_capacity=args.budget_capacity,
            timeout=args.timeout,
        )
    print(report.to_markdown())
    wire = run_wire_chaos(calls=args.wire_calls, seed=args.seed) if args.wire_calls else []
    if wire:
        print()
        print(wire_markdown(wire))
    if args.json is not None:
        data = {**report.to_dict(), "wire": [r.to_dict() for r in wire]}
        args.json.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    wire_ok = all(not r.violations for r in wire)
    return 0 if report.ok and wire_ok else 1


if __name__ == "__main__":
    sys.exit(main())
