"""Alert tools: PagerDuty's own `list_alerts_from_incident` and
`get_alert_from_incident` (pagerduty-mcp 1.1.0's names and input schemas)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from integrations.gateway.conf import SCOPE_READ
from integrations.gateway.tools.errors import ToolError
from integrations.gateway.tools.incidents import _limit, _ref, check_id
from integrations.gateway.tools.registry import pagerduty_mcp_schema, register
from integrations.pagerduty.client import OFFSET_CAP
from integrations.pagerduty.workspace import selectors


def alert_json(alert) -> dict:
    """Return an alert as pagerduty-mcp's Alert model names its fields."""
    data = {
        "id": alert.id,
        "type": "alert",
        "summary": alert.summary,
        "status": alert.status,
        "severity": alert.severity,
        "alert_key": alert.alert_key,
        "created_at": alert.created_at,
        "html_url": alert.html_url,
        "suppressed": alert.suppressed,
        "service": _ref(alert.service),
        "incident": _ref(alert.incident),
        "integration": _ref(alert.integration),
        "body": {"details": alert.details, "contexts": alert.contexts},
    }
    if alert.resolved_at:
        data["resolved_at"] = alert.resolved_at
    return data


def offset_of(value) -> int:
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int):
        raise ToolError(_("offset must be a whole number."), code="invalid_arguments")
    if not 0 <= value < OFFSET_CAP:
        raise ToolError(
            _("offset must be from 0 to %(n)s.") % {"n": OFFSET_CAP - 1},
            code="invalid_arguments",
        )
    return value


@register(
    name="list_alerts_from_incident",
    title="List an incident's alerts",
    description=(
        "List the alerts grouped into an incident (the monitor events behind "
        "it), oldest first, with their body details. At most 100 per call: "
        "`more` says whether there are more; then call again with `offset`."
    ),
    input_schema=pagerduty_mcp_schema("list_alerts_from_incident"),
    access=SCOPE_READ,
    operations=("GET /incidents/{id}/alerts",),
    read_only=True,
    destructive=False,
    idempotent=True,
    compatible=True,
)
def list_alerts_from_incident(ctx, args: dict) -> dict:
    limit = _limit(args.get("limit"), min(ctx.max_results, 100))
    offset = offset_of(args.get("offset"))
    page = selectors.incident_alert_list(
        ws=ctx.ws,
        incident_id=check_id(args["incident_id"]),
        limit=min(limit, OFFSET_CAP - offset),
        offset=offset,
    )
    return {
        "response": [alert_json(alert) for alert in page.alerts],
        "more": page.more,
        "offset": page.offset,
    }


@register(
    name="get_alert_from_incident",
    title="Get an alert",
    description="Get one alert of an incident by their IDs, with its body details.",
    input_schema=pagerduty_mcp_schema("get_alert_from_incident"),
    access=SCOPE_READ,
    operations=("GET /incidents/{id}/alerts/{alert_id}",),
    read_only=True,
    destructive=False,
    idempotent=True,
    compatible=True,
)
def get_alert_from_incident(ctx, args: dict) -> dict:
    alert = selectors.incident_alert_get(
        ws=ctx.ws,
        incident_id=check_id(args["incident_id"]),
        alert_id=check_id(args["alert_id"], "alert_id"),
    )
    return alert_json(alert)
