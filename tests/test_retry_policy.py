"""The retry policy of ``_retry.py`` as pure functions: no network, no clock."""

from __future__ import annotations

import math
from email.utils import formatdate

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from stateset_voice_wrapper._reliability.policy import (
    FailureKind,
    backoff_delay,
    classify_exception,
    is_idempotent,
    is_retryable,
    retry_after_seconds,
)
from stateset_voice_wrapper._shared.defaults import RETRYABLE_STATUSES

NOW = 1_700_000_000.0
REQUEST = httpx.Request("GET", "http://127.0.0.1/x")

# -- classify_exception -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (httpx.ConnectError("refused", request=REQUEST), FailureKind.NOT_SENT),
        (httpx.ConnectTimeout("slow connect", request=REQUEST), FailureKind.NOT_SENT),
        (httpx.PoolTimeout("pool", request=REQUEST), FailureKind.NOT_SENT),
        (httpx.ReadError("reset", request=REQUEST), FailureKind.MAYBE_SENT),
        (httpx.ReadTimeout("slow read", request=REQUEST), FailureKind.MAYBE_SENT),
        (httpx.WriteError("broken pipe", request=REQUEST), FailureKind.MAYBE_SENT),
        (httpx.WriteTimeout("slow write", request=REQUEST), FailureKind.MAYBE_SENT),
        (httpx.RemoteProtocolError("half body", request=REQUEST), FailureKind.MAYBE_SENT),
        (httpx.UnsupportedProtocol("ftp://", request=REQUEST), FailureKind.FATAL),
        (httpx.LocalProtocolError("bad header", request=REQUEST), FailureKind.FATAL),
        (httpx.ProxyError("proxy", request=REQUEST), FailureKind.FATAL),
        (ValueError("not a transport error"), FailureKind.FATAL),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, Exception) else str(value),
)
def test_classify_exception(exc: BaseException, kind: FailureKind) -> None:
    assert classify_exception(exc) is kind


# -- is_idempotent ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "key", "expected"),
    [
        ("GET", None, True),
        ("get", None, True),
        ("HEAD", None, True),
        ("OPTIONS", None, True),
        ("PUT", None, True),
        ("DELETE", None, True),
        ("POST", None, False),
        ("PATCH", None, False),
        ("POST", "k1", True),
        ("PATCH", "k1", True),
        ("POST", "", False),
    ],
)
def test_is_idempotent(method: str, key: str | None, expected: bool) -> None:
    assert is_idempotent(method, key) is expected


# -- is_retryable -----------------------------------------------------------------------------


@pytest.mark.parametrize("status", sorted(RETRYABLE_STATUSES))
def test_retryable_statuses_only_when_idempotent(status: int) -> None:
    assert is_retryable(idempotent=True, status_code=status)
    assert not is_retryable(idempotent=False, status_code=status)


@pytest.mark.parametrize("status", [200, 201, 204, 301, 400, 401, 403, 404, 409, 422, 501, 520])
@pytest.mark.parametrize("idempotent", [True, False])
def test_other_statuses_never_retried(status: int, idempotent: bool) -> None:
    assert not is_retryable(idempotent=idempotent, status_code=status)


def test_the_retryable_status_set_is_the_documented_one() -> None:
    assert frozenset({408, 429, 500, 502, 503, 504}) == RETRYABLE_STATUSES


@pytest.mark.parametrize(
    ("failure", "idempotent", "expected"),
    [
        (FailureKind.NOT_SENT, False, True),
        (FailureKind.NOT_SENT, True, True),
        (FailureKind.MAYBE_SENT, True, True),
        (FailureKind.MAYBE_SENT, False, False),
        (FailureKind.FATAL, True, False),
        (FailureKind.FATAL, False, False),
    ],
)
def test_retryable_failures(failure: FailureKind, idempotent: bool, expected: bool) -> None:
    assert is_retryable(idempotent=idempotent, failure=failure) is expected


def test_nothing_to_judge_is_not_retryable() -> None:
    assert not is_retryable(idempotent=True)


# -- backoff_delay ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("retry_number", "ceiling"),
    [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (5, 8.0), (6, 8.0), (50, 8.0)],
)
def test_backoff_ceiling_doubles_to_the_cap(retry_number: int, ceiling: float) -> None:
    assert backoff_delay(retry_number, base=0.5, cap=8.0, random=lambda: 0.999) == pytest.approx(
        0.999 * ceiling
    )
    assert backoff_delay(retry_number, base=0.5, cap=8.0, random=lambda: 0.0) == 0.0


