"""Event Orchestration tools: PagerDuty's own `get_event_orchestration_service`."""

from __future__ import annotations

from integrations.gateway.conf import SCOPE_READ
from integrations.gateway.tools.registry import pagerduty_mcp_schema, register
from integrations.gateway.tools.services import reference
from integrations.pagerduty.workspace import selectors


@register(
    name="get_event_orchestration_service",
    title="Get a service's Event Orchestration",
    description=(
        "Get the Service Orchestration of a service: its rule sets (starting "
        "with 'start'), each rule's conditions and actions, and the catch-all "
        "applied when no rule matches."
    ),
    input_schema=pagerduty_mcp_schema("get_event_orchestration_service"),
    access=SCOPE_READ,
    operations=("GET /event_orchestrations/services/{service_id}",),
    read_only=True,
    destructive=False,
    idempotent=True,
    compatible=True,
)
def get_event_orchestration_service(ctx, args: dict) -> dict:
    found = selectors.service_orchestration_get(
        ws=ctx.ws, service_id=args["service_id"]
    )
    return {
        "orchestration_path": {
            "type": "service",
            "parent": reference(found.service, "service"),
            "sets": found.sets,
            "catch_all": found.catch_all,
            "created_at": found.created_at,
            "created_by": reference(found.created_by, "user"),
            "updated_at": found.updated_at,
            "updated_by": reference(found.updated_by, "user"),
            "version": found.version,
        }
    }
