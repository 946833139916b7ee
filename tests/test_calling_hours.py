"""The calling-hours guard refuses and allows exactly as its table says.

Each row is a number, an instant (UTC) and a window; the expected answer was worked out by
hand from the zones phonenumbers gives the number and the offsets in force then, and is
written in the row's comment. Nothing here reads the real clock: ``CallingWindow.check`` takes
the instant, and the clients pass their ``ReliabilityConfig.wall_clock`` (tested in
``test_calling_hours_clients.py``).

The numbers are fictional where a fictional range exists (NANP 555-01xx, Ofcom's drama
numbers, ACMA's 0491 570 xxx); phonenumbers reads them as valid numbers of their region.
"""

from __future__ import annotations

import datetime as dt
import sys
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfoNotFoundError

import attrs
import hypothesis
import hypothesis.strategies as st
import pytest

from stateset_voice_wrapper import (
    CallingRule,
    CallingWindow,
    ConfigurationError,
    InvalidParameterError,
    OutsideCallingHoursError,
    StateSetVoiceError,
    UnknownCalleeLocationError,
)
from stateset_voice_wrapper._clients import callee, calling_hours, us_area_codes

if TYPE_CHECKING:
    from tests.profiles import LONG, examples
else:  # the sibling module: pytest puts tests/ on sys.path
    from profiles import LONG, examples

NY = "+12125550101"  # Manhattan: America/New_York
NY_646 = "+16465550101"  # New York state, not area code 212
FL = "+13055550101"  # Miami
CA_STATE = "+14155550101"  # San Francisco: America/Los_Angeles
IDAHO = "+12085550101"  # America/Boise and America/Los_Angeles
NEWFOUNDLAND = "+17095550101"  # America/Halifax and America/St_Johns
TORONTO = "+14165550101"
RUSSIA_MOBILE = "+79161234567"  # country level: 16 zones, Europe/Bucharest (+2) to Kamchatka (+12)
AU_MOBILE = "+61491570156"  # country level: Indian/Cocos (+6:30) to Sydney (+11 in January)
LONDON = "+442079460123"
TOKYO = "+81312345678"
TOLL_FREE_US = "+18005550101"
TOLL_FREE_UK = "+448001234567"
PREMIUM_US = "+19005550123"
INVALID = "+15555550101"  # 555 is no area code

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")

WINDOWS: dict[str, dict[str, Any]] = {
    "default": {},
    "tiered": {
        "rules": (
            CallingRule(countries=("US",), start="09:00", end="20:00"),
            CallingRule(us_states=("NY",), start="08:30"),
            CallingRule(area_codes=("212",), start="10:00", end="19:00"),
            CallingRule(us_states=("FL",), end="20:00", days=(*WEEKDAYS, "sat")),
            CallingRule(countries="JP", start="09:00"),
        )
    },
    "weekdays": {"days": WEEKDAYS},
    "allow_unknown": {"unknown": "allow"},
}

ALLOWED = "allowed"

