"""The leak sweep: no secret and no full phone number in any text the package shows.

One promise (docs/security.md, "Two rules hold everywhere"): secrets and full phone numbers
never appear in logs, reprs, error texts or telemetry. This file tries to break it on every
public surface at once. Distinctive canaries (a runtime key, an admin key, a webhook signing
secret, a Twilio auth token, a base-URL password and several E.164 numbers, also written as
``+1 (212) 555-0147``, ``%2B12125550147``, ``212.555.0147`` ...) are fed in through the real
paths, against real loopback servers (the package's sandbox with fault rules,
pytest-httpserver, the raw-socket ``tests/faultserver.py``), and every text the package then
shows is collected with a label saying where it came from:

- ``repr()``/``str()`` of the clients (sync and async, runtime and admin), the generated
  ``AuthenticatedClient``, ``ReliableTransport``, ``ReliabilityConfig``, ``RetryBudget``,
  the SQLite and Redis ledgers and their entries, ``ExactlyOnceConsumer``, ``TwilioRequest``,
  ``CallingWindow``;
- every error raised on the way: ``str``, ``repr``, ``.args``, ``.message``, the attempts,
  ``__notes__``, the chained cause's text, and the ``str`` of the error after a pickle round
  trip;
- every log record (DEBUG and up) of the ``stateset_voice`` and ``stateset_voice_wrapper``
  logger trees (the sandbox's included): the formatted message and the args;
- the sandbox's request log, after requests whose paths, queries, headers and bodies carry
  canaries;
- the CLI's stdout and stderr for failing commands;
- every span name, attribute, event and metric label exported through OpenTelemetry.

A full phone number is found in a text with its separators (and percent-escapes of them)
stripped, both as all its digits and as its national part, so no written form slips through.

Out of scope, on purpose:

- ``exc.body`` keeps the server's raw bytes to debug with (docs/security.md); it is the one
  attribute not collected, and :func:`test_the_collector_finds_what_it_should` proves it
  does hold the canary, so the sweep is not blind.
- Models returned by calls (``Call``, ``CallLog``, generated attrs classes) hold phone
  numbers as *data*: their reprs show their fields, as attrs does, and the sweep does not
  collect them. A caller that logs a model logs its data.
- Attributes that hold a value exactly for the program (``exc.idempotency_key``,
  ``exc.request_id``, ``exc.code``, ``LedgerEntry.key``) are data too; only their renderings
  (``str``/``repr``) are swept.
- A request ID or a code is the server's to choose: it is redacted by shape (numbers,
  ``sk_…``-like words), so the drawn test echoes a key there only in a key's shape. A secret
  with no shape, in a free-text header a client sends the sandbox, cannot be told from an ID.
- File paths (a ledger's, in its repr and store errors) are the operator's, shown as given.
- Third-party loggers (httpx, httpcore, h11, aiohttp) are the applications' to configure.
  They are collected separately while the package makes its requests, and
  :func:`test_third_party_loggers_show_no_canary_from_the_package_requests` holds what they
  show: httpx logs the method, the URL (path and query) and the status at INFO; httpcore logs
  phases and, at DEBUG, the response headers as received. No secret the package sends shows
  there. The contract does not forbid an ID that looks like a phone number, so a number the
  caller passes as an ID or a filter is sent in the URL and httpx logs it whole (the
  package's own lines mask it); docs/security.md says so.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
import pickle
import re
import socket
import string
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpcore
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from stateset_voice_wrapper import (
    AdminClient,
    AsyncAdminClient,
    AsyncVoiceClient,
    CallingWindow,
    RedisLedger,
    ReliabilityConfig,
    ReliableTransport,
    RetryBudget,
    SqliteLedger,
    StateSetVoiceError,
    VoiceClient,
    configure_telemetry,
)
from stateset_voice_wrapper._shared import telemetry as switch
from stateset_voice_wrapper.cli import main
from stateset_voice_wrapper.sandbox import FaultRule, Sandbox
from stateset_voice_wrapper.stores import SqliteLeaseStore
from stateset_voice_wrapper.webhooks import (
    ExactlyOnceConsumer,
    construct_event,
    stateset_signature_header,
    twilio_request_from_wsgi,
    verify_twilio_signature,
)

if TYPE_CHECKING:
    from tests.profiles import examples
else:  # the sibling module: pytest puts tests/ on sys.path
    from profiles import examples

if TYPE_CHECKING:
    from tests.faultserver import FaultServer, HalfBody, Hang, Reset
else:
    from faultserver import FaultServer, HalfBody, Hang, Reset

# -- the canaries --------------------------------------------------------------------------------

RUNTIME_KEY = "sk_test_CanaryRuntime7Qx93LmZ4p"
ADMIN_KEY = "ak_test_CanaryAdmin4Vw81NpRk2"
WEBHOOK_SECRET = "whsec_CanaryWebhook2Jk56HsQ9"
TWILIO_TOKEN = "CanaryTwilioToken9e3f71c0a2b4"
URL_PASSWORD = "CanaryUrlPassw0rd5Tz"
#: A key with no shape a redactor could know (no ``sk_`` prefix): only the client's knowledge
#: of its own credential can hide it.
SHAPELESS_KEY = "CanaryShapelessKey8Hd42Wq"

SECRETS: dict[str, str] = {
    "runtime key": RUNTIME_KEY,
    "admin key": ADMIN_KEY,
    "webhook secret": WEBHOOK_SECRET,
    "twilio token": TWILIO_TOKEN,
    "url password": URL_PASSWORD,
    "shapeless key": SHAPELESS_KEY,
}

# Valid numbers (phonenumbers knows their zones, so the calling window can judge them) in
# fictional ranges: NANP 555-01xx, Ofcom's drama range, ACMA's fictional mobile range.
TO = "+12125550147"
FROM = "+12065550188"
UK = "+442079460958"
AU = "+61491570156"
TOLL_FREE = "+18005550123"
NUMBERS: dict[str, tuple[str, str]] = {
    # E.164 -> (country code, national part)
    TO: ("1", "2125550147"),
    FROM: ("1", "2065550188"),
    UK: ("44", "2079460958"),
    AU: ("61", "491570156"),
    TOLL_FREE: ("1", "8005550123"),
}


def written_forms(number: str) -> list[str]:
    """``number`` as people, forms and URLs write it."""
    country = next(c for c in ("1", "44", "61") if number.startswith("+" + c))
    national = number[1 + len(country) :]
    if country == "1":
        a, b, c = national[:3], national[3:6], national[6:]
        grouped = [
            f"+1 ({a}) {b}-{c}",
            f"1-{a}-{b}-{c}",
            f"({a}) {b}-{c}",
            f"{a}.{b}.{c}",
            f"{a}-{b}-{c}",
            f"+1.{a}.{b}.{c}",
            f"+1%20{a}%20{b}%20{c}",
        ]
    else:
        head, tail = national[:2], national[2:]
        grouped = [f"+{country} {head} {tail[:4]} {tail[4:]}", f"0{head} {tail[:4]} {tail[4:]}"]
    return [number, "%2B" + number[1:], number[1:], "tel:" + number, national, *grouped]


_SEPARATORS = re.compile(r"%2[bBdDfF0]|%2[89]|[\s.\-/()+]")


def _digits_view(text: str) -> str:
    """``text`` with the separators of written numbers removed, so every form is one run."""
    return _SEPARATORS.sub("", text)


def hits_in(text: str, numbers: dict[str, tuple[str, str]], secrets: dict[str, str]) -> list[str]:
    """The names of the canaries ``text`` shows."""
    found = [name for name, secret in secrets.items() if _core(secret) in text]
    view = _digits_view(text)
    for number, (country, national) in numbers.items():
        if country + national in view or national in view:
            found.append(number)
    return found


def _core(secret: str) -> str:
    """The distinctive part of a secret: what is left after a well-known prefix."""
    for prefix in ("sk_test_", "sk_live_", "ak_test_", "ak_live_", "whsec_"):
        if secret.startswith(prefix):
            return secret[len(prefix) :]
    return secret


# -- the collector -------------------------------------------------------------------------------


@dataclass
class Sweep:
    """Every text the package showed, each with the place it came from."""

    texts: list[tuple[str, str]] = field(default_factory=list)
    #: Log lines of third-party loggers while the package made its own requests.
    third_party: list[tuple[str, str]] = field(default_factory=list)
    errors: int = 0

    def add(self, label: str, text: object) -> None:
        self.texts.append((label, text if isinstance(text, str) else repr(text)))

    def thing(self, label: str, obj: object) -> None:
        self.add(f"{label} repr", repr(obj))
        self.add(f"{label} str", str(obj))

    def error(self, label: str, exc: BaseException) -> None:
        """Every rendering of ``exc`` (never ``.body``), and of the errors it chains."""
        self.errors += 1
        self.add(f"{label}: {type(exc).__name__} str", str(exc))
        self.add(f"{label}: repr", repr(exc))
        self.add(f"{label}: args", repr(exc.args))
        for name in ("message", "attempts", "field_errors", "not_retried", "number_hint"):
            if hasattr(exc, name):
                self.add(f"{label}: .{name}", repr(getattr(exc, name)))
        for note in getattr(exc, "__notes__", ()):
            self.add(f"{label}: note", note)
        try:
            revived = pickle.loads(pickle.dumps(exc))  # noqa: S301 - our own bytes, just made
        except Exception as failure:  # an error that cannot be pickled is a finding of its own
            self.add(f"{label}: pickle failed", f"{type(failure).__name__}: {failure}")
        else:
            self.add(f"{label}: unpickled str", str(revived))
        cause = exc.__cause__ or exc.__context__
        if isinstance(cause, StateSetVoiceError):
            self.error(f"{label} <- cause", cause)

    def raised(self, label: str, action: Callable[[], object]) -> BaseException:
        """Run ``action``, which must raise a StateSetVoiceError, and collect it."""
        try:
            action()
        except StateSetVoiceError as exc:
            self.error(label, exc)
            return exc
        raise AssertionError(f"{label}: nothing was raised")

    def report(self) -> str:
        """Each leaking text once, with what it shows: the assertion message."""
        lines = []
        for label, text in self.texts:
            names = hits_in(text, NUMBERS, SECRETS)
            if names:
                lines.append(f"{label}: {', '.join(names)} in {text[:400]!r}")
        return "\n".join(lines)

    def hits(self, numbers: dict[str, tuple[str, str]] | None = None) -> list[tuple[str, str]]:
        every = NUMBERS if numbers is None else numbers
        return [
            (label, name) for label, text in self.texts for name in hits_in(text, every, SECRETS)
        ]


PACKAGE_LOGGERS = ("stateset_voice", "stateset_voice_wrapper")
#: Named after the modules in use: under httpx2 (``make check-httpx2``) ``import httpx`` is
#: httpx2, which logs as ``httpx2`` (and its httpcore as ``httpcore2``).
THIRD_PARTY_LOGGERS = tuple(
    dict.fromkeys(
        (httpx.__name__, httpcore.__name__, "httpx", "httpcore", "h11", "hpack", "aiohttp")
    )
)


class LogTap(logging.Handler):
    """Every record of the package's loggers (and, while ``third_party`` is set, httpx's)."""

    def __init__(self, sweep: Sweep) -> None:
        super().__init__(logging.DEBUG)
        self.sweep = sweep
        self.third_party = True
        #: Appended to third-party labels: what the scenario put in the request.
        self.context = ""

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info:
            text += "\n" + logging.Formatter().formatException(record.exc_info)
        label = f"log {record.name} {record.levelname}"
        if record.name.split(".")[0] in PACKAGE_LOGGERS:
            self.sweep.add(label, text)
            self.sweep.add(f"{label} args", repr(record.args))
        elif self.third_party:
            self.sweep.third_party.append((f"{label} [{self.context}]", text))


@contextlib.contextmanager
def tapped(sweep: Sweep) -> Iterator[LogTap]:
    tap = LogTap(sweep)
    loggers = [logging.getLogger(name) for name in (*PACKAGE_LOGGERS, *THIRD_PARTY_LOGGERS)]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(tap)
        logger.setLevel(logging.DEBUG)
    try:
        yield tap
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.removeHandler(tap)
            logger.setLevel(level)


# -- the servers and clients ---------------------------------------------------------------------


def quiet(**options: Any) -> ReliabilityConfig:
    """No real sleeping, no jitter, a budget of the test's own."""

    async def no_sleep(_: float) -> None:
        return None

    settings_: dict[str, Any] = {"budget": RetryBudget(), "max_retries": 1, **options}
    return ReliabilityConfig(
        sleep=lambda _: None, async_sleep=no_sleep, random=lambda: 0.5, **settings_
    )


