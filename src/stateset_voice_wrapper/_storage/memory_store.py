"""The in-process lease store: a dict under a lock, for the limits of a single worker.

It shares the state machine of the durable stores and none of their durability: its keys live
in this process's memory and die with it. It backs :class:`InProcessCallLimiter`, where that is
what is wanted (one worker's permits end with the worker); it is not offered for the ledger.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from .leases import DEFAULT_RETENTION_SECONDS, LeaseChange, LeaseRecord, LeaseStoreBase

__all__ = ["MemoryLeaseStore"]

_T = TypeVar("_T")
#: Forgotten records that nobody reads again are dropped by a sweep this often (clock seconds).
_SWEEP_INTERVAL_SECONDS = 60.0


class MemoryLeaseStore(LeaseStoreBase):
    """A :class:`LeaseStore` in this process's memory: threads share it, processes do not."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.time,
        retention_seconds: float = DEFAULT_RETENTION_SECONDS,
    ) -> None:
        super().__init__(clock=clock, retention_seconds=retention_seconds)
        self._records: dict[str, LeaseRecord] = {}
        self._lock = threading.Lock()
        self._next_sweep_at = -math.inf

    def __repr__(self) -> str:
        return f"MemoryLeaseStore({len(self._records)} keys)"

    def _live_record(self, key: str, now: float) -> LeaseRecord | None:
        record = self._records.get(key)
        if record is not None and now >= record.forget_at:
            del self._records[key]  # forgotten: what a Redis TTL or a SQLite purge would do
            return None
        return record

    def _read(self, key: str) -> LeaseRecord | None:
        with self._lock:
            return self._live_record(key, self._clock())

    def _read_many(self, keys: list[str]) -> list[LeaseRecord | None]:
        with self._lock:
            now = self._clock()
            return [self._live_record(key, now) for key in keys]

    def _update(
        self, key: str, decide: Callable[[LeaseRecord | None, float], tuple[_T, LeaseChange]]
    ) -> _T:
        with self._lock:
            now = self._clock()
            answer, change = decide(self._live_record(key, now), now)
            if isinstance(change, LeaseRecord):
                self._records[key] = change
            elif change == "delete":
                self._records.pop(key, None)
            if now >= self._next_sweep_at:
                self._next_sweep_at = now + _SWEEP_INTERVAL_SECONDS
                for stale in [k for k, r in self._records.items() if now >= r.forget_at]:
                    del self._records[stale]
            return answer

    def _close(self) -> None:
        with self._lock:
            self._records.clear()
