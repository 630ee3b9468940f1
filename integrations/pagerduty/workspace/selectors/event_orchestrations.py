"""A service's Event Orchestration (`services.read`)."""

from __future__ import annotations

from integrations.pagerduty.scopes import Scope
from integrations.pagerduty.workspace import inputs
from integrations.pagerduty.workspace.context import Workspace
from integrations.pagerduty.workspace.entities import ServiceOrchestration
from integrations.pagerduty.workspace.operations import operation


@operation(scope=Scope.SERVICES_READ)
def service_orchestration_get(
    *, ws: Workspace, service_id: str
) -> ServiceOrchestration:
    """Return a service's Event Orchestration rules: one call."""
    service_id = inputs.pd_id(service_id, "service_id")
    body = ws.read(
        inputs.path("/event_orchestrations/services/{}", service_id),
        scope=Scope.SERVICES_READ,
    )
    found = body.get("orchestration_path") if isinstance(body, dict) else None
    return ServiceOrchestration.from_api(found if isinstance(found, dict) else {})
