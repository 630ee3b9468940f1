"""User tools: pagerduty-mcp 1.1.0's `get_user_data`, `list_users` and
`create_user`, with their names and input schemas.

Results keep pagerduty-mcp's model fields (`User`, references with their
`type`), so prompts written for PagerDuty's server read them unchanged.
"""

from __future__ import annotations

from datetime import datetime

from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from integrations.gateway.conf import SCOPE_READ, SCOPE_WRITE
from integrations.gateway.tools.errors import ToolError
from integrations.gateway.tools.incidents import check_id
from integrations.gateway.tools.registry import pagerduty_mcp_schema, register
from integrations.pagerduty.workspace import selectors, services
from integrations.pagerduty.workspace.access import LinkRequired


def reference(ref, kind: str) -> dict | None:
    """Return a PagerDuty reference as pagerduty-mcp's models print it."""
    if ref is None:
        return None
    return {"id": ref.id, "summary": ref.name, "type": f"{kind}_reference"}


def user_result(user) -> dict:
    return {
        "id": user.id,
        "summary": user.name,
        "name": user.name,
        "email": user.email,
        "role": user.role,
        "teams": [reference(team, "team") for team in user.teams],
        "time_zone": user.time_zone or None,
        "job_title": user.job_title or None,
        "type": "user",
    }


def limit_of(args: dict, ctx, default: int | None = None) -> int:
    """Return the agent's `limit`, capped at the gateway's result cap."""
    limit = args.get("limit") or default or ctx.max_results
    if limit < 1:
        raise ToolError(_("limit must be at least 1."), code="invalid_arguments")
    return min(limit, ctx.max_results)


def ids_of(args: dict, name: str) -> tuple[str, ...]:
    return tuple(check_id(value, name) for value in args.get(name) or ())


def time_of(value, name: str) -> datetime | None:
    """Return an ISO 8601 date-time that carries its time zone, or None."""
    if value is None:
        return None
    try:
        parsed = parse_datetime(value) if isinstance(value, str) else None
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise ToolError(
            _(
                "%(name)s must be an ISO 8601 date-time with a time zone, "
                "e.g. 2026-01-31T09:00:00Z."
            )
            % {"name": name},
            code="invalid_arguments",
        )
    return parsed


def own_pagerduty_user(ctx) -> str:
    """Return the PagerDuty user ID of the person the agent acts for."""
    link = ctx.ws.usable_link
    if link is None or not link.pd_user_id:
        raise LinkRequired
    return link.pd_user_id


@register(
    name="get_user_data",
    title="Get my PagerDuty user",
    description=(
        "Get the PagerDuty user of the person this agent acts for (their "
        "linked PagerDuty account): name, email, role, time zone and teams."
    ),
    input_schema=pagerduty_mcp_schema("get_user_data"),
    access=SCOPE_READ,
    operations=("GET /users/{id}",),
    read_only=True,
    destructive=False,
    idempotent=True,
    compatible=True,
)
def get_user_data(ctx, args: dict) -> dict:
    return user_result(selectors.user_get(ws=ctx.ws, user_id=own_pagerduty_user(ctx)))


@register(
    name="list_users",
    title="List users",
    description=(
        "List the account's PagerDuty users with their teams, by name: "
        "`query` matches names and emails, `teams_ids` keeps members of "
        "those teams. At most 100 per call; `more` says whether PagerDuty "
        "has more, then narrow the query."
    ),
    input_schema=pagerduty_mcp_schema("list_users"),
    access=SCOPE_READ,
    operations=("GET /users",),
    read_only=True,
    destructive=False,
    idempotent=True,
    compatible=True,
)
def list_users(ctx, args: dict) -> dict:
    page = selectors.user_list(
        ws=ctx.ws,
        query=args.get("query") or "",
        team_ids=ids_of(args, "teams_ids"),
        limit=limit_of(args, ctx, default=100),
    )
    return {"response": [user_result(user) for user in page.items], "more": page.more}


@register(
    name="create_user",
    title="Create a user",
    description=(
        "Create a PagerDuty user (name, email, role, time zone); PagerDuty "
        "sends no invitation. Needs the PagerDuty role to manage users."
    ),
    input_schema=pagerduty_mcp_schema("create_user"),
    access=SCOPE_WRITE,
    operations=("POST /users",),
    read_only=False,
    destructive=False,
    idempotent=False,
    free_text=("name", "email"),
    compatible=True,
)
def create_user(ctx, args: dict) -> dict:
    request = args["request"]
    return user_result(
        services.user_create(
            ws=ctx.ws,
            name=request["name"],
            email=request["email"],
            role=request.get("role", "user"),
            time_zone=request.get("time_zone", "UTC"),
        )
    )
