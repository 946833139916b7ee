"""The receivers under real servers: gunicorn, uvicorn, and the two examples as processes.

Each server is a child process listening on a loopback socket the test bound first (so no
port race and no readiness polling: connections queue until it accepts). Requests are raw
bytes on a socket, so nothing fixes up a malformed Host or Content-Length on the way, and
every answer must be a 4xx (or the 307 of a verified call): never a 500, never a traceback.
Waits are socket timeouts, never sleeps.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import select
import socket
import subprocess
import sys
import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import pytest

from stateset_voice_wrapper.webhooks import compute_twilio_signature, stateset_signature_header

TOKEN = "server-test-auth-token-5f3a"
SECRET = "whsec_server_test"
PHONE = "+15555551234"
FORM = urlencode({"CallSid": "CA1", "From": PHONE, "To": "+15555555678"}).encode()
ROOT = Path(__file__).resolve().parents[1]
# Short enough to keep the idle-connection tests quick, long enough that a loopback round
# trip always fits inside it.
EXAMPLE_SOCKET_TIMEOUT = 1.0
WAIT = 15.0  # upper bound for any single answer


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    def log_text(self) -> str:
        return self.log.read_text("utf-8", "replace")


def _listener() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    sock.set_inheritable(True)
    return sock


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _spawn_on_socket(name: str, argv: list[str], tmp: Path) -> Generator[Server, None, None]:
    """Run ``argv`` (``{fd}`` replaced by an inherited listening socket's fd)."""
    listener = _listener()
    port = listener.getsockname()[1]
    log = tmp / f"{name}.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [a.replace("{fd}", str(listener.fileno())) for a in argv],
            pass_fds=[listener.fileno()],
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
    listener.close()  # the child holds it now; if the child dies, connections are refused
    try:
        yield Server(name, port, process, log)
    finally:
        _stop(process)


def _gunicorn_argv(trust: bool) -> list[str]:
    app = (
        "stateset_voice_wrapper.webhooks:twilio_inbound_forwarder("
        f"auth_token={TOKEN!r}, trust_forwarded={trust}, max_body_bytes=4096)"
    )
    return [sys.executable, "-m", "gunicorn", "--bind", "fd://{fd}", "--workers", "1",
            "--graceful-timeout", "1", "--no-control-socket", "--error-logfile", "-", "--log-level", "info", app]  # fmt: skip


_UVICORN = """
import socket, sys, uvicorn
from stateset_voice_wrapper.webhooks import twilio_inbound_forwarder_asgi
app = twilio_inbound_forwarder_asgi(
    auth_token=sys.argv[2], trust_forwarded=sys.argv[3] == "1", max_body_bytes=4096)
config = uvicorn.Config(app, log_level="info", lifespan="on")
uvicorn.Server(config).run(sockets=[socket.socket(fileno=int(sys.argv[1]))])
"""


def _uvicorn_argv(trust: bool) -> list[str]:
    return [sys.executable, "-c", _UVICORN, "{fd}", TOKEN, "1" if trust else "0"]


@pytest.fixture(scope="module", params=["gunicorn", "uvicorn"])
def forwarders(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Server, Server]]:
    """The WSGI forwarder under gunicorn, or the ASGI one under uvicorn: (plain, trusting proxies)."""
    kind = str(request.param)
    tmp = tmp_path_factory.mktemp(kind)
    argv = _gunicorn_argv if kind == "gunicorn" else _uvicorn_argv
    plain = _spawn_on_socket(f"{kind}-plain", argv(False), tmp)
    trusting = _spawn_on_socket(f"{kind}-trusting", argv(True), tmp)
    servers = (next(plain), next(trusting))
    yield servers
    for generator in (plain, trusting):
        generator.close()
    for server in servers:
        text = server.log_text()
        assert "Traceback" not in text, f"{server.name} logged a traceback:\n{text}"
        for secret in (TOKEN, PHONE):
            assert secret not in text


# --- raw HTTP -------------------------------------------------------------------------------


def exchange(port: int, data: bytes, *, half_close: bool = True) -> bytes:
    """Send ``data`` and read the answer until the server closes (bounded by WAIT)."""
    with socket.create_connection(("127.0.0.1", port), timeout=WAIT) as sock:
        sock.sendall(data)
        if half_close:
            sock.shutdown(socket.SHUT_WR)
        return _read_all(sock)