# (window, number, at (UTC), expected: ALLOWED, ("outside", next allowed (UTC), rule) or
# ("unknown", a phrase of the reason))
TABLE: list[tuple[str, str, str, Any]] = [
    # 2026-03-02 is a Monday; New York is on EST (-5) until 2026-03-08.
    ("default", NY, "2026-03-02 12:59", ("outside", "2026-03-02 13:00", "default")),  # 07:59
    ("default", NY, "2026-03-02 13:00", ALLOWED),  # 08:00
    ("default", NY, "2026-03-03 01:59:59", ALLOWED),  # 20:59:59
    ("default", NY, "2026-03-03 02:00", ("outside", "2026-03-03 13:00", "default")),  # 21:00
    # Spring forward on Sunday 2026-03-08: 08:00 EDT is 12:00 UTC, a day after it was 13:00.
    ("default", NY, "2026-03-07 12:30", ("outside", "2026-03-07 13:00", "default")),
    ("default", NY, "2026-03-08 11:59", ("outside", "2026-03-08 12:00", "default")),
    ("default", NY, "2026-03-08 12:00", ALLOWED),
    # Fall back on 2026-11-01 at 06:00 UTC: 08:00 EST is 13:00 UTC again.
    ("default", NY, "2026-11-01 12:30", ("outside", "2026-11-01 13:00", "default")),
    # London: GMT in winter, BST (+1) from 2026-03-29 01:00 UTC to 2026-10-25 01:00 UTC.
    ("default", LONDON, "2026-01-12 07:59", ("outside", "2026-01-12 08:00", "default")),
    ("default", LONDON, "2026-03-29 07:00", ALLOWED),  # 08:00 BST on the change day
    ("default", LONDON, "2026-07-13 07:30", ALLOWED),  # 08:30 BST
    ("default", LONDON, "2026-10-25 07:30", ("outside", "2026-10-25 08:00", "default")),
    ("default", TOKYO, "2026-03-01 22:59", ("outside", "2026-03-01 23:00", "default")),
    # Several zones: inside only when inside in each.
    # Idaho at 15:30: 08:30 in Boise but 07:30 in Los Angeles; at 04:00, 21:00 in Boise.
    ("default", IDAHO, "2026-03-02 15:30", ("outside", "2026-03-02 16:00", "default")),
    ("default", IDAHO, "2026-03-03 04:00", ("outside", "2026-03-03 16:00", "default")),
    ("default", IDAHO, "2026-03-02 16:00", ALLOWED),
    # 709 in January: 07:15 AST in Halifax, 07:45 NST in St John's; Halifax opens last.
    ("default", NEWFOUNDLAND, "2026-01-12 11:15", ("outside", "2026-01-12 12:00", "default")),
    # Russia: 08:00 in Bucharest (+2) is 06:00 UTC; 21:00 in Kamchatka (+12) is 09:00 UTC.
    ("default", RUSSIA_MOBILE, "2026-03-07 12:00", ("outside", "2026-03-08 06:00", "default")),
    ("default", RUSSIA_MOBILE, "2026-03-08 08:59", ALLOWED),
    ("default", RUSSIA_MOBILE, "2026-03-08 09:00", ("outside", "2026-03-09 06:00", "default")),
    # Australia in January: Cocos (+6:30) opens at 01:30 UTC, Sydney (+11) closes at 10:00.
    ("default", AU_MOBILE, "2026-01-12 00:00", ("outside", "2026-01-12 01:30", "default")),
    ("default", AU_MOBILE, "2026-01-12 09:59", ALLOWED),
    ("default", AU_MOBILE, "2026-01-12 10:00", ("outside", "2026-01-13 01:30", "default")),
    # Precedence: area code 212 > state NY > country US > the window's own hours.
    ("tiered", NY, "2026-03-02 14:30", ("outside", "2026-03-02 15:00", "area_codes 212")),
    ("tiered", NY, "2026-03-03 00:00", ("outside", "2026-03-03 15:00", "area_codes 212")),
    ("tiered", NY_646, "2026-03-02 14:30", ALLOWED),  # 09:30, the state's 08:30 start
    ("tiered", NY_646, "2026-03-02 13:15", ("outside", "2026-03-02 13:30", "us_states NY")),
    ("tiered", NY_646, "2026-03-03 01:30", ALLOWED),  # 20:30: NY keeps the window's 21:00
    ("tiered", FL, "2026-03-03 01:30", ("outside", "2026-03-03 13:00", "us_states FL")),
    ("tiered", FL, "2026-03-08 15:00", ("outside", "2026-03-09 12:00", "us_states FL")),  # Sun
    ("tiered", CA_STATE, "2026-03-02 16:30", ("outside", "2026-03-02 17:00", "countries US")),
    ("tiered", TORONTO, "2026-03-02 13:15", ALLOWED),  # Canada: the window's own hours
    ("tiered", TOKYO, "2026-03-01 23:30", ("outside", "2026-03-02 00:00", "countries JP")),
    # The day of the week is the callee's: Sunday 23:30 UTC is Monday 08:30 in Tokyo.
    ("weekdays", NY, "2026-03-06 15:00", ALLOWED),  # Friday
    ("weekdays", NY, "2026-03-07 15:00", ("outside", "2026-03-09 12:00", "default")),  # Sat
    ("weekdays", TOKYO, "2026-03-01 23:30", ALLOWED),
    ("weekdays", TOKYO, "2026-03-06 12:30", ("outside", "2026-03-08 23:00", "default")),
    # Numbers whose local time cannot be told.
    ("default", TOLL_FREE_US, "2026-03-02 15:00", ("unknown", "toll-free")),
    ("default", TOLL_FREE_UK, "2026-03-02 12:00", ("unknown", "toll-free")),
    ("default", PREMIUM_US, "2026-03-02 15:00", ("unknown", "premium-rate")),
    ("default", INVALID, "2026-03-02 15:00", ("unknown", "not a valid number")),
    ("allow_unknown", TOLL_FREE_US, "2026-03-02 03:00", ALLOWED),
    ("allow_unknown", INVALID, "2026-03-02 03:00", ALLOWED),
    ("allow_unknown", NY, "2026-03-02 12:59", ("outside", "2026-03-02 13:00", "default")),
]


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("window", "number", "at", "expected"),
    TABLE,
    ids=[f"{w}-{n}-{a}" for w, n, a, _ in TABLE],
)
def test_the_table(window: str, number: str, at: str, expected: Any) -> None:
    guard = CallingWindow(**WINDOWS[window])
    if expected == ALLOWED:
        guard.check(number, at=utc(at))
        return
    with pytest.raises(OutsideCallingHoursError) as info:
        guard.check(number, at=utc(at))
    error = info.value
    if expected[0] == "unknown":
        assert isinstance(error, UnknownCalleeLocationError)
        assert expected[1] in error.reason
        assert error.next_allowed_at is None
        assert error.zones == ()
        return
    assert type(error) is OutsideCallingHoursError
    _, next_allowed, rule = expected
    assert error.next_allowed_at == utc(next_allowed)
    assert error.next_allowed_at.tzinfo is dt.UTC
    assert error.rule == rule
    assert error.zones == callee.locate(number).zones


