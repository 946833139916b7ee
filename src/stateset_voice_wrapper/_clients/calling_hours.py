"""The calling-hours guard: refuse an outbound call outside the callee's local hours.

A :class:`CallingWindow` on a client (``VoiceClient(calling_window=...)``) is checked at the top
of every ``calls.create``, before the ledger and before any request: the number's possible time
zones come from its digits (``callee.py``), the hours that apply from the window's rules, and
the instant from the client's ``ReliabilityConfig.wall_clock``. The time arithmetic is in
``calling_time.py``. ``docs/calling-hours.md`` is the user's page; it states that this is a guard
the operator configures, not legal advice.
"""

from __future__ import annotations

import datetime
import logging
import re
from collections.abc import Iterable
from typing import Final, Literal

import attrs

from .._shared.defaults import DEFAULT_CALLING_END, DEFAULT_CALLING_START
from .._shared.errors import (
    ConfigurationError,
    InvalidParameterError,
    OutsideCallingHoursError,
    UnknownCalleeLocationError,
)
from .callee import INSTALL_HINT, Callee, load_phonenumbers, load_zone, locate, mask
from .calling_time import DailyHours, first_allowed_at
from .operations import operation
from .us_area_codes import STATES

__all__ = ["ALL_DAYS", "CallingRule", "CallingWindow"]

_log = logging.getLogger("stateset_voice.calling_hours")

#: The days of the week, as the window's ``days`` names them (Monday first).
ALL_DAYS: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_TIME = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")
_AREA_CODE = re.compile(r"[2-9][0-9][0-9]")


def _hhmm(value: str | datetime.time, name: str) -> str:
    """``"08:00"`` (or a ``datetime.time`` on the minute) as ``"HH:MM"``."""
    if isinstance(value, datetime.time):
        if value.tzinfo is not None or value.second or value.microsecond:
            raise InvalidParameterError(
                f"{name} must be a local time on the minute, without a zone; got {value!r}",
                parameter=name,
            )
        return value.strftime("%H:%M")
    if not isinstance(value, str) or not _TIME.fullmatch(value):
        raise InvalidParameterError(
            f"{name} must be a 24-hour time 'HH:MM' from 00:00 to 23:59; got {value!r}",
            parameter=name,
        )
    return value


def _start(value: str | datetime.time) -> str:
    return _hhmm(value, "start")


def _end(value: str | datetime.time) -> str:
    return _hhmm(value, "end")


def _start_or_none(value: str | datetime.time | None) -> str | None:
    return None if value is None else _hhmm(value, "start")


def _end_or_none(value: str | datetime.time | None) -> str | None:
    return None if value is None else _hhmm(value, "end")


def _known_code(kind: str, code: str) -> bool:
    import phonenumbers

    if kind == "countries":
        return code in phonenumbers.SUPPORTED_REGIONS
    if kind == "us_states":
        return code in STATES
    return _AREA_CODE.fullmatch(code) is not None


def _days(value: Iterable[str] | str | None) -> tuple[str, ...] | None:
    """Day names in week order, each once; None stays None."""
    if value is None:
        return None
    names = (value,) if isinstance(value, str) else tuple(value)
    given = {name.lower() if isinstance(name, str) else name for name in names}
    wrong = sorted(map(repr, given - set(ALL_DAYS)))
    if wrong or not given:
        raise InvalidParameterError(
            f"days must name at least one of {', '.join(ALL_DAYS)}; got {', '.join(wrong) or 'none'}",
            parameter="days",
        )
    return tuple(day for day in ALL_DAYS if day in given)


def _window_days(value: Iterable[str] | str) -> tuple[str, ...]:
    days = _days(value)
    if days is None:
        raise InvalidParameterError("days must name at least one day", parameter="days")
    return days


def _codes(value: Iterable[str] | str) -> tuple[str, ...]:
    names = (value,) if isinstance(value, str) else tuple(value)
    return tuple(
        sorted({name.upper() if isinstance(name, str) else name for name in names}, key=str)
    )


def _hours(start: str, end: str, days: tuple[str, ...], what: str) -> DailyHours:
    if not start < end:
        raise InvalidParameterError(
            f"{what}: start {start} must be before end {end} (a window cannot cross midnight)",
            parameter="end",
        )
    return DailyHours(
        datetime.time.fromisoformat(start),
        datetime.time.fromisoformat(end),
        frozenset(ALL_DAYS.index(day) for day in days),
    )


