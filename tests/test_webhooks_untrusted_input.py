"""Unauthenticated Twilio-side input never escapes as anything but InvalidSignatureError.

Everything a webhook sender controls (the signature headers, the Host and X-Forwarded-*
headers, the URL, Content-Length, the body) reaches int(), URL parsing or text encoding
somewhere. A plain ValueError, OverflowError or UnicodeError there is a 500 from every
documented handler; these tests feed hostile values to each entry point and accept only
InvalidSignatureError (a 4xx) or success.
"""

from __future__ import annotations

import io
from collections.abc import MutableMapping
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stateset_voice_wrapper.webhooks import (
    InvalidContentLengthError,
    InvalidSignatureError,
    RequestBodyTooLargeError,
    reconstruct_url,
    twilio_inbound_forwarder,
    twilio_inbound_forwarder_asgi,
    twilio_request_from_wsgi,
    verify_twilio_signature,
    verify_wsgi_request,
)

if TYPE_CHECKING:
    from tests.profiles import LONG, examples
else:  # the sibling module: pytest puts tests/ on sys.path
    from profiles import LONG, examples

QUICK = settings(max_examples=examples(150), derandomize=not LONG, deadline=None,
                 suppress_health_check=[HealthCheck.too_slow])  # fmt: skip


# --- Twilio URLs and hosts ------------------------------------------------------------------

HOSTILE_HOSTS = st.text(alphabet=st.sampled_from("[]:@/?#%0aZz.9 -\uff03\u00e9"), max_size=12)


@QUICK
@given(st.text(max_size=60) | HOSTILE_HOSTS.map(lambda h: f"https://{h}/voice"))
def test_any_url_is_verified_or_invalid(url: str) -> None:
    with pytest.raises(InvalidSignatureError):
        verify_twilio_signature(auth_token="tok", url=url, params={}, signature="c2ln")


def _reconstructed(host: str, headers: dict[str, str], trust: bool) -> str:
    """The URL, or the rejection's reason code prefixed with "!"."""
    try:
        return reconstruct_url(
            scheme="https", host=host, path="/v", query="", headers=headers, trust_forwarded=trust
        )
    except InvalidSignatureError as exc:
        return f"!{exc.reason}"


@QUICK
@given(HOSTILE_HOSTS, HOSTILE_HOSTS, st.sampled_from(["https", "http", "ftp", "HTTPS", "[", ""]))
def test_any_host_is_reconstructed_or_invalid(host: str, forwarded: str, proto: str) -> None:
    headers = {"X-Forwarded-Host": forwarded, "X-Forwarded-Proto": proto}
    for trust in (False, True):
        url = _reconstructed(host, headers, trust)
        if url.startswith("!"):
            assert url in ("!malformed_host", "!malformed_url")
            continue
        # A URL that reconstructs is one that verification can parse.
        with pytest.raises(InvalidSignatureError, match="signature mismatch"):
            verify_twilio_signature(auth_token="tok", url=url, params={}, signature="c2ln")


# --- the WSGI and ASGI helpers ----------------------------------------------------------------

LENGTHS = st.sampled_from(["-1", "+5", " 5", "1_0", "\u0661", "0x10", "5.0", "", "9" * 5000,
                           "00000000000000000000000000003", "3", "1048577"]) | st.text(max_size=8)  # fmt: skip


def wsgi_environ(*, host: str = "hooks.example.com", length: str | None = "3",
                 body: bytes = b"a=1") -> dict[str, Any]:  # fmt: skip
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/twilio/inbound",
        "QUERY_STRING": "",
        "SERVER_NAME": "srv",
        "SERVER_PORT": "8000",
        "HTTP_HOST": host,
        "wsgi.url_scheme": "https",
        "CONTENT_TYPE": "application/x-www-form-urlencoded",
        "HTTP_X_TWILIO_SIGNATURE": "c2ln",  # present, so verification reaches the URL
        "wsgi.input": io.BytesIO(body),
    }
    if length is not None:
        environ["CONTENT_LENGTH"] = length
    return environ


@pytest.mark.parametrize("length", ["-1", "+3", "1_0", "\u0663", "0x3", "3.0", "abc"])
def test_wsgi_content_length_that_is_not_decimal_is_invalid(length: str) -> None:
    with pytest.raises(InvalidContentLengthError) as info:
        twilio_request_from_wsgi(wsgi_environ(length=length))
    assert info.value.reason == "invalid_content_length"
    assert isinstance(info.value, InvalidSignatureError)