def test_a_multi_zone_error_names_every_zone_checked() -> None:
    with pytest.raises(OutsideCallingHoursError) as info:
        CallingWindow().check(IDAHO, at=utc("2026-03-02 15:30"))
    assert info.value.zones == ("America/Boise", "America/Los_Angeles")
    assert "America/Boise, America/Los_Angeles" in str(info.value)
    with pytest.raises(OutsideCallingHoursError) as info:
        CallingWindow().check(RUSSIA_MOBILE, at=utc("2026-03-07 12:00"))
    assert len(info.value.zones) == 16
    assert {"Europe/Moscow", "Asia/Kamchatka", "Europe/Bucharest"} <= set(info.value.zones)


def _everything_said(error: BaseException) -> str:
    return " ".join(
        [str(error), repr(error), *map(repr, error.args), *map(repr, vars(error).values())]
    )


@pytest.mark.parametrize(
    ("number", "at"),
    [
        (NY, "2026-03-02 12:59"),
        (TOLL_FREE_US, "2026-03-02 15:00"),
        (RUSSIA_MOBILE, "2026-03-07 12:00"),
    ],
)
def test_the_error_never_carries_the_number(number: str, at: str) -> None:
    with pytest.raises(OutsideCallingHoursError) as info:
        CallingWindow().check(number, at=utc(at))
    said = _everything_said(info.value)
    digits = number.lstrip("+")
    assert digits not in said
    assert digits[-7:] not in said
    assert info.value.number_hint == "+***" + digits[-2:]
    assert info.value.number_hint in str(info.value)
    assert isinstance(info.value, StateSetVoiceError)


def test_the_message_says_when_and_why() -> None:
    with pytest.raises(OutsideCallingHoursError) as info:
        CallingWindow(rules=(CallingRule(us_states="FL", end="20:00"),)).check(
            FL, at=utc("2026-03-03 01:30")
        )
    assert str(info.value) == (
        "a call to +***01 is refused: outside the calling window 08:00–20:00 (every day;"
        " us_states FL) in America/New_York; next allowed at 2026-03-03T13:00:00+00:00"
    )


