"""A concurrency limit on the lease machinery: ``limit`` permit slots, each a lease key.

::

    slot i   free --claim--> claimed(token)                           acquire, before sending
             claimed --complete(token, call_id)--> attached(call_id)  the call was placed
             claimed | attached --free--> free                        release (by token or call)
             claimed --lease_seconds pass--> free: the worker died before its call was placed
             attached --call_lease_seconds pass--> free: nobody reported the call's end
    call:C   absent --attach--> linked(slot i)       until the call lease passes
             absent | linked --release_for_call--> ended   for lease_seconds, keeping its slot
             ended --attach--> ended, and the slot is freed at once
             linked(slot j) --attach to slot i--> linked(slot j), and slot i is freed at once
             ended --release_for_call--> ended, and its slot is freed (again: a no-op once
                                         it was, since the slot no longer names the call)

A slot is claimable when :meth:`LeaseStoreBase.get` says None: absent, forgotten, or a claim
whose lease ran out (which a claim takes over). An attached slot is a *completed* lease whose
result is the call ID, so it is held until the store's ``retention_seconds`` (the call lease)
unless freed, and :meth:`ConcurrencyLimit.attached_calls` can list the calls holding permits.

Each call's key says which slot it holds, or that it has ended: ``attach`` links the call
(unless it finds "ended"), ``release_for_call`` marks it ended and learns the slot, each in one
atomic update of that key. Whichever comes second sees the other's write, so a call that ends
before its permit is attached (a number that fails at once) frees its slot all the same, and a
release of a linked call costs the same whatever the limit. A release that finds no link also
reads every slot once: an attach that completed its slot but never linked the call (the store
failed between the two, or the worker died) is found by its call all the same.

The decisions the lease state machine does not have are added here as pure functions, applied
through the store's atomic read-decide-write like every other decision: freeing a slot, claimed
or attached, by its token or by its call (:func:`_decide_free`), and the call key's two updates
(:func:`_decide_link`, :func:`_decide_end`).
"""

from __future__ import annotations

import logging
import random
import threading
from typing import TYPE_CHECKING

from .._shared.errors import InvalidParameterError
from .._shared.redact import mask_phone_numbers
from .keys import _stored_key
from .leases import Claimed, Completed, LeaseChange, LeaseRecord, LeaseStoreBase

if TYPE_CHECKING:
    from .limiter import CallLimiter

__all__ = ["ConcurrencyLimit", "Permit", "SlotHold", "check_call_id"]

_log = logging.getLogger("stateset_voice.limits")

_PERMIT = "permit"  # every slot's fingerprint: permits are interchangeable
_LINKED, _ENDED = "linked", "ended"  # the two states of a call's key
#: Slots read per round trip while looking for a free one: a limiter that is not full finds
#: one in the first batch, whatever its limit.
_SCAN_BATCH = 16

#: (slot index, token) of a claimed slot.
SlotHold = tuple[int, str]


def check_call_id(call_id: object) -> str:
    """``call_id``, or :class:`InvalidParameterError` unless it is a non-empty string that can
    be stored (UTF-8: JSON can carry a lone surrogate, which cannot)."""
    if not isinstance(call_id, str) or not call_id:
        raise InvalidParameterError("call_id must be a non-empty string")
    try:
        call_id.encode()
    except UnicodeEncodeError:
        raise InvalidParameterError("call_id must be valid Unicode (no lone surrogates)") from None
    return call_id


def _decide_free(
    record: LeaseRecord | None, now: float, *, token: str | None, call: bytes | None
) -> tuple[bool, LeaseChange]:
    """Free the slot if it is still held by ``token`` (or attached to ``call``)."""
    if record is None or now >= record.forget_at:
        return False, None
    if token is not None and record.token != token:
        return False, None  # taken over after our lease expired: no longer ours to free
    if call is not None and record.result != call:
        return False, None
    return True, "delete"


def _live_state(record: LeaseRecord | None, now: float) -> str | None:
    return None if record is None or now >= record.forget_at else record.fingerprint