@pytest.mark.parametrize("length", ["11", "9" * 5000, "1" + "0" * 30])
def test_wsgi_content_length_over_the_limit_is_too_large_before_reading(length: str) -> None:
    environ = wsgi_environ(length=length, body=b"x" * 20)
    with pytest.raises(RequestBodyTooLargeError) as info:
        verify_wsgi_request(environ, auth_token="tok", max_body_bytes=10)
    assert info.value.reason == "body_too_large"
    assert isinstance(info.value, InvalidSignatureError)
    assert environ["wsgi.input"].tell() == 0  # nothing was read


def test_wsgi_body_shorter_than_content_length_is_incomplete() -> None:
    with pytest.raises(InvalidContentLengthError) as info:
        twilio_request_from_wsgi(wsgi_environ(length="50", body=b"a=1"))
    assert info.value.reason == "incomplete_body"


def test_wsgi_leading_zeros_and_spaces_are_a_length() -> None:
    request = twilio_request_from_wsgi(wsgi_environ(length=" 0003 "))
    assert request.params == (("a", "1"),)


def test_wsgi_chunked_body_is_read_when_the_server_terminates_the_stream() -> None:
    environ = wsgi_environ(length=None, body=b"a=1&b=2")
    environ["wsgi.input_terminated"] = True
    assert twilio_request_from_wsgi(environ).params == (("a", "1"), ("b", "2"))
    environ = wsgi_environ(length=None, body=b"x" * 11)
    environ["wsgi.input_terminated"] = True
    with pytest.raises(RequestBodyTooLargeError):
        twilio_request_from_wsgi(environ, max_body_bytes=10)
    # Without the flag the stream may be the raw socket: it is not read at all.
    environ = wsgi_environ(length=None, body=b"a=1")
    assert twilio_request_from_wsgi(environ).params == ()
    assert environ["wsgi.input"].read() == b""


def test_wsgi_path_decoded_as_utf8_by_a_nonconforming_server() -> None:
    environ = wsgi_environ()
    environ["PATH_INFO"] = "/caf\u00e9/\u6771"  # not latin-1 bytes, against PEP 3333
    assert twilio_request_from_wsgi(environ).url == "https://hooks.example.com/caf%C3%A9/%E6%9D%B1"


def _call_wsgi(app: Any, environ: dict[str, Any]) -> tuple[str, bytes]:
    seen: list[str] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        seen.append(status)
        return lambda data: None

    body = b"".join(app(environ, start_response))
    return seen[0], body


@QUICK
@given(HOSTILE_HOSTS, LENGTHS, st.binary(max_size=40))
def test_wsgi_forwarder_answers_4xx_to_anything(host: str, length: str, body: bytes) -> None:
    for trust in (False, True):
        app = twilio_inbound_forwarder(auth_token="tok", trust_forwarded=trust, max_body_bytes=30)
        environ = wsgi_environ(
            host="hooks.example.com" if trust else host, length=length, body=body
        )
        environ["HTTP_X_FORWARDED_HOST"] = host
        status, text = _call_wsgi(app, environ)
        assert status[:3] in ("400", "401", "413"), status
        assert b"Traceback" not in text


async def _call_asgi(app: Any, headers: list[tuple[bytes, bytes]], body: bytes) -> list[Any]:
    incoming = [{"type": "http.request", "body": body, "more_body": False}]
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> MutableMapping[str, Any]:
        return incoming.pop(0)

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "scheme": "https", "path": "/twilio/inbound",
             "raw_path": b"/twilio/inbound", "query_string": b"", "headers": headers,
             "server": ("10.0.0.7", 8000)}  # fmt: skip
    await app(scope, receive, send)
    return sent


@pytest.mark.parametrize("host", [b"[", b"[::1", b"[zz]", b"a@b", b"h:99999"])
@pytest.mark.parametrize("trust", [False, True])
async def test_asgi_forwarder_malformed_host_is_401(host: bytes, trust: bool) -> None:
    app = twilio_inbound_forwarder_asgi(auth_token="tok", trust_forwarded=trust)
    headers = [(b"host", b"hooks.example.com" if trust else host), (b"x-forwarded-host", host),
               (b"x-twilio-signature", b"c2ln")]  # fmt: skip
    sent = await _call_asgi(app, headers, b"")
    assert sent[0]["status"] == 401
    assert sent[1]["body"] == b"invalid signature"


@pytest.mark.parametrize(
    ("length", "status"), [(b"-1", 400), (b"abc", 400), (b"2000000", 413), (b"9" * 5000, 413)]
)
async def test_asgi_forwarder_judges_content_length_before_reading(
    length: bytes, status: int
) -> None:
    app = twilio_inbound_forwarder_asgi(auth_token="tok")
    sent = await _call_asgi(app, [(b"host", b"h.example"), (b"content-length", length)], b"")
    assert sent[0]["status"] == status
