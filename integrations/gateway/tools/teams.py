"""Team tools: pagerduty-mcp 1.1.0's team reads and writes, with their names
and input schemas. Writes act as the person, through their own link.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from integrations.gateway.conf import SCOPE_READ, SCOPE_WRITE
from integrations.gateway.tools.errors import ToolError
from integrations.gateway.tools.incidents import check_id
from integrations.gateway.tools.registry import pagerduty_mcp_schema, register
from integrations.gateway.tools.users import limit_of, own_pagerduty_user, reference
from integrations.pagerduty.workspace import selectors, services

TEAM_SCOPES = ("all", "my")


def team_result(team) -> dict:
    return {
        "id": team.id,
        "summary": team.name,
        "name": team.name,
        "description": team.description or None,
        "type": "team",
    }


@register(
    name="list_teams",
    title="List teams",
    description=(
        "List the account's teams, by name (`query`). scope 'my' lists the "
        "teams of the person this agent acts for. At most 100 per call; "
        "`more` says whether PagerDuty has more."
    ),
    input_schema=pagerduty_mcp_schema("list_teams"),
    access=SCOPE_READ,
    operations=("GET /teams", "GET /users/{id}"),
    read_only=True,
    destructive=False,
    idempotent=True,
    compatible=True,
)
def list_teams(ctx, args: dict) -> dict:
    scope = args.get("scope") or "all"
    if scope not in TEAM_SCOPES:
        raise ToolError(_("scope must be 'all' or 'my'."), code="invalid_arguments")
    limit = limit_of(args, ctx)
    query = args.get("query") or ""
    if scope == "my":
        # PagerDuty names a user's teams on the user; no list filters by member.
        user = selectors.user_get(ws=ctx.ws, user_id=own_pagerduty_user(ctx))
        teams = [
            {"id": ref.id, "summary": ref.name, "name": ref.name, "type": "team"}
            for ref in user.teams
            if query.lower() in ref.name.lower()
        ]
        return {"response": teams[:limit], "more": len(teams) > limit}
    page = selectors.team_list(ws=ctx.ws, query=query, limit=limit)
    return {"response": [team_result(team) for team in page.items], "more": page.more}


@register(
    name="get_team",
    title="Get a team",
    description="Get one team by its ID: name and description.",
    input_schema=pagerduty_mcp_schema("get_team"),
    access=SCOPE_READ,
    operations=("GET /teams/{id}", "GET /teams/{id}/members"),
    read_only=True,
    destructive=False,
    idempotent=True,
    compatible=True,
)
def get_team(ctx, args: dict) -> dict:
    team, members = selectors.team_get(
        ws=ctx.ws, team_id=check_id(args["team_id"], "team_id")
    )
    return {
        **team_result(team),
        "members": [
            {**reference(member.user, "user"), "role": member.role}
            for member in members[: ctx.max_results]
        ],
    }


@register(
    name="list_team_members",
    title="List a team's members",
    description=(
        "List the members of a team (user references with their team role), "
        "at most 100; `more` says whether the team has more."
    ),
    input_schema=pagerduty_mcp_schema("list_team_members"),
    access=SCOPE_READ,
    operations=("GET /teams/{id}/members",),
    read_only=True,
    destructive=False,
    idempotent=True,
    compatible=True,
)
def list_team_members(ctx, args: dict) -> dict:
    page = selectors.team_member_list(
        ws=ctx.ws, team_id=check_id(args["team_id"], "team_id")
    )
    members = page.items[: ctx.max_results]
    return {
        "response": [
            {**reference(member.user, "user"), "role": member.role}
            for member in members
        ],
        "more": page.more or len(page.items) > len(members),
    }


def _team_fields(model: dict) -> dict:
    team = model["team"]
    return {"name": team["name"], "description": team.get("description") or ""}


@register(
    name="create_team",
    title="Create a team",
    description=(
        "Create a team (name, description; default_role 'none' makes it "
        "private). Needs the PagerDuty role to manage teams."
    ),
    input_schema=pagerduty_mcp_schema("create_team"),
    access=SCOPE_WRITE,
    operations=("POST /teams",),
    read_only=False,
    destructive=False,
    idempotent=False,
    free_text=("name", "description"),
    compatible=True,
)
def create_team(ctx, args: dict) -> dict:
    model = args["create_model"]
    return team_result(
        services.team_create(
            ws=ctx.ws,
            **_team_fields(model),
            default_role=model["team"].get("default_role") or "",
        )
    )


@register(
    name="update_team",
    title="Update a team",
    description=(
        "Replace a team's name and description (a missing description clears it)."
    ),
    input_schema=pagerduty_mcp_schema("update_team"),
    access=SCOPE_WRITE,
    operations=("PUT /teams/{id}",),
    read_only=False,
    destructive=True,
    idempotent=True,
    free_text=("name", "description"),
    compatible=True,
)
def update_team(ctx, args: dict) -> dict:
    return team_result(
        services.team_update(
            ws=ctx.ws,
            team_id=check_id(args["team_id"], "team_id"),
            **_team_fields(args["update_model"]),
        )
    )


@register(
    name="delete_team",
    title="Delete a team",
    description=(
        "Delete a team. Its services, escalation policies and schedules stay, "
        "without the team."
    ),
    input_schema=pagerduty_mcp_schema("delete_team"),
    access=SCOPE_WRITE,
    operations=("DELETE /teams/{id}",),
    read_only=False,
    destructive=True,
    idempotent=True,
    compatible=True,
)
def delete_team(ctx, args: dict) -> dict:
    team_id = check_id(args["team_id"], "team_id")
    services.team_delete(ws=ctx.ws, team_id=team_id)
    return {"result": f"Successfully deleted team {team_id}"}


@register(
    name="add_team_member",
    title="Add a team member",
    description=(
        "Add a user to a team with a team role (observer, responder, "
        "manager; default manager), or change a member's role."
    ),
    input_schema=pagerduty_mcp_schema("add_team_member"),
    access=SCOPE_WRITE,
    operations=("PUT /teams/{id}/users/{user_id}",),
    read_only=False,
    # On a member already in the team it replaces their role.
    destructive=True,
    idempotent=True,
    compatible=True,
)
def add_team_member(ctx, args: dict) -> dict:
    member = args["member_data"]
    services.team_add_member(
        ws=ctx.ws,
        team_id=check_id(args["team_id"], "team_id"),
        user_id=check_id(member["user_id"], "user_id"),
        role=member.get("role", "manager"),
    )
    return {"result": "Successfully added user to team"}


@register(
    name="remove_team_member",
    title="Remove a team member",
    description="Remove a user from a team.",
    input_schema=pagerduty_mcp_schema("remove_team_member"),
    access=SCOPE_WRITE,
    operations=("DELETE /teams/{id}/users/{user_id}",),
    read_only=False,
    destructive=True,
    idempotent=True,
    compatible=True,
)
def remove_team_member(ctx, args: dict) -> dict:
    team_id = check_id(args["team_id"], "team_id")
    user_id = check_id(args["user_id"], "user_id")
    services.team_remove_member(ws=ctx.ws, team_id=team_id, user_id=user_id)
    return {"result": f"Successfully removed user {user_id} from team {team_id}"}
