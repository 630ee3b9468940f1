"""Escalation policy reads."""

from __future__ import annotations

from integrations.pagerduty.client import Page
from integrations.pagerduty.scopes import Scope
from integrations.pagerduty.workspace import inputs
from integrations.pagerduty.workspace.context import Workspace
from integrations.pagerduty.workspace.entities import EscalationPolicy
from integrations.pagerduty.workspace.operations import operation
from integrations.pagerduty.workspace.selectors.common import (
    LIST_PAGE_SIZE,
    MAX_FILTER_IDS,
    MAX_LIST_OFFSET,
    query_params,
)

POLICY_INCLUDES = ("services", "teams", "targets")


@operation(scope=Scope.ESCALATION_POLICIES_READ)
def escalation_policy_list(
    *,
    ws: Workspace,
    offset: int = 0,
    query: str = "",
    user_ids: tuple[str, ...] = (),
    team_ids: tuple[str, ...] = (),
    include: tuple[str, ...] = (),
    limit: int = LIST_PAGE_SIZE,
) -> Page:
    """Return one page of escalation policies, optionally filtered: one call."""
    offset = inputs.bounded(offset, "offset", low=0, high=MAX_LIST_OFFSET)
    limit = inputs.bounded(limit, "limit", low=1, high=100)
    params = query_params(query)
    for name, ids in (("user_ids", user_ids), ("team_ids", team_ids)):
        if ids:
            params[f"{name}[]"] = inputs.pd_ids(ids, name, limit=MAX_FILTER_IDS)
    if include:
        params["include[]"] = list(
            dict.fromkeys(
                inputs.choice(item, "include", POLICY_INCLUDES) for item in include
            )
        )
    return ws.read_page(
        "/escalation_policies",
        key="escalation_policies",
        scope=Scope.ESCALATION_POLICIES_READ,
        params=params,
        offset=offset,
        limit=limit,
        total=True,
        build=EscalationPolicy.from_api,
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
