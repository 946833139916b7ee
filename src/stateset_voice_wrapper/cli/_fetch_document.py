"""What a contract document must be: UTF-8 JSON without duplicate keys, NaN, infinities or
nesting deeper than :data:`MAX_DEPTH`, holding an OpenAPI 3.x.y object (structure only; the
maintainers' ``scripts/contract_pipeline.py`` validates the schema too), and its pinned form.

Errors name where and what rule, never the document's content.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any, Final

from ._fetch_url import ContractFetchError, display_url

__all__ = ["MAX_DEPTH", "normalise_document", "parse_document", "sha256_hex"]

#: Deepest nesting of objects and arrays accepted (the pinned contracts reach 16).
MAX_DEPTH: Final = 64


def _reject_constant(name: str) -> Any:
    raise ValueError(f"the non-standard constant {name} is not JSON")


def _parse_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError("a number is too large for a float")
    return value


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise ValueError("an object has the same key twice")
    return result


def _too_deep(value: Any) -> bool:
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children: Iterable[Any]
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > MAX_DEPTH:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def parse_document(url: str, data: bytes) -> dict[str, Any]:
    """``data`` as a JSON OpenAPI 3 document (structure only; no schema validation).

    Raises:
        ContractFetchError: naming ``url`` and the rule broken, never the content.
    """
    shown = display_url(url)
    try:
        doc = json.loads(
            data.decode("utf-8"),
            parse_constant=_reject_constant,
            parse_float=_parse_float,
            object_pairs_hook=_no_duplicates,
        )
    except RecursionError:
        raise ContractFetchError(f"{shown}: not JSON: nested too deeply") from None
    except UnicodeDecodeError as exc:
        raise ContractFetchError(f"{shown}: not JSON: not UTF-8 at byte {exc.start}") from None
    except json.JSONDecodeError as exc:
        raise ContractFetchError(
            f"{shown}: not JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
        ) from None
    except ValueError as exc:  # our hooks, and ints past sys.get_int_max_str_digits()
        reason = str(exc).split(":", 1)[0]
        raise ContractFetchError(f"{shown}: not JSON ({reason})") from None
    if _too_deep(doc):
        raise ContractFetchError(f"{shown}: nested deeper than {MAX_DEPTH} levels")
    if not isinstance(doc, dict):
        raise ContractFetchError(
            f"{shown}: not an OpenAPI document: expected a JSON object, got {type(doc).__name__}"
        )
    version = doc.get("openapi")
    if not isinstance(version, str):
        raise ContractFetchError(
            f"{shown}: not an OpenAPI document: missing string field 'openapi'"
            + (" (this looks like Swagger 2.0)" if "swagger" in doc else "")
        )
    if not re.fullmatch(r"3\.[0-9]+\.[0-9]+", version):
        raise ContractFetchError(f"{shown}: unsupported OpenAPI version: expected 3.x.y")
    for field in ("info", "paths"):
        if not isinstance(doc.get(field), dict):
            raise ContractFetchError(
                f"{shown}: invalid OpenAPI document: missing or non-object field {field!r}"
            )
    return doc


def normalise_document(doc: Mapping[str, Any]) -> bytes:
    """The pinned form of a document: 2-space JSON in the server's key order, UTF-8, ``\\n``.

    The code generator follows key order, so keys are not sorted.
    """
    return (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
