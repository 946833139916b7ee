"""The process-wide retry budget: a token bucket that keeps an outage from becoming a retry storm.

Every retry spends tokens (a timeout spends more, as it held a connection for longer); every
success refunds a little. A retry after a pool timeout spends ``pool_timeout_cost`` (default
0): waiting for a free connection of this process's own pool is local congestion, which
sends nothing to the server, so it must not take the tokens that retries of real server
failures (a make-call after a 503) need. When the bucket cannot pay for a retry, the call fails at once with
the error it already has. Sync and async clients share one bucket per process unless given their
own.

Example::

    from stateset_voice_wrapper import get_retry_budget

    budget = get_retry_budget()
    print(budget.available, "of", budget.capacity)
    budget.configure(capacity=200)
"""

from __future__ import annotations

import threading

from .._shared.defaults import (
    DEFAULT_BUDGET_CAPACITY,
    DEFAULT_BUDGET_POOL_TIMEOUT_COST,
    DEFAULT_BUDGET_RETRY_COST,
    DEFAULT_BUDGET_SUCCESS_REFUND,
    DEFAULT_BUDGET_TIMEOUT_COST,
)
from .._shared.errors import InvalidParameterError
from .._shared.validate import check_seconds

__all__ = ["RetryBudget", "get_retry_budget"]


class RetryBudget:
    """A thread-safe token bucket. Safe to share between threads and event loops."""

    def __init__(
        self,
        *,
        capacity: float = DEFAULT_BUDGET_CAPACITY,
        retry_cost: float = DEFAULT_BUDGET_RETRY_COST,
        timeout_cost: float = DEFAULT_BUDGET_TIMEOUT_COST,
        success_refund: float = DEFAULT_BUDGET_SUCCESS_REFUND,
        pool_timeout_cost: float = DEFAULT_BUDGET_POOL_TIMEOUT_COST,
    ) -> None:
        self._lock = threading.Lock()
        self._capacity = 0.0
        self._available = 0.0
        self.retry_cost = DEFAULT_BUDGET_RETRY_COST
        self.timeout_cost = DEFAULT_BUDGET_TIMEOUT_COST
        self.success_refund = DEFAULT_BUDGET_SUCCESS_REFUND
        self.pool_timeout_cost = DEFAULT_BUDGET_POOL_TIMEOUT_COST
        self.configure(
            capacity=capacity,
            retry_cost=retry_cost,
            timeout_cost=timeout_cost,
            success_refund=success_refund,
            pool_timeout_cost=pool_timeout_cost,
            refill=True,
        )

    @property
    def capacity(self) -> float:
        return self._capacity

    @property
    def available(self) -> float:
        """Tokens left now."""
        return self._available

    def configure(
        self,
        *,
        capacity: float | None = None,
        retry_cost: float | None = None,
        timeout_cost: float | None = None,
        success_refund: float | None = None,
        pool_timeout_cost: float | None = None,
        refill: bool = False,
    ) -> None:
        """Change the bucket's settings; ``refill=True`` also fills it to capacity.

        Every value is a finite number ``>= 0``; anything else raises
        :class:`InvalidParameterError` (a ``ValueError``) and changes nothing.
        """
        values = {
            "capacity": capacity,
            "retry_cost": retry_cost,
            "timeout_cost": timeout_cost,
            "success_refund": success_refund,
            "pool_timeout_cost": pool_timeout_cost,
        }
        checked = {
            name: check_seconds(name, value, allow_none=False, allow_zero=True, unit="tokens")
            for name, value in values.items()
            if value is not None
        }
        if not isinstance(refill, bool):
            raise InvalidParameterError("refill must be a bool")
        with self._lock:
            if "capacity" in checked:
                self._capacity = float(checked["capacity"] or 0.0)
                self._available = min(self._available, self._capacity)
            for name in ("retry_cost", "timeout_cost", "success_refund", "pool_timeout_cost"):
                if name in checked:
                    setattr(self, name, checked[name])
            if refill:
                self._available = self._capacity

    def try_acquire(self, *, timeout: bool = False, pool_wait: bool = False) -> bool:
        """Spend the cost of one retry; False (spending nothing) when the bucket cannot pay.

        ``timeout``: the failed attempt timed out (costs ``timeout_cost``); ``pool_wait``: it
        timed out waiting for a connection of the local pool (costs ``pool_timeout_cost``).
        """
        if pool_wait:
            cost = self.pool_timeout_cost
        else:
            cost = self.timeout_cost if timeout else self.retry_cost
        if cost <= 0:
            return True
        with self._lock:
            if self._available < cost:
                return False
            self._available -= cost
            return True

    def record_success(self) -> None:
        """Refund a little after a successful response."""
        if self._available >= self._capacity:  # fast path: a full bucket needs no lock
            return
        with self._lock:
            self._available = min(self._capacity, self._available + self.success_refund)

    def __repr__(self) -> str:
        return f"RetryBudget(available={self._available:g}, capacity={self._capacity:g})"


_PROCESS_BUDGET = RetryBudget()


def get_retry_budget() -> RetryBudget:
    """The budget shared by every client in this process that was not given its own."""
    return _PROCESS_BUDGET
