"""Schedule reads: the list, and one schedule's next two weeks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from integrations.pagerduty.client import Page
from integrations.pagerduty.scopes import Scope
from integrations.pagerduty.workspace import inputs
from integrations.pagerduty.workspace.context import Workspace
from integrations.pagerduty.workspace.entities import Override, Schedule, User
from integrations.pagerduty.workspace.operations import operation
from integrations.pagerduty.workspace.selectors.common import (
    LIST_PAGE_SIZE,
    MAX_FILTER_IDS,
    entity_page,
    query_params,
)

WINDOW_DAYS = 14


@operation(scope=Scope.SCHEDULES_READ)
def schedule_list(
    *,
    ws: Workspace,
    query: str = "",
    offset: int = 0,
    team_ids: tuple[str, ...] = (),
    limit: int = LIST_PAGE_SIZE,
) -> Page:
    """Return one page of schedules (entities in `.items`): one call."""
    params = query_params(query)
    if team_ids:
        params["team_ids[]"] = inputs.pd_ids(team_ids, "team_ids", limit=MAX_FILTER_IDS)
    return entity_page(
        ws,
        "/schedules",
        key="schedules",
        scope=Scope.SCHEDULES_READ,
        entity=Schedule,
        offset=offset,
        params=params or None,
        limit=limit,
    )


@operation(scope=Scope.USERS_READ)
def schedule_user_list(*, ws: Workspace, schedule_id: str) -> list[User]:
    """Return the users a schedule names: one call (PagerDuty's scope: users.read).

    Without a window PagerDuty answers every user of the schedule's layers
    and overrides, unpaginated.
    """
    schedule_id = inputs.pd_id(schedule_id, "schedule_id")
    body = ws.read(
        inputs.path("/schedules/{}/users", schedule_id), scope=Scope.USERS_READ
    )
    return [User.from_api(item) for item in _items(body.get("users"))]


@dataclass
class ScheduleDetail:
    """A schedule with its final schedule and overrides in a window."""

    schedule: Schedule
    overrides: list[Override]
    since: datetime
    until: datetime


@operation(scope=Scope.SCHEDULES_READ)
def schedule_get(*, ws: Workspace, schedule_id: str) -> ScheduleDetail:
    """Return a schedule's next 14 days and their overrides: two calls.

    The schedule comes with its final schedule rendered for the window;
    the overrides are read too, because their IDs are needed to delete them.
    """
    schedule_id = inputs.pd_id(schedule_id, "schedule_id")
    since = timezone.now().replace(minute=0, second=0, microsecond=0)
    until = since + timedelta(days=WINDOW_DAYS)
    window = {"since": since.isoformat(), "until": until.isoformat()}
    path = inputs.path("/schedules/{}", schedule_id)
    body = ws.read(path, window, scope=Scope.SCHEDULES_READ)
    overrides = ws.read(f"{path}/overrides", window, scope=Scope.SCHEDULES_READ)
    return ScheduleDetail(
        schedule=Schedule.from_api(body.get("schedule") or {}),
        overrides=[
            Override.from_api(item) for item in _items(overrides.get("overrides"))
        ],
        since=since,
        until=until,
    )


def _items(value: Any) -> list[dict]:
    return [item for item in value if isinstance(item, dict)] if value else []
