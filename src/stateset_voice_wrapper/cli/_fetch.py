"""Download the contract documents from a deployment, trusting nothing the server sends.

Used by ``stateset-voice contracts check`` and by the maintainers' ``scripts/fetch-contracts``
(which adds validation and the lock file), so both follow one network policy:

* **Where**: https, or http to a loopback host only, no credentials (:mod:`._fetch_url`).
* **Redirects**: followed only to the same origin (scheme, host and port), at most
  :data:`MAX_REDIRECTS`; the URL that finally served the document is what gets recorded.
* **How much**: at most :data:`MAX_DOCUMENT_BYTES` after decoding, counted while streaming, so a
  2 GiB body or a gzip bomb is refused after a few MB; a larger ``Content-Length`` is refused
  before reading. Only ``identity``, ``gzip`` and ``deflate`` are accepted, one layer.
* **How long**: one deadline for the whole fetch (every document, every redirect). Each
  connect, TLS handshake, write and read waits at most the time left, and the body is checked
  against it after every chunk, so a server trickling one byte a second cannot stretch it.
* **What**: strict JSON holding an OpenAPI 3 object (:mod:`._fetch_document`). Messages say
  where and what rule, never the server's bytes.

The fetch talks HTTP/1.1 through httpcore (httpx's own transport) so that every network
operation can be bounded by the deadline. It ignores proxy environment variables.
"""

from __future__ import annotations

import ssl
import time
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urljoin

import httpcore
import httpx

from .. import __version__
from .._shared.untrusted import escape_untrusted
from ._fetch_document import MAX_DEPTH, normalise_document, parse_document, sha256_hex
from ._fetch_url import (
    CONTRACT_PATHS,
    DEFAULT_CONTRACTS_URL,
    ENV_CONTRACTS_URL,
    MAX_SHOWN,
    ContractFetchError,
    check_base_url,
    display_url,
    parse_url,
)

__all__ = [
    "CONTRACT_PATHS",
    "DEFAULT_CONTRACTS_URL",
    "ENV_CONTRACTS_URL",
    "MAX_DEPTH",
    "MAX_DOCUMENT_BYTES",
    "MAX_REDIRECTS",
    "ContractFetchError",
    "Fetched",
    "check_base_url",
    "display_url",
    "fetch_contracts",
    "fetch_document",
    "normalise_document",
    "parse_document",
    "sha256_hex",
]

#: Largest document accepted, after decoding (the pinned ones are about 130 KiB).
MAX_DOCUMENT_BYTES: Final = 8 * 1024 * 1024
MAX_REDIRECTS: Final = 3
_REDIRECT_STATUSES: Final = frozenset({301, 302, 303, 307, 308})


@dataclass(frozen=True, slots=True)
class Fetched:
    """One downloaded contract document."""

    name: str
    url: str
    """The URL requested."""
    served_url: str
    """The URL that served the document (differs from ``url`` after a redirect)."""
    document: dict[str, Any]
    data: bytes
    """The document in the pinned form (:func:`normalise_document`)."""

    @property
    def sha256(self) -> str:
        return sha256_hex(self.data)


# -- the network: every operation bounded by what is left of the deadline -----------------------


class _Budget:
    def __init__(self, seconds: float, clock: Callable[[], float]) -> None:
        self.seconds = seconds
        self.clock = clock
        self.deadline = clock() + seconds

    def left(self) -> float:
        return self.deadline - self.clock()

    def clamp(self, timeout: float | None) -> float:
        left = self.left()
        if left <= 0:
            raise httpcore.ReadTimeout("the deadline passed")
        return left if timeout is None else min(timeout, left)