def free_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(
        seed=11,
        auto_advance=False,
        runtime_key=RUNTIME_KEY,
        admin_key=ADMIN_KEY,
        webhook_duplicate_probability=0.0,
    ) as box:
        yield box


def create_call(client: VoiceClient, **extra: Any) -> Any:
    arguments: dict[str, Any] = {
        "to": TO,
        "from_": FROM,
        "agent_key": "front_desk",
        "idempotency_key": f"appt-{TO}",
        **extra,
    }
    return client.calls.create(**arguments)


def create_call_async(base_url: str, key: str, **options: Any) -> Callable[[], object]:
    def run() -> object:
        async def go() -> object:
            async with AsyncVoiceClient(key, base_url=base_url, reliability=quiet(**options)) as c:
                return await c.calls.create(
                    to=TO, from_=FROM, agent_key="front_desk", idempotency_key=f"appt-{FROM}"
                )

        return asyncio.run(go())

    return run


# -- the surfaces --------------------------------------------------------------------------------


def sweep_objects(sweep: Sweep, sandbox: Sandbox, tmp_path: Path, redis_url: str) -> None:
    from stateset_voice_public import AuthenticatedClient

    base = sandbox.base_url
    with VoiceClient(RUNTIME_KEY, base_url=base, reliability=quiet()) as voice:
        sweep.thing("VoiceClient", voice)
        sweep.thing("VoiceClient.reliability", voice.reliability)
        sweep.thing("VoiceClient.with_options", voice.with_options(extra_headers={"X-A": TO}))
    with AdminClient(ADMIN_KEY, base_url=base, reliability=quiet()) as admin:
        sweep.thing("AdminClient", admin)

    async def async_clients() -> None:
        async with AsyncVoiceClient(SHAPELESS_KEY, base_url=base) as voice:
            sweep.thing("AsyncVoiceClient", voice)
        async with AsyncAdminClient(ADMIN_KEY, base_url=base) as admin:
            sweep.thing("AsyncAdminClient", admin)

    asyncio.run(async_clients())
    transport = ReliableTransport(config=quiet())
    sweep.thing("ReliableTransport", transport)
    sweep.thing("ReliabilityConfig", quiet())
    sweep.thing("RetryBudget", RetryBudget(capacity=3))
    generated = AuthenticatedClient(
        base_url=base, token=RUNTIME_KEY, httpx_args={"transport": transport}
    )
    sweep.thing("generated AuthenticatedClient", generated)
    sweep.thing("generated httpx client", generated.get_httpx_client())
    generated.get_httpx_client().close()

    for name, ledger in (
        ("SqliteLedger", SqliteLedger(tmp_path / "ledger.db")),
        ("RedisLedger", RedisLedger(redis_url, namespace=f"leaks:{tmp_path.name}")),
    ):
        with ledger:
            sweep.thing(name, ledger)
            sweep.thing(f"{name}.store", ledger.store)
            claim = ledger.begin(f"appt-{TO}", fingerprint="f" * 64)
            sweep.thing(f"{name} claim", claim)
            entry = getattr(claim, "entry", None)
            if entry is not None:
                sweep.thing(f"{name} entry", entry)
                entry.abandon(maybe_sent=False)
    with SqliteLeaseStore(tmp_path / "dedup.db") as store:
        sweep.thing("ExactlyOnceConsumer", ExactlyOnceConsumer(store, sleep=lambda _: None))
    sweep.thing("CallingWindow", CallingWindow())

    body = f"To=%2B{TO[1:]}&From=%2B{FROM[1:]}&CallSid=CA1".encode()
    environ = {
        "REQUEST_METHOD": "POST",
        "wsgi.url_scheme": "https",
        "HTTP_HOST": "hooks.example.com",
        "PATH_INFO": f"/twilio/{TO}",
        "QUERY_STRING": f"caller={FROM}&token={TWILIO_TOKEN}",
        "CONTENT_TYPE": "application/x-www-form-urlencoded",
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_X_TWILIO_SIGNATURE": TWILIO_TOKEN,
        "wsgi.input": io.BytesIO(body),
    }
    sweep.thing("TwilioRequest", twilio_request_from_wsgi(environ))


