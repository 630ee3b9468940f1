"""Users (with /users/me) and teams (with members)."""

import re

from pagerduty_sandbox.http import Response
from pagerduty_sandbox.rest.base import (
    ApiError,
    Ctx,
    includes,
    invalid,
    paginate,
    text_field,
)
from pagerduty_sandbox.rest.registry import route
from pagerduty_sandbox.state import Team, User

USER_ROLES = (
    "admin",
    "limited_user",
    "observer",
    "owner",
    "read_only_user",
    "restricted_access",
    "read_only_limited_user",
    "user",
)
TEAM_ROLES = ("observer", "responder", "manager")
TEAM_DEFAULT_ROLES = ("manager", "none")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
AVATAR = "https://pd-static-assets.pagerduty.com/users/blank-avatar.png"


def render_user(ctx: Ctx, user: User, include=()) -> dict:
    data = {
        "id": user.id,
        "type": "user",
        "summary": user.name,
        "self": f"{ctx.api_url}/users/{user.id}",
        "html_url": ctx.html_url("users", user.id),
        "name": user.name,
        "email": user.email,
        "time_zone": user.time_zone,
        "color": user.color,
        "role": user.role,
        "avatar_url": AVATAR,
        "description": user.description,
        "invitation_sent": False,
        "job_title": user.job_title,
        "created_via_sso": False,
        "contact_methods": [],
        "notification_rules": [],
        "teams": [],
    }
    teams = ctx.state.user_teams(user.id)
    if "teams" in include:
        data["teams"] = [render_team(ctx, team) for team in teams]
    else:
        data["teams"] = [ctx.team_ref(team.id) for team in teams]
    return data


def render_team(ctx: Ctx, team: Team) -> dict:
    data = {
        "id": team.id,
        "type": "team",
        "summary": team.name,
        "self": f"{ctx.api_url}/teams/{team.id}",
        "html_url": ctx.html_url("teams", team.id),
        "name": team.name,
        "description": team.description,
        "default_role": team.default_role,
    }
    if team.description is None:
        del data["description"]
    return data


# --- Users ---


USER_INCLUDES = ("contact_methods", "notification_rules", "teams", "subdomains")


@route("GET", "/users/me")
def user_me(ctx: Ctx):
    if ctx.caller.user_id is None:
        # python-pagerduty's api_key_access relies on this message (NOTES §9).
        raise ApiError(
            400,
            "This endpoint cannot be used with an account-level access token.",
            2001,
        )
    user = ctx.state.users[ctx.caller.user_id]
    include = includes(ctx, (*USER_INCLUDES, "calendar_urls"))
    return Response.json({"user": render_user(ctx, user, include)})


@route("GET", "/users")
def user_list(ctx: Ctx):
    include = includes(ctx, USER_INCLUDES)
    query = (ctx.arg("query") or "").lower()
    team_ids = set(ctx.args("team_ids"))
    users = [
        u
        for u in ctx.state.users.values()
        if u.account_id == ctx.account_id
        and (not query or query in u.name.lower() or query in u.email)
        and (not team_ids or any(t.id in team_ids for t in ctx.state.user_teams(u.id)))
    ]
    users.sort(key=lambda u: u.name.lower())
    return paginate(ctx, users, "users", lambda u: render_user(ctx, u, include))


@route("GET", "/users/{id}")
def user_get(ctx: Ctx, id: str):  # noqa: A002 - the spec's parameter name
    user = ctx.owned(ctx.state.users, id, "User not found", 2013)
    include = includes(ctx, (*USER_INCLUDES, "calendar_urls"))
    return Response.json({"user": render_user(ctx, user, include)})


def _user_fields(data: dict, *, creating: bool) -> dict:
    fields = {}
    name = text_field(data, "name", required=creating, max_length=100)
    if name is not None:
        fields["name"] = name.strip()
    email = text_field(data, "email", required=creating, max_length=100)
    if email is not None:
        if not EMAIL_RE.fullmatch(email) or len(email) < 6:
            raise invalid("email is not a valid email address")
        fields["email"] = email.strip().lower()
    role = data.get("role")
    if role is not None:
        if role not in USER_ROLES:
            raise invalid(f"role must be one of {', '.join(USER_ROLES)}")
        fields["role"] = role
    for name in ("time_zone", "color", "job_title"):
        value = text_field(data, name, max_length=100)
        if value is not None:
            fields[name] = value
    if "description" in data:
        description = data["description"]
        if description is not None and not isinstance(description, str):
            raise invalid("description must be a string")
        fields["description"] = description
    return fields


@route("POST", "/users")
def user_create(ctx: Ctx):
    data = ctx.body("user")
    fields = _user_fields(data, creating=True)
    if ctx.state.user_by_email(fields["email"]):
        raise invalid("Email has already been taken")
    user = User(
        id=ctx.state.new_id(),
        account_id=ctx.account_id,
        password="",
        role=fields.pop("role", "user"),
        created_at=ctx.state.now(),
        **fields,
    )
    ctx.state.users[user.id] = user
    return Response.json({"user": render_user(ctx, user)}, status=201)


