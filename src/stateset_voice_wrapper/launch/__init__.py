"""The launch check's inputs: supported intents, the run's synthetic calls and where their
webhook deliveries come from.

- :class:`IntentSpec`, :func:`load_intents`: each supported intent and the outcome its calls
  must reach.
- :func:`business_key`: the idempotency key of a run's ``n``-th synthetic call.
- :class:`WebhookReceiver` (a local endpoint), :class:`DeliveryFile` (JSON lines) and
  :class:`DeliveryDirectory`: sources of :class:`Delivery` records.

See ``docs/launch-check.md``.

Example::

    from stateset_voice_wrapper.launch import WebhookReceiver

    with WebhookReceiver(port=8787, save_to="deliveries.jsonl") as receiver:
        print(receiver.url, len(receiver.collect()))
"""

from __future__ import annotations

from ._deliveries import (
    Delivery,
    DeliveryDirectory,
    DeliveryFile,
    DeliverySource,
    DeliveryTally,
    read_deliveries,
)
from ._errors import LaunchInputError
from ._intents import OUTCOMES, IntentSpec, load_intents, parse_intents
from ._place import business_key
from ._receiver import WebhookReceiver

__all__ = [
    "OUTCOMES",
    "Delivery",
    "DeliveryDirectory",
    "DeliveryFile",
    "DeliverySource",
    "DeliveryTally",
    "IntentSpec",
    "LaunchInputError",
    "WebhookReceiver",
    "business_key",
    "load_intents",
    "parse_intents",
    "read_deliveries",
]