def sweep_status_errors(sweep: Sweep, httpserver: HTTPServer) -> None:
    """Every error status, with server messages that echo numbers and keys."""
    message = (
        f"cannot call {written_forms(TO)[1]} from +1 (206) 555-0188 with key {SHAPELESS_KEY}"
        f" (Authorization: Bearer {RUNTIME_KEY}, x-admin-key={ADMIN_KEY}, 0{UK[3:5]} 7946 0958)"
    )
    details = [{"field": "to", "message": f"{TO} is blocked; {AU} too", "code": "blocked"}]
    for status in (400, 401, 403, 404, 409, 422, 429, 500):
        httpserver.clear()
        document = {"code": "refused", "message": message, "request_id": "req_1"}
        if status in (400, 422):
            document["details"] = details  # type: ignore[assignment]
        httpserver.expect_request("/api/v1/make-call").respond_with_json(
            document, status=status, headers={"retry-after": "0"}
        )
        base = httpserver.url_for("")
        with VoiceClient(SHAPELESS_KEY, base_url=base, reliability=quiet()) as voice:
            sweep.raised(f"HTTP {status}", lambda voice=voice: create_call(voice))  # type: ignore[misc]
        sweep.raised(f"HTTP {status} async", create_call_async(base, SHAPELESS_KEY))
    httpserver.clear()
    page = f"<html><body><h1>502 Bad Gateway</h1>{TO} {RUNTIME_KEY} {SHAPELESS_KEY}</body></html>"
    httpserver.expect_request("/api/v1/make-call").respond_with_data(
        page, status=502, content_type="text/html"
    )
    with VoiceClient(SHAPELESS_KEY, base_url=httpserver.url_for(""), reliability=quiet()) as voice:
        sweep.raised("HTTP 502 html", lambda: create_call(voice))
    httpserver.clear()
    with AdminClient(ADMIN_KEY, base_url=httpserver.url_for(""), reliability=quiet()) as admin:
        httpserver.expect_request("/api/v1/admin/tenants/ten_1").respond_with_json(
            {"code": "nope", "message": f"admin key {ADMIN_KEY} may not see {TO}"}, status=403
        )
        sweep.raised("admin HTTP 403", lambda: admin.tenants.get("ten_1"))
    httpserver.clear()