def _read_all(sock: socket.socket) -> bytes:
    chunks: list[bytes] = []
    try:
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    except ConnectionResetError:
        pass  # the answer, if any, arrived before the reset
    return b"".join(chunks)


def status_of(answer: bytes) -> int:
    assert answer.startswith(b"HTTP/1."), answer[:80]
    return int(answer.split(b" ", 2)[1])


def post(
    *,
    host: bytes = b"hooks.example.com",
    path: bytes = b"/twilio/inbound",
    headers: bytes = b"",
    length: bytes | None = None,
    body: bytes = FORM,
    content_type: bytes = b"application/x-www-form-urlencoded",
) -> bytes:
    length_header = b"Content-Length: " + (str(len(body)).encode() if length is None else length)
    return (
        b"POST " + path + b" HTTP/1.1\r\nHost: " + host + b"\r\nContent-Type: " + content_type
        + b"\r\n" + headers + length_header + b"\r\nConnection: close\r\n\r\n" + body
    )  # fmt: skip


def signature_header(url: str, form: bytes = FORM) -> bytes:
    from urllib.parse import parse_qsl

    params = parse_qsl(form.decode(), keep_blank_values=True)
    return b"X-Twilio-Signature: " + compute_twilio_signature(
        auth_token=TOKEN, url=url, params=params
    ).encode() + b"\r\n"  # fmt: skip


def assert_rejected(answer: bytes, *allowed: int) -> int:
    status = status_of(answer)
    assert 400 <= status < 500, answer[:200]
    if allowed:
        assert status in allowed, answer[:200]
    assert b"Traceback" not in answer
    assert TOKEN.encode() not in answer
    return status


MALFORMED_HOSTS = [b"[", b"[::1", b"[zz]", b"[::1]x", b"a@b", b"h:99999", b"h:x", b"h%zz"]
BAD_LENGTHS = [b"-1", b"abc", b"1_0", b"+5", b"5 5", b"0x10", b"9" * 5000]


# --- gunicorn and uvicorn ------------------------------------------------------------------


def test_server_forwards_a_verified_call(forwarders: tuple[Server, Server]) -> None:
    plain, _ = forwarders
    host = f"127.0.0.1:{plain.port}"
    url = f"http://{host}/twilio/inbound?tenant=acme"
    answer = exchange(
        plain.port,
        post(
            host=host.encode(), path=b"/twilio/inbound?tenant=acme", headers=signature_header(url)
        ),
    )
    assert status_of(answer) == 307, answer[:200]
    assert b"location: https://voice.stateset.app/api/v1/incoming-call" in answer.lower()


@pytest.mark.parametrize("signature", [b"", b"X-Twilio-Signature: bm90IGl0\r\n"])
def test_server_unsigned_request_is_401(
    forwarders: tuple[Server, Server], signature: bytes
) -> None:
    plain, _ = forwarders
    assert_rejected(exchange(plain.port, post(headers=signature)), 401)


@pytest.mark.parametrize("host", MALFORMED_HOSTS)
def test_server_malformed_host_is_4xx(forwarders: tuple[Server, Server], host: bytes) -> None:
    plain, _ = forwarders
    signed = signature_header("https://hooks.example.com/twilio/inbound")
    assert_rejected(exchange(plain.port, post(host=host, headers=signed)))


@pytest.mark.parametrize("host", MALFORMED_HOSTS)
def test_server_malformed_forwarded_host_is_4xx(
    forwarders: tuple[Server, Server], host: bytes
) -> None:
    _, trusting = forwarders
    headers = b"X-Forwarded-Host: " + host + b"\r\n" + signature_header("https://x.example/")
    assert_rejected(exchange(trusting.port, post(headers=headers)))


@pytest.mark.parametrize("proto", [b"ftp", b"[", b"javascript"])
def test_server_forwarded_proto_that_is_not_http_is_4xx(
    forwarders: tuple[Server, Server], proto: bytes
) -> None:
    _, trusting = forwarders
    headers = b"X-Forwarded-Proto: " + proto + b"\r\n" + signature_header("https://x.example/")
    assert_rejected(exchange(trusting.port, post(headers=headers)))


