"""The WSGI and ASGI helpers: a real loopback WSGI server driven by httpx, and direct ASGI calls."""

from __future__ import annotations

import hashlib
import importlib.util
import io
import json
import logging
import socket
import threading
import time
from collections.abc import Iterator, MutableMapping
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlencode
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server
from wsgiref.types import WSGIApplication
from wsgiref.util import setup_testing_defaults

import httpx
import pytest

from stateset_voice_wrapper.webhooks import (
    DEFAULT_FORWARD_TO,
    InvalidSignatureError,
    RequestBodyTooLargeError,
    compute_twilio_signature,
    stateset_signature_header,
    twilio_inbound_forwarder,
    twilio_inbound_forwarder_asgi,
    twilio_request_from_asgi,
    twilio_request_from_wsgi,
    verify_asgi_request,
    verify_wsgi_request,
)

TOKEN = "test-auth-token-0123456789abcdef"
PHONE = "+15555551234"
FORM = {
    "CallSid": "CA1234567890ABCDE",
    "From": PHONE,
    "To": "+15555555678",
    "CallerName": "José 東京",
}


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def serve() -> Iterator[Any]:
    """Serve WSGI apps on loopback port 0, each in a thread; yields a function app -> base URL."""
    servers: list[tuple[WSGIServer, threading.Thread]] = []

    def start(app: WSGIApplication) -> str:
        server = make_server("127.0.0.1", 0, app, handler_class=_QuietHandler)
        thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        thread.start()
        servers.append((server, thread))
        return f"http://127.0.0.1:{server.server_port}"

    yield start
    for server, thread in servers:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def sign(url: str, params: Any = FORM) -> str:
    return compute_twilio_signature(auth_token=TOKEN, url=url, params=params)


# --- WSGI, served for real ------------------------------------------------------------------


def test_wsgi_forwarder_valid_signature_redirects_307(serve: Any) -> None:
    base = serve(twilio_inbound_forwarder(auth_token=TOKEN))
    url = f"{base}/twilio/inbound"
    response = httpx.post(url, data=FORM, headers={"X-Twilio-Signature": sign(url)})
    assert response.status_code == 307
    assert response.headers["location"] == DEFAULT_FORWARD_TO
    assert response.content == b""


def test_wsgi_forwarder_invalid_signature_is_401(
    serve: Any, caplog: pytest.LogCaptureFixture
) -> None:
    base = serve(twilio_inbound_forwarder(auth_token=TOKEN))
    url = f"{base}/twilio/inbound"
    tampered = {**FORM, "To": "+15555550000"}
    with caplog.at_level(logging.WARNING, logger="stateset_voice"):
        response = httpx.post(url, data=tampered, headers={"X-Twilio-Signature": sign(url)})
    assert response.status_code == 401
    assert response.text == "invalid signature"
    assert "location" not in response.headers
    assert "signature_mismatch" in caplog.text
    for secret in (TOKEN, sign(url), sign(url, tampered), PHONE):
        assert secret not in caplog.text


def test_wsgi_forwarder_missing_signature_is_401(serve: Any) -> None:
    base = serve(twilio_inbound_forwarder(auth_token=TOKEN))
    response = httpx.post(f"{base}/twilio/inbound", data=FORM)
    assert response.status_code == 401


def test_wsgi_forwarder_custom_target_query_and_encoded_path(serve: Any) -> None:
    target = "https://voice.example.net/api/v1/incoming-call"
    base = serve(twilio_inbound_forwarder(auth_token=TOKEN, forward_to=target))
    url = f"{base}/twilio/in%20bound?tenant=acme&x=%C3%A9"
    response = httpx.post(url, data=FORM, headers={"X-Twilio-Signature": sign(url)})
    assert response.status_code == 307
    assert response.headers["location"] == target


def test_wsgi_forwarder_repeated_and_non_ascii_params(serve: Any) -> None:
    base = serve(twilio_inbound_forwarder(auth_token=TOKEN))
    url = f"{base}/twilio/inbound"
    pairs = [("Tag", "zeta"), ("Tag", "alpha"), ("Name", "Zoë ☎"), ("Empty", "")]
    signature = sign(url, pairs)
    body = urlencode(pairs).encode()
    headers = {"X-Twilio-Signature": signature, "Content-Type": "application/x-www-form-urlencoded"}
    assert httpx.post(url, content=body, headers=headers).status_code == 307
    # The same values sent without one of the repeats is another request.
    fewer = urlencode(pairs[1:]).encode()
    assert httpx.post(url, content=fewer, headers=headers).status_code == 401


