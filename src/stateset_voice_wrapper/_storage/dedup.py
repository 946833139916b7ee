"""Lease stores for webhook deduplication: the lease stores under their own namespaces.

:class:`~stateset_voice_wrapper.webhooks.ExactlyOnceConsumer` claims each event in one of these.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from .leases import DEFAULT_RETENTION_SECONDS
from .redis_store import RedisLeaseStore
from .sqlite_store import SqliteLeaseStore

if TYPE_CHECKING:
    import redis

__all__ = ["RedisDedupStore", "SqliteDedupStore"]


class SqliteDedupStore(SqliteLeaseStore):
    """A SQLite lease store for webhook events (namespace ``"webhooks"``): one host."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        namespace: str = "webhooks",
        clock: Callable[[], float] = time.time,
        retention_seconds: float = DEFAULT_RETENTION_SECONDS,
    ) -> None:
        super().__init__(
            path, namespace=namespace, clock=clock, retention_seconds=retention_seconds
        )


class RedisDedupStore(RedisLeaseStore):
    """A Redis lease store for webhook events (namespace ``"stateset_voice:webhooks"``): a fleet."""

    def __init__(
        self,
        url_or_client: str | redis.Redis,
        *,
        namespace: str = "stateset_voice:webhooks",
        clock: Callable[[], float] = time.time,
        retention_seconds: float = DEFAULT_RETENTION_SECONDS,
    ) -> None:
        super().__init__(
            url_or_client, namespace=namespace, clock=clock, retention_seconds=retention_seconds
        )
