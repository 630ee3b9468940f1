"""Schedule tools: pagerduty-mcp 1.1.0's `list_schedules`, `get_schedule`,
`list_schedule_users` and `create_schedule_override`, with their names and
input schemas.

Layer-based (v2) schedules only: PagerDuty's shift-based (v3) API is not
among the scopes a connection is granted, so its schedules are not listed
and `kind` "shift_based" is refused.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from integrations.exceptions import PagerDutyError
from integrations.gateway.conf import SCOPE_READ, SCOPE_WRITE
from integrations.gateway.tools.errors import ToolError, from_pagerduty
from integrations.gateway.tools.incidents import check_id
from integrations.gateway.tools.registry import pagerduty_mcp_schema, register
from integrations.gateway.tools.users import (
    ids_of,
    limit_of,
    reference,
    time_of,
    user_result,
)
from integrations.pagerduty.workspace import selectors, services
from integrations.pagerduty.workspace.services.schedules import MAX_OVERRIDE

# Each override is its own call through the person's link.
MAX_OVERRIDES = 10
LIST_DEFAULT = 20


def _summary(schedule) -> dict:
    return {
        "id": schedule.id,
        "name": schedule.name,
        "kind": "layer_based",
        "time_zone": schedule.time_zone,
        "html_url": schedule.html_url or None,
        "summary": schedule.name,
    }


@register(
    name="list_schedules",
    title="List schedules",
    description=(
        "List the account's layer-based schedules, by name (`query`), team "
        "(`team_ids`) or user on them (`user_ids`). Shift-based (v3) "
        "schedules are not listed by this gateway. At most 100 per call "
        "(default 20); `more` says whether PagerDuty has more."
    ),
    input_schema=pagerduty_mcp_schema("list_schedules"),
    access=SCOPE_READ,
    operations=("GET /schedules",),
    read_only=True,
    destructive=False,
    idempotent=True,
    compatible=True,
)
def list_schedules(ctx, args: dict) -> dict:
    query = args["query_model"]
    user_ids = set(ids_of(query, "user_ids"))
    page = selectors.schedule_list(
        ws=ctx.ws,
        query=query.get("query") or "",
        team_ids=ids_of(query, "team_ids"),
        limit=limit_of(query, ctx, default=LIST_DEFAULT),
    )
    # PagerDuty's list has no user filter; the page's schedules name their users.
    found = [
        schedule
        for schedule in page.items
        if not user_ids or user_ids & {user.id for user in schedule.users}
    ]
    return {
        "response": [_summary(schedule) for schedule in found],
        "sources": [
            {
                "api": "v2",
                "status": "ok",
                "count": len(found),
                "more": page.more,
                "message": None,
            }
        ],
        "degraded": False,
    }


@register(
    name="get_schedule",
    title="Get a schedule",
    description=(
        "Get one layer-based schedule by its ID: its users, teams, escalation "
        "policies, who is on call over the next 14 days (final schedule) and "
        "the overrides in that window."
    ),
    input_schema=pagerduty_mcp_schema("get_schedule"),
    access=SCOPE_READ,
    operations=("GET /schedules/{id}", "GET /schedules/{id}/overrides"),
    read_only=True,
    destructive=False,
    idempotent=True,
    compatible=True,
)
def get_schedule(ctx, args: dict) -> dict:
    if args.get("kind") == "shift_based":
        raise ToolError(
            _("Shift-based (v3) schedules are not available through this gateway."),
            code="invalid_arguments",
        )
    detail = selectors.schedule_get(
        ws=ctx.ws, schedule_id=check_id(args["schedule_id"], "schedule_id")
    )
    # pagerduty-mcp answers either kind of schedule, so under "result".
    return {"result": _detail(detail, ctx)}


def _detail(detail, ctx) -> dict:
    schedule = detail.schedule
    return {
        **_summary(schedule),
        "description": schedule.description or None,
        "users": [reference(user, "user") for user in schedule.users],
        "teams": [reference(team, "team") for team in schedule.teams],
        "escalation_policies": [
            reference(policy, "escalation_policy")
            for policy in schedule.escalation_policies
        ],
        "final_schedule": {
            "since": detail.since,
            "until": detail.until,
            "rendered_coverage_percentage": schedule.coverage,
            "rendered_schedule_entries": [
                {
                    "start": span.start,
                    "end": span.end,
                    "user": reference(span.user, "user"),
                }
                for span in schedule.final[: ctx.max_results]
            ],
        },
        "overrides": [_override(item) for item in detail.overrides[: ctx.max_results]],
        "type": "schedule",
    }


def _override(override) -> dict:
    return {
        "id": override.id,
        "start": override.start,
        "end": override.end,
        "user": reference(override.user, "user"),
    }


@register(
    name="list_schedule_users",
    title="List a schedule's users",
    description="List the users a schedule puts on call (its layers and overrides).",
    input_schema=pagerduty_mcp_schema("list_schedule_users"),
    access=SCOPE_READ,
    operations=("GET /schedules/{id}/users",),
    read_only=True,
    destructive=False,
    idempotent=True,
    compatible=True,
)
def list_schedule_users(ctx, args: dict) -> dict:
    users = selectors.schedule_user_list(
        ws=ctx.ws, schedule_id=check_id(args["schedule_id"], "schedule_id")
    )
    return {
        "response": [user_result(user) for user in users[: ctx.max_results]],
        "more": len(users) > ctx.max_results,
    }


@register(
    name="create_schedule_override",
    title="Create schedule overrides",
    description=(
        "Put someone on call on a schedule from `start` to `end` (ISO 8601 "
        "with a time zone, at most 31 days), overriding its layers; up to "
        f"{MAX_OVERRIDES} overrides per call. A member may override only "
        "with themselves; an admin with anyone."
    ),
    input_schema=pagerduty_mcp_schema("create_schedule_override"),
    access=SCOPE_WRITE,
    operations=("POST /schedules/{id}/overrides",),
    read_only=False,
    destructive=False,
    idempotent=False,
    compatible=True,
)
def create_schedule_override(ctx, args: dict) -> dict:
    schedule_id = check_id(args["schedule_id"], "schedule_id")
    overrides = [
        {
            "user_id": check_id(item["user_id"], "user_id"),
            "start": time_of(item["start"], "start"),
            "end": time_of(item["end"], "end"),
        }
        for item in args["override_request"]["overrides"]
    ]
    if not 1 <= len(overrides) <= MAX_OVERRIDES:
        raise ToolError(
            _("Give one to %(n)s overrides.") % {"n": MAX_OVERRIDES},
            code="invalid_arguments",
        )
    # Checked for all before the first is created.
    if any(not o["start"] < o["end"] <= o["start"] + MAX_OVERRIDE for o in overrides):
        raise ToolError(
            _("Each override must end after it starts, at most 31 days later."),
            code="invalid_arguments",
        )
    created = []
    for item in overrides:
        try:
            override = services.schedule_override_create(
                ws=ctx.ws, schedule_id=schedule_id, **item
            )
        except PagerDutyError as exc:
            if not created:
                raise
            error = from_pagerduty(
                exc, tenant=ctx.session.tenant, scopes={"schedules.write"}
            )
            error.message += " " + _("%(n)s overrides were created before that.") % {
                "n": len(created)
            }
            raise error from None
        created.append({"status": 201, "override": _override(override)})
    return {"result": created}
