"""The identity of one logical request, fixed once before its first attempt.

:func:`stamp_identity` gives a request its client request ID (``X-Request-Id``, the caller's or
a new one) and, for the contract's creating POSTs, an ``Idempotency-Key`` (the caller's, else a
new one when automatic keys are on), adds the caller's extra headers and query parameters
(never replacing a credential), and refuses header values the wire would reject. Every attempt
and every retry of the request then carries the same identity. The contract's rules (which
paths create, which headers carry credentials) come from the generated facts, read on first use.
"""

from __future__ import annotations

import functools
import operator
import re
from collections.abc import Callable, Sequence

import httpx

from .._shared.defaults import (
    HEADER_ATTEMPT,
    HEADER_IDEMPOTENCY_KEY,
    HEADER_REPLAYED,
    HEADER_REQUEST_ID,
    HEADER_SERVER_REQUEST_ID,
)
from .._shared.errors import InvalidParameterError
from .._shared.ids import random_uuid
from .._shared.validate import check_idempotency_key, check_request_id
from .mapping import RequestIdentity
from .options import ReliabilityConfig, RequestOverrides

__all__ = [
    "AnswerHead",
    "add_header",
    "credential_values",
    "header_entries",
    "is_html",
    "normalise_path",
    "path_matcher",
    "settle_encoding",
    "stamp_attempt",
    "stamp_identity",
]


_SLASHES = re.compile(r"/{2,}")


def normalise_path(path: str) -> str:
    """``path`` as the server routes it: runs of ``/`` collapsed, no trailing ``/``."""
    path = _SLASHES.sub("/", path)
    return path.rstrip("/") or "/"


def path_matcher(templates: Sequence[str]) -> Callable[[str], bool]:
    """A predicate: does a request path (normalised first) end with one of ``templates``?

    Templates are the contract's path templates; a ``{parameter}`` (or ``*``) matches one
    segment. Matching at the end lets a base URL with a proxy's prefix
    (``/voice/api/v1/make-call``) match too.
    """
    alternatives = "|".join(
        re.sub(r"\\\{[^/]*?\\\}", "[^/]+", re.escape(normalise_path(t))).replace(r"\*", "[^/]+")
        for t in templates
    )
    compiled = re.compile(f"(?:.*)(?:{alternatives})")
    return lambda path: compiled.fullmatch(normalise_path(path)) is not None


@functools.cache
def _contract_rules() -> tuple[Callable[[str], bool], frozenset[str]]:
    """From the contracts' facts, read on the first request: which POST paths take an
    Idempotency-Key, and which headers carry a credential (extra headers never replace those)."""
    import stateset_voice_facts as facts

    creating = tuple(
        op["path"]
        for op in facts.OPERATIONS.values()
        if op["method"] == "POST" and op["idempotency_key"]
    )
    credentials = frozenset(
        scheme["header"].lower()
        for op in facts.OPERATIONS.values()
        for scheme in op["security"]
        if all(p["name"] != scheme["header"] for p in op["parameters"])
    )
    return path_matcher(creating), credentials


def _needs_idempotency_key(path: str) -> bool:
    return _contract_rules()[0](path)


def stamp_identity(
    config: ReliabilityConfig, request: httpx.Request, options: RequestOverrides | None
) -> tuple[RequestIdentity, str | None]:
    """Fix ``request``'s identity (in its headers) and number it as attempt 1
    (``X-Request-Attempt``); return the identity and the Idempotency-Key.

    The headers are read in one pass for the identity headers rather than by a lookup per
    name (httpx scans the whole list for each), and their values checked in one more
    (:func:`_settle`).
    """
    headers = request.headers
    if options is not None:
        _apply_extras(request, options)
        if options.client_request_id or options.idempotency_key:
            return _stamp_given(config, request, options)
    entries = getattr(headers, "_list", None)
    if (
        type(entries) is not list
        or getattr(headers, "_encoding", None) not in _ASCII_ALIKE
        or not _STAMPED.isdisjoint(map(_LOWERED, entries))
    ):
        return _stamp_given(config, request, options)
    # Nothing given: a new ID (and key), appended as ``add_header`` appends them.
    client_request_id = random_uuid()
    entries.append((*_ASCII_NAMES[HEADER_REQUEST_ID], client_request_id.encode("ascii")))
    key = None
    if (
        config.auto_idempotency_keys
        and request.method == "POST"
        and _needs_idempotency_key(request.url.path)
    ):
        key = random_uuid()
        entries.append((*_ASCII_NAMES[HEADER_IDEMPOTENCY_KEY], key.encode("ascii")))
    entries.append(_FIRST_ATTEMPT)
    _settle(headers)
    return RequestIdentity(request.method, client_request_id, key, request.url), key


