"""Redaction searched for its two failures: a number that gets through, an ID that gets eaten.

``mask_phone_numbers`` runs on every text the package did not write before it reaches a
message, a log record or the sandbox's request log. Hypothesis renders phone numbers in the
forms people and servers write them (E.164, ``%2B``-encoded, ``00``-prefixed, grouped with
spaces, dots, hyphens, slashes or their percent-encodings, a parenthesised area code) inside
surrounding text, and checks that at most the last two digits survive. It also embeds request
IDs (UUIDs, whose all-digit groups look like a hyphenated number) and checks they survive
whole: an error whose request ID is masked cannot be traced.
"""

from __future__ import annotations

import re

from hypothesis import assume, given
from hypothesis import strategies as st

from stateset_voice_wrapper._shared.redact import mask_phone_numbers, redact

# Text around a value: no digits and no hex letters, so what survives is attributable.
CONTEXT = st.text(alphabet=" :=,;[]{}<>'\"!?_ghijklmnopqrstuvwxyzGHIJKLMNOPQRSTUVWXYZ", max_size=12)
# The separators a written number may use, raw and percent-encoded.
SEPARATORS = st.sampled_from([" ", ".", "-", "/", "%20", "%2D", "%2F", " - "])


def _groups(digits: str, sizes: list[int]) -> list[str]:
    out, at = [], 0
    for size in sizes:
        if at >= len(digits):
            break
        out.append(digits[at : at + size])
        at += size
    if at < len(digits):
        out.append(digits[at:])
    return out


@st.composite
def written_numbers(draw: st.DrawFn) -> tuple[str, str]:
    """(the digits of an E.164 number without '+', one way of writing it)."""
    prefixed = draw(st.booleans())
    low = 7 if prefixed else 10  # an unprefixed number shorter than 10 digits is a count
    country = draw(st.sampled_from(["1", "44", "49", "33", "61", "353", "971"]))
    rest = draw(
        st.text(alphabet="0123456789", min_size=low - len(country), max_size=15 - len(country))
    )
    digits = country + rest
    grouped = draw(st.booleans())
    if grouped:
        sizes = draw(st.lists(st.integers(2, 4), min_size=2, max_size=7))
        groups = _groups(digits, sizes)
        assume(len(groups) <= 8 and all(len(g) <= 4 for g in groups))
        separator = draw(SEPARATORS)
        if not prefixed and draw(st.booleans()) and len(groups) > 1:
            groups[0] = f"({groups[0]})"
        body = separator.join(groups)
    else:
        body = digits
    prefix = draw(st.sampled_from(["+", "%2B", "%2b", "00"])) if prefixed else ""
    written = prefix + body
    if not prefixed:
        # Shapes the masker deliberately leaves: a date, an IPv4 address, a decimal.
        assume(not re.fullmatch(r"\d{1,3}(?:\.\d{1,3}){3}|\d+\.\d+", written))
    return digits, written


@given(number=written_numbers(), before=CONTEXT, after=CONTEXT)
def test_no_more_than_two_digits_of_a_number_survive(
    number: tuple[str, str], before: str, after: str
) -> None:
    digits, written = number
    masked = mask_phone_numbers(f"{before} {written} {after}")
    survivors = "".join(c for c in masked if c.isdigit())
    assert len(survivors) <= 2, (written, masked)
    assert survivors == digits[-len(survivors) :] if survivors else True
    # redact() (credentials, then numbers) holds the same promise.
    assert sum(c.isdigit() for c in redact(f"{before} {written} {after}")) <= 2


@given(
    ids=st.lists(st.uuids(), min_size=1, max_size=3), glue=st.lists(CONTEXT, min_size=4, max_size=4)
)
def test_request_ids_survive_whole(ids: list[object], glue: list[str]) -> None:
    shown = [str(i) for i in ids]
    text = glue[0] + f"{glue[1]} ".join(shown) + glue[2] + "-" + glue[3]
    masked = mask_phone_numbers(text)
    for request_id in shown:
        assert request_id in masked


@given(uuid=st.uuids(), number=written_numbers())
def test_a_number_beside_a_request_id_is_still_masked(
    uuid: object, number: tuple[str, str]
) -> None:
    _, written = number
    masked = mask_phone_numbers(f"request_id={uuid} to={written}")
    assert str(uuid) in masked
    assert sum(c.isdigit() for c in masked.split("to=", 1)[1]) <= 2