def test_server_trusting_proxies_forwards_through_a_proxy(
    forwarders: tuple[Server, Server],
) -> None:
    _, trusting = forwarders
    url = "https://hooks.example.com:8443/twilio/inbound"
    # Twilio may sign the port-less URL even though it called port 8443.
    headers = (
        b"X-Forwarded-Proto: https\r\nX-Forwarded-Host: hooks.example.com:8443\r\n"
        + signature_header(url.replace(":8443", ""))
    )
    answer = exchange(trusting.port, post(host=b"10.0.0.5:8000", headers=headers))
    assert status_of(answer) == 307, answer[:200]


@pytest.mark.parametrize("length", BAD_LENGTHS)
def test_server_bad_content_length_is_4xx(forwarders: tuple[Server, Server], length: bytes) -> None:
    plain, _ = forwarders
    assert_rejected(
        exchange(plain.port, post(length=length, headers=signature_header("https://x/")))
    )


def test_server_oversized_bodies_are_413(forwarders: tuple[Server, Server]) -> None:
    plain, _ = forwarders
    signed = signature_header("https://x/")
    announced = post(length=b"2000000", body=b"a=1", headers=signed)
    assert_rejected(exchange(plain.port, announced), 413)
    sent = post(body=b"a=" + b"x" * 5000, headers=signed)  # the servers were given 4096
    assert_rejected(exchange(plain.port, sent), 413)


def test_server_body_shorter_than_content_length_is_4xx(forwarders: tuple[Server, Server]) -> None:
    plain, _ = forwarders
    answer = exchange(plain.port, post(length=b"500", headers=signature_header("https://x/")))
    if plain.name.startswith("uvicorn"):
        # uvicorn reports the early end to the app as a disconnect: nothing is answered.
        assert answer == b""
    else:
        assert_rejected(answer, 400)
        assert answer.endswith(b"bad request body length")


def test_server_undecodable_form_is_401(forwarders: tuple[Server, Server]) -> None:
    plain, _ = forwarders
    body = b"From=%ff%fe&\xff\xfe=\x00"
    assert_rejected(
        exchange(plain.port, post(body=body, headers=signature_header("https://x/"))), 401
    )


def test_server_forwards_a_chunked_body(forwarders: tuple[Server, Server]) -> None:
    # No Content-Length: gunicorn marks the stream terminated, uvicorn de-chunks for the app.
    plain, _ = forwarders
    host = f"127.0.0.1:{plain.port}"
    chunked = f"{len(FORM):x}\r\n".encode() + FORM + b"\r\n0\r\n\r\n"
    request = (
        b"POST /twilio/inbound HTTP/1.1\r\nHost: " + host.encode() + b"\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n"
        + signature_header(f"http://{host}/twilio/inbound")
        + b"Connection: close\r\n\r\n" + chunked
    )  # fmt: skip
    assert status_of(exchange(plain.port, request)) == 307


# --- the examples, run as their own processes -----------------------------------------------


def _run_example(name: str, args: list[str], env: dict[str, str]) -> Iterator[Server]:
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "examples" / f"{name}.py"), "--port", "0",
         "--socket-timeout", str(EXAMPLE_SOCKET_TIMEOUT), *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, **env},
        cwd=ROOT,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], WAIT)
        line = process.stdout.readline().decode() if ready else ""
        assert "http://127.0.0.1:" in line, f"{name} did not start: {line!r}"
        port = int(line.rsplit(":", 1)[1].strip().rstrip("/"))
        yield Server(name, port, process, Path(os.devnull))
    finally:
        _stop(process)
        if process.stdout is not None:
            output = process.stdout.read().decode("utf-8", "replace")
            process.stdout.close()
            assert "Traceback" not in output, f"{name} printed a traceback:\n{output}"
            assert SECRET not in output
            assert TOKEN not in output
            assert "5555551234" not in output  # PHONE, however it is encoded


@pytest.fixture(scope="module")
def receiver_example() -> Iterator[Server]:
    yield from _run_example("webhook_receiver", [], {"STATESET_VOICE_WEBHOOK_SECRET": SECRET})


@pytest.fixture(scope="module")
def forwarder_example() -> Iterator[Server]:
    yield from _run_example("twilio_forwarder", [], {"TWILIO_AUTH_TOKEN": TOKEN})