class _BoundedStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream, budget: _Budget) -> None:
        self._inner = inner
        self._budget = budget

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, self._budget.clamp(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, self._budget.clamp(timeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        inner = self._inner.start_tls(ssl_context, server_hostname, self._budget.clamp(timeout))
        return _BoundedStream(inner, self._budget)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _BoundedBackend(httpcore.NetworkBackend):
    def __init__(self, budget: _Budget, inner: httpcore.NetworkBackend | None = None) -> None:
        self._budget = budget
        self._inner = inner or httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        stream = self._inner.connect_tcp(
            host, port, self._budget.clamp(timeout), local_address, socket_options
        )
        return _BoundedStream(stream, self._budget)

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:  # pragma: no cover - never configured
        raise httpcore.ConnectError("unix sockets are not used for contracts")

    def sleep(self, seconds: float) -> None:  # pragma: no cover - retries are off
        self._inner.sleep(min(seconds, max(self._budget.left(), 0.0)))


class _BoundedDecoder:
    """Decodes one Content-Encoding layer, refusing to produce more than ``limit`` bytes."""

    def __init__(self, encoding: str, limit: int, shown: str) -> None:
        self._limit = limit
        self._shown = shown
        self._produced = 0
        self._encoding = encoding
        self._z: Any = None
        if encoding == "gzip":
            self._z = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            self._z = zlib.decompressobj()
        self._first = True

    def _count(self, data: bytes) -> bytes:
        self._produced += len(data)
        if self._produced > self._limit:
            raise ContractFetchError(
                f"{self._shown}: the document is larger than {self._limit:,} bytes"
                + (f" once decoded ({self._encoding})" if self._z is not None else "")
            )
        return data

    def feed(self, chunk: bytes) -> bytes:
        if self._z is None:
            return self._count(chunk)
        out = bytearray()
        data = chunk
        while data:
            budget = self._limit - self._produced - len(out) + 1
            try:
                piece = self._z.decompress(data, budget)
            except zlib.error:
                if self._first and self._encoding == "deflate":  # raw deflate, no zlib header
                    self._z = zlib.decompressobj(-zlib.MAX_WBITS)
                    self._first = False
                    continue
                raise ContractFetchError(
                    f"{self._shown}: the {self._encoding} body is corrupt"
                ) from None
            self._first = False
            out += piece
            if self._produced + len(out) > self._limit:
                break
            if self._z.eof and self._z.unused_data and self._encoding == "gzip":
                data = self._z.unused_data  # another gzip member follows
                self._z = zlib.decompressobj(16 + zlib.MAX_WBITS)
            else:
                data = self._z.unconsumed_tail
        return self._count(bytes(out))

    def finish(self) -> None:
        if self._z is not None:
            self._count(self._z.flush())
            if not self._z.eof:
                raise ContractFetchError(f"{self._shown}: the {self._encoding} body is truncated")


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> str | None:
    values = [v for k, v in headers if k.lower() == name]
    if not values:
        return None
    return b", ".join(values).decode("latin-1").strip()


def _download(
    pool: httpcore.ConnectionPool, url: str, budget: _Budget, timeout: float
) -> tuple[str, bytes]:
    """GET ``url`` (following same-origin redirects); return the serving URL and the body."""
    origin, path = parse_url(url)
    current = url
    for _ in range(MAX_REDIRECTS + 1):
        shown = display_url(current)
        phase = budget.clamp(timeout)
        target = httpcore.URL(
            scheme=origin.scheme.encode(),
            host=origin.host.encode(),
            port=origin.port,
            target=(path or "/").encode(),
        )
        headers = [
            (b"Host", origin.netloc.encode()),
            (b"Accept", b"application/json"),
            (b"Accept-Encoding", b"gzip, deflate"),
            (b"User-Agent", f"stateset-voice-contracts/{__version__}".encode()),
        ]
        extensions = {"timeout": {"connect": phase, "read": phase, "write": phase, "pool": phase}}
        with pool.stream("GET", target, headers=headers, extensions=extensions) as response:
            status = response.status
            if status in _REDIRECT_STATUSES:
                location = _header(response.headers, b"location")
                if not location:
                    raise ContractFetchError(f"{shown}: HTTP {status} redirect without a Location")
                current = urljoin(current, location)
                try:
                    new_origin, path = parse_url(current)
                except ContractFetchError as exc:
                    raise ContractFetchError(
                        f"{shown}: HTTP {status} redirect refused: {exc.message}"
                    ) from None
                if new_origin != origin:
                    raise ContractFetchError(
                        f"{shown}: HTTP {status} redirect to another origin"
                        f" ({display_url(current)}) refused: only same-origin redirects are"
                        " followed"
                    )
                continue
            if status != 200:
                raise ContractFetchError(f"{shown}: HTTP {status} (expected 200)")
            return current, _read_body(response, budget, shown)
    raise ContractFetchError(f"{display_url(url)}: more than {MAX_REDIRECTS} redirects")


def _read_body(response: httpcore.Response, budget: _Budget, shown: str) -> bytes:
    length = _header(response.headers, b"content-length")
    if length is not None and length.isdigit() and int(length) > MAX_DOCUMENT_BYTES:
        raise ContractFetchError(
            f"{shown}: the document is larger than {MAX_DOCUMENT_BYTES:,} bytes (Content-Length)"
        )
    encoding = (_header(response.headers, b"content-encoding") or "identity").lower()
    encoding = {"x-gzip": "gzip", "": "identity"}.get(encoding, encoding)
    if encoding not in ("identity", "gzip", "deflate"):
        raise ContractFetchError(
            f"{shown}: unsupported Content-Encoding (only one of gzip, deflate or none)"
        )
    decoder = _BoundedDecoder(encoding, MAX_DOCUMENT_BYTES, shown)
    body = bytearray()
    for chunk in response.iter_stream():
        body += decoder.feed(chunk)
        if budget.left() <= 0:
            raise httpcore.ReadTimeout("the deadline passed")
    decoder.finish()
    return bytes(body)


def fetch_document(
    url: str,
    *,
    deadline: float = 30.0,
    timeout: float | None = None,
    clock: Callable[[], float] = time.monotonic,
    name: str = "contract",
    _budget: _Budget | None = None,
    _pool: httpcore.ConnectionPool | None = None,
) -> Fetched:
    """Download and parse one contract document from ``url`` (see the module docstring).

    ``deadline`` bounds the whole download; ``timeout`` (default: the deadline) bounds each
    network operation within it.

    Raises:
        ContractFetchError: on a refused URL, a network or HTTP failure, a body too large or
            too slow, or a body that is not a JSON OpenAPI 3 document.
    """
    budget = _budget or _Budget(deadline, clock)
    per_phase = timeout if timeout is not None else deadline
    pool = _pool or _new_pool(budget)
    shown = display_url(url)
    try:
        served, data = _download(pool, url, budget, per_phase)
    except httpcore.TimeoutException:
        if budget.left() <= 0:
            raise ContractFetchError(
                f"{shown}: the fetch did not finish within {budget.seconds:g}s"
            ) from None
        raise ContractFetchError(f"{shown}: timed out after {per_phase:g}s") from None
    except (httpcore.NetworkError, httpcore.ProtocolError, httpcore.UnsupportedProtocol,
            OSError) as exc:  # fmt: skip
        raise ContractFetchError(
            f"{shown}: request failed ({type(exc).__name__}: "
            f"{escape_untrusted(str(exc), max_length=MAX_SHOWN) or 'no details'})"
        ) from None
    finally:
        if _pool is None:
            pool.close()
    document = parse_document(served, data)
    return Fetched(
        name=name,
        url=url,
        served_url=served,
        document=document,
        data=normalise_document(document),
    )


def _new_pool(budget: _Budget) -> httpcore.ConnectionPool:
    return httpcore.ConnectionPool(
        ssl_context=httpx.create_ssl_context(),
        max_connections=1,
        retries=0,
        network_backend=_BoundedBackend(budget),
    )


def fetch_contracts(
    base_url: str,
    *,
    deadline: float = 30.0,
    timeout: float | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> list[Fetched]:
    """Download every contract of :data:`CONTRACT_PATHS` from ``base_url`` within one deadline.

    Raises:
        ContractFetchError: as :func:`fetch_document`, for the first contract that fails.
    """
    base = check_base_url(base_url)
    budget = _Budget(deadline, clock)
    pool = _new_pool(budget)
    try:
        return [
            fetch_document(
                base + path,
                timeout=timeout,
                deadline=deadline,
                name=name,
                _budget=budget,
                _pool=pool,
            )
            for name, path in CONTRACT_PATHS.items()
        ]
    finally:
        pool.close()
