"""An incident's alerts: the monitor events PagerDuty grouped into it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from integrations.pagerduty.client import OFFSET_CAP
from integrations.pagerduty.scopes import Scope
from integrations.pagerduty.workspace import inputs
from integrations.pagerduty.workspace.context import Workspace
from integrations.pagerduty.workspace.entities import Ref, _dicts, _str, _time
from integrations.pagerduty.workspace.operations import operation


@dataclass(frozen=True)
class Alert:
    """One alert of an incident, with its body as the monitor sent it."""

    id: str
    summary: str
    status: str
    severity: str
    alert_key: str
    created_at: datetime | None
    resolved_at: datetime | None
    html_url: str
    suppressed: bool | None
    service: Ref | None
    incident: Ref | None
    integration: Ref | None
    details: dict[str, Any] = field(default_factory=dict)
    contexts: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Alert:
        body = data.get("body") if isinstance(data.get("body"), dict) else {}
        details = body.get("details")
        suppressed = data.get("suppressed")
        return cls(
            id=_str(data.get("id")),
            summary=_str(data.get("summary")),
            status=_str(data.get("status")),
            severity=_str(data.get("severity")),
            alert_key=_str(data.get("alert_key")),
            created_at=_time(data.get("created_at")),
            resolved_at=_time(data.get("resolved_at")),
            html_url=_str(data.get("html_url")),
            suppressed=suppressed if isinstance(suppressed, bool) else None,
            service=Ref.from_api(data.get("service")),
            incident=Ref.from_api(data.get("incident")),
            integration=Ref.from_api(data.get("integration")),
            details=details if isinstance(details, dict) else {},
            contexts=_dicts(body.get("contexts")),
        )


@dataclass(frozen=True)
class AlertPage:
    """One page of an incident's alerts, oldest first."""

    alerts: list[Alert]
    more: bool
    offset: int


@operation(scope=Scope.INCIDENTS_READ)
def incident_alert_list(
    *, ws: Workspace, incident_id: str, limit: int = 25, offset: int = 0
) -> AlertPage:
    """Return one page of an incident's alerts: one call."""
    incident_id = inputs.pd_id(incident_id, "incident_id")
    limit = inputs.bounded(limit, "limit", low=1, high=100)
    offset = inputs.bounded(offset, "offset", low=0, high=OFFSET_CAP - limit)
    page = ws.read_page(
        inputs.path("/incidents/{}/alerts", incident_id),
        key="alerts",
        scope=Scope.INCIDENTS_READ,
        offset=offset,
        limit=limit,
        build=Alert.from_api,
    )
    return AlertPage(alerts=page.items, more=page.more, offset=offset)


@operation(scope=Scope.INCIDENTS_READ)
def incident_alert_get(*, ws: Workspace, incident_id: str, alert_id: str) -> Alert:
    """Return one alert of an incident: one call."""
    incident_id = inputs.pd_id(incident_id, "incident_id")
    alert_id = inputs.pd_id(alert_id, "alert_id")
    body = ws.read(
        inputs.path("/incidents/{}/alerts/{}", incident_id, alert_id),
        scope=Scope.INCIDENTS_READ,
    )
    alert = body.get("alert") if isinstance(body, dict) else None
    return Alert.from_api(alert if isinstance(alert, dict) else {})
