"""The hot path's shortcuts decide nothing differently from the long way round.

- A response the transport returns reads exactly as httpx reads one (content, text, JSON,
  ``elapsed``, ``num_bytes_downloaded``, streaming), identity and gzip, sync and async.
- The generated response validator accepts exactly what the full checker accepts, over
  generated JSON values and every response schema of the contracts.
"""

from __future__ import annotations

import asyncio
import gzip
import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import stateset_voice_facts as facts
from hypothesis import given, settings
from hypothesis import strategies as st

from stateset_voice_wrapper import (
    ReliabilityConfig,
    ReliableTransport,
    RetryBudget,
    StateSetVoiceError,
)
from stateset_voice_wrapper._shared.errors import InvalidParameterError
from stateset_voice_wrapper._shared.fastcheck import fast_validator
from stateset_voice_wrapper._shared.schema import _compiler

if TYPE_CHECKING:
    from tests.profiles import examples
else:  # the sibling module: pytest puts tests/ on sys.path
    from profiles import examples

BODY = json.dumps({"call_id": "call_1", "status": "completed", "n": [1, 2, 3]}).encode()


def _answer(encoding: str | None) -> httpx.MockTransport:
    def handler(_: httpx.Request) -> httpx.Response:
        headers = {"content-type": "application/json"}
        content = BODY
        if encoding == "gzip":
            headers["content-encoding"] = "gzip"
            content = gzip.compress(BODY)
        return httpx.Response(200, headers=headers, content=content)

    return httpx.MockTransport(handler)


def _config() -> ReliabilityConfig:
    return ReliabilityConfig(budget=RetryBudget())


@pytest.mark.parametrize("encoding", [None, "gzip"])
def test_a_returned_response_reads_as_httpx_reads_it(encoding: str | None) -> None:
    plain = httpx.Client(transport=_answer(encoding))
    layered = httpx.Client(
        transport=ReliableTransport(config=_config(), transport=_answer(encoding))
    )
    url = "https://voice.example/api/v1/readiness"
    expected, got = plain.get(url), layered.get(url)
    assert got.content == expected.content == BODY
    assert got.text == expected.text
    assert got.json() == expected.json()
    assert got.is_closed
    assert got.is_stream_consumed
    assert got.elapsed.total_seconds() >= 0
    assert got.num_bytes_downloaded == len(gzip.compress(BODY) if encoding else BODY)
    assert list(got.iter_bytes(chunk_size=7)) == list(expected.iter_bytes(chunk_size=7))
    with pytest.raises(httpx.StreamConsumed):
        list(got.iter_raw())
    with layered.stream("GET", url) as streamed:  # streaming goes through httpx as usual
        assert b"".join(streamed.iter_bytes()) == BODY


@pytest.mark.parametrize("encoding", [None, "gzip"])
def test_an_async_returned_response_reads_as_httpx_reads_it(encoding: str | None) -> None:
    def async_answer() -> httpx.MockTransport:
        return _answer(encoding)

    async def run() -> tuple[httpx.Response, httpx.Response]:
        transport = ReliableTransport(config=_config(), async_transport=async_answer())
        async with (
            httpx.AsyncClient(transport=async_answer()) as plain,
            httpx.AsyncClient(transport=transport) as layered,
        ):
            url = "https://voice.example/api/v1/readiness"
            return await plain.get(url), await layered.get(url)

    expected, got = asyncio.run(run())
    assert got.content == expected.content == BODY
    assert got.is_closed
    assert got.elapsed.total_seconds() >= 0


# -- the generated response validator ---------------------------------------------------------


