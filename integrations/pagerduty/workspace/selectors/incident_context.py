"""What PagerDuty's Event Intelligence says about an incident: how unusual it
is (outlier), which past incidents resemble it, which open ones relate."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from integrations.pagerduty.scopes import Scope
from integrations.pagerduty.workspace import inputs
from integrations.pagerduty.workspace.context import Workspace
from integrations.pagerduty.workspace.entities import _dicts, _str, _time
from integrations.pagerduty.workspace.operations import operation

# PagerDuty's own bound on past incidents per call.
MAX_PAST = 999


@dataclass(frozen=True)
class IncidentSummary:
    """The few fields these endpoints give of an incident."""

    id: str
    title: str
    created_at: datetime | None
    self_url: str

    @classmethod
    def from_api(cls, data: Any) -> IncidentSummary:
        data = data if isinstance(data, dict) else {}
        return cls(
            id=_str(data.get("id")),
            title=_str(data.get("title")) or _str(data.get("summary")),
            created_at=_time(data.get("created_at")),
            self_url=_str(data.get("self")),
        )


@dataclass(frozen=True)
class Outlier:
    """How often an incident's pattern occurred on its service."""

    incident: IncidentSummary
    count: int | None
    frequency: float | None
    category: str
    since: datetime | None
    until: datetime | None
    template_id: str
    cluster_id: str
    mined_text: str


@dataclass(frozen=True)
class PastIncident:
    incident: IncidentSummary
    score: float | None


@dataclass(frozen=True)
class PastIncidents:
    """Similar incidents of the last six months on the same service."""

    incidents: list[PastIncident]
    total: int | None
    limit: int


@dataclass(frozen=True)
class RelatedIncident:
    incident: IncidentSummary
    # PagerDuty's relationships as given: a type and type-specific metadata.
    relationships: list[dict[str, Any]] = field(default_factory=list)


def _number(value: Any, kind: type) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return kind(value)


@operation(scope=Scope.INCIDENTS_READ)
def incident_outlier(
    *, ws: Workspace, incident_id: str, since: datetime | None = None
) -> Outlier:
    """Return how unusual an incident is on its service: one call."""
    incident_id = inputs.pd_id(incident_id, "incident_id")
    params = {}
    if since is not None:
        params["since"] = inputs.aware(since, "since").isoformat()
    body = ws.read(
        inputs.path("/incidents/{}/outlier_incident", incident_id),
        params,
        scope=Scope.INCIDENTS_READ,
    )
    data = body.get("outlier_incident") if isinstance(body, dict) else None
    data = data if isinstance(data, dict) else {}
    incident = data.get("incident") if isinstance(data.get("incident"), dict) else {}
    occurrence = incident.get("occurrence")
    occurrence = occurrence if isinstance(occurrence, dict) else {}
    template = data.get("incident_template")
    template = template if isinstance(template, dict) else {}
    return Outlier(
        incident=IncidentSummary.from_api(incident),
        count=_number(occurrence.get("count"), int),
        frequency=_number(occurrence.get("frequency"), float),
        category=_str(occurrence.get("category")),
        since=_time(occurrence.get("since")),
        until=_time(occurrence.get("until")),
        template_id=_str(template.get("id")),
        cluster_id=_str(template.get("cluster_id")),
        mined_text=_str(template.get("mined_text")),
    )


@operation(scope=Scope.INCIDENTS_READ)
def incident_past(
    *, ws: Workspace, incident_id: str, limit: int = 5, total: bool = False
) -> PastIncidents:
    """Return past incidents similar to one, most similar first: one call."""
    incident_id = inputs.pd_id(incident_id, "incident_id")
    limit = inputs.bounded(limit, "limit", low=1, high=MAX_PAST)
    body = ws.read(
        inputs.path("/incidents/{}/past_incidents", incident_id),
        {"limit": limit, "total": total is True},
        scope=Scope.INCIDENTS_READ,
    )
    body = body if isinstance(body, dict) else {}
    return PastIncidents(
        incidents=[
            PastIncident(
                incident=IncidentSummary.from_api(item.get("incident")),
                score=_number(item.get("score"), float),
            )
            for item in _dicts(body.get("past_incidents"))
        ][:limit],
        total=_number(body.get("total"), int),
        limit=limit,
    )


@operation(scope=Scope.INCIDENTS_READ)
def incident_related(*, ws: Workspace, incident_id: str) -> list[RelatedIncident]:
    """Return the open incidents PagerDuty relates to one (at most 20): one call."""
    incident_id = inputs.pd_id(incident_id, "incident_id")
    body = ws.read(
        inputs.path("/incidents/{}/related_incidents", incident_id),
        scope=Scope.INCIDENTS_READ,
    )
    items = body.get("related_incidents") if isinstance(body, dict) else None
    return [
        RelatedIncident(
            incident=IncidentSummary.from_api(item.get("incident")),
            relationships=_dicts(item.get("relationships")),
        )
        for item in _dicts(items)
    ]
