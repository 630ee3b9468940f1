"""An incident's alerts (OAS Incidents: listIncidentAlerts, getIncidentAlert).

Alerts come from the service's monitors and are grouped into incidents;
incidents created through the REST API or the website have none. Resolving
an incident resolves its alerts; merging moves them to the target.
"""

from datetime import UTC, datetime

from pagerduty_sandbox.http import Response
from pagerduty_sandbox.rest.base import Ctx, includes, invalid, not_found, paginate
from pagerduty_sandbox.rest.incidents import (
    incident_ref,
    owned_incident,
    render_incident,
    render_log_entry,
)
from pagerduty_sandbox.rest.registry import route
from pagerduty_sandbox.rest.services import render_service
from pagerduty_sandbox.state import Alert, Incident, iso

ALERT_STATUSES = ("triggered", "resolved")
ALERT_INCLUDES = ("services", "first_trigger_log_entries", "incidents")
SORTS = {
    "created_at": ("created_at", False),
    "created_at:asc": ("created_at", False),
    "created_at:desc": ("created_at", True),
    "resolved_at": ("resolved_at", False),
    "resolved_at:asc": ("resolved_at", False),
    "resolved_at:desc": ("resolved_at", True),
}
FLOOR = datetime.min.replace(tzinfo=UTC)


def render_alert(ctx: Ctx, incident: Incident, alert: Alert, include=()) -> dict:
    state = ctx.state
    service = state.services.get(alert.service_id)
    trigger = next(
        (e for e in incident.log_entries if e.type == "trigger_log_entry"), None
    )
    data = {
        "id": alert.id,
        "type": "alert",
        "summary": alert.summary,
        "self": f"{ctx.api_url}/incidents/{incident.id}/alerts/{alert.id}",
        "html_url": ctx.html_url("alerts", alert.id),
        "created_at": iso(alert.created_at),
        "status": alert.status,
        "alert_key": alert.alert_key,
        "service": (
            render_service(ctx, service)
            if "services" in include and service
            else ctx.service_ref(alert.service_id)
        ),
        "incident": (
            render_incident(ctx, incident)
            if "incidents" in include
            else incident_ref(ctx, incident)
        ),
        "suppressed": alert.suppressed,
        "severity": alert.severity,
        "integration": {
            "id": f"I{alert.service_id[1:]}",
            "type": "events_api_v2_inbound_integration_reference",
            "summary": "Events API V2",
            "self": f"{ctx.api_url}/services/{alert.service_id}/integrations/"
            f"I{alert.service_id[1:]}",
            "html_url": f"{ctx.html_url('services', alert.service_id)}/integrations/"
            f"I{alert.service_id[1:]}",
        },
        "body": {
            "type": "alert_body",
            "contexts": [],
            "details": {"source": alert.source, **alert.details},
        },
    }
    if trigger is not None:
        data["first_trigger_log_entry"] = (
            render_log_entry(ctx, trigger)
            if "first_trigger_log_entries" in include
            else {
                "id": trigger.id,
                "type": "trigger_log_entry_reference",
                "summary": trigger.summary,
                "self": f"{ctx.api_url}/log_entries/{trigger.id}",
                "html_url": None,
            }
        )
    if alert.resolved_at:
        data["resolved_at"] = iso(alert.resolved_at)
    return data


@route("GET", "/incidents/{id}/alerts")
def alert_list(ctx: Ctx, id: str):  # noqa: A002 - the spec's parameter name
    incident = owned_incident(ctx, id)
    include = includes(ctx, ALERT_INCLUDES)
    statuses = set(ctx.enum_args("statuses", ALERT_STATUSES))
    key = ctx.arg("alert_key")
    sort = ctx.arg("sort_by") or "created_at"
    if sort not in SORTS:
        raise invalid(f"sort_by has an invalid value: {sort}")
    field, descending = SORTS[sort]
    alerts = [
        a
        for a in incident.alerts
        if (not statuses or a.status in statuses) and (not key or a.alert_key == key)
    ]
    alerts.sort(key=lambda a: getattr(a, field) or FLOOR, reverse=descending)
    return paginate(
        ctx, alerts, "alerts", lambda a: render_alert(ctx, incident, a, include)
    )


@route("GET", "/incidents/{id}/alerts/{alert_id}")
def alert_get(ctx: Ctx, id: str, alert_id: str):  # noqa: A002
    incident = owned_incident(ctx, id)
    alert = next((a for a in incident.alerts if a.id == alert_id), None)
    if alert is None:
        raise not_found("Alert Not Found", 5001)
    return Response.json({"alert": render_alert(ctx, incident, alert)})
