"""User and team reads."""

from __future__ import annotations

from dataclasses import replace

from integrations.pagerduty.client import Page
from integrations.pagerduty.scopes import Scope
from integrations.pagerduty.workspace import inputs
from integrations.pagerduty.workspace.context import Workspace
from integrations.pagerduty.workspace.entities import Member, Ref, Team, User
from integrations.pagerduty.workspace.operations import operation
from integrations.pagerduty.workspace.selectors.common import (
    LIST_PAGE_SIZE,
    MAX_FILTER_IDS,
    entity_page,
    query_params,
)


@operation(scope=Scope.USERS_READ)
def user_list(
    *,
    ws: Workspace,
    query: str = "",
    offset: int = 0,
    team_ids: tuple[str, ...] = (),
    limit: int = LIST_PAGE_SIZE,
) -> Page:
    """Return one page of users with their teams, maybe of some teams: one call."""
    params = query_params(query, **{"include[]": ["teams"]})
    if team_ids:
        params["team_ids[]"] = inputs.pd_ids(team_ids, "team_ids", limit=MAX_FILTER_IDS)
    return entity_page(
        ws,
        "/users",
        key="users",
        scope=Scope.USERS_READ,
        entity=User,
        offset=offset,
        params=params,
        limit=limit,
    )


@operation(scope=Scope.USERS_READ)
def user_get(*, ws: Workspace, user_id: str) -> User:
    """Return a user with their teams: one call."""
    user_id = inputs.pd_id(user_id, "user_id")
    body = ws.read(
        inputs.path("/users/{}", user_id),
        {"include[]": ["teams"]},
        scope=Scope.USERS_READ,
    )
    return User.from_api(body.get("user") or {})


@operation(scope=Scope.TEAMS_READ)
def team_list(
    *, ws: Workspace, query: str = "", offset: int = 0, limit: int = LIST_PAGE_SIZE
) -> Page:
    """Return one page of teams: one call."""
    return entity_page(
        ws,
        "/teams",
        key="teams",
        scope=Scope.TEAMS_READ,
        entity=Team,
        offset=offset,
        params=query_params(query) or None,
        limit=limit,
    )


@operation(scope=Scope.TEAMS_READ)
def team_get(*, ws: Workspace, team_id: str) -> tuple[Team, list[Member]]:
    """Return a team and its members (up to 100): two calls."""
    team_id = inputs.pd_id(team_id, "team_id")
    path = inputs.path("/teams/{}", team_id)
    body = ws.read(path, scope=Scope.TEAMS_READ)
    return Team.from_api(body.get("team") or {}), _members(ws, path).items


@operation(scope=Scope.TEAMS_READ)
def team_member_list(*, ws: Workspace, team_id: str) -> Page:
    """Return a team's members (up to 100, `more` when there are more): one call."""
    team_id = inputs.pd_id(team_id, "team_id")
    return _members(ws, inputs.path("/teams/{}", team_id))


def _members(ws: Workspace, team_path: str) -> Page:
    page = ws.read_page(
        f"{team_path}/members", key="members", scope=Scope.TEAMS_READ, limit=100
    )
    return replace(
        page,
        items=[
            Member(user=ref, role=_role(item))
            for item in page.items
            if (ref := Ref.from_api(item.get("user"))) is not None
        ],
    )


def _role(item: dict) -> str:
    role = item.get("role")
    return role if isinstance(role, str) else ""
