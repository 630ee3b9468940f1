"""Services (CRUD)."""

from dataclasses import dataclass

from pagerduty_sandbox.http import Response
from pagerduty_sandbox.rest.base import (
    ApiError,
    Ctx,
    includes,
    invalid,
    paginate,
    reference_id,
    text_field,
)
from pagerduty_sandbox.rest.registry import route
from pagerduty_sandbox.state import Service, iso

SERVICE_INCLUDES = (
    "escalation_policies",
    "teams",
    "integrations",
    "auto_pause_notifications_parameters",
)
STATUSES = ("active", "warning", "critical", "maintenance", "disabled")
ALERT_CREATION = ("create_incidents", "create_alerts_and_incidents")
NULLABLE_TIMEOUTS = ("acknowledgement_timeout", "auto_resolve_timeout")


def owned_service(ctx: Ctx, service_id: str) -> Service:
    """Return the account's service or raise PagerDuty's 404."""
    return ctx.owned(ctx.state.services, service_id, "Service Not Found", 5002)


_service = owned_service


@dataclass
class Activity:
    """What a service's incidents say about it: latest one, open ones."""

    last: object = None
    triggered: bool = False
    acknowledged: bool = False


def service_activity(ctx: Ctx) -> dict[str, Activity]:
    """Return each service's incident activity, in one pass over incidents."""
    found: dict[str, Activity] = {}
    for incident in ctx.state.incidents.values():
        if incident.account_id != ctx.account_id:
            continue
        activity = found.get(incident.service_id)
        if activity is None:
            activity = found[incident.service_id] = Activity()
        if activity.last is None or incident.created_at > activity.last:
            activity.last = incident.created_at
        if incident.status == "triggered":
            activity.triggered = True
        elif incident.status == "acknowledged":
            activity.acknowledged = True
    return found


def service_status(service: Service, activity: Activity | None) -> str:
    """Return the status PagerDuty reports: set by hand, else from incidents.

    Disabled and maintenance are set on the service; an enabled service is
    critical with a triggered incident, warning with an acknowledged one,
    else active (the Service schema's `status` description).
    """
    if service.status in ("disabled", "maintenance"):
        return service.status
    if activity is not None and activity.triggered:
        return "critical"
    if activity is not None and activity.acknowledged:
        return "warning"
    return "active"


def render_service(ctx: Ctx, service: Service, include=(), activity=None) -> dict:
    from pagerduty_sandbox.rest.oncall import render_policy
    from pagerduty_sandbox.rest.people import render_team

    state = ctx.state
    policy = state.escalation_policies.get(service.escalation_policy_id)
    if activity is None:
        activity = ctx.memo("service_activity", lambda: service_activity(ctx))
    mine = activity.get(service.id)
    last = mine.last if mine else None
    data = {
        "id": service.id,
        "type": "service",
        "summary": service.name,
        "self": f"{ctx.api_url}/services/{service.id}",
        "html_url": ctx.html_url("services", service.id),
        "name": service.name,
        "description": service.description,
        "auto_resolve_timeout": service.auto_resolve_timeout,
        "acknowledgement_timeout": service.acknowledgement_timeout,
        "created_at": iso(service.created_at),
        "updated_at": iso(service.updated_at or service.created_at),
        "status": service_status(service, mine),
        "escalation_policy": (
            render_policy(ctx, policy)
            if "escalation_policies" in include and policy
            else ctx.policy_ref(service.escalation_policy_id)
        ),
        "teams": [
            render_team(ctx, state.teams[t])
            if "teams" in include and t in state.teams
            else ctx.team_ref(t)
            for t in service.team_ids
        ],
        "integrations": [],
        "incident_urgency_rule": {"type": "constant", "urgency": service.urgency},
        "scheduled_actions": [],
        "addons": [],
        "alert_creation": service.alert_creation,
        "alert_grouping_parameters": {"type": None},
        "auto_pause_notifications_parameters": {"enabled": False},
    }
    if last is not None:
        data["last_incident_timestamp"] = iso(last)
    if service.description is None:
        del data["description"]
    return data


