"""A stateful model of the concurrency limit, run against both limiters.

Hypothesis drives an :class:`InProcessCallLimiter` and a :class:`RedisCallLimiter` (a real
redis-server) through acquires, attaches, releases, ends reported by call, crashes (a permit
that is never released) and clock moves, and checks every step against a plain model of what
the limit promises (docs/fleet-limits.md):

* an acquire succeeds exactly when fewer than ``limit`` permits are live;
* a claimed permit is live until ``lease_seconds`` after it was taken, an attached one until
  ``call_lease_seconds`` after it was attached, unless released (by the permit, or by its
  call's end) before;
* a call whose end is reported before its permit is attached frees that permit when it is;
* a call attached to a second permit (two creates answered with one call) counts once;
* ``in_use()`` and ``attached_calls()`` say what the model says, and never exceed the limit.

``make check`` runs a fixed set of examples; ``HYPOTHESIS_PROFILE=long`` many more.
"""

from __future__ import annotations

import os
import uuid
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from stateset_voice_wrapper import (
    CallLimiter,
    ConcurrencyLimitError,
    InProcessCallLimiter,
    RedisCallLimiter,
)
from stateset_voice_wrapper.stores import Permit

if TYPE_CHECKING:
    from tests.clocks import FakeClock
else:
    from clocks import FakeClock

LONG = os.environ.get("HYPOTHESIS_PROFILE") == "long"
LEASE, CALL_LEASE = 10.0, 60.0


class Held:
    """The model of one permit: its state and when it stops counting."""

    def __init__(self, permit: Permit, until: float) -> None:
        self.permit = permit
        self.state = "claimed"  # claimed | attached | gone
        self.until = until
        self.call_id: str | None = None


class LimiterMachine(RuleBasedStateMachine):
    kind = "in_process"
    redis_url = ""

    permits = Bundle("permits")

    def __init__(self) -> None:
        super().__init__()
        self.clock = FakeClock()
        self.limiter: CallLimiter | None = None
        self.limit = 0
        self.held: list[Held] = []
        #: call ID -> when the end mark left by release_for_call stops counting
        self.ended: dict[str, float] = {}
        self.calls = 0

    @initialize(limit=st.integers(min_value=1, max_value=4))
    def open(self, limit: int) -> None:
        self.limit = limit
        options: dict[str, Any] = {
            "name": f"tenant-{uuid.uuid4().hex[:10]}",
            "concurrency": limit,
            "lease_seconds": LEASE,
            "call_lease_seconds": CALL_LEASE,
            "clock": self.clock,
        }
        if self.kind == "redis":
            self.limiter = RedisCallLimiter(self.redis_url, **options)
        else:
            self.limiter = InProcessCallLimiter(**options)

    def teardown(self) -> None:
        if self.limiter is not None:
            self.limiter.close()

    # -- the model -------------------------------------------------------------------------

    def _expire(self) -> None:
        for held in self.held:
            if held.state != "gone" and self.clock.now >= held.until:
                held.state = "gone"
        self.ended = {c: until for c, until in self.ended.items() if self.clock.now < until}

    def _live(self) -> list[Held]:
        self._expire()
        return [held for held in self.held if held.state != "gone"]

    @property
    def _limiter(self) -> CallLimiter:
        assert self.limiter is not None
        return self.limiter

    # -- rules -----------------------------------------------------------------------------

    @rule(target=permits)
    def acquire(self) -> Held | None:
        expect = len(self._live()) < self.limit
        try:
            permit = self._limiter.acquire()
        except ConcurrencyLimitError:
            assert not expect, "refused with a permit free"
            return None
        assert expect, "granted beyond the limit"
        held = Held(permit, self.clock.now + LEASE)
        self.held.append(held)
        return held

    @precondition(lambda self: any(h.state == "claimed" for h in self._live()))
    @rule(data=st.data(), end_first=st.booleans())
    def attach(self, data: st.DataObject, end_first: bool) -> None:
        """The call is placed; with ``end_first`` its end was reported before the attach (a
        number that fails at once), which frees the permit as it is attached."""
        claimed = [h for h in self._live() if h.state == "claimed"]
        held = data.draw(st.sampled_from(claimed))
        self.calls += 1
        call_id = f"call_{self.calls}"
        if end_first:
            assert self._limiter.release_for_call(call_id) is False  # nothing attached yet
            self.ended[call_id] = self.clock.now + LEASE
        held.permit.attach(call_id)
        held.call_id = call_id
        if call_id in self.ended:
            held.state = "gone"
        else:
            held.state, held.until = "attached", self.clock.now + CALL_LEASE

    @precondition(
        lambda self: {"claimed", "attached"} <= {h.state for h in self._live()},
    )
    @rule(data=st.data())
    def attach_a_call_attached_already(self, data: st.DataObject) -> None:
        """Two creates answered with the one call the server deduplicated: the call counts
        once, so the second permit is freed as it is attached."""
        live = self._live()
        held = data.draw(st.sampled_from([h for h in live if h.state == "claimed"]))
        other = data.draw(st.sampled_from([h for h in live if h.state == "attached"]))
        held.permit.attach(other.call_id or "")
        held.call_id, held.state = other.call_id, "gone"

    @rule(held=consumes(permits))
    def release(self, held: Held | None) -> None:
        if held is None:
            return
        held.permit.release()
        self._expire()
        held.state = "gone"  # freed now, or gone already (and then not ours to free)

    @precondition(lambda self: any(h.state == "attached" for h in self._live()))
    @rule(data=st.data())
    def call_ended(self, data: st.DataObject) -> None:
        attached = [h for h in self._live() if h.state == "attached"]
        held = data.draw(st.sampled_from(attached))
        assert held.call_id is not None
        assert self._limiter.release_for_call(held.call_id) is True
        held.state = "gone"
        assert self._limiter.release_for_call(held.call_id) is False  # once only

    @rule(held=consumes(permits))
    def crash(self, held: Held | None) -> None:
        """The worker holding the permit dies: nobody releases it; only its lease frees it."""

    @rule(seconds=st.sampled_from([1.0, 5.0, LEASE - 1, LEASE, LEASE + 1, CALL_LEASE]))
    def advance(self, seconds: float) -> None:
        self.clock.now += seconds

    # -- invariants ------------------------------------------------------------------------

    @invariant()
    def the_counts_are_the_models(self) -> None:
        if self.limiter is None:
            return
        live = self._live()
        assert len(live) <= self.limit
        assert self._limiter.in_use() == len(live)
        expected = sorted(h.call_id or "" for h in live if h.state == "attached")
        assert sorted(self._limiter.attached_calls()) == expected


def _settings() -> settings:
    return settings(
        max_examples=1_000 if LONG else 60,
        stateful_step_count=60 if LONG else 30,
        derandomize=not LONG,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )


@pytest.fixture(params=["in_process", pytest.param("redis", marks=pytest.mark.redis)])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.mark.timeout(4 * 3600 if LONG else 120)
def test_the_concurrency_limit_matches_its_model(kind: str, request: pytest.FixtureRequest) -> None:
    url = request.getfixturevalue("redis_url") if kind == "redis" else ""
    machine = type(f"LimiterMachine_{kind}", (LimiterMachine,), {"kind": kind, "redis_url": url})
    run_state_machine_as_test(machine, settings=_settings())
