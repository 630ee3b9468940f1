"""On-call tools: `who_is_on_call`, the gateway's own intent tool."""

from __future__ import annotations

from django.utils import timezone

from integrations.gateway.conf import SCOPE_READ
from integrations.gateway.tools.incidents import ID_PATTERN, _ref, check_id
from integrations.gateway.tools.registry import register
from integrations.pagerduty.workspace import selectors


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
