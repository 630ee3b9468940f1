"""Business service tools: PagerDuty's own `list_business_services` and
`get_business_service_dependencies` (pagerduty-mcp 1.1.0's names and schemas).
"""

from __future__ import annotations

from integrations.gateway.conf import SCOPE_READ
from integrations.gateway.tools.registry import pagerduty_mcp_schema, register
from integrations.gateway.tools.services import dependency_data, reference
from integrations.pagerduty.workspace import selectors


@register(
    name="list_business_services",
    title="List business services",
    description=(
        "List the tenant's business services (what the business sees, backed "
        "by technical services): name, description, point of contact, team. "
        "At most 100; `more` says whether PagerDuty has more."
    ),
    input_schema=pagerduty_mcp_schema("list_business_services"),
    access=SCOPE_READ,
    operations=("GET /business_services",),
    read_only=True,
    destructive=False,
    idempotent=True,
    compatible=True,
)
def list_business_services(ctx, args: dict) -> dict:
    page = selectors.business_service_list(ws=ctx.ws, limit=ctx.max_results)
    return {
        "response": [
            {
                "id": item.id,
                "type": "business_service",
                "summary": item.name,
                "name": item.name,
                "description": item.description,
                "point_of_contact": item.point_of_contact,
                "team": reference(item.team, "team"),
                "html_url": item.html_url,
            }
            for item in page.items
        ],
        "more": page.more,
    }


@register(
    name="get_business_service_dependencies",
    title="Get a business service's dependencies",
    description=(
        "Get the dependencies of a business service: the technical services "
        "supporting it and what depends on it."
    ),
    input_schema=pagerduty_mcp_schema("get_business_service_dependencies"),
    access=SCOPE_READ,
    operations=("GET /service_dependencies/business_services/{id}",),
    read_only=True,
    destructive=False,
    idempotent=True,
    compatible=True,
)
def get_business_service_dependencies(ctx, args: dict) -> dict:
    found = selectors.business_service_dependencies(
        ws=ctx.ws, business_service_id=args["business_service_id"]
    )
    return {
        "relationships": [dependency_data(d) for d in found[: ctx.max_results]],
        "more": len(found) > ctx.max_results,
    }
