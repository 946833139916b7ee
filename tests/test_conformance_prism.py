"""A Prism validation proxy in front of the sandbox: a second, independent contract checker.

Opt-in (``make prism``, or ``STATESET_PRISM=1``), because it needs Node and the npm registry:
without the variable this module defines no test. For each contract it starts
``npx @stoplight/prism-cli@5 proxy <contract> <sandbox> --errors`` on loopback, sends the
README's and docs/sandbox.md's typical requests through it, then schemathesis's valid
(``--mode positive``) requests, and fails on any violation Prism reports in a response (its
``sl-violations`` header, an error answer of its own, or a ``Violation: response`` log line).

A second test runs the documentation itself (every Python block of README.md and docs/*.md, as
``make check`` does) with its clients pointed at both proxies, and holds it to the same rule.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from stateset_voice_wrapper.sandbox import Sandbox
from stateset_voice_wrapper.sandbox._constants import TEST_DEFAULTS
from stateset_voice_wrapper.webhooks import compute_twilio_signature

if TYPE_CHECKING:
    from tests.prism import CONTRACTS, REPO, Proxy, start_prism, stop
else:
    from prism import CONTRACTS, REPO, Proxy, start_prism, stop


def typical_public(http: httpx.Client, sandbox: Sandbox) -> None:
    """The public requests of README.md and docs/sandbox.md, and their documented errors."""
    runtime = {"Authorization": f"Bearer {sandbox.runtime_key}"}
    call = {
        "to": "+15555555678",
        "from": "+15555551234",
        "agent_key": "front_desk",
        "greeting": "Hi, this is Acme calling to confirm your appointment.",
        "metadata": {"appointment_id": "A-123"},
    }
    keyed = {**runtime, "Idempotency-Key": "appt-A-123-confirm"}
    created = http.post("/api/v1/make-call", json=call, headers=keyed).json()
    http.post("/api/v1/make-call", json=call, headers=keyed)  # a replay
    http.post("/api/v1/make-call", json={**call, "to": "+15555555679"}, headers=keyed)  # 409
    sandbox.advance(settle=True)
    http.get("/api/v1/call-logs", params={"status": "completed"}, headers=runtime)
    log = http.get(f"/api/v1/call-logs/{created['call_id']}", headers=runtime).json()
    http.get("/api/v1/voice-sessions", headers=runtime)
    http.get(f"/api/v1/voice-sessions/{log['session_id']}", headers=runtime)
    evaluations = http.get("/api/v1/evaluations", params={"passed": "true"}, headers=runtime)
    for item in evaluations.json()["items"]:
        http.get(f"/api/v1/evaluations/{item['evaluation_id']}", headers=runtime)
    http.get("/api/v1/readiness", headers=runtime)
    access = {
        "company": "Acme Dental",
        "contact_name": "Dana Lee",
        "email": "dana@acme.example",
        "use_case": "Appointment confirmation calls",
    }
    http.post("/api/v1/access-requests", json=access)
    form = {
        "CallSid": "CA" + "5" * 32,
        "AccountSid": "AC" + "0" * 32,
        "From": "+15555550100",
        "To": "+15555551234",
        "CallStatus": "ringing",
        "Direction": "inbound",
        "ApiVersion": "2010-04-01",
    }
    for url in (sandbox.base_url, str(http.base_url).rstrip("/")):  # whichever Host it forwards
        signature = compute_twilio_signature(
            auth_token=sandbox.twilio_auth_token, url=url + "/api/v1/incoming-call", params=form
        )
        http.post("/api/v1/incoming-call", data=form, headers={"X-Twilio-Signature": signature})
    http.get("/api/v1/call-logs/call_nothing", headers=runtime)  # 404
    http.get("/api/v1/call-logs", headers={})  # 401
    http.post("/api/v1/make-call", json={"to": "555"}, headers=runtime)  # 422
    sandbox.set_rate_limit(limit=1, refill_per_second=0.001)
    http.get("/api/v1/readiness", headers=runtime)
    http.get("/api/v1/readiness", headers=runtime)  # 429 with Retry-After
    sandbox.set_rate_limit(limit=1_000_000, refill_per_second=1e6)


def typical_admin(http: httpx.Client, sandbox: Sandbox) -> None:
    """The admin requests of docs/admin.md and docs/sandbox.md, and their documented errors."""
    admin = {"x-admin-key": sandbox.admin_key}
    http.get("/api/v1/admin/tenants", headers=admin)
    http.get("/api/v1/admin/tenants/ten_acme", headers=admin)
    config = {
        "model": "gpt-realtime",
        "voice": "alloy",
        "system_prompt_key": "front_desk_v1",
        "webhook_url": "https://hooks.acme.example/voice",
        "telephony": {"default_from_number": "+15555551234", "recording_enabled": True},
    }
    http.put("/api/v1/admin/tenants/ten_acme/runtime-config", json=config, headers=admin)
    http.get("/api/v1/admin/tenants/ten_acme/runtime-config", headers=admin)
    policy = {"stage": "canary", "traffic_percent": 10, "min_synthetic_calls": 2}
    http.put("/api/v1/admin/tenants/ten_acme/rollout-policy", json=policy, headers=admin)
    http.get("/api/v1/admin/tenants/ten_acme/rollout-policy", headers=admin)
    http.post(
        "/api/v1/admin/rollout-governance/sweep", json={"tenant_id": "ten_acme"}, headers=admin
    )
    http.post("/api/v1/admin/rollout-governance/sweep", json={}, headers=admin)
    version = {
        "tenant_id": "ten_acme",
        "agent_key": "front_desk",
        "model": "gpt-realtime",
        "voice": "alloy",
        "system_prompt_key": "front_desk_v2",
        "notes": "Shorter greeting.",
    }
    staged = http.post("/api/v1/admin/agent-versions", json=version, headers=admin).json()
    version_url = f"/api/v1/admin/agent-versions/{staged['version_id']}"
    http.post(version_url + "/publish", json={}, headers=admin)  # 409: not approved
    http.post(version_url + "/approve", json={"approved_by": "ops@acme.example"}, headers=admin)
    http.post(version_url + "/publish", json={"traffic_percent": 10}, headers=admin)
    http.get(version_url, headers=admin)
    http.get("/api/v1/admin/agent-versions", params={"tenant_id": "ten_acme"}, headers=admin)
    route = {"phone_number": "+15555559876", "tenant_id": "ten_acme", "agent_key": "support"}
    created = http.post("/api/v1/admin/phone-routes", json=route, headers=admin).json()
    http.post("/api/v1/admin/phone-routes", json=route, headers=admin)  # 409 taken
    route_url = f"/api/v1/admin/phone-routes/{created['route_id']}"
    http.put(route_url, json={"enabled": False, "fallback_number": None}, headers=admin)
    http.get(route_url, headers=admin)
    http.get("/api/v1/admin/phone-routes", headers=admin)
    http.delete(route_url, headers=admin)  # 204
    http.delete(route_url, headers=admin)  # 404
    http.get("/api/v1/admin/tenants", headers={"x-admin-key": "wrong"})  # 401


TYPICAL = {"public": typical_public, "admin": typical_admin}


def run_through_prism(contract: str, tmp_path: Path) -> None:
    """Start a sandbox and Prism, send the typical then the generated requests, check."""
    assert shutil.which("npx"), "make prism needs Node's npx on PATH"
    options = {**TEST_DEFAULTS, "rate_limit": 1_000_000, "rate_limit_refill_per_second": 1e6}
    with Sandbox(**options) as sandbox:
        log = tmp_path / f"prism-{contract}.log"
        process, url = start_prism(CONTRACTS[contract], sandbox.base_url, log)
        try:
            proxy = Proxy(url, log)
            hooks = {"response": [proxy.answers.append]}
            with httpx.Client(base_url=proxy.url, event_hooks=hooks, timeout=30.0) as http:
                TYPICAL[contract](http, sandbox)
            typical = len(proxy.answers)
            assert typical > 10
            assert proxy.violations() == []
            generated = _schemathesis_through(proxy, sandbox, contract, tmp_path)
            print(
                f"prism {contract}: {typical} typical requests, {generated} schemathesis cases, "
                f"{len(proxy.violations())} response violations, "
                f"{len(proxy.request_violations())} request violations"
            )
            assert proxy.violations() == []
        finally:
            stop(process)


def _schemathesis_through(proxy: Proxy, sandbox: Sandbox, contract: str, tmp_path: Path) -> int:
    """Run schemathesis's valid requests through Prism; return how many cases it made."""
    if str(REPO / "tests") not in sys.path:
        sys.path.insert(0, str(REPO / "tests"))
    schemathesis_test = importlib.import_module("test_conformance_schemathesis")
    env = {
        **os.environ,
        "PYTHONPATH": str(schemathesis_test.conformance_tools()),
        "SCHEMATHESIS_HOOKS": schemathesis_test.HOOKS,
        "STATESET_SANDBOX_URL": sandbox.base_url,
        "STATESET_SANDBOX_ADMIN_KEY": sandbox.admin_key,
    }
    examples = os.environ.get("STATESET_PRISM_MAX_EXAMPLES", "20")
    command = [
        sys.executable, "-m", "schemathesis.cli", "run", str(CONTRACTS[contract]),
        "--url", proxy.url, "--mode", "positive", "--seed", "20261201",
        "--max-examples", examples, "--workers", "1", "--generation-database", "none",
        "--no-color",
    ]  # fmt: skip
    # Its exit status is not the point: Prism answers some requests itself (problem+json),
    # which schemathesis reports. Prism's verdicts on the sandbox's answers are.
    done = subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=1100
    )
    generated = [int(n) for n in re.findall(r"(\d+) generated", done.stdout)]
    assert generated, done.stdout[-3000:]
    return sum(generated)


