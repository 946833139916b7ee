"""What an operation handler receives, and the small helpers every handler shares."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ._http import api_error, json_reply
from ._idempotency import Reply
from ._spec import Operation
from ._state import Store
from ._util import JSON, page


@dataclass(frozen=True, slots=True)
class Ctx:
    """One authenticated, validated request, ready for its operation handler."""

    store: Store
    op: Operation
    request_id: str
    tenant_id: str | None
    """Tenant of the runtime key (public operations); None for admin and anonymous calls."""
    path_params: Mapping[str, str]
    query: Mapping[str, str]
    body: Any
    """Parsed JSON body, or the form fields of a form-encoded one; None without a body."""
    idempotency_key: str | None
    host: str
    count_creation: Callable[[], None]
    """Call once when the request created a resource (feeds ``creations_per_key``)."""

    def limit_offset(self) -> tuple[int, int]:
        return int(self.query.get("limit", "25")), int(self.query.get("offset", "0"))

    def page(self, items: list[JSON]) -> Reply:
        limit, offset = self.limit_offset()
        return json_reply(200, page(items, limit=limit, offset=offset))

    def not_found(self, what: str) -> Reply:
        return api_error(404, f"No {what} with that identifier.", self.request_id)

    def conflict(self, code: str, message: str) -> Reply:
        return api_error(409, message, self.request_id, code=code)

    def invalid(self, field: str, message: str, code: str = "invalid") -> Reply:
        detail = {"field": field, "message": message, "code": code}
        return api_error(422, "The request failed validation.", self.request_id, details=[detail])

    def query_bool(self, name: str) -> bool | None:
        value = self.query.get(name)
        return None if value is None else value.lower() == "true"


Handler = Callable[[Ctx], Reply]
