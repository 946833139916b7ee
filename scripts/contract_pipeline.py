"""Fetch, validate and pin the StateSet Voice OpenAPI contracts (maintainer tooling).

``scripts/fetch-contracts`` is the command line; the tests import this module. It is not part
of the installed package: the package ships only the pinned copies (``stateset_voice_facts``)
and, for ``stateset-voice contracts check``, the hardened download it shares with this module
(``stateset_voice_wrapper.cli._fetch``: URL policy, same-origin redirects, size cap, one
deadline, strict JSON).

On top of the download this module:

* refuses any reference that is not local (``$ref``, ``$dynamicRef``, ``operationRef`` not
  starting with ``#``), any ``$id``, and any ``$schema`` / ``jsonSchemaDialect`` other than the
  dialects the validator ships, *before* validating;
* validates with openapi-spec-validator through resolver handlers that refuse every scheme, so
  the validator can read nothing but the document (no ``file:``, no ``http(s):``);
* reports a validation failure by where (the JSON path) and which rule, never by echoing the
  document;
* writes the documents deterministically with a lock file (``contracts.lock.json``) recording
  the URL that served each one, its SHA-256 and when it was fetched.

Determinism matters because CI re-fetches the contracts and then runs ``git diff``: fetching
identical contracts must not change a single byte on disk. A lock entry whose SHA-256 is
unchanged is kept as is (with its ``fetched_at``); files are only rewritten when their bytes
change, and always atomically.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal, NoReturn

from stateset_voice_wrapper._shared.untrusted import escape_untrusted
from stateset_voice_wrapper.cli._fetch import (
    CONTRACT_PATHS,
    DEFAULT_CONTRACTS_URL,
    ENV_CONTRACTS_URL,
    ContractFetchError,
    Fetched,
    check_base_url,
    display_url,
)
from stateset_voice_wrapper.cli._fetch import (
    fetch_contracts as download_contracts,
)

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
    "check_references",
    "fetch_contracts",
    "resolve_base_url",
    "sha256_file",
    "validate_document",
]

DEFAULT_BASE_URL: Final = DEFAULT_CONTRACTS_URL
ENV_BASE_URL: Final = ENV_CONTRACTS_URL
LOCK_FILE_NAME: Final = "contracts.lock.json"
_LOCK_VERSION: Final = 1
_MAX_PATH: Final = 160

#: ``$schema`` / ``jsonSchemaDialect`` values accepted: the dialects openapi-spec-validator
#: ships, so naming one never makes it look anything up.
KNOWN_DIALECTS: Final = frozenset(
    {
        "https://json-schema.org/draft/2020-12/schema",
        "https://spec.openapis.org/oas/3.1/dialect/base",
        "https://spec.openapis.org/oas/3.1/dialect/2024-11-10",
    }
)


@dataclass(frozen=True, slots=True)
class Contract:
    """One OpenAPI contract: its short name, URL path on the server and pinned file name."""

    name: str
    url_path: str
    file_name: str


CONTRACTS: Final[tuple[Contract, ...]] = tuple(
    Contract(name, path, f"stateset-voice-{name}.json") for name, path in CONTRACT_PATHS.items()
)
"""The contracts this project pins, in generation order."""


@dataclass(frozen=True, slots=True)
class ContractResult:
    """Outcome of fetching one contract."""

    name: str
    url: str
    """The URL that served the document."""
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


def resolve_base_url(base_url: str | None = None) -> str:
    """The deployment to fetch from: the argument, else ``$STATESET_VOICE_CONTRACTS_URL``, else
    production; checked against the URL policy and without a trailing slash.

    Raises:
        ContractFetchError: for a URL the policy refuses (plain http to a remote host,
            credentials in the URL, a malformed host or port, ...).
    """
    chosen = base_url or os.environ.get(ENV_BASE_URL) or DEFAULT_BASE_URL
    return check_base_url(chosen)


def sha256_file(path: str | os.PathLike[str]) -> str:
    """Return the hex SHA-256 digest of the file at ``path``."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 16), b""):
            digest.update(chunk)
    return digest.hexdigest()


