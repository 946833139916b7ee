"""Hypothesis against a real sandbox over raw sockets: whatever a local client sends.

Random methods, request targets with control and percent-encoded bytes and phone numbers, junk
credentials, idempotency keys, oversized and malformed bodies (NaN, Infinity, invalid UTF-8),
control requests with the real admin key and non-finite numbers, from many loopback source
addresses. After every request: no 5xx. After all of them: every table the requests can grow
is within its bound, and no log line holds a raw control character or a full phone number.
"""

from __future__ import annotations

import logging
import re
import socket
import threading
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stateset_voice_wrapper.sandbox import Sandbox, SandboxLimits
from stateset_voice_wrapper.sandbox._constants import TEST_DEFAULTS
from stateset_voice_wrapper.sandbox._logsafe import CONTINUATION

if TYPE_CHECKING:
    from tests.profiles import LONG, examples
else:  # the sibling module: pytest puts tests/ on sys.path
    from profiles import LONG, examples

LIMITS = SandboxLimits(
    max_rate_limit_buckets=8,
    max_idempotency_keys=20,
    max_anonymous_idempotency_keys=10,
    max_access_requests=10,
    max_anonymous_body_bytes=2048,
    max_body_bytes=8192,
    max_request_log=50,
)
LOGGERS = ("stateset_voice_wrapper.sandbox", "stateset_voice_wrapper.sandbox.server")


