"""Shared machinery of the adversarial suite: run one logical request four ways and check the
invariants the reliability layer promises (docs/reliability.md, "Invariants").

:func:`run_one` sends one ``calls.create`` (``op="create"``) or ``call_logs.get``
(``op="get"``) to a :class:`~faultserver.FaultServer`, sync or async, through the raw
:class:`ReliableTransport` under an ``httpx.Client`` or through the typed clients
(``VoiceClient`` / ``AsyncVoiceClient``), with the logs of ``stateset_voice``, ``httpx`` and
``httpcore`` captured at DEBUG and every ``on_retry`` event kept. :func:`check_invariants`
then checks what must hold whatever the server did.

Backoff sleeps are recorded, not slept (the injected ``sleep``/``async_sleep``); the deadline
runs on the real clock, because what it bounds is wall-clock time.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx

from stateset_voice_wrapper import (
    APIStatusError,
    AsyncVoiceClient,
    ReliabilityConfig,
    ReliableTransport,
    RetryBudget,
    RetryEvent,
    StateSetVoiceError,
    VoiceClient,
)
from stateset_voice_wrapper._shared.defaults import DEADLINE_MARGIN

if TYPE_CHECKING:
    from tests.faultserver import FaultServer
else:
    from faultserver import FaultServer

__all__ = [
    "API_KEY",
    "FROM",
    "MODES",
    "TO",
    "Outcome",
    "check_invariants",
    "open_fds",
    "run_one",
    "send_via",
]

#: A recognisable secret: it must never show up in any text the client produces.
API_KEY = "sk_live_ADVERSARIAL0secret0key0XYZ"
TO = "+15555550123"
FROM = "+15555559876"
#: What of those may never be shown (the numbers also without their +).
SECRETS = (API_KEY, "ADVERSARIAL0secret", TO, FROM, TO[1:], FROM[1:], "5555550123", "5555559876")
MODES = [(flavour, via) for flavour in ("sync", "async") for via in ("raw", "typed")]
#: Scheduling noise on a busy 2-core machine, on top of the documented margin.
SLACK = 0.15
LOGGERS = ("stateset_voice", "httpx", "httpcore")


def open_fds() -> int:
    """Open file descriptors of this process."""
    return len(os.listdir("/proc/self/fd"))


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@dataclass
class Outcome:
    """What one logical request did."""

    flavour: str
    via: str
    op: str
    key: str | None
    result: Any = None
    error: BaseException | None = None
    elapsed: float = 0.0
    logs: list[str] = field(default_factory=list)
    events: list[RetryEvent] = field(default_factory=list)
    sleeps: list[float] = field(default_factory=list)
    busy_connections: int = 0


class _Logs:
    def __init__(self) -> None:
        self.handler = _Capture()
        self.saved: list[tuple[logging.Logger, int, bool]] = []

    def __enter__(self) -> _Capture:
        for name in LOGGERS:
            log = logging.getLogger(name)
            self.saved.append((log, log.level, log.propagate))
            log.setLevel(logging.DEBUG)
            log.addHandler(self.handler)
        return self.handler

    def __exit__(self, *exc: object) -> None:
        for log, level, _ in self.saved:
            log.removeHandler(self.handler)
            log.setLevel(level)


def _pool_busy(transport: object) -> int:
    """Connections of an httpx transport's pool still serving a request (0 when all idle)."""
    pool = getattr(transport, "_pool", None)
    connections = getattr(pool, "connections", [])
    requests = getattr(pool, "_requests", [])
    busy = sum(1 for c in connections if not (c.is_idle() or c.is_closed()))
    return busy + len(requests)


