"""Twilio request signatures: vectors, properties, ports, proxies, bodySHA256 and error hygiene."""

from __future__ import annotations

import base64
import hashlib
import hmac
import random
from collections.abc import Sequence
from urllib.parse import quote, urlencode

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from stateset_voice_wrapper.webhooks import (
    InvalidSignatureError,
    compute_twilio_signature,
    is_valid_twilio_signature,
    reconstruct_url,
    verify_twilio_signature,
)

TOKEN = "12345"
PHONE = "+12349013030"


def reference_signature(token: str, signed_string: str) -> str:
    """Twilio's algorithm written out independently: base64(HMAC-SHA1(token, string))."""
    mac = hmac.new(token.encode("utf-8"), signed_string.encode("utf-8"), hashlib.sha1)
    return base64.b64encode(mac.digest()).decode("ascii")


def reference_string(url: str, pairs: Sequence[tuple[str, str]]) -> str:
    # Each distinct (name, value) once, sorted by name then value: twilio-python's
    # sorted(set(names)) / sorted(set(values)).
    return url + "".join(name + value for name, value in sorted(set(pairs)))


# --- published and independent vectors ----------------------------------------------------

# The worked example in Twilio's "Webhooks security" guide (auth token 12345); the same
# expected value appears in the test suites of several independent Twilio verifiers.
PUBLISHED_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
PUBLISHED_PARAMS = {
    "CallSid": "CA1234567890ABCDE",
    "Caller": PHONE,
    "Digits": "1234",
    "From": PHONE,
    "To": "+18005551212",
}
PUBLISHED_SIGNATURE = "0/KCTR6DLpKmkAf8muzZqo1nDgQ="


def test_twilio_published_example() -> None:
    computed = compute_twilio_signature(
        auth_token=TOKEN, url=PUBLISHED_URL, params=PUBLISHED_PARAMS
    )
    assert computed == PUBLISHED_SIGNATURE
    assert reference_signature(
        TOKEN, reference_string(PUBLISHED_URL, list(PUBLISHED_PARAMS.items()))
    ) == (PUBLISHED_SIGNATURE)
    verify_twilio_signature(
        auth_token=TOKEN, url=PUBLISHED_URL, params=PUBLISHED_PARAMS, signature=PUBLISHED_SIGNATURE
    )


def test_signing_string_for_published_example_is_url_then_sorted_pairs() -> None:
    expected_string = (
        "https://mycompany.com/myapp.php?foo=1&bar=2"
        "CallSidCA1234567890ABCDECaller+12349013030Digits1234From+12349013030To+18005551212"
    )
    assert reference_signature(TOKEN, expected_string) == PUBLISHED_SIGNATURE


def test_repeated_params_sign_each_distinct_value_once_sorted() -> None:
    url = "https://example.com/voice"
    pairs = [("b", "2"), ("a", "z"), ("a", "y"), ("a", "y")]
    signed = "https://example.com/voice" + "ay" + "az" + "b2"
    expected = reference_signature("tok", signed)
    assert compute_twilio_signature(auth_token="tok", url=url, params=pairs) == expected
    as_mapping = {"a": ["z", "y", "y"], "b": "2"}
    assert compute_twilio_signature(auth_token="tok", url=url, params=as_mapping) == expected
    verify_twilio_signature(auth_token="tok", url=url, params=pairs, signature=expected)
    # Dropping a distinct value is a different request.
    with pytest.raises(InvalidSignatureError, match="signature mismatch"):
        verify_twilio_signature(
            auth_token="tok", url=url, params=[("b", "2"), ("a", "y")], signature=expected
        )


def test_identical_repeated_values_sign_like_twilio() -> None:
    # Twilio signs a=1&a=1 as "a1"; a signature over "a1a1" is not one Twilio sends.
    url = "https://example.com/voice"
    twilio_sent = reference_signature("tok", url + "a1")
    verify_twilio_signature(
        auth_token="tok", url=url, params=[("a", "1"), ("a", "1")], signature=twilio_sent
    )
    assert not is_valid_twilio_signature(
        auth_token="tok",
        url=url,
        params=[("a", "1"), ("a", "1")],
        signature=reference_signature("tok", url + "a1a1"),
    )


