"""Reading request bodies within a size and a time bound, and parsing JSON strictly.

aiohttp reads a body whole (``request.read()``) with one size bound for the whole app and no
deadline, so a client that sends half a body holds the request forever. Here the bound depends
on who may call the operation (see ``SandboxLimits``), a declared ``Content-Length`` over it is
refused before a byte is read, and the whole body must arrive within a deadline.

JSON is parsed as RFC 8259 defines it, which Python's ``json`` module does not: ``NaN``,
``Infinity`` and numbers too large for a float (``1e400``) are refused, as are strings with
unpaired surrogates (``"\\ud800"``) and nesting deeper than a bound. Each would otherwise be
stored and break every later response that includes it (the sandbox never writes NaN, and
cannot encode a lone surrogate as UTF-8).
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from .. import StateSetVoiceError
from ._http import api_error, to_response

_CHUNK = 64 * 1024


class BodyError(StateSetVoiceError):
    """A body the sandbox will not take: too large (413) or too slow (408)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


async def read_body(request: web.Request, *, max_bytes: int, timeout: float) -> bytes:
    """The whole body of ``request``: at most ``max_bytes``, within ``timeout`` seconds.

    Raises:
        BodyError: 413 when the body is (or declares to be) larger, 408 when it is too slow.
    """
    too_large = BodyError(413, f"The request body is larger than {max_bytes} bytes.")
    declared = request.content_length
    if declared is not None and declared > max_bytes:
        raise too_large

    async def read() -> bytes:
        data = bytearray()
        while True:
            chunk = await request.content.read(_CHUNK)
            if not chunk:
                return bytes(data)
            data += chunk
            if len(data) > max_bytes:
                raise too_large

    try:
        return await asyncio.wait_for(read(), timeout)
    except TimeoutError:
        raise BodyError(408, f"The request body did not arrive within {timeout:g} s.") from None


async def refuse_body(
    request: web.Request, error: BodyError, request_id: str, headers: Mapping[str, str]
) -> web.StreamResponse:
    """Answer a body that was refused, and end the connection (its body is never read).

    After a 413 aiohttp reads and drops what is still coming for a few seconds, so that the
    client, still sending, gets to read the answer. After a 408 the client has stopped sending:
    the connection is closed as soon as the answer is out.
    """
    response = to_response(api_error(error.status, error.message, request_id), headers)
    response.force_close()
    if error.status == 408 and request.transport is not None:
        await response.prepare(request)
        await response.write_eof()
        request.transport.close()
    return response


class JsonError(StateSetVoiceError, ValueError):
    """A body that is not JSON the sandbox accepts; the message says why, without the value."""


def _refuse_constant(name: str) -> Any:
    raise JsonError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise JsonError("a number is too large")
    return value


def _check_structure(value: Any, max_depth: int) -> None:
    """Refuse nesting deeper than ``max_depth`` and strings that UTF-8 cannot encode."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        current, depth = stack.pop()
        if isinstance(current, str):
            if not current.isascii():
                try:
                    current.encode("utf-8")
                except UnicodeEncodeError:
                    raise JsonError("a string holds an unpaired surrogate") from None
            continue
        if not isinstance(current, dict | list):
            continue
        if depth > max_depth:
            raise JsonError(f"nesting is deeper than {max_depth} levels")
        items = [*current.keys(), *current.values()] if isinstance(current, dict) else current
        stack.extend((item, depth + 1) for item in items)


def parse_json(body: bytes, *, max_depth: int) -> Any:
    """Parse ``body`` as strict JSON.

    Raises:
        JsonError: when it is not JSON, or JSON the sandbox refuses (see the module docstring).
    """
    try:
        value = json.loads(body, parse_constant=_refuse_constant, parse_float=_finite_float)
    except JsonError:
        raise
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise JsonError("the body is not valid JSON") from exc
    _check_structure(value, max_depth)
    return value
