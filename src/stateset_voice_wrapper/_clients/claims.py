"""A create never outlasts the leases it is sent under: its ledger claim and its permit.

Both are leases. Once a ledger claim runs out (``lease_seconds``, 120 s by default) another
worker may take the key over and send it; once a permit's slot runs out (the limiter's
``lease_seconds``, 120 s) another worker may take the slot, two calls on one slot. A create
still sending then would race them. So the deadline of a create is capped at what is left of
the shorter of its leases, less :data:`CLAIM_MARGIN`. With the defaults (a 60 s deadline, 120 s
leases) the cap never binds; it does when the deadline is raised or disabled (on the client,
with ``with_options``, on the call or in a ``request_options`` block), or when waiting for a
permit used up the lease.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from .._shared.errors import APITimeoutError

__all__ = ["CLAIM_MARGIN", "Lease", "deadline_within_leases"]

#: Seconds of a lease kept free at the end of a create's deadline: the deadline's own overrun
#: margin (0.1 s), recording the answer, and clocks that differ a little between workers.
CLAIM_MARGIN: Final = 1.0

#: (what it is, its length in seconds, seconds since it was taken)
Lease = tuple[str, float, float]


def deadline_within_leases(
    wanted: float | None, leases: Sequence[Lease], *, idempotency_key: str | None
) -> float | None:
    """The deadline to send a create with: None to keep ``wanted`` (it ends in time), else the
    time left on the shortest lease. Raises :class:`APITimeoutError` (nothing sent) if none
    is left.

    >>> deadline_within_leases(60.0, [("ledger claim", 120.0, 0.5)], idempotency_key="k") is None
    True
    >>> deadline_within_leases(None, [("ledger claim", 120.0, 0.5)], idempotency_key="k")
    118.5
    """
    if not leases:
        return None
    what, length, elapsed = min(leases, key=lambda lease: lease[1] - lease[2])
    left = length - elapsed - CLAIM_MARGIN
    if left <= 0:
        raise APITimeoutError(
            f"the {what} of this create ran out before it could be sent ({elapsed:.1f} s after "
            f"it was taken, of a {length:g} s lease): nothing was sent; retry with the same "
            "idempotency key",
            idempotency_key=idempotency_key,
            may_have_reached_server=False,
            not_retried=f"the {what}'s lease ran out",
        )
    if wanted is not None and wanted <= left:
        return None
    return left
