"""Schemathesis hooks that let it test a running sandbox as a client would.

Load them with ``SCHEMATHESIS_HOOKS=stateset_voice_wrapper.sandbox.schemathesis_hooks`` and
point them at the sandbox with two environment variables::

    STATESET_SANDBOX_URL=http://127.0.0.1:4010  STATESET_SANDBOX_ADMIN_KEY=ak_test_... \\
    SCHEMATHESIS_HOOKS=stateset_voice_wrapper.sandbox.schemathesis_hooks \\
    st run api-contracts/stateset-voice-public.json -u http://127.0.0.1:4010

At import they read the sandbox's keys and data (``/_sandbox/info`` and the list operations),
then:

- **authenticate** each operation as its contract's ``security`` says: ``Authorization: Bearer``
  with the runtime key, ``x-admin-key``, nothing for ``access-requests``, and for
  ``incoming-call`` an ``X-Twilio-Signature`` computed over the request actually sent (its URL
  and form fields) with the sandbox's Twilio auth token. Schemathesis's own probes without a
  credential, or with a wrong one, stay unsigned.
- **draw references** from the sandbox's data: a path or query parameter named ``tenant_id``,
  ``call_id``, ``session_id``, ``evaluation_id``, ``version_id``, ``route_id`` or
  ``agent_key`` gets an existing value half of the time (chosen from the generated value, so a
  seed replays the same requests), and a ``tenant_id`` in a body is always an existing tenant:
  the sandbox refuses an unknown one with 422 ``unknown_tenant``, a rule the schema cannot say.
  In the stateful phase only that body rule applies: its links already carry real identifiers.
- **forgive one answer**, the one the contract leaves to Twilio's rules: a correctly signed
  ``incoming-call`` whose form breaks the schema gets 200 TwiML ``<Reject>``, because Twilio
  turns any non-2xx into an error message for the caller (see ``docs/sandbox.md``). Only that
  case of ``negative_data_rejection`` is dropped; every other check and failure stands.

Schemathesis is imported when this module runs, never by the rest of the package.
"""

from __future__ import annotations

import hashlib
import importlib
import os
from typing import Any, Final
from urllib.parse import parse_qsl

import httpx

from ..webhooks import compute_twilio_signature

ENV_URL: Final = "STATESET_SANDBOX_URL"
ENV_ADMIN_KEY: Final = "STATESET_SANDBOX_ADMIN_KEY"
SIGN_ME: Final = "stateset-sandbox-sign-this-request"
"""Placeholder the auth provider puts in ``X-Twilio-Signature``; ``before_call`` replaces it."""
REFERENCE_NAMES: Final = (
    "tenant_id",
    "call_id",
    "session_id",
    "evaluation_id",
    "version_id",
    "route_id",
    "agent_key",
)

st: Any = importlib.import_module("schemathesis")


def _collect(base_url: str, admin_key: str) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The sandbox's info document and the identifiers its list operations return."""
    refs: dict[str, set[str]] = {name: set() for name in REFERENCE_NAMES}
    with httpx.Client(base_url=base_url, timeout=10.0) as http:
        admin = {"x-admin-key": admin_key}
        info: dict[str, Any] = http.get("/_sandbox/info", headers=admin).raise_for_status().json()
        runtime = {"Authorization": f"Bearer {info['runtime_key']}"}
        lists = [
            ("/api/v1/admin/tenants", admin),
            ("/api/v1/admin/agent-versions", admin),
            ("/api/v1/admin/phone-routes", admin),
            ("/api/v1/call-logs", runtime),
            ("/api/v1/voice-sessions", runtime),
            ("/api/v1/evaluations", runtime),
        ]
        for path, headers in lists:
            page = http.get(path, params={"limit": 200}, headers=headers).raise_for_status()
            for item in page.json()["items"]:
                for name in REFERENCE_NAMES:
                    if isinstance(item.get(name), str):
                        refs[name].add(item[name])
    return info, {name: sorted(values) for name, values in refs.items()}


INFO, REFERENCES = _collect(os.environ[ENV_URL].rstrip("/"), os.environ[ENV_ADMIN_KEY])
BASE_URL: Final = os.environ[ENV_URL].rstrip("/")