def _decide_link(
    record: LeaseRecord | None, now: float, *, slot: int, until: float
) -> tuple[bool, LeaseChange]:
    """Link a call to its slot until ``until``; True (and no write) if it has ended already, or
    holds another slot: one call counts once (two creates answered with the call the server
    deduplicated), and its end frees the slot it is linked to."""
    state, linked = _live_state(record, now), str(slot).encode()
    if state == _ENDED or (state == _LINKED and record is not None and record.result != linked):
        return True, None
    return False, LeaseRecord(_LINKED, None, until, until, linked)


def _decide_end(
    record: LeaseRecord | None, now: float, *, until: float
) -> tuple[int | None, LeaseChange]:
    """Mark a call ended until ``until``; the slot it was linked to, if any.

    The mark keeps the slot: if freeing the slot fails, a repeated end (the webhook's
    redelivery) frees it, instead of finding "ended" and leaving it held for the whole call
    lease. (Once the mark is forgotten, the release finds the slot by its call.)
    """
    slot = None
    if _live_state(record, now) in (_LINKED, _ENDED) and record is not None and record.result:
        slot = int(record.result)
    kept = None if slot is None else str(slot).encode()
    return slot, LeaseRecord(_ENDED, None, until, until, kept)


class ConcurrencyLimit:
    """``limit`` permit slots named ``name`` in ``store``; see the module docstring.

    An attached permit is held for ``store.retention_seconds`` (the call lease) at most.
    """

    def __init__(
        self, store: LeaseStoreBase, *, name: str, limit: int, lease_seconds: float
    ) -> None:
        self.store = store
        self.name = name
        self.limit = limit
        self.lease_seconds = lease_seconds
        self._slots = [self._slot_key(i) for i in range(limit)]

    def _slot_key(self, index: int) -> str:
        return _stored_key(self.name, f"slot:{index}")

    def _call_key(self, call_id: str) -> str:
        return _stored_key(self.name, f"call:{call_id}")

    def try_take(self) -> SlotHold | None:
        """Claim a free slot, or None if all are held. Slots are read in batches, in a random
        order, so that workers spread over the free ones."""
        order = random.sample(range(self.limit), self.limit)
        for start in range(0, self.limit, _SCAN_BATCH):
            batch = order[start : start + _SCAN_BATCH]
            states = self.store.get_many([self._slots[i] for i in batch])
            for i, state in zip(batch, states, strict=True):
                if state is not None:
                    continue
                outcome = self.store.claim(
                    self._slots[i], fingerprint=_PERMIT, lease_seconds=self.lease_seconds
                )
                if isinstance(outcome, Claimed):
                    return i, outcome.token
        return None  # all held, or every free one was taken between the read and our claim

    def free(self, hold: SlotHold) -> bool:
        """Free a claimed or attached slot; False if its lease ran out and it was taken over."""
        index, token = hold
        return self._free(index, token=token, call=None)

    def _free(self, index: int, *, token: str | None, call: bytes | None) -> bool:
        return self.store._apply(
            self._slot_key(index),  # not self._slots: the limit may have been lowered since
            lambda record, now: _decide_free(record, now, token=token, call=call),
            operation="free permit",
        )

    def attach(self, hold: SlotHold, call_id: str) -> bool | None:
        """Hold the slot for ``call_id`` until its end is reported (or the call lease passes).

        True: attached. None: the call had already ended, or holds another slot (it counts
        once), so this slot was freed at once. False:
        the slot's lease ran out and another worker took it over before the call was placed.
        """
        index, token = hold
        if not self.store.complete(self._slots[index], token=token, result=call_id.encode()):
            return False
        held_for = self.store.retention_seconds  # as long as the attached slot
        ended = self.store._apply(
            self._call_key(call_id),
            lambda record, now: _decide_link(record, now, slot=index, until=now + held_for),
            operation="link a call to its permit",
        )
        if ended:
            self._free(index, token=token, call=None)
            return None
        return True

    def release_for_call(self, call_id: str) -> bool:
        """Free the slot attached to ``call_id``; False if none is (released already, or not
        attached yet: the mark left here frees it when it is)."""
        lease = self.lease_seconds
        slot = self.store._apply(
            self._call_key(call_id),
            lambda record, now: _decide_end(record, now, until=now + lease),
            operation="mark the end of a call",
        )
        call = call_id.encode()
        if slot is not None:
            return self._free(slot, token=None, call=call)
        # No link names a slot. The attach may have completed its slot and then failed, or its
        # worker died, before linking the call: find the slot by its call (one read of them all).
        states = self.store.get_many(self._slots)
        found = [i for i, s in enumerate(states) if isinstance(s, Completed) and s.result == call]
        return any([self._free(i, token=None, call=call) for i in found])

    def attached_calls(self) -> list[str]:
        """The call IDs that hold a permit now."""
        return [
            state.result.decode()
            for state in self.store.get_many(self._slots)
            if isinstance(state, Completed)
        ]

    def in_use(self) -> int:
        """How many slots are held (claimed or attached) now."""
        return sum(state is not None for state in self.store.get_many(self._slots))


