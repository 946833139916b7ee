"""The contract pipeline against a hostile contract server on loopback.

Each test is one finding of the security review: references that reach outside the document,
messages that echo the document, unbounded bodies, no total deadline, deep nesting, redirects
anywhere, plain http, credentials in URLs, and raw exceptions for malformed hosts and ports.
The servers are raw sockets (one thread each), so every byte and its timing is the test's.
"""

from __future__ import annotations

import contextlib
import copy
import gzip
import json
import socket
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpcore
import pytest
from contract_pipeline import (
    REFUSING_HANDLERS,
    ContractFetchError,
    check_references,
    fetch_contracts,
    resolve_base_url,
    validate_document,
)

from stateset_voice_wrapper.cli import _fetch
from stateset_voice_wrapper.cli._fetch import (
    MAX_DOCUMENT_BYTES,
    check_base_url,
    fetch_document,
    parse_document,
)

REPO = Path(__file__).resolve().parents[1]
CONTROL = ("\x1b", "\r", "\x9b", "\u202e")

VALID: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "t", "version": "1"},
    "paths": {
        "/x": {
            "get": {
                "operationId": "getX",
                "responses": {
                    "200": {
                        "description": "ok",
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/X"}}
                        },
                    }
                },
            }
        }
    },
    "components": {"schemas": {"X": {"type": "object"}}},
}

Handler = Callable[[socket.socket, bytes], None]