def test_non_ascii_values_and_url_are_signed_as_utf8() -> None:
    url = "https://example.com/voz?ciudad=M%C3%A1laga"
    pairs = [("CallerName", "José Müller"), ("City", "東京"), ("Note", "📞 ok")]
    expected = reference_signature("tök€n", reference_string(url, pairs))
    assert compute_twilio_signature(auth_token="tök€n", url=url, params=pairs) == expected
    assert is_valid_twilio_signature(auth_token="tök€n", url=url, params=pairs, signature=expected)
    changed = [("CallerName", "Jose Müller"), *pairs[1:]]
    assert not is_valid_twilio_signature(
        auth_token="tök€n", url=url, params=changed, signature=expected
    )


def test_sorting_is_case_sensitive_code_point_order() -> None:
    url = "https://example.com/x"
    pairs = [("b", "1"), ("B", "2"), ("a", "3")]
    assert compute_twilio_signature(auth_token="t", url=url, params=pairs) == reference_signature(
        "t", url + "B2" + "a3" + "b1"
    )


def test_signature_over_unsorted_params_does_not_verify() -> None:
    url = "https://example.com/x"
    pairs = [("To", "+18005551212"), ("CallSid", "CA1")]
    unsorted = reference_signature("t", url + "To+18005551212" + "CallSidCA1")
    assert not is_valid_twilio_signature(auth_token="t", url=url, params=pairs, signature=unsorted)


# --- property tests -----------------------------------------------------------------------

CHARS = st.characters(codec="utf-8")  # any code point that can be encoded (no surrogates)

names = st.text(alphabet=CHARS, min_size=1, max_size=8)
values = st.text(alphabet=CHARS, max_size=12)
param_lists = st.lists(st.tuples(names, values), max_size=6)
hosts = st.from_regex(r"[a-z][a-z0-9-]{0,10}\.(com|net|example)", fullmatch=True)
paths = st.from_regex(r"(/[A-Za-z0-9._~%-]{1,8}){0,3}/?", fullmatch=True).map(lambda p: p or "/")
queries = st.lists(st.tuples(names, values), max_size=3).map(urlencode)


@st.composite
def twilio_requests(draw: st.DrawFn) -> tuple[str, list[tuple[str, str]]]:
    scheme = draw(st.sampled_from(["https", "http"]))
    url = f"{scheme}://{draw(hosts)}{draw(paths)}"
    query = draw(queries)
    return (f"{url}?{query}" if query else url), draw(param_lists)


@given(twilio_requests(), st.randoms(use_true_random=False))
def test_property_valid_and_reordering_as_sent_does_not_matter(
    req: tuple[str, list[tuple[str, str]]], rnd: random.Random
) -> None:
    url, pairs = req
    signature = reference_signature("secret-token", reference_string(url, pairs))
    shuffled = list(pairs)
    rnd.shuffle(shuffled)
    verify_twilio_signature(
        auth_token="secret-token", url=url, params=shuffled, signature=signature
    )


def _url_mutations(url: str) -> list[str]:
    scheme, rest = url.split("://", 1)
    host, _, tail = rest.partition("/")
    other_scheme = "http" if scheme == "https" else "https"
    return [
        f"{other_scheme}://{rest}",  # scheme
        f"{scheme}://x{host}/{tail}",  # host
        f"{scheme}://{host}//{tail}",  # path: an empty segment
        f"{scheme}://{host}/{tail}x" if "?" not in tail else url.replace("?", "x?", 1),  # path
        url + ("&" if "?" in url else "?") + "extra=1",  # query added
    ]


@given(twilio_requests(), st.data())
def test_property_any_url_change_breaks_verification(
    req: tuple[str, list[tuple[str, str]]], data: st.DataObject
) -> None:
    url, pairs = req
    signature = compute_twilio_signature(auth_token="tok", url=url, params=pairs)
    mutated = data.draw(st.sampled_from(_url_mutations(url)))
    assert mutated != url
    with pytest.raises(InvalidSignatureError, match="signature mismatch"):
        verify_twilio_signature(auth_token="tok", url=mutated, params=pairs, signature=signature)


