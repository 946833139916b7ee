"""StateSet-Signature headers from the network: hostile values are InvalidSignatureError.

A delivery's header is unauthenticated until its v1 matches. Its ``t`` reaches int() and
float arithmetic; a plain ValueError or OverflowError there is a 500 from the documented
FastAPI and Flask handlers, which catch InvalidSignatureError only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stateset_voice_wrapper.webhooks import (
    InvalidSignatureError,
    construct_event,
    stateset_signature_header,
    verify_stateset_signature,
)

if TYPE_CHECKING:
    from tests.profiles import LONG, examples
else:  # the sibling module: pytest puts tests/ on sys.path
    from profiles import LONG, examples

SECRET = "whsec_untrusted"
NOW = 1_800_000_000
QUICK = settings(max_examples=examples(150), derandomize=not LONG, deadline=None,
                 suppress_health_check=[HealthCheck.too_slow])  # fmt: skip


# --- StateSet-Signature ---------------------------------------------------------------------


@pytest.mark.parametrize("digits", [16, 400, 4_299, 5_000, 8_100])
def test_oversized_timestamp_is_a_malformed_header(digits: int) -> None:
    header = f"t={'9' * digits},v1={'0' * 64}"
    with pytest.raises(InvalidSignatureError) as info:
        verify_stateset_signature(payload=b"{}", header=header, secrets=[SECRET], now=lambda: NOW)
    assert info.value.reason == "malformed_header"
    assert str(info.value) == "malformed header: t is not a unix timestamp"


def test_correctly_signed_absurd_timestamp_is_refused_not_overflowed() -> None:
    # The signature is valid for t=10**399, which would overflow `now() - t` as a float.
    header = stateset_signature_header(b"{}", secrets=[SECRET], timestamp=10**399)
    with pytest.raises(InvalidSignatureError) as info:
        verify_stateset_signature(payload=b"{}", header=header, secrets=[SECRET], now=lambda: NOW)
    assert info.value.reason == "malformed_header"


def test_fifteen_digit_timestamp_is_still_parsed() -> None:
    header = stateset_signature_header(b"{}", secrets=[SECRET], timestamp=NOW)
    padded = header.replace(f"t={NOW}", f"t=00000{NOW}")
    verify_stateset_signature(payload=b"{}", header=padded, secrets=[SECRET], now=lambda: NOW)


def test_payload_text_with_a_lone_surrogate_is_an_invalid_signature() -> None:
    header = stateset_signature_header(b"{}", secrets=[SECRET], timestamp=NOW)
    with pytest.raises(InvalidSignatureError) as info:
        construct_event(
            payload="{\udcff}", headers={"StateSet-Signature": header}, secrets=[SECRET]
        )
    assert info.value.reason == "malformed_payload"
    with pytest.raises(InvalidSignatureError):
        verify_stateset_signature(
            payload=b"{}", header=f"t={NOW},v1=\ud800", secrets=[SECRET], now=lambda: NOW
        )


@QUICK
@given(st.text(max_size=200) | st.from_regex(r"t=[0-9]{1,6000},v1=[0-9a-f]{0,64}", fullmatch=True))
def test_any_stateset_header_is_verified_or_invalid(header: str) -> None:
    with pytest.raises(InvalidSignatureError):
        verify_stateset_signature(payload=b"{}", header=header, secrets=[SECRET], now=lambda: NOW)
