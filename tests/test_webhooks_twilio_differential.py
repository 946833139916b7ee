"""Differential tests: the project's Twilio verification against twilio-python's RequestValidator.

For generated request URLs (ports, credentials, IPv6 hosts, queries, percent-encoding,
trailing ``?`` and ``/``, scheme case) and form parameters (repeated, identical, empty,
unicode, case-variant names), every spelling of the URL that either side would accept is
signed with twilio's ``compute_signature`` and verified by both. Where they disagree, the
disagreement must be one listed in docs/webhooks.md ("Where the project and twilio-python
differ"), with the outcome that page gives; any other disagreement fails.

``make check`` runs a fixed, derandomised sample of a few hundred examples per test. For a
long random run: ``HYPOTHESIS_PROFILE=long .venv/bin/python -m pytest
tests/test_webhooks_twilio_differential.py --hypothesis-show-statistics``.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import quote, urlencode, urlparse

from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from twilio.request_validator import (  # type: ignore[import-untyped]  # twilio ships no types
    RequestValidator,
    add_port,
    remove_port,
)
from werkzeug.datastructures import MultiDict

from stateset_voice_wrapper.webhooks import compute_twilio_signature, is_valid_twilio_signature

settings.register_profile(
    "twilio-differential",
    max_examples=250,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "twilio-differential-long",
    max_examples=25_000,
    derandomize=False,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
PROFILE = settings.get_profile(
    "twilio-differential-long"
    if os.environ.get("HYPOTHESIS_PROFILE") == "long"
    else "twilio-differential"
)

TOKEN = "differential-auth-token"
VALIDATOR = RequestValidator(TOKEN)
Pairs = list[tuple[str, str]]


# --- twilio-python, typed ---------------------------------------------------------------------


def twilio_sign(url: str, pairs: Pairs) -> str:
    return str(VALIDATOR.compute_signature(url, MultiDict(pairs)))


def twilio_validates(url: str, params: Pairs | str, signature: str) -> bool:
    signed = params if isinstance(params, str) else MultiDict(params)
    return bool(VALIDATOR.validate(url, signed, signature))


def twilio_tries(url: str) -> set[str]:
    """The two URLs twilio-python's validate() computes a signature for."""
    parsed = urlparse(url)
    return {str(add_port(parsed)), str(remove_port(parsed))}


def project_validates(url: str, pairs: Pairs, signature: str, body: str | None = None) -> bool:
    return is_valid_twilio_signature(
        auth_token=TOKEN, url=url, params=pairs, signature=signature, body=body
    )


# --- generated URLs -------------------------------------------------------------------------

DEFAULT_PORTS = {"http": "80", "https": "443"}


@dataclass(frozen=True)
class Url:
    scheme: str
    userinfo: str | None
    host: str
    port: str | None
    path: str
    query: str | None  # None: no "?"; "": a bare "?"

    def text(self) -> str:
        credentials = f"{self.userinfo}@" if self.userinfo is not None else ""
        port = f":{self.port}" if self.port is not None else ""
        query = f"?{self.query}" if self.query is not None else ""
        return f"{self.scheme}://{credentials}{self.host}{port}{self.path}{query}"

    @property
    def ipv6(self) -> bool:
        return self.host.startswith("[")

    @property
    def empty_path_parameter(self) -> bool:
        # urlparse() splits ";params" off the last segment and geturl() drops it when empty.
        last = self.path.rsplit("/", 1)[-1]
        return ";" in last and last.index(";") == len(last) - 1


def documented_spellings(url: Url) -> dict[str, Url]:
    """The URLs docs/webhooks.md says a request to ``url`` accepts a signature over."""
    schemes = {url.scheme, url.scheme.lower()}
    queries = {url.query, None} if url.query == "" else {url.query}
    userinfos = {url.userinfo, None}
    ports = {url.port, None} if url.port is not None else {None, DEFAULT_PORTS[url.scheme.lower()]}
    spellings = [
        replace(url, scheme=s, query=q, userinfo=u, port=p)
        for s in schemes
        for q in queries
        for u in userinfos
        for p in ports
    ]
    return {s.text(): s for s in spellings}


