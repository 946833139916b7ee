"""Prism validation proxies in front of a sandbox, shared by the Prism tests and the docs run.

``start_prism`` runs ``npx @stoplight/prism-cli@5 proxy <contract> <upstream> --errors`` on
loopback; a :class:`Proxy` collects the answers that went through it and reports every
response-side violation Prism saw. :class:`Splitter` is one base URL in front of both
contracts' proxies (``/api/v1/admin/...`` to the admin one, the rest to the public one, and the
sandbox's own ``/_sandbox`` control paths straight to the sandbox), so a client configured with
a single base URL, as the documentation's are, is checked against both contracts.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
PRISM = ["npx", "--yes", "@stoplight/prism-cli@5"]
CONTRACTS = {
    "public": REPO / "api-contracts" / "stateset-voice-public.json",
    "admin": REPO / "api-contracts" / "stateset-voice-admin.json",
}

REQUEST_SIDE = ("#UNAUTHORIZED", "#UNPROCESSABLE_ENTITY", "#NO_PATH_MATCHED_ERROR", "#NO_METHOD")
"""Prism's own answers to requests it judged invalid: about the request, not the sandbox."""

_HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "transfer-encoding",
    "content-length",
    "content-encoding",
    "host",
    "upgrade",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Proxy:
    url: str
    log: Path
    answers: list[httpx.Response] = field(default_factory=list)

    def violations(self) -> list[str]:
        """Every response-side violation Prism saw: headers, its own errors, its log."""
        found = [
            f"{r.request.method} {r.request.url.path} -> {r.status_code}: {r.headers['sl-violations']}"
            for r in self.answers
            if "sl-violations" in r.headers
        ]
        found += [
            f"{r.request.method} {r.request.url.path}: {r.text[:300]}"
            for r in self.answers
            if r.headers.get("content-type", "").startswith("application/problem+json")
            and not any(kind in r.text for kind in REQUEST_SIDE)
        ]
        log = self.log.read_text(errors="replace")
        found += [line for line in log.splitlines() if "Violation: response" in line]
        return found

    def request_violations(self) -> list[str]:
        log = self.log.read_text(errors="replace")
        return [line for line in log.splitlines() if "Violation: request" in line]


def start_prism(contract: Path, upstream: str, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    command = [
        *PRISM,
        "proxy",
        str(contract),
        upstream,
        "--errors",
        "-h",
        "127.0.0.1",
        "-p",
        str(port),
    ]
    out = log.open("wb")
    # Its own process group: npx starts Prism as a child, which must stop with it.
    process = subprocess.Popen(
        command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
    )
    deadline = time.monotonic() + 180  # npx may fetch the package first
    while time.monotonic() < deadline:
        if "Prism is listening" in log.read_text(errors="replace"):
            return process, f"http://127.0.0.1:{port}"
        if process.poll() is not None:
            raise RuntimeError(f"prism exited: {log.read_text(errors='replace')[-2000:]}")
        time.sleep(0.2)  # polling a child process's startup, not test logic
    stop(process)
    raise RuntimeError("prism did not start listening within 180 s")


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop npx and the Prism server it started (the whole process group)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)


class Splitter:
    """One loopback base URL in front of the public and admin proxies (and the sandbox)."""

    def __init__(self, *, public: Proxy, admin: Proxy, sandbox_url: str) -> None:
        self.public = public
        self.admin = admin
        self.sandbox_url = sandbox_url
        self._http = httpx.Client(timeout=60.0)
        splitter = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                return

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                proxy, base = splitter.route(self.path)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
                answer = splitter._http.request(
                    self.command, base + self.path, headers=headers, content=body
                )
                if proxy is not None:
                    proxy.answers.append(answer)
                self.send_response(answer.status_code)
                for name, value in answer.headers.multi_items():
                    if name.lower() not in _HOP_BY_HOP:
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _forward

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def route(self, path: str) -> tuple[Proxy | None, str]:
        if path.startswith("/_sandbox"):
            return None, self.sandbox_url
        if path.startswith("/api/v1/admin"):
            return self.admin, self.admin.url
        return self.public, self.public.url

    def __enter__(self) -> Splitter:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._http.close()
