"""How the ledger names what it stores: parameter fingerprints and scoped keys.

A business idempotency key is unique only within one API and credential, so the ledger stores
it under a *scope* (:func:`ledger_scope`: a hash of the base URL and the key, never the key
itself), folded in unambiguously (:func:`_stored_key`). A call's parameters are compared by
:func:`fingerprint_request`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from .._shared.errors import InvalidParameterError

__all__ = ["fingerprint_request", "ledger_scope"]


def fingerprint_request(params: Mapping[str, Any]) -> str:
    """SHA-256 hex of the canonical JSON of ``params``: equal parameters, equal fingerprint.

    >>> fingerprint_request({"b": 1, "a": [1, 2]}) == fingerprint_request({"a": [1, 2], "b": 1})
    True
    """
    canonical = json.dumps(params, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def ledger_scope(*, base_url: str, credential: str) -> str:
    """The ledger scope of one API and credential: what a client passes to ``begin``.

    A SHA-256 of both (length-prefixed, so no two pairs share an input), truncated to 128 bits:
    the store never holds the credential. The base URL's trailing slashes are ignored. A new
    credential (a rotated key) starts a new scope; the server still deduplicates a key it saw
    under the old one.

    >>> ledger_scope(base_url="https://voice.example/", credential="sk_1") == ledger_scope(
    ...     base_url="https://voice.example", credential="sk_1")
    True
    >>> ledger_scope(base_url="https://voice.example", credential="sk_1")[:4]
    'api-'
    """
    if not isinstance(base_url, str) or not isinstance(credential, str):
        raise InvalidParameterError("base_url and credential must be strings")
    url = base_url.rstrip("/")
    material = f"stateset-voice ledger scope\0{len(url)}:{url}\0{credential}".encode()
    return "api-" + hashlib.sha256(material).hexdigest()[:32]


def _stored_key(scope: str, key: str) -> str:
    """The store key of ``key`` in ``scope``; the scope's length prefix makes it unambiguous."""
    if not isinstance(scope, str) or not scope:
        raise InvalidParameterError("scope must be a non-empty string")
    if not isinstance(key, str) or not key:
        raise InvalidParameterError("an idempotency key must be a non-empty string")
    return f"{len(scope)}:{scope}:{key}"
