"""Headers a caller gives a typed client (``headers=``, ``with_options(extra_headers=...)``,
``extra_headers=`` per call): a value httpx could not encode or the wire would reject is an
``InvalidParameterError`` naming the option, raised before anything is sent, never httpx's own
``UnicodeEncodeError``; a good one reaches the server as given. Searched with generated names
and values, sync and async, against an in-memory server that counts what it receives."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import httpx
import hypothesis
import hypothesis.strategies as st
import pytest

from stateset_voice_wrapper import InvalidParameterError

if TYPE_CHECKING:
    from tests.flavours import FLAVOURS, Flavour
    from tests.profiles import examples
else:
    from flavours import FLAVOURS, Flavour
    from profiles import examples

KEY = "sk_test_header_options_0123456789"
LOG = {
    "call_id": "call_1",
    "status": "completed",
    "direction": "outbound",
    "to": "+15555550101",
    "from": "+15555551234",
    "agent_key": "front_desk",
    "duration_seconds": 3,
    "escalated": False,
    "created_at": "2026-11-20T15:04:05Z",
}
TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
#: Names the client sets itself (a credential is never replaced; the identity headers are the
#: transport's): left out, so "reaches the server as given" is a fair question.
OWN = {"authorization", "x-request-id", "x-request-attempt", "idempotency-key", "content-length"}

NAMES = st.text(alphabet="Xa-_1é \t:", min_size=1, max_size=6)
VALUES = st.text(alphabet="ab 1\té\r\n\x00\x7f\u2028", max_size=8)


def _acceptable(name: str, value: str) -> bool:
    """The documented rule: a token name; a value of printable ASCII, not empty, with no
    whitespace at either end."""
    return (
        bool(TOKEN.fullmatch(name))
        and value == value.strip()
        and value != ""
        and all(" " <= c <= "~" for c in value)
    )


@pytest.mark.parametrize("flavour_name", FLAVOURS)
@pytest.mark.parametrize("where", ["per_call", "with_options", "constructor"])
@hypothesis.settings(max_examples=examples(60), deadline=None)
@hypothesis.given(name=NAMES, value=VALUES)
def test_a_header_given_to_a_typed_client_is_sent_as_given_or_refused_before_sending(
    flavour_name: str, where: str, name: str, value: str
) -> None:
    hypothesis.assume(name.lower() not in OWN)
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=LOG)

    flavour = Flavour(flavour_name)  # type: ignore[arg-type]
    try:
        given = {name: value}
        options: dict[str, Any] = {"base_url": "http://127.0.0.1:9"}
        options["transport"] = httpx.MockTransport(handler)
        if where == "constructor":
            options["headers"] = given
        good = _acceptable(name, value)

        def send() -> None:
            voice = flavour.client("voice", KEY, **options)
            if where == "with_options":
                voice = voice.with_options(extra_headers=given)
            extra = {"extra_headers": given} if where == "per_call" else {}
            flavour.call(voice, lambda c: c.call_logs.get("call_1", **extra))

        if good:
            send()
            assert seen[0].headers[name] == value
        else:
            option = "headers" if where == "constructor" else "extra_headers"
            with pytest.raises(InvalidParameterError, match=option):
                send()
            assert seen == []
    finally:
        flavour.close()
