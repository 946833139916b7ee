"""Locate, load and index the pinned contracts the sandbox serves.

The sandbox never has its own idea of the API: routes, security, the ``Idempotency-Key``
parameter and request validation all come from the pinned contracts, installed as package data
of ``stateset_voice_facts``. Loading and checking a contract takes most of a second, so loaded
contracts are cached per directory and file stamp.
"""

from __future__ import annotations

import functools
import importlib.resources
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import stateset_voice_facts
from openapi_core import Config, OpenAPI
from openapi_core.deserializing.media_types.util import plain_loads

from .. import StateSetVoiceError
from ._constants import PROCESS_ENV_CONTRACTS_DIR
from ._formats import FORMAT_VALIDATORS, check_formats_supported

#: api -> pinned file name, from the generated facts (the files are its package data).
_FILES: dict[str, str] = {api: c["file"] for api, c in stateset_voice_facts.CONTRACTS.items()}

ApiName = Literal["public", "admin"]
_METHODS = ("get", "put", "post", "delete", "patch")
# TwiML answers are ``text/xml`` with a ``type: string`` schema: read them as text (openapi-core
# reads only text/plain and text/html that way and would see bytes). Every ``format`` the
# contracts use gets a real validator (see _formats.py): openapi-core skips unknown ones.
_CONFIG = Config(
    extra_media_type_deserializers={"text/xml": plain_loads},
    extra_format_validators=dict(FORMAT_VALIDATORS),
)
_MAX_REF_DEPTH = 32


class ContractsNotFoundError(StateSetVoiceError, FileNotFoundError):
    """The pinned contracts could not be found; the message says where the sandbox looked."""


@dataclass(frozen=True, slots=True)
class Operation:
    """One operation of a contract, as the sandbox routes and guards it."""

    api: ApiName
    operation_id: str
    method: str
    """Upper-case HTTP method."""
    path: str
    """Path template, e.g. ``/api/v1/call-logs/{call_id}`` (aiohttp uses the same syntax)."""
    security: tuple[str, ...]
    """Names of the security schemes that may authorise it; empty means no credential."""
    idempotency_key: bool
    """Whether the operation declares the ``Idempotency-Key`` header parameter."""
    success_status: int
    statuses: frozenset[int]
    """Every response status the contract documents for it."""
    query_parameters: tuple[QueryParameter, ...] = ()
    """Its query parameters, with their schemas resolved (``$ref`` inlined)."""
    body_media_types: tuple[str, ...] = ()
    """Media types of its request body (none: it takes no body)."""

    @property
    def anonymous(self) -> bool:
        """Whether anyone may call it: it names no security scheme."""
        return not self.security


@dataclass(frozen=True, slots=True)
class QueryParameter:
    """One query parameter of an operation: name, whether required, and its schema."""

    name: str
    required: bool
    schema_json: str
    """The resolved schema as canonical JSON (kept as text so an Operation stays hashable)."""

    def schema(self) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(self.schema_json)
        return value


@dataclass(frozen=True, slots=True)
class Contracts:
    """Both pinned contracts: raw bytes (served as is), parsed documents and validators."""

    directory: Path
    raw: dict[ApiName, bytes]
    documents: dict[ApiName, dict[str, Any]]
    validators: dict[ApiName, OpenAPI]
    operations: tuple[Operation, ...]
    server_urls: dict[ApiName, str]
    docs_paths: dict[str, ApiName]
    """``/api-docs/public.json`` -> ``public`` and so on."""

    def operation(self, operation_id: str) -> Operation:
        for op in self.operations:
            if op.operation_id == operation_id:
                return op
        raise KeyError(operation_id)


def _has_files(directory: Path) -> bool:
    return all((directory / name).is_file() for name in _FILES.values())


def locate_contracts_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """Return the directory holding the pinned contracts.

    ``explicit`` if given, else ``$STATESET_VOICE_CONTRACTS_DIR``, else the copies installed as
    package data of ``stateset_voice_facts`` (``stateset_voice_facts/contracts/``, read with
    :mod:`importlib.resources`). Neither the working directory nor the folders around the
    package are searched.

    Raises:
        ContractsNotFoundError: when the chosen directory does not hold both contract files.
    """
    names = ", ".join(_FILES.values())
    if explicit is not None:
        directory = Path(explicit)
        if not _has_files(directory):
            raise ContractsNotFoundError(f"{directory} does not contain {names}")
        return directory
    from_env = os.environ.get(PROCESS_ENV_CONTRACTS_DIR)
    if from_env:
        directory = Path(from_env)
        if not _has_files(directory):
            raise ContractsNotFoundError(
                f"${PROCESS_ENV_CONTRACTS_DIR}={directory} does not contain {names}"
            )
        return directory
    packaged = importlib.resources.files(stateset_voice_facts).joinpath("contracts")
    if isinstance(packaged, Path) and _has_files(packaged):
        return packaged
    raise ContractsNotFoundError(
        f"the installed stateset_voice_facts package has no contracts/ with {names}; reinstall"
        f" stateset-voice, or pass contracts_dir=... (--contracts-dir) or set"
        f" ${PROCESS_ENV_CONTRACTS_DIR}"
    )