@attrs.frozen(kw_only=True)
class CallingRule:
    """Other hours for one kind of region: a set of countries, US states or NANP area codes.

    Give exactly one of ``countries`` (ISO 3166 codes as phonenumbers reads them: ``"GB"``,
    ``"PR"``), ``us_states`` (USPS codes: ``"FL"``) or ``area_codes`` (``"212"``). ``start``,
    ``end`` and ``days`` replace the window's; one left as None keeps the window's value.
    Building a rule needs the ``[compliance]`` extra.

    Example::

        CallingRule(us_states=("FL", "OK", "WA"), end="20:00")
    """

    countries: tuple[str, ...] = attrs.field(default=(), converter=_codes)
    us_states: tuple[str, ...] = attrs.field(default=(), converter=_codes)
    area_codes: tuple[str, ...] = attrs.field(default=(), converter=_codes)
    start: str | None = attrs.field(default=None, converter=_start_or_none)
    end: str | None = attrs.field(default=None, converter=_end_or_none)
    days: tuple[str, ...] | None = attrs.field(default=None, converter=_days)

    def __attrs_post_init__(self) -> None:
        load_phonenumbers()
        given = [name for name in ("countries", "us_states", "area_codes") if getattr(self, name)]
        if len(given) != 1:
            raise InvalidParameterError(
                "a CallingRule names exactly one of countries, us_states or area_codes;"
                f" got {', '.join(given) or 'none'}"
            )
        kind = given[0]
        wrong = [
            code
            for code in getattr(self, kind)
            if not isinstance(code, str) or not _known_code(kind, code)
        ]
        if wrong:
            raise InvalidParameterError(
                f"{kind}: not a known code: {', '.join(map(repr, wrong))}", parameter=kind
            )

    @property
    def label(self) -> str:
        """How errors name this rule: ``"us_states FL OK"``."""
        kind = next(k for k in ("area_codes", "us_states", "countries") if getattr(self, k))
        return f"{kind} {' '.join(getattr(self, kind))}"


def _rules(value: Iterable[CallingRule]) -> tuple[CallingRule, ...]:
    rules = tuple(value)
    for rule in rules:
        if not isinstance(rule, CallingRule):
            raise InvalidParameterError(
                f"rules must be CallingRule values; got {rule!r}", parameter="rules"
            )
    return rules