def test_wsgi_forwarder_public_url(serve: Any) -> None:
    public = "https://hooks.example.com/twilio/inbound"
    base = serve(twilio_inbound_forwarder(auth_token=TOKEN, public_url=public))
    signature = sign(f"{public}?tenant=acme")
    ok = httpx.post(
        f"{base}/anything?tenant=acme", data=FORM, headers={"X-Twilio-Signature": signature}
    )
    assert ok.status_code == 307
    wrong_query = httpx.post(
        f"{base}/anything?tenant=evil", data=FORM, headers={"X-Twilio-Signature": signature}
    )
    assert wrong_query.status_code == 401


@pytest.mark.parametrize(("trust", "status"), [(True, 307), (False, 401)])
def test_wsgi_forwarder_behind_a_proxy(serve: Any, trust: bool, status: int) -> None:
    base = serve(twilio_inbound_forwarder(auth_token=TOKEN, trust_forwarded=trust))
    headers = {
        "X-Twilio-Signature": sign("https://hooks.example.com/twilio/inbound"),
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "hooks.example.com",
    }
    response = httpx.post(f"{base}/twilio/inbound", data=FORM, headers=headers)
    assert response.status_code == status


def test_wsgi_forwarder_json_body_sha256(serve: Any) -> None:
    base = serve(twilio_inbound_forwarder(auth_token=TOKEN))
    body = json.dumps({"CallSid": "CA1", "From": PHONE}).encode()
    url = f"{base}/twilio/json?bodySHA256={hashlib.sha256(body).hexdigest()}"
    headers = {"X-Twilio-Signature": sign(url, {}), "Content-Type": "application/json"}
    assert httpx.post(url, content=body, headers=headers).status_code == 307
    assert httpx.post(url, content=body + b" ", headers=headers).status_code == 401


def test_wsgi_forwarder_rejects_oversized_bodies(serve: Any) -> None:
    base = serve(twilio_inbound_forwarder(auth_token=TOKEN, max_body_bytes=64))
    url = f"{base}/twilio/inbound"
    headers = {"X-Twilio-Signature": sign(url), "Content-Type": "application/x-www-form-urlencoded"}
    response = httpx.post(url, content=b"a=" + b"x" * 200, headers=headers)
    assert response.status_code == 413
    assert response.text == "request body too large"
    # A body at the limit is read and judged on its signature.
    assert httpx.post(url, content=b"a=" + b"x" * 62, headers=headers).status_code == 401


