"""Random identifiers: request IDs and generated idempotency keys.

Version-4 UUID strings built from ``os.urandom`` directly. ``str(uuid.uuid4())`` produces the
same format, but importing :mod:`uuid` costs milliseconds at package import and building the
``UUID`` object costs microseconds on every request; neither buys anything here.
"""

from __future__ import annotations

import os

__all__ = ["random_uuid"]

#: The 17th hex digit with the variant bits set to 10xx: one of 8, 9, a, b.
_VARIANT = {digit: "89ab"[int(digit, 16) & 3] for digit in "0123456789abcdef"}

_urandom = os.urandom


def random_uuid() -> str:
    """A random RFC 4122 version-4 UUID string, e.g. ``0861cdd4-40df-4f7f-90ca-084d38128804``."""
    h = _urandom(16).hex()
    # Version nibble 4; variant bits 10xx.
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:]}"