def test_backoff_is_full_jitter() -> None:
    assert backoff_delay(3, base=0.5, cap=8.0, random=lambda: 0.25) == pytest.approx(0.5)


def test_backoff_survives_a_huge_retry_number() -> None:
    # 2.0 ** 2000 overflows a float; the cap has long been reached by then.
    assert backoff_delay(2000, base=0.5, cap=8.0, random=lambda: 0.5) == pytest.approx(4.0)


@given(
    retry_number=st.integers(min_value=0, max_value=100_000),
    base=st.floats(min_value=0.0, max_value=100.0),
    cap=st.floats(min_value=0.0, max_value=1000.0),
    fraction=st.floats(min_value=0.0, max_value=1.0, exclude_max=True),
)
def test_backoff_is_between_zero_and_cap(
    retry_number: int, base: float, cap: float, fraction: float
) -> None:
    delay = backoff_delay(retry_number, base=base, cap=cap, random=lambda: fraction)
    assert 0.0 <= delay <= cap
    assert math.isfinite(delay)


@given(
    retry_number=st.integers(min_value=1, max_value=60),
    fraction=st.floats(min_value=0.0, max_value=1.0, exclude_max=True),
)
def test_backoff_never_exceeds_the_exponential_ceiling(retry_number: int, fraction: float) -> None:
    delay = backoff_delay(retry_number, base=0.5, cap=8.0, random=lambda: fraction)
    assert delay <= min(8.0, 0.5 * 2.0 ** (retry_number - 1))


# -- retry_after_seconds ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, None),
        ({"retry-after": "5"}, 5.0),
        ({"retry-after": " 7 "}, 7.0),
        ({"retry-after": "0"}, 0.0),
        ({"retry-after": "1.5"}, 1.5),
        ({"retry-after": "-1"}, None),
        ({"retry-after": "soon"}, None),
        ({"retry-after": ""}, None),
        ({"retry-after": "nan"}, None),
        ({"retry-after": "Mon, 99 Foo 2024 25:61:00 GMT"}, None),
        ({"retry-after-ms": "250"}, 0.25),
        ({"retry-after-ms": "0"}, 0.0),
        ({"retry-after-ms": "250", "retry-after": "9"}, 0.25),
        ({"retry-after-ms": "junk", "retry-after": "9"}, 9.0),
        ({"retry-after-ms": "-5", "retry-after": "9"}, 9.0),
        ({"retry-after-ms": "nan"}, None),
    ],
)
def test_retry_after_values(headers: dict[str, str], expected: float | None) -> None:
    assert retry_after_seconds(httpx.Headers(headers), now=NOW) == expected


def test_retry_after_http_date_is_relative_to_now() -> None:
    headers = httpx.Headers({"Retry-After": formatdate(NOW + 30, usegmt=True)})
    assert retry_after_seconds(headers, now=NOW) == pytest.approx(30.0)


def test_retry_after_http_date_in_the_past_is_zero() -> None:
    headers = httpx.Headers({"Retry-After": formatdate(NOW - 300, usegmt=True)})
    assert retry_after_seconds(headers, now=NOW) == 0.0


def test_retry_after_http_date_without_a_zone_is_ignored() -> None:
    # RFC 5322 "-0000" means "zone unknown": parsedate_to_datetime gives a naive datetime.
    assert retry_after_seconds({"retry-after": "Tue, 14 Nov 2023 22:13:50 -0000"}, now=NOW) is None


def test_retry_after_header_names_are_case_insensitive_with_httpx_headers() -> None:
    headers = httpx.Headers({"Retry-After": "3", "Retry-After-Ms": "1500"})
    assert retry_after_seconds(headers, now=NOW) == 1.5


_RETRY_AFTER_VALUES = st.one_of(
    st.text(max_size=40),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.floats(min_value=-1e9, max_value=1e9).map(lambda t: formatdate(NOW + t, usegmt=True)),
    st.datetimes().map(lambda d: d.strftime("%a, %d %b %Y %H:%M:%S GMT")),
)


@given(
    retry_after=st.none() | _RETRY_AFTER_VALUES,
    retry_after_ms=st.none() | _RETRY_AFTER_VALUES,
    now=st.floats(min_value=0.0, max_value=4e9),
)
def test_retry_after_is_never_negative_and_never_raises(
    retry_after: str | None, retry_after_ms: str | None, now: float
) -> None:
    headers = {
        name: value
        for name, value in (("retry-after", retry_after), ("retry-after-ms", retry_after_ms))
        if value is not None
    }
    seconds = retry_after_seconds(headers, now=now)
    assert seconds is None or seconds >= 0.0