@route("PUT", "/users/{id}")
def user_update(ctx: Ctx, id: str):  # noqa: A002
    user = ctx.owned(ctx.state.users, id, "User not found", 2013)
    fields = _user_fields(ctx.body("user"), creating=False)
    other = ctx.state.user_by_email(fields.get("email", user.email))
    if other is not None and other.id != user.id:
        raise invalid("Email has already been taken")
    for name, value in fields.items():
        setattr(user, name, value)
    return Response.json({"user": render_user(ctx, user)})


@route("DELETE", "/users/{id}")
def user_delete(ctx: Ctx, id: str):  # noqa: A002
    user = ctx.owned(ctx.state.users, id, "User not found", 2013)
    if user.role == "owner":
        raise ApiError(
            400, "Invalid operation", 2015, ["The account owner cannot be deleted"]
        )
    open_incidents = [
        i
        for i in ctx.state.incidents.values()
        if user.id in i.assignee_ids and i.status != "resolved"
    ]
    if open_incidents:
        raise ApiError(
            400,
            "Invalid operation",
            2015,
            ["The user is assigned to open incidents; reassign or resolve them first"],
        )
    for team in ctx.state.teams.values():
        team.members.pop(user.id, None)
    del ctx.state.users[user.id]
    return Response(status=204)


# --- Teams ---


@route("GET", "/teams")
def team_list(ctx: Ctx):
    query = (ctx.arg("query") or "").lower()
    teams = [
        t
        for t in ctx.state.teams.values()
        if t.account_id == ctx.account_id and (not query or query in t.name.lower())
    ]
    teams.sort(key=lambda t: t.name.lower())
    return paginate(ctx, teams, "teams", lambda t: render_team(ctx, t))


@route("GET", "/teams/{id}")
def team_get(ctx: Ctx, id: str):  # noqa: A002
    team = ctx.owned(ctx.state.teams, id, "Team Not Found", 6001)
    includes(ctx, ("privileges",))
    return Response.json({"team": render_team(ctx, team)})


def _team_fields(data: dict, *, creating: bool) -> dict:
    fields = {}
    name = text_field(data, "name", required=creating, max_length=100)
    if name is not None:
        fields["name"] = name.strip()
    if "description" in data:
        description = data["description"]
        if description is not None and not isinstance(description, str):
            raise invalid("description must be a string")
        fields["description"] = description
    default_role = data.get("default_role")
    if default_role is not None:
        if default_role not in TEAM_DEFAULT_ROLES:
            raise invalid(
                f"default_role must be one of {', '.join(TEAM_DEFAULT_ROLES)}"
            )
        fields["default_role"] = default_role
    return fields


@route("POST", "/teams")
def team_create(ctx: Ctx):
    fields = _team_fields(ctx.body("team"), creating=True)
    if any(
        t.name == fields["name"]
        for t in ctx.state.teams.values()
        if t.account_id == ctx.account_id
    ):
        raise invalid("Name has already been taken")
    team = Team(id=ctx.state.new_id(), account_id=ctx.account_id, **fields)
    ctx.state.teams[team.id] = team
    return Response.json({"team": render_team(ctx, team)}, status=201)


@route("PUT", "/teams/{id}")
def team_update(ctx: Ctx, id: str):  # noqa: A002
    team = ctx.owned(ctx.state.teams, id, "Team Not Found", 6001)
    for name, value in _team_fields(ctx.body("team"), creating=False).items():
        setattr(team, name, value)
    return Response.json({"team": render_team(ctx, team)})


@route("DELETE", "/teams/{id}")
def team_delete(ctx: Ctx, id: str):  # noqa: A002
    team = ctx.owned(ctx.state.teams, id, "Team Not Found", 6001)
    state = ctx.state
    for collection in (state.services, state.escalation_policies, state.schedules):
        for item in collection.values():
            if team.id in item.team_ids:
                item.team_ids.remove(team.id)
    for incident in state.incidents.values():
        if team.id in incident.team_ids:
            incident.team_ids.remove(team.id)
    del state.teams[team.id]
    return Response(status=204)


@route("GET", "/teams/{id}/members")
def team_members(ctx: Ctx, id: str):  # noqa: A002
    team = ctx.owned(ctx.state.teams, id, "Team Not Found", 6001)
    members = [
        (user_id, role)
        for user_id, role in team.members.items()
        if user_id in ctx.state.users
    ]
    return paginate(
        ctx,
        members,
        "members",
        lambda m: {"user": ctx.user_ref(m[0]), "role": m[1]},
    )


@route("PUT", "/teams/{id}/users/{user_id}")
def team_member_put(ctx: Ctx, id: str, user_id: str):  # noqa: A002
    team = ctx.owned(ctx.state.teams, id, "Team Not Found", 6001)
    user = ctx.owned(ctx.state.users, user_id, "User not found", 2013)
    role = "manager"
    if ctx.request.body:
        role = ctx.body().get("role", "manager")
    if role not in TEAM_ROLES:
        raise invalid(f"role must be one of {', '.join(TEAM_ROLES)}")
    team.members[user.id] = role
    return Response(status=204)


@route("DELETE", "/teams/{id}/users/{user_id}")
def team_member_delete(ctx: Ctx, id: str, user_id: str):  # noqa: A002
    team = ctx.owned(ctx.state.teams, id, "Team Not Found", 6001)
    if user_id not in team.members:
        raise ApiError(404, "User not found", 2013, ["The user is not on this team"])
    del team.members[user_id]
    return Response(status=204)