def sweep_transport_failures(sweep: Sweep, sandbox: Sandbox) -> None:
    """No answer, half an answer, an HTML page: from the sandbox and a raw-socket server."""
    for kind in ("drop", "reset", "html", "503"):
        sandbox.set_faults(FaultRule(kind=kind, path="/api/v1/make-call"))
        with VoiceClient(RUNTIME_KEY, base_url=sandbox.base_url, reliability=quiet()) as voice:
            sweep.raised(f"sandbox fault {kind}", lambda voice=voice: create_call(voice))  # type: ignore[misc]
        sweep.raised(
            f"sandbox fault {kind} async", create_call_async(sandbox.base_url, RUNTIME_KEY)
        )
    sandbox.clear_faults()
    refused = f"http://127.0.0.1:{free_port()}"
    with VoiceClient(RUNTIME_KEY, base_url=refused, reliability=quiet()) as voice:
        sweep.raised("connection refused", lambda: create_call(voice))
    sweep.raised("connection refused async", create_call_async(refused, SHAPELESS_KEY))
    with FaultServer(Hang(), Reset(), HalfBody(sent=5), Hang()) as server:
        config = quiet(timeout=0.05, max_retries=0)
        with VoiceClient(SHAPELESS_KEY, base_url=server.url, reliability=config) as voice:
            sweep.raised("read timeout", lambda: create_call(voice))
            sweep.raised("reset", lambda: create_call(voice))
            sweep.raised("truncated body", lambda: create_call(voice))
        sweep.raised(
            "read timeout async",
            create_call_async(server.url, SHAPELESS_KEY, timeout=0.05, max_retries=0),
        )
    # The deadline, with a clock that jumps: no waiting.
    ticks = iter(range(0, 10_000, 100))
    jumping = quiet(deadline=5.0, clock=lambda: float(next(ticks)))
    with VoiceClient(RUNTIME_KEY, base_url=sandbox.base_url, reliability=jumping) as voice:
        sweep.raised("deadline", lambda: create_call(voice))


