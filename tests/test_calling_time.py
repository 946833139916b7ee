"""The calling window's time arithmetic (``_clients/calling_time.py``), against clock changes.

The table pins the documented reading of a window boundary inside a skipped or repeated hour
in America/New_York and Europe/London. The properties compare the module with an oracle that
never converts a local time to UTC: it walks the UTC minutes of a local day, reads the local
clock forward only, and takes the documented rule literally (the window opens at the last
minute the clock shows ``start``, or the first past it when it is skipped, and closes at the
first minute it shows ``end`` or later).
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import hypothesis
import hypothesis.strategies as st
import pytest

from stateset_voice_wrapper._clients.calling_time import (
    DailyHours,
    day_window,
    first_allowed_at,
)

if TYPE_CHECKING:
    from tests.profiles import LONG, examples
else:  # the sibling module: pytest puts tests/ on sys.path
    from profiles import LONG, examples

UTC = dt.UTC
MINUTE = dt.timedelta(minutes=1)
NY = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")
EVERY_DAY = frozenset(range(7))


def hours(start: str, end: str, weekdays: frozenset[int] = EVERY_DAY) -> DailyHours:
    return DailyHours(dt.time.fromisoformat(start), dt.time.fromisoformat(end), weekdays)


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


# -- the documented cases ---------------------------------------------------------------------
# 2026-03-08: New York springs forward at 02:00 EST (07:00 UTC) to 03:00 EDT.
# 2026-11-01: New York falls back at 02:00 EDT (06:00 UTC) to 01:00 EST.
# 2026-03-29: London springs forward at 01:00 GMT (01:00 UTC) to 02:00 BST.
# 2026-10-25: London falls back at 02:00 BST (01:00 UTC) to 01:00 GMT.
DST_CASES = [
    # zone, local date, start, end, opens (UTC), closes (UTC), why
    (NY, "2026-03-08", "02:30", "05:00", "07:00", "09:00", "start skipped: opens at the jump"),
    (NY, "2026-03-08", "00:30", "02:30", "05:30", "07:00", "end skipped: closes at the jump"),
    (NY, "2026-03-08", "08:00", "21:00", "12:00", "01:00+1", "ordinary hours on the change day"),
    (NY, "2026-11-01", "01:30", "05:00", "06:30", "10:00", "start repeated: its second showing"),
    (NY, "2026-11-01", "00:30", "01:30", "04:30", "05:30", "end repeated: its first showing"),
    (NY, "2026-11-01", "01:10", "01:50", None, None, "both in the repeated hour: shut"),
    (NY, "2026-11-01", "08:00", "21:00", "13:00", "02:00+1", "ordinary hours on the change day"),
    (LONDON, "2026-03-29", "01:30", "05:00", "01:00", "04:00", "start skipped: opens at the jump"),
    (LONDON, "2026-03-29", "00:15", "01:45", "00:15", "01:00", "end skipped: closes at the jump"),
    (LONDON, "2026-10-25", "01:30", "05:00", "01:30", "05:00", "start repeated: second showing"),
    (LONDON, "2026-10-25", "00:30", "01:30", "23:30-1", "00:30", "end repeated: first showing"),
    (LONDON, "2026-10-25", "08:00", "21:00", "08:00", "21:00", "ordinary hours on the change day"),
]


def _at(day: str, clock: str) -> dt.datetime:
    base = dt.date.fromisoformat(day)
    if clock.endswith(("+1", "-1")):
        base += dt.timedelta(days=int(clock[-2:]))
        clock = clock[:-2]
    return dt.datetime.combine(base, dt.time.fromisoformat(clock), tzinfo=UTC)


@pytest.mark.parametrize(
    ("zone", "day", "start", "end", "opens", "closes", "why"),
    DST_CASES,
    ids=[c[-1] for c in DST_CASES],
)
def test_a_boundary_inside_a_clock_change(
    zone: ZoneInfo,
    day: str,
    start: str,
    end: str,
    opens: str | None,
    closes: str | None,
    why: str,
) -> None:
    window = day_window(zone, dt.date.fromisoformat(day), hours(start, end))
    if opens is None or closes is None:
        assert window is None, why
    else:
        assert window == (_at(day, opens), _at(day, closes)), why


def test_the_repeated_hour_is_refused_after_the_window_closed_once() -> None:
    # 00:30–01:30 on the fall-back night: 01:15 EST (06:15 UTC) reads inside, but 01:30 EDT
    # has already passed, so the window stays shut until the next day's 00:30.
    nxt = first_allowed_at(utc("2026-11-01 06:15"), [NY], hours("00:30", "01:30"))
    assert nxt == utc("2026-11-02 05:30")


def test_a_skipped_start_opens_at_the_jump_and_not_before() -> None:
    at_jump = first_allowed_at(utc("2026-03-08 06:59"), [NY], hours("02:30", "05:00"))
    assert at_jump == utc("2026-03-08 07:00")


def test_the_end_is_exclusive() -> None:
    h = hours("08:00", "21:00")
    assert first_allowed_at(utc("2026-06-01 00:59:59"), [NY], h) == utc("2026-06-01 00:59:59")
    assert first_allowed_at(utc("2026-06-01 01:00"), [NY], h) == utc("2026-06-01 12:00")


def test_zones_too_far_apart_have_no_common_opening() -> None:
    # Kiritimati (+14) and Niue (-11) are 25 hours apart: a Monday-only window never overlaps.
    zones = [ZoneInfo("Pacific/Kiritimati"), ZoneInfo("Pacific/Niue")]
    assert (
        first_allowed_at(utc("2026-06-01 12:00"), zones, hours("08:00", "21:00", frozenset({0})))
        is None
    )


def test_no_zone_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="at least one zone"):
        first_allowed_at(utc("2026-06-01 12:00"), [], hours("08:00", "21:00"))


# -- the oracle ---------------------------------------------------------------------------------


@functools.cache
def oracle_window(
    zone: ZoneInfo, day: dt.date, start: dt.time, end: dt.time, weekdays: frozenset[int]
) -> tuple[dt.datetime, dt.datetime] | None:
    """The documented rule, read off the local clock minute by minute (forward only)."""
    if day.weekday() not in weekdays:
        return None
    first = dt.datetime.combine(day, dt.time(), tzinfo=UTC) - dt.timedelta(hours=15)
    minutes = [first + i * MINUTE for i in range(60 * 54)]
    local = [(m, m.astimezone(zone)) for m in minutes]
    shown = [(m, clock.time()) for m, clock in local if clock.date() == day]
    # Opens: the last minute the clock shows start; if it never does (skipped), the first
    # minute past it. Closes: the first minute the clock shows end or later.
    showing_start = [m for m, clock in shown if clock == start]
    past_start = [m for m, clock in shown if clock > start]
    opens = showing_start[-1] if showing_start else (past_start[0] if past_start else None)
    closes = next((m for m, clock in shown if clock >= end), None)
    if closes is None:  # the day ended before the clock showed end
        closes = shown[-1][0] + MINUTE
    if opens is None or not opens < closes:
        return None
    return opens, closes


def oracle_inside(t: dt.datetime, zones: list[ZoneInfo], h: DailyHours) -> bool:
    for zone in zones:
        day = t.astimezone(zone).date()
        window = oracle_window(zone, day, h.start, h.end, h.weekdays)
        if window is None or not window[0] <= t < window[1]:
            return False
    return True


ZONES = [
    "America/New_York",
    "Europe/London",
    "America/Los_Angeles",
    "Australia/Lord_Howe",  # a 30-minute clock change
    "Pacific/Chatham",  # +12:45/+13:45
    "America/Havana",  # changes at midnight
    "America/Santiago",  # changes at midnight, southern hemisphere
    "Asia/Kathmandu",  # +05:45, no change
    "Australia/Sydney",
    "America/St_Johns",  # -03:30/-02:30
    "Asia/Tokyo",
    "Pacific/Kiritimati",  # +14
    "Pacific/Pago_Pago",  # -11
]


@functools.cache
def change_days(name: str) -> list[dt.date]:
    """The local days of 2025–2027 on which ``name``'s clock changes (and the day after), plus a
    winter and a summer day for the zones whose clock never changes."""
    zone = ZoneInfo(name)
    found = [dt.date(2026, 1, 15), dt.date(2026, 7, 15)]
    day = dt.date(2025, 1, 1)
    while day.year < 2028:
        noon = dt.datetime.combine(day, dt.time(12), tzinfo=zone)
        if noon.utcoffset() != (noon + dt.timedelta(days=1)).utcoffset():
            found.extend([day, day + dt.timedelta(days=1)])
        day += dt.timedelta(days=1)
    return found


@st.composite
def clock_times(draw: st.DrawFn) -> dt.time:
    # Mostly the small hours, where the clocks change; sometimes anything.
    minute = draw(st.one_of(st.integers(0, 4 * 60 - 1), st.integers(0, 24 * 60 - 1)))
    return dt.time(minute // 60, minute % 60)


@st.composite
def daily_hours(draw: st.DrawFn) -> DailyHours:
    a, b = draw(clock_times()), draw(clock_times())
    hypothesis.assume(a != b)
    weekdays = draw(st.one_of(st.just(EVERY_DAY), st.frozensets(st.integers(0, 6), min_size=1)))
    return DailyHours(min(a, b), max(a, b), weekdays)


@st.composite
def zone_and_day(draw: st.DrawFn) -> tuple[ZoneInfo, dt.date]:
    name = draw(st.sampled_from(ZONES))
    day = draw(
        st.one_of(
            st.sampled_from(change_days(name)),
            st.dates(dt.date(2025, 1, 1), dt.date(2027, 12, 31)),
        )
    )
    return ZoneInfo(name), day


@hypothesis.settings(max_examples=examples(100), deadline=None, derandomize=not LONG)
@hypothesis.given(zone_and_day(), daily_hours())
def test_day_window_matches_the_oracle(where: tuple[ZoneInfo, dt.date], h: DailyHours) -> None:
    zone, day = where
    assert day_window(zone, day, h) == oracle_window(zone, day, h.start, h.end, h.weekdays)


@st.composite
def instants(draw: st.DrawFn) -> dt.datetime:
    """Whole minutes or not, often just before a clock change."""
    name = draw(st.sampled_from(ZONES))
    day = draw(st.sampled_from(change_days(name)))
    base = dt.datetime.combine(day, dt.time(), tzinfo=UTC)
    return base + dt.timedelta(seconds=draw(st.integers(-36 * 3600, 36 * 3600)))


def oracle_next(
    now: dt.datetime, zones: list[ZoneInfo], h: DailyHours, days: int
) -> dt.datetime | None:
    """The earliest instant in ``[now, now + days)`` inside in every zone, by the oracle.

    The instants inside form intervals that each begin at ``now`` or at some zone's opening,
    so those are the only candidates.
    """
    candidates = {now}
    for zone in zones:
        first = now.astimezone(zone).date() - dt.timedelta(days=1)
        for i in range(days + 2):
            window = oracle_window(zone, first + dt.timedelta(days=i), h.start, h.end, h.weekdays)
            if window is not None and now <= window[0] < now + dt.timedelta(days=days):
                candidates.add(window[0])
    inside = [c for c in sorted(candidates) if oracle_inside(c, zones, h)]
    return inside[0] if inside else None


def test_the_sweep_drops_the_window_that_closes_first() -> None:
    # Monday 03:00 UTC, 08:00–21:00 in New York and Tokyo. Tokyo's Monday window (until 12:00
    # UTC) ends before New York's opens (13:00 UTC): it is the one to drop, and the answer is
    # 23:00 UTC, Tokyo's Tuesday 08:00 and New York's Monday 18:00.
    tokyo = ZoneInfo("Asia/Tokyo")
    found = first_allowed_at(utc("2026-01-12 03:00"), [NY, tokyo], hours("08:00", "21:00"))
    assert found == utc("2026-01-12 23:00")


@hypothesis.settings(max_examples=examples(40), deadline=None, derandomize=not LONG)
@hypothesis.given(
    now=instants(),
    names=st.lists(st.sampled_from(ZONES), min_size=1, max_size=3, unique=True),
    h=daily_hours(),
)
def test_next_allowed_start_is_the_first_minute_inside_in_every_zone(
    now: dt.datetime, names: list[str], h: DailyHours
) -> None:
    zones = [ZoneInfo(name) for name in names]
    found = first_allowed_at(now, zones, h)
    expected = oracle_next(now, zones, h, days=8)
    if expected is None:
        assert found is None or found >= now + dt.timedelta(days=8)
        return
    assert found == expected
    if found == now:
        return
    assert found > now, "the next start is strictly in the future"
    assert found.second == 0
    assert found.microsecond == 0
    assert oracle_inside(found, zones, h), "it is inside the window in every zone"
    minute = now.replace(second=0, microsecond=0) + MINUTE
    while minute < found:
        assert not oracle_inside(minute, zones, h), f"{minute} is inside and earlier"
        minute += MINUTE
