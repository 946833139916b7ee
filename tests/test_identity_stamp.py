"""Stamping a request's identity takes a shortcut when the request carries no identity header
and its options give neither an ID nor a key (the commonest request: a new ID, and a new key
for a creating POST, appended). The shortcut leaves the request, and answers, exactly as the
general stamping does, over generated headers, header encodings, methods, paths and options.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stateset_voice_wrapper import ReliabilityConfig, RetryBudget, StateSetVoiceError
from stateset_voice_wrapper._reliability import identity
from stateset_voice_wrapper._reliability.options import RequestOverrides

if TYPE_CHECKING:
    from tests.profiles import examples
else:  # the sibling module: pytest puts tests/ on sys.path
    from profiles import examples

_NAMES = ["Accept", "X-Request-Id", "x-request-id", "Idempotency-Key", "X-Request-Attempt"]
_HEADERS = st.lists(
    st.tuples(
        st.sampled_from([*_NAMES, "X-Other", "Authorization"]),
        st.text(alphabet="ab19-_ é\t\n", max_size=8),
    ),
    max_size=5,
)
_OPTIONS = st.one_of(
    st.none(),
    st.builds(
        RequestOverrides,
        client_request_id=st.sampled_from([None, "req-given-1"]),
        idempotency_key=st.sampled_from([None, "key-given-1"]),
        extra_headers=st.sampled_from([None, {"X-Extra": "1"}, {"X-Request-Id": "req-extra"}]),
    ),
)


def _counter() -> Callable[[], str]:
    numbers: Iterator[int] = iter(range(1, 1000))
    return lambda: f"00000000-0000-4000-8000-{next(numbers):012d}"


def _stamp(
    stamp: Callable[..., Any],
    request: httpx.Request,
    config: ReliabilityConfig,
    options: RequestOverrides | None,
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[object, ...]:
    """What stamping leaves and answers: the header list and encoding, the identity, the key,
    or the typed error it raised."""
    monkeypatch.setattr(identity, "random_uuid", _counter())
    try:
        found, key = stamp(config, request, options)
    except StateSetVoiceError as exc:
        return (type(exc), str(exc), list(request.headers._list))
    shown = (found.method, found.client_request_id, found.idempotency_key, found.path)
    return (list(request.headers._list), request.headers._encoding, shown, key)


@settings(max_examples=examples(400), deadline=None)
@given(
    given_headers=_HEADERS,
    encoding=st.sampled_from([None, "utf-8", "latin-1", "ascii", "utf-16"]),
    method=st.sampled_from(["GET", "POST", "DELETE"]),
    path=st.sampled_from(["/api/v1/make-call", "/api/v1/call-logs/call_1", "/x"]),
    auto_keys=st.booleans(),
    options=_OPTIONS,
)
def test_stamping_with_the_shortcut_is_stamping_the_long_way(
    given_headers: list[tuple[str, str]],
    encoding: str | None,
    method: str,
    path: str,
    auto_keys: bool,
    options: RequestOverrides | None,
) -> None:
    config = ReliabilityConfig(budget=RetryBudget(), auto_idempotency_keys=auto_keys)
    answers = []
    with pytest.MonkeyPatch.context() as monkeypatch:
        for stamp in (identity.stamp_identity, _the_long_way):
            raw = [(k.encode("utf-8"), v.encode("utf-8")) for k, v in given_headers]
            request = httpx.Request(method, f"https://voice.example{path}", headers=raw)
            if encoding is not None:
                request.headers.encoding = encoding
            answers.append(_stamp(stamp, request, config, options, monkeypatch))
    assert answers[0] == answers[1]


def _the_long_way(
    config: ReliabilityConfig, request: httpx.Request, options: RequestOverrides | None
) -> tuple[Any, str | None]:
    """The general stamping, with the caller's extras applied first as ``stamp_identity``
    applies them."""
    if options is not None:
        identity._apply_extras(request, options)
    return identity._stamp_given(config, request, options)


def test_the_shortcut_is_the_path_a_plain_request_takes(monkeypatch: pytest.MonkeyPatch) -> None:
    """A request with no identity header and no options never reaches the general stamping
    (so the differential test above compares two different paths)."""

    def refuse(*_: object) -> None:
        raise AssertionError("the general stamping ran")

    monkeypatch.setattr(identity, "_stamp_given", refuse)
    request = httpx.Request("POST", "https://voice.example/api/v1/make-call")
    found, key = identity.stamp_identity(ReliabilityConfig(budget=RetryBudget()), request, None)
    assert key is not None
    assert found.idempotency_key == key
    assert [name for name, _, _ in request.headers._list][-3:] == [
        b"X-Request-Id",
        b"Idempotency-Key",
        b"X-Request-Attempt",
    ]