def sweep_configuration(sweep: Sweep, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    base = sandbox.base_url
    for label, key in (
        ("newline", RUNTIME_KEY[:12] + "\n" + RUNTIME_KEY[12:]),
        ("zero-width space", RUNTIME_KEY + "\u200b"),
        ("space", SHAPELESS_KEY[:6] + " " + SHAPELESS_KEY[6:]),
        ("non-ASCII", "é" + SHAPELESS_KEY),
        ("too long", SHAPELESS_KEY * 60),
    ):
        sweep.raised(f"key with {label}", lambda key=key: VoiceClient(key, base_url=base))  # type: ignore[misc]
        sweep.raised(f"admin key with {label}", lambda key=key: AdminClient(key, base_url=base))  # type: ignore[misc]
    monkeypatch.setenv("STATESET_VOICE_API_KEY", SHAPELESS_KEY + "\u200b")
    sweep.raised("key from the environment", lambda: VoiceClient(base_url=base))
    monkeypatch.delenv("STATESET_VOICE_API_KEY")
    for label, url in (
        ("userinfo", f"https://ops:{URL_PASSWORD}@voice.example.com"),
        ("userinfo only", f"https://{URL_PASSWORD}@voice.example.com"),
        ("http with userinfo", f"http://ops:{URL_PASSWORD}@127.0.0.1:1"),
        ("query", f"https://voice.example.com/?to={TO}&key={SHAPELESS_KEY}"),
        ("number in the path", f"https://voice.example.com/{TO}/api/v1"),
        ("plain http", f"http://voice.example.com/{written_forms(UK)[0]}"),
        ("no scheme", f"ops:{URL_PASSWORD}@voice.example.com"),
        ("bad port", f"https://ops:{URL_PASSWORD}@voice.example.com:99999"),
    ):
        sweep.raised(
            f"base URL {label}",
            lambda url=url: VoiceClient(RUNTIME_KEY, base_url=url),  # type: ignore[misc]
        )
        monkeypatch.setenv("STATESET_VOICE_BASE_URL", url)
        sweep.raised(f"base URL {label} from the environment", lambda: VoiceClient(RUNTIME_KEY))
    monkeypatch.delenv("STATESET_VOICE_BASE_URL")


def sweep_parameters(sweep: Sweep, sandbox: Sandbox) -> None:
    with VoiceClient(RUNTIME_KEY, base_url=sandbox.base_url, reliability=quiet()) as voice:
        for label, extra in (
            ("to + x", {"to": TO + "x"}),
            ("to written", {"to": written_forms(TO)[5]}),
            ("to too long", {"to": TO + "12345678"}),
            ("from spaced", {"from_": " " + FROM}),
            ("from percent", {"from_": "%2B" + FROM[1:]}),
            ("key with a newline", {"idempotency_key": f"appt-{TO}\n"}),
            ("key too long", {"idempotency_key": f"appt-{TO}-" + "k" * 300}),
            ("metadata", {"metadata": {"caller": FROM, "bad": object()}}),
        ):
            sweep.raised(f"create {label}", lambda extra=extra: create_call(voice, **extra))  # type: ignore[misc]


def sweep_caller_urls(sweep: Sweep, sandbox: Sandbox, tap: LogTap) -> None:
    """IDs and filters are the caller's: the contract does not say a call ID cannot look like
    a phone number, so the client sends what it is given, in the URL."""
    tap.context = "caller put a number in the URL"
    with VoiceClient(RUNTIME_KEY, base_url=sandbox.base_url, reliability=quiet()) as voice:
        sweep.raised("call log by number", lambda: voice.call_logs.get(TO))
        sweep.raised(
            "call log by written number", lambda: voice.call_logs.get(written_forms(TO)[5])
        )
        page = voice.call_logs.list_page(agent_key=FROM)
        sweep.thing("page filtered by a number", page.total)
        voice.call_logs.list_page(agent_key=TO + FROM)  # two numbers glued: %2B...%2B...
    tap.context = ""


def sweep_calling_hours(sweep: Sweep, sandbox: Sandbox) -> None:
    night = 1_800_000_000.0 - (1_800_000_000 % 86_400) + 7 * 3600  # 07:00 UTC: night in the US
    window = CallingWindow(start="09:00", end="17:00")
    config = quiet(wall_clock=lambda: night)
    with VoiceClient(
        RUNTIME_KEY, base_url=sandbox.base_url, calling_window=window, reliability=config
    ) as voice:
        sweep.raised("outside calling hours", lambda: create_call(voice))
        sweep.raised("toll-free", lambda: create_call(voice, to=TOLL_FREE))
        create_call(voice, to=UK, idempotency_key=None, ignore_calling_window=True)
    sweep.raised("window check", lambda: window.check(AU, at=_at(night)))


def _at(timestamp: float) -> Any:
    import datetime

    return datetime.datetime.fromtimestamp(timestamp, datetime.UTC)


def sweep_webhooks(sweep: Sweep) -> None:
    event = {
        "id": "evt_1",
        "type": "call.completed",
        "created_at": "2026-11-20T15:04:05Z",
        "data": {"call_id": "call_1", "to": TO, "from": FROM, "secret": WEBHOOK_SECRET},
    }
    payload = json.dumps(event).encode()
    now = 1_800_000_000.0
    good = stateset_signature_header(payload, secrets=[WEBHOOK_SECRET], timestamp=int(now))
    for label, headers, body in (
        ("unsigned", {}, payload),
        ("wrong secret", {"StateSet-Signature": good.replace("v1=", "v1=0")}, payload),
        ("signature is the secret", {"StateSet-Signature": f"t=1,v1={WEBHOOK_SECRET}"}, payload),
        ("stale", {"StateSet-Signature": good}, payload + b" "),
        ("header holds a number", {"StateSet-Signature": f"t={TO[1:]},v1={TO}"}, payload),
    ):
        sweep.raised(
            f"webhook {label}",
            lambda headers=headers, body=body: construct_event(  # type: ignore[misc]
                payload=body, headers=headers, secrets=[WEBHOOK_SECRET], now=lambda: now
            ),
        )
    for label, body in (
        ("not JSON", f"to={TO}&secret={WEBHOOK_SECRET}".encode()),
        ("wrong types", json.dumps({**event, "created_at": TO, "id": 7}).encode()),
        ("no type", json.dumps({"id": TO, "data": {"to": TO}}).encode()),
    ):
        signed = stateset_signature_header(body, secrets=[WEBHOOK_SECRET], timestamp=int(now))
        sweep.raised(
            f"webhook {label}",
            lambda body=body, signed=signed: construct_event(  # type: ignore[misc]
                payload=body,
                headers={"StateSet-Signature": signed},
                secrets=[WEBHOOK_SECRET],
                now=lambda: now,
            ),
        )
    params = [("To", TO), ("From", FROM), ("Caller", written_forms(FROM)[5])]
    for label, signature in (("wrong", "c2lnbmF0dXJl"), ("missing", None), ("token", TWILIO_TOKEN)):
        sweep.raised(
            f"twilio signature {label}",
            lambda signature=signature: verify_twilio_signature(  # type: ignore[misc]
                auth_token=TWILIO_TOKEN,
                url=f"https://hooks.example.com/twilio/{TO}?caller={FROM}",
                params=params,
                signature=signature,
            ),
        )


def sweep_stores(sweep: Sweep, tmp_path: Path, redis_url: str) -> None:
    key = f"appt-{TO}"
    ledger = SqliteLedger(tmp_path / "stores.db")
    first = ledger.begin(key, fingerprint="a" * 64)
    sweep.thing("claim", first)
    sweep.raised("ledger conflict", lambda: ledger.begin(key, fingerprint="b" * 64))
    sweep.raised("ledger in flight", lambda: ledger.begin(key, fingerprint="a" * 64))
    ledger.close()
    sweep.raised("closed ledger", lambda: ledger.begin(f"appt-{FROM}", fingerprint="a" * 64))
    broken = tmp_path / "corrupt.db"  # a path is the operator's, shown as given
    broken.write_bytes(b"not a database " * 100)
    sweep.raised("corrupt file", lambda: SqliteLedger(broken).begin(key, fingerprint="a" * 64))
    down = f"redis://:{URL_PASSWORD}@127.0.0.1:{free_port()}/0"
    sweep.raised("redis down", lambda: RedisLedger(down).begin(key, fingerprint="a" * 64))


def sweep_sandbox(sweep: Sweep, sandbox: Sandbox, tap: LogTap) -> None:
    """Hostile requests to the sandbox carry canaries everywhere a client can put them."""
    tap.third_party = False  # these requests are the test's, not the package's
    sandbox.set_faults(FaultRule(kind="500", path="/api/v1/call-logs/*", times=1))
    with httpx.Client(base_url=sandbox.base_url) as raw:
        for form in written_forms(TO):
            raw.get(
                f"/api/v1/call-logs/{form}",
                params={"to": FROM, "api_key": SHAPELESS_KEY, "token": TWILIO_TOKEN},
                headers={
                    "Authorization": f"Bearer {RUNTIME_KEY}",
                    "X-Request-Id": f"{UK} sk_live_{SHAPELESS_KEY}",
                    "Idempotency-Key": f"appt-{written_forms(AU)[0]}",
                },
            )
        raw.post(
            "/api/v1/make-call",
            json={"to": TO + "x", "from": FROM, "agent_key": WEBHOOK_SECRET},
            headers={"Authorization": f"Bearer {SHAPELESS_KEY}", "Idempotency-Key": TO},
        )
        raw.post(
            f"/api/v1/access-requests?password={URL_PASSWORD}",
            content=f"phone={TO}&secret={WEBHOOK_SECRET}",
            headers={"x-admin-key": ADMIN_KEY, "X-Request-Id": f"%2B{AU[1:]}"},
        )
        raw.get(f"/nowhere/{TO}/{ADMIN_KEY}", headers={"x-admin-key": SHAPELESS_KEY})
    sandbox.clear_faults()
    for i, entry in enumerate(sandbox.requests()):
        sweep.add(f"sandbox request log [{i}]", json.dumps(entry))
    tap.third_party = True


def sweep_cli(sweep: Sweep, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    create = ["calls", "create", "--to", TO, "--from", FROM, "--agent-key", "front_desk"]
    monkeypatch.setenv("STATESET_VOICE_BASE_URL", sandbox.base_url)
    monkeypatch.setenv("STATESET_VOICE_API_KEY", SHAPELESS_KEY)
    monkeypatch.setenv("STATESET_VOICE_ADMIN_API_KEY", SHAPELESS_KEY)
    monkeypatch.setenv("STATESET_VOICE_WEBHOOK_SECRET", WEBHOOK_SECRET)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", TWILIO_TOKEN)
    runs: list[tuple[str, list[str]]] = [
        ("wrong key", [*create, "-o", "json"]),
        ("wrong admin key", ["admin", "runtime-config", "get", "ten_sandbox"]),
        ("bad number", ["calls", "create", "--to", TO + "x", "--from", FROM, "--agent-key", "a"]),
        ("written number", [*create[:3], written_forms(TO)[5], *create[4:], "-o", "table"]),
        ("base url password", [*create, "--base-url", f"https://ops:{URL_PASSWORD}@x.example"]),
        (
            "refused",
            [*create, "--base-url", f"http://127.0.0.1:{free_port()}", "--max-retries", "0"],
        ),
        ("call log by number", ["call-logs", "get", TO]),
        ("verify stateset", ["webhooks", "verify", "--signature", f"t=1,v1={WEBHOOK_SECRET}"]),
        (
            "verify twilio",
            [
                "webhooks",
                "verify",
                "--provider",
                "twilio",
                "--url",
                f"https://h.example/{TO}",
                "--signature",
                TWILIO_TOKEN,
            ],
        ),
    ]
    for label, argv in runs:
        stdout, stderr = io.StringIO(), io.StringIO()
        monkeypatch.setattr("sys.stdin", io.StringIO(f"To=%2B{TO[1:]}&From={FROM}"))
        code = main(argv, stdout=stdout, stderr=stderr, sleep=lambda _: None)
        sweep.add(f"cli {label} exit", str(code))
        sweep.add(f"cli {label} stdout", stdout.getvalue())
        sweep.add(f"cli {label} stderr", stderr.getvalue())
        assert code != 0, (label, stdout.getvalue(), stderr.getvalue())
    monkeypatch.setenv("STATESET_VOICE_API_KEY", RUNTIME_KEY + "\u200b")
    stdout, stderr = io.StringIO(), io.StringIO()
    assert main(create, stdout=stdout, stderr=stderr) != 0
    sweep.add("cli invisible key stderr", stderr.getvalue())


class Exported:
    """Spans and metrics, read back from the SDK's in-memory exporters."""

    def __init__(self) -> None:
        self.spans = InMemorySpanExporter()
        self.reader = InMemoryMetricReader()
        self.tracer_provider = TracerProvider()
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.spans))
        self.meter_provider = MeterProvider(metric_readers=[self.reader])

    def texts(self) -> Iterator[tuple[str, str]]:
        for span in self.spans.get_finished_spans():
            yield f"span {span.name}", span.name
            for k, v in (span.attributes or {}).items():
                yield f"span {span.name} {k}", str(v)
            for event in span.events:
                for k, v in (event.attributes or {}).items():
                    yield f"span {span.name} event {event.name} {k}", str(v)
        data = self.reader.get_metrics_data()
        for resource in data.resource_metrics if data else ():
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    for point in metric.data.data_points:
                        for k, v in (point.attributes or {}).items():
                            yield f"metric {metric.name} {k}", str(v)


