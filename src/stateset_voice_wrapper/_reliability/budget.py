"""The process-wide retry budget: a token bucket that keeps an outage from becoming a retry storm.

Every retry spends tokens (a timeout spends more, as it held a connection for longer); every
success refunds a little. When the bucket cannot pay for a retry, the call fails at once with
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
    DEFAULT_BUDGET_RETRY_COST,
    DEFAULT_BUDGET_SUCCESS_REFUND,
    DEFAULT_BUDGET_TIMEOUT_COST,
)

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
    ) -> None:
        self._lock = threading.Lock()
        self._capacity = 0.0
        self._available = 0.0
        self.retry_cost = retry_cost
        self.timeout_cost = timeout_cost
        self.success_refund = success_refund
        self.configure(capacity=capacity, refill=True)

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
        refill: bool = False,
    ) -> None:
        """Change the bucket's settings; ``refill=True`` also fills it to capacity."""
        with self._lock:
            if capacity is not None:
                if capacity < 0:
                    raise ValueError("capacity must be >= 0")
                self._capacity = float(capacity)
                self._available = min(self._available, self._capacity)
            if retry_cost is not None:
                self.retry_cost = retry_cost
            if timeout_cost is not None:
                self.timeout_cost = timeout_cost
            if success_refund is not None:
                self.success_refund = success_refund
            if refill:
                self._available = self._capacity

    def try_acquire(self, *, timeout: bool) -> bool:
        """Spend the cost of one retry; False (spending nothing) when the bucket cannot pay."""
        cost = self.timeout_cost if timeout else self.retry_cost
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