def delivery(timestamp: int | None = None, header: bytes | None = None) -> bytes:
    body = json.dumps({"id": "evt_1", "type": "session.started", "api_version": "2026-11-01",
                       "occurred_at": "2026-11-20T15:05:45Z", "tenant_id": "ten_1",
                       "data": {"session_id": "vs_1", "call_id": "call_1", "agent_key": "a",
                                "status": "active"}}).encode()  # fmt: skip
    if header is None:
        ts = int(time.time()) if timestamp is None else timestamp
        header = stateset_signature_header(body, secrets=[SECRET], timestamp=ts).encode()
    return post(host=b"127.0.0.1", path=b"/", body=body, content_type=b"application/json",
                headers=b"StateSet-Signature: " + header + b"\r\n")  # fmt: skip


def test_receiver_example_accepts_a_delivery_and_refuses_tampering(
    receiver_example: Server,
) -> None:
    assert status_of(exchange(receiver_example.port, delivery())) == 200
    forged = hmac.new(b"wrong", b"x", hashlib.sha256).hexdigest()
    refused = exchange(receiver_example.port, delivery(header=f"t=1,v1={forged}".encode()))
    assert_rejected(refused, 401)


@pytest.mark.parametrize(
    "header", [b"t=" + b"9" * 5000 + b",v1=00", b"t=" + b"9" * 400 + b",v1=00", b"t=\xd9\xa1"]
)
def test_receiver_example_absurd_signature_header_is_401(
    receiver_example: Server, header: bytes
) -> None:
    assert_rejected(exchange(receiver_example.port, delivery(header=header)), 401)


@pytest.mark.parametrize(
    ("length", "status"),
    [(b"-1", 400), (b"+5", 400), (b"1_0", 400), (b"\xd9\xa1", 400), (b"5000", 400),
     (b"2000000", 413), (b"9" * 5000, 413)],
)  # fmt: skip
def test_receiver_example_bad_content_length(
    receiver_example: Server, length: bytes, status: int
) -> None:
    # -1 used to skip the 1 MiB cap and read(-1) until the client closed.
    answer = exchange(receiver_example.port, post(host=b"127.0.0.1", path=b"/", length=length))
    assert_rejected(answer, status)


def test_forwarder_example_answers_4xx_to_malformed_requests(forwarder_example: Server) -> None:
    port = forwarder_example.port
    host = f"127.0.0.1:{port}"
    signed = signature_header(f"http://{host}/twilio/inbound")
    assert status_of(exchange(port, post(host=host.encode(), headers=signed))) == 307
    for bad_host in MALFORMED_HOSTS:
        assert_rejected(exchange(port, post(host=bad_host, headers=signed)), 401)
    for length in BAD_LENGTHS:
        assert_rejected(exchange(port, post(host=host.encode(), length=length, headers=signed)))
    assert_rejected(exchange(port, post(host=host.encode(), length=b"2000000")), 413)
    assert_rejected(exchange(port, post(host=host.encode())), 401)
    # A GET webhook carries the numbers in the query; the access log must not repeat them.
    get = b"GET /twilio/inbound?From=%2B15555551234&To=%2B15555555678 HTTP/1.1\r\nHost: x\r\n\r\n"
    assert_rejected(exchange(port, get), 401)


@pytest.mark.parametrize("example", ["receiver_example", "forwarder_example"])
def test_example_idle_connection_blocks_no_one(
    request: pytest.FixtureRequest, example: str
) -> None:
    server: Server = request.getfixturevalue(example)
    with socket.create_connection(("127.0.0.1", server.port), timeout=WAIT) as idle:
        idle.sendall(b"POST / HTTP/1.1\r\n")  # and then nothing: a half-sent request
        # While the idle connection is still held open, another request is answered...
        answer = exchange(server.port, post(host=b"127.0.0.1", path=b"/", headers=b""))
        assert_rejected(answer, 401)
        idle.setblocking(False)
        with pytest.raises(BlockingIOError):
            idle.recv(1)  # ...and the idle one has not been dropped yet.
        # The server drops it once its socket timeout passes.
        idle.setblocking(True)
        idle.settimeout(WAIT)
        assert _read_all(idle) == b""


@pytest.mark.parametrize("example", ["receiver_example", "forwarder_example"])
def test_example_client_that_stops_mid_body_gets_408(
    request: pytest.FixtureRequest, example: str
) -> None:
    server: Server = request.getfixturevalue(example)
    answer = exchange(
        server.port,
        post(host=b"127.0.0.1", path=b"/", length=b"100", body=b"a=1"),
        half_close=False,
    )
    assert_rejected(answer, 408)