PCT = st.integers(0, 255).map(lambda b: f"%{b:02X}") | st.integers(0, 255).map(
    lambda b: f"%{b:02x}"
)
SEGMENT = st.lists(st.sampled_from([*"AZaz09-._~!$&'()*+,;=:@", "é", "東"]) | PCT, max_size=6).map(
    "".join
)
PATHS = st.builds(
    lambda segments, slash: "/" + "/".join(segments) + ("/" if slash and segments else ""),
    st.lists(SEGMENT, max_size=3),
    st.booleans(),
) | st.sampled_from(["", "/voice;", "/a;b/c;", "/a;b;"])
TEXT = st.text(st.characters(codec="utf-8"), max_size=8)
QUERY_NAMES = TEXT.filter(lambda name: "bodySHA256" not in name)
QUERIES = st.one_of(
    st.none(),
    st.just(""),
    st.lists(st.tuples(QUERY_NAMES, TEXT), min_size=1, max_size=3).map(urlencode),
    st.lists(st.tuples(QUERY_NAMES, TEXT), min_size=1, max_size=3).map(
        lambda pairs: "&".join(f"{quote(n, safe='')}={quote(v, safe='/:@')}" for n, v in pairs)
    ),
    st.sampled_from(["a", "a=", "a=1&a=1", "x=%2F%3f", "q=a+b", "a?b=c/d"]),
)
REG_HOSTS = st.from_regex(
    r"[A-Za-z0-9]([A-Za-z0-9-]{0,6}[A-Za-z0-9])?(\.[A-Za-z]{2,4}){0,2}", fullmatch=True
)
HOSTS = REG_HOSTS | st.sampled_from(
    ["127.0.0.1", "10.0.0.5", "[::1]", "[2001:db8::7]", "[fe80::1:2]", "[::ffff:10.0.0.1]"]
)
URLS = st.builds(
    Url,
    scheme=st.sampled_from(["https", "http", "HTTPS", "Https", "HTTP"]),
    userinfo=st.sampled_from([None, None, "user", "user:pass", "u%40x:p%3Ass", "user:"]),
    host=HOSTS,
    port=st.sampled_from([None, None, "80", "443", "8080", "8443", "1", "65535", "0443"]),
    path=PATHS,
    query=QUERIES,
)


@st.composite
def form_params(draw: st.DrawFn) -> Pairs:
    names = TEXT | st.sampled_from(["From", "from", "FROM", "CallSid", "callsid", "a", "A", ""])
    values = TEXT | st.sampled_from(["", "+15555551234", "José 東京 📞", "1", " "])
    pairs = draw(st.lists(st.tuples(names, values), max_size=6))
    if pairs:  # repeat some pairs exactly (a=1&a=1), and some names with other values
        pairs += draw(st.lists(st.sampled_from(pairs), max_size=3))
        pairs += [
            (name, draw(values)) for name, _ in draw(st.lists(st.sampled_from(pairs), max_size=2))
        ]
    return draw(st.permutations(pairs))


# --- the documented disagreements ------------------------------------------------------------

# Each key is a heading under "Where the project and twilio-python differ" in docs/webhooks.md;
# the value is (twilio-python accepts, the project accepts) for the signed URL in question.
DOCUMENTED: dict[str, tuple[bool, bool]] = {
    "port removal that mangles the host": (True, False),
    "the port-less URL twilio-python cannot form": (False, True),
    "credentials dropped": (False, True),
    "the URL as given": (False, True),
    "an empty ; parameter": (True, False),
    "an empty ; parameter, as given": (False, True),
}


def disagreement(url: Url, signed: str, spellings: dict[str, Url]) -> str | None:
    """Which documented difference explains twilio and the project judging ``signed`` apart."""
    mangles = url.port is not None and (url.userinfo is not None or url.ipv6)
    if signed in spellings:  # the project accepts, twilio-python does not
        spelling = spellings[signed]
        if url.empty_path_parameter:
            return "an empty ; parameter, as given"
        if spelling.scheme != spelling.scheme.lower() or spelling.query == "":
            return "the URL as given"
        if spelling.userinfo is None and url.userinfo is not None:
            return "credentials dropped"
        if spelling.port is None and mangles:
            return "the port-less URL twilio-python cannot form"
        return None
    if mangles and signed == str(remove_port(urlparse(url.text()))):
        return "port removal that mangles the host"
    if url.empty_path_parameter:
        return "an empty ; parameter"
    return None


def near_misses(url: Url) -> list[str]:
    """Other URLs, which neither side may accept."""
    other_scheme = "http" if url.scheme.lower() == "https" else "https"
    return [
        replace(url, host="evil.example").text(),
        replace(url, port="9999" if url.port != "9999" else "9998").text(),
        replace(url, path=url.path + "x").text(),
        replace(
            url, scheme=other_scheme, port=url.port or DEFAULT_PORTS[url.scheme.lower()]
        ).text(),
        replace(url, query=(url.query or "") + "&extra=1").text(),
    ]