def sweep_telemetry(sweep: Sweep, sandbox: Sandbox, httpserver: HTTPServer, tap: LogTap) -> None:
    exported = Exported()
    configure_telemetry(
        tracer_provider=exported.tracer_provider, meter_provider=exported.meter_provider
    )
    try:
        with VoiceClient(RUNTIME_KEY, base_url=sandbox.base_url, reliability=quiet()) as voice:
            create_call(voice, idempotency_key=f"tel-{TO}")  # succeeds
            sandbox.set_faults(FaultRule(kind="503", path="/api/v1/make-call"))
            sweep.raised("telemetry 503", lambda: create_call(voice, idempotency_key=f"t-{FROM}"))
            sandbox.clear_faults()
        httpserver.clear()
        httpserver.expect_request("/api/v1/make-call").respond_with_handler(_hostile_answer)
        base = httpserver.url_for("")
        tap.context = "server sent canaries in its headers"
        with VoiceClient(SHAPELESS_KEY, base_url=base, reliability=quiet()) as voice:
            sweep.raised("telemetry hostile 500", lambda: create_call(voice))
        tap.context = ""
        httpserver.clear()
    finally:
        configure_telemetry(enabled=False)
        switch._State.enabled = None
    for label, text in exported.texts():
        sweep.add(f"telemetry {label}", text)