def _containers(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Lists and objects of ``children`` (a function, not a lambda: hypothesis reads a
    multi-line lambda's source wrongly and warns that it does not recurse)."""
    keys = st.sampled_from(["items", "call_id", "status", "to", "from", "total", "created_at"])
    return st.lists(children, max_size=4) | st.dictionaries(keys, children, max_size=6)


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from(["", "completed", "2026-11-20T15:04:05Z", "not a date", "+15555550101"]),
    _containers,
    max_leaves=20,
)

RESPONSE_SCHEMAS = [
    (op["api"], response["schema"])
    for op in facts.OPERATIONS.values()
    for response in op["responses"].values()
    if response["schema"] is not None
] + [  # every component as a top-level schema: a contract change may make any one a response
    (api, {"$ref": name})
    for api, schemas in sorted(facts.SCHEMAS.items())
    for name in sorted(schemas)
]


def _full(api: str, schema: dict[str, Any]) -> Any:
    compiler = _compiler(api, False)
    return compiler.ref(schema["$ref"]) if "$ref" in schema else compiler.compile(schema)


@pytest.mark.parametrize(("api", "schema"), RESPONSE_SCHEMAS, ids=lambda v: str(v)[:40])
@settings(max_examples=examples(50), deadline=None)
@given(value=JSON)
def test_the_fast_validator_agrees_with_the_full_checker(
    api: str, schema: dict[str, Any], value: Any
) -> None:
    fast = fast_validator(facts.SCHEMAS[api], schema)
    assert fast(value) == (_full(api, schema)(value, "response") is None)


def test_the_fast_validator_accepts_a_real_page_and_refuses_a_wrong_type() -> None:
    schema = {"$ref": "CallLogList"}
    fast = fast_validator(facts.SCHEMAS["public"], schema)
    log = {
        "call_id": "call_1",
        "status": "a-new-status",  # forward compatible: not an error
        "direction": "outbound",
        "to": "+15555550101",
        "from": "+15555551234",
        "agent_key": "front_desk",
        "duration_seconds": 94,
        "escalated": False,
        "created_at": "2026-11-20T15:04:05Z",
        "unknown_field": {"kept": True},
    }
    page = {"items": [log] * 3, "total": 3, "limit": 25, "offset": 0, "has_more": False}
    assert fast(page)
    assert not fast({**page, "items": [{**log, "duration_seconds": "abc"}]})
    assert not fast({**page, "items": [{**log, "created_at": "yesterday"}]})
    assert not fast({k: v for k, v in page.items() if k != "total"})


def _call_log() -> dict[str, Any]:
    return {
        "call_id": "call_1",
        "status": "completed",
        "direction": "outbound",
        "to": "+15555550101",
        "from": "+15555551234",
        "agent_key": "front_desk",
        "duration_seconds": 94,
        "escalated": False,
        "created_at": "2026-11-20T15:04:05Z",
        "started_at": "2026-11-20T15:04:11Z",
        "summary": None,
    }


REPLACEMENTS: list[Any] = [None, True, 3, 3.0, 3.5, "x", "2026-11-20T15:04:05Z", [], {}, [{}]]


@pytest.mark.parametrize("key", [*sorted(_call_log()), "metadata", "session_id"])
def test_the_fast_validator_agrees_on_every_field_missing_or_of_every_kind(key: str) -> None:
    """Near-valid pages, one field dropped or replaced: the statement form of an object
    check (required fields by subscript, optional ones by .get) answers as the full one."""
    schema = {"$ref": "CallLogList"}
    fast = fast_validator(facts.SCHEMAS["public"], schema)
    full = _full("public", schema)
    variants = [{k: v for k, v in _call_log().items() if k != key}]
    variants += [{**_call_log(), key: value} for value in REPLACEMENTS]
    for item in variants:
        page = {
            "items": [_call_log(), item],
            "total": 2,
            "limit": 25,
            "offset": 0,
            "has_more": False,
        }
        assert fast(page) == (full(page, "response") is None), item


@settings(max_examples=examples(300), deadline=None)
@given(
    key=st.sampled_from(["created_at", "started_at", "ended_at"]),
    value=st.text(alphabet="0123456789-:.TZtz+ W", max_size=26)
    | st.sampled_from(
        [
            "2026-11-20",
            "2026-11-20T15:04:05+05:30",
            "2026-11-20T15:04:05.123456Z",
            "2026-13-01T00:00:00Z",
            "2026-11-20T24:00:00Z",
            "20261120T150405Z",
            "\ud800",
        ]
    ),
)
def test_a_date_time_read_in_place_is_judged_as_the_full_checker_judges_it(
    key: str, value: str
) -> None:
    """The generated functions read a date-time with ``fromisoformat`` in place (a
    ValueError inside the function's ``try`` means invalid): over generated near-timestamps,
    in a required field and in optional nullable ones, the answer is the full checker's."""
    schema = {"$ref": "CallLogList"}
    fast = fast_validator(facts.SCHEMAS["public"], schema)
    full = _full("public", schema)
    page = {
        "items": [_call_log(), {**_call_log(), key: value}],
        "total": 2,
        "limit": 25,
        "offset": 0,
        "has_more": False,
    }
    assert fast(page) == (full(page, "response") is None)


# -- the header shortcuts -------------------------------------------------------------------


def test_the_header_shortcuts_do_what_httpx_does() -> None:
    """``header_entries`` reads httpx's own list (``Headers._list``) and ``add_header``
    appends to it: the same as ``raw`` and ``__setitem__``; this fails if httpx (or httpx2)
    ever changes the shape of that list."""
    from stateset_voice_wrapper._reliability.identity import add_header, header_entries

    given = [("Accept", "a"), ("X-Trace", "1"), ("x-trace", "2"), ("Host", "h")]
    headers, expected = httpx.Headers(given), httpx.Headers(given)
    assert header_entries(headers) == [(k, k.lower(), v) for k, v in headers.raw]
    add_header(headers, "X-Request-Id", "0861cdd4-40df-4f7f-90ca-084d38128804")
    expected["X-Request-Id"] = "0861cdd4-40df-4f7f-90ca-084d38128804"
    assert headers.raw == expected.raw
    assert headers.get("x-request-id") == expected.get("x-request-id")
    assert header_entries(headers) == [(k, k.lower(), v) for k, v in expected.raw]


def test_an_answer_read_in_memory_is_handed_on_as_new() -> None:
    """The inner transport's response becomes the returned one in place: nothing a handler
    made it cache (its text, its content, an encoding, an attribute) survives the change."""

    def handler(_: httpx.Request) -> httpx.Response:
        response = httpx.Response(
            200, headers={"content-type": "text/plain"}, content=b"caf\xc3\xa9"
        )
        response.encoding = "latin-1"  # what the handler chose, not what the caller reads
        assert response.text == "cafÃ©"
        response.marker = True  # type: ignore[attr-defined]
        return response

    layered = httpx.Client(
        transport=ReliableTransport(config=_config(), transport=httpx.MockTransport(handler))
    )
    got = layered.get("https://voice.example/api/v1/readiness")
    assert got.text == "café"
    assert got.content == b"caf\xc3\xa9"
    assert not hasattr(got, "marker")
    assert got.is_closed
    assert got.elapsed.total_seconds() >= 0
    assert got.request.url == "https://voice.example/api/v1/readiness"


def test_one_pattern_per_method_finds_the_route_a_loop_over_the_routes_finds() -> None:
    """``resolve_operation`` tries a method's routes as one regular expression; over every
    contract path (with base URL prefixes and extra segments) it names the same route as
    trying each route's own pattern in order."""
    import itertools
    import re

    from stateset_voice_wrapper._reliability import telemetry

    def by_loop(method: str, path: str) -> tuple[str | None, None, str | None]:
        for operation_id, (route_method, template, pattern) in telemetry._routes().items():
            found = pattern.fullmatch(path) if route_method == method else None
            if found is not None:
                return operation_id, None, found.group(1) + template
        return None, None, None

    for op in facts.OPERATIONS.values():
        path = re.sub(r"\{[^/]*?\}", "x1", op["path"])
        for prefix, suffix in itertools.product(["", "/voice", "/a/b"], ["", "/", "/extra"]):
            for method in ("GET", "POST", "PATCH", "DELETE", "PUT"):
                request = httpx.Request(method, f"https://voice.example{prefix}{path}{suffix}")
                expected = by_loop(method, request.url.path)
                assert telemetry.resolve_operation(request) == expected, (method, request.url)


_SEGMENT = st.text(alphabet="abcXYZ019-_.%+~", min_size=1, max_size=8)


@settings(max_examples=examples(300), deadline=None)
@given(
    method=st.sampled_from(["GET", "POST", "PATCH", "DELETE", "PUT", "HEAD", "BREW"]),
    base=st.sampled_from(
        ["https://voice.example", "http://voice.example:8080", "https://xn--caf-dma.example/v"]
    ),
    segments=st.lists(st.one_of(_SEGMENT, st.sampled_from(["api", "v1", "call-logs"])), max_size=5),
    operation=st.sampled_from([None, *facts.OPERATIONS]),
    method_name=st.sampled_from([None, "call_logs.get", "calls.create"]),
    query=st.sampled_from(["", "?limit=5", "?to=%2B15555550123"]),
)
def test_a_cached_request_shape_is_the_shape_worked_out_afresh(
    method: str,
    base: str,
    segments: list[str],
    operation: str | None,
    method_name: str | None,
    query: str,
) -> None:
    """``RequestTelemetry`` names and labels a request from a cache of request shapes; asked
    twice (cold, then cached), over generated requests, it gives what ``_make_shape`` works out
    from the request itself, and never a query string."""
    from stateset_voice_wrapper._reliability import spans
    from stateset_voice_wrapper._reliability.telemetry import OPERATION_EXTENSION

    paths = ["/" + "/".join(segments)]
    paths += [op["path"].replace("{", "").replace("}", "") for op in facts.OPERATIONS.values()][:3]
    for path in paths:
        extensions = {} if operation is None else {OPERATION_EXTENSION: (operation, method_name)}
        request = httpx.Request(method, f"{base}{path}{query}", extensions=extensions)
        expected = spans._make_shape(request)
        spans._SHAPES.clear()
        assert spans._shape_of(request) == expected  # cold
        again = httpx.Request(method, f"{base}{path}{query}", extensions=extensions)
        assert spans._shape_of(again) == expected  # cached
        assert "?" not in repr(expected)


@settings(max_examples=examples(300), deadline=None)
@given(
    name=st.sampled_from(["X-Request-Id", "Idempotency-Key", "X-Request-Attempt", "X-Other"]),
    value=st.text(alphabet="abc019-_ é", max_size=12),
    encoding=st.sampled_from([None, "utf-8", "latin-1", "iso-8859-1", "ascii", "utf-16"]),
    given_headers=st.lists(
        st.tuples(st.sampled_from(["Accept", "X-Request-Id", "Host"]), st.text("ab1", max_size=3)),
        max_size=4,
    ),
)
def test_adding_a_header_is_setting_it_when_it_is_absent(
    name: str, value: str, encoding: str | None, given_headers: list[tuple[str, str]]
) -> None:
    """``add_header`` (with its names encoded ahead as ASCII) leaves a header list exactly as
    httpx's ``__setitem__`` does for a name not yet present, in every encoding, including one
    in which ASCII text does not encode as ASCII."""
    from stateset_voice_wrapper._reliability.identity import add_header

    given_headers = [(k, v) for k, v in given_headers if k.lower() != name.lower()]
    headers, expected = httpx.Headers(given_headers), httpx.Headers(given_headers)
    if encoding is not None:
        headers.encoding = expected.encoding = encoding
    try:
        expected[name] = value
    except UnicodeEncodeError:
        with pytest.raises(UnicodeEncodeError):
            add_header(headers, name, value)
        return
    add_header(headers, name, value)
    assert headers.raw == expected.raw
    assert headers._list == expected._list
    if encoding != "utf-16":  # httpx cannot decode its own list in that one
        assert list(headers.multi_items()) == list(expected.multi_items())


_TIMEOUT = st.one_of(st.none(), st.floats(min_value=0, max_value=100, allow_nan=False))


@settings(max_examples=examples(300), deadline=None)
@given(
    own=st.tuples(_TIMEOUT, _TIMEOUT, _TIMEOUT, _TIMEOUT),
    outer=st.one_of(
        st.none(),
        st.just({}),
        st.fixed_dictionaries(
            {}, optional={k: _TIMEOUT for k in ("connect", "read", "write", "pool")}
        ),
    ),
)
def test_phase_timeouts_written_out_are_the_smallest_of_each_pair(
    own: tuple[float | None, ...], outer: dict[str, float | None] | None
) -> None:
    """``phase_timeouts`` compares each phase by hand and keeps its answers; it gives
    ``min_timeout`` of each pair, computed and kept, for a timeout object kept alive and for
    fresh ones (which may reuse a dead one's ``id``)."""
    from stateset_voice_wrapper._reliability.policy import min_timeout, phase_timeouts

    timeout = httpx.Timeout(connect=own[0], read=own[1], write=own[2], pool=own[3])
    phases = ("connect", "read", "write", "pool")
    expected = tuple(min_timeout(getattr(timeout, p), (outer or {}).get(p), None) for p in phases)
    assert phase_timeouts(timeout, outer) == expected
    assert phase_timeouts(timeout, None if outer is None else dict(outer)) == expected  # kept
    for other in (own[::-1], (1.0, 2.0, 3.0, 4.0)):
        fresh = httpx.Timeout(connect=other[0], read=other[1], write=other[2], pool=other[3])
        wanted = tuple(min_timeout(getattr(fresh, p), (outer or {}).get(p), None) for p in phases)
        assert phase_timeouts(fresh, outer) == wanted
        del fresh


@settings(max_examples=examples(500), deadline=None)
@given(values=st.lists(st.binary(max_size=40), max_size=6))
def test_the_header_byte_pass_finds_what_the_search_finds(values: list[bytes]) -> None:
    """Deleting the allowed bytes (``translate``) leaves something exactly when the search for
    a disallowed byte finds one: over generated values, and over every single byte."""
    from stateset_voice_wrapper._reliability.identity import _BAD_HEADER_BYTE, _GOOD_HEADER_BYTES

    for joined in (b"\t".join(values), *(bytes([b]) for b in range(256))):
        found = _BAD_HEADER_BYTE.search(joined) is not None
        assert bool(joined.translate(None, _GOOD_HEADER_BYTES)) == found


#: A caller's headers: names with a non-token byte now and then, values with a non-ASCII or a
#: control byte now and then.
GIVEN_HEADERS = st.lists(
    st.tuples(
        st.text(alphabet="AbX-é\x7f", min_size=1, max_size=6),
        st.text(alphabet="ab1 é\t\x01", max_size=6),
    ),
    max_size=4,
)


@settings(max_examples=examples(300), deadline=None)
@given(given_headers=GIVEN_HEADERS)
def test_settling_the_headers_refuses_a_bad_value_and_changes_nothing_else(
    given_headers: list[tuple[str, str]],
) -> None:
    """The one pass over every value (``itemgetter`` and ``translate``) refuses a request
    exactly when a value has a control or non-ASCII byte, and leaves any other request as it
    was: its list, and the encoding httpx works out for it (a header written later, such as a
    propagator's, is encoded as httpx would encode it)."""
    from stateset_voice_wrapper._reliability.identity import _settle

    raw = [(k.encode("utf-8"), v.encode("utf-8")) for k, v in given_headers]
    headers = httpx.Headers(raw)
    fresh = httpx.Headers(raw)
    bad_value = any(any(b > 0x7E or (b < 0x20 and b != 0x09) for b in v) for _, v in raw)
    if bad_value:
        with pytest.raises(InvalidParameterError):
            _settle(headers)
        return
    _settle(headers)
    assert headers._list == fresh._list
    assert headers._encoding is None  # still httpx's to work out
    headers["x-later"] = fresh["x-later"] = "Zürich"
    assert headers.raw == fresh.raw


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "array", "items": {"type": "object"}},
        {"type": "object", "properties": {"n": {"description": "anything"}}},
        {"type": "object"},
    ],
    ids=["array-of-free-objects", "unconstrained-property", "bare-object"],
)
def test_a_schema_with_nothing_to_check_inside_compiles_and_answers_as_the_full_checker(
    schema: dict[str, Any],
) -> None:
    """An object schema whose properties constrain nothing generates no statements: the
    generated function is then a plain ``return True`` (an empty ``try`` would not compile)."""
    fast = fast_validator(facts.SCHEMAS["public"], schema)
    full = _compiler("public", False).compile(schema)
    values: list[Any] = [{}, {"n": 1}, [], [{}], [{"n": [1]}], 3, "x", None]
    for value in values:
        assert fast(value) == (full(value, "response") is None), value