@given(twilio_requests(), st.data())
def test_property_any_param_change_breaks_verification(
    req: tuple[str, list[tuple[str, str]]], data: st.DataObject
) -> None:
    url, pairs = req
    signature = compute_twilio_signature(auth_token="tok", url=url, params=pairs)
    kinds = ["add"] + (["remove", "rename", "revalue"] if pairs else [])
    kind = data.draw(st.sampled_from(kinds))
    mutated = list(pairs)
    if kind == "add":
        mutated.insert(data.draw(st.integers(0, len(pairs))), (data.draw(names), data.draw(values)))
    else:
        index = data.draw(st.integers(0, len(pairs) - 1))
        name, value = mutated[index]
        extra = data.draw(CHARS)
        if kind == "remove":
            del mutated[index]
        elif kind == "rename":
            mutated[index] = (name + extra, value)
        else:
            mutated[index] = (name, value + extra)
    # Twilio signs each distinct pair once: a mutation that only repeats a pair, or drops one
    # of two identical pairs, is the same request.
    assume(set(mutated) != set(pairs))
    # Each remaining mutation changes the signed string's length, so it cannot sign the same string.
    assert len(reference_string(url, mutated)) != len(reference_string(url, pairs))
    assert not is_valid_twilio_signature(
        auth_token="tok", url=url, params=mutated, signature=signature
    )


@given(twilio_requests(), st.binary(max_size=64), st.binary(min_size=1, max_size=4))
def test_property_body_change_breaks_body_sha256_verification(
    req: tuple[str, list[tuple[str, str]]], body: bytes, suffix: bytes
) -> None:
    base, _ = req
    digest = hashlib.sha256(body).hexdigest()
    url = base + ("&" if "?" in base else "?") + f"bodySHA256={digest}"
    signature = reference_signature("tok", url)  # URL only: no params for JSON bodies
    verify_twilio_signature(auth_token="tok", url=url, params={}, signature=signature, body=body)
    with pytest.raises(InvalidSignatureError, match="bodySHA256 does not match the body"):
        verify_twilio_signature(
            auth_token="tok", url=url, params={}, signature=signature, body=body + suffix
        )


@given(twilio_requests(), st.text(min_size=1, max_size=12))
def test_property_wrong_token_never_verifies(
    req: tuple[str, list[tuple[str, str]]], token: str
) -> None:
    assume(token != "tok")
    url, pairs = req
    signature = compute_twilio_signature(auth_token=token, url=url, params=pairs)
    assert not is_valid_twilio_signature(
        auth_token="tok", url=url, params=pairs, signature=signature
    )


# --- ports ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("signed_url", "request_url"),
    [
        ("https://example.com/voice?x=1", "https://example.com:443/voice?x=1"),
        ("https://example.com:443/voice?x=1", "https://example.com/voice?x=1"),
        ("http://example.com/voice", "http://example.com:80/voice"),
        ("http://example.com:80/voice", "http://example.com/voice"),
        ("https://example.com:8443/voice", "https://example.com:8443/voice"),
        # Twilio may sign a URL without its port, whatever the port (its docs: it drops the
        # port of https URLs); twilio-python accepts the port-less form for every port.
        ("https://hooks.example.com/voice", "https://hooks.example.com:8443/voice"),
        ("https://example.com/voice", "https://example.com:80/voice"),
        ("http://example.com/voice", "http://example.com:8080/voice"),
        ("https://[2001:db8::1]/voice", "https://[2001:db8::1]:8443/voice"),
    ],
)
def test_default_port_is_accepted_with_and_without(signed_url: str, request_url: str) -> None:
    signature = compute_twilio_signature(auth_token="tok", url=signed_url, params=PUBLISHED_PARAMS)
    verify_twilio_signature(
        auth_token="tok", url=request_url, params=PUBLISHED_PARAMS, signature=signature
    )


