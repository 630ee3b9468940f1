"""User and team writes, team membership included."""

from __future__ import annotations

from integrations.pagerduty.scopes import Scope
from integrations.pagerduty.workspace import inputs
from integrations.pagerduty.workspace.context import Workspace
from integrations.pagerduty.workspace.entities import Team, User
from integrations.pagerduty.workspace.operations import operation

MAX_PERSON_FIELD = 100
TEAM_DEFAULT_ROLES = ("manager", "none")


def _user_body(*, name, email, role, job_title) -> dict:
    return {
        "type": "user",
        "name": inputs.text(name, "name", max_length=MAX_PERSON_FIELD, required=True),
        "email": inputs.email(email, "email"),
        "role": inputs.choice(role, "role", inputs.USER_ROLES),
        "job_title": inputs.text(job_title, "job_title", max_length=MAX_PERSON_FIELD),
    }


@operation(scope=Scope.USERS_WRITE, write=True)
def user_create(
    *,
    ws: Workspace,
    name: str,
    email: str,
    role: str,
    job_title: str = "",
    time_zone: str = "",
) -> User:
    """Create a user (PagerDuty wants `From`; the client sends it)."""
    data = _user_body(name=name, email=email, role=role, job_title=job_title)
    if not data["job_title"]:
        del data["job_title"]
    if time_zone:
        data["time_zone"] = inputs.time_zone(time_zone, "time_zone")
    return User.from_api(
        ws.write_client.create_entity(
            "/users", "user", data, required_scope=Scope.USERS_WRITE
        )
    )


@operation(scope=Scope.USERS_WRITE, write=True, target="user_id")
def user_update(
    *, ws: Workspace, user_id: str, name: str, email: str, role: str, job_title: str
) -> User:
    """Update a user's name, email, role and job title."""
    user_id = inputs.pd_id(user_id, "user_id")
    data = _user_body(name=name, email=email, role=role, job_title=job_title)
    return User.from_api(
        ws.write_client.update_entity(
            inputs.path("/users/{}", user_id),
            "user",
            data,
            required_scope=Scope.USERS_WRITE,
        )
    )


@operation(scope=Scope.USERS_WRITE, write=True, target="user_id")
def user_delete(*, ws: Workspace, user_id: str) -> None:
    """Delete a user."""
    user_id = inputs.pd_id(user_id, "user_id")
    ws.write_client.delete(
        inputs.path("/users/{}", user_id), required_scope=Scope.USERS_WRITE
    )


def _team_body(*, name, description) -> dict:
    return {
        "type": "team",
        "name": inputs.text(name, "name", max_length=MAX_PERSON_FIELD, required=True),
        "description": inputs.text(
            description, "description", max_length=inputs.MAX_TEXT
        ),
    }


@operation(scope=Scope.TEAMS_WRITE, write=True)
def team_create(
    *, ws: Workspace, name: str, description: str = "", default_role: str = ""
) -> Team:
    """Create a team and return it; `default_role` "none" makes it private."""
    data = _team_body(name=name, description=description)
    if default_role:
        data["default_role"] = inputs.choice(
            default_role, "default_role", TEAM_DEFAULT_ROLES
        )
    return Team.from_api(
        ws.write_client.create_entity(
            "/teams", "team", data, required_scope=Scope.TEAMS_WRITE
        )
    )


@operation(scope=Scope.TEAMS_WRITE, write=True, target="team_id")
def team_update(*, ws: Workspace, team_id: str, name: str, description: str) -> Team:
    """Update a team's name and description."""
    team_id = inputs.pd_id(team_id, "team_id")
    data = _team_body(name=name, description=description)
    return Team.from_api(
        ws.write_client.update_entity(
            inputs.path("/teams/{}", team_id),
            "team",
            data,
            required_scope=Scope.TEAMS_WRITE,
        )
    )


@operation(scope=Scope.TEAMS_WRITE, write=True, target="team_id")
def team_delete(*, ws: Workspace, team_id: str) -> None:
    """Delete a team."""
    team_id = inputs.pd_id(team_id, "team_id")
    ws.write_client.delete(
        inputs.path("/teams/{}", team_id), required_scope=Scope.TEAMS_WRITE
    )


@operation(scope=Scope.TEAMS_WRITE, write=True, target="team_id")
def team_add_member(*, ws: Workspace, team_id: str, user_id: str, role: str) -> None:
    """Add a user to a team with a team role (or change their role)."""
    team_id = inputs.pd_id(team_id, "team_id")
    user_id = inputs.pd_id(user_id, "user_id")
    role = inputs.choice(role, "role", inputs.TEAM_ROLES)
    ws.write_client.put(
        inputs.path("/teams/{}/users/{}", team_id, user_id),
        {"role": role},
        required_scope=Scope.TEAMS_WRITE,
    )


@operation(scope=Scope.TEAMS_WRITE, write=True, target="team_id")
def team_remove_member(*, ws: Workspace, team_id: str, user_id: str) -> None:
    """Remove a user from a team."""
    team_id = inputs.pd_id(team_id, "team_id")
    user_id = inputs.pd_id(user_id, "user_id")
    ws.write_client.delete(
        inputs.path("/teams/{}/users/{}", team_id, user_id),
        required_scope=Scope.TEAMS_WRITE,
    )
