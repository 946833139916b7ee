"""The launch check's own error: an input it cannot use.

Hierarchy::

    StateSetVoiceError
    └── InvalidParameterError (ValueError)
        └── LaunchInputError    an intents file, a deliveries file or an option is not usable

Everything else the check can raise is the client library's (an API error while placing or
reading calls, a store failure of the ledger), unchanged.
"""

from __future__ import annotations

from .. import InvalidParameterError

__all__ = ["LaunchInputError"]


class LaunchInputError(InvalidParameterError):
    """An input of the launch check is not usable: nothing was placed because of it.

    The message names the file (and line) or the option and what is wrong with it, never a
    phone number or a secret.

    >>> raise LaunchInputError("intents file: intents.reschedule: unknown field 'outcome'")
    Traceback (most recent call last):
    ...
    stateset_voice_wrapper.launch.LaunchInputError: intents file: intents.reschedule: unknown field 'outcome'
    """


# Tracebacks name the public module.
LaunchInputError.__module__ = "stateset_voice_wrapper.launch"