@pytest.mark.parametrize(
    ("signed_url", "request_url"),
    [
        ("https://example.com:80/voice", "https://example.com/voice"),  # not https's default
        ("http://example.com:443/voice", "http://example.com/voice"),
        ("https://example.com:8443/voice", "https://example.com/voice"),
        ("https://example.com:8443/voice", "https://example.com:443/voice"),
        ("https://example.com:443/voice", "https://example.com:8443/voice"),
        ("https://example.com:8443/voice", "https://example.com:9443/voice"),
    ],
)
def test_other_ports_are_part_of_the_url(signed_url: str, request_url: str) -> None:
    signature = compute_twilio_signature(auth_token="tok", url=signed_url, params=PUBLISHED_PARAMS)
    assert not is_valid_twilio_signature(
        auth_token="tok", url=request_url, params=PUBLISHED_PARAMS, signature=signature
    )


def test_ipv6_host_with_default_port() -> None:
    signature = compute_twilio_signature(auth_token="tok", url="https://[::1]/voice", params={})
    verify_twilio_signature(
        auth_token="tok", url="https://[::1]:443/voice", params={}, signature=signature
    )


# --- URL reconstruction behind proxies ------------------------------------------------------

PROXY_HEADERS = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "hooks.example.com"}


def test_reconstruct_url_ignores_forwarded_headers_unless_trusted() -> None:
    url = reconstruct_url(
        scheme="http",
        host="10.0.0.5:8000",
        path="/twilio/inbound",
        query="a=1",
        headers=PROXY_HEADERS,
    )
    assert url == "http://10.0.0.5:8000/twilio/inbound?a=1"


def test_reconstruct_url_trusts_forwarded_headers_when_asked() -> None:
    url = reconstruct_url(
        scheme="http",
        host="10.0.0.5:8000",
        path="/twilio/inbound",
        query="",
        headers={
            "x-forwarded-proto": "HTTPS, http",
            "x-forwarded-host": "hooks.example.com, proxy.internal",
        },
        trust_forwarded=True,
    )
    assert url == "https://hooks.example.com/twilio/inbound"


def test_reconstruct_url_trusted_but_absent_headers_keep_the_request_values() -> None:
    url = reconstruct_url(
        scheme="https",
        host="hooks.example.com",
        path="voice",
        query="",
        headers={},
        trust_forwarded=True,
    )
    assert url == "https://hooks.example.com/voice"


def test_proxy_signature_verifies_only_with_trust_forwarded() -> None:
    public = "https://hooks.example.com/twilio/inbound"
    signature = compute_twilio_signature(auth_token="tok", url=public, params=PUBLISHED_PARAMS)
    parts = {"scheme": "http", "host": "10.0.0.5:8000", "path": "/twilio/inbound", "query": ""}
    trusted = reconstruct_url(**parts, headers=PROXY_HEADERS, trust_forwarded=True)
    untrusted = reconstruct_url(**parts, headers=PROXY_HEADERS, trust_forwarded=False)
    assert is_valid_twilio_signature(
        auth_token="tok", url=trusted, params=PUBLISHED_PARAMS, signature=signature
    )
    assert not is_valid_twilio_signature(
        auth_token="tok", url=untrusted, params=PUBLISHED_PARAMS, signature=signature
    )


# --- bodySHA256 -----------------------------------------------------------------------------

JSON_BODY = b'{"CallSid":"CA1234567890ABCDE","Caller":"+12349013030"}'
# The digest in Twilio's JSON signature-validation samples, for this very body.
JSON_DIGEST = "5ccde7145dfb8f56479710896586cb9d5911809d83afbe34627818790db0aec9"
JSON_URL = f"https://example.com/myapp?bodySHA256={JSON_DIGEST}"


def test_body_sha256_digest_matches_twilio_sample() -> None:
    assert hashlib.sha256(JSON_BODY).hexdigest() == JSON_DIGEST


def test_body_sha256_valid_bytes_and_str() -> None:
    signature = reference_signature("tok", JSON_URL)
    verify_twilio_signature(
        auth_token="tok", url=JSON_URL, params={}, signature=signature, body=JSON_BODY
    )
    verify_twilio_signature(
        auth_token="tok", url=JSON_URL, params={}, signature=signature, body=JSON_BODY.decode()
    )


def test_body_sha256_ignores_params_since_the_signature_covers_the_url_only() -> None:
    signature = reference_signature("tok", JSON_URL)
    verify_twilio_signature(
        auth_token="tok", url=JSON_URL, params={"From": PHONE}, signature=signature, body=JSON_BODY
    )