def _config(deadline: float | None, max_retries: int, out: Outcome) -> ReliabilityConfig:
    def sleep(seconds: float) -> None:
        out.sleeps.append(seconds)

    async def async_sleep(seconds: float) -> None:
        out.sleeps.append(seconds)

    return ReliabilityConfig(
        deadline=deadline,
        max_retries=max_retries,
        budget=RetryBudget(),
        on_retry=out.events.append,
        sleep=sleep,
        async_sleep=async_sleep,
        random=lambda: 0.5,
        timeout=httpx.Timeout(5.0),
    )


def _json(response: httpx.Response) -> Any:
    """The body as JSON, or the raw bytes: through the raw transport a 2xx body is the
    caller's to judge (the typed clients judge it against the contract)."""
    try:
        return response.json()
    except ValueError:
        return response.content


def _raw_request(server: FaultServer, op: str, key: str | None) -> httpx.Request:
    if op == "create":
        body = {"to": TO, "from": FROM, "agent_key": "front_desk"}
        headers = {"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"}
        if key is not None:
            headers["Idempotency-Key"] = key
        return httpx.Request(
            "POST", server.url + "/api/v1/make-call", headers=headers, content=json.dumps(body)
        )
    return httpx.Request(
        "GET",
        server.url + "/api/v1/call-logs/call_000001",
        headers={"Authorization": f"Bearer {API_KEY}"},
    )


def run_one(
    server: FaultServer,
    *,
    flavour: str,
    via: str,
    op: str = "create",
    key: str | None = "order-1",
    deadline: float | None = 0.5,
    max_retries: int = 2,
) -> Outcome:
    """Send one logical request and record everything about how it ended."""
    out = Outcome(flavour=flavour, via=via, op=op, key=key)
    config = _config(deadline, max_retries, out)
    with _Logs() as logs:
        if flavour == "sync":
            _run_sync(server, config, out)
        else:
            asyncio.run(_run_async(server, config, out))
    out.logs = logs.messages
    return out


def _run_sync(server: FaultServer, config: ReliabilityConfig, out: Outcome) -> None:
    inner = httpx.HTTPTransport()
    started = time.monotonic()
    try:
        if out.via == "raw":
            transport = ReliableTransport(config=config, transport=inner)
            # No client timeout, as the generated clients: the transport's settings rule.
            with httpx.Client(transport=transport, timeout=None) as client:  # noqa: S113
                try:
                    out.result = _json(client.send(_raw_request(server, out.op, out.key)))
                except Exception as exc:
                    out.error = exc
                finally:
                    out.elapsed = time.monotonic() - started
                    out.busy_connections = _pool_busy(inner)
            return
        with VoiceClient(
            API_KEY, base_url=server.url, reliability=config, transport=inner
        ) as voice:
            try:
                if out.op == "create":
                    out.result = voice.calls.create(
                        to=TO, from_=FROM, agent_key="front_desk", idempotency_key=out.key
                    )
                else:
                    out.result = voice.call_logs.get("call_000001")
            except Exception as exc:
                out.error = exc
            finally:
                out.elapsed = time.monotonic() - started
                out.busy_connections = _pool_busy(inner)
    finally:
        inner.close()


async def _run_async(server: FaultServer, config: ReliabilityConfig, out: Outcome) -> None:
    inner = httpx.AsyncHTTPTransport()
    started = time.monotonic()
    try:
        if out.via == "raw":
            transport = ReliableTransport(config=config, async_transport=inner)
            # No client timeout, as the generated clients: the transport's settings rule.
            async with httpx.AsyncClient(transport=transport, timeout=None) as client:  # noqa: S113
                try:
                    response = await client.send(_raw_request(server, out.op, out.key))
                    out.result = _json(response)
                except Exception as exc:
                    out.error = exc
                finally:
                    out.elapsed = time.monotonic() - started
                    out.busy_connections = _pool_busy(inner)
            return
        async with AsyncVoiceClient(
            API_KEY, base_url=server.url, reliability=config, transport=inner
        ) as voice:
            try:
                if out.op == "create":
                    out.result = await voice.calls.create(
                        to=TO, from_=FROM, agent_key="front_desk", idempotency_key=out.key
                    )
                else:
                    out.result = await voice.call_logs.get("call_000001")
            except Exception as exc:
                out.error = exc
            finally:
                out.elapsed = time.monotonic() - started
                out.busy_connections = _pool_busy(inner)
    finally:
        await inner.aclose()


