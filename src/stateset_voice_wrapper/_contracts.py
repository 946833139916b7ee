"""Fetch, validate and pin the StateSet Voice OpenAPI contracts.

The generated clients under ``generated/`` are built from the OpenAPI documents pinned in
``api-contracts/``. This module downloads those documents from a running StateSet Voice
deployment, validates them, and writes them in a deterministic form together with a lock file
(``contracts.lock.json``) recording where each came from and its SHA-256.

Determinism matters because CI re-fetches the contracts and then runs ``git diff``: fetching
identical contracts must not change a single byte on disk. Therefore:

* documents are serialised with ``json.dumps(doc, indent=2, ensure_ascii=False) + "\\n"`` and the
  server's key order is kept (the code generator follows key order, so sorting keys would
  reorder generated code);
* a lock entry whose SHA-256 is unchanged is kept as is, including its ``fetched_at``;
* files are only rewritten when their bytes change, and always atomically.

Runtime dependencies: the standard library and httpx. ``openapi-spec-validator`` is used when it
is importable; otherwise only structural checks are made.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

import httpx

from ._shared.errors import StateSetVoiceError
from ._version import __version__

_spec_validate: Callable[[Mapping[str, Any]], None] | None
try:
    from openapi_spec_validator import validate as _imported_validate
except ImportError:  # pragma: no cover - depends on the environment
    _spec_validate = None
else:
    _spec_validate = _imported_validate

__all__ = [
    "CONTRACTS",
    "DEFAULT_BASE_URL",
    "ENV_BASE_URL",
    "LOCK_FILE_NAME",
    "Contract",
    "ContractFetchError",
    "ContractResult",
    "FetchResult",
    "check_contracts",
    "fetch_contracts",
    "normalise_document",
    "resolve_base_url",
    "sha256_file",
]

DEFAULT_BASE_URL: Final = "https://voice.stateset.app"
"""Deployment the contracts are fetched from when neither an argument nor the env var is set."""

ENV_BASE_URL: Final = "STATESET_VOICE_CONTRACTS_URL"
"""Environment variable overriding :data:`DEFAULT_BASE_URL`."""

LOCK_FILE_NAME: Final = "contracts.lock.json"
"""Name of the lock file written next to the contracts."""

_LOCK_VERSION: Final = 1
_MAX_DETAIL: Final = 300


@dataclass(frozen=True, slots=True)
class Contract:
    """One OpenAPI contract: its short name, URL path on the server and pinned file name."""

    name: str
    url_path: str
    file_name: str


CONTRACTS: Final[tuple[Contract, ...]] = (
    Contract("public", "/api-docs/public.json", "stateset-voice-public.json"),
    Contract("admin", "/api-docs/admin.json", "stateset-voice-admin.json"),
)
"""The contracts this project pins, in generation order."""


class ContractFetchError(StateSetVoiceError):
    """A contract could not be downloaded, was not JSON, or was not a valid OpenAPI document.

    The message always names the URL and what was wrong with it.
    """


@dataclass(frozen=True, slots=True)
class ContractResult:
    """Outcome of fetching one contract."""

    name: str
    url: str
    path: Path
    sha256: str
    status: Literal["updated", "unchanged"]
    """``unchanged`` when neither the pinned file nor its lock entry changed."""


@dataclass(frozen=True, slots=True)
class FetchResult:
    """Outcome of :func:`fetch_contracts`."""

    contracts: tuple[ContractResult, ...]
    lock_path: Path
    lock_changed: bool

    @property
    def changed(self) -> bool:
        """True when any file on disk was written."""
        return self.lock_changed or any(c.status == "updated" for c in self.contracts)


@dataclass(frozen=True, slots=True)
class _Fetched:
    contract: Contract
    url: str
    data: bytes


def resolve_base_url(base_url: str | None = None) -> str:
    """Return the base URL to fetch from: the argument, else the env var, else the default.

    A trailing slash is removed so that contract paths can be appended directly.
    """
    chosen = base_url or os.environ.get(ENV_BASE_URL) or DEFAULT_BASE_URL
    return chosen.rstrip("/")


def sha256_file(path: str | os.PathLike[str]) -> str:
    """Return the hex SHA-256 digest of the file at ``path``."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 16), b""):
            digest.update(chunk)
    return digest.hexdigest()