def test_body_sha256_tampered_body() -> None:
    signature = reference_signature("tok", JSON_URL)
    with pytest.raises(InvalidSignatureError, match="bodySHA256 does not match the body") as info:
        verify_twilio_signature(
            auth_token="tok", url=JSON_URL, params={}, signature=signature, body=JSON_BODY + b" "
        )
    assert info.value.reason == "body_hash_mismatch"


def test_body_sha256_missing_body() -> None:
    signature = reference_signature("tok", JSON_URL)
    with pytest.raises(InvalidSignatureError, match="no body") as info:
        verify_twilio_signature(auth_token="tok", url=JSON_URL, params={}, signature=signature)
    assert info.value.reason == "missing_body"


def test_body_sha256_changed_in_url_breaks_the_signature() -> None:
    signature = reference_signature("tok", JSON_URL)
    other_body = b"{}"
    other_url = f"https://example.com/myapp?bodySHA256={hashlib.sha256(other_body).hexdigest()}"
    with pytest.raises(InvalidSignatureError, match="signature mismatch"):
        verify_twilio_signature(
            auth_token="tok", url=other_url, params={}, signature=signature, body=other_body
        )


def test_body_sha256_twice_in_url_is_rejected() -> None:
    url = f"{JSON_URL}&bodySHA256={JSON_DIGEST}"
    signature = reference_signature("tok", url)
    with pytest.raises(InvalidSignatureError, match="more than once"):
        verify_twilio_signature(
            auth_token="tok", url=url, params={}, signature=signature, body=JSON_BODY
        )


def test_body_sha256_with_default_port_variant() -> None:
    signature = reference_signature("tok", JSON_URL)
    with_port = JSON_URL.replace("example.com/", "example.com:443/")
    verify_twilio_signature(
        auth_token="tok", url=with_port, params={}, signature=signature, body=JSON_BODY
    )


# --- failures and what they reveal ----------------------------------------------------------


@pytest.mark.parametrize("signature", [None, ""])
def test_missing_signature(signature: str | None) -> None:
    with pytest.raises(InvalidSignatureError, match="missing signature header") as info:
        verify_twilio_signature(
            auth_token=TOKEN, url=PUBLISHED_URL, params=PUBLISHED_PARAMS, signature=signature
        )
    assert info.value.reason == "missing_signature"
    assert isinstance(info.value, ValueError)


def test_empty_auth_token_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="auth_token") as info:
        verify_twilio_signature(auth_token="", url=PUBLISHED_URL, params={}, signature="x")
    assert not isinstance(info.value, InvalidSignatureError)


@pytest.mark.parametrize(
    "signature",
    ["", "0/KCTR6DLpKmkAf8muzZqo1nDgQ", "1/KCTR6DLpKmkAf8muzZqo1nDgQ=", "não-ascii-✓", "A" * 500],
)
def test_mismatch_messages_reveal_nothing(signature: str) -> None:
    params = {**PUBLISHED_PARAMS, "Digits": "9999"} if signature == "" else PUBLISHED_PARAMS
    with pytest.raises(InvalidSignatureError) as info:
        verify_twilio_signature(
            auth_token=TOKEN,
            url=PUBLISHED_URL,
            params=params,
            signature=signature or PUBLISHED_SIGNATURE,
        )
    expected = compute_twilio_signature(auth_token=TOKEN, url=PUBLISHED_URL, params=params)
    text = f"{info.value} {info.value!r} {info.value.args}"
    assert str(info.value) == "signature mismatch"
    for secret in (expected, PUBLISHED_SIGNATURE, TOKEN, PHONE, "+18005551212"):
        assert secret not in text


def test_surrounding_whitespace_in_header_is_tolerated() -> None:
    verify_twilio_signature(
        auth_token=TOKEN,
        url=PUBLISHED_URL,
        params=PUBLISHED_PARAMS,
        signature=f" {PUBLISHED_SIGNATURE}\t",
    )


def test_percent_encoding_is_significant() -> None:
    signed = "https://example.com/voice/" + quote("café")
    signature = compute_twilio_signature(auth_token="tok", url=signed, params={})
    assert not is_valid_twilio_signature(
        auth_token="tok", url="https://example.com/voice/café", params={}, signature=signature
    )


