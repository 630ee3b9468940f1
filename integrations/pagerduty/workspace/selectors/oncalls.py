"""On-call reads: who is on call now, by policy and level, and soon."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from integrations.pagerduty.client import Page
from integrations.pagerduty.scopes import Scope
from integrations.pagerduty.workspace import inputs
from integrations.pagerduty.workspace.context import Workspace
from integrations.pagerduty.workspace.entities import OnCall, Ref
from integrations.pagerduty.workspace.operations import operation
from integrations.pagerduty.workspace.selectors.common import MAX_FILTER_IDS

# PagerDuty computes on-calls at most 90 days ahead.
MAX_WINDOW = timedelta(days=90)


@operation(scope=Scope.ONCALLS_READ)
def oncall_list(*, ws: Workspace, **filters: Any) -> list[OnCall]:
    """Return on-call entries (now when no window is given): one call.

    Takes `oncall_page`'s filters.
    """
    return oncall_page(ws=ws, **filters).items


@operation(scope=Scope.ONCALLS_READ)
def oncall_page(
    *,
    ws: Workspace,
    since: datetime | None = None,
    until: datetime | None = None,
    schedule_id: str = "",
    user_id: str = "",
    escalation_policy_id: str = "",
    earliest: bool = False,
    limit: int = 100,
    schedule_ids: tuple[str, ...] = (),
    user_ids: tuple[str, ...] = (),
    escalation_policy_ids: tuple[str, ...] = (),
    time_zone: str = "",
) -> Page:
    """Return a page of on-call entries (now without a window): one call.

    `more` says whether PagerDuty has more. The single-ID filters and the
    ID lists combine; `time_zone` is the zone PagerDuty renders times in.
    """
    params: dict[str, Any] = {"include[]": ["users"]}
    if time_zone:
        params["time_zone"] = inputs.time_zone(time_zone, "time_zone")
    if since is not None:
        params["since"] = inputs.aware(since, "since").isoformat()
    if until is not None:
        params["until"] = inputs.aware(until, "until").isoformat()
    if (
        since is not None
        and until is not None
        and not since < until <= since + (MAX_WINDOW)
    ):
        raise inputs.InvalidInput("until", _("Give a window of at most 90 days."))
    for name, one, many in (
        ("schedule_id", schedule_id, schedule_ids),
        ("user_id", user_id, user_ids),
        ("escalation_policy_id", escalation_policy_id, escalation_policy_ids),
    ):
        ids = [inputs.pd_id(one, name)] if one else []
        if many:
            ids += inputs.pd_ids(many, f"{name}s", limit=MAX_FILTER_IDS)
        if ids:
            params[f"{name}s[]"] = list(dict.fromkeys(ids))
    if earliest:
        params["earliest"] = True
    return ws.read_page(
        "/oncalls",
        key="oncalls",
        scope=Scope.ONCALLS_READ,
        params=params,
        limit=inputs.bounded(limit, "limit", low=1, high=100),
        build=OnCall.from_api,
    )


@dataclass(frozen=True)
class OnCallLevel:
    level: int | None
    entries: list[OnCall]


@dataclass(frozen=True)
class OnCallPolicy:
    """Who is on call for one escalation policy, level by level."""

    policy: Ref | None
    levels: list[OnCallLevel]


def oncall_by_policy(entries: list[OnCall]) -> list[OnCallPolicy]:
    """Return on-call entries grouped by policy (by name) and level."""
    groups: dict[str, tuple[Ref | None, dict]] = {}
    for entry in entries:
        key = entry.escalation_policy.id if entry.escalation_policy else ""
        policy, levels = groups.setdefault(key, (entry.escalation_policy, {}))
        levels.setdefault(entry.level, []).append(entry)
    return [
        OnCallPolicy(
            policy=policy,
            levels=[
                OnCallLevel(level, items)
                for level, items in sorted(levels.items(), key=lambda i: i[0] or 0)
            ],
        )
        for policy, levels in sorted(
            groups.values(), key=lambda group: group[0].name if group[0] else ""
        )
    ]


@dataclass(frozen=True)
class OnCallOverview:
    now: list[OnCallPolicy]
    upcoming: list[OnCall]


def oncall_overview(
    *, ws: Workspace, schedule_id: str = "", user_id: str = "", days: int = 7
) -> OnCallOverview:
    """Return who is on call now by policy, and the next `days`: two calls."""
    now = oncall_list(ws=ws, schedule_id=schedule_id, user_id=user_id)
    start = timezone.now().replace(second=0, microsecond=0)
    week = oncall_list(
        ws=ws,
        since=start,
        until=start + timedelta(days=inputs.bounded(days, "days", low=1, high=90)),
        schedule_id=schedule_id,
        user_id=user_id,
    )
    upcoming = sorted(
        (entry for entry in week if entry.start),
        key=lambda entry: (entry.start, entry.user.name if entry.user else ""),
    )
    return OnCallOverview(now=oncall_by_policy(now), upcoming=upcoming)