def _hostile_answer(request: Request) -> Response:
    """A 500 whose every server-chosen field (request ID, code, message) holds canaries."""
    body = {"code": f"no_{TO}", "message": f"{SHAPELESS_KEY} {TO}", "request_id": f"req {TO}"}
    request_id = f"{written_forms(UK)[0]} sk_live_{SHAPELESS_KEY}"
    headers = {"x-request-id": request_id, "retry-after": "0"}
    return Response(json.dumps(body), 500, headers, content_type="application/json")


# -- the sweep -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def swept(
    sandbox: Sandbox,
    tmp_path_factory: pytest.TempPathFactory,
    redis_url: str,
    make_httpserver: HTTPServer,
) -> Sweep:
    httpserver = make_httpserver
    sweep = Sweep()
    tmp_path = tmp_path_factory.mktemp("leaks")
    with pytest.MonkeyPatch.context() as monkeypatch, tapped(sweep) as tap:
        for name in (
            "STATESET_VOICE_API_KEY",
            "STATESET_VOICE_ADMIN_API_KEY",
            "STATESET_VOICE_BASE_URL",
        ):
            monkeypatch.delenv(name, raising=False)
        sweep_objects(sweep, sandbox, tmp_path, redis_url)
        sweep_status_errors(sweep, httpserver)
        sweep_transport_failures(sweep, sandbox)
        sweep_configuration(sweep, sandbox, monkeypatch)
        sweep_parameters(sweep, sandbox)
        sweep_caller_urls(sweep, sandbox, tap)
        sweep_calling_hours(sweep, sandbox)
        sweep_webhooks(sweep)
        sweep_stores(sweep, tmp_path, redis_url)
        sweep_telemetry(sweep, sandbox, httpserver, tap)
        sweep_cli(sweep, sandbox, monkeypatch)
        sweep_sandbox(sweep, sandbox, tap)
    return sweep


def test_no_canary_in_any_text_the_package_shows(swept: Sweep) -> None:
    labels = {label.split(" ")[0] for label, _ in swept.texts}
    assert {"log", "sandbox", "cli", "telemetry", "VoiceClient", "HTTP"} <= labels
    assert swept.errors >= 90
    assert swept.hits() == [], swept.report()


def test_third_party_loggers_show_no_canary_from_the_package_requests(swept: Sweep) -> None:
    """httpx logs every request's URL at INFO. The package's own paths and queries hold IDs
    only, so nothing it builds shows there; a number the caller passes as an ID or a filter
    is sent in the URL, and then httpx (not the package) logs it whole. httpcore's DEBUG lines
    quote the response headers a server sent, whatever they hold. No secret the package sends
    is ever shown."""
    assert any("HTTP Request:" in text for _, text in swept.third_party)
    hits = [
        (label, name, text)
        for label, text in swept.third_party
        for name in hits_in(text, NUMBERS, SECRETS)
    ]
    caller = "[caller put a number in the URL]"
    server = "[server sent canaries in its headers]"
    assert [
        (label, name) for label, name, _ in hits if caller not in label and server not in label
    ] == []
    from_caller = [(label, name, text) for label, name, text in hits if caller in label]
    assert {name for _, name, _ in from_caller} == {TO, FROM}
    assert all(label.startswith(f"log {httpx.__name__} INFO") for label, _, _ in from_caller)
    assert all(text.startswith("HTTP Request: GET") for _, _, text in from_caller)
    # httpcore's DEBUG line quotes the response headers as received: the server's own text.
    from_server = [(label, text) for label, name, text in hits if server in label]
    assert from_server
    assert all(text.startswith("receive_response_headers.complete") for _, text in from_server)