class _Chunks(httpx.SyncByteStream):
    def __init__(self, *chunks: Any) -> None:
        self.chunks = chunks

    def __iter__(self) -> Iterator[Any]:
        yield from self.chunks


@pytest.mark.parametrize(
    "chunks",
    [
        (memoryview(b'{"ok":true}'),),
        (bytearray(b'{"ok":true}'),),
        (b'{"ok"', memoryview(b":true}")),
    ],
    ids=["memoryview", "bytearray", "mixed"],
)
def test_an_inner_stream_of_any_bytes_like_chunks_is_handed_on_as_bytes(chunks: Any) -> None:
    """The transport joins what the inner stream yields into ``bytes``, whatever bytes-like
    objects the chunks are (a custom transport's stream), so the caller's ``.content`` and
    ``.json()`` read bytes."""
    transport = ReliableTransport(
        transport=httpx.MockTransport(lambda _: httpx.Response(200, stream=_Chunks(*chunks)))
    )
    with httpx.Client(base_url="http://bench.local", transport=transport) as client:
        response = client.get("/x")
    assert type(response.content) is bytes
    assert response.json() == {"ok": True}


def test_an_inner_stream_of_text_chunks_is_a_typed_error() -> None:
    transport = ReliableTransport(
        transport=httpx.MockTransport(lambda _: httpx.Response(200, stream=_Chunks("text"))),
        max_retries=0,
    )
    with (
        httpx.Client(base_url="http://bench.local", transport=transport) as client,
        pytest.raises(StateSetVoiceError),
    ):
        client.get("/x")


