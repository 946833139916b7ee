"""Running a sandbox: the async server, and :class:`Sandbox`, which runs it on its own thread."""

from __future__ import annotations

import asyncio
import ipaddress
import os
import threading
from collections.abc import Coroutine, Mapping, Sequence
from types import TracebackType
from typing import Any, Self, TypeVar

from aiohttp import web

from ._app import build_app
from ._constants import (
    DEFAULT_HOST,
    DEFAULT_RATE_LIMIT,
    DEFAULT_RATE_REFILL_PER_SECOND,
    DEFAULT_STEP_SECONDS,
    DEFAULT_WEBHOOK_BACKOFF_SECONDS,
    DEFAULT_WEBHOOK_DUPLICATE_PROBABILITY,
    DEFAULT_WEBHOOK_MAX_ATTEMPTS,
    DEFAULT_WEBHOOK_TIMEOUT_SECONDS,
)
from ._core import FaultSpec, SandboxConfig, SandboxCore
from ._limits import SandboxLimits
from ._requestlog import server_logger

_T = TypeVar("_T")
_CONTROL_TIMEOUT = 30.0


def check_bind_host(host: str, *, allow_remote: bool) -> None:
    """Refuse a non-loopback interface unless ``allow_remote`` says it is meant."""
    if allow_remote or host == "localhost":
        return
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ValueError(
            f"refusing to bind {host!r}: the sandbox prints its keys and has no real auth; "
            "bind a loopback address or pass allow_remote=True (--allow-remote)"
        )


class SandboxServer:
    """The sandbox's HTTP server on the current event loop."""

    def __init__(self, config: SandboxConfig) -> None:
        check_bind_host(config.host, allow_remote=config.allow_remote)
        self.config = config
        self.core = SandboxCore(config)
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def base_url(self) -> str:
        host = self.config.host
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{self.port}"

    async def start(self) -> None:
        await self.core.start()
        # aiohttp closes a connection that has not sent a complete request (its headers)
        # within keepalive_timeout of opening or of the last response, which makes it the
        # header read timeout; bodies have their own deadline (_bodies.read_body).
        runner = web.AppRunner(
            build_app(self.core),
            access_log=None,
            shutdown_timeout=0.5,
            keepalive_timeout=self.core.limits.header_timeout_seconds,
            logger=server_logger,
        )
        await runner.setup()
        try:
            site = web.TCPSite(runner, self.config.host, self.config.port, reuse_address=True)
            await site.start()
        except BaseException:
            await runner.cleanup()
            await self.core.close()
            raise
        self._runner = runner
        self.port = int(runner.addresses[0][1])

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        await self.core.close()


