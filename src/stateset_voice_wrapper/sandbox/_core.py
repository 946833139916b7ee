"""SandboxCore: everything one sandbox holds, and the control operations on it.

The core lives on the server's event loop; the HTTP control endpoints and the thread-safe
:class:`~stateset_voice_wrapper.sandbox.Sandbox` methods both call into it, so the two ways of
steering a sandbox cannot drift apart.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import math
import os
import random
import secrets
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ._clock import SandboxClock
from ._constants import (
    DEFAULT_HOST,
    DEFAULT_RATE_LIMIT,
    DEFAULT_RATE_REFILL_PER_SECOND,
    DEFAULT_STEP_SECONDS,
    DEFAULT_TENANT_ID,
    DEFAULT_WEBHOOK_BACKOFF_SECONDS,
    DEFAULT_WEBHOOK_DUPLICATE_PROBABILITY,
    DEFAULT_WEBHOOK_MAX_ATTEMPTS,
    DEFAULT_WEBHOOK_TIMEOUT_SECONDS,
)
from ._faults import FaultPlan, FaultRule
from ._idempotency import IdempotencyStore
from ._limits import SandboxLimits
from ._ratelimit import TokenBucketLimiter, check_rate
from ._spec import Contracts, load_contracts, resolve_refs
from ._state import Store
from ._util import IdFactory
from ._webhooks import WebhookDispatcher, WebhookSettings

FaultSpec = FaultRule | Mapping[str, Any]


@dataclass(frozen=True, kw_only=True)
class SandboxConfig:
    """Every option of a sandbox; the defaults live in ``_constants.py``."""

    host: str = DEFAULT_HOST
    port: int = 0
    seed: int | None = None
    contracts_dir: str | os.PathLike[str] | None = None
    step_seconds: float = DEFAULT_STEP_SECONDS
    auto_advance: bool = True
    rate_limit: int = DEFAULT_RATE_LIMIT
    rate_limit_refill_per_second: float = DEFAULT_RATE_REFILL_PER_SECOND
    webhook_url: str | None = None
    webhook_max_attempts: int = DEFAULT_WEBHOOK_MAX_ATTEMPTS
    webhook_backoff_seconds: float = DEFAULT_WEBHOOK_BACKOFF_SECONDS
    webhook_timeout_seconds: float = DEFAULT_WEBHOOK_TIMEOUT_SECONDS
    webhook_duplicate_probability: float = DEFAULT_WEBHOOK_DUPLICATE_PROBABILITY
    faults: Sequence[FaultSpec] = field(default_factory=tuple)
    runtime_key: str | None = None
    admin_key: str | None = None
    allow_remote: bool = False
    allow_remote_webhooks: bool = False
    limits: SandboxLimits = field(default_factory=SandboxLimits)


def _body_properties(contracts: Contracts, operation_id: str) -> list[str]:
    """The properties the contract declares for an operation's JSON request body."""
    op = contracts.operation(operation_id)
    document = contracts.documents[op.api]
    raw = document["paths"][op.path][op.method.lower()]
    body = resolve_refs(document, raw.get("requestBody", {}))
    schema = body.get("content", {}).get("application/json", {}).get("schema", {})
    return sorted(schema.get("properties", {}))