def _stamp_given(
    config: ReliabilityConfig, request: httpx.Request, options: RequestOverrides | None
) -> tuple[RequestIdentity, str | None]:
    """:func:`stamp_identity` for a request that may carry identity headers already, or
    whose options give an ID or a key (the caller's extras are applied)."""
    headers = request.headers
    ids: tuple[bytes, ...] = ()
    keys: tuple[bytes, ...] = ()
    attempt_header = False
    for _, lowered, raw_value in header_entries(headers):
        if lowered in _STAMPED:
            if lowered == _REQUEST_ID:
                ids = (*ids, raw_value)
            elif lowered == _IDEMPOTENCY_KEY:
                keys = (*keys, raw_value)
            else:
                attempt_header = True
    given_id = _text(headers, ids) if ids else None
    given_key = _text(headers, keys) if keys else None
    client_request_id = (options.client_request_id if options else None) or given_id
    if client_request_id:
        check_request_id(client_request_id)
    else:
        client_request_id = random_uuid()
    # Always (re)write it: an ID given through request_options must reach the server too.
    if not ids:
        add_header(headers, HEADER_REQUEST_ID, client_request_id)
    elif given_id != client_request_id or len(ids) > 1:
        headers[HEADER_REQUEST_ID] = client_request_id
    key = given_key or (options.idempotency_key if options else None)
    if key:
        check_idempotency_key(key)
    elif (
        config.auto_idempotency_keys
        and request.method == "POST"
        and _needs_idempotency_key(request.url.path)
    ):
        key = random_uuid()
    if key and not keys:
        add_header(headers, HEADER_IDEMPOTENCY_KEY, key)
    elif key and (given_key != key or len(keys) > 1):
        headers[HEADER_IDEMPOTENCY_KEY] = key
    if attempt_header:
        headers[HEADER_ATTEMPT] = "1"
    else:
        add_header(headers, HEADER_ATTEMPT, "1")
    _settle(headers)
    identity = RequestIdentity(request.method, client_request_id, key or None, request.url)
    return identity, key or None


def _settle(headers: httpx.Headers) -> None:
    """Refuse header values the wire would reject: one pass over every value (joined by a
    tab, an allowed byte; read by ``itemgetter``, in C) finds whether any is bad, and only then
    :func:`_check_header_values` looks at each header, to name it. The identity headers'
    values were checked on their own and pass."""
    if b"\t".join(map(_VALUE, header_entries(headers))).translate(None, _GOOD_HEADER_BYTES):
        _check_header_values(headers)  # raises, naming the header


def settle_encoding(headers: httpx.Headers) -> None:
    """As a request's answer is handed back: work out its headers' encoding as httpx does on
    its first read, when nobody has yet, and say so.

    httpx's client reads the request's headers next (its cookie jar copies them into a
    ``urllib`` request), and would work the encoding out there, at a cost that grows with the
    headers the layer added; the answer is the same (``ascii`` when every name and value is
    ASCII; otherwise it is left to httpx). Done only now, after every header of every attempt
    was written, so a header written later in the request (a propagator's) is encoded as httpx
    encodes it.
    """
    if getattr(headers, "_encoding", True) is not None:
        return  # worked out already, or chosen by the caller, or not httpx's Headers
    entries = header_entries(headers)
    if b"".join(map(_NAME, entries)).isascii() and b"".join(map(_VALUE, entries)).isascii():
        headers.encoding = "ascii"


