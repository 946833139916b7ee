"""Outbound traffic: signed webhook deliveries, and Twilio-signed inbound-call posts.

Deliveries go out one at a time, in the order the events happened, from one worker task. Each
attempt is signed afresh (``StateSet-Signature: t=<now>,v1=<hmac>``, one ``v1`` per secret) over
the same body bytes. A non-2xx answer, an error or a timeout is retried after
``backoff * 2**(attempt-1)`` seconds, up to ``max_attempts`` attempts. An acknowledged event is
sent once more with probability ``duplicate_probability`` (drawn from the seeded webhook stream),
as at-least-once delivery allows; the duplicate carries the next attempt number.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import aiohttp

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


class WebhookDispatcher:
    """Queue and worker that deliver events to their endpoints."""

    def __init__(
        self, *, secrets: Sequence[str], rng: random.Random, settings: WebhookSettings
    ) -> None:
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
            async with self._session.post(
                url,
                data=body,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=self.settings.timeout_seconds),
            ) as response:
                await response.read()
                status = response.status
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
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
        """POST a form-encoded Twilio voice webhook to ``url``, signed like Twilio signs it."""
        assert self._session is not None
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