def send_via(
    flavour: str,
    transport: ReliableTransport,
    method: str,
    url: str,
    *,
    content: Any = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """One request through a fresh ``httpx.Client`` or ``httpx.AsyncClient`` (in its own event
    loop) over ``transport``; the response is read."""
    if flavour == "sync":
        with httpx.Client(transport=transport) as client:
            return client.request(method, url, content=content, headers=headers)

    async def send() -> httpx.Response:
        async with httpx.AsyncClient(transport=transport) as client:
            return await client.request(method, url, content=content, headers=headers)

    return asyncio.run(send())


def _texts(out: Outcome) -> Iterator[str]:
    if out.error is not None:
        yield str(out.error)
        yield repr(out.error)
        if isinstance(out.error, StateSetVoiceError):
            yield out.error.message
            yield str(out.error.path)
            for attempt in out.error.attempts:
                yield repr(attempt)
            if isinstance(out.error, APIStatusError):
                yield from (repr(fe) for fe in out.error.field_errors)
    yield from out.logs
    yield from (repr(event) for event in out.events)


def check_invariants(out: Outcome, server: FaultServer, *, deadline: float | None) -> None:
    """Everything that must hold after one logical request, whatever the server did."""
    where = f"{out.flavour}/{out.via}/{out.op}"
    # The deadline, plus the documented margin, is never exceeded on the wall clock.
    if deadline is not None:
        assert out.elapsed <= deadline + DEADLINE_MARGIN + SLACK, (
            f"{where}: took {out.elapsed:.3f}s for a {deadline}s deadline"
        )
    requests = server.requests
    # Every attempt carried the same identity.
    assert len({r.header("X-Request-Id") for r in requests}) <= 1, where
    if out.op == "create":
        keys = {r.header("Idempotency-Key") for r in requests}
        assert len(keys) <= 1, f"{where}: keys {keys}"
        assert None not in keys, f"{where}: an attempt went without an Idempotency-Key"
        # One call per key, whatever was retried.
        assert all(n <= 1 for n in server.app.creations.values()), server.app.creations
    committed = sum(server.app.creations.values()) if out.op == "create" else 0
    if out.error is None and out.op == "create":
        if out.via == "typed":
            call_id = out.result.call_id
        elif isinstance(out.result, dict) and isinstance(out.result.get("call_id"), str):
            call_id = out.result["call_id"]
        else:
            call_id = None  # a 2xx that is not a call: the raw transport passes it on
        if call_id is not None:
            assert committed == 1, f"{where}: returned {call_id} but the server made {committed}"
    if out.error is not None:
        error = out.error
        assert isinstance(error, StateSetVoiceError), f"{where}: untyped {error!r}"
        assert error.client_request_id, where
        if requests:
            assert error.client_request_id == requests[0].header("X-Request-Id"), where
        # A typed client's input errors aside, every failure records its attempts.
        assert error.attempts, f"{where}: {error!r} carries no attempts"
        if out.op == "create":
            assert error.idempotency_key is not None, where
            if requests:
                assert error.idempotency_key == requests[0].header("Idempotency-Key"), where
            # Nothing lost: a call the server made is never reported as not placed.
            if committed:
                assert error.may_have_reached_server, f"{where}: {error!r} hides a placed call"
    # Nothing leaked, anywhere the client writes text.
    for text in _texts(out):
        for secret in SECRETS:
            assert secret not in text, f"{where}: {secret!r} leaked into {text[:300]!r}"
    # No connection left serving the finished request.
    assert out.busy_connections == 0, f"{where}: {out.busy_connections} connection(s) left busy"
