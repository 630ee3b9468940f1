"""On-call tools: `who_is_on_call`, the gateway's own intent tool, and
pagerduty-mcp 1.1.0's `list_oncalls` (same name and input schema)."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _

from integrations.gateway.conf import SCOPE_READ
from integrations.gateway.tools.errors import ToolError
from integrations.gateway.tools.incidents import ID_PATTERN, _ref, check_id
from integrations.gateway.tools.registry import pagerduty_mcp_schema, register
from integrations.gateway.tools.users import ids_of, limit_of, reference, time_of
from integrations.pagerduty.workspace import inputs, selectors
from integrations.pagerduty.workspace.selectors.common import MAX_FILTER_IDS
from integrations.pagerduty.workspace.selectors.oncalls import MAX_WINDOW

# Each service costs one call to find its escalation policy.
MAX_SERVICE_IDS = 10


@register(
    name="who_is_on_call",
    title="Who is on call",
    description=(
        "Who is on call right now, per escalation policy and level, with the "
        "schedule that puts them there and until when. Optionally for one "
        "schedule or one user (PagerDuty IDs)."
    ),
    input_schema={
        "type": "object",
        "properties": {
            "schedule_id": {
                "type": "string",
                "pattern": ID_PATTERN,
                "description": "Only this schedule's on-call entries.",
            },
            "user_id": {
                "type": "string",
                "pattern": ID_PATTERN,
                "description": "Only this user's on-call entries.",
            },
        },
        "additionalProperties": False,
    },
    access=SCOPE_READ,
    operations=("GET /oncalls",),
    read_only=True,
    destructive=False,
    idempotent=True,
)
def who_is_on_call(ctx, args: dict) -> dict:
    entries = selectors.oncall_list(
        ws=ctx.ws,
        schedule_id=check_id(args["schedule_id"], "schedule_id")
        if "schedule_id" in args
        else "",
        user_id=check_id(args["user_id"], "user_id") if "user_id" in args else "",
        earliest=True,
        limit=ctx.max_results,
    )
    return {
        "as_of": timezone.now(),
        "on_call": [
            {
                "user": _ref(entry.user),
                "escalation_policy": _ref(entry.escalation_policy),
                "level": entry.level,
                "schedule": _ref(entry.schedule),
                "start": entry.start,
                "end": entry.end,
            }
            for entry in entries
        ],
    }


@register(
    name="list_oncalls",
    title="List on-calls",
    description=(
        "List who is on call, per escalation policy, level and schedule, now "
        "or over a window (since/until, ISO 8601, at most 90 days ahead), "
        "filtered by users, escalation policies, schedules or services (a "
        "service means its escalation policy). earliest (default true) keeps "
        "each person's first on-call per policy and level. At most 100."
    ),
    input_schema=pagerduty_mcp_schema("list_oncalls"),
    access=SCOPE_READ,
    operations=("GET /oncalls", "GET /services/{id}"),
    read_only=True,
    destructive=False,
    idempotent=True,
    compatible=True,
)
def list_oncalls(ctx, args: dict) -> dict:
    # Every argument is checked before the services are looked up.
    service_ids = ids_of(args, "service_ids")
    if len(service_ids) > MAX_SERVICE_IDS:
        raise ToolError(
            _("Give at most %(n)s service_ids.") % {"n": MAX_SERVICE_IDS},
            code="invalid_arguments",
        )
    since = time_of(args.get("since"), "since")
    until = time_of(args.get("until"), "until")
    if since and until and not since < until <= since + MAX_WINDOW:
        raise ToolError(
            _("until must be after since, at most 90 days later."),
            code="invalid_arguments",
        )
    filters = {
        name: ids_of(args, name)
        for name in ("user_ids", "schedule_ids", "escalation_policy_ids")
    }
    if any(len(ids) > MAX_FILTER_IDS for ids in filters.values()):
        raise ToolError(
            _("Give at most %(n)s IDs per filter.") % {"n": MAX_FILTER_IDS},
            code="invalid_arguments",
        )
    time_zone = args.get("time_zone") or ""
    if time_zone:
        inputs.time_zone(time_zone, "time_zone")
    limit = limit_of(args, ctx)
    for service_id in dict.fromkeys(service_ids):
        service = selectors.service_get(ws=ctx.ws, service_id=service_id)
        if service.escalation_policy is not None:
            filters["escalation_policy_ids"] += (service.escalation_policy.id,)
    if service_ids and not filters["escalation_policy_ids"]:
        return {"response": [], "more": False}
    page = selectors.oncall_page(
        ws=ctx.ws,
        since=since,
        until=until,
        time_zone=time_zone,
        earliest=args.get("earliest", True) is True,
        limit=limit,
        **filters,
    )
    return {
        "response": [
            {
                "escalation_policy": reference(
                    entry.escalation_policy, "escalation_policy"
                ),
                "escalation_level": entry.level,
                "schedule": reference(entry.schedule, "schedule"),
                "user": reference(entry.user, "user"),
                "start": entry.start,
                "end": entry.end,
            }
            for entry in page.items
        ],
        "more": page.more,
    }
