"""A sandbox wired for the launch check: its webhooks go to a receiver, its clock to the test.

Nothing sleeps: the check's ``sleep`` moves the sandbox's manual clock one step (a call goes
queued -> ringing -> in-progress -> ended in three) and waits until the webhooks that step
emitted have been delivered; its ``clock`` is a counter that ``sleep`` advances.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stateset_voice_wrapper import AdminClient, SqliteLedger, VoiceClient
from stateset_voice_wrapper.launch import LaunchReport, WebhookReceiver, launch_check
from stateset_voice_wrapper.sandbox import Sandbox

AGENT = "front_desk"
FROM = "+15555551234"
TO = "+15555550101"  # answered, completed
TO_FAILS = "+15555550108"  # the carrier fails it
TO_ESCALATES = "+15555550106"
TO_NO_ANSWER = "+15555550107"


@dataclass
class LaunchEnv:
    sandbox: Sandbox
    receiver: WebhookReceiver
    voice: VoiceClient
    admin: AdminClient
    tmp: Path
    now: float = 0.0
    advance_sandbox: bool = True
    slept: list[float] = field(default_factory=list)

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
        if self.advance_sandbox:
            self.sandbox.advance(steps=1)
        assert self.sandbox.flush_webhooks(timeout=10)

    def set_policy(self, *, min_synthetic_calls: int) -> None:
        """The tenant's launch gates, as a platform team sets them."""
        self.admin.rollout_governance.update_policy(
            self.sandbox.tenant_id,
            stage="shadow",
            traffic_percent=0,
            min_synthetic_calls=min_synthetic_calls,
            min_signature_verification_rate=0.95,
            max_duplicate_outbound_calls=0,
            max_error_rate=1.0,  # fault-injection tests make 5xx on purpose
            require_approval=True,
        )

    def check(self, **options: Any) -> LaunchReport:
        arguments: dict[str, Any] = {
            "voice": self.voice,
            "admin": self.admin,
            "tenant_id": self.sandbox.tenant_id,
            "run_id": "t1",
            "agent_key": AGENT,
            "from_": FROM,
            "to": TO,
            "calls": 4,
            "deliveries": self.receiver,
            "webhook_secrets": [self.sandbox.webhook_secret],
            "timeout": 30.0,
            "grace": 10.0,
            "poll_interval": 1.0,
            "clock": self.clock,
            "sleep": self.sleep,
        }
        arguments.update(options)
        return launch_check(**arguments)


def make_env(
    sandbox_factory: Callable[..., Sandbox], tmp_path: Path, **sandbox_options: Any
) -> Iterator[LaunchEnv]:
    receiver = WebhookReceiver(save_to=tmp_path / "deliveries.jsonl").start()
    try:
        sandbox = sandbox_factory(webhook_url=receiver.url, **sandbox_options)
        with (
            VoiceClient(
                sandbox.runtime_key,
                base_url=sandbox.base_url,
                ledger=SqliteLedger(tmp_path / "ledger.sqlite3"),
                max_retries=0,  # a fault fails its create at once: no backoff to wait out
            ) as voice,
            AdminClient(sandbox.admin_key, base_url=sandbox.base_url) as admin,
        ):
            env = LaunchEnv(
                sandbox=sandbox, receiver=receiver, voice=voice, admin=admin, tmp=tmp_path
            )
            env.set_policy(min_synthetic_calls=4)
            yield env
    finally:
        receiver.stop()
