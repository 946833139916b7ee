"""What the typed clients do with a call limiter (``docs/fleet-limits.md``).

``calls.create`` takes a permit after the ledger's claim (a replay of a recorded call takes none)
and before sending; it releases the permit at once when the send fails, and attaches it to the
call when the call is placed. This module holds the pieces that are neither async nor sync:
the construction check and reading the placed call's ID (which statuses end a call is
``_shared/call_status.py``).
"""

from __future__ import annotations

import json
import logging

from .._shared.errors import InvalidParameterError
from .._storage.ledger import IdempotencyLedger
from .._storage.limiter import CallLimiter
from .._storage.permits import check_call_id

__all__ = ["call_id_of", "check_call_limiter"]

_log = logging.getLogger("stateset_voice.limits")


def check_call_limiter(
    limiter: CallLimiter | None, ledger: IdempotencyLedger | None, deadline: float | None
) -> CallLimiter | None:
    """The client's ``call_limiter``, refused if a create could wait past its ledger lease or
    its permit's lease.

    A create claims its key, then waits up to the limiter's ``wait`` for a permit, then sends
    for up to the ``deadline``: if that outlasted the claim's lease, another worker could take
    the key over while this one still sends it. The permit's slot is held from before the wait
    for the rate window until the call is placed: if that outlasted the permit's lease, another
    worker could take the slot while this create still sends, two calls on one slot.
    """
    if limiter is None:
        return None
    if not isinstance(limiter, CallLimiter):
        raise InvalidParameterError(
            f"call_limiter must be a CallLimiter; got {type(limiter).__name__}",
            parameter="call_limiter",
        )
    if ledger is not None and limiter.wait + (deadline or 0.0) >= ledger.lease_seconds:
        raise InvalidParameterError(
            f"the call limiter's wait ({limiter.wait:g} s) plus the deadline ({deadline or 0:g} s) "
            f"must be shorter than the ledger's lease_seconds ({ledger.lease_seconds:g} s)",
            parameter="call_limiter",
        )
    if (
        limiter.concurrency is not None
        and limiter.wait + (deadline or 0.0) >= limiter.lease_seconds
    ):
        raise InvalidParameterError(
            f"the call limiter's wait ({limiter.wait:g} s) plus the deadline ({deadline or 0:g} s) "
            f"must be shorter than the call limiter's lease_seconds ({limiter.lease_seconds:g} s)",
            parameter="call_limiter",
        )
    return limiter


def call_id_of(body: bytes) -> str | None:
    """The ``call_id`` of a make-call answer, or None (logged) if it names none."""
    try:
        call_id = json.loads(body).get("call_id")
    except (ValueError, AttributeError, RecursionError):  # the answer's own check says why
        call_id = None
    try:
        return check_call_id(call_id)
    except InvalidParameterError:
        pass
    _log.warning(
        "calls.create: the answer names no call_id, so its permit cannot follow the call; "
        "it is free again when its lease expires"
    )
    return None
