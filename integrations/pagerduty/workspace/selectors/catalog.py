"""Service reads: the list and one service."""

from __future__ import annotations

from dataclasses import dataclass

from integrations.pagerduty.scopes import Scope
from integrations.pagerduty.workspace import inputs
from integrations.pagerduty.workspace.context import Workspace
from integrations.pagerduty.workspace.entities import Service
from integrations.pagerduty.workspace.operations import operation
from integrations.pagerduty.workspace.selectors.common import (
    MAX_FILTER_IDS,
    MAX_LIST_OFFSET,
    query_params,
)


@dataclass
class ServicePage:
    services: list[Service]
    total: int | None
    more: bool
    offset: int
    limit: int


@operation(scope=Scope.SERVICES_READ)
def service_list(
    *,
    ws: Workspace,
    query: str = "",
    offset: int = 0,
    limit: int = 25,
    team_ids: tuple[str, ...] = (),
) -> ServicePage:
    """Return one page of services with policies and teams: one call.

    The policy and team references already carry their names (`summary`),
    all the list shows; including the full objects made the response
    twenty times larger.
    """
    offset = inputs.bounded(offset, "offset", low=0, high=MAX_LIST_OFFSET)
    limit = inputs.bounded(limit, "limit", low=1, high=100)
    params = query_params(query)
    if team_ids:
        params["team_ids[]"] = inputs.pd_ids(team_ids, "team_ids", limit=MAX_FILTER_IDS)
    page = ws.read_page(
        "/services",
        key="services",
        scope=Scope.SERVICES_READ,
        params=params,
        offset=offset,
        limit=limit,
        total=True,
        build=Service.from_api,
    )
    return ServicePage(
        services=page.items,
        total=page.total,
        more=page.more,
        offset=offset,
        limit=limit,
    )


@operation(scope=Scope.SERVICES_READ)
def service_get(*, ws: Workspace, service_id: str) -> Service:
    """Return a service with its policy, teams and integrations: one call."""
    service_id = inputs.pd_id(service_id, "service_id")
    body = ws.read(
        inputs.path("/services/{}", service_id),
        {"include[]": ["escalation_policies", "teams", "integrations"]},
        scope=Scope.SERVICES_READ,
    )
    return Service.from_api(body.get("service") or {})
