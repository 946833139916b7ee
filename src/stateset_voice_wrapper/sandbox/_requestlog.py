"""The request log: one entry per request (``requests()``) and one log line per request.

Both show the request target as it was sent (``request.raw_path``), never as aiohttp decoded
it: decoded, ``%0a`` is a newline that forges a log line and ``%1b`` starts a terminal escape.
Every value a client chose (target, query, ``X-Request-Id``, ``Idempotency-Key``) goes through
:func:`~._logsafe.loggable`: controls escaped, phone numbers masked, length bounded.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Final

from aiohttp import web

from ._core import SandboxCore
from ._keys import REQUEST_ID
from ._logsafe import install_filter, loggable

logger: Final = logging.getLogger("stateset_voice_wrapper.sandbox")
server_logger: Final = logging.getLogger("stateset_voice_wrapper.sandbox.server")
"""aiohttp's own server messages (a malformed request, a handler error) for this sandbox."""
install_filter(logger)
install_filter(server_logger)


def safe_target(request: web.Request, limit: int) -> str:
    """The request target as sent (path and query), safe to log."""
    return loggable(request.raw_path, limit) or ""


def _query_value(name: str, value: str, limit: int) -> str | None:
    """A query value as the log may show it, judged with its name: ``api_key=…``, ``token=…``
    and the like are credentials whatever the value looks like."""
    pair = loggable(f"{name}={value}", limit + len(name) + 1) or ""
    return pair.partition("=")[2]


def record_request(
    core: SandboxCore,
    request: web.Request,
    notes: dict[str, Any],
    status: int,
    started: float,
    control: bool,
) -> None:
    """Add ``request`` to the request log (control requests excepted) and log one line."""
    limit = core.limits.max_logged_chars
    fault = notes.get("fault")
    broken = fault is not None and fault.split("@")[0] in ("drop", "reset")
    raw_path = request.raw_path.partition("?")[0]
    record = {
        "request_id": request[REQUEST_ID],
        "client_request_id": loggable(request.headers.get("X-Request-Id"), limit),
        "method": loggable(request.method, limit),
        "path": loggable(raw_path, limit),
        "query": {
            loggable(name, limit): _query_value(name, value, limit)
            for name, value in request.query.items()
        },
        "operation_id": notes.get("operation_id"),
        "status": None if fault is not None and fault.startswith("drop") else status,
        "idempotency_key": loggable(request.headers.get("Idempotency-Key"), limit),
        "replayed": notes.get("replayed", False),
        "fault": fault,
        "latency_ms": notes.get("latency_ms"),
        "elapsed_ms": round((time.monotonic() - started) * 1000, 1),
    }
    if notes.get("refused"):
        record["refused"] = notes["refused"]
    if not control:
        core.request_log.append(record)
    if notes.get("operation_id"):
        core.store.responses["total"] += 1
        if status >= 500 or broken:
            core.store.responses["server_errors"] += 1
    logger.info(
        "%s %s -> %s %s client_request_id=%s idempotency_key=%s%s%s",
        record["method"],
        safe_target(request, limit),
        record["status"] if record["status"] is not None else "dropped",
        record["request_id"],
        record["client_request_id"],
        record["idempotency_key"],
        " replayed" if record["replayed"] else "",
        f" fault={fault}" if fault else "",
    )