def raw_request(base: str, request: bytes) -> bytes:
    """Send bytes as they are (no client library fixes them up); the whole answer."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(request)
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def raw_post(
    host: bytes, *, extra: bytes = b"", length: bytes = b"3", body: bytes = b"a=1"
) -> bytes:
    return (
        b"POST /twilio/inbound HTTP/1.1\r\nHost: " + host + b"\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\n"
        b"X-Twilio-Signature: c2lnbmF0dXJl\r\n" + extra +
        b"Content-Length: " + length + b"\r\nConnection: close\r\n\r\n" + body
    )  # fmt: skip


@pytest.mark.parametrize("host", [b"[", b"[::1", b"[zz]", b"a@b", b"h:99999", b"h:x"])
@pytest.mark.parametrize("trust", [False, True])
def test_wsgi_forwarder_malformed_host_is_401(serve: Any, host: bytes, trust: bool) -> None:
    base = serve(twilio_inbound_forwarder(auth_token=TOKEN, trust_forwarded=trust))
    request = (
        raw_post(b"hooks.example.com", extra=b"X-Forwarded-Host: " + host + b"\r\n")
        if trust
        else raw_post(host)
    )
    answer = raw_request(base, request)
    assert answer.startswith(b"HTTP/1.0 401 Unauthorized\r\n"), answer[:40]
    assert answer.endswith(b"\r\n\r\ninvalid signature")


@pytest.mark.parametrize(
    ("length", "body", "status"),
    [(b"-1", b"a=1", b"400"), (b"abc", b"a=1", b"400"), (b"1_0", b"a=1", b"400"),
     (b"50", b"a=1", b"400"), (b"99999999999999999999999", b"", b"413"),
     (b"2000000", b"a=1", b"413")],
)  # fmt: skip
def test_wsgi_forwarder_bad_lengths_are_4xx(
    serve: Any, length: bytes, body: bytes, status: bytes
) -> None:
    base = serve(twilio_inbound_forwarder(auth_token=TOKEN))
    answer = raw_request(base, raw_post(b"hooks.example.com", length=length, body=body))
    assert answer.startswith(b"HTTP/1.0 " + status), answer[:40]


def test_forwarder_factories_validate_configuration() -> None:
    with pytest.raises(ValueError, match="auth_token"):
        twilio_inbound_forwarder(auth_token="")
    with pytest.raises(ValueError, match="auth_token"):
        twilio_inbound_forwarder_asgi(auth_token="")
    with pytest.raises(ValueError, match="must not contain a query"):
        twilio_inbound_forwarder(auth_token=TOKEN, public_url="https://h.example/x?a=1")
    with pytest.raises(ValueError, match="absolute"):
        twilio_inbound_forwarder_asgi(auth_token=TOKEN, public_url="/relative")


# --- WSGI helpers on a bare environ -----------------------------------------------------------


def form_environ(**overrides: Any) -> dict[str, Any]:
    body = urlencode(FORM).encode()
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/twilio/inbound",
        "HTTP_HOST": "hooks.example.com",
        "wsgi.url_scheme": "https",
        "CONTENT_TYPE": "application/x-www-form-urlencoded; charset=utf-8",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
    }
    environ.update(overrides)
    setup_testing_defaults(environ)
    return environ


def test_verify_wsgi_request_and_body_stays_readable() -> None:
    environ = form_environ(HTTP_X_TWILIO_SIGNATURE=sign("https://hooks.example.com/twilio/inbound"))
    request = verify_wsgi_request(environ, auth_token=TOKEN)
    assert dict(request.params) == FORM
    assert environ["wsgi.input"].read() == urlencode(FORM).encode()


def test_verify_wsgi_request_raises_on_bad_signature() -> None:
    environ = form_environ(HTTP_X_TWILIO_SIGNATURE=sign("https://other.example.com/twilio/inbound"))
    with pytest.raises(InvalidSignatureError, match="signature mismatch"):
        verify_wsgi_request(environ, auth_token=TOKEN)


def test_wsgi_prefers_the_raw_request_target() -> None:
    environ = form_environ(PATH_INFO="/a b", RAW_URI="/a%20b?ignored=1", QUERY_STRING="x=1")
    assert twilio_request_from_wsgi(environ).url == "https://hooks.example.com/a%20b?x=1"
    environ = form_environ(PATH_INFO="/caf\xc3\xa9", SCRIPT_NAME="/app")
    assert twilio_request_from_wsgi(environ).url == "https://hooks.example.com/app/caf%C3%A9"


@pytest.mark.parametrize(
    ("scheme", "port", "expected"),
    [("https", "443", "https://srv.internal/x"), ("http", "8080", "http://srv.internal:8080/x")],
)
def test_wsgi_host_falls_back_to_server_name(scheme: str, port: str, expected: str) -> None:
    environ = form_environ(PATH_INFO="/x", SERVER_NAME="srv.internal", SERVER_PORT=port)
    environ["wsgi.url_scheme"] = scheme
    del environ["HTTP_HOST"]
    assert twilio_request_from_wsgi(environ).url == expected


def test_wsgi_body_limit() -> None:
    with pytest.raises(RequestBodyTooLargeError, match="larger than max_body_bytes") as info:
        twilio_request_from_wsgi(form_environ(), max_body_bytes=10)
    # A handler that catches only InvalidSignatureError still answers 4xx, not 500.
    assert isinstance(info.value, InvalidSignatureError)
    with pytest.raises(RequestBodyTooLargeError):
        verify_wsgi_request(form_environ(), auth_token=TOKEN, max_body_bytes=10)


def test_twilio_request_repr_hides_params_and_signature() -> None:
    signature = sign("https://hooks.example.com/twilio/inbound")
    request = twilio_request_from_wsgi(form_environ(HTTP_X_TWILIO_SIGNATURE=signature))
    assert PHONE in dict(request.params).values()
    assert PHONE not in repr(request)
    assert signature not in repr(request)
    assert "hooks.example.com" in repr(request)


# --- ASGI, called directly ------------------------------------------------------------------


def asgi_scope(
    *,
    path: str = "/twilio/inbound",
    query: bytes = b"",
    headers: list[tuple[bytes, bytes]] | None = None,
) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "https",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "headers": headers or [],
        "server": ("10.0.0.7", 8000),
    }


async def call_asgi(
    app: Any, scope: dict[str, Any], chunks: list[bytes], *, disconnect: bool = False
) -> list[MutableMapping[str, Any]]:
    incoming: list[MutableMapping[str, Any]] = [
        {"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1}
        for i, chunk in enumerate(chunks)
    ]
    if disconnect:
        incoming = [*incoming[:1], {"type": "http.disconnect"}]
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> MutableMapping[str, Any]:
        return incoming.pop(0)

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent


def form_headers(signature: str) -> list[tuple[bytes, bytes]]:
    return [
        (b"host", b"hooks.example.com"),
        (b"content-type", b"application/x-www-form-urlencoded"),
        (b"x-twilio-signature", signature.encode()),
    ]


async def test_asgi_forwarder_valid_signature_redirects_307() -> None:
    app = twilio_inbound_forwarder_asgi(auth_token=TOKEN)
    body = urlencode(FORM).encode()
    scope = asgi_scope(headers=form_headers(sign("https://hooks.example.com/twilio/inbound")))
    sent = await call_asgi(app, scope, [body[:10], body[10:]])
    assert sent[0]["type"] == "http.response.start"
    assert sent[0]["status"] == 307
    assert (b"location", DEFAULT_FORWARD_TO.encode()) in sent[0]["headers"]
    assert sent[1] == {"type": "http.response.body", "body": b""}


async def test_asgi_forwarder_invalid_signature_is_401() -> None:
    app = twilio_inbound_forwarder_asgi(auth_token=TOKEN)
    scope = asgi_scope(headers=form_headers(sign("https://hooks.example.com/elsewhere")))
    sent = await call_asgi(app, scope, [urlencode(FORM).encode()])
    assert sent[0]["status"] == 401
    assert sent[1]["body"] == b"invalid signature"


async def test_asgi_forwarder_rejects_oversized_bodies() -> None:
    app = twilio_inbound_forwarder_asgi(auth_token=TOKEN, max_body_bytes=10)
    sent = await call_asgi(app, asgi_scope(headers=form_headers("x")), [b"x" * 6, b"x" * 6])
    assert sent[0]["status"] == 413
    assert sent[1]["body"] == b"request body too large"
    at_limit = await call_asgi(app, asgi_scope(headers=form_headers("x")), [b"x" * 5, b"x" * 5])
    assert at_limit[0]["status"] == 401


async def test_asgi_forwarder_client_disconnect_sends_nothing() -> None:
    app = twilio_inbound_forwarder_asgi(auth_token=TOKEN)
    sent = await call_asgi(
        app, asgi_scope(headers=form_headers("x")), [b"a=1", b"b=2"], disconnect=True
    )
    assert sent == []


async def test_asgi_forwarder_lifespan_and_unsupported_scopes() -> None:
    app = twilio_inbound_forwarder_asgi(auth_token=TOKEN)
    incoming = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> MutableMapping[str, Any]:
        return incoming.pop(0)

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    await app({"type": "lifespan"}, receive, send)
    assert sent == [{"type": "lifespan.startup.complete"}, {"type": "lifespan.shutdown.complete"}]
    with pytest.raises(ValueError, match="unsupported ASGI scope type"):
        await app({"type": "websocket"}, receive, send)


@pytest.mark.parametrize(("trust", "ok"), [(True, True), (False, False)])
async def test_asgi_forwarder_behind_a_proxy(trust: bool, ok: bool) -> None:
    app = twilio_inbound_forwarder_asgi(auth_token=TOKEN, trust_forwarded=trust)
    headers = [
        (b"host", b"10.0.0.7:8000"),
        (b"content-type", b"application/x-www-form-urlencoded"),
        (b"x-forwarded-proto", b"https"),
        (b"x-forwarded-host", b"hooks.example.com"),
        (b"x-twilio-signature", sign("https://hooks.example.com/twilio/inbound").encode()),
    ]
    scope = asgi_scope(headers=headers)
    scope["scheme"] = "http"
    sent = await call_asgi(app, scope, [urlencode(FORM).encode()])
    assert sent[0]["status"] == (307 if ok else 401)


def test_verify_asgi_request_json_body_sha256() -> None:
    body = b'{"CallSid":"CA1"}'
    query = f"bodySHA256={hashlib.sha256(body).hexdigest()}"
    url = f"https://hooks.example.com/twilio/json?{query}"
    headers = [
        (b"host", b"hooks.example.com"),
        (b"content-type", b"application/json"),
        (b"x-twilio-signature", sign(url, {}).encode()),
    ]
    scope = asgi_scope(path="/twilio/json", query=query.encode(), headers=headers)
    request = verify_asgi_request(scope, body, auth_token=TOKEN)
    assert request.url == url
    assert request.params == ()
    with pytest.raises(InvalidSignatureError, match="bodySHA256 does not match the body"):
        verify_asgi_request(scope, body + b"\n", auth_token=TOKEN)


def test_asgi_url_from_server_and_decoded_path() -> None:
    scope = asgi_scope(path="/café")
    del scope["raw_path"]
    scope["scheme"] = "http"
    assert twilio_request_from_asgi(scope, b"").url == "http://10.0.0.7:8000/caf%C3%A9"
    scope["server"] = ("10.0.0.7", 80)
    assert twilio_request_from_asgi(scope, b"").url == "http://10.0.0.7/caf%C3%A9"


def test_asgi_raw_path_with_query_is_split() -> None:
    scope = asgi_scope(query=b"a=1", headers=[(b"host", b"h.example")])
    scope["raw_path"] = b"/x%2Fy?a=1"
    assert twilio_request_from_asgi(scope, b"").url == "https://h.example/x%2Fy?a=1"


def test_asgi_public_url() -> None:
    scope = asgi_scope(query=b"t=1", headers=[(b"host", b"internal:9000")])
    request = twilio_request_from_asgi(scope, b"", public_url="https://hooks.example.com/in")
    assert request.url == "https://hooks.example.com/in?t=1"


# --- the runnable example receiver ------------------------------------------------------------


def _load_example(name: str) -> ModuleType:
    path = Path(__file__).resolve().parents[1] / "examples" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"_example_{name}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_example_webhook_receiver_verifies_and_prints(serve: Any) -> None:
    receiver = _load_example("webhook_receiver")
    out = io.StringIO()
    base = serve(receiver.make_app(secrets=["whsec_old", "whsec_new"], out=out))
    body = json.dumps(
        {
            "id": "evt_1",
            "type": "call.completed",
            "api_version": "2026-11-01",
            "occurred_at": "2026-11-20T15:05:45Z",
            "tenant_id": "ten_1",
            "call_id": "call_1",
            "data": {
                "call_id": "call_1",
                "status": "completed",
                "direction": "outbound",
                "agent_key": "front_desk",
            },
        }
    ).encode()
    signature = stateset_signature_header(body, secrets=["whsec_new"], timestamp=int(time.time()))
    headers = {"StateSet-Signature": signature, "Content-Type": "application/json"}
    assert httpx.post(base, content=body, headers=headers).status_code == 200
    assert httpx.post(base, content=body + b" ", headers=headers).status_code == 401
    assert httpx.get(base).status_code == 405
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("call.completed id=evt_1 dedup_key=id:evt_1")
    assert lines[1] == "rejected delivery: signature mismatch"
    assert "whsec_" not in out.getvalue()


def test_example_twilio_forwarder_requires_a_token(monkeypatch: pytest.MonkeyPatch) -> None:
    forwarder = _load_example("twilio_forwarder")
    monkeypatch.delenv("TWILIO_AUTH_TOKEN", raising=False)
    with pytest.raises(SystemExit) as info:
        forwarder.main(["--port", "0"])
    assert info.value.code == 2
