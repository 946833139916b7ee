"""Where a phone number rings, as far as its digits tell: time zones, country, area code, state.

Everything comes from ``phonenumbers`` (the ``[compliance]`` extra), loaded by
:func:`load_phonenumbers` the first time a calling window is built, never by
``import stateset_voice_wrapper``. The US state of an area code comes from the generated table
``us_area_codes.py`` (see ``scripts/generate-area-codes``), so the heavy geocoding data is not
loaded at run time.
"""

from __future__ import annotations

import functools
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs

from .._shared.errors import ConfigurationError
from .._shared.redact import mask_number
from .us_area_codes import AREA_CODE_STATE

__all__ = ["INSTALL_HINT", "Callee", "load_phonenumbers", "load_zone", "locate", "mask"]

INSTALL_HINT: Final = "pip install 'stateset-voice[compliance]'"

#: What phonenumbers answers for a number it knows no zone of.
UNKNOWN_ZONE: Final = "Etc/Unknown"

#: Number types (phonenumbers.PhoneNumberType names) that ring wherever their owner routes
#: them: they say nothing of the callee's clock (phonenumbers gives them every zone of the
#: calling code: all of NANP, Guam to Newfoundland, for +1 800).
SERVICE_TYPES: Final = {
    "TOLL_FREE": "toll-free",
    "PREMIUM_RATE": "premium-rate",
    "SHARED_COST": "shared-cost",
    "UAN": "universal access",
}


def load_phonenumbers() -> None:
    """Import ``phonenumbers``, or raise a ConfigurationError naming the extra to install."""
    try:
        import phonenumbers.timezone  # noqa: F401 - loaded here, used by locate()
    except ImportError as exc:
        raise ConfigurationError(
            f"a CallingWindow needs the phonenumbers package: {INSTALL_HINT}"
        ) from exc


@functools.cache
def load_zone(name: str) -> ZoneInfo | None:
    """The zone, or None when the zone database does not know the name.

    A machine with no zone database at all (Windows without ``tzdata``) is a ConfigurationError.
    """
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        try:
            ZoneInfo("UTC")
        except ZoneInfoNotFoundError as exc:
            raise ConfigurationError(
                f"no time zone database on this machine: {INSTALL_HINT} (it brings tzdata)"
            ) from exc
        return None


def mask(number: str) -> str:
    """All a message or log may show of a number: the package's one mask (``"+***01"``)."""
    return mask_number(number)


@attrs.frozen
class Callee:
    """What the digits of a number tell about its callee. ``zones`` is empty when they tell no
    local time; ``unknown`` then says why."""

    zones: tuple[str, ...]
    region: str | None = None
    area_code: str | None = None
    state: str | None = None
    unknown: str | None = None


def locate(number: str) -> Callee:
    """The callee of an E.164 number (``"+12125550123"``)."""
    load_phonenumbers()
    import phonenumbers
    import phonenumbers.timezone
    from phonenumbers import PhoneNumberType

    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return Callee((), unknown="not a phone number phonenumbers can read")
    if not phonenumbers.is_valid_number(parsed):
        return Callee((), unknown="not a valid number for its country")
    region = phonenumbers.region_code_for_number(parsed)
    kind = phonenumbers.number_type(parsed)
    service = next(
        (what for name, what in SERVICE_TYPES.items() if kind == getattr(PhoneNumberType, name)),
        None,
    )
    if service is not None:
        return Callee((), region=region, unknown=f"a {service} number")
    zones = tuple(sorted(set(phonenumbers.timezone.time_zones_for_number(parsed))))
    if not zones or UNKNOWN_ZONE in zones:
        return Callee((), region=region, unknown="no time zone is known for it")
    area_code = None
    if parsed.country_code == 1:
        area_code = phonenumbers.national_significant_number(parsed)[:3]
    state = AREA_CODE_STATE.get(area_code or "") if region == "US" else None
    return Callee(zones, region=region, area_code=area_code, state=state)