#: The name, lower-cased name and value of a ``header_entries`` entry (itemgetter: no
#: Python call each).
_NAME = operator.itemgetter(0)
_LOWERED = operator.itemgetter(1)
_VALUE = operator.itemgetter(2)


def stamp_attempt(headers: httpx.Headers, number: int) -> None:
    """Number a later attempt (``X-Request-Attempt``; :func:`stamp_identity` numbers the
    first)."""
    headers[HEADER_ATTEMPT] = str(number)


_REQUEST_ID = HEADER_REQUEST_ID.lower().encode("ascii")
_IDEMPOTENCY_KEY = HEADER_IDEMPOTENCY_KEY.lower().encode("ascii")
_ATTEMPT = HEADER_ATTEMPT.lower().encode("ascii")
_IDENTITY = frozenset({_REQUEST_ID, _IDEMPOTENCY_KEY})
#: The headers :func:`stamp_identity` looks for.
_STAMPED = frozenset({_REQUEST_ID, _IDEMPOTENCY_KEY, _ATTEMPT})


def header_entries(headers: httpx.Headers) -> list[tuple[bytes, bytes, bytes]]:
    """``(name, lower-cased name, value)`` of every header, as raw bytes, in order.

    httpx and httpx2 keep exactly this list as ``Headers._list``; reading it saves building
    ``headers.raw`` and lower-casing every name on each request. Any other Headers class gets
    the same list built from the public ``raw`` (``tests/test_hot_path.py`` holds the two
    equal, and fails if httpx changes the shape of its list).
    """
    found = getattr(headers, "_list", None)
    if type(found) is list:
        return found
    return [(name, name.lower(), value) for name, value in headers.raw]


def add_header(headers: httpx.Headers, name: str, value: str) -> None:
    """``headers[name] = value`` for a header the request does not carry yet.

    httpx's ``__setitem__`` scans the whole list for copies to replace; the caller has just
    read every name (:func:`stamp_identity`), so a new header is appended to httpx's list
    directly, encoded as ``__setitem__`` encodes it. Elsewhere, ``__setitem__`` it is.
    """
    entries = getattr(headers, "_list", None)
    if type(entries) is not list:
        headers[name] = value
        return
    encoding = getattr(headers, "_encoding", None)
    names = _ASCII_NAMES.get(name)
    if names is not None and encoding in _ASCII_ALIKE and value.isascii():
        entries.append((names[0], names[1], value.encode("ascii")))
        return
    encoding = encoding or "utf-8"
    raw_name = name.encode(encoding)
    entries.append((raw_name, raw_name.lower(), value.encode(encoding)))


#: Encodings (None: httpx's default, utf-8) in which ASCII text encodes as ASCII. httpx
#: chooses one of them itself; a caller may set another (``headers.encoding = "utf-16"``).
_ASCII_ALIKE = frozenset({None, "ascii", "utf-8", "iso-8859-1"})

#: The identity headers' names, encoded (as ASCII, for the encodings of ``_ASCII_ALIKE``).
_ASCII_NAMES: dict[str, tuple[bytes, bytes]] = {
    name: (name.encode("ascii"), name.encode("ascii").lower())
    for name in (HEADER_REQUEST_ID, HEADER_IDEMPOTENCY_KEY, HEADER_ATTEMPT)
}


#: The first attempt's number, as ``add_header`` appends it.
_FIRST_ATTEMPT = (*_ASCII_NAMES[HEADER_ATTEMPT], b"1")


def _text(headers: httpx.Headers, values: tuple[bytes, ...]) -> str:
    """A header's values as httpx's ``get`` gives them: decoded, repeated ones joined."""
    raw = values[0] if len(values) == 1 else b", ".join(values)
    if raw.isascii():
        return raw.decode("ascii")
    try:
        return raw.decode(headers.encoding)
    except UnicodeDecodeError:  # a caller's encoding that does not fit: refused when checked
        return raw.decode("latin-1")