def test_no_common_opening_is_said_plainly(monkeypatch: pytest.MonkeyPatch) -> None:
    # Kiribati's +14 and American Samoa's -11 share no Monday-only minute.
    located = callee.Callee(("Pacific/Kiritimati", "Pacific/Pago_Pago"), region="KI")
    monkeypatch.setattr(calling_hours, "locate", lambda number: located)
    with pytest.raises(OutsideCallingHoursError) as info:
        CallingWindow(days="mon").check(NY, at=utc("2026-03-02 12:00"))
    assert info.value.next_allowed_at is None
    assert "no time within a year" in str(info.value)


# -- unknown locations ---------------------------------------------------------------------------


def test_a_us_number_outside_the_state_table_is_unknown_only_when_state_rules_exist(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delitem(us_area_codes.AREA_CODE_STATE, "212")
    at = utc("2026-03-02 15:00")
    CallingWindow().check(NY, at=at)  # no state rule: the state is not needed
    CallingWindow(rules=(CallingRule(area_codes="212", end="20:00"),)).check(NY, at=at)
    with pytest.raises(UnknownCalleeLocationError) as info:
        CallingWindow(rules=(CallingRule(us_states="FL", end="20:00"),)).check(NY, at=at)
    assert "area code 212" in info.value.reason
    # An area code rule is more specific than any state rule, so it still decides.
    CallingWindow(
        rules=(CallingRule(us_states="FL"), CallingRule(area_codes="212", start="09:00"))
    ).check(NY, at=at)


def test_a_zone_the_database_lacks_makes_the_number_unknown(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = callee.load_zone
    monkeypatch.setattr(
        calling_hours, "load_zone", lambda name: None if name == "America/Boise" else real(name)
    )
    with pytest.raises(UnknownCalleeLocationError, match="lacks one of its zones"):
        CallingWindow().check(IDAHO, at=utc("2026-03-02 18:00"))


def test_no_zone_database_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(name: str) -> Any:
        raise ZoneInfoNotFoundError(name)

    callee.load_zone.cache_clear()
    monkeypatch.setattr(callee, "ZoneInfo", missing)
    try:
        with pytest.raises(ConfigurationError, match=r"stateset-voice\[compliance\]"):
            CallingWindow()
    finally:
        callee.load_zone.cache_clear()


def test_without_the_extra_building_a_window_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "phonenumbers", None)
    monkeypatch.setitem(sys.modules, "phonenumbers.timezone", None)
    for build in (CallingWindow, lambda: CallingRule(countries="US")):
        with pytest.raises(ConfigurationError) as info:
            build()
        assert "pip install 'stateset-voice[compliance]'" in str(info.value)


def test_a_malformed_number_is_an_argument_error_as_without_a_window() -> None:
    for bad in ("hello", "2125550101", "+0123456789", 12125550101):
        with pytest.raises(InvalidParameterError) as info:
            CallingWindow().check(bad, at=utc("2026-03-02 15:00"))  # type: ignore[arg-type]
        assert info.value.parameter == "to"


def test_the_instant_must_be_aware() -> None:
    with pytest.raises(InvalidParameterError, match="timezone-aware"):
        CallingWindow().check(NY, at=dt.datetime(2026, 3, 2, 15))


# -- the value: defaults, normalisation, validation ----------------------------------------------


def test_the_defaults_are_the_documented_ones() -> None:
    window = CallingWindow()
    assert (window.start, window.end, window.rules, window.unknown) == (
        "08:00",
        "21:00",
        (),
        "refuse",
    )
    assert window.days == ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def test_the_value_is_immutable_normalised_and_comparable() -> None:
    window = CallingWindow(start=dt.time(8), end="21:00", days=["SUN", "mon", "mon"])
    assert window.days == ("mon", "sun")
    assert window == CallingWindow(start="08:00", days=("mon", "sun"))
    assert hash(window) == hash(CallingWindow(start="08:00", days=("mon", "sun")))
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        window.start = "09:00"  # type: ignore[misc]
    rule = CallingRule(us_states=["fl", "ok"], end="20:00")
    assert rule.us_states == ("FL", "OK")
    assert rule.label == "us_states FL OK"


BAD_WINDOWS: list[tuple[dict[str, Any], str]] = [
    ({"start": "8:00"}, "start"),
    ({"start": "24:00"}, "start"),
    ({"end": "21:60"}, "end"),
    ({"end": "21:00:00"}, "end"),
    ({"start": 800}, "start"),
    ({"start": dt.time(8, 0, 30)}, "start"),
    ({"start": dt.time(8, tzinfo=dt.UTC)}, "start"),
    ({"start": "21:00", "end": "08:00"}, "end"),
    ({"start": "09:00", "end": "09:00"}, "end"),
    ({"days": ()}, "days"),
    ({"days": ("monday",)}, "days"),
    ({"days": ("mon", "xyz")}, "days"),
    ({"unknown": "maybe"}, "unknown"),
    ({"rules": (CallingRule(us_states="FL"), CallingRule(us_states=("OK", "FL")))}, "rules"),
    ({"rules": (CallingRule(area_codes="212"), CallingRule(area_codes=("212",)))}, "rules"),
    ({"rules": (CallingRule(countries="GB"), CallingRule(countries="gb"))}, "rules"),
    ({"rules": (CallingRule(us_states="FL", end="07:00"),)}, "end"),
    ({"rules": ("FL",)}, "rules"),
]


@pytest.mark.parametrize(("kwargs", "parameter"), BAD_WINDOWS, ids=[str(k) for k, _ in BAD_WINDOWS])
def test_a_bad_window_is_refused_when_built(kwargs: dict[str, Any], parameter: str) -> None:
    with pytest.raises(InvalidParameterError) as info:
        CallingWindow(**kwargs)
    assert isinstance(info.value, ValueError)
    assert info.value.parameter == parameter


BAD_RULES: list[dict[str, Any]] = [
    {},
    {"countries": "US", "us_states": "NY"},
    {"countries": "XX"},
    {"us_states": "ZZ"},
    {"us_states": "PR"},  # Puerto Rico is a country of its own for phonenumbers
    {"area_codes": "123"},
    {"area_codes": "2125"},
    {"area_codes": ("abc",)},
    {"countries": "US", "start": "7am"},
    {"countries": "US", "days": ()},
]


@pytest.mark.parametrize("kwargs", BAD_RULES, ids=[str(k) for k in BAD_RULES])
def test_a_bad_rule_is_refused_when_built(kwargs: dict[str, Any]) -> None:
    with pytest.raises(InvalidParameterError):
        CallingRule(**kwargs)


# -- the guard end to end, by property -----------------------------------------------------------

GEOGRAPHIC = [NY, NY_646, FL, CA_STATE, IDAHO, NEWFOUNDLAND, TORONTO, RUSSIA_MOBILE, AU_MOBILE,
              LONDON, TOKYO]  # fmt: skip


@hypothesis.settings(max_examples=examples(60), deadline=None, derandomize=not LONG)
@hypothesis.given(
    number=st.sampled_from(GEOGRAPHIC),
    window=st.sampled_from(["default", "tiered", "weekdays"]),
    at=st.datetimes(dt.datetime(2025, 1, 1), dt.datetime(2027, 12, 31), timezones=st.just(dt.UTC)),
)
def test_a_refusal_names_the_first_minute_the_guard_then_allows(
    number: str, window: str, at: dt.datetime
) -> None:
    guard = CallingWindow(**WINDOWS[window])
    refusal = _refusal(guard, number, at)
    hypothesis.assume(refusal is not None)
    assert refusal is not None
    assert refusal.next_allowed_at is not None
    assert refusal.next_allowed_at > at
    assert _refusal(guard, number, refusal.next_allowed_at) is None
    before = refusal.next_allowed_at - dt.timedelta(minutes=1)
    if before > at:
        assert _refusal(guard, number, before) is not None


def _refusal(guard: CallingWindow, number: str, at: dt.datetime) -> OutsideCallingHoursError | None:
    try:
        guard.check(number, at=at)
    except OutsideCallingHoursError as exc:
        return exc
    return None
