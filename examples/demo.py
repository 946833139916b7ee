"""The main job, end to end on this machine: start the sandbox, run the quickstart, stop.

    make demo

Needs no credentials: the sandbox prints its own test keys and webhook secret, and this
script hands them to ``examples/quickstart.py`` through the environment. Nothing is left
running afterwards.
"""

from __future__ import annotations

import importlib
import os
import socket
import sys
from pathlib import Path

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
    return code


if __name__ == "__main__":
    raise SystemExit(main())