def _number(name: str, value: Any, *, minimum: float = 0.0) -> float:
    """A finite number >= ``minimum`` from a control request (booleans and strings refused)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be a number")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum:g}")
    return float(value)


def to_rules(specs: Sequence[FaultSpec]) -> list[FaultRule]:
    return [s if isinstance(s, FaultRule) else FaultRule.from_dict(s) for s in specs]


@dataclass(frozen=True, slots=True)
class SandboxKeys:
    """The credentials of a sandbox: a function of its seed (and of keys the config fixes)."""

    runtime_key: str
    admin_key: str
    webhook_secret: str
    twilio_auth_token: str


def derive_keys(seed: int, config: SandboxConfig | None = None) -> SandboxKeys:
    """The keys a sandbox started with ``seed`` uses: the same every time for one seed."""
    keys = IdFactory(random.Random(f"{seed}:keys"))
    runtime_key = "sk_test_" + keys.token(16)
    admin_key = "ak_test_" + keys.token(16)
    return SandboxKeys(
        runtime_key=(config.runtime_key if config else None) or runtime_key,
        admin_key=(config.admin_key if config else None) or admin_key,
        webhook_secret="whsec_" + keys.token(24),
        twilio_auth_token=keys.token(16),
    )


class SandboxCore:
    """State, policies and outbound traffic of one sandbox."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.seed = config.seed if config.seed is not None else secrets.randbits(32)
        keys = derive_keys(self.seed, config)
        self.runtime_key = keys.runtime_key
        self.admin_key = keys.admin_key
        self.webhook_secret = keys.webhook_secret
        self.twilio_auth_token = keys.twilio_auth_token
        self.tenant_id = DEFAULT_TENANT_ID
        self.contracts: Contracts = load_contracts(config.contracts_dir)
        self.limits = limits = config.limits
        self.clock = SandboxClock(auto=config.auto_advance)
        self.events: list[dict[str, Any]] = []
        self.request_log: deque[dict[str, Any]] = deque(maxlen=limits.max_request_log)
        self._request_ids = IdFactory(random.Random(f"{self.seed}:requests"))
        self.store = Store(
            ids=IdFactory(random.Random(f"{self.seed}:ids")),
            clock=self.clock,
            step_seconds=config.step_seconds,
            emit=self._on_event,
            max_access_requests=limits.max_access_requests,
            access_request_ttl_seconds=limits.access_request_ttl_seconds,
            access_request_fields=_body_properties(self.contracts, "create_access_request"),
        )
        self.store.default_webhook_url = config.webhook_url
        self.idempotency = IdempotencyStore(
            clock=self.clock.now,
            ttl_seconds=limits.idempotency_ttl_seconds,
            max_keys=limits.max_idempotency_keys,
            max_anonymous_keys=limits.max_anonymous_idempotency_keys,
            anonymous_operations=frozenset(
                op.operation_id for op in self.contracts.operations if op.anonymous
            ),
        )
        self.limiter = TokenBucketLimiter(
            capacity=config.rate_limit,
            refill_per_second=config.rate_limit_refill_per_second,
            max_buckets=limits.max_rate_limit_buckets,
        )
        self.faults = FaultPlan(random.Random(f"{self.seed}:faults"), to_rules(config.faults))
        self.webhooks = WebhookDispatcher(
            secrets=[self.webhook_secret],
            rng=random.Random(f"{self.seed}:webhooks"),
            settings=WebhookSettings(
                max_attempts=config.webhook_max_attempts,
                backoff_seconds=config.webhook_backoff_seconds,
                timeout_seconds=config.webhook_timeout_seconds,
                duplicate_probability=config.webhook_duplicate_probability,
            ),
            allow_remote=config.allow_remote_webhooks,
        )
        self._ticker: asyncio.Task[None] | None = None

    # -- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        await self.webhooks.start()
        if self.config.auto_advance:
            self._ticker = asyncio.create_task(self._tick(), name="sandbox-clock")

    async def close(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
        await self.webhooks.close()

    async def _tick(self) -> None:
        interval = min(self.config.step_seconds / 4, 0.05)
        while True:
            await asyncio.sleep(interval)
            self.store.process_due()

    def _on_event(self, event: dict[str, Any]) -> None:
        self.events.append(event)
        url = self.store.webhook_url_for(event["tenant_id"])
        if url:
            self.webhooks.enqueue(event, url)

    def new_request_id(self) -> str:
        return self._request_ids.new("req")

    # -- control operations (shared by /_sandbox/* and the Sandbox methods) ---------------

    def advance(
        self, *, steps: float | None = None, seconds: float | None = None, settle: bool = False
    ) -> dict[str, Any]:
        """Move the sandbox clock and apply the transitions that became due.

        Raises:
            ValueError, TypeError: for a step count or duration that is not a finite number
                >= 0 (NaN would stop the clock for good), or a move past the clock's range.
        """
        if not isinstance(settle, bool):
            raise TypeError("settle must be true or false")
        if settle:
            transitions = self.store.settle()
        else:
            if steps is None and seconds is None:
                steps = 1
            amount = 0.0 if seconds is None else _number("seconds", seconds)
            if steps is not None:
                amount += _number("steps", steps) * self.store.step_seconds
            transitions = self.store.advance(amount)
        return {"now": self.clock.now(), "transitions": transitions}

    def set_faults(self, specs: Sequence[FaultSpec], *, append: bool = False) -> dict[str, Any]:
        rules = to_rules(specs)
        if append:
            self.faults.add(rules)
        else:
            self.faults.replace(rules)
        return self.faults.describe()

    def set_rate_limit(self, *, limit: int, refill_per_second: float) -> dict[str, Any]:
        """Change the token buckets (every bucket starts full again).

        Raises:
            ValueError, TypeError: for a limit that is not an integer >= 1, or a refill rate
                that is not a positive finite number.
        """
        limit, refill_per_second = check_rate(limit, refill_per_second)
        self.limiter.configure(capacity=limit, refill_per_second=refill_per_second)
        return {"limit": limit, "refill_per_second": refill_per_second}

    def configure_webhooks(self, changes: Mapping[str, Any]) -> dict[str, Any]:
        allowed = {
            "url",
            "max_attempts",
            "backoff_seconds",
            "timeout_seconds",
            "duplicate_probability",
        }
        unknown = set(changes) - allowed
        if unknown:
            raise ValueError(f"unknown webhook settings: {', '.join(sorted(unknown))}")
        settings = self.webhooks.settings
        # WebhookSettings checks each value's type and range (NaN and infinity included).
        merged = WebhookSettings(
            max_attempts=changes.get("max_attempts", settings.max_attempts),
            backoff_seconds=changes.get("backoff_seconds", settings.backoff_seconds),
            timeout_seconds=changes.get("timeout_seconds", settings.timeout_seconds),
            duplicate_probability=changes.get(
                "duplicate_probability", settings.duplicate_probability
            ),
        )
        self.webhooks.settings = merged
        if "url" in changes:
            url = changes["url"]
            if url is not None and not isinstance(url, str):
                raise ValueError("webhook url must be a string or null")
            self.store.default_webhook_url = url
        return self.webhook_state()

    def webhook_state(self) -> dict[str, Any]:
        settings = self.webhooks.settings
        return {
            "url": self.store.default_webhook_url,
            "max_attempts": settings.max_attempts,
            "backoff_seconds": settings.backoff_seconds,
            "timeout_seconds": settings.timeout_seconds,
            "duplicate_probability": settings.duplicate_probability,
            "pending": self.webhooks.pending,
            "deliveries": [d.to_json() for d in self.webhooks.deliveries],
        }

    def twilio_params(self, overrides: Mapping[str, str]) -> dict[str, str]:
        ids = self.store.ids
        params = {
            "CallSid": "CA" + ids.token(16),
            "AccountSid": "AC" + ids.token(16),
            "From": "+15555550100",
            "To": "+15555551234",
            "CallStatus": "ringing",
            "Direction": "inbound",
            "ApiVersion": "2010-04-01",
        }
        params.update({str(k): str(v) for k, v in overrides.items()})
        return params

    def info(self, base_url: str) -> dict[str, Any]:
        return {
            "base_url": base_url,
            "seed": self.seed,
            "tenant_id": self.tenant_id,
            "runtime_key": self.runtime_key,
            "admin_key": self.admin_key,
            "webhook_secret": self.webhook_secret,
            "twilio_auth_token": self.twilio_auth_token,
            "step_seconds": self.store.step_seconds,
            "auto_advance": self.clock.auto,
            "clock": self.clock.now(),
            "contracts_dir": str(self.contracts.directory),
            "rate_limit": {
                "limit": self.limiter.capacity,
                "refill_per_second": self.limiter.refill_per_second,
            },
            "limits": dataclasses.asdict(self.limits),
            "tables": self.table_sizes(),
        }

    def table_sizes(self) -> dict[str, int]:
        """How many entries each table that requests can grow holds now (each is bounded)."""
        return {
            "rate_limit_buckets": self.limiter.size,
            "idempotency_records": self.idempotency.size,
            "idempotency_creations": sum(
                len(counts) for counts in self.idempotency.all_creations().values()
            ),
            "access_requests": len(self.store.access_requests),
            "request_log": len(self.request_log),
        }
