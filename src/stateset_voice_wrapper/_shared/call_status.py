"""Which call statuses are final: one home for a rule the contract states in prose.

The contract's ``CallStatus`` says: "Lifecycle of a call: queued -> ringing -> in-progress ->
completed, or an early end (no-answer, busy, failed, canceled)". A call in a final status will
not change again. ``tests/test_call_status.py`` holds these sets to the contract's enum and its
description, so a status the contract adds fails the build until it is placed here.

A status this package does not know yet (a newer server) is not final: whoever waits for the
end keeps waiting, and whoever holds a permit keeps it until its lease, rather than ending early.
"""

from __future__ import annotations

from typing import Final

__all__ = ["FINAL_CALL_STATUSES", "IN_PROGRESS_CALL_STATUSES", "is_final_call_status"]

#: A call in one of these statuses has not ended yet.
IN_PROGRESS_CALL_STATUSES: Final = frozenset({"queued", "ringing", "in-progress"})
#: A call in one of these statuses has ended and will not change again.
FINAL_CALL_STATUSES: Final = frozenset({"completed", "no-answer", "busy", "failed", "canceled"})


def is_final_call_status(status: object) -> bool:
    """Whether ``status`` (a ``CallStatus`` or its string value) is final.

    >>> is_final_call_status("busy"), is_final_call_status("ringing"), is_final_call_status("x")
    (True, False, False)
    """
    return getattr(status, "value", status) in FINAL_CALL_STATUSES