def resolve_refs(doc: dict[str, Any], node: Any, depth: int = 0) -> Any:
    """``node`` with every local ``$ref`` replaced by what it points to."""
    if depth > _MAX_REF_DEPTH:
        raise ValueError("contract $ref chain too deep (a cycle?)")
    if isinstance(node, list):
        return [resolve_refs(doc, item, depth + 1) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        target: Any = doc
        for part in ref[2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        siblings = {k: v for k, v in node.items() if k != "$ref"}
        resolved = resolve_refs(doc, target, depth + 1)
        return {**resolved, **resolve_refs(doc, siblings, depth + 1)} if siblings else resolved
    return {key: resolve_refs(doc, value, depth + 1) for key, value in node.items()}


def _query_parameters(doc: dict[str, Any], params: list[Any]) -> tuple[QueryParameter, ...]:
    found: list[QueryParameter] = []
    for raw in params:
        param = resolve_refs(doc, raw)
        if param.get("in") != "query":
            continue
        schema = param.get("schema", {})
        found.append(
            QueryParameter(
                name=param["name"],
                required=bool(param.get("required", False)),
                schema_json=json.dumps(schema, sort_keys=True),
            )
        )
    return tuple(found)


def _index_operations(api: ApiName, doc: dict[str, Any]) -> list[Operation]:
    default_security = doc.get("security", [])
    ops: list[Operation] = []
    for path, item in doc["paths"].items():
        for method in _METHODS:
            raw = item.get(method)
            if raw is None:
                continue
            security = raw.get("security", default_security)
            schemes = tuple(name for requirement in security for name in requirement)
            params = [*item.get("parameters", []), *raw.get("parameters", [])]
            refs = {p.get("$ref", "") for p in params}
            names = {p.get("name", "") for p in params}
            idempotent = (
                "#/components/parameters/IdempotencyKey" in refs or "Idempotency-Key" in names
            )
            statuses = frozenset(int(code) for code in raw["responses"] if code.isdigit())
            ops.append(
                Operation(
                    api=api,
                    operation_id=raw["operationId"],
                    method=method.upper(),
                    path=path,
                    security=schemes,
                    idempotency_key=idempotent,
                    success_status=min(statuses),
                    statuses=statuses,
                    query_parameters=_query_parameters(doc, params),
                    body_media_types=tuple(
                        resolve_refs(doc, raw.get("requestBody", {})).get("content", {})
                    ),
                )
            )
    return ops


@functools.lru_cache(maxsize=8)
def _load_cached(directory: str, _stamp: tuple[int, ...]) -> Contracts:
    base = Path(directory)
    raw: dict[ApiName, bytes] = {}
    documents: dict[ApiName, dict[str, Any]] = {}
    validators: dict[ApiName, OpenAPI] = {}
    server_urls: dict[ApiName, str] = {}
    docs_paths: dict[str, ApiName] = {}
    operations: list[Operation] = []
    for api, file_name in _FILES.items():
        name: ApiName = "public" if api == "public" else "admin"
        data = (base / file_name).read_bytes()
        doc = json.loads(data)
        check_formats_supported(name, doc)
        raw[name] = data
        documents[name] = doc
        validators[name] = OpenAPI.from_dict(doc, config=_CONFIG)
        servers = doc.get("servers") or [{"url": "https://voice.stateset.app"}]
        server_urls[name] = str(servers[0]["url"]).rstrip("/")
        # Where a deployment serves its contracts (cli/_fetch.py's CONTRACT_PATHS; the CLI's
        # `contracts check` against the sandbox holds the two together).
        docs_paths[f"/api-docs/{api}.json"] = name
        operations.extend(_index_operations(name, doc))
    return Contracts(
        directory=base,
        raw=raw,
        documents=documents,
        validators=validators,
        operations=tuple(operations),
        server_urls=server_urls,
        docs_paths=docs_paths,
    )


def load_contracts(directory: str | os.PathLike[str] | None = None) -> Contracts:
    """Load both contracts from ``directory`` (located with :func:`locate_contracts_dir`)."""
    base = locate_contracts_dir(directory).resolve()
    stamp = tuple((base / name).stat().st_mtime_ns for name in _FILES.values())
    return _load_cached(str(base), stamp)