# --- the tests ------------------------------------------------------------------------------


@PROFILE
@given(URLS, form_params())
def test_signature_algorithm_matches_twilio(url: Url, pairs: Pairs) -> None:
    # Byte-for-byte the same signature for any URL string and parameters, repeats included.
    text = url.text()
    assert compute_twilio_signature(auth_token=TOKEN, url=text, params=pairs) == twilio_sign(
        text, pairs
    )


# One request per documented difference, whatever the generator happens to draw.
EXAMPLES = [
    Url("https", "user:pass", "hooks.example.com", "8443", "/voice", None),
    Url("https", None, "[2001:db8::7]", "8443", "/voice", "a=1"),
    Url("HTTPS", "user", "hooks.example.com", None, "/voice", ""),
    Url("https", None, "hooks.example.com", None, "/voice;", None),
]


@PROFILE
@given(URLS, form_params())
@example(EXAMPLES[0], [("a", "1"), ("a", "1")])
@example(EXAMPLES[1], [])
@example(EXAMPLES[2], [("From", "+15555551234")])
@example(EXAMPLES[3], [("A", ""), ("a", "")])
def test_url_spellings_agree_with_twilio_except_where_documented(url: Url, pairs: Pairs) -> None:
    request_url = url.text()
    spellings = documented_spellings(url)
    tried = twilio_tries(request_url)
    misses = near_misses(url)
    for signed in {*spellings, *tried, *misses}:
        signature = twilio_sign(signed, pairs)
        by_twilio = twilio_validates(request_url, pairs, signature)
        by_project = project_validates(request_url, pairs, signature)
        assert by_twilio == (signed in tried)  # our reading of twilio-python is right
        assert by_project == (signed in spellings), (request_url, signed)
        if signed in misses and signed not in tried:
            assert not by_project
        if by_twilio == by_project:
            continue
        reason = disagreement(url, signed, spellings)
        assert reason is not None, (
            f"undocumented disagreement: request {request_url!r}, signed {signed!r}, "
            f"twilio={by_twilio}, project={by_project}"
        )
        assert (by_twilio, by_project) == DOCUMENTED[reason], reason


@PROFILE
@given(URLS, form_params())
@example(EXAMPLES[2], [])
@example(EXAMPLES[3], [])
def test_project_signatures_validate_with_twilio(url: Url, pairs: Pairs) -> None:
    request_url = url.text()
    signature = compute_twilio_signature(auth_token=TOKEN, url=request_url, params=pairs)
    assert project_validates(request_url, pairs, signature)
    as_given = url.scheme != url.scheme.lower() or url.query == "" or url.empty_path_parameter
    # twilio-python validates only its normalised spellings, never the URL as given.
    assert twilio_validates(request_url, pairs, signature) == (not as_given)
    normalised = urlparse(request_url).geturl()
    signature = compute_twilio_signature(auth_token=TOKEN, url=normalised, params=pairs)
    assert twilio_validates(request_url, pairs, signature)
    assert project_validates(request_url, pairs, signature) == (not url.empty_path_parameter)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=8,
)


@PROFILE
@given(URLS, JSON, st.booleans(), st.sampled_from(["lower", "upper", "tampered"]))
def test_body_sha256_agrees_with_twilio(
    url: Url, document: Any, ascii_only: bool, case: str
) -> None:
    assume(not url.empty_path_parameter)
    body = json.dumps(document, ensure_ascii=ascii_only)
    digest = hashlib.sha256(body.encode("utf-8")).hexdigest()
    digest = digest.upper() if case == "upper" else digest
    query = (f"{url.query}&" if url.query else "") + f"bodySHA256={digest}"
    request_url = replace(url, query=query).text()
    sent = body + " " if case == "tampered" else body
    for signature in (
        twilio_sign(urlparse(request_url).geturl(), []),
        compute_twilio_signature(auth_token=TOKEN, url=urlparse(request_url).geturl(), params=()),
    ):
        by_twilio = twilio_validates(request_url, sent, signature)
        by_project = project_validates(request_url, [], signature, body=sent)
        # Both accept the lowercase digest of the body Twilio sent, and only that.
        assert by_twilio == by_project == (case == "lower")