def test_a_timeout_changed_between_requests_is_the_one_the_next_request_uses() -> None:
    """``httpx.Timeout`` can be changed in place; each request works out its phases afresh."""
    seen: list[Any] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(dict(request.extensions["timeout"]))
        return httpx.Response(200)

    timeout = httpx.Timeout(10.0)
    transport = ReliableTransport(
        config=ReliabilityConfig(timeout=timeout, deadline=None),
        transport=httpx.MockTransport(handler),
    )
    with httpx.Client(base_url="http://bench.local", transport=transport, timeout=30.0) as c:
        c.get("/x")
        timeout.read = 1.0
        c.get("/x")
    assert [phases["read"] for phases in seen] == [10.0, 1.0]


@settings(max_examples=examples(300), deadline=None)
@given(
    given_headers=GIVEN_HEADERS,
    chosen=st.sampled_from([None, "utf-8", "latin-1"]),
)
def test_settling_the_encoding_works_it_out_as_httpx_does(
    given_headers: list[tuple[str, str]], chosen: str | None
) -> None:
    """``settle_encoding`` (run as an answer is handed back) gives the headers the encoding
    httpx would work out on its first read, and leaves one already worked out or chosen."""
    from stateset_voice_wrapper._reliability.identity import settle_encoding

    raw = [(k.encode("utf-8"), v.encode("utf-8")) for k, v in given_headers]
    headers, fresh = httpx.Headers(raw), httpx.Headers(raw)
    if chosen is not None:
        headers.encoding = fresh.encoding = chosen
    settle_encoding(headers)
    assert headers._list == fresh._list
    assert headers.encoding == fresh.encoding
    assert list(headers.multi_items()) == list(fresh.multi_items())


