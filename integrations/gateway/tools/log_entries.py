"""Log entry tools: PagerDuty's own `list_log_entries` and `get_log_entry`
(pagerduty-mcp 1.1.0's names and input schemas)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from integrations.gateway.conf import SCOPE_READ
from integrations.gateway.tools.alerts import offset_of
from integrations.gateway.tools.incidents import (
    MAX_IDS,
    _choices,
    _limit,
    _ref,
    _time,
    check_id,
)
from integrations.gateway.tools.registry import pagerduty_mcp_schema, register
from integrations.pagerduty.client import OFFSET_CAP
from integrations.pagerduty.workspace import selectors

# pagerduty-mcp reads the last week when no window is given.
DEFAULT_WINDOW = timedelta(days=7)
INCLUDES = ("incidents", "services", "channels", "teams")


def log_entry_json(entry) -> dict:
    """Return a log entry as pagerduty-mcp's LogEntry model names its fields."""
    agent = _ref(entry.agent)
    if agent is not None and entry.agent_type:
        agent["type"] = entry.agent_type
    return {
        "id": entry.id,
        "type": entry.type,
        "summary": entry.summary,
        "created_at": entry.created_at,
        "html_url": entry.html_url or None,
        "agent": agent,
        "channel": {"type": entry.channel_type} if entry.channel_type else None,
        "service": _ref(entry.service),
        "incident": _ref(entry.incident),
        "teams": [_ref(ref) for ref in entry.teams],
    }


@register(
    name="list_log_entries",
    title="List log entries",
    description=(
        "List the account's log entries (every event on every incident: "
        "triggers, notifications, acknowledgements, notes…), newest first, "
        "between since and until (ISO 8601; default the last 7 days), "
        "optionally for some teams or only the important ones (is_overview). "
        "At most 100 per call: `more` says whether there are more; then call "
        "again with `offset`. `include` and `time_zone` change nothing here: "
        "references carry names and times are UTC."
    ),
    input_schema=pagerduty_mcp_schema("list_log_entries"),
    access=SCOPE_READ,
    operations=("GET /log_entries",),
    read_only=True,
    destructive=False,
    idempotent=True,
    compatible=True,
)
def list_log_entries(ctx, args: dict) -> dict:
    query = args.get("query_model") or {}
    _choices(query.get("include"), INCLUDES, "include")
    until = _time(query.get("until"), "until") or timezone.now()
    since = _time(query.get("since"), "since") or until - DEFAULT_WINDOW
    offset = offset_of(query.get("offset"))
    limit = _limit(query.get("limit"), min(ctx.max_results, 100))
    team_ids = tuple(
        dict.fromkeys(check_id(v, "team_ids") for v in query.get("team_ids") or ())
    )
    page = selectors.log_entry_list(
        ws=ctx.ws,
        query=selectors.LogEntryQuery(
            since=since,
            until=until,
            team_ids=team_ids[:MAX_IDS],
            is_overview=query.get("is_overview"),
            limit=min(limit, OFFSET_CAP - offset),
            offset=offset,
        ),
    )
    return {
        "response": [log_entry_json(entry) for entry in page.entries],
        "more": page.more,
        "offset": page.offset,
    }


@register(
    name="get_log_entry",
    title="Get a log entry",
    description="Get one log entry by its ID: what happened, when, by whom, on what.",
    input_schema=pagerduty_mcp_schema("get_log_entry"),
    access=SCOPE_READ,
    operations=("GET /log_entries/{id}",),
    read_only=True,
    destructive=False,
    idempotent=True,
    compatible=True,
)
def get_log_entry(ctx, args: dict) -> dict:
    entry = selectors.log_entry_get(
        ws=ctx.ws, log_entry_id=check_id(args["log_entry_id"], "log_entry_id")
    )
    return log_entry_json(entry)