# --- spellings of one URL that Twilio may sign ------------------------------------------------


@pytest.mark.parametrize(
    ("signed_url", "request_url"),
    [
        # Twilio's docs: it drops the username and password before signing.
        ("https://hooks.example.com/voice", "https://user:pass@hooks.example.com/voice"),
        ("https://hooks.example.com/voice", "https://user:pass@hooks.example.com:8443/voice"),
        ("https://hooks.example.com:8443/voice", "https://user@hooks.example.com:8443/voice"),
        # twilio-node and twilio-python accept the URL with the credentials too.
        ("https://user:pass@hooks.example.com/voice", "https://user:pass@hooks.example.com/voice"),
        ("https://[::1]/voice", "https://user:pass@[::1]:8443/voice"),
        # Scheme case and an empty query are not part of the resource (twilio-python's
        # urlparse().geturl() normalises both away before signing).
        ("https://example.com/voice", "HTTPS://example.com/voice"),
        ("https://example.com/voice", "https://example.com/voice?"),
        ("https://example.com:443/voice", "Https://example.com/voice?"),
        # ... and the URL exactly as given still verifies.
        ("HTTPS://example.com/voice?", "HTTPS://example.com/voice?"),
    ],
)
def test_twilio_spellings_of_the_same_url_verify(signed_url: str, request_url: str) -> None:
    signature = compute_twilio_signature(auth_token="tok", url=signed_url, params=PUBLISHED_PARAMS)
    verify_twilio_signature(
        auth_token="tok", url=request_url, params=PUBLISHED_PARAMS, signature=signature
    )


@pytest.mark.parametrize(
    ("signed_url", "request_url"),
    [
        # twilio-python's remove_port keeps the netloc up to its first ":", which turns these
        # into another host; such a signature names a different URL.
        ("https://user/voice", "https://user:pass@hooks.example.com:8443/voice"),
        ("https://[/voice", "https://[::1]:8443/voice"),
        # Credentials, once present in the signed URL, are part of it.
        ("https://other:pass@hooks.example.com/voice", "https://user:pass@hooks.example.com/voice"),
        ("https://user:pass@hooks.example.com/voice", "https://hooks.example.com/voice"),
        # Host case and a trailing slash are as sent.
        ("https://Example.com/voice", "https://example.com/voice"),
        ("https://example.com/voice/", "https://example.com/voice"),
        # A non-empty query is never dropped.
        ("https://example.com/voice", "https://example.com/voice?a"),
    ],
)
def test_twilio_other_urls_do_not_verify(signed_url: str, request_url: str) -> None:
    signature = compute_twilio_signature(auth_token="tok", url=signed_url, params=PUBLISHED_PARAMS)
    with pytest.raises(InvalidSignatureError, match="signature mismatch"):
        verify_twilio_signature(
            auth_token="tok", url=request_url, params=PUBLISHED_PARAMS, signature=signature
        )


@pytest.mark.parametrize(
    "url",
    [
        "https://[/voice",
        "https://[::1/voice",
        "https://[zz]/voice",
        "https://[::1]x/voice",
        "https://example.com:abc/voice",
        "https://example.com:99999/voice",
        "https://example.com:0/voice",
        "https://example.com:/voice",
        "https://example.com:443:443/voice",
        "https:///voice",
        "https://exa mple.com/voice",
        "https://example.com/vo ice",
        "https://example.com/voice\r\nX: 1",
        "https://us er@example.com/voice",
        "https://example.com\uff03@evil/voice",
        "ftp://example.com/voice",
        "//example.com/voice",
        "example.com/voice",
        "",
    ],
)
def test_malformed_urls_are_invalid_signatures(url: str) -> None:
    with pytest.raises(InvalidSignatureError) as info:
        verify_twilio_signature(auth_token="tok", url=url, params={}, signature="c2ln")
    assert info.value.reason == "malformed_url"
    assert str(info.value) == "malformed URL"
    assert not is_valid_twilio_signature(auth_token="tok", url=url, params={}, signature="c2ln")


