"""One output policy for text the client does not control.

A server's error ``message``, its ``x-request-id`` header, a field of a listed resource, a
captured webhook payload: any of them can carry an ESC sequence that clears the screen, a
``\\r`` or ``\\n`` that forges a log line or a table row, a C1 control that some terminals obey,
or a bidi control (U+202E) that shows text in another order than it is. Everything such text
passes through on its way to a terminal or a log goes through :func:`escape_untrusted`, so
it can only ever show up as what it is.

Example::

    >>> escape_untrusted("ok\\x1b[2J\\r\\nERROR forged line \\u202eevil")
    'ok\\\\x1b[2J\\\\r\\\\nERROR forged line \\\\u202eevil'
"""

from __future__ import annotations

import unicodedata
from typing import Final

__all__ = ["escape_untrusted"]

#: Unicode general categories that never reach the output raw: controls (C0, DEL, C1),
#: format characters (bidi controls, zero-width characters, soft hyphen, ...), surrogates,
#: unassigned code points (tomorrow's format characters) and the line and paragraph separators.
_ESCAPED_CATEGORIES: Final = frozenset({"Cc", "Cf", "Cs", "Cn", "Zl", "Zp"})
_ELLIPSIS: Final = "…"
_SHORT: Final = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _escape_char(char: str) -> str:
    short = _SHORT.get(char)
    if short is not None:
        return short
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def escape_untrusted(text: str, *, max_length: int | None = None) -> str:
    """``text`` with every control, format, separator and unassigned character as an escape.

    Escaped: C0 controls including ``\\t``, ``\\n``, ``\\r`` and ESC (``\\x1b``), DEL
    (``\\x7f``), C1 controls U+0080-U+009F (``\\x9b``), every format character (category Cf:
    the bidi controls U+200E/U+200F, U+202A-U+202E, U+2066-U+2069, U+061C, zero-width
    characters, ...), surrogates, unassigned code points and U+2028/U+2029. Each becomes
    ``\\t``, ``\\n``, ``\\r``, or ``\\xNN``, ``\\uNNNN``, ``\\UNNNNNNNN`` with its code point; every other character,
    printable Unicode included, is kept as is. A backslash is kept too (so a pattern such as
    ``^\\+[1-9]`` reads as written): the literal text ``\\x1b`` and an escaped ESC look alike,
    and neither can do anything to a terminal.

    ``max_length`` caps the result at that many characters, ending in ``…`` when cut; an
    escape is never cut in half.

    Example::

        >>> escape_untrusted("call\\u202egnp.exe", max_length=12)
        'call\\\\u202eg…'
    """
    if max_length is not None and max_length < 1:
        raise ValueError(f"max_length must be 1 or more, got {max_length}")
    pieces = [
        _escape_char(char) if unicodedata.category(char) in _ESCAPED_CATEGORIES else char
        for char in text
    ]
    if max_length is None or sum(map(len, pieces)) <= max_length:
        return "".join(pieces)
    kept: list[str] = []
    room = max_length - len(_ELLIPSIS)
    for piece in pieces:
        if len(piece) > room:
            break
        kept.append(piece)
        room -= len(piece)
    # A kept backslash right before the cut would read as an escape cut in half.
    while kept and kept[-1] == "\\":
        kept.pop()
    return "".join(kept) + _ELLIPSIS