class Lines(logging.Handler):
    """Every formatted record of the sandbox's loggers, from any thread."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self._guard = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        text = self.format(record)
        with self._guard:
            self.lines.append(text)


@dataclass
class Target:
    sandbox: Sandbox
    host: str
    port: int
    log: Lines
    phones: set[str] = field(default_factory=set)


@pytest.fixture(scope="module")
def target() -> Iterator[Target]:
    log = Lines()
    previous = []
    for name in LOGGERS:
        logger = logging.getLogger(name)
        previous.append(logger.level)
        logger.setLevel(logging.DEBUG)
        logger.addHandler(log)
    options = {**TEST_DEFAULTS, "rate_limit": 40, "rate_limit_refill_per_second": 5.0}
    try:
        with Sandbox(**options, limits=LIMITS) as sandbox:
            host, port = sandbox.base_url.removeprefix("http://").rsplit(":", 1)
            yield Target(sandbox, host, int(port), log)
    finally:
        for name, level in zip(LOGGERS, previous, strict=True):
            logging.getLogger(name).removeHandler(log)
            logging.getLogger(name).setLevel(level)


def send(target: Target, raw: bytes, source: int) -> int | None:
    """Send one raw request from 127.0.0.<source>; return the status of the answer."""
    with socket.create_connection(
        (target.host, target.port), timeout=10.0, source_address=(f"127.0.0.{source}", 0)
    ) as conn:
        conn.sendall(raw)
        data = b""
        try:
            while chunk := conn.recv(65536):
                data += chunk
        except ConnectionResetError:
            pass
    match = re.match(rb"HTTP/1\.[01] (\d{3}) ", data)
    return int(match.group(1)) if match else None


PREFIXES = [
    "/api/v1/call-logs",
    "/api/v1/voice-sessions",
    "/api/v1/evaluations",
    "/api/v1/make-call",
    "/api/v1/access-requests",
    "/api/v1/incoming-call",
    "/api/v1/readiness",
    "/api/v1/admin/tenants",
    "/api/v1/admin/phone-routes",
    "/api/v1/admin/agent-versions",
    "/api-docs/public.json",
    "/_sandbox/info",
    "/",
]
phones = st.builds(lambda n: f"+1555{n:07d}", st.integers(0, 9_999_999))


@st.composite
def segment(draw: st.DrawFn) -> tuple[str, str | None]:
    """A path segment as sent, and the phone number it carries (if any)."""
    kind = draw(st.sampled_from(["text", "phone", "encoded-phone", "controls", "bytes"]))
    if kind == "phone":
        phone = draw(phones)
        return phone, phone
    if kind == "encoded-phone":
        phone = draw(phones)
        return quote(phone, safe=""), phone
    if kind == "controls":
        chars = draw(
            st.lists(
                st.sampled_from(
                    ["\n", "\r", "\x1b", "\x00", "\x7f", "\x85", "\u202e", "\u2028", "["]
                ),
                min_size=1,
                max_size=6,
            )
        )
        return quote("".join(chars), safe=""), None
    if kind == "bytes":
        data = draw(st.binary(max_size=12))
        return "".join(f"%{b:02x}" for b in data), None
    return quote(draw(st.text(max_size=12)), safe="+()@:"), None


@st.composite
def request_bytes(draw: st.DrawFn, target: Target) -> tuple[bytes, int]:
    method = draw(
        st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "TRACE", "OPTIONS", "HEAD"])
        | st.from_regex(r"\A[A-Z]{1,8}\Z")
    )
    parts = draw(st.lists(segment(), max_size=3))
    path = draw(st.sampled_from(PREFIXES)).rstrip("/") + "".join("/" + p for p, _ in parts)
    for _, phone in parts:
        if phone:
            target.phones.add(phone)
    if draw(st.booleans()):
        value, phone = draw(segment())
        path += f"?{draw(st.sampled_from(['agent_key', 'status', 'to', 'limit', 'created_after', 'x']))}={value}"
        if phone:
            target.phones.add(phone)
    headers = [f"Host: {target.host}", "Connection: close"]
    sandbox = target.sandbox
    auth = draw(st.sampled_from(["none", "junk", "runtime", "admin", "junk-admin"]))
    junk = draw(
        st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=40)
    )
    if auth == "junk":
        headers.append(f"Authorization: Bearer {junk}")
    elif auth == "runtime":
        headers.append(f"Authorization: Bearer {sandbox.runtime_key}")
    elif auth == "admin":
        headers.append(f"x-admin-key: {sandbox.admin_key}")
    elif auth == "junk-admin":
        headers.append(f"x-admin-key: {junk}")
    if draw(st.booleans()):
        headers.append(f"Idempotency-Key: {junk}")
    if draw(st.booleans()):
        phone = draw(phones)
        target.phones.add(phone)
        headers.append(f"X-Request-Id: call {phone}")
    body = draw(
        st.sampled_from(
            [
                b"",
                b'{"steps": NaN}',
                b'{"seconds": Infinity}',
                b'{"limit": 5, "refill_per_second": "nan"}',
                b'{"company": "A", "contact_name": "B", "email": "a@b.example", "use_case": "c"}',
                b'{"to": "+15555550100", "from": "+15555551234", "agent_key": "a", "metadata": {"n": -Infinity}}',
                b"\xff\xfe\x00garbage",
                b"[" * 5000,
            ]
        )
        | st.binary(max_size=64)
        | st.integers(LIMITS.max_anonymous_body_bytes, LIMITS.max_body_bytes * 2).map(
            lambda n: b"x" * n
        )
    )
    if body:
        headers.append(
            f"Content-Type: {draw(st.sampled_from(['application/json', 'application/x-www-form-urlencoded', 'text/plain']))}"
        )
        headers.append(f"Content-Length: {len(body)}")
    head = f"{method} {path} HTTP/1.1\r\n" + "".join(h + "\r\n" for h in headers) + "\r\n"
    return head.encode("latin-1") + body, draw(st.integers(1, 250))


@st.composite
def control_bytes(draw: st.DrawFn, target: Target) -> tuple[bytes, int]:
    """A control request with the real admin key and a number that is not a finite one."""
    path = draw(
        st.sampled_from(["/_sandbox/advance", "/_sandbox/rate-limit", "/_sandbox/webhooks/flush"])
    )
    name = {
        "/_sandbox/advance": draw(st.sampled_from(["steps", "seconds"])),
        "/_sandbox/rate-limit": "refill_per_second",
        "/_sandbox/webhooks/flush": "timeout",
    }[path]
    number = draw(
        st.sampled_from(["NaN", "Infinity", "-Infinity", '"nan"', '"inf"', "1e999", "-1e999"])
    )
    extra = ', "limit": 3' if path.endswith("rate-limit") else ""
    body = f'{{"{name}": {number}{extra}}}'.encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {target.host}\r\nConnection: close\r\n"
        f"x-admin-key: {target.sandbox.admin_key}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body, 1


FUZZ = settings(
    max_examples=examples(250),
    deadline=None,
    database=None,
    derandomize=not LONG,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
_RAW_CONTROL = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]"
)


def _assert_log_is_clean(target: Target) -> None:
    lines = list(target.log.lines)
    assert len(lines) > 100
    for text in lines:
        first, *rest = text.split("\n")
        assert all(line.startswith(CONTINUATION) for line in rest), ascii(text)
        for line in (first, *rest):
            assert not _RAW_CONTROL.search(line), ascii(line)
            assert all(unicodedata.category(c) not in ("Cc", "Cf", "Zl", "Zp") for c in line)
    assert target.phones
    joined = "\n".join(lines)
    for phone in target.phones:
        digits = phone.lstrip("+")
        assert digits not in joined, phone
        assert digits[:7] not in joined, phone  # at most the last two digits are logged


def test_junk_requests_never_get_a_5xx_and_leave_every_table_bounded(target: Target) -> None:
    @FUZZ
    @given(data=st.data())
    def one_request(data: st.DataObject) -> None:
        raw, source = data.draw(request_bytes(target))
        status = send(target, raw, source)
        assert status is not None, raw[:200]
        assert status < 500, raw[:300]

    one_request()
    sizes = target.sandbox.table_sizes()
    assert sizes["rate_limit_buckets"] <= LIMITS.max_rate_limit_buckets
    assert sizes["idempotency_records"] <= 3 * LIMITS.max_idempotency_keys
    assert sizes["idempotency_creations"] <= 3 * LIMITS.max_idempotency_keys
    assert sizes["access_requests"] <= LIMITS.max_access_requests
    assert sizes["request_log"] == LIMITS.max_request_log
    assert target.sandbox._core().limiter.overflowed > 0  # 250 peers went past 8 buckets
    _assert_log_is_clean(target)


def test_non_finite_control_numbers_are_refused_and_the_api_keeps_working(
    target: Target,
) -> None:
    readiness = (
        f"GET /api/v1/readiness HTTP/1.1\r\nHost: {target.host}\r\nConnection: close\r\n"
        f"Authorization: Bearer {target.sandbox.runtime_key}\r\n\r\n"
    ).encode()

    @FUZZ
    @given(data=st.data())
    def one_control(data: st.DataObject) -> None:
        raw, source = data.draw(control_bytes(target))
        assert send(target, raw, source) == 422
        assert send(target, readiness, 1) in (200, 429)  # alive; maybe limited, never 5xx

    one_control()
    info = target.sandbox.info()
    assert info["rate_limit"]["refill_per_second"] == 5.0
    assert info["clock"] == 0.0
