"""The governance hook: one decision per listed or called tool.

`decide` is the single place policies, approvals and budgets plug in
(MCP-GATEWAY.md M21–M30): it asks the function named by MCP_GOVERNANCE_POLICY
(default `by_policy`: the stored rules over the built-in defaults,
`integrations/gateway/policies.py`); `hold` and `redeem` turn a hold into an
approval and spend it. `filter_result` masks results by the masking rules
of the tenant and its environment. The runner calls them for every tool,
so a policy never touches a handler.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from django.conf import settings
from django.utils.module_loading import import_string

from integrations.gateway.selectors import masking_ruleset
from integrations.gateway.tools.result_masking import mask_value

ALLOW = "allow"
DENY = "deny"
HOLD = "hold"
# Ask the person by elicitation; clients that cannot are held for approval.
CONFIRM = "confirm"


@dataclass(frozen=True)
class ToolRequest:
    """What a decision may look at. `arguments` is None when listing."""

    tool: Any
    tenant: Any
    user: Any
    client: Any
    authorization: Any
    arguments: dict[str, Any] | None = None
    # The caller's role in the tenant (admin, member).
    role: str = ""
    # The tenant's stored rules per tool, when loaded once for a listing.
    rules: Any = None
    # The tool's masking rules, when the caller has read them already.
    masking: Any = None

    @property
    def listing(self) -> bool:
        return self.arguments is None


@dataclass(frozen=True)
class Decision:
    kind: Literal["allow", "deny", "hold", "confirm"]
    reason: str = ""
    data: dict[str, Any] = field(default_factory=dict)


ALLOWED = Decision(ALLOW)


def allow_all(request: ToolRequest) -> Decision:
    """The default policy: every tool the checks before it let through."""
    return ALLOWED


def by_policy(request: ToolRequest) -> Decision:
    """The portal's policy: stored rules over built-in defaults (policies.py)."""
    from integrations.gateway.policies import ALLOW as POLICY_ALLOW
    from integrations.gateway.policies import CONFIRM as POLICY_CONFIRM
    from integrations.gateway.policies import DENY as POLICY_DENY
    from integrations.gateway.tool_policies import verdict_for

    verdict = verdict_for(
        rules=request.rules,
        tool=request.tool.name,
        read_only=request.tool.read_only,
        tenant=request.tenant,
        user=request.user,
        role=request.role,
        client_id=request.client.client_id if request.client else "",
        arguments=request.arguments,
    )
    if verdict.action == POLICY_ALLOW:
        return ALLOWED
    if verdict.action == POLICY_DENY:
        return Decision(DENY, verdict.reason)
    if verdict.action == POLICY_CONFIRM:
        return Decision(CONFIRM, verdict.reason)
    return Decision(HOLD, verdict.reason, {"self_approval": verdict.self_approval})


def rules_for(tenant) -> Any:
    """Return a tenant's stored rules for every tool (one query)."""
    from integrations.gateway.tool_policies import rules_get_all

    return rules_get_all(environment_id=tenant.environment_id, tenant_id=tenant.pk)


def decide(request: ToolRequest) -> Decision:
    """Return whether a tool may be listed or called: allow, deny or hold."""
    return import_string(settings.MCP_GOVERNANCE_POLICY)(request)


def filter_result(request: ToolRequest, result: dict[str, Any]) -> dict[str, Any]:
    """Return the result the agent may see: masked by the tenant's rules (M26)."""
    rules = request.masking
    if rules is None:
        rules = masking_ruleset(tenant=request.tenant, tool=request.tool.name)
    return mask_value(result, rules)


def hold(request: ToolRequest, decision: Decision) -> dict[str, Any]:
    """Hold a call for approval; return the pending approval the agent reads."""
    from integrations.gateway.approvals import approval_create, held_result

    approval = approval_create(
        authorization=request.authorization,
        tool=request.tool.name,
        arguments=request.arguments,
        reason=decision.reason,
        self_approval=bool(decision.data.get("self_approval")),
    )
    return held_result(approval)


def redeem(request: ToolRequest, approval_id: Any) -> None:
    """Spend an approval on this exact call; raise ApprovalRefused if it may not run."""
    from integrations.gateway.approvals import approval_redeem

    approval_redeem(
        public_id=approval_id,
        authorization=request.authorization,
        tool=request.tool.name,
        arguments=request.arguments,
    )


def ask(request: ToolRequest, decision: Decision) -> dict[str, Any]:
    """Return the input-required payload asking the person to confirm the call."""
    from integrations.gateway.confirmations import (
        confirmation_request,
        confirmation_state,
    )

    return {
        **confirmation_request(
            tool=request.tool.name,
            arguments=request.arguments,
            reason=decision.reason,
        ),
        "state": confirmation_state(
            authorization=request.authorization,
            tool=request.tool.name,
            arguments=request.arguments,
        ),
    }


def confirm(request: ToolRequest, state: Any, accepted: bool) -> None:
    """Check the person's answer; raise ConfirmationRefused if it may not run."""
    from integrations.gateway.confirmations import confirmation_redeem

    confirmation_redeem(
        state=state,
        accepted=accepted,
        authorization=request.authorization,
        tool=request.tool.name,
        arguments=request.arguments,
    )
