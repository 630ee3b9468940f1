"""Escalation policy tools: PagerDuty's own `list_escalation_policies` and
`get_escalation_policy` (pagerduty-mcp 1.1.0's names and input schemas).
"""

from __future__ import annotations

from integrations.gateway.conf import SCOPE_READ
from integrations.gateway.tools.registry import pagerduty_mcp_schema, register
from integrations.gateway.tools.services import id_list, list_limit, reference
from integrations.pagerduty.workspace import selectors


def policy_data(policy) -> dict:
    return {
        "id": policy.id,
        "type": "escalation_policy",
        "summary": policy.name,
        "name": policy.name,
        "description": policy.description,
        "num_loops": policy.num_loops,
        "escalation_rules": [
            {
                "id": rule.id,
                "escalation_delay_in_minutes": rule.delay_minutes,
                "targets": [
                    reference(target.ref, target.kind) for target in rule.targets
                ],
            }
            for rule in policy.rules
        ],
        "services": [reference(ref, "service") for ref in policy.services],
        "teams": [reference(ref, "team") for ref in policy.teams],
        "html_url": policy.html_url,
    }


@register(
    name="list_escalation_policies",
    title="List escalation policies",
    description=(
        "List escalation policies with their levels and targets, optionally "
        "filtered by a name query, user IDs and team IDs; `include` may ask "
        "for services, teams or targets in full. At most 100 per call; "
        "`more` says whether PagerDuty has more."
    ),
    input_schema=pagerduty_mcp_schema("list_escalation_policies"),
    access=SCOPE_READ,
    operations=("GET /escalation_policies",),
    read_only=True,
    destructive=False,
    idempotent=True,
    compatible=True,
)
def list_escalation_policies(ctx, args: dict) -> dict:
    page = selectors.escalation_policy_list(
        ws=ctx.ws,
        query=args.get("query") or "",
        user_ids=id_list(args.get("user_ids")),
        team_ids=id_list(args.get("team_ids")),
        include=id_list(args.get("include")),
        limit=list_limit(ctx, args.get("limit")),
    )
    return {
        "response": [policy_data(policy) for policy in page.items],
        "total": page.total,
        "more": page.more,
    }


@register(
    name="get_escalation_policy",
    title="Get an escalation policy",
    description=(
        "Get one escalation policy by its ID: its levels in order, each with "
        "its delay and targets (users, schedules), loops, services and teams."
    ),
    input_schema=pagerduty_mcp_schema("get_escalation_policy"),
    access=SCOPE_READ,
    operations=("GET /escalation_policies/{id}",),
    read_only=True,
    destructive=False,
    idempotent=True,
    compatible=True,
)
def get_escalation_policy(ctx, args: dict) -> dict:
    return policy_data(
        selectors.escalation_policy_get(ws=ctx.ws, policy_id=args["policy_id"])
    )
