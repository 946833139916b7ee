"""Check real HTTP traffic against the pinned contracts with openapi-core.

Used by the sandbox's own tests and handy for any test that talks to a sandbox::

    checker = ContractChecker()                      # finds api-contracts/ like the sandbox
    client = httpx.Client(base_url=sandbox.base_url,
                          event_hooks={"response": [checker.httpx_hook]})
    client.get("/api/v1/call-logs", headers=...)     # raises AssertionError on a mismatch

``check_response`` validates status, headers and body of one ``httpx.Response`` against the
operation it answered; ``check_webhook`` validates one webhook delivery against the public
contract's ``webhooks`` section.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

import httpx
from openapi_core.datatypes import RequestParameters

from .. import StateSetVoiceError
from ._spec import ApiName, Contracts, load_contracts
from ._validation import ContractRequest


class ContractViolation(StateSetVoiceError, AssertionError):
    """A response or delivery that does not match its contract."""


class _Response:
    """An ``httpx.Response`` in the shape openapi-core reads."""

    def __init__(self, response: httpx.Response) -> None:
        self.status_code = response.status_code
        self.headers = response.headers
        self.content_type = response.headers.get("content-type", "").lower()
        self.data = response.content


class _WebhookRequest:
    def __init__(self, name: str, headers: Mapping[str, str], body: bytes) -> None:
        self.name = name
        self.method = "post"
        self.body = body
        self.content_type = headers.get("Content-Type", headers.get("content-type", ""))
        self.parameters = RequestParameters(header=headers, cookie={}, query={})


class ContractChecker:
    """Validates responses and webhook deliveries against both pinned contracts."""

    def __init__(self, contracts_dir: str | os.PathLike[str] | None = None) -> None:
        self.contracts: Contracts = load_contracts(contracts_dir)

    def api_for(self, path: str) -> ApiName | None:
        """Which contract a request path belongs to (None: docs, control, unknown)."""
        if not path.startswith("/api/"):
            return None
        return "admin" if path.startswith("/api/v1/admin/") else "public"

    def check_response(self, response: httpx.Response) -> None:
        """Raise :class:`ContractViolation` unless ``response`` conforms to its operation."""
        request = response.request
        api = self.api_for(request.url.path)
        if api is None:
            return
        response.read()
        contract_request = ContractRequest(
            host_url=self.contracts.server_urls[api],
            method=request.method,
            path=request.url.path,
            query=dict(request.url.params),
            headers=request.headers,
            body=request.content or None,
            content_type=request.headers.get("content-type", ""),
        )
        try:
            self.contracts.validators[api].validate_response(contract_request, _Response(response))
        except Exception as exc:
            cause = exc.__cause__
            raise ContractViolation(
                f"{request.method} {request.url.path} -> {response.status_code}: "
                f"{type(exc).__name__}: {exc}"
                + (f" ({type(cause).__name__}: {cause})" if cause else "")
                + f"\nbody: {response.text[:500]}"
            ) from exc

    def httpx_hook(self, response: httpx.Response) -> None:
        """An httpx ``response`` event hook running :meth:`check_response`."""
        self.check_response(response)

    def check_webhook(self, headers: Mapping[str, str], body: bytes) -> dict[str, Any]:
        """Validate one delivery (headers and raw body); return its parsed envelope."""
        event = json.loads(body)
        # Header names are case-insensitive; servers hand them over in any case.
        request = _WebhookRequest(str(event.get("type")), httpx.Headers(dict(headers)), body)
        try:
            self.contracts.validators["public"].validate_webhook_request(request)
        except Exception as exc:
            cause = exc.__cause__
            raise ContractViolation(
                f"webhook {event.get('type')}: {type(exc).__name__}: {exc}"
                + (f" ({type(cause).__name__}: {cause})" if cause else "")
            ) from exc
        result: dict[str, Any] = event
        return result