@route("GET", "/services")
def service_list(ctx: Ctx):
    include = includes(ctx, SERVICE_INCLUDES)
    query = (ctx.arg("query") or "").lower()
    team_ids = set(ctx.args("team_ids"))
    sort_by = ctx.arg("sort_by") or "name"
    if sort_by not in ("name", "name:asc", "name:desc"):
        raise invalid("sort_by must be name, name:asc or name:desc")
    found = [
        s
        for s in ctx.state.services.values()
        if s.account_id == ctx.account_id
        and (not query or query in s.name.lower())
        and (not team_ids or team_ids.intersection(s.team_ids))
    ]
    found.sort(key=lambda s: s.name.lower(), reverse=sort_by == "name:desc")
    activity = service_activity(ctx)
    return paginate(
        ctx, found, "services", lambda s: render_service(ctx, s, include, activity)
    )


@route("GET", "/services/{id}")
def service_get(ctx: Ctx, id: str):  # noqa: A002 - the spec's parameter name
    include = includes(ctx, SERVICE_INCLUDES)
    return Response.json({"service": render_service(ctx, _service(ctx, id), include)})


def _fields(ctx: Ctx, data: dict, *, creating: bool) -> dict:
    # A null optional field means "not given" (PagerDuty's own MCP server
    # sends its model's empty fields as null).
    data = {
        key: value
        for key, value in data.items()
        if value is not None or key in ("description", *NULLABLE_TIMEOUTS)
    }
    fields = {}
    name = text_field(data, "name", required=creating, max_length=255)
    if name is not None:
        clash = any(
            s.name == name.strip() and s.id != data.get("id")
            for s in ctx.state.services.values()
            if s.account_id == ctx.account_id
        )
        if clash:
            raise invalid("Name has already been taken")
        fields["name"] = name.strip()
    if "description" in data:
        description = data["description"]
        if description is not None and not isinstance(description, str):
            raise invalid("description must be a string")
        fields["description"] = description
    if "escalation_policy" in data or creating:
        policy_id = reference_id(
            data.get("escalation_policy"), "escalation_policy", "escalation_policy"
        )
        policy = ctx.state.escalation_policies.get(policy_id)
        if policy is None or policy.account_id != ctx.account_id:
            raise ApiError(400, "Escalation Policy Not Found", 1014)
        fields["escalation_policy_id"] = policy.id
    for name in NULLABLE_TIMEOUTS:
        if name in data:
            value = data[name]
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int) or value < 0
            ):
                raise invalid(f"{name} must be a non-negative integer or null")
            fields[name] = value
    if "status" in data:
        if data["status"] not in STATUSES:
            raise invalid(f"status must be one of {', '.join(STATUSES)}")
        fields["status"] = data["status"]
    if "alert_creation" in data:
        if data["alert_creation"] not in ALERT_CREATION:
            raise invalid("alert_creation is not valid")
        fields["alert_creation"] = data["alert_creation"]
    if "teams" in data:
        teams = data["teams"]
        if not isinstance(teams, list):
            raise invalid("teams must be an array of team references")
        team_ids = [reference_id(t, "teams[]", "team") for t in teams]
        for team_id in team_ids:
            ctx.owned(ctx.state.teams, team_id, "Team Not Found", 6001)
        fields["team_ids"] = team_ids
    return fields


@route("POST", "/services")
def service_create(ctx: Ctx):
    data = ctx.body("service")
    if data.get("type", "service") != "service":
        raise invalid("service.type must be service")
    fields = _fields(ctx, data, creating=True)
    now = ctx.state.now()
    service = Service(
        id=ctx.state.new_id(),
        account_id=ctx.account_id,
        created_at=now,
        updated_at=now,
        **fields,
    )
    ctx.state.services[service.id] = service
    return Response.json({"service": render_service(ctx, service)}, status=201)


@route("PUT", "/services/{id}")
def service_update(ctx: Ctx, id: str):  # noqa: A002
    service = _service(ctx, id)
    data = {**ctx.body("service"), "id": service.id}
    for name, value in _fields(ctx, data, creating=False).items():
        setattr(service, name, value)
    service.updated_at = ctx.state.now()
    return Response.json({"service": render_service(ctx, service)})


@route("DELETE", "/services/{id}")
def service_delete(ctx: Ctx, id: str):  # noqa: A002
    service = _service(ctx, id)
    if any(
        i.service_id == service.id and i.status != "resolved"
        for i in ctx.state.incidents.values()
    ):
        raise ApiError(
            400,
            "Invalid operation",
            2015,
            ["The service has open incidents; resolve them first"],
        )
    del ctx.state.services[service.id]
    return Response(status=204)