@pytest.mark.parametrize(
    "host",
    ["[", "[::1", "[zz]", "[::1]:", "[::1]x", "a@b", "h/x", "h?x", "h#x", "h:99999", "h:0",
     "h:x", "h:", "", "a b", "ex\uff03ample"],
)  # fmt: skip
def test_reconstruct_url_rejects_a_malformed_host(host: str) -> None:
    with pytest.raises(InvalidSignatureError) as info:
        reconstruct_url(scheme="https", host=host, path="/x", query="", headers={})
    assert info.value.reason == "malformed_host"
    if not host:
        return  # an empty X-Forwarded-Host is no value: the Host header is used
    with pytest.raises(InvalidSignatureError) as forwarded:
        reconstruct_url(
            scheme="https",
            host="hooks.example.com",
            path="/x",
            query="",
            headers={"X-Forwarded-Host": f"{host}, proxy.internal"},
            trust_forwarded=True,
        )
    assert forwarded.value.reason == "malformed_host"


@pytest.mark.parametrize("host", ["hooks.example.com", "hooks.example.com:8443", "[::1]:8080",
                                  "[2001:db8::1]", "10.0.0.5:8000", "h%41st", "xn--bcher-kva.example"])  # fmt: skip
def test_reconstruct_url_keeps_a_well_formed_host(host: str) -> None:
    url = reconstruct_url(scheme="https", host=host, path="/x", query="", headers={})
    assert url == f"https://{host}/x"


@pytest.mark.parametrize("proto", ["ftp", "javascript", "ht tp", "[", "https:"])
def test_reconstruct_url_rejects_a_forwarded_scheme_that_is_not_http(proto: str) -> None:
    with pytest.raises(InvalidSignatureError) as info:
        reconstruct_url(
            scheme="http",
            host="10.0.0.5",
            path="/x",
            query="",
            headers={"X-Forwarded-Proto": proto},
            trust_forwarded=True,
        )
    assert info.value.reason == "malformed_url"


def test_body_sha256_must_be_lowercase_hex() -> None:
    # Twilio sends hexdigest() output, and its libraries compare it case-sensitively.
    url = JSON_URL.replace(JSON_DIGEST, JSON_DIGEST.upper())
    signature = reference_signature("tok", url)
    with pytest.raises(InvalidSignatureError, match="lowercase hex") as info:
        verify_twilio_signature(
            auth_token="tok", url=url, params={}, signature=signature, body=JSON_BODY
        )
    assert info.value.reason == "malformed_body_hash"


@pytest.mark.parametrize("digest", ["", "abc", JSON_DIGEST + "0", "g" * 64, " " + JSON_DIGEST[1:]])
def test_body_sha256_that_is_not_a_digest_is_refused(digest: str) -> None:
    url = f"https://example.com/myapp?bodySHA256={quote(digest)}"
    signature = reference_signature("tok", url)
    with pytest.raises(InvalidSignatureError) as info:
        verify_twilio_signature(
            auth_token="tok", url=url, params={}, signature=signature, body=JSON_BODY
        )
    assert info.value.reason == "malformed_body_hash"


@pytest.mark.parametrize(
    ("params", "signature", "body"),
    [
        ({"From": "\ud800"}, "c2ln", None),
        ({}, "\udcff", None),
        ({}, "c2ln", "\ud800"),
    ],
)
def test_text_no_client_could_send_is_an_invalid_signature(
    params: dict[str, str], signature: str, body: str | None
) -> None:
    url = JSON_URL if body is not None else PUBLISHED_URL
    if body is not None:
        signature = reference_signature("tok", url)
    with pytest.raises(InvalidSignatureError) as info:
        verify_twilio_signature(
            auth_token="tok", url=url, params=params, signature=signature, body=body
        )
    assert info.value.reason in ("malformed_request", "body_hash_mismatch")


def test_malformed_url_message_reveals_nothing() -> None:
    url = f"https://user:{TOKEN}@[::1/voice?From={quote(PHONE)}"
    with pytest.raises(InvalidSignatureError) as info:
        verify_twilio_signature(
            auth_token=TOKEN, url=url, params={"From": PHONE}, signature=PUBLISHED_SIGNATURE
        )
    text = f"{info.value} {info.value!r} {info.value.args}"
    for secret in (TOKEN, PHONE, PUBLISHED_SIGNATURE, "::1", "user"):
        assert secret not in text