if os.environ.get("STATESET_PRISM"):
    # Defined only when asked for: Node and the npm registry are not part of `make check`.

    @pytest.mark.parametrize("contract", sorted(CONTRACTS))
    @pytest.mark.timeout(1500)
    def test_prism_sees_no_response_violation(contract: str, tmp_path: Path) -> None:
        run_through_prism(contract, tmp_path)

    @pytest.mark.timeout(1500)
    def test_the_documentation_through_prism(tmp_path: Path) -> None:
        """README.md and docs/*.md run with their clients behind Prism: 0 response violations."""
        assert shutil.which("npx"), "make prism needs Node's npx on PATH"
        report = tmp_path / "prism-docs.json"
        env = {**os.environ, "STATESET_DOCS_PRISM_REPORT": str(report)}
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p",
                   "no:randomly", "README.md", "docs"]  # fmt: skip
        done = subprocess.run(
            command, cwd=REPO, env=env, capture_output=True, text=True, timeout=1400
        )
        assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
        seen = json.loads(report.read_text())
        for contract, result in seen.items():
            print(
                f"prism docs {contract}: {result['answers']} requests, "
                f"{len(result['violations'])} response violations, "
                f"{result['request_violations']} request violations"
            )
        assert seen["public"]["answers"] > 20
        assert seen["admin"]["answers"] > 5
        assert [v for r in seen.values() for v in r["violations"]] == []
