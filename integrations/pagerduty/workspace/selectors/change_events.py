"""Change events (deploys, config pushes) of a service or near an incident."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.utils.translation import gettext as _

from integrations.pagerduty.client import OFFSET_CAP
from integrations.pagerduty.scopes import Scope
from integrations.pagerduty.workspace import inputs
from integrations.pagerduty.workspace.context import Workspace
from integrations.pagerduty.workspace.entities import Ref, _dicts, _str, _time
from integrations.pagerduty.workspace.operations import operation

# PagerDuty answers at most this many change events related to an incident.
RELATED_LIMIT = 100


@dataclass(frozen=True)
class ChangeEvent:
    """A change reported to PagerDuty for one or more services.

    The routing key is left out on purpose: it is the integration's key,
    which lets anyone holding it send events to the service.
    """

    id: str
    summary: str
    timestamp: datetime | None
    source: str
    services: list[Ref]
    integration: Ref | None
    links: list[dict[str, Any]] = field(default_factory=list)
    images: list[dict[str, Any]] = field(default_factory=list)
    custom_details: dict[str, Any] = field(default_factory=dict)
    # Why PagerDuty relates it to an incident ("most_recent", …), if it does.
    correlation: str = ""

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> ChangeEvent:
        details = data.get("custom_details")
        reason = data.get("correlation_reason")
        return cls(
            id=_str(data.get("id")),
            summary=_str(data.get("summary")),
            timestamp=_time(data.get("timestamp")),
            source=_str(data.get("source")),
            services=[
                ref
                for ref in map(Ref.from_api, _dicts(data.get("services")))
                if ref is not None
            ],
            integration=Ref.from_api(data.get("integration")),
            links=_dicts(data.get("links")),
            images=_dicts(data.get("images")),
            custom_details=details if isinstance(details, dict) else {},
            correlation=_str(reason.get("reason")) if isinstance(reason, dict) else "",
        )


@dataclass(frozen=True)
class ChangeEventQuery:
    """A service's change events to read; checked when built."""

    service_id: str
    since: datetime | None = None
    until: datetime | None = None
    team_ids: tuple[str, ...] = ()
    integration_ids: tuple[str, ...] = ()
    limit: int = 25
    offset: int = 0

    def __post_init__(self):
        inputs.pd_id(self.service_id, "service_id")
        for name in ("since", "until"):
            if getattr(self, name) is not None:
                inputs.aware(getattr(self, name), name)
        if self.since and self.until and self.since >= self.until:
            raise inputs.InvalidInput("until", _("“since” must be before “until”."))
        for name in ("team_ids", "integration_ids"):
            if getattr(self, name):
                inputs.pd_ids(getattr(self, name), name, limit=100)
        inputs.bounded(self.limit, "limit", low=1, high=100)
        inputs.bounded(self.offset, "offset", low=0, high=OFFSET_CAP - self.limit)

    def params(self) -> dict[str, Any]:
        params: dict[str, Any] = {}
        if self.since:
            params["since"] = self.since.isoformat()
        if self.until:
            params["until"] = self.until.isoformat()
        if self.team_ids:
            params["team_ids[]"] = list(self.team_ids)
        if self.integration_ids:
            params["integration_ids[]"] = list(self.integration_ids)
        return params


@dataclass(frozen=True)
class ChangeEventPage:
    """One page of a service's change events, newest first."""

    events: list[ChangeEvent]
    more: bool
    total: int | None
    offset: int


@operation(scope=Scope.SERVICES_READ)
def service_change_events(
    *, ws: Workspace, query: ChangeEventQuery, total: bool = False
) -> ChangeEventPage:
    """Return one page of a service's change events: one call."""
    if not isinstance(query, ChangeEventQuery):
        raise inputs.InvalidInput("query", _("Give a change event query."))
    page = ws.read_page(
        inputs.path("/services/{}/change_events", query.service_id),
        key="change_events",
        scope=Scope.SERVICES_READ,
        params=query.params(),
        offset=query.offset,
        limit=query.limit,
        total=total is True,
        build=ChangeEvent.from_api,
    )
    return ChangeEventPage(
        events=page.items, more=page.more, total=page.total, offset=query.offset
    )


@operation(scope=Scope.INCIDENTS_READ)
def incident_change_events(
    *, ws: Workspace, incident_id: str, limit: int = 25
) -> list[ChangeEvent]:
    """Return the change events PagerDuty relates to an incident: one call."""
    incident_id = inputs.pd_id(incident_id, "incident_id")
    limit = inputs.bounded(limit, "limit", low=1, high=RELATED_LIMIT)
    body = ws.read(
        inputs.path("/incidents/{}/related_change_events", incident_id),
        {"limit": limit},
        scope=Scope.INCIDENTS_READ,
    )
    items = body.get("change_events") if isinstance(body, dict) else None
    return [ChangeEvent.from_api(item) for item in _dicts(items)][:limit]
