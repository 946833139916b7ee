"""A create sent under a ledger claim never outlasts the claim.

A ledger claim is a lease (``lease_seconds``, 120 s by default): once it runs out, another
worker may take the key over and send it. A create that is still sending then would race the
worker that took over, with only the server's deduplication between them. So the deadline of a
create sent under a claim is capped at what is left of the claim's lease, less
:data:`CLAIM_MARGIN`; with the defaults (a 60 s deadline, a 120 s lease) the cap never binds.
It binds when the deadline is raised or disabled, or when waiting for a permit used up the lease.
"""

from __future__ import annotations

from typing import Final

from .._shared.errors import APITimeoutError

__all__ = ["CLAIM_MARGIN", "deadline_within_claim"]

#: Seconds of the claim kept free at the end of a create's deadline: the deadline's own overrun
#: margin (0.1 s), recording the answer, and clocks that differ a little between workers.
CLAIM_MARGIN: Final = 1.0


def deadline_within_claim(
    wanted: float | None, *, lease_seconds: float, elapsed: float, idempotency_key: str
) -> float | None:
    """The deadline to send a create with: None to keep ``wanted`` (it ends in time), else the
    time left on the claim. Raises :class:`APITimeoutError` (nothing sent) if none is left.

    >>> deadline_within_claim(60.0, lease_seconds=120.0, elapsed=0.5, idempotency_key="k") is None
    True
    >>> deadline_within_claim(None, lease_seconds=120.0, elapsed=0.5, idempotency_key="k")
    118.5
    """
    left = lease_seconds - elapsed - CLAIM_MARGIN
    if left <= 0:
        raise APITimeoutError(
            f"the ledger claim of this create ran out before it could be sent ({elapsed:.1f} s "
            f"after it was taken, of a {lease_seconds:g} s lease): nothing was sent; retry with "
            "the same idempotency key",
            idempotency_key=idempotency_key,
            may_have_reached_server=False,
            not_retried="the ledger claim's lease ran out",
        )
    if wanted is not None and wanted <= left:
        return None
    return left
