"""Service writes: create, edit, enable or disable, delete."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from integrations.pagerduty.scopes import Scope
from integrations.pagerduty.workspace import inputs
from integrations.pagerduty.workspace.context import Workspace
from integrations.pagerduty.workspace.entities import Service
from integrations.pagerduty.workspace.operations import operation

# PagerDuty takes timeouts in seconds; a day is the longest the form offers.
MAX_TIMEOUT = 7 * 24 * 3600
MAX_TEAMS = 50
# The statuses a person sets; the others PagerDuty derives from incidents.
SETTABLE_STATUSES = ("active", "disabled", "maintenance")


@dataclass(frozen=True)
class ServiceInput:
    """What a service is made of; checked when built."""

    name: str
    escalation_policy_id: str
    description: str = ""
    acknowledgement_timeout: int | None = None
    auto_resolve_timeout: int | None = None
    team_ids: tuple[str, ...] = ()

    def __post_init__(self):
        inputs.text(self.name, "name", max_length=inputs.MAX_NAME, required=True)
        if self.team_ids:
            inputs.pd_ids(self.team_ids, "team_ids", limit=MAX_TEAMS)
        inputs.text(self.description, "description", max_length=inputs.MAX_TEXT)
        inputs.pd_id(self.escalation_policy_id, "escalation_policy_id")
        for field in ("acknowledgement_timeout", "auto_resolve_timeout"):
            inputs.optional_bounded(
                getattr(self, field), field, low=60, high=MAX_TIMEOUT
            )

    def body(self) -> dict[str, Any]:
        body = {
            "type": "service",
            "name": self.name,
            "description": self.description,
            "escalation_policy": {
                "id": self.escalation_policy_id,
                "type": "escalation_policy_reference",
            },
            "acknowledgement_timeout": self.acknowledgement_timeout,
            "auto_resolve_timeout": self.auto_resolve_timeout,
        }
        if self.team_ids:
            body["teams"] = _team_refs(self.team_ids)
        return body


def _team_refs(team_ids) -> list[dict[str, str]]:
    return [{"id": team_id, "type": "team_reference"} for team_id in team_ids]


@dataclass(frozen=True)
class ServiceChanges:
    """Some of a service's fields; those left None stay as they are."""

    name: str | None = None
    description: str | None = None
    escalation_policy_id: str | None = None
    status: str | None = None
    team_ids: tuple[str, ...] | None = None

    def __post_init__(self):
        if self.name is not None:
            inputs.text(self.name, "name", max_length=inputs.MAX_NAME, required=True)
        if self.description is not None:
            inputs.text(self.description, "description", max_length=inputs.MAX_TEXT)
        if self.escalation_policy_id is not None:
            inputs.pd_id(self.escalation_policy_id, "escalation_policy_id")
        if self.status is not None:
            inputs.choice(self.status, "status", SETTABLE_STATUSES)
        if self.team_ids is not None:
            if not isinstance(self.team_ids, tuple):
                raise inputs.InvalidInput("team_ids", _("Give a list of team IDs."))
            if self.team_ids:
                inputs.pd_ids(self.team_ids, "team_ids", limit=MAX_TEAMS)

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"type": "service"}
        if self.name is not None:
            body["name"] = self.name
        if self.description is not None:
            body["description"] = self.description
        if self.escalation_policy_id is not None:
            body["escalation_policy"] = {
                "id": self.escalation_policy_id,
                "type": "escalation_policy_reference",
            }
        if self.status is not None:
            body["status"] = self.status
        if self.team_ids is not None:
            body["teams"] = _team_refs(self.team_ids)
        return body


def _checked(data: object) -> ServiceInput:
    if not isinstance(data, ServiceInput):
        raise inputs.InvalidInput("service", _("Give a service."))
    return data


@operation(scope=Scope.SERVICES_WRITE, write=True)
def service_create(*, ws: Workspace, data: ServiceInput) -> Service:
    """Create a service and return it."""
    body = _checked(data).body()
    return Service.from_api(
        ws.write_client.create_entity(
            "/services", "service", body, required_scope=Scope.SERVICES_WRITE
        )
    )


@operation(scope=Scope.SERVICES_WRITE, write=True, target="service_id")
def service_update(*, ws: Workspace, service_id: str, data: ServiceInput) -> Service:
    """Update a service's name, description, policy and timeouts."""
    service_id = inputs.pd_id(service_id, "service_id")
    body = _checked(data).body()
    return Service.from_api(
        ws.write_client.update_entity(
            inputs.path("/services/{}", service_id),
            "service",
            body,
            required_scope=Scope.SERVICES_WRITE,
        )
    )


@operation(scope=Scope.SERVICES_WRITE, write=True, target="service_id")
def service_change(
    *, ws: Workspace, service_id: str, changes: ServiceChanges
) -> Service:
    """Change only the given fields of a service."""
    service_id = inputs.pd_id(service_id, "service_id")
    if not isinstance(changes, ServiceChanges):
        raise inputs.InvalidInput("service", _("Give the changes to make."))
    return Service.from_api(
        ws.write_client.update_entity(
            inputs.path("/services/{}", service_id),
            "service",
            changes.body(),
            required_scope=Scope.SERVICES_WRITE,
        )
    )


@operation(scope=Scope.SERVICES_WRITE, write=True, target="service_id")
def service_set_enabled(*, ws: Workspace, service_id: str, enabled: bool) -> Service:
    """Enable (status active) or disable a service."""
    service_id = inputs.pd_id(service_id, "service_id")
    if not isinstance(enabled, bool):
        raise inputs.InvalidInput("enabled", _("Give true or false."))
    return Service.from_api(
        ws.write_client.update_entity(
            inputs.path("/services/{}", service_id),
            "service",
            {"type": "service", "status": "active" if enabled else "disabled"},
            required_scope=Scope.SERVICES_WRITE,
        )
    )


@operation(scope=Scope.SERVICES_WRITE, write=True, target="service_id")
def service_delete(*, ws: Workspace, service_id: str) -> None:
    """Delete a service."""
    service_id = inputs.pd_id(service_id, "service_id")
    ws.write_client.delete(
        inputs.path("/services/{}", service_id), required_scope=Scope.SERVICES_WRITE
    )
