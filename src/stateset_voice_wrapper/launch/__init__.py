"""The launch check: the tutorial's launch gates, run end to end against a tenant.

"20 synthetic calls, 95% signature verification, no duplicate outbound calls" turn a voice
launch from a demo into a controlled production workflow. :func:`launch_check` places the
synthetic calls (business keys from a run ID, through the client's ledger, so a re-run never
places one twice), follows them in the call logs to their final status, verifies their webhook
deliveries, reads their sessions and evaluations, checks each supported intent's outcome, and
sets the server's dry-run rollout sweep beside what it measured. It returns a
:class:`LaunchReport`: every gate's threshold, measured value, verdict and evidence.

Deliveries come from a :class:`WebhookReceiver` (a local endpoint), a :class:`DeliveryFile`
(JSON lines) or a :class:`DeliveryDirectory`; :func:`render_html` writes the report for the
people who approve a launch. The command line is ``stateset-voice launch-check``; see
``docs/launch-check.md``.

Example::

    from stateset_voice_wrapper import AdminClient, SqliteLedger, VoiceClient
    from stateset_voice_wrapper.launch import WebhookReceiver, launch_check, render_html

    with VoiceClient(ledger=SqliteLedger("launch.db")) as voice, AdminClient() as admin, \\
            WebhookReceiver(port=8787, save_to="deliveries.jsonl") as receiver:
        report = launch_check(voice=voice, admin=admin, tenant_id="ten_acme", run_id="r1",
                              agent_key="front_desk", from_="+15555551234",
                              to="+15555550101", deliveries=receiver,
                              webhook_secrets=[os.environ["STATESET_VOICE_WEBHOOK_SECRET"]])
    Path("report.html").write_text(render_html(report), encoding="utf-8")
"""

from __future__ import annotations

from ._check import DEFAULT_CALLS, launch_check
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
    "DEFAULT_CALLS",
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
    "launch_check",
    "load_intents",
    "parse_intents",
    "read_deliveries",
    "render_html",
]
