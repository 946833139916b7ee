"""The main job, end to end on this machine: start the sandbox, run the quickstart, stop; then
check the tenant's launch gates against a second sandbox.

    make demo

Needs no credentials: the sandbox prints its own test keys and webhook secret, and this
script hands them to ``examples/quickstart.py`` through the environment. The launch check
(``docs/launch-check.md``) places five synthetic calls over two intents, receives and verifies
their webhooks, and writes an HTML report to a temporary directory. Nothing is left running
afterwards.
"""

from __future__ import annotations

import importlib
import os
import socket
import sys
import tempfile
from pathlib import Path

from stateset_voice_wrapper import AdminClient, SqliteLedger, VoiceClient
from stateset_voice_wrapper.launch import IntentSpec, WebhookReceiver, launch_check, render_html
from stateset_voice_wrapper.sandbox import Sandbox

sys.path.insert(0, str(Path(__file__).resolve().parent))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> int:
    port = free_port()
    with Sandbox(
        seed=7, step_seconds=0.3, webhook_url=f"http://127.0.0.1:{port}/webhooks"
    ) as sandbox:
        print(f"sandbox listening on {sandbox.base_url}")
        os.environ["STATESET_VOICE_API_KEY"] = sandbox.runtime_key
        os.environ["STATESET_VOICE_BASE_URL"] = sandbox.base_url
        os.environ["STATESET_VOICE_WEBHOOK_SECRET"] = sandbox.webhook_secret
        quickstart = importlib.import_module("quickstart")  # examples/ is on sys.path
        code = int(quickstart.main(["--webhook-port", str(port), "--require-webhooks"]))
        creations = sandbox.creations_per_key()
        print(f"sandbox saw {sum(creations.values())} call creation(s) for {len(creations)} key(s)")
    print("sandbox stopped")
    return code or launch_demo()


def launch_demo() -> int:
    """The launch gates of a tenant with two supported intents, against a quick sandbox."""
    state = Path(tempfile.mkdtemp(prefix="stateset-voice-launch-"))
    intents = [
        IntentSpec(name="appointment_confirmation", expected_outcome="resolved"),
        # The approved escalation path: the sandbox escalates calls to numbers ending in 6.
        IntentSpec(name="escalation", to="+15555550106", expected_outcome="escalated"),
    ]
    with (
        WebhookReceiver(save_to=state / "deliveries.jsonl") as receiver,
        Sandbox(seed=7, step_seconds=0.05, webhook_url=receiver.url) as sandbox,
        VoiceClient(
            sandbox.runtime_key,
            base_url=sandbox.base_url,
            ledger=SqliteLedger(state / "ledger.sqlite3"),
        ) as voice,
        AdminClient(sandbox.admin_key, base_url=sandbox.base_url) as admin,
    ):
        print(f"launch check: receiving webhooks on {receiver.url}")
        # The platform team's gates for this tenant, and an approved agent version.
        admin.rollout_governance.update_policy(
            sandbox.tenant_id, stage="shadow", traffic_percent=0, min_synthetic_calls=5
        )
        version = admin.agent_versions.stage(
            agent_key="front_desk", model="gpt-realtime", voice="alloy",
            system_prompt_key="front_desk_v1", tenant_id=sandbox.tenant_id,
        )  # fmt: skip
        admin.agent_versions.approve(version.version_id, approved_by="demo@example.com")
        report = launch_check(
            voice=voice,
            admin=admin,
            tenant_id=sandbox.tenant_id,
            run_id="demo",
            agent_key="front_desk",
            from_="+15555551234",
            to="+15555550101",
            calls=5,
            intents=intents,
            deliveries=receiver,
            webhook_secrets=[sandbox.webhook_secret],
            poll_interval=0.1,
            grace=5.0,
            timeout=30.0,
        )
    for gate in report.gates:
        print(f"   {gate.gate:<25} {gate.verdict:<8} {gate.detail}")
    html = state / "launch-report.html"
    html.write_text(render_html(report), encoding="utf-8")
    print(f"   server sweep: decision {report.sweep.get('decision')}; HTML report: {html}")
    verdict = "PASSED" if report.passed else "FAILED: " + ", ".join(report.failed_gates)
    print(f"launch check {report.run_id}: {verdict}")
    return 0 if report.passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
