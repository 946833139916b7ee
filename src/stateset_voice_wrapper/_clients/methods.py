"""The typed client methods' arguments: per-request options and parameters.

Every method takes its operation's parameters by name and the per-request options
(:class:`RequestOptions`) as ``**options``; these helpers separate and check the two.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from typing import Any, Final, TypeVar

from .._reliability.checks import check_header_map, check_query_map
from .._reliability.options import RequestOptions
from .._shared.errors import InvalidParameterError

__all__ = ["CLEAR", "Clear", "arguments_of", "check_options", "implements", "reject_unknown"]

F = TypeVar("F")


class Clear(enum.Enum):
    """Type of :data:`CLEAR`."""

    CLEAR = "clear"

    def __repr__(self) -> str:
        return "CLEAR"


#: Pass as a field's value to send JSON ``null`` (clear it), where the contract allows null;
#: ``None`` always means "not sent".
CLEAR: Final = Clear.CLEAR

#: Names in a method's locals that are not contract parameters.
_NOT_ARGUMENTS: Final = frozenset({"self", "options", "page_size", "ignore_calling_window"})

#: The per-request option names (the keys of RequestOptions).
_OPTION_NAMES = frozenset(RequestOptions.__annotations__)


def check_options(method_name: str, options: Mapping[str, Any]) -> None:
    """Unknown per-request options are an error naming the method and the allowed names."""
    unknown = set(options) - _OPTION_NAMES
    if unknown:
        raise InvalidParameterError(
            f"{method_name}() got unexpected keyword argument(s): {', '.join(sorted(unknown))};"
            f" besides its parameters it takes {', '.join(sorted(_OPTION_NAMES))}"
        )
    # Checked here, where httpx would otherwise raise its own UnicodeEncodeError for them.
    check_header_map("extra_headers", options.get("extra_headers"))
    check_query_map("extra_query", options.get("extra_query"))


def arguments_of(frame_locals: Mapping[str, Any]) -> dict[str, Any]:
    """A method's parameters from its ``locals()``: everything but ``self``, the options and the
    client-side switches that are no parameter of the contract."""
    return {k: v for k, v in frame_locals.items() if k not in _NOT_ARGUMENTS}


def reject_unknown(what: str, unknown: Mapping[str, object]) -> None:
    """A constructor's unexpected keyword arguments are an error naming them."""
    if unknown:
        raise InvalidParameterError(
            f"{what}() got unexpected keyword argument(s): {', '.join(sorted(unknown))}"
        )


def implements(
    operation_id: str, *, renamed: Mapping[str, str] | None = None, form: str | None = None
) -> Callable[[F], F]:
    """Mark a method as the client's way to call ``operation_id``.

    ``renamed`` maps a contract parameter's Python name to the method's name for it (Twilio's
    ``x_twilio_signature`` is ``signature``); ``form`` names the mapping argument that carries a
    form body's fields. ``tests/test_contract_coverage.py`` walks the contracts' operations and
    finds each one's methods, and each parameter's name, through this mark: an operation or a
    parameter without a way in fails the build.
    """

    def mark(method: F) -> F:
        method.__operation_id__ = operation_id  # type: ignore[attr-defined]
        method.__renamed__ = dict(renamed or {})  # type: ignore[attr-defined]
        method.__form__ = form  # type: ignore[attr-defined]
        return method

    return mark
