"""Lease stores for webhook deduplication: the lease stores under their own namespaces.

:class:`~stateset_voice_wrapper.webhooks.ExactlyOnceConsumer` claims each event in one of these.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from .leases import DEFAULT_RETENTION_SECONDS
from .redis_policy import EvictionPolicyCheck
from .redis_store import RedisLeaseStore
from .sqlite_store import DEFAULT_BUSY_TIMEOUT_SECONDS, SqliteLeaseStore

if TYPE_CHECKING:
    import redis

__all__ = ["RedisDedupStore", "SqliteDedupStore"]


class SqliteDedupStore(SqliteLeaseStore):
    """A SQLite lease store for webhook events (namespace ``"webhooks"``): one host.

    ``busy_timeout_seconds``: how long a write queues behind other writers (default 30 s).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        namespace: str = "webhooks",
        clock: Callable[[], float] = time.time,
        retention_seconds: float = DEFAULT_RETENTION_SECONDS,
        busy_timeout_seconds: float = DEFAULT_BUSY_TIMEOUT_SECONDS,
    ) -> None:
        super().__init__(
            path,
            namespace=namespace,
            clock=clock,
            retention_seconds=retention_seconds,
            busy_timeout_seconds=busy_timeout_seconds,
        )


class RedisDedupStore(RedisLeaseStore):
    """A Redis lease store for webhook events (namespace ``"stateset_voice:webhooks"``): a fleet.

    ``eviction_policy`` as for :class:`RedisLeaseStore` (default ``"refuse"``).
    """

    def __init__(
        self,
        url_or_client: str | redis.Redis,
        *,
        namespace: str = "stateset_voice:webhooks",
        clock: Callable[[], float] = time.time,
        retention_seconds: float = DEFAULT_RETENTION_SECONDS,
        eviction_policy: EvictionPolicyCheck = "refuse",
    ) -> None:
        super().__init__(
            url_or_client,
            namespace=namespace,
            clock=clock,
            retention_seconds=retention_seconds,
            eviction_policy=eviction_policy,
        )
