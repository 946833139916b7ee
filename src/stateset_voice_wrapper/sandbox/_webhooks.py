"""Outbound traffic: signed webhook deliveries, and Twilio-signed inbound-call posts.

Deliveries go out one at a time, in the order the events happened, from one worker task. Each
attempt is signed afresh (``StateSet-Signature: t=<now>,v1=<hmac>``, one ``v1`` per secret) over
the same body bytes. A non-2xx answer, an error or a timeout is retried after
``backoff * 2**(attempt-1)`` seconds, up to ``max_attempts`` attempts. An acknowledged event is
sent once more with probability ``duplicate_probability`` (drawn from the seeded webhook stream),
as at-least-once delivery allows; the duplicate carries the next attempt number.

Outbound requests go to loopback only (``127.0.0.0/8``, ``::1``, ``localhost``) unless the
sandbox was started with ``allow_remote_webhooks=True``: a URL is data that any admin-key
holder, or a test generating ``format: uri`` values, can set, and the sandbox needs no network.
A delivery to another host is recorded as a failed attempt without a connection being made.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import math
import random
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import aiohttp
from yarl import URL

from .. import StateSetVoiceError
from ..webhooks import compute_twilio_signature, stateset_signature_header
from ._util import dumps


@dataclass(slots=True, kw_only=True)
class WebhookSettings:
    """How deliveries are retried and duplicated (changeable at runtime)."""

    max_attempts: int
    backoff_seconds: float
    timeout_seconds: float
    duplicate_probability: float

    def __post_init__(self) -> None:
        if isinstance(self.max_attempts, bool) or not isinstance(self.max_attempts, int):
            raise TypeError("webhook max_attempts must be an integer")
        for name in ("backoff_seconds", "timeout_seconds", "duplicate_probability"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise TypeError(f"webhook {name} must be a number")
            if not math.isfinite(value):
                raise ValueError(f"webhook {name} must be a finite number")
        if self.max_attempts < 1:
            raise ValueError("webhook max_attempts must be at least 1")
        if self.backoff_seconds < 0 or self.timeout_seconds <= 0:
            raise ValueError("webhook backoff must be >= 0 and timeout > 0")
        if not 0.0 <= self.duplicate_probability <= 1.0:
            raise ValueError("webhook duplicate_probability must be between 0 and 1")


@dataclass(frozen=True, slots=True)
class DeliveryRecord:
    """One HTTP attempt to deliver one event."""

    event_id: str
    event_type: str
    url: str
    attempt: int
    status: int | None
    """HTTP status of the answer; None when there was none (``error`` says why)."""
    error: str | None
    duplicate: bool
    signature: str
    sent_at: float

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class RemoteDestinationError(StateSetVoiceError, ValueError):
    """An outbound request to a host off this machine, which the sandbox was not allowed."""


def is_loopback_url(url: str) -> bool:
    """Whether ``url`` names a loopback host (an IP literal in 127/8 or ::1, or localhost)."""
    try:
        host = URL(url).host
    except (ValueError, TypeError):
        return False
    if not host:
        return False
    host = host.rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class WebhookDispatcher:
    """Queue and worker that deliver events to their endpoints."""

    def __init__(
        self,
        *,
        secrets: Sequence[str],
        rng: random.Random,
        settings: WebhookSettings,
        allow_remote: bool = False,
    ) -> None:
        self.allow_remote = allow_remote
        self.secrets = list(secrets)
        self.settings = settings
        self._rng = rng
        self.deliveries: list[DeliveryRecord] = []
        self._queue: asyncio.Queue[tuple[dict[str, Any], str]] = asyncio.Queue()
        self._session: aiohttp.ClientSession | None = None
        self._worker: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._session = aiohttp.ClientSession()
        self._worker = asyncio.create_task(self._run(), name="sandbox-webhooks")

    async def close(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
        if self._session is not None:
            await self._session.close()

    def check_destination(self, url: str) -> None:
        """Raise :class:`RemoteDestinationError` unless ``url`` may be requested."""
        if not self.allow_remote and not is_loopback_url(url):
            raise RemoteDestinationError(
                "not a loopback host; start the sandbox with allow_remote_webhooks=True "
                "(--allow-remote-webhooks) to send requests off this machine"
            )

    def enqueue(self, event: dict[str, Any], url: str) -> None:
        self._queue.put_nowait((event, url))

    async def flush(self, timeout: float) -> bool:
        """Wait until every queued event is delivered or given up; False on timeout."""
        try:
            await asyncio.wait_for(self._queue.join(), timeout)
        except TimeoutError:
            return False
        return True

    @property
    def pending(self) -> int:
        return self._queue.qsize()

    async def _run(self) -> None:
        while True:
            event, url = await self._queue.get()
            try:
                await self._deliver(event, url)
            finally:
                self._queue.task_done()

    async def _deliver(self, event: dict[str, Any], url: str) -> None:
        body = dumps(event)
        settings = self.settings
        for attempt in range(1, settings.max_attempts + 1):
            if await self._attempt(event, url, body, attempt, duplicate=False):
                if self._rng.random() < settings.duplicate_probability:
                    await self._attempt(event, url, body, attempt + 1, duplicate=True)
                return
            if attempt < settings.max_attempts:
                await asyncio.sleep(settings.backoff_seconds * 2 ** (attempt - 1))

    async def _attempt(
        self, event: dict[str, Any], url: str, body: bytes, attempt: int, *, duplicate: bool
    ) -> bool:
        assert self._session is not None
        timestamp = int(time.time())
        signature = stateset_signature_header(body, secrets=self.secrets, timestamp=timestamp)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "StateSet-Voice-Sandbox/1",
            "StateSet-Event-Id": event["id"],
            "StateSet-Event-Type": event["type"],
            "StateSet-Delivery-Attempt": str(attempt),
            "StateSet-Signature": signature,
        }
        status: int | None = None
        error: str | None = None
        try:
            self.check_destination(url)
            async with self._session.post(
                url,
                data=body,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=self.settings.timeout_seconds),
            ) as response:
                await response.read()
                status = response.status
        except (aiohttp.ClientError, TimeoutError, OSError, RemoteDestinationError) as exc:
            error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        self.deliveries.append(
            DeliveryRecord(
                event_id=event["id"],
                event_type=event["type"],
                url=url,
                attempt=attempt,
                status=status,
                error=error,
                duplicate=duplicate,
                signature=signature,
                sent_at=time.time(),
            )
        )
        return status is not None and 200 <= status < 300

    async def post_twilio_inbound(
        self,
        url: str,
        *,
        auth_token: str,
        params: Mapping[str, str],
        valid_signature: bool = True,
    ) -> dict[str, Any]:
        """POST a form-encoded Twilio voice webhook to ``url``, signed like Twilio signs it.

        Raises:
            RemoteDestinationError: ``url`` is off this machine and remote requests are off.
        """
        assert self._session is not None
        self.check_destination(url)
        token = auth_token if valid_signature else auth_token + "-wrong"
        signature = compute_twilio_signature(auth_token=token, url=url, params=dict(params))
        async with self._session.post(
            url,
            data=dict(params),
            headers={"X-Twilio-Signature": signature, "User-Agent": "TwilioProxy/1.1"},
            timeout=aiohttp.ClientTimeout(total=self.settings.timeout_seconds),
        ) as response:
            text = await response.text()
            return {
                "url": url,
                "status": response.status,
                "headers": dict(response.headers),
                "body": text,
                "params": dict(params),
                "signature": signature,
            }