class Sandbox:
    """A local StateSet Voice API that behaves like the real one, for tests and demos.

    It serves every operation of both pinned contracts on loopback, with their auth, request
    validation, idempotency, rate limits, webhooks and on-demand faults. The server runs on a
    background thread with its own event loop; every method here is thread-safe.

    Example::

        with Sandbox(seed=7, auto_advance=False) as sandbox:
            headers = {"Authorization": f"Bearer {sandbox.runtime_key}", "Idempotency-Key": "k1"}
            body = {"to": "+15555550100", "from": "+15555551234", "agent_key": "front_desk"}
            call = httpx.post(sandbox.base_url + "/api/v1/make-call", json=body,
                              headers=headers).json()
            sandbox.advance(settle=True)  # queued -> ringing -> in-progress -> completed
            assert sandbox.creations_per_key() == {"k1": 1}

    Options (all keyword-only; defaults in ``_constants.py``): ``host``, ``port`` (0 = any free
    port), ``seed`` (fixes keys, identifiers, faults and duplicate deliveries),
    ``contracts_dir``, ``step_seconds`` (sandbox time between call transitions),
    ``auto_advance`` (False: only :meth:`advance` moves calls), ``rate_limit`` and
    ``rate_limit_refill_per_second`` (token bucket per credential), ``webhook_url`` and the
    ``webhook_*`` delivery settings, ``faults`` (rules active from the start), ``runtime_key`` /
    ``admin_key`` (fixed keys instead of generated ones), ``allow_remote`` (bind a non-loopback
    interface), ``allow_remote_webhooks`` (send webhooks and Twilio posts off this machine),
    ``limits`` (a :class:`SandboxLimits`: table bounds, expiries, read timeouts).
    """

    def __init__(
        self,
        *,
        host: str = DEFAULT_HOST,
        port: int = 0,
        seed: int | None = None,
        contracts_dir: str | os.PathLike[str] | None = None,
        step_seconds: float = DEFAULT_STEP_SECONDS,
        auto_advance: bool = True,
        rate_limit: int = DEFAULT_RATE_LIMIT,
        rate_limit_refill_per_second: float = DEFAULT_RATE_REFILL_PER_SECOND,
        webhook_url: str | None = None,
        webhook_max_attempts: int = DEFAULT_WEBHOOK_MAX_ATTEMPTS,
        webhook_backoff_seconds: float = DEFAULT_WEBHOOK_BACKOFF_SECONDS,
        webhook_timeout_seconds: float = DEFAULT_WEBHOOK_TIMEOUT_SECONDS,
        webhook_duplicate_probability: float = DEFAULT_WEBHOOK_DUPLICATE_PROBABILITY,
        faults: Sequence[FaultSpec] = (),
        runtime_key: str | None = None,
        admin_key: str | None = None,
        allow_remote: bool = False,
        allow_remote_webhooks: bool = False,
        limits: SandboxLimits | None = None,
    ) -> None:
        self.config = SandboxConfig(
            host=host,
            port=port,
            seed=seed,
            contracts_dir=contracts_dir,
            step_seconds=step_seconds,
            auto_advance=auto_advance,
            rate_limit=rate_limit,
            rate_limit_refill_per_second=rate_limit_refill_per_second,
            webhook_url=webhook_url,
            webhook_max_attempts=webhook_max_attempts,
            webhook_backoff_seconds=webhook_backoff_seconds,
            webhook_timeout_seconds=webhook_timeout_seconds,
            webhook_duplicate_probability=webhook_duplicate_probability,
            faults=tuple(faults),
            runtime_key=runtime_key,
            admin_key=admin_key,
            allow_remote=allow_remote,
            allow_remote_webhooks=allow_remote_webhooks,
            limits=limits or SandboxLimits(),
        )
        check_bind_host(host, allow_remote=allow_remote)
        self._server: SandboxServer | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> Self:
        """Start serving; returns once the port is listening."""
        if self._thread is not None:
            raise RuntimeError("this sandbox is already running")
        loop = asyncio.new_event_loop()
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                self._server = SandboxServer(self.config)
                loop.run_until_complete(self._server.start())
            except BaseException as exc:
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

        thread = threading.Thread(target=run, name="stateset-voice-sandbox", daemon=True)
        thread.start()
        ready.wait()
        if failure:
            thread.join()
            self._server = None
            raise failure[0]
        self._loop, self._thread = loop, thread
        return self

    def stop(self) -> None:
        """Stop serving and join the thread; nothing of the sandbox keeps running."""
        loop, thread, server = self._loop, self._thread, self._server
        if loop is None or thread is None or server is None:
            return
        try:
            asyncio.run_coroutine_threadsafe(server.stop(), loop).result(_CONTROL_TIMEOUT)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(_CONTROL_TIMEOUT)
            self._loop = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _run(self, coro: Coroutine[Any, Any, _T], timeout: float = _CONTROL_TIMEOUT) -> _T:
        if self._loop is None:
            coro.close()
            raise RuntimeError("the sandbox is not running: call start() or use `with`")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def _core(self) -> SandboxCore:
        if self._server is None:
            raise RuntimeError("the sandbox is not running: call start() or use `with`")
        return self._server.core

    # -- what a client needs -------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        if self._server is None:
            raise RuntimeError("the sandbox is not running: call start() or use `with`")
        return self._server.base_url

    @property
    def runtime_key(self) -> str:
        """Bearer token of the public operations (tenant :attr:`tenant_id`)."""
        return self._core().runtime_key

    @property
    def admin_key(self) -> str:
        """``x-admin-key`` of the admin operations and the ``/_sandbox`` control endpoints."""
        return self._core().admin_key

    @property
    def webhook_secret(self) -> str:
        """``whsec_...`` secret that signs every webhook delivery."""
        return self._core().webhook_secret

    @property
    def twilio_auth_token(self) -> str:
        """Auth token that ``X-Twilio-Signature`` on the inbound-call operation is keyed with."""
        return self._core().twilio_auth_token

    @property
    def tenant_id(self) -> str:
        return self._core().tenant_id

    @property
    def seed(self) -> int:
        """The seed in use (generated when none was given; pass it back to replay a run)."""
        return self._core().seed

    # -- control -------------------------------------------------------------------------

    async def _call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        return fn(*args, **kwargs)

    def creations_per_key(self, operation: str = "make_call") -> dict[str, int]:
        """Resources ``operation`` created per ``Idempotency-Key`` (never above 1 if correct)."""
        core = self._core()
        result: dict[str, int] = self._run(
            self._call(core.idempotency.creations_per_key, operation)
        )
        return result

    def advance(
        self, *, steps: float | None = None, seconds: float | None = None, settle: bool = False
    ) -> list[dict[str, Any]]:
        """Move the sandbox clock (one step by default) and return the transitions applied.

        ``settle=True`` advances until every call has ended.
        """
        core = self._core()
        result: dict[str, Any] = self._run(
            self._call(core.advance, steps=steps, seconds=seconds, settle=settle)
        )
        transitions: list[dict[str, Any]] = result["transitions"]
        return transitions

    def set_faults(self, *rules: FaultSpec, append: bool = False) -> dict[str, Any]:
        """Replace (or with ``append=True`` extend) the fault rules; no rules clears them."""
        core = self._core()
        result: dict[str, Any] = self._run(self._call(core.set_faults, list(rules), append=append))
        return result

    def clear_faults(self) -> None:
        self.set_faults()

    def set_rate_limit(self, *, limit: int, refill_per_second: float) -> None:
        core = self._core()
        self._run(self._call(core.set_rate_limit, limit=limit, refill_per_second=refill_per_second))

    def configure_webhooks(self, **changes: Any) -> dict[str, Any]:
        """Change ``url``, ``max_attempts``, ``backoff_seconds``, ``timeout_seconds`` or
        ``duplicate_probability`` of webhook delivery."""
        core = self._core()
        result: dict[str, Any] = self._run(self._call(core.configure_webhooks, changes))
        return result

    def flush_webhooks(self, timeout: float = 10.0) -> bool:
        """Wait until every queued delivery is done (or given up); False on timeout."""
        core = self._core()
        drained: bool = self._run(core.webhooks.flush(timeout), timeout + _CONTROL_TIMEOUT)
        return drained

    def webhook_deliveries(self) -> list[dict[str, Any]]:
        core = self._core()
        state: dict[str, Any] = self._run(self._call(core.webhook_state))
        deliveries: list[dict[str, Any]] = state["deliveries"]
        return deliveries

    def events(self) -> list[dict[str, Any]]:
        """Every webhook event emitted so far, delivered or not, in order."""
        core = self._core()
        events: list[dict[str, Any]] = self._run(self._call(lambda: list(core.events)))
        return events

    def requests(self) -> list[dict[str, Any]]:
        """The request log: what the server received (client ``X-Request-Id`` included)."""
        core = self._core()
        records: list[dict[str, Any]] = self._run(self._call(lambda: list(core.request_log)))
        return records

    def send_twilio_inbound(
        self,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        valid_signature: bool = True,
    ) -> dict[str, Any]:
        """POST a Twilio-signed inbound-call webhook (form-encoded) to ``url``.

        Returns ``status``, ``headers``, ``body`` of the answer, plus the ``params`` and
        ``signature`` sent. ``valid_signature=False`` signs with the wrong token.
        """
        core = self._core()

        async def send() -> dict[str, Any]:
            return await core.webhooks.post_twilio_inbound(
                url,
                auth_token=core.twilio_auth_token,
                params=core.twilio_params(params or {}),
                valid_signature=valid_signature,
            )

        return self._run(send())

    def table_sizes(self) -> dict[str, int]:
        """Entries held now by each table that requests can grow (all bounded by ``limits``)."""
        core = self._core()
        sizes: dict[str, int] = self._run(self._call(core.table_sizes))
        return sizes

    def info(self) -> dict[str, Any]:
        core = self._core()
        info: dict[str, Any] = self._run(self._call(core.info, self.base_url))
        return info
