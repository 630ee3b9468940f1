"""Service tools: PagerDuty's own `list_services`, `get_service`,
`get_technical_service_dependencies`, `create_service` and `update_service`
(same names and input schemas as pagerduty-mcp 1.1.0).

Results keep pagerduty-mcp's shapes (its `Service` model's fields, lists
under `response`) as far as the workspace's entities carry them.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from integrations.gateway.conf import SCOPE_READ, SCOPE_WRITE
from integrations.gateway.tools.errors import ToolError
from integrations.gateway.tools.registry import pagerduty_mcp_schema, register
from integrations.pagerduty.workspace import selectors, services


def reference(ref, kind: str) -> dict | None:
    """Return a PagerDuty reference ({id, type, summary}) for an entity's Ref."""
    if ref is None:
        return None
    return {"id": ref.id, "type": f"{kind}_reference", "summary": ref.name}


def list_limit(ctx, value) -> int:
    """Return the page size to ask for: the agent's limit, capped."""
    if value is None:
        return ctx.max_results
    if value < 1:
        raise ToolError(_("limit must be at least 1."), code="invalid_arguments")
    return min(value, ctx.max_results)


def id_list(value) -> tuple[str, ...]:
    """Return a list argument as a tuple (the op layer checks each ID)."""
    return tuple(value or ())


def service_data(service) -> dict:
    return {
        "id": service.id,
        "type": "service",
        "name": service.name,
        "description": service.description,
        "status": service.status,
        "escalation_policy": reference(service.escalation_policy, "escalation_policy"),
        "teams": [reference(team, "team") for team in service.teams],
        "acknowledgement_timeout": service.acknowledgement_timeout,
        "auto_resolve_timeout": service.auto_resolve_timeout,
        "html_url": service.html_url,
    }


def dependency_data(dependency) -> dict:
    def side(value):
        return None if value is None else {"id": value.id, "type": value.type}

    return {
        "id": dependency.id,
        "type": "service_dependency",
        "supporting_service": side(dependency.supporting),
        "dependent_service": side(dependency.dependent),
    }


@register(
    name="list_services",
    title="List services",
    description=(
        "List the tenant's PagerDuty services by name, optionally filtered by "
        "a name query and team IDs (teams_ids). At most 100 per call; `more` "
        "says whether PagerDuty has more, then narrow the query."
    ),
    input_schema=pagerduty_mcp_schema("list_services"),
    access=SCOPE_READ,
    operations=("GET /services",),
    read_only=True,
    destructive=False,
    idempotent=True,
    compatible=True,
)
def list_services(ctx, args: dict) -> dict:
    page = selectors.service_list(
        ws=ctx.ws,
        query=args.get("query") or "",
        team_ids=id_list(args.get("teams_ids")),
        limit=list_limit(ctx, args.get("limit")),
    )
    return {
        "response": [service_data(service) for service in page.services],
        "total": page.total,
        "more": page.more,
    }


@register(
    name="get_service",
    title="Get a service",
    description=(
        "Get one service by its ID: name, description, status, escalation "
        "policy, teams and timeouts."
    ),
    input_schema=pagerduty_mcp_schema("get_service"),
    access=SCOPE_READ,
    operations=("GET /services/{id}",),
    read_only=True,
    destructive=False,
    idempotent=True,
    compatible=True,
)
def get_service(ctx, args: dict) -> dict:
    service = selectors.service_get(ws=ctx.ws, service_id=args["service_id"])
    data = service_data(service)
    data["integrations"] = [
        {"id": item.id, "type": item.type, "summary": item.name}
        for item in service.integrations[: ctx.max_results]
    ]
    return data


@register(
    name="get_technical_service_dependencies",
    title="Get a service's dependencies",
    description=(
        "Get the dependencies a technical service takes part in: each names "
        "its supporting service and the dependent (technical or business) "
        "service that relies on it."
    ),
    input_schema=pagerduty_mcp_schema("get_technical_service_dependencies"),
    access=SCOPE_READ,
    operations=("GET /service_dependencies/technical_services/{id}",),
    read_only=True,
    destructive=False,
    idempotent=True,
    compatible=True,
)
def get_technical_service_dependencies(ctx, args: dict) -> dict:
    found = selectors.technical_service_dependencies(
        ws=ctx.ws, service_id=args["service_id"]
    )
    return {
        "relationships": [dependency_data(d) for d in found[: ctx.max_results]],
        "more": len(found) > ctx.max_results,
    }


def _refs_ids(value) -> tuple[str, ...] | None:
    if value is None:
        return None
    return tuple(item.get("id") for item in value if isinstance(item, dict))


@register(
    name="create_service",
    title="Create a service",
    description=(
        "Create a PagerDuty service: a name, an escalation policy "
        '({"id": "P…"}), optionally a description and teams. Done in '
        "PagerDuty as the person you act for."
    ),
    input_schema=pagerduty_mcp_schema("create_service"),
    access=SCOPE_WRITE,
    operations=("POST /services",),
    read_only=False,
    destructive=False,
    idempotent=False,
    free_text=("name", "description"),
    compatible=True,
)
def create_service(ctx, args: dict) -> dict:
    data = args["service_data"]["service"]
    if data.get("status") not in (None, "active"):
        raise ToolError(
            _("A new service is active; set its status with update_service."),
            code="invalid_arguments",
        )
    created = services.service_create(
        ws=ctx.ws,
        data=services.ServiceInput(
            name=data.get("name") or "",
            description=data.get("description") or "",
            escalation_policy_id=data["escalation_policy"]["id"],
            team_ids=_refs_ids(data.get("teams")) or (),
        ),
    )
    return service_data(created)


@register(
    name="update_service",
    title="Update a service",
    description=(
        "Update a service: the fields given in service_data.service (name, "
        "description, escalation policy, status active/disabled/maintenance, "
        "teams) replace the current ones; the rest stay. Done in PagerDuty "
        "as the person you act for."
    ),
    input_schema=pagerduty_mcp_schema("update_service"),
    access=SCOPE_WRITE,
    operations=("PUT /services/{id}",),
    read_only=False,
    destructive=True,
    idempotent=True,
    free_text=("name", "description"),
    compatible=True,
)
def update_service(ctx, args: dict) -> dict:
    data = args["service_data"]["service"]
    updated = services.service_change(
        ws=ctx.ws,
        service_id=args["service_id"],
        changes=services.ServiceChanges(
            name=data.get("name"),
            description=data.get("description"),
            escalation_policy_id=data["escalation_policy"]["id"],
            status=data.get("status"),
            team_ids=_refs_ids(data.get("teams")),
        ),
    )
    return service_data(updated)
