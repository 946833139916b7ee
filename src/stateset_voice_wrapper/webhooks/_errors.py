"""Errors raised by :mod:`stateset_voice_wrapper.webhooks`.

Hierarchy (both keep ``ValueError`` as a second base, so ``except ValueError`` code works)::

    StateSetVoiceError
    ├── InvalidSignatureError (ValueError)  the request is not provably from Twilio / StateSet
    └── InvalidEventError (ValueError)      the (authentic) payload is not a well-formed event

Messages say which check failed and never contain a secret, an expected
signature, or values taken from the request (phone numbers, payload fields).
"""

from __future__ import annotations

from .. import StateSetVoiceError

__all__ = ["InvalidEventError", "InvalidSignatureError"]


class InvalidSignatureError(StateSetVoiceError, ValueError):
    """A webhook signature (Twilio or StateSet) did not verify.

    ``reason`` is a short, stable, machine-readable code such as
    ``"signature_mismatch"`` or ``"timestamp_outside_tolerance"``; ``str(exc)``
    is the human sentence. Answer such requests with 401 and do not process them.

    >>> raise InvalidSignatureError("signature mismatch", reason="signature_mismatch")
    Traceback (most recent call last):
    ...
    stateset_voice_wrapper.webhooks.InvalidSignatureError: signature mismatch
    """

    def __init__(self, message: str, *, reason: str = "invalid_signature") -> None:
        super().__init__(message)
        self.reason = reason


class InvalidEventError(StateSetVoiceError, ValueError):
    """A StateSet delivery body is not a well-formed event (bad JSON, missing or mistyped fields).

    >>> from stateset_voice_wrapper.webhooks import parse_event
    >>> parse_event(b"not json")
    Traceback (most recent call last):
    ...
    stateset_voice_wrapper.webhooks.InvalidEventError: event payload is not valid JSON
    """


# Tracebacks name the public module.
InvalidSignatureError.__module__ = InvalidEventError.__module__ = "stateset_voice_wrapper.webhooks"