def test_the_collector_finds_what_it_should(swept: Sweep, httpserver: HTTPServer) -> None:
    """The sweep cannot pass by collecting nothing: the raw body it leaves out holds the
    canaries, and a string shown unredacted is caught in every written form."""
    httpserver.expect_request("/api/v1/make-call").respond_with_json(
        {"code": "validation_failed", "message": f"bad {TO} {SHAPELESS_KEY}"}, status=422
    )
    probe = Sweep()
    with VoiceClient(SHAPELESS_KEY, base_url=httpserver.url_for(""), reliability=quiet()) as voice:
        exc = probe.raised("probe", lambda: create_call(voice))
    body = exc.body  # type: ignore[attr-defined]
    assert hits_in(body.decode(), NUMBERS, SECRETS) == ["shapeless key", TO]
    assert probe.hits() == []
    for form in written_forms(TO):
        probe.add("deliberately raw", f"x {form} y")
    for secret in SECRETS.values():
        probe.add("deliberately raw", f"key={secret}")
    found = probe.hits()
    assert len([h for h in found if h[1] == TO]) == len(written_forms(TO))
    assert {name for _, name in found} == {TO, *SECRETS}
    assert len(swept.texts) > 1000


# -- server text, drawn ------------------------------------------------------------------------------

_KEY_PREFIXES = ("sk_live_", "sk_test_", "", "key-", "vk_", "Bearer_", "tok.")
_ALNUM = string.ascii_letters + string.digits


@st.composite
def canary_numbers(draw: st.DrawFn) -> tuple[str, str, str]:
    """A NANP or UK number: (E.164, country code, national part)."""
    if draw(st.booleans()):
        area = draw(st.integers(201, 989))
        line = draw(st.integers(0, 99))
        national = f"{area}5550{line + 100:03d}"[:10]
        return "+1" + national, "1", national
    national = "20" + draw(st.from_regex(r"7946[0-9]{4}", fullmatch=True))
    return "+44" + national, "44", national


@dataclass
class _Answer:
    status: int = 500
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


@given(
    number=canary_numbers(),
    prefix=st.sampled_from(_KEY_PREFIXES),
    core=st.text(_ALNUM, min_size=14, max_size=30).map(lambda s: "Cnry" + s),
    status=st.sampled_from([400, 401, 403, 404, 409, 422, 429, 500, 502, 503]),
    form=st.integers(0, 11),
    place=st.sampled_from(["message", "details", "code", "request_id", "header", "html"]),
    wrap=st.sampled_from(["{}", "'{}'", "key={}", "Bearer {}", "({})", "{}.", "<{}>", "{}\n"]),
    flavour=st.sampled_from(["sync", "async"]),
)
@settings(max_examples=examples(60), suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_server_text_with_canaries_never_reaches_an_error_or_a_log(
    httpserver: HTTPServer,
    number: tuple[str, str, str],
    prefix: str,
    core: str,
    status: int,
    form: int,
    place: str,
    wrap: str,
    flavour: str,
) -> None:
    e164, country, national = number
    key = prefix + core
    # A request ID or a code is the server's to choose and is redacted by shape: a key the
    # server echoes there is found by its shape, not by the client's knowledge of its key.
    echoed_key = key if place in ("message", "details", "html") else f"sk_live_{core}"
    drawn_numbers = {e164: (country, national)}
    forms = written_forms(e164)
    shown_number = forms[form % len(forms)]
    echoed = f"{wrap.format(echoed_key)} may not call {wrap.format(shown_number)}"
    answer = _Answer(status=status, headers={"retry-after": "0", "x-request-id": "req_1"})
    document: dict[str, Any] = {"code": "refused", "message": "refused", "request_id": "req_1"}
    if place == "message":
        document["message"] = echoed
    elif place == "details":
        document["details"] = [{"field": "to", "message": echoed, "code": "x"}]
    elif place == "code":
        document["code"] = shown_number
        document["message"] = wrap.format(echoed_key)
    elif place == "request_id":
        answer.headers.pop("x-request-id")
        document["request_id"] = echoed
    elif place == "header":
        answer.headers["x-request-id"] = echoed.replace("\n", " ")
    answer.body = json.dumps(document).encode()
    if place == "html":
        answer.body = f"<html><p>{echoed}</p></html>".encode()

    def respond(request: Request) -> Response:
        kind = "text/html" if place == "html" else "application/json"
        return Response(answer.body, answer.status, answer.headers, content_type=kind)

    httpserver.clear()
    httpserver.expect_request("/api/v1/make-call").respond_with_handler(respond)
    sweep = Sweep()
    base = httpserver.url_for("")
    with tapped(sweep):
        if flavour == "sync":
            with VoiceClient(key, base_url=base, reliability=quiet()) as voice:
                sweep.raised("drawn", lambda: create_call(voice))
        else:
            sweep.raised("drawn", create_call_async(base, key))
    hits = [
        (label, name)
        for label, text in sweep.texts
        for name in hits_in(text, drawn_numbers, {"drawn key": key})
    ]
    assert hits == []
    assert sweep.errors >= 1