def normalise_document(doc: Mapping[str, Any]) -> bytes:
    """Serialise an OpenAPI document deterministically, keeping its key order."""
    return (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def _shorten(text: str) -> str:
    text = " ".join(text.strip().splitlines()[:1]) if text.strip() else ""
    return text if len(text) <= _MAX_DETAIL else text[: _MAX_DETAIL - 3] + "..."


def _reject_constant(name: str) -> Any:
    raise ValueError(f"non-standard JSON constant {name}")


def _parse_json(url: str, response: httpx.Response) -> Any:
    content_type = response.headers.get("content-type", "unknown")
    try:
        return json.loads(response.content, parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        snippet = _shorten(response.content[:200].decode("utf-8", errors="replace"))
        raise ContractFetchError(
            f"{url}: response is not JSON (content-type {content_type}): {exc}; "
            f"body starts with {snippet!r}"
        ) from None


def _validator_message(exc: Exception) -> str:
    message = getattr(exc, "message", None)
    if isinstance(message, str) and message:
        json_path = getattr(exc, "json_path", None)
        if isinstance(json_path, str) and json_path not in ("", "$"):
            return f"{_shorten(message)} (at {json_path})"
        return _shorten(message)
    ref = getattr(exc, "ref", None)
    if isinstance(ref, str):
        return f"unresolvable reference {ref!r}"
    return _shorten(str(exc)) or type(exc).__name__


def _validate_document(url: str, doc: Any) -> dict[str, Any]:
    """Check that ``doc`` is an OpenAPI 3.x document; raise ContractFetchError otherwise."""
    if not isinstance(doc, dict):
        raise ContractFetchError(
            f"{url}: not an OpenAPI document: expected a JSON object, got {type(doc).__name__}"
        )
    version = doc.get("openapi")
    if not isinstance(version, str):
        raise ContractFetchError(
            f"{url}: not an OpenAPI document: missing string field 'openapi'"
            + (" (this looks like Swagger 2.0)" if "swagger" in doc else "")
        )
    if not version.startswith("3."):
        raise ContractFetchError(f"{url}: unsupported OpenAPI version {version!r}: expected 3.x")
    for field in ("info", "paths"):
        if not isinstance(doc.get(field), dict):
            raise ContractFetchError(
                f"{url}: invalid OpenAPI document: missing or non-object field {field!r}"
            )
    if _spec_validate is not None:
        try:
            _spec_validate(doc)
        except Exception as exc:  # the validator raises several unrelated exception types
            raise ContractFetchError(
                f"{url}: invalid OpenAPI {version} document: {_validator_message(exc)}"
            ) from None
    return doc


def _download(client: httpx.Client, contract: Contract, base_url: str) -> _Fetched:
    url = base_url + contract.url_path
    try:
        response = client.get(url, headers={"Accept": "application/json"})
    except httpx.HTTPError as exc:
        detail = _shorten(str(exc)) or "no details"
        raise ContractFetchError(
            f"{url}: request failed ({type(exc).__name__}: {detail})"
        ) from None
    if response.status_code != 200:
        reason = response.reason_phrase or ""
        raise ContractFetchError(
            f"{url}: HTTP {response.status_code} {reason}".rstrip() + " (expected 200)"
        )
    doc = _validate_document(url, _parse_json(url, response))
    return _Fetched(contract=contract, url=url, data=normalise_document(doc))


def _download_all(
    *, base_url: str | None, timeout: float, client: httpx.Client | None
) -> list[_Fetched]:
    resolved = resolve_base_url(base_url)
    if client is not None:
        return [_download(client, c, resolved) for c in CONTRACTS]
    with httpx.Client(
        timeout=timeout,
        follow_redirects=True,
        headers={"User-Agent": f"stateset-voice-contracts/{__version__}"},
    ) as own_client:
        return [_download(own_client, c, resolved) for c in CONTRACTS]


def _read_bytes(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def _atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file in the same directory and os.replace."""
    try:
        mode = path.stat().st_mode & 0o777
    except FileNotFoundError:
        mode = 0o644
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp_name, mode)
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise


def _load_lock_entries(lock_path: Path) -> dict[str, Any]:
    """Return the existing lock's per-contract entries; a missing or unreadable lock is empty."""
    raw = _read_bytes(lock_path)
    if raw is None:
        return {}
    try:
        lock = json.loads(raw)
    except ValueError:
        return {}
    if not isinstance(lock, dict) or not isinstance(lock.get("contracts"), dict):
        return {}
    return dict(lock["contracts"])


def _serialise_lock(entries: Mapping[str, Any]) -> bytes:
    lock = {"lock_version": _LOCK_VERSION, "contracts": dict(entries)}
    return (json.dumps(lock, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def _utc_now() -> str:
    return _dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def fetch_contracts(
    *,
    base_url: str | None = None,
    out_dir: str | os.PathLike[str],
    timeout: float = 30.0,
    client: httpx.Client | None = None,
) -> FetchResult:
    """Download, validate and pin every contract in :data:`CONTRACTS` under ``out_dir``.

    Args:
        base_url: Deployment to fetch from; defaults to ``$STATESET_VOICE_CONTRACTS_URL``,
            then :data:`DEFAULT_BASE_URL`.
        out_dir: Directory holding the pinned contracts and ``contracts.lock.json``.
        timeout: Per-request timeout in seconds (ignored when ``client`` is given).
        client: Optional httpx client to use instead of a fresh one; it is not closed.

    All contracts are downloaded and validated before anything is written, so a failure leaves
    ``out_dir`` untouched. Files whose bytes do not change are not rewritten, and lock entries
    whose SHA-256 is unchanged are kept (with their original ``fetched_at``).

    Raises:
        ContractFetchError: on network or HTTP errors, non-JSON bodies or invalid documents.
    """
    fetched = _download_all(base_url=base_url, timeout=timeout, client=client)

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    lock_path = out / LOCK_FILE_NAME
    old_entries = _load_lock_entries(lock_path)
    new_entries: dict[str, Any] = {}
    results: list[ContractResult] = []
    fetched_at = _utc_now()

    for item in fetched:
        name = item.contract.name
        path = out / item.contract.file_name
        digest = hashlib.sha256(item.data).hexdigest()
        file_changed = _read_bytes(path) != item.data
        if file_changed:
            _atomic_write(path, item.data)
        old_entry = old_entries.get(name)
        if isinstance(old_entry, dict) and old_entry.get("sha256") == digest:
            new_entries[name] = old_entry
            entry_changed = False
        else:
            new_entries[name] = {
                "fetched_at": fetched_at,
                "file": item.contract.file_name,
                "sha256": digest,
                "source_url": item.url,
            }
            entry_changed = True
        status: Literal["updated", "unchanged"] = (
            "updated" if file_changed or entry_changed else "unchanged"
        )
        results.append(
            ContractResult(name=name, url=item.url, path=path, sha256=digest, status=status)
        )

    lock_bytes = _serialise_lock(new_entries)
    lock_changed = _read_bytes(lock_path) != lock_bytes
    if lock_changed:
        _atomic_write(lock_path, lock_bytes)
    return FetchResult(contracts=tuple(results), lock_path=lock_path, lock_changed=lock_changed)


def check_contracts(
    *,
    base_url: str | None = None,
    out_dir: str | os.PathLike[str],
    timeout: float = 30.0,
    client: httpx.Client | None = None,
) -> list[str]:
    """Fetch and validate the live contracts without writing anything.

    Returns the names of the contracts whose normalised bytes differ from the pinned files in
    ``out_dir`` (a missing file counts as different); an empty list means in sync.

    Raises:
        ContractFetchError: on network or HTTP errors, non-JSON bodies or invalid documents.
    """
    fetched = _download_all(base_url=base_url, timeout=timeout, client=client)
    out = Path(out_dir)
    return [
        item.contract.name
        for item in fetched
        if _read_bytes(out / item.contract.file_name) != item.data
    ]