@attrs.frozen(kw_only=True)
class CallingWindow:
    """Local hours in which ``calls.create`` may place a call; outside them it raises
    :class:`OutsideCallingHoursError` and sends nothing.

    The defaults are every day from 08:00 to 21:00 (end exclusive) in the callee's local time.
    ``rules`` give other hours by region; the most specific matching rule wins (area code, then
    US state, then country, then the window's own hours), and rules that overlap at one level
    are refused. A number whose time zone cannot be told (toll-free, invalid, zone-less) is
    refused unless ``unknown="allow"``. Needs ``pip install 'stateset-voice[compliance]'``.
    See ``docs/calling-hours.md``. This is a guard the operator configures, not legal advice.

    Example::

        window = CallingWindow(rules=(CallingRule(us_states=("FL", "OK"), end="20:00"),))
        voice = VoiceClient(calling_window=window)
    """

    start: str = attrs.field(default=DEFAULT_CALLING_START, converter=_start)
    end: str = attrs.field(default=DEFAULT_CALLING_END, converter=_end)
    days: tuple[str, ...] = attrs.field(default=ALL_DAYS, converter=_window_days)
    rules: tuple[CallingRule, ...] = attrs.field(default=(), converter=_rules)
    unknown: Literal["refuse", "allow"] = "refuse"

    def __attrs_post_init__(self) -> None:
        load_phonenumbers()
        if load_zone("America/New_York") is None:
            raise ConfigurationError(
                f"the time zone database has no America/New_York: {INSTALL_HINT} (brings tzdata)"
            )
        if self.unknown not in ("refuse", "allow"):
            raise InvalidParameterError(
                f"unknown must be 'refuse' or 'allow'; got {self.unknown!r}", parameter="unknown"
            )
        for kind in ("area_codes", "us_states", "countries"):
            seen: dict[str, CallingRule] = {}
            for rule in self.rules:
                for code in getattr(rule, kind):
                    if code in seen:
                        raise InvalidParameterError(
                            f"two rules name {kind} {code}: which one applies would be unclear",
                            parameter="rules",
                        )
                    seen[code] = rule
        self._hours_of(None)
        for rule in self.rules:
            self._hours_of(rule)

    def _hours_of(self, rule: CallingRule | None) -> tuple[DailyHours, str]:
        if rule is None:
            return _hours(self.start, self.end, self.days, "CallingWindow"), "default"
        hours = _hours(
            rule.start or self.start, rule.end or self.end, rule.days or self.days, rule.label
        )
        return hours, rule.label

    def _rule_for(self, callee: Callee) -> tuple[CallingRule | None, str | None]:
        """The most specific matching rule (area code, US state, country; None: the window's
        own hours), or why none can be chosen."""
        for rule in self.rules:
            if callee.area_code is not None and callee.area_code in rule.area_codes:
                return rule, None
        if callee.region == "US" and any(rule.us_states for rule in self.rules):
            if callee.state is None:
                return None, f"area code {callee.area_code} is in no state the table knows"
            for rule in self.rules:
                if callee.state in rule.us_states:
                    return rule, None
        for rule in self.rules:
            if callee.region is not None and callee.region in rule.countries:
                return rule, None
        return None, None

    def check(self, to: str, *, at: datetime.datetime) -> None:
        """Raise :class:`OutsideCallingHoursError` unless a call to ``to`` may start at ``at``.

        ``at`` must be timezone-aware. The error's ``next_allowed_at`` says when to try again.
        ``calls.create`` calls this with the client's wall clock. Example::

            try:
                window.check("+12125550123", at=datetime.datetime.now(datetime.UTC))
            except OutsideCallingHoursError as exc:
                schedule_retry(at=exc.next_allowed_at)
        """
        if not isinstance(at, datetime.datetime) or at.utcoffset() is None:
            raise InvalidParameterError("at must be a timezone-aware datetime", parameter="at")
        problem = operation("make_call").arguments["to"].check(to, "to")
        if problem is not None:
            raise InvalidParameterError(problem, parameter="to")
        callee = locate(to)
        rule, reason = self._rule_for(callee)
        zones = [zone for zone in map(load_zone, callee.zones) if zone is not None]
        reason = callee.unknown or reason
        if reason is None and len(zones) < len(callee.zones):
            reason = "the time zone database lacks one of its zones"
        if reason is not None:
            self._refuse_unknown(to, reason, callee)
            return
        hours, label = self._hours_of(rule)
        allowed_at = first_allowed_at(at, zones, hours)
        if allowed_at == at.astimezone(datetime.UTC):
            return
        days = " ".join(ALL_DAYS[i] for i in sorted(hours.weekdays))
        days = "every day" if len(hours.weekdays) == len(ALL_DAYS) else days
        when = (
            f"next allowed at {allowed_at.isoformat()}"
            if allowed_at is not None
            else "no time within a year is inside the window in all of them"
        )
        raise OutsideCallingHoursError(
            f"a call to {mask(to)} is refused: outside the calling window"
            f" {hours.start:%H:%M}–{hours.end:%H:%M} ({days}; {label}) in"
            f" {_zone_list(callee.zones)}; {when}",
            next_allowed_at=allowed_at,
            zones=callee.zones,
            rule=label,
            number_hint=mask(to),
        )

    def _refuse_unknown(self, to: str, reason: str, callee: Callee) -> None:
        if self.unknown == "allow":
            _log.info("a call to %s: local time unknown (%s); allowed", mask(to), reason)
            return
        raise UnknownCalleeLocationError(
            f"a call to {mask(to)} is refused: its local time cannot be told ({reason});"
            " pass ignore_calling_window=True to place it anyway, or build the window with"
            " unknown='allow'",
            reason=reason,
            zones=callee.zones,
            number_hint=mask(to),
        )


def _zone_list(zones: tuple[str, ...]) -> str:
    if len(zones) <= 4:
        return ", ".join(zones)
    return f"{len(zones)} zones ({', '.join(zones[:3])}, …)"