def _pick(name: str, value: object, *, always: bool = False) -> object:
    """An existing identifier in place of a generated string ``value`` (half of the time)."""
    choices = REFERENCES.get(name)
    if not choices or not isinstance(value, str):
        return value
    digest = int.from_bytes(hashlib.sha256(value.encode("utf-8", "surrogatepass")).digest()[:8])
    if not always and digest % 2:
        return value
    return choices[(digest // 2) % len(choices)]


def _schemes(operation: Any) -> set[str]:
    raw = operation.definition.raw
    security = raw.get("security", operation.schema.raw_schema.get("security", []))
    return {name for requirement in security for name in requirement}


class RuntimeKey:
    """``Authorization: Bearer <runtime key>`` on the tenant runtime operations."""

    def get(self, case: Any, ctx: Any) -> str:
        return str(INFO["runtime_key"])

    def set(self, case: Any, data: str, ctx: Any) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


class AdminKey:
    """``x-admin-key`` on the admin operations."""

    def get(self, case: Any, ctx: Any) -> str:
        return str(INFO["admin_key"])

    def set(self, case: Any, data: str, ctx: Any) -> None:
        case.headers = {**(case.headers or {}), "x-admin-key": data}


class TwilioSignature:
    """Marks a Twilio post for signing; the signature needs the final URL and body."""

    def get(self, case: Any, ctx: Any) -> str:
        return SIGN_ME

    def set(self, case: Any, data: str, ctx: Any) -> None:
        case.headers = {**(case.headers or {}), "X-Twilio-Signature": data}


def map_case(context: Any, case: Any) -> Any:
    """Swap generated identifiers for existing ones (see the module docstring).

    Path and query parameters are left alone in the stateful phase: there the links between
    operations supply real identifiers (a created route's ``route_id``), and a swapped one would
    point somewhere else. A body's unknown ``tenant_id`` is replaced in every phase.
    """
    body = case.body
    tenant = body.get("tenant_id") if isinstance(body, dict) else None
    if isinstance(tenant, str) and tenant not in REFERENCES["tenant_id"]:
        body["tenant_id"] = _pick("tenant_id", tenant, always=True)
    meta = case.meta
    if meta is not None and str(meta.phase.name) == "stateful":
        return case
    for attribute in ("path_parameters", "query"):
        values = getattr(case, attribute)
        if isinstance(values, dict):
            for name, value in list(values.items()):
                values[name] = _pick(name, value)
    return case


def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    """Sign a Twilio post the way Twilio does: over the URL and the form fields sent."""
    headers = case.headers or {}
    if headers.get("X-Twilio-Signature") != SIGN_ME:
        return
    requests = importlib.import_module("requests")
    sent = case.as_transport_kwargs(base_url=BASE_URL)
    prepared = requests.Request(
        method=sent["method"],
        url=sent["url"],
        params=sent.get("params"),
        data=sent.get("data"),
        headers=sent.get("headers"),
    ).prepare()
    body = prepared.body or b""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body)
    pairs = parse_qsl(text, keep_blank_values=True)
    case.headers = {
        **headers,
        "X-Twilio-Signature": compute_twilio_signature(
            auth_token=str(INFO["twilio_auth_token"]), url=prepared.url, params=pairs
        ),
    }


def filter_failure(context: Any, failure: Any, case: Any, response: Any) -> bool:
    """Keep every failure but a signed, unusable Twilio post answered with TwiML ``<Reject>``."""
    forgiven = (
        "twilioSignature" in _schemes(case.operation)
        and type(failure).__name__ == "AcceptedNegativeData"
        and response.status_code == 200
        and "<Reject" in response.text
    )
    return not forgiven


def _register() -> None:
    """Hand the providers and hooks to schemathesis (no decorators: it is imported untyped)."""
    for provider, scheme in (
        (RuntimeKey, "bearerAuth"),
        (AdminKey, "adminKey"),
        (TwilioSignature, "twilioSignature"),
    ):
        st.auth().apply_to(lambda ctx, s=scheme: s in _schemes(ctx.operation))(provider)
    for hook in (map_case, before_call, filter_failure):
        st.hook(hook)


_register()
