"""Directory lists of references (ID and name) for pickers.

One call per 100 entries (at most ten), cached as directory lists
(`cache.DIRECTORY`): incident changes leave them, directory writes drop them.
"""

from __future__ import annotations

from integrations.pagerduty.scopes import Scope
from integrations.pagerduty.workspace import inputs
from integrations.pagerduty.workspace.context import Workspace
from integrations.pagerduty.workspace.entities import Ref
from integrations.pagerduty.workspace.operations import operation

# PagerDuty's page size is 100; pickers offer up to 1,000 by name.
REFS_LIMIT = 100
REFS_PAGES = 10


def _refs(ws: Workspace, path: str, key: str, scope: str) -> list[Ref]:
    refs: list[Ref] = []
    offset = 0
    for _page in range(REFS_PAGES):
        page = ws.read_page(
            path,
            key=key,
            scope=scope,
            offset=offset,
            limit=REFS_LIMIT,
            build=Ref.from_api,
            directory=True,
        )
        refs.extend(ref for ref in page.items if ref is not None)
        if not page.more or not page.items:
            break
        offset = page.next_offset
    return refs


@operation(scope=Scope.SERVICES_READ)
def service_refs(*, ws: Workspace) -> list[Ref]:
    """Return up to 1,000 services as references, one call per 100."""
    return _refs(ws, "/services", "services", Scope.SERVICES_READ)


@operation(scope=Scope.USERS_READ)
def user_refs(*, ws: Workspace) -> list[Ref]:
    """Return up to 1,000 users as references, one call per 100."""
    return _refs(ws, "/users", "users", Scope.USERS_READ)


@operation(scope=Scope.TEAMS_READ)
def team_refs(*, ws: Workspace) -> list[Ref]:
    """Return up to 1,000 teams as references, one call per 100."""
    return _refs(ws, "/teams", "teams", Scope.TEAMS_READ)


@operation(scope=Scope.SCHEDULES_READ)
def schedule_refs(*, ws: Workspace) -> list[Ref]:
    """Return up to 1,000 schedules as references, one call per 100."""
    return _refs(ws, "/schedules", "schedules", Scope.SCHEDULES_READ)


@operation(scope=Scope.ESCALATION_POLICIES_READ)
def escalation_policy_refs(*, ws: Workspace) -> list[Ref]:
    """Return up to 1,000 escalation policies as references, one call per 100."""
    return _refs(
        ws,
        "/escalation_policies",
        "escalation_policies",
        Scope.ESCALATION_POLICIES_READ,
    )


@operation(scope=Scope.USERS_READ)
def my_team_refs(*, ws: Workspace) -> list[Ref]:
    """Return the teams of the PagerDuty user this person acts as: one call.

    Empty without a link of their own (nobody to ask about).
    """
    link = ws.usable_link
    if link is None or not link.pd_user_id:
        return []
    body = ws.read(
        inputs.path("/users/{}", inputs.pd_id(link.pd_user_id, "user_id")),
        scope=Scope.USERS_READ,
        directory=True,
    )
    user = body.get("user") if isinstance(body, dict) else None
    teams = user.get("teams") if isinstance(user, dict) else None
    refs = [Ref.from_api(team) for team in teams or [] if isinstance(team, dict)]
    return [ref for ref in refs if ref is not None]


def refs_if_granted(ws: Workspace, selector) -> list[Ref]:
    """Return a picker's references, or none when its scope was not granted."""
    if not ws.can(selector.operation.scope):
        return []
    return selector(ws=ws)
