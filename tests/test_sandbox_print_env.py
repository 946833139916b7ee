"""`stateset-voice sandbox --print-env`: the exports point the clients at a sandbox started with
the same seed and port, so the README's one-line setup works."""

from __future__ import annotations

import io
import shlex
import socket

from stateset_voice_wrapper import VoiceClient
from stateset_voice_wrapper.sandbox import Sandbox, main


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _exports(*argv: str) -> dict[str, str]:
    out = io.StringIO()
    assert main([*argv, "--print-env"], out=out) == 0
    found = {}
    for line in out.getvalue().splitlines():
        word, assignment = line.split(" ", 1)
        assert word == "export"
        name, value = assignment.split("=", 1)
        found[name] = shlex.split(value)[0]
    return found


def test_the_printed_environment_reaches_a_sandbox_with_that_seed_and_port() -> None:
    port = _free_port()
    env = _exports("--seed", "11", "--port", str(port))
    with Sandbox(seed=11, port=port) as sandbox:
        assert env["STATESET_VOICE_BASE_URL"] == sandbox.base_url
        assert env["STATESET_VOICE_API_KEY"] == sandbox.runtime_key
        assert env["STATESET_VOICE_ADMIN_API_KEY"] == sandbox.admin_key
        assert env["STATESET_VOICE_WEBHOOK_SECRET"] == sandbox.webhook_secret
        assert env["TWILIO_AUTH_TOKEN"] == sandbox.twilio_auth_token
        with VoiceClient(
            env["STATESET_VOICE_API_KEY"], base_url=env["STATESET_VOICE_BASE_URL"]
        ) as voice:
            assert voice.readiness() is not None


def test_print_env_needs_a_seed_and_a_fixed_port() -> None:
    assert main(["--print-env"], out=io.StringIO()) == 2
    assert main(["--print-env", "--seed", "1", "--port", "0"], out=io.StringIO()) == 2
