"""Every default of the package, in one place.

Each value is documented in ``docs/configuration.md`` and ``docs/reliability.md``; change them
there too. Options are overridable per client and per call; nothing reads these at import time
except as defaults.
"""

from __future__ import annotations

from typing import Final

#: Production base URL; ``STATESET_VOICE_BASE_URL`` overrides it.
DEFAULT_BASE_URL: Final = "https://voice.stateset.app"

# Environment variables, each read first under its name and then under any legacy names.
ENV_API_KEY: Final = "STATESET_VOICE_API_KEY"
ENV_ADMIN_KEY: Final = "STATESET_VOICE_ADMIN_API_KEY"
ENV_BASE_URL: Final = "STATESET_VOICE_BASE_URL"
ENV_WEBHOOK_SECRET: Final = "STATESET_VOICE_WEBHOOK_SECRET"  # noqa: S105 - a variable name
#: ``1``/``true``/``on``: OpenTelemetry spans and metrics on (needs the ``[otel]`` extra).
ENV_TELEMETRY: Final = "STATESET_VOICE_TELEMETRY"
#: ``debug``/``info``/``warning``/``error``: a stderr handler on the ``stateset_voice`` logger.
ENV_LOG: Final = "STATESET_VOICE_LOG"
#: Older names that still work (read after the current one); they go at 1.0.
LEGACY_ENV: Final = {
    ENV_ADMIN_KEY: ("STATESET_ADMIN_API_KEY",),
    ENV_WEBHOOK_SECRET: ("STATESET_WEBHOOK_SECRET",),
}


def env_names(name: str) -> tuple[str, ...]:
    """``name`` followed by its legacy spellings, in the order they are read."""
    return (name, *LEGACY_ENV.get(name, ()))


# Timeouts, seconds. Connect 5 s and read 20 s as the StateSet docs recommend.
DEFAULT_CONNECT_TIMEOUT: Final = 5.0
DEFAULT_READ_TIMEOUT: Final = 20.0
DEFAULT_WRITE_TIMEOUT: Final = 20.0
DEFAULT_POOL_TIMEOUT: Final = 5.0

# Connection pool of the inner transports ReliableTransport creates: httpx's own defaults.
# Size max_connections to the concurrency you run; a request waiting for a free connection
# waits up to the pool timeout, and a pool timeout costs no retry budget (see reliability.md).
DEFAULT_MAX_CONNECTIONS: Final = 100
DEFAULT_MAX_KEEPALIVE_CONNECTIONS: Final = 20

#: How far past the deadline a request may end, seconds: the time to notice the deadline, close
#: the connection and build the error (typically 1-5 ms; the rest is headroom for a busy event
#: loop). The adversarial suite holds it on the wall clock (docs/reliability.md, Deadline).
DEADLINE_MARGIN: Final = 0.1

#: A one-shot request body (a generator, a file) up to this size is buffered before the first
#: attempt so that it can be sent again; a larger one is sent once and never retried.
MAX_BUFFERED_REQUEST_BODY: Final = 1024 * 1024

#: Largest response body accepted, raw and after Content-Encoding is undone: a larger (or a
#: decompression bomb) ends the request with a typed error instead of exhausting memory.
MAX_RESPONSE_BODY: Final = 16 * 1024 * 1024

#: Writes are cut into pieces of at most this many bytes, each bounded by the time left.
WRITE_PIECE: Final = 4096

#: Total time budget of one logical call across every attempt and backoff, seconds.
DEFAULT_DEADLINE: Final = 60.0

#: Retries after the first attempt (so 3 attempts in all).
DEFAULT_MAX_RETRIES: Final = 2

# Exponential backoff with full jitter: sleep uniform(0, min(cap, base * 2**retry)).
DEFAULT_BACKOFF_BASE: Final = 0.5
DEFAULT_BACKOFF_CAP: Final = 8.0

#: Upper bound on a server-requested wait when a call has no deadline, seconds.
MAX_RETRY_AFTER: Final = 120.0

# Process-wide retry budget (token bucket), the same costs as botocore's standard mode.
DEFAULT_BUDGET_CAPACITY: Final = 500.0
DEFAULT_BUDGET_RETRY_COST: Final = 5.0
DEFAULT_BUDGET_TIMEOUT_COST: Final = 10.0
DEFAULT_BUDGET_SUCCESS_REFUND: Final = 1.0
#: A retry after a pool timeout (no free connection in this process's own pool) is local
#: congestion, not a server failure: it spends nothing from the shared budget.
DEFAULT_BUDGET_POOL_TIMEOUT_COST: Final = 0.0

#: Statuses retried, for idempotent requests only.
RETRYABLE_STATUSES: Final = frozenset({408, 429, 500, 502, 503, 504})

#: Methods that are idempotent by definition (RFC 9110 section 9.2.2).
IDEMPOTENT_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})

# Header names.
HEADER_REQUEST_ID: Final = "X-Request-Id"
HEADER_ATTEMPT: Final = "X-Request-Attempt"
HEADER_IDEMPOTENCY_KEY: Final = "Idempotency-Key"
HEADER_SERVER_REQUEST_ID: Final = "x-request-id"
HEADER_REPLAYED: Final = "Idempotent-Replayed"

# The calling window's default local hours (docs/calling-hours.md): the US federal hours for
# telephone solicitation, 08:00 to 21:00 (the end exclusive), every day.
DEFAULT_CALLING_START: Final = "08:00"
DEFAULT_CALLING_END: Final = "21:00"

#: Page size used by the lazy ``list()`` iterators.
DEFAULT_ITER_PAGE_SIZE: Final = 100

#: Largest error body kept on an APIStatusError, bytes.
MAX_ERROR_BODY: Final = 8192

#: Name of the stdlib logger.
LOGGER_NAME: Final = "stateset_voice"
