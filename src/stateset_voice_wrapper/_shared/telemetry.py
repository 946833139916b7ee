"""The OpenTelemetry switch, and the instruments every room records into.

Telemetry is off unless it is asked for: :func:`configure_telemetry` (process-wide),
``STATESET_VOICE_TELEMETRY=1`` (read on first use), or ``ReliabilityConfig(telemetry=True)``
(one client). Off, nothing of OpenTelemetry is imported and each hook costs an attribute read.
On, it uses ``opentelemetry-api`` only (the ``[otel]`` extra): the application's providers, or
the global ones, which are no-ops until an SDK is set up. See ``docs/observability.md``.

The reliability layer records the HTTP spans and metrics (``_reliability/telemetry.py``); the
ledger, the webhook verifiers and the consumer count their outcomes through :func:`add`.
No value recorded here is a phone number, a key or a secret: callers pass contract names,
status codes, verdicts and hashes, and ``tests/test_telemetry_*.py`` read every exported
attribute to hold that.
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Any, Final

from .defaults import ENV_TELEMETRY, LOGGER_NAME
from .errors import ConfigurationError

__all__ = [
    "METRICS",
    "Instruments",
    "add",
    "configure_telemetry",
    "instruments",
    "otel_installed",
    "telemetry_enabled",
]

#: The instrumentation scope: the name tracers and meters are obtained under.
SCOPE: Final = "stateset_voice"

#: Every metric: name -> (kind, unit, description). Histograms are in seconds.
METRICS: Final[dict[str, tuple[str, str, str]]] = {
    "http.client.request.duration": (
        "histogram",
        "s",
        "Duration of each HTTP attempt (OpenTelemetry HTTP semantic conventions).",
    ),
    "stateset_voice.client.operation.duration": (
        "histogram",
        "s",
        "Duration of each logical request, across its attempts and backoff sleeps.",
    ),
    "stateset_voice.client.retries": ("counter", "{retry}", "Retries scheduled, by reason."),
    "stateset_voice.client.retry_budget.exhausted": (
        "counter",
        "{request}",
        "Logical requests that failed fast because the retry budget was empty.",
    ),
    "stateset_voice.client.deadline.exceeded": (
        "counter",
        "{request}",
        "Logical requests ended by their deadline.",
    ),
    "stateset_voice.ledger.replays": (
        "counter",
        "{call}",
        "calls.create answered from the idempotency ledger without a request.",
    ),
    "stateset_voice.ledger.duplicates_suppressed": (
        "counter",
        "{call}",
        "calls.create refused by the ledger because the same key was in flight or conflicted.",
    ),
    "stateset_voice.webhook.verifications": (
        "counter",
        "{request}",
        "Webhook signature checks, by source and verdict.",
    ),
    "stateset_voice.webhook.deliveries": (
        "counter",
        "{delivery}",
        "Webhook deliveries seen by ExactlyOnceConsumer, by status and event type.",
    ),
    "stateset_voice.call.outcomes": (
        "counter",
        "{call}",
        "Calls that reached a final status, by that status (from the contract's CallStatus).",
    ),
}

#: Bucket boundaries for the duration histograms: the HTTP semantic conventions' advice.
DURATION_BUCKETS: Final = (
    0.005,
    0.01,
    0.025,
    0.05,
    0.075,
    0.1,
    0.25,
    0.5,
    0.75,
    1,
    2.5,
    5,
    7.5,
    10,
)

_log = logging.getLogger(LOGGER_NAME)


class Instruments:
    """A tracer, a meter and one instrument per :data:`METRICS` entry."""

    def __init__(self, tracer_provider: Any, meter_provider: Any) -> None:
        from opentelemetry import metrics, trace

        version = _distribution_version()
        self.tracer = trace.get_tracer(SCOPE, version, tracer_provider=tracer_provider)
        meter = metrics.get_meter(SCOPE, version or "", meter_provider=meter_provider)
        self.by_name: dict[str, Any] = {}
        for name, (kind, unit, description) in METRICS.items():
            if kind == "histogram":
                self.by_name[name] = meter.create_histogram(
                    name,
                    unit=unit,
                    description=description,
                    explicit_bucket_boundaries_advisory=DURATION_BUCKETS,
                )
            else:
                self.by_name[name] = meter.create_counter(name, unit=unit, description=description)
        self.attempt_duration = self.by_name["http.client.request.duration"]
        self.operation_duration = self.by_name["stateset_voice.client.operation.duration"]


def _distribution_version() -> str | None:
    """The installed package's version, for the instrumentation scope (read once, when
    telemetry starts; the floor imports nothing of the package, not even ``_version``)."""
    from importlib import metadata

    try:
        return metadata.version("stateset-voice")
    except metadata.PackageNotFoundError:
        return None


class _State:
    lock = threading.Lock()
    #: None until decided: by configure_telemetry(), else by the environment on first use.
    enabled: bool | None = None
    tracer_provider: Any = None
    meter_provider: Any = None
    instruments: Instruments | None = None


def otel_installed() -> bool:
    """Whether opentelemetry-api can be imported (without importing it)."""
    import importlib.util

    try:
        return importlib.util.find_spec("opentelemetry.trace") is not None
    except (ImportError, ValueError):
        return False


def configure_telemetry(
    *, enabled: bool = True, tracer_provider: Any = None, meter_provider: Any = None
) -> None:
    """Turn the SDK's OpenTelemetry spans and metrics on (or off) for this process.

    ``tracer_provider`` and ``meter_provider`` default to OpenTelemetry's global providers.
    Needs ``pip install stateset-voice[otel]``; without it, ``enabled=True`` raises
    :class:`ConfigurationError`. A client whose ``ReliabilityConfig(telemetry=...)`` is True
    or False follows its own setting instead.

    Example::

        from opentelemetry.sdk.trace import TracerProvider
        from stateset_voice_wrapper import configure_telemetry

        configure_telemetry(tracer_provider=TracerProvider())
    """
    if not isinstance(enabled, bool):
        raise ConfigurationError("enabled must be a bool")
    if enabled and not otel_installed():
        raise ConfigurationError(
            "telemetry needs opentelemetry-api: pip install 'stateset-voice[otel]'"
        )
    with _State.lock:
        _State.enabled = enabled
        _State.tracer_provider = tracer_provider
        _State.meter_provider = meter_provider
        _State.instruments = None


def _from_environment() -> bool:
    value = os.environ.get(ENV_TELEMETRY, "").strip().lower()
    wanted = value in ("1", "true", "yes", "on")
    if wanted and not otel_installed():
        _log.warning(
            "%s=%s but opentelemetry-api is not installed: telemetry stays off"
            " (pip install 'stateset-voice[otel]')",
            ENV_TELEMETRY,
            value,
        )
        return False
    return wanted


def telemetry_enabled() -> bool:
    """Whether telemetry is on for clients that do not decide for themselves."""
    enabled = _State.enabled
    if enabled is None:
        with _State.lock:
            if _State.enabled is None:
                _State.enabled = _from_environment()
            enabled = _State.enabled
    return enabled


def instruments(wanted: bool | None = None) -> Instruments | None:
    """The instruments to record into, or None when telemetry is off.

    ``wanted`` is a client's own setting (``ReliabilityConfig.telemetry``): True or False
    decides, None defers to the process setting.
    """
    if wanted is False:
        return None
    if wanted is None:
        enabled = _State.enabled  # read first: this runs on every request
        if enabled is False or (enabled is None and not telemetry_enabled()):
            return None
    found = _State.instruments
    if found is None:
        with _State.lock:
            found = _State.instruments
            if found is None:
                found = Instruments(_State.tracer_provider, _State.meter_provider)
                _State.instruments = found
    return found


def add(name: str, attributes: dict[str, str] | None = None, amount: int = 1) -> None:
    """Add to the counter ``name`` when telemetry is on for the process; otherwise nothing."""
    if _State.enabled is False:
        return
    found = instruments()
    if found is not None:
        found.by_name[name].add(amount, attributes)
