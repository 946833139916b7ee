"""Every default of the sandbox, in one place (each is documented in ``docs/sandbox.md``)."""

from __future__ import annotations

from typing import Any, Final

DEFAULT_HOST: Final = "127.0.0.1"
"""Interface the sandbox binds; anything but loopback needs ``allow_remote=True``."""

DEFAULT_CLI_PORT: Final = 4010
"""Port of ``stateset-voice sandbox`` (the Python API defaults to port 0: any free port)."""

DEFAULT_STEP_SECONDS: Final = 0.2
"""Sandbox-clock time between two transitions of a call (queued -> ringing -> ...)."""

DEFAULT_RATE_LIMIT: Final = 600
"""Token-bucket capacity per credential: the burst a credential may send."""

DEFAULT_RATE_REFILL_PER_SECOND: Final = 100.0
"""Tokens added back per second of real time, per credential."""

DEFAULT_RETRY_AFTER_SECONDS: Final = 1
"""``Retry-After`` of injected 429 and 503 faults unless a rule says otherwise."""

DEFAULT_WEBHOOK_MAX_ATTEMPTS: Final = 5
"""Delivery attempts per event (the first one included) before it is given up."""

DEFAULT_WEBHOOK_BACKOFF_SECONDS: Final = 0.5
"""Wait before the second attempt; doubled before each later one."""

DEFAULT_WEBHOOK_TIMEOUT_SECONDS: Final = 10.0
"""An attempt not answered within this time counts as failed (the contract's 10 s)."""

DEFAULT_WEBHOOK_DUPLICATE_PROBABILITY: Final = 0.05
"""Chance that an acknowledged event is delivered once more (at-least-once delivery)."""

WEBHOOK_API_VERSION: Final = "2026-11-01"
"""``api_version`` of every event the sandbox emits (the contract's example value)."""

IDEMPOTENCY_TTL_SECONDS: Final = 24 * 3600
"""How long the first response for an ``Idempotency-Key`` is kept (the contract's 24 h)."""

REQUEST_LOG_SIZE: Final = 10_000
"""How many requests ``requests()`` / ``GET /_sandbox/requests`` remember."""

DEFAULT_TENANT_ID: Final = "ten_sandbox"
"""Tenant the runtime key belongs to."""

PROCESS_ENV_CONTRACTS_DIR: Final = "STATESET_VOICE_CONTRACTS_DIR"
"""Environment variable naming the directory that holds the pinned contracts."""

TEST_DEFAULTS: Final[dict[str, Any]] = {
    "seed": 0,
    "auto_advance": False,
    "webhook_duplicate_probability": 0.0,
    "webhook_backoff_seconds": 0.01,
}
"""Options of the pytest fixtures' sandboxes: deterministic, manual clock, fast retries."""
