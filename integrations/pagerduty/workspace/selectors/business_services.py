"""Business services and service dependencies (`services.read`)."""

from __future__ import annotations

from integrations.pagerduty.client import Page
from integrations.pagerduty.scopes import Scope
from integrations.pagerduty.workspace import inputs
from integrations.pagerduty.workspace.context import Workspace
from integrations.pagerduty.workspace.entities import (
    BusinessService,
    ServiceDependency,
)
from integrations.pagerduty.workspace.operations import operation
from integrations.pagerduty.workspace.selectors.common import MAX_LIST_OFFSET


@operation(scope=Scope.SERVICES_READ)
def business_service_list(*, ws: Workspace, offset: int = 0, limit: int = 100) -> Page:
    """Return one page of business services: one call."""
    offset = inputs.bounded(offset, "offset", low=0, high=MAX_LIST_OFFSET)
    limit = inputs.bounded(limit, "limit", low=1, high=100)
    return ws.read_page(
        "/business_services",
        key="business_services",
        scope=Scope.SERVICES_READ,
        offset=offset,
        limit=limit,
        build=BusinessService.from_api,
    )


def _relationships(ws: Workspace, path: str) -> list[ServiceDependency]:
    body = ws.read(path, scope=Scope.SERVICES_READ)
    items = body.get("relationships") if isinstance(body, dict) else None
    return [
        ServiceDependency.from_api(item)
        for item in items or ()
        if isinstance(item, dict)
    ]


@operation(scope=Scope.SERVICES_READ)
def technical_service_dependencies(
    *, ws: Workspace, service_id: str
) -> list[ServiceDependency]:
    """Return the dependencies a technical service takes part in: one call."""
    service_id = inputs.pd_id(service_id, "service_id")
    return _relationships(
        ws,
        inputs.path("/service_dependencies/technical_services/{}", service_id),
    )


@operation(scope=Scope.SERVICES_READ)
def business_service_dependencies(
    *, ws: Workspace, business_service_id: str
) -> list[ServiceDependency]:
    """Return the dependencies a business service takes part in: one call."""
    business_service_id = inputs.pd_id(business_service_id, "business_service_id")
    return _relationships(
        ws,
        inputs.path("/service_dependencies/business_services/{}", business_service_id),
    )
