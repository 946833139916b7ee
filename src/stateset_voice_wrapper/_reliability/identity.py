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
import re
from collections.abc import Callable, Sequence

import httpx

from .._shared.defaults import HEADER_IDEMPOTENCY_KEY, HEADER_REQUEST_ID
from .._shared.errors import InvalidParameterError
from .._shared.ids import random_uuid
from .._shared.redact import mask_phone_numbers
from .._shared.validate import check_idempotency_key, check_request_id
from .mapping import RequestIdentity
from .options import ReliabilityConfig, RequestOverrides

__all__ = [
    "credential_values",
    "is_html",
    "normalise_path",
    "path_matcher",
    "stamp_identity",
]


_SLASHES = re.compile(r"/{2,}")


def normalise_path(path: str) -> str:
    """``path`` as the server routes it: runs of ``/`` collapsed, no trailing ``/``."""
    path = _SLASHES.sub("/", path)
    return path.rstrip("/") or "/"


def _safe_path(url: httpx.URL) -> str:
    """The URL path for logs and errors: no query string, and nothing that looks like a phone number."""
    return mask_phone_numbers(url.path)


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
    """Fix ``request``'s identity (in its headers) and return it with its Idempotency-Key."""
    headers = request.headers
    if options is not None:
        _apply_extras(request, options)
    client_request_id = (options.client_request_id if options else None) or headers.get(
        HEADER_REQUEST_ID
    )
    if client_request_id:
        check_request_id(client_request_id)
    else:
        client_request_id = random_uuid()
    # Always (re)write it: an ID given through request_options must reach the server too.
    headers[HEADER_REQUEST_ID] = client_request_id
    key = headers.get(HEADER_IDEMPOTENCY_KEY) or (options.idempotency_key if options else None)
    if key:
        check_idempotency_key(key)
    elif (
        config.auto_idempotency_keys
        and request.method == "POST"
        and _needs_idempotency_key(request.url.path)
    ):
        key = random_uuid()
    if key:
        headers[HEADER_IDEMPOTENCY_KEY] = key
    _check_header_values(request)
    identity = RequestIdentity(
        method=request.method,
        path=_safe_path(request.url),
        client_request_id=client_request_id,
        idempotency_key=key or None,
    )
    return identity, key or None


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


def _check_header_values(request: httpx.Request) -> None:
    """Refuse a request whose header values h11 would reject (and then quote, secret and all,
    in its error and in httpcore's DEBUG log): a control or non-ASCII byte anywhere."""
    for raw_name, raw_value in request.headers.raw:
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