class Permit:
    """One call's share of a :class:`CallLimiter`.

    It holds a concurrency slot (when the limiter has a concurrency limit) until
    :meth:`release`, or, once :meth:`attach`-ed to the call it was taken for, until that call's
    end is reported (:meth:`CallLimiter.release_for_call`) or ``call_lease_seconds`` pass.
    ``taken_at`` is the limiter-clock instant of its admission by the rate limit. ``attach``
    and ``release`` never raise: a store failure is logged and the slot's lease bounds it.
    """

    def __init__(self, limiter: CallLimiter, hold: SlotHold | None, taken_at: float) -> None:
        self.limiter = limiter
        self.taken_at = taken_at
        self.call_id: str | None = None
        self._hold = hold
        self._state = "held"
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Permit(limit={self.limiter.shown_name!r}, slot={self.slot}, state={self._state!r})"

    @property
    def slot(self) -> int | None:
        """The concurrency slot held, or None (a limiter without a concurrency limit)."""
        return None if self._hold is None else self._hold[0]

    def _move(self, allowed: tuple[str, ...], to: str) -> bool:
        with self._lock:
            if self._state not in allowed:
                return False
            self._state = to
            return True

    def attach(self, call_id: str) -> None:
        """Keep the slot for ``call_id``, the call placed with this permit, until it ends."""
        check_call_id(call_id)
        if not self._move(("held",), "attached"):
            return
        self.call_id = call_id
        if self._hold is not None:
            self._attach(self._hold, call_id)

    def _attach(self, hold: SlotHold, call_id: str) -> None:
        try:
            attached = self.limiter._slots_or_fail().attach(hold, call_id)
        except Exception:
            _log.warning(
                "limit %r: could not attach the permit to call %s; it is free again when its "
                "lease expires",
                self.limiter.shown_name,
                mask_phone_numbers(call_id),
                exc_info=True,
            )
            return
        if attached is False:
            _log.warning(
                "limit %r: the permit's lease expired before call %s was placed and another "
                "worker took the slot (raise lease_seconds if creates take this long)",
                self.limiter.shown_name,
                mask_phone_numbers(call_id),
            )

    def release(self) -> None:
        """Free the slot now: the create failed, or the call ended and you track its end."""
        if not self._move(("held", "attached"), "released") or self._hold is None:
            return
        self._release(self._hold)

    def _release(self, hold: SlotHold) -> None:
        try:
            self.limiter._slots_or_fail().free(hold)
        except Exception:
            _log.warning(
                "limit %r: could not release a permit; it is free again when its lease expires",
                self.limiter.shown_name,
                exc_info=True,
            )

    async def aattach(self, call_id: str) -> None:
        """:meth:`attach` from async code; it completes even if the awaiting task is cancelled."""
        check_call_id(call_id)
        if not self._move(("held",), "attached"):
            return
        self.call_id = call_id
        if self._hold is not None:
            hold = self._hold
            await self.limiter._arun(lambda: self._attach(hold, call_id), "attaching a permit")

    async def arelease(self) -> None:
        """:meth:`release` from async code; it completes even if the awaiting task is cancelled."""
        if not self._move(("held", "attached"), "released") or self._hold is None:
            return
        hold = self._hold
        await self.limiter._arun(lambda: self._release(hold), "releasing a permit")
