"""What a sandbox holds at most and waits for at most: the bounds against a hostile client.

The sandbox listens on loopback without asking most callers for anything: ``access-requests``
needs no key, a bad key still gets an answer, and every peer gets a rate-limit bucket. So each
table that a request can grow has a size bound and, where the API defines one, an expiry, and
each read from the network has a deadline. The defaults are generous for tests, demos and
chaos runs and small enough that a client sending junk in a loop cannot make the process grow
without end; ``Sandbox(limits=SandboxLimits(...))`` changes them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

from ._constants import IDEMPOTENCY_TTL_SECONDS, REQUEST_LOG_SIZE


@dataclass(frozen=True, slots=True, kw_only=True)
class SandboxLimits:
    """Size bounds, expiries and read deadlines of one sandbox (every value must be positive).

    Example::

        Sandbox(limits=SandboxLimits(header_timeout_seconds=2.0, max_rate_limit_buckets=100))
    """

    header_timeout_seconds: float = 10.0
    """A connection must send a request's complete headers within this time of opening, or of
    the previous response; otherwise it is closed. It also closes an idle keep-alive
    connection."""
    body_timeout_seconds: float = 10.0
    """A request body must arrive in full within this time of its headers (else 408)."""
    max_body_bytes: int = 4 * 1024 * 1024
    """Largest request body an authenticated operation or control endpoint reads (else 413)."""
    max_anonymous_body_bytes: int = 64 * 1024
    """Largest request body an operation without credentials reads (``access-requests``)."""
    max_json_depth: int = 64
    """Deepest nesting of arrays and objects a JSON body may have (else 400)."""
    max_rate_limit_buckets: int = 10_000
    """Token buckets kept at once; past it, new peers share one overflow bucket."""
    max_idempotency_keys: int = 20_000
    """Recorded ``Idempotency-Key`` answers per credential; the oldest is forgotten first."""
    max_anonymous_idempotency_keys: int = 1_000
    """The same, for the operations that need no credential (one shared scope)."""
    idempotency_ttl_seconds: float = IDEMPOTENCY_TTL_SECONDS
    """How long a recorded answer is replayed (the contract's 24 hours, sandbox clock)."""
    max_access_requests: int = 1_000
    """Access requests kept; the oldest is dropped first."""
    access_request_ttl_seconds: float = 24 * 3600.0
    """How long an access request is kept (sandbox clock)."""
    max_request_log: int = REQUEST_LOG_SIZE
    """Entries of the request log (``requests()``, ``GET /_sandbox/requests``)."""
    max_logged_chars: int = 512
    """Longest path, query value or header value copied into a log line or log entry."""

    def __post_init__(self) -> None:
        for spec in fields(self):
            value = getattr(self, spec.name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise TypeError(f"SandboxLimits.{spec.name} must be a number")
            if not math.isfinite(value) or value <= 0:
                raise ValueError(f"SandboxLimits.{spec.name} must be a positive finite number")
            if spec.type == "int" and not isinstance(value, int):
                raise TypeError(f"SandboxLimits.{spec.name} must be an integer")
