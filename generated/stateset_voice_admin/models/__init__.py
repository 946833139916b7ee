"""Contains all the data models used in inputs/outputs"""

from .agent_version import AgentVersion
from .agent_version_approval import AgentVersionApproval
from .agent_version_create import AgentVersionCreate
from .agent_version_list import AgentVersionList
from .agent_version_publish import AgentVersionPublish
from .agent_version_status import AgentVersionStatus
from .api_error import ApiError
from .field_error import FieldError
from .phone_route import PhoneRoute
from .phone_route_create import PhoneRouteCreate
from .phone_route_list import PhoneRouteList
from .phone_route_update import PhoneRouteUpdate
from .rollout_gate_result import RolloutGateResult
from .rollout_gate_result_status import RolloutGateResultStatus
from .rollout_policy import RolloutPolicy
from .rollout_policy_update import RolloutPolicyUpdate
from .rollout_stage import RolloutStage
from .rollout_sweep_request import RolloutSweepRequest
from .rollout_sweep_result import RolloutSweepResult
from .rollout_sweep_result_decision import RolloutSweepResultDecision
from .runtime_config import RuntimeConfig
from .runtime_config_update import RuntimeConfigUpdate
from .telephony_defaults import TelephonyDefaults
from .tenant import Tenant
from .tenant_list import TenantList
from .tenant_status import TenantStatus

__all__ = (
    "AgentVersion",
    "AgentVersionApproval",
    "AgentVersionCreate",
    "AgentVersionList",
    "AgentVersionPublish",
    "AgentVersionStatus",
    "ApiError",
    "FieldError",
    "PhoneRoute",
    "PhoneRouteCreate",
    "PhoneRouteList",
    "PhoneRouteUpdate",
    "RolloutGateResult",
    "RolloutGateResultStatus",
    "RolloutPolicy",
    "RolloutPolicyUpdate",
    "RolloutStage",
    "RolloutSweepRequest",
    "RolloutSweepResult",
    "RolloutSweepResultDecision",
    "RuntimeConfig",
    "RuntimeConfigUpdate",
    "TelephonyDefaults",
    "Tenant",
    "TenantList",
    "TenantStatus",
)
