"""Short lists of references (ID and name) for pickers: one call each."""

from __future__ import annotations

from integrations.pagerduty.scopes import Scope
from integrations.pagerduty.workspace.context import Workspace
from integrations.pagerduty.workspace.entities import Ref
from integrations.pagerduty.workspace.operations import operation

# Pickers offer the first 100 by name; PagerDuty's page size is 100.
REFS_LIMIT = 100


def _refs(ws: Workspace, path: str, key: str, scope: str) -> list[Ref]:
    page = ws.read_page(path, key=key, scope=scope, limit=REFS_LIMIT)
    return [ref for ref in map(Ref.from_api, page.items) if ref is not None]


@operation(scope=Scope.SERVICES_READ)
def service_refs(*, ws: Workspace) -> list[Ref]:
    """Return up to 100 services as references."""
    return _refs(ws, "/services", "services", Scope.SERVICES_READ)


@operation(scope=Scope.USERS_READ)
def user_refs(*, ws: Workspace) -> list[Ref]:
    """Return up to 100 users as references."""
    return _refs(ws, "/users", "users", Scope.USERS_READ)


@operation(scope=Scope.TEAMS_READ)
def team_refs(*, ws: Workspace) -> list[Ref]:
    """Return up to 100 teams as references."""
    return _refs(ws, "/teams", "teams", Scope.TEAMS_READ)


@operation(scope=Scope.SCHEDULES_READ)
def schedule_refs(*, ws: Workspace) -> list[Ref]:
    """Return up to 100 schedules as references."""
    return _refs(ws, "/schedules", "schedules", Scope.SCHEDULES_READ)


@operation(scope=Scope.ESCALATION_POLICIES_READ)
def escalation_policy_refs(*, ws: Workspace) -> list[Ref]:
    """Return up to 100 escalation policies as references."""
    return _refs(
        ws,
        "/escalation_policies",
        "escalation_policies",
        Scope.ESCALATION_POLICIES_READ,
    )


def refs_if_granted(ws: Workspace, selector) -> list[Ref]:
    """Return a picker's references, or none when its scope was not granted."""
    if not ws.can(selector.operation.scope):
        return []
    return selector(ws=ws)