class RawServer:
    """A loopback server that hands each connection's request to ``handler`` on a thread and
    counts the requests per path."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.paths: list[str] = []
        self.release = threading.Event()
        self.sent = 0
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._sock.getsockname()[1])
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def _one(self, conn: socket.socket) -> None:
        with conn:
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                data += chunk
            self.paths.append(data.split(b" ", 2)[1].decode())
            # OSError: the client hung up, as it should on a hostile body.
            with contextlib.suppress(OSError):
                self.handler(conn, data)

    def send(self, conn: socket.socket, data: bytes) -> None:
        conn.sendall(data)
        self.sent += len(data)

    def close(self) -> None:
        self.release.set()
        self._sock.close()


@pytest.fixture
def server_factory() -> Iterator[Callable[[Handler], RawServer]]:
    servers: list[RawServer] = []

    def make(handler: Handler) -> RawServer:
        server = RawServer(handler)
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.close()


def respond(status: int = 200, body: bytes = b"", headers: dict[str, str] | None = None) -> bytes:
    head = [f"HTTP/1.1 {status} X", f"Content-Length: {len(body)}", "Connection: close"]
    head += [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def serving(doc: dict[str, Any] | bytes, **headers: str) -> Handler:
    body = doc if isinstance(doc, bytes) else json.dumps(doc).encode()

    def handler(conn: socket.socket, request: bytes) -> None:
        conn.sendall(respond(body=body, headers=headers))

    return handler


def assert_clean(message: str) -> None:
    assert "Traceback" not in message
    for char in CONTROL:
        assert char not in message


# -- references ---------------------------------------------------------------------------------


def with_schema(schema: dict[str, Any]) -> dict[str, Any]:
    doc = copy.deepcopy(VALID)
    doc["components"]["schemas"]["X"] = schema
    return doc


def test_a_file_reference_is_refused_and_the_file_is_never_read(tmp_path: Path) -> None:
    secret = tmp_path / "id_ed25519"
    secret.write_text("-----BEGIN OPENSSH PRIVATE KEY----- SECRET-KEY-MATERIAL\n")
    doc = with_schema({"$ref": secret.as_uri()})
    with pytest.raises(ContractFetchError) as excinfo:
        validate_document("https://contracts.example/public.json", doc)
    message = str(excinfo.value)
    assert "SECRET" not in message
    assert "BEGIN" not in message
    assert str(secret) not in message  # the reference itself is document content
    assert "$.components.schemas.X.$ref" in message
    assert "only local references" in message


@pytest.mark.parametrize(
    "schema",
    [
        {"$ref": "REMOTE/evil.json"},
        {"$ref": "evil.json#/X"},  # relative: resolved against the document's URL
        {"$dynamicRef": "REMOTE/evil.json#meta"},
        {"$id": "REMOTE/base.json", "properties": {"a": {"$ref": "#/nowhere"}}},
        {"$schema": "REMOTE/dialect.json"},
    ],
)
def test_remote_references_are_refused_before_anything_is_fetched(
    server_factory: Callable[[Handler], RawServer], schema: dict[str, Any]
) -> None:
    evil = server_factory(serving({"type": "object"}))
    doc = json.loads(json.dumps(with_schema(schema)).replace("REMOTE", evil.base_url))
    with pytest.raises(ContractFetchError) as excinfo:
        validate_document("https://contracts.example/public.json", doc)
    assert evil.base_url not in str(excinfo.value)
    assert evil.paths == []


def test_the_validator_itself_resolves_nothing_outside_the_document(
    server_factory: Callable[[Handler], RawServer], tmp_path: Path
) -> None:
    """Even for a document the reference check never saw, the resolver table refuses every
    scheme: http, https, file and ones the library would otherwise hand to urlopen."""
    from jsonschema_path import SchemaPath
    from openapi_spec_validator.shortcuts import get_validator_cls

    evil = server_factory(serving({"type": "object"}))
    secret = tmp_path / "secret.json"
    secret.write_text('{"type": "object"}')
    for ref in (f"{evil.base_url}/x.json", secret.as_uri(), "ftp://127.0.0.1/x.json", "x.json"):
        doc = with_schema({"$ref": ref})
        validator = get_validator_cls(doc)(SchemaPath.from_dict(doc, handlers=REFUSING_HANDLERS))
        with pytest.raises(Exception) as excinfo:  # noqa: PT011 - whichever the library raises
            validator.validate()
        assert "Unresolvable" in type(excinfo.value).__name__ or "resolv" in str(excinfo.value)
    assert evil.paths == []
    assert "anything" in REFUSING_HANDLERS  # every scheme has an entry, each refusing


def test_references_inside_the_document_still_validate() -> None:
    assert validate_document("https://c.example/p.json", copy.deepcopy(VALID)) == VALID
    for name in ("stateset-voice-public.json", "stateset-voice-admin.json"):
        doc = json.loads((REPO / "api-contracts" / name).read_text(encoding="utf-8"))
        check_references("https://c.example/p.json", doc)


def test_a_remote_reference_is_never_fetched_nor_pinned(
    server_factory: Callable[[Handler], RawServer], tmp_path: Path
) -> None:
    evil = server_factory(serving({"type": "string", "description": "injected"}))
    doc = with_schema({"$ref": f"{evil.base_url}/evil.json"})
    contracts = server_factory(serving(doc))
    with pytest.raises(ContractFetchError, match="only local references"):
        fetch_contracts(base_url=contracts.base_url, out_dir=tmp_path / "out")
    assert evil.paths == []
    assert not (tmp_path / "out").exists()


def test_validation_messages_say_where_and_which_rule_never_the_value() -> None:
    doc = copy.deepcopy(VALID)
    doc["info"]["title"] = ["\x1b[2J\x1b[HMARKER\r\nforged line \u202e"]
    with pytest.raises(ContractFetchError) as excinfo:
        validate_document("https://c.example/p.json", doc)
    message = str(excinfo.value)
    assert "$.info.title" in message
    assert "'type' rule" in message
    assert "MARKER" not in message
    assert_clean(message)


def test_a_hostile_key_in_the_json_path_is_escaped() -> None:
    doc = copy.deepcopy(VALID)
    doc["paths"]["/y\x1b[2J\u202e"] = {"get": {"responses": {"200": {"$ref": "http://x/y"}}}}
    with pytest.raises(ContractFetchError) as excinfo:
        check_references("https://c.example/p.json", doc)
    assert_clean(str(excinfo.value))
    assert '$.paths["/y\\u001b[2J\\u202e"]' in str(excinfo.value)


# -- size ---------------------------------------------------------------------------------------


def test_an_endless_body_is_cut_off_after_the_cap(
    server_factory: Callable[[Handler], RawServer],
) -> None:
    def endless(conn: socket.socket, request: bytes) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")
        chunk = b" " * 65536
        while server.sent < 4 * MAX_DOCUMENT_BYTES:
            server.send(conn, chunk)

    server = server_factory(endless)
    with pytest.raises(ContractFetchError, match="larger than 8,388,608 bytes"):
        fetch_document(f"{server.base_url}/api-docs/public.json")
    # Refused while streaming: far less than the 32 MiB the server would send.
    assert server.sent < 2 * MAX_DOCUMENT_BYTES + 8 * 1024 * 1024


def test_a_huge_content_length_is_refused_before_reading(
    server_factory: Callable[[Handler], RawServer],
) -> None:
    def liar(conn: socket.socket, request: bytes) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2147483648\r\n\r\n{")
        server.release.wait(30)

    server = server_factory(liar)
    with pytest.raises(ContractFetchError, match=r"larger than .* \(Content-Length\)"):
        fetch_document(f"{server.base_url}/p.json", deadline=10.0)


def gzip_bomb(decoded_mib: int) -> bytes:
    """Concatenated gzip members of zeros: ``decoded_mib`` MiB from a few hundred KB."""
    member = gzip.compress(bytes(64 * 1024 * 1024), compresslevel=9)
    return member * (decoded_mib // 64)


@pytest.mark.parametrize("encoding", ["gzip", "x-gzip"])
def test_a_gzip_bomb_is_caught_once_decoded(
    server_factory: Callable[[Handler], RawServer], encoding: str
) -> None:
    bomb = gzip_bomb(1024)  # 1 GiB decoded
    assert len(bomb) < 2 * 1024 * 1024
    server = server_factory(serving(bomb, **{"Content-Encoding": encoding}))
    with pytest.raises(ContractFetchError, match="larger than 8,388,608 bytes once decoded"):
        fetch_document(f"{server.base_url}/p.json")


def test_a_deflate_bomb_and_stacked_encodings_are_refused(
    server_factory: Callable[[Handler], RawServer],
) -> None:
    deflated = zlib.compress(bytes(64 * 1024 * 1024), 9)
    server = server_factory(serving(deflated, **{"Content-Encoding": "deflate"}))
    with pytest.raises(ContractFetchError, match="once decoded"):
        fetch_document(f"{server.base_url}/p.json")
    stacked = gzip.compress(gzip.compress(bytes(1024 * 1024)))
    server = server_factory(serving(stacked, **{"Content-Encoding": "gzip, gzip"}))
    with pytest.raises(ContractFetchError, match="unsupported Content-Encoding"):
        fetch_document(f"{server.base_url}/p.json")


def test_a_gzip_encoded_document_is_read(server_factory: Callable[[Handler], RawServer]) -> None:
    body = gzip.compress(json.dumps(VALID).encode())
    server = server_factory(serving(body, **{"Content-Encoding": "gzip"}))
    assert fetch_document(f"{server.base_url}/p.json").document == VALID


# -- time ---------------------------------------------------------------------------------------


class SteppingClock:
    """Each reading is ``step`` seconds after the last: time passes only when looked at."""

    def __init__(self, step: float) -> None:
        self.now = 0.0
        self.step = step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


def test_a_trickling_body_cannot_outlast_the_deadline(
    server_factory: Callable[[Handler], RawServer],
) -> None:
    body = json.dumps(VALID).encode()

    def trickle(conn: socket.socket, request: bytes) -> None:
        conn.sendall(f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\n\r\n".encode())
        for byte in body:
            server.send(conn, bytes([byte]))
            server.release.wait(0.002)  # one byte at a time, each its own read

    server = server_factory(trickle)
    clock = SteppingClock(1.0)
    with pytest.raises(ContractFetchError, match=r"did not finish within 20s"):
        fetch_document(f"{server.base_url}/p.json", deadline=20.0, timeout=5.0, clock=clock)
    assert clock.now < 40  # a few dozen readings of the clock, not one per byte of the body
    assert server.sent < len(body)


def test_every_network_wait_is_bounded_by_the_time_left() -> None:
    """The deadline, not the per-phase timeout, bounds a read once it is the nearer."""

    class Recording(httpcore.NetworkStream):
        def __init__(self) -> None:
            self.timeouts: list[float | None] = []

        def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
            self.timeouts.append(timeout)
            return b"x"

        def write(self, buffer: bytes, timeout: float | None = None) -> None:
            self.timeouts.append(timeout)

    times = iter([0.0, 1.0, 7.5, 9.0, 10.0])
    budget = _fetch._Budget(10.0, lambda: next(times))
    inner = Recording()
    stream = _fetch._BoundedStream(inner, budget)
    stream.write(b"GET", timeout=5.0)  # 9 s left: the phase timeout is nearer
    stream.read(10, timeout=5.0)  # 2.5 s left
    stream.read(10, timeout=None)  # 1 s left
    with pytest.raises(httpcore.ReadTimeout):
        stream.read(10, timeout=5.0)  # none left: refused without waiting
    assert inner.timeouts == [5.0, 2.5, 1.0]


def test_a_stalled_server_is_given_up_on_at_the_deadline(
    server_factory: Callable[[Handler], RawServer],
) -> None:
    def stall(conn: socket.socket, request: bytes) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{")
        server.release.wait(30)

    server = server_factory(stall)
    real_clock = time.monotonic
    started = real_clock()
    with pytest.raises(ContractFetchError, match=r"did not finish within 0\.3s"):
        fetch_document(f"{server.base_url}/p.json", deadline=0.3, timeout=30.0)
    assert real_clock() - started < 5.0  # bounded by the deadline, not the 30 s timeout


# -- the body as JSON ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b'{"a":' * 70 + b"1" + b"}" * 70, "nested deeper than 64 levels"),
        (b'{"openapi": "3.1.0", "n": ' + b"9" * 5000 + b"}", "Exceeds the limit"),
        (b'{"openapi": "3.1.0", "n": 1e999}', "too large for a float"),
        (b'{"openapi": NaN}', "non-standard constant NaN"),
        (b'{"openapi": "3.1.0", "openapi": "3.0.0"}', "the same key twice"),
        (b"\xff\xfe{}", "not UTF-8"),
    ],
)
def test_hostile_json_is_a_typed_error(body: bytes, expected: str) -> None:
    with pytest.raises(ContractFetchError, match=expected) as excinfo:
        parse_document("https://c.example/p.json", body)
    assert_clean(str(excinfo.value))


def test_a_non_json_body_is_not_echoed(server_factory: Callable[[Handler], RawServer]) -> None:
    page = b"<html>\x1b[2J\x1b[Hsign in SECRET-SESSION \xe2\x80\xae</html>"
    server = server_factory(serving(page, **{"Content-Type": "text/html"}))
    with pytest.raises(ContractFetchError, match="not JSON") as excinfo:
        fetch_document(f"{server.base_url}/p.json")
    assert "SECRET" not in str(excinfo.value)
    assert_clean(str(excinfo.value))


# -- redirects ----------------------------------------------------------------------------------


def redirect_to(location: str, then: bytes | None = None) -> Handler:
    def handler(conn: socket.socket, request: bytes) -> None:
        if b" /moved/" in request and then is not None:
            conn.sendall(respond(body=then))
        else:
            conn.sendall(respond(302, headers={"Location": location}))

    return handler


def test_a_same_origin_redirect_is_followed_and_the_lock_records_who_served(
    server_factory: Callable[[Handler], RawServer], tmp_path: Path
) -> None:
    server = server_factory(redirect_to("/moved/doc.json", then=json.dumps(VALID).encode()))
    result = fetch_contracts(base_url=server.base_url, out_dir=tmp_path)
    lock = json.loads((tmp_path / "contracts.lock.json").read_text())
    assert lock["contracts"]["public"]["source_url"] == f"{server.base_url}/moved/doc.json"
    assert result.contracts[0].url == f"{server.base_url}/moved/doc.json"


@pytest.mark.parametrize(
    "location",
    [
        "http://localhost:{port}/moved/doc.json",  # same machine, another origin
        "http://127.0.0.1:{other}/moved/doc.json",  # another port
        "https://127.0.0.1:{port}/moved/doc.json",  # another scheme
        "http://evil.example/doc.json",  # plain http elsewhere
        "https://user:pw@127.0.0.1:{port}/x",  # credentials
    ],
)
def test_redirects_off_the_origin_are_refused(
    server_factory: Callable[[Handler], RawServer], location: str, tmp_path: Path
) -> None:
    other = server_factory(serving(VALID))
    server = server_factory(lambda conn, request: None)
    target = location.format(port=server.port, other=other.port)
    server.handler = redirect_to(target, then=json.dumps(VALID).encode())
    with pytest.raises(ContractFetchError, match="redirect") as excinfo:
        fetch_contracts(base_url=server.base_url, out_dir=tmp_path / "out")
    assert "pw" not in str(excinfo.value)
    assert other.paths == []
    assert not (tmp_path / "out").exists()


def test_a_redirect_loop_ends(server_factory: Callable[[Handler], RawServer]) -> None:
    server = server_factory(redirect_to("/again"))
    with pytest.raises(ContractFetchError, match="more than 3 redirects"):
        fetch_document(f"{server.base_url}/p.json")
    assert len(server.paths) == 4


# -- where contracts may come from --------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://voice.example.com", "only fetched over https"),
        ("http://localhost.evil.example", "only fetched over https"),
        ("http://127.1", "dotted-quad"),
        ("http://0x7f000001", "dotted-quad"),
        ("http://2130706433", "dotted-quad"),
        ("http://[::ffff:127.0.0.1]", "only fetched over https"),
        ("http://１２７.０.０.１", "printable ASCII"),
        ("https://xn--a.example", "xn--"),
        ("https://voice.example.com:99999", "not a valid URL"),
        ("https://voice.example.com:0", "port 0"),
        ("https://[::1", "not a valid URL"),
        ("https://exa_mple.com", "not a valid host name"),
        ("ftp://voice.example.com", "scheme must be https"),
        ("voice.stateset.app", "needs a scheme"),
        ("https://voice.example.com/?a=1", "no query or fragment"),
        ("https://voice.example.com/\x1b[2J", "printable ASCII"),
    ],
)
def test_unsafe_or_malformed_base_urls_are_typed_errors(url: str, expected: str) -> None:
    with pytest.raises(ContractFetchError, match=expected) as excinfo:
        check_base_url(url)
    assert_clean(str(excinfo.value))


@pytest.mark.parametrize(
    "url",
    ["http://localhost:8910", "http://127.0.0.1:1", "http://127.255.0.9", "http://[::1]:8080"],
)
def test_loopback_may_use_plain_http(url: str) -> None:
    assert check_base_url(url + "/") == url


def test_credentials_in_the_base_url_are_refused_and_never_shown(tmp_path: Path) -> None:
    url = "https://ci-bot:hunter2-SECRET@voice.example.com"
    with pytest.raises(ContractFetchError) as excinfo:
        resolve_base_url(url)
    assert "hunter2" not in str(excinfo.value)
    assert "ci-bot" not in str(excinfo.value)
    assert "user name or password" in str(excinfo.value)
    done = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "fetch-contracts"), "--base-url", url,
         "--out-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert "hunter2" not in done.stderr + done.stdout
    assert "Traceback" not in done.stderr
    assert not list(tmp_path.iterdir())  # no lock file with the password in it
