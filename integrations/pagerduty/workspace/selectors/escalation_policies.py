"""Escalation policy reads."""

from __future__ import annotations

from integrations.pagerduty.client import Page
from integrations.pagerduty.scopes import Scope
from integrations.pagerduty.workspace import inputs
from integrations.pagerduty.workspace.context import Workspace
from integrations.pagerduty.workspace.entities import EscalationPolicy
from integrations.pagerduty.workspace.operations import operation
from integrations.pagerduty.workspace.selectors.common import entity_page


@operation(scope=Scope.ESCALATION_POLICIES_READ)
def escalation_policy_list(*, ws: Workspace, offset: int = 0) -> Page:
    """Return one page of escalation policies: one call."""
    return entity_page(
        ws,
        "/escalation_policies",
        key="escalation_policies",
        scope=Scope.ESCALATION_POLICIES_READ,
        entity=EscalationPolicy,
        offset=offset,
    )


@operation(scope=Scope.ESCALATION_POLICIES_READ)
def escalation_policy_get(*, ws: Workspace, policy_id: str) -> EscalationPolicy:
    """Return an escalation policy with its rules and targets: one call."""
    policy_id = inputs.pd_id(policy_id, "policy_id")
    body = ws.read(
        inputs.path("/escalation_policies/{}", policy_id),
        scope=Scope.ESCALATION_POLICIES_READ,
    )
    return EscalationPolicy.from_api(body.get("escalation_policy") or {})