# -- references -----------------------------------------------------------------------------------

_IDENTIFIER = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*\Z")


def json_path(parts: tuple[str | int, ...]) -> str:
    """``$.paths["/x"].get`` for a location in a document, escaped and shortened."""
    text = "$"
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        elif _IDENTIFIER.match(part):
            text += f".{part}"
        else:
            text += f"[{json.dumps(part)}]"  # ensure_ascii: controls and non-ASCII as \\u
    return escape_untrusted(text, max_length=_MAX_PATH)


def _walk(doc: Any) -> Iterator[tuple[tuple[str | int, ...], str, Any]]:
    """Every (location of the object, key, value) in ``doc``, without recursion."""
    stack: list[tuple[tuple[str | int, ...], Any]] = [((), doc)]
    while stack:
        where, value = stack.pop()
        if isinstance(value, dict):
            for key, item in value.items():
                yield where, key, item
                stack.append(((*where, key), item))
        elif isinstance(value, list):
            stack.extend(((*where, i), item) for i, item in enumerate(value))


def _refuse(url: str, where: tuple[str | int, ...], rule: str) -> NoReturn:
    raise ContractFetchError(f"{display_url(url)}: {json_path(where)}: {rule}")


def check_references(url: str, doc: Mapping[str, Any]) -> None:
    """Refuse every way a document could make the validator (or a generator) read anything but
    the document itself.

    Raises:
        ContractFetchError: naming the JSON path and the rule, not the value.
    """
    for where, key, value in _walk(doc):
        if key in ("$ref", "$dynamicRef", "operationRef"):
            if not isinstance(value, str) or not value.startswith("#"):
                _refuse(url, (*where, key),
                        f"only local references (starting with #) are allowed in {key}")  # fmt: skip
        elif key == "$id":
            _refuse(url, (*where, key), "$id is not allowed (it moves references elsewhere)")
        elif key in ("$schema", "jsonSchemaDialect") and value not in KNOWN_DIALECTS:
            _refuse(url, (*where, key), f"{key} must name a dialect the validator ships")


# -- validation ---------------------------------------------------------------------------------


class NonLocalReferenceError(Exception):
    """Raised by the validator's only resolver: nothing outside the document is read."""


def _refuse_retrieval(uri: str) -> NoReturn:
    raise NonLocalReferenceError("only references inside the document are resolved")


class _RefuseEveryScheme(dict[str, Any]):
    """A resolver-handler table that has an entry for every scheme, and each one refuses.

    jsonschema-path falls back to ``urllib.request.urlopen`` for a scheme missing from the
    table, so an empty table would not do: this one answers every lookup.
    """

    def __contains__(self, key: object) -> bool:
        return True

    def __missing__(self, key: str) -> Any:
        return _refuse_retrieval


REFUSING_HANDLERS: Final = _RefuseEveryScheme()


def _validator_message(exc: BaseException) -> str:
    """Where and which rule, from a validator error; never the instance it was given."""
    path = getattr(exc, "absolute_path", None)
    where = json_path(tuple(path)) if path is not None else "$"
    keyword = getattr(exc, "validator", None)
    if isinstance(keyword, str):
        detail = f"breaks the OpenAPI schema's {keyword!r} rule"
        required = getattr(exc, "validator_value", None)
        instance = getattr(exc, "instance", None)
        if keyword == "required" and isinstance(required, list) and isinstance(instance, dict):
            # The names come from the OpenAPI schema, not from the document.
            missing = [str(n) for n in required if n not in instance]
            detail = "missing required field " + ", ".join(
                repr(escape_untrusted(n, max_length=40)) for n in missing
            )
        return f"{where}: {detail}"
    if isinstance(exc, NonLocalReferenceError) or "Unresolvable" in type(exc).__name__:
        return "a reference could not be resolved (only references inside the document are)"
    name = type(exc).__name__
    if name != "OpenAPIValidationError":
        return f"{where}: fails the validator's {name} check"
    return f"{where}: fails an OpenAPI rule"