def test_a_returned_request_has_the_encoding_httpx_works_out() -> None:
    transport = ReliableTransport(transport=httpx.MockTransport(lambda _: httpx.Response(200)))
    with httpx.Client(base_url="http://bench.local", transport=transport) as client:
        response = client.get("/x", headers={"X-Note": "plain"})
    headers = response.request.headers
    assert headers.encoding == httpx.Headers(headers.raw).encoding == "ascii"


def test_an_attempt_prepared_as_the_clock_steps_back_gets_the_time_left_then() -> None:
    """``prepare`` reads the clock once; when that reading says the deadline has passed, the
    deadline check reads it again and the attempt gets that reading's time left (a clock
    that stepped back), never a negative timeout."""
    from stateset_voice_wrapper._reliability.request import LogicalRequest

    readings = iter([0.0, 11.0, 5.0])  # the start, prepare's reading, the check's
    config = ReliabilityConfig(
        budget=RetryBudget(), deadline=10.0, timeout=30.0, clock=lambda: next(readings)
    )
    logical = LogicalRequest(config, httpx.Request("GET", "https://voice.example/x"), None)
    guard = logical.prepare()
    assert logical.request.extensions["timeout"] == dict.fromkeys(
        ("connect", "read", "write", "pool"), 5.0
    )
    assert guard.expires is not None
