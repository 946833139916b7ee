"""The one mapping from the typed clients to the generated endpoints and models.

Every facade method reaches generated code through a name defined here. The names are imported
lazily (PEP 562 ``__getattr__``), so ``import stateset_voice_wrapper`` does not pay for the
generated packages; under type checking they are ordinary imports, so when a fetched contract
renames or reshapes an operation, mypy points at this file and at the methods that use it.
``tests/test_clients.py`` checks that the lazy table and the typed imports name the same modules.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import stateset_voice_admin.models as admin_models
    import stateset_voice_public.models as public_models
    from stateset_voice_admin import AuthenticatedClient as AdminGeneratedClient
    from stateset_voice_admin.api.agent_versions import (
        approve_agent_version as approve_agent_version,
    )
    from stateset_voice_admin.api.agent_versions import get_agent_version as get_agent_version
    from stateset_voice_admin.api.agent_versions import list_agent_versions as list_agent_versions
    from stateset_voice_admin.api.agent_versions import (
        publish_agent_version as publish_agent_version,
    )
    from stateset_voice_admin.api.agent_versions import stage_agent_version as stage_agent_version
    from stateset_voice_admin.api.phone_routes import create_phone_route as create_phone_route
    from stateset_voice_admin.api.phone_routes import delete_phone_route as delete_phone_route
    from stateset_voice_admin.api.phone_routes import get_phone_route as get_phone_route
    from stateset_voice_admin.api.phone_routes import list_phone_routes as list_phone_routes
    from stateset_voice_admin.api.phone_routes import update_phone_route as update_phone_route
    from stateset_voice_admin.api.rollout_governance import get_rollout_policy as get_rollout_policy
    from stateset_voice_admin.api.rollout_governance import run_rollout_sweep as run_rollout_sweep
    from stateset_voice_admin.api.rollout_governance import (
        update_rollout_policy as update_rollout_policy,
    )
    from stateset_voice_admin.api.tenants import get_runtime_config as get_runtime_config
    from stateset_voice_admin.api.tenants import get_tenant as get_tenant
    from stateset_voice_admin.api.tenants import list_tenants as list_tenants
    from stateset_voice_admin.api.tenants import update_runtime_config as update_runtime_config
    from stateset_voice_public import AuthenticatedClient as PublicGeneratedClient
    from stateset_voice_public.api.access_requests import (
        create_access_request as create_access_request,
    )
    from stateset_voice_public.api.call_logs import get_call_log as get_call_log
    from stateset_voice_public.api.call_logs import list_call_logs as list_call_logs
    from stateset_voice_public.api.calls import make_call as make_call
    from stateset_voice_public.api.evaluations import get_evaluation as get_evaluation
    from stateset_voice_public.api.evaluations import list_evaluations as list_evaluations
    from stateset_voice_public.api.inbound import handle_incoming_call as handle_incoming_call
    from stateset_voice_public.api.readiness import get_readiness as get_readiness
    from stateset_voice_public.api.voice_sessions import get_voice_session as get_voice_session
    from stateset_voice_public.api.voice_sessions import list_voice_sessions as list_voice_sessions

# Names imported under another name are only re-exported (for mypy) when listed here.
__all__ = [
    "LAZY",
    "AdminGeneratedClient",
    "PublicGeneratedClient",
    "admin_models",
    "public_models",
]

_P = "stateset_voice_public"
_A = "stateset_voice_admin"

#: name -> (module, attribute or None for the module itself)
LAZY: dict[str, tuple[str, str | None]] = {
    "PublicGeneratedClient": (_P, "AuthenticatedClient"),
    "public_models": (f"{_P}.models", None),
    "make_call": (f"{_P}.api.calls.make_call", None),
    "handle_incoming_call": (f"{_P}.api.inbound.handle_incoming_call", None),
    "list_voice_sessions": (f"{_P}.api.voice_sessions.list_voice_sessions", None),
    "get_voice_session": (f"{_P}.api.voice_sessions.get_voice_session", None),
    "list_call_logs": (f"{_P}.api.call_logs.list_call_logs", None),
    "get_call_log": (f"{_P}.api.call_logs.get_call_log", None),
    "list_evaluations": (f"{_P}.api.evaluations.list_evaluations", None),
    "get_evaluation": (f"{_P}.api.evaluations.get_evaluation", None),
    "create_access_request": (f"{_P}.api.access_requests.create_access_request", None),
    "get_readiness": (f"{_P}.api.readiness.get_readiness", None),
    "AdminGeneratedClient": (_A, "AuthenticatedClient"),
    "admin_models": (f"{_A}.models", None),
    "list_tenants": (f"{_A}.api.tenants.list_tenants", None),
    "get_tenant": (f"{_A}.api.tenants.get_tenant", None),
    "get_runtime_config": (f"{_A}.api.tenants.get_runtime_config", None),
    "update_runtime_config": (f"{_A}.api.tenants.update_runtime_config", None),
    "get_rollout_policy": (f"{_A}.api.rollout_governance.get_rollout_policy", None),
    "update_rollout_policy": (f"{_A}.api.rollout_governance.update_rollout_policy", None),
    "run_rollout_sweep": (f"{_A}.api.rollout_governance.run_rollout_sweep", None),
    "list_agent_versions": (f"{_A}.api.agent_versions.list_agent_versions", None),
    "get_agent_version": (f"{_A}.api.agent_versions.get_agent_version", None),
    "stage_agent_version": (f"{_A}.api.agent_versions.stage_agent_version", None),
    "approve_agent_version": (f"{_A}.api.agent_versions.approve_agent_version", None),
    "publish_agent_version": (f"{_A}.api.agent_versions.publish_agent_version", None),
    "list_phone_routes": (f"{_A}.api.phone_routes.list_phone_routes", None),
    "get_phone_route": (f"{_A}.api.phone_routes.get_phone_route", None),
    "create_phone_route": (f"{_A}.api.phone_routes.create_phone_route", None),
    "update_phone_route": (f"{_A}.api.phone_routes.update_phone_route", None),
    "delete_phone_route": (f"{_A}.api.phone_routes.delete_phone_route", None),
}


def __getattr__(name: str) -> Any:
    try:
        module_name, attribute = LAZY[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    module = importlib.import_module(module_name)
    value = module if attribute is None else getattr(module, attribute)
    globals()[name] = value  # later lookups are plain module attribute reads
    return value
