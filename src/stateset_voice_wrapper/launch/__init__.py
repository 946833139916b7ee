"""The launch check's inputs and its report: supported intents, the run's synthetic calls,
where their webhook deliveries come from, and what the gates found.

- :class:`IntentSpec`, :func:`load_intents`: each supported intent and the outcome its calls
  must reach.
- :func:`business_key`: the idempotency key of a run's ``n``-th synthetic call.
- :class:`WebhookReceiver` (a local endpoint), :class:`DeliveryFile` (JSON lines) and
  :class:`DeliveryDirectory`: sources of :class:`Delivery` records.
- :class:`LaunchReport`: every gate's :class:`GateResult` (threshold, measurement, verdict,
  evidence), the calls (:class:`SyntheticCall`), the intents (:class:`IntentResult`) and the
  server's sweep beside the measurement (:class:`SweepComparison`); :func:`render_html`
  writes it as one self-contained HTML file.

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
from ._html import render_html
from ._intents import OUTCOMES, IntentSpec, load_intents, parse_intents
from ._model import (
    GATES,
    REPORT_SCHEMA,
    GateResult,
    IntentResult,
    LaunchReport,
    SweepComparison,
    SyntheticCall,
)
from ._place import business_key
from ._receiver import WebhookReceiver

__all__ = [
    "GATES",
    "OUTCOMES",
    "REPORT_SCHEMA",
    "Delivery",
    "DeliveryDirectory",
    "DeliveryFile",
    "DeliverySource",
    "DeliveryTally",
    "GateResult",
    "IntentResult",
    "IntentSpec",
    "LaunchInputError",
    "LaunchReport",
    "SweepComparison",
    "SyntheticCall",
    "WebhookReceiver",
    "business_key",
    "load_intents",
    "parse_intents",
    "read_deliveries",
    "render_html",
]
