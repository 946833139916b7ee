"""The two call limiters: in this process's memory, and in Redis for a fleet.

See ``limiter.py`` for what they limit and how; both have the same API and differ only in where
the permits and the rate window live.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from .._shared.errors import InvalidParameterError
from .leases import check_positive_seconds
from .limiter import (
    DEFAULT_CALL_LEASE_SECONDS,
    DEFAULT_PERMIT_LEASE_SECONDS,
    CallLimiter,
    check_count,
    check_wait,
)
from .memory_store import MemoryLeaseStore
from .rate import MemoryRateWindow, RedisRateWindow
from .redis_policy import EvictionPolicyCheck
from .redis_store import RedisLeaseStore

if TYPE_CHECKING:
    import redis

__all__ = ["InProcessCallLimiter", "RedisCallLimiter"]


def _checked(
    *,
    name: str,
    concurrency: int | None,
    rate: int | None,
    rate_window: float,
    lease_seconds: float,
    call_lease_seconds: float,
    wait: float,
) -> None:
    if not isinstance(name, str) or not name:
        raise InvalidParameterError("name must be a non-empty string", parameter="name")
    if check_count("concurrency", concurrency) is None and check_count("rate", rate) is None:
        raise InvalidParameterError("a call limiter needs a concurrency limit, a rate, or both")
    check_positive_seconds("rate_window", rate_window)
    check_positive_seconds("lease_seconds", lease_seconds)
    check_positive_seconds("call_lease_seconds", call_lease_seconds)
    check_wait(wait)


class InProcessCallLimiter(CallLimiter):
    """Call limits in this process's memory: a single worker (threads and tasks share them).

    >>> limiter = InProcessCallLimiter(concurrency=10, rate=5)   # doctest: +SKIP
    >>> voice = VoiceClient(call_limiter=limiter)               # doctest: +SKIP
    """

    def __init__(
        self,
        *,
        name: str = "default",
        concurrency: int | None = None,
        rate: int | None = None,
        rate_window: float = 1.0,
        lease_seconds: float = DEFAULT_PERMIT_LEASE_SECONDS,
        call_lease_seconds: float = DEFAULT_CALL_LEASE_SECONDS,
        wait: float = 0.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        _checked(
            name=name,
            concurrency=concurrency,
            rate=rate,
            rate_window=rate_window,
            lease_seconds=lease_seconds,
            call_lease_seconds=call_lease_seconds,
            wait=wait,
        )
        super().__init__(
            MemoryLeaseStore(clock=clock, retention_seconds=call_lease_seconds),
            MemoryRateWindow(),
            name=name,
            concurrency=concurrency,
            rate=rate,
            rate_window=float(rate_window),
            lease_seconds=float(lease_seconds),
            wait=float(wait),
            clock=clock,
            blocking=False,
        )


class RedisCallLimiter(CallLimiter):
    """Call limits in Redis, shared by every worker of a fleet (needs the ``[redis]`` extra).

    ``name`` says what is limited (a tenant, a provider account): every limiter with the same
    ``name`` on the same Redis and ``namespace`` counts against the same limits, so give every
    worker the same ``concurrency`` and ``rate``. ``url_or_client`` and ``eviction_policy`` are
    as for :class:`RedisLedger`; the server must not evict (an evicted permit is a call the
    limit no longer counts).

    >>> limiter = RedisCallLimiter("redis://cache:6379/0", name="tenant-42",  # doctest: +SKIP
    ...                            concurrency=10, rate=5, wait=30.0)
    """

    def __init__(
        self,
        url_or_client: str | redis.Redis,
        *,
        name: str,
        concurrency: int | None = None,
        rate: int | None = None,
        rate_window: float = 1.0,
        namespace: str = "stateset_voice:limits",
        lease_seconds: float = DEFAULT_PERMIT_LEASE_SECONDS,
        call_lease_seconds: float = DEFAULT_CALL_LEASE_SECONDS,
        wait: float = 0.0,
        clock: Callable[[], float] = time.time,
        eviction_policy: EvictionPolicyCheck = "refuse",
    ) -> None:
        _checked(
            name=name,
            concurrency=concurrency,
            rate=rate,
            rate_window=rate_window,
            lease_seconds=lease_seconds,
            call_lease_seconds=call_lease_seconds,
            wait=wait,
        )
        store = RedisLeaseStore(
            url_or_client,
            namespace=namespace,
            clock=clock,
            retention_seconds=call_lease_seconds,
            eviction_policy=eviction_policy,
        )
        super().__init__(
            store,
            None if rate is None else RedisRateWindow(store.client, namespace=namespace),
            name=name,
            concurrency=concurrency,
            rate=rate,
            rate_window=float(rate_window),
            lease_seconds=float(lease_seconds),
            wait=float(wait),
            clock=clock,
            blocking=True,
        )
