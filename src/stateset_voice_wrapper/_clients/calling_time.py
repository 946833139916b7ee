"""When a calling window is open in a set of time zones: pure functions over ``zoneinfo``.

No phone numbers here: the guard (``calling_hours.py``) finds the zones and the hours, and this
module answers "is now inside, and if not, when next?" from them.

**One window per local day, read conservatively around clock changes.** On an allowed day the
window opens when the local clock shows ``start`` for the *last* time that day and closes when
it shows ``end`` for the *first* time; a time the clock skips (spring forward) counts as
reached when the clock jumps past it. So a boundary inside a repeated hour (fall back) gives
the shorter window, a start inside a skipped hour opens at the jump, and every instant inside
the window reads a wall-clock time in ``[start, end)``. The end is exclusive: with
``end=21:00`` a call at 21:00:00 is refused.

**Every zone at once.** A number that may be in several zones is inside only when it is inside
in each of them: the windows of each zone, as UTC intervals, are intersected in one sweep.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator, Sequence
from typing import Final
from zoneinfo import ZoneInfo

import attrs

__all__ = ["SEARCH_DAYS", "DailyHours", "day_window", "first_allowed_at"]

UTC: Final = datetime.UTC

#: How far ahead the next opening is searched: a year and a week, so that a window that only
#: opens in every zone in some season (the zones' clock changes differ) is still found.
SEARCH_DAYS: Final = 373


@attrs.frozen
class DailyHours:
    """Local hours ``[start, end)`` on the given weekdays (0 = Monday), start < end."""

    start: datetime.time
    end: datetime.time
    weekdays: frozenset[int]


def _transition(
    zone: ZoneInfo, before: datetime.datetime, after: datetime.datetime
) -> datetime.datetime:
    """The instant in ``(before, after]`` at which ``zone``'s offset changes, to the second."""
    offset = before.astimezone(zone).utcoffset()
    lo, hi = int(before.timestamp()), int(after.timestamp())
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if datetime.datetime.fromtimestamp(mid, zone).utcoffset() == offset:
            lo = mid
        else:
            hi = mid
    return datetime.datetime.fromtimestamp(hi, UTC)


def _showings(
    zone: ZoneInfo, day: datetime.date, at: datetime.time
) -> tuple[datetime.datetime, datetime.datetime]:
    """The first and last instant (UTC) the clock in ``zone`` shows ``at`` on ``day``.

    Both are the same instant on an ordinary day; a time the clock skips gives the jump past it
    twice; a repeated time gives its two occurrences.
    """
    local = datetime.datetime.combine(day, at, tzinfo=zone)
    early = local.replace(fold=0).astimezone(UTC)
    late = local.replace(fold=1).astimezone(UTC)
    if early <= late:
        return early, late
    # Skipped: fold=1 read it with the offset after the change (an instant before the jump),
    # fold=0 with the offset before it (an instant after).
    jump = _transition(zone, late, early)
    return jump, jump


def day_window(
    zone: ZoneInfo, day: datetime.date, hours: DailyHours
) -> tuple[datetime.datetime, datetime.datetime] | None:
    """The UTC interval ``[opens, closes)`` of ``day``'s window in ``zone``, or None when the
    window is shut that day (not an allowed weekday, or empty after a clock change)."""
    if day.weekday() not in hours.weekdays:
        return None
    opens = _showings(zone, day, hours.start)[1]
    closes = _showings(zone, day, hours.end)[0]
    return (opens, closes) if opens < closes else None


def _windows(
    zone: ZoneInfo, hours: DailyHours, now: datetime.datetime
) -> Iterator[tuple[datetime.datetime, datetime.datetime]]:
    """``zone``'s windows that have not closed by ``now``, in order, for SEARCH_DAYS days."""
    today = now.astimezone(zone).date()
    for offset in range(-1, SEARCH_DAYS + 1):
        window = day_window(zone, today + datetime.timedelta(days=offset), hours)
        if window is not None and window[1] > now:
            yield window


def first_allowed_at(
    now: datetime.datetime, zones: Sequence[ZoneInfo], hours: DailyHours
) -> datetime.datetime | None:
    """The first instant at or after ``now`` (aware) inside the window in every zone, in UTC.

    It is ``now`` itself when the call may be placed now; None when no instant within
    SEARCH_DAYS is inside in every zone (zones too far apart for the hours, for instance).
    """
    if not zones:
        raise ValueError("first_allowed_at needs at least one zone")
    now = now.astimezone(UTC)
    streams = [_windows(zone, hours, now) for zone in zones]
    current = [next(stream, None) for stream in streams]
    while True:
        if any(window is None for window in current):
            return None
        windows = [window for window in current if window is not None]
        opens = max(window[0] for window in windows)
        closes = min(window[1] for window in windows)
        if opens < closes:
            return max(opens, now)
        # The window that closes first overlaps no later window of the zone that opens last:
        # drop it and take that zone's next one.
        first = min(range(len(windows)), key=lambda i: windows[i][1])
        current[first] = next(streams[first], None)