def _apply_extras(request: httpx.Request, options: RequestOverrides) -> None:
    """Add the caller's extra headers and query parameters; the credential is never replaced."""
    if options.extra_headers:
        for name, value in options.extra_headers.items():
            if name.lower() not in _contract_rules()[1]:
                request.headers[name] = value
    if options.extra_query:
        request.url = request.url.copy_merge_params(dict(options.extra_query))


def credential_values(request: httpx.Request) -> list[str]:
    """The credential header values of ``request``: removed from any text shown."""
    found = []
    for name in _contract_rules()[1]:
        value = request.headers.get(name)
        if value:
            found.append(value)
    return found


_BAD_HEADER_BYTE = re.compile(rb"[^\t\x20-\x7e]")
#: The bytes ``_BAD_HEADER_BYTE`` allows: deleting them from a value leaves its bad bytes
#: (one C pass, about half the cost of the search, on every request).
_GOOD_HEADER_BYTES = bytes([0x09, *range(0x20, 0x7F)])


def _check_header_values(headers: httpx.Headers) -> None:
    """Refuse a request whose header values h11 would reject (and then quote, secret and all,
    in its error and in httpcore's DEBUG log): a control or non-ASCII byte anywhere.

    :func:`_settle` calls it only once one pass over every value (joined by a tab, an allowed
    byte) has found a bad byte; each header is looked at here, to name it. The identity
    headers were checked on their own (``check_request_id``, ``check_idempotency_key``).
    """
    for raw_name, lowered, raw_value in header_entries(headers):
        if lowered in _IDENTITY:
            continue
        bad = _BAD_HEADER_BYTE.search(raw_value)
        if bad is not None:
            name = raw_name.decode("latin-1")
            what = "a non-ASCII byte" if bad.group(0)[0] > 0x7E else "a control character"
            shown = (
                "its value is withheld"
                if name.lower() in _contract_rules()[1]
                else "nothing was sent"
            )
            raise InvalidParameterError(
                f"header {name!r} contains {what} at position {bad.start()} ({shown})"
            )


def is_html(headers: httpx.Headers) -> bool:
    content_type: str = headers.get("content-type", "")
    return content_type.startswith("text/html")


#: The response headers :class:`AnswerHead` reads; any other is passed over at once.
_SERVER_ID = HEADER_SERVER_REQUEST_ID.lower().encode("ascii")
_REPLAYED = HEADER_REPLAYED.lower().encode("ascii")
_ANSWER_NAMES = frozenset({_SERVER_ID, b"content-type", b"content-encoding", _REPLAYED})


class AnswerHead:
    """The response headers the decisions read, found in one pass over the headers."""

    __slots__ = ("content_encoding", "html", "replayed", "request_id")

    def __init__(self, headers: httpx.Headers) -> None:
        request_id = content_type = encoding = replayed = None
        for _, lowered, raw_value in header_entries(headers):
            if lowered not in _ANSWER_NAMES:
                continue
            if lowered == _SERVER_ID:
                request_id = raw_value if request_id is None else request_id + b", " + raw_value
            elif lowered == b"content-type":
                content_type = raw_value if content_type is None else content_type
            elif lowered == b"content-encoding":
                encoding = raw_value if encoding is None else encoding + b", " + raw_value
            elif lowered == _REPLAYED:
                replayed = raw_value if replayed is None else replayed + b", " + raw_value
        #: The server's request ID (as ``headers.get`` gives it: an ASCII value decodes the
        #: same in every encoding httpx may choose, any other is left to httpx), or None.
        self.request_id = (
            None
            if request_id is None
            else request_id.decode("ascii")
            if request_id.isascii()
            else headers.get(HEADER_SERVER_REQUEST_ID)
        )
        self.html = content_type is not None and content_type.startswith(b"text/html")
        #: A Content-Encoding header with a value: the body must be decoded to be read.
        self.content_encoding = bool(encoding)
        self.replayed = replayed == b"true"
