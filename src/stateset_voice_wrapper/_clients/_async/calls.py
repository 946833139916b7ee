"""Outbound calls, ``AsyncCalls``: the one method whose duplicate rings a phone twice.

Source of truth for ``_clients/_sync/calls.py`` (``scripts/unasync`` writes it). ``create`` checks
the client's calling window first, then its arguments against the contract; with a ledger and a
business key, the key is claimed before anything is sent, a completed key returns the recorded
call without a request, and the server's answer is recorded before it is read. With a call
limiter, a permit is taken after the ledger (a replay takes none) and before sending, released
at once if the send fails, and attached to the placed call until its end is reported.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Unpack

import httpx

from ..._reliability.options import RequestOptions, ResponseInfo, publish_ledger_replay
from ..._shared.errors import InvalidParameterError, StateSetVoiceError
from ..._storage.errors import LedgerRecordError
from ..._storage.leases import Completed
from ..._storage.ledger import LedgerEntry, fingerprint_request
from ..claims import Lease
from ..methods import arguments_of, check_options, implements
from ..operations import operation
from ..requests import build_request
from ..responses import parse_response
from .base import AsyncResource

if TYPE_CHECKING:
    from stateset_voice_public.models import Call

__all__ = ["AsyncCalls"]

_log = logging.getLogger("stateset_voice.ledger")


def _never_sent(exc: BaseException) -> bool:
    """Whether a failed request provably never reached the server: every attempt failed
    before sending (connect refused or timed out, no pool slot), or none was made."""
    if isinstance(exc, InvalidParameterError):
        return True  # refused before sending
    if not isinstance(exc, StateSetVoiceError):
        return False  # cancelled, or a bug: the request may be on the wire
    return not exc.may_have_reached_server


class AsyncCalls(AsyncResource):
    """Outbound calls (``POST /api/v1/make-call``)."""

    @implements("make_call")
    async def create(
        self,
        *,
        to: str,
        from_: str,
        agent_key: str,
        greeting: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
        wait_for_in_flight: float | None = None,
        ignore_calling_window: bool = False,
        **options: Unpack[RequestOptions],
    ) -> Call:
        """Place an outbound call; safe to retry with the same ``idempotency_key``.

        Pass a business key (``"appt-A-123-confirm"``): every attempt and every later retry with
        that key reaches the server as one call. With a ledger on the client, a key that already
        completed returns the recorded call without a request, a key in flight elsewhere raises
        :class:`DuplicateCallInFlightError` (or waits ``wait_for_in_flight`` seconds), and a key
        reused with other parameters raises :class:`IdempotencyConflictError`. Without a key, the
        transport sends a fresh one, so its own retries are still safe.
        Outside the client's ``calling_window`` it raises :class:`OutsideCallingHoursError`
        before anything else, unless ``ignore_calling_window=True``. With a ``call_limiter``, a
        call the limits cannot admit within the limiter's ``wait`` raises
        :class:`ConcurrencyLimitError` or :class:`CallRateLimitError`, and nothing is sent.

        Example::

            call = await voice.calls.create(to="+15555550101", from_="+15555551234",
                                            agent_key="front_desk", idempotency_key="appt-A-123")
        """
        self._owner._check_calling_window(to, ignore_calling_window, idempotency_key)
        arguments = arguments_of(locals())
        del arguments["wait_for_in_flight"]
        ledger = self._owner._ledger
        if self._owner._call_limiter is None and (ledger is None or idempotency_key is None):
            call: Call = await self._request("make_call", "calls.create", arguments, options)
            return call
        op = operation("make_call")
        check_options("calls.create", options)
        built = build_request(op, arguments, "calls.create")
        claim: LedgerEntry | None = None
        claimed_at = 0.0  # when the claim was taken, on the client's clock
        if ledger is not None and idempotency_key is not None:
            wait = self._owner._ledger_wait if wait_for_in_flight is None else wait_for_in_flight
            begun = await ledger.abegin(
                idempotency_key,
                fingerprint=fingerprint_request(built.json or {}),
                scope=self._owner.ledger_scope,
                wait=wait,
                sleep=self._owner._config.async_sleep,
            )
            if isinstance(begun, Completed):
                self._owner._ledger_replayed()
                publish_ledger_replay(idempotency_key)
                # Read the recorded answer exactly as a live one, through the same checks.
                replay = httpx.Response(
                    201, content=begun.result, headers={"content-type": "application/json"}
                )
                info = ResponseInfo(
                    idempotency_key=idempotency_key, replayed=True, from_ledger=True
                )
                recorded: Call = parse_response(op, replay, info, "calls.create")
                return recorded
            claim = begun
            claimed_at = self._owner._config.clock()
        # After the ledger, so that a replay takes no permit; before sending, so that a call the
        # limits cannot admit is refused with nothing sent (and its key given back).
        permit_from = self._owner._config.clock()  # the slot is claimed no earlier
        permit = await self._owner._take_permit(claim, idempotency_key)
        try:
            now = self._owner._config.clock()
            leases: list[Lease] = []
            if claim is not None and ledger is not None:
                leases.append(("ledger claim", ledger.lease_seconds, now - claimed_at))
            if permit is not None and permit.slot is not None:
                leases.append(("permit", permit.limiter.lease_seconds, now - permit_from))
            options = self._owner._deadline_within_leases(options, leases, idempotency_key)
            response, info = await self._owner._send(op, built, options)
        except BaseException as exc:
            if permit is not None:
                await permit.arelease()  # no call we could follow: the permit is free at once
            if claim is not None:
                # Unless the request provably never reached the server, the server may hold
                # the key: keep its parameters, so a retry with others is refused instead of
                # answered with this call.
                await claim.aabandon(maybe_sent=not _never_sent(exc))
            raise
        # A 2xx: the call exists. Record what the server said before anything else can fail.
        try:
            if claim is not None:
                try:
                    await claim.arecord(response.content)
                except LedgerRecordError as exc:
                    # The call is placed: return it. The key stays claimed until its lease
                    # expires; a retry after that re-sends the same key, which the server
                    # deduplicates.
                    _log.warning("calls.create: %s", exc)
        finally:
            # Even if this task is cancelled meanwhile: the call is in progress, so its permit
            # follows it (left unattached, it would stop counting when its lease ran out).
            if permit is not None:
                await self._owner._attach_permit(permit, response.content)
        placed: Call = parse_response(op, response, info, "calls.create")
        return placed