def validate_document(url: str, doc: dict[str, Any]) -> dict[str, Any]:
    """Check references (:func:`check_references`), then validate against the OpenAPI schema
    of the document's version with every resolver refused.

    Raises:
        ContractFetchError: naming ``url``, the JSON path and the rule.
    """
    check_references(url, doc)
    from jsonschema_path import SchemaPath
    from openapi_spec_validator.shortcuts import get_validator_cls

    try:
        cls = get_validator_cls(doc)
        spec = SchemaPath.from_dict(doc, base_uri="", handlers=REFUSING_HANDLERS)
        cls(spec).validate()
    except RecursionError:
        raise ContractFetchError(f"{display_url(url)}: nested too deeply to validate") from None
    except Exception as exc:  # the validator raises several unrelated exception types
        raise ContractFetchError(
            # parse_document allowed only 3.x.y as the version, so it is safe to show.
            f"{display_url(url)}: invalid OpenAPI {doc['openapi']} document:"
            f" {_validator_message(exc)}"
        ) from None
    return doc


def _download_all(*, base_url: str | None, timeout: float) -> list[Fetched]:
    fetched = download_contracts(resolve_base_url(base_url), deadline=timeout)
    for item in fetched:
        validate_document(item.served_url, item.document)
    return fetched


# -- writing --------------------------------------------------------------------------------------


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
    timeout: float = 60.0,
) -> FetchResult:
    """Download, validate and pin every contract in :data:`CONTRACTS` under ``out_dir``.

    Args:
        base_url: Deployment to fetch from; defaults to ``$STATESET_VOICE_CONTRACTS_URL``,
            then :data:`DEFAULT_BASE_URL`.
        out_dir: Directory holding the pinned contracts and ``contracts.lock.json``.
        timeout: Seconds for the whole fetch (every contract, every redirect).

    All contracts are downloaded and validated before anything is written, so a failure leaves
    ``out_dir`` untouched. Files whose bytes do not change are not rewritten, and lock entries
    whose SHA-256 is unchanged are kept (with their original ``fetched_at``).

    Raises:
        ContractFetchError: on a refused URL, network or HTTP errors, non-JSON bodies or invalid
            documents.
    """
    fetched = _download_all(base_url=base_url, timeout=timeout)
    files = {c.name: c.file_name for c in CONTRACTS}

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    lock_path = out / LOCK_FILE_NAME
    old_entries = _load_lock_entries(lock_path)
    new_entries: dict[str, Any] = {}
    results: list[ContractResult] = []
    fetched_at = _utc_now()

    for item in fetched:
        name = item.name
        path = out / files[name]
        digest = item.sha256
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
                "file": files[name],
                "sha256": digest,
                "source_url": item.served_url,
            }
            entry_changed = True
        status: Literal["updated", "unchanged"] = (
            "updated" if file_changed or entry_changed else "unchanged"
        )
        results.append(
            ContractResult(name=name, url=item.served_url, path=path, sha256=digest, status=status)
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
    timeout: float = 60.0,
) -> list[str]:
    """Fetch and validate the live contracts without writing anything.

    Returns the names of the contracts whose normalised bytes differ from the pinned files in
    ``out_dir`` (a missing file counts as different); an empty list means in sync.

    Raises:
        ContractFetchError: as :func:`fetch_contracts`.
    """
    fetched = _download_all(base_url=base_url, timeout=timeout)
    files = {c.name: c.file_name for c in CONTRACTS}
    out = Path(out_dir)
    return [item.name for item in fetched if _read_bytes(out / files[item.name]) != item.data]
