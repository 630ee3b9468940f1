"""Reads from the tenant's PagerDuty account, cached per connection."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.utils import timezone

from integrations.exceptions import PagerDutyOffsetCapReached
from integrations.pagerduty.client import OFFSET_CAP, Page
from integrations.pagerduty.scopes import Scope
from integrations.pagerduty.workspace.context import Workspace
from integrations.pagerduty.workspace.entities import (
    EscalationPolicy,
    Incident,
    IncidentCounts,
    IncidentListItem,
    LogEntry,
    Member,
    Note,
    OnCall,
    Override,
    Ref,
    Schedule,
    Service,
    Span,
    Team,
    User,
    WebhookSubscription,
)

PAGE_SIZES = (25, 50, 100)
STATUS_TABS = ("triggered", "acknowledged", "resolved", "all")
SORTS = {
    "newest": "created_at:desc",
    "oldest": "created_at:asc",
    "number": "incident_number:desc",
    "urgency": "urgency:desc",
}
# The overview tallies open incidents from at most this many pages of 100.
OPEN_PAGES = 10


@dataclass(frozen=True)
class IncidentQuery:
    """The incident list's filters, already validated by the form."""

    status: str = "triggered"
    urgency: str = ""
    service_id: str = ""
    team_id: str = ""
    since: datetime | None = None
    until: datetime | None = None
    sort: str = "newest"
    per_page: int = 25
    page: int = 1

    def params(self) -> dict[str, Any]:
        # No include[]: the service and assignee references carry the names
        # the list shows, and full objects made a page of 100 ~70% larger.
        params: dict[str, Any] = {"sort_by": SORTS[self.sort]}
        if self.status != "all":
            params["statuses[]"] = [self.status]
        if self.urgency:
            params["urgencies[]"] = [self.urgency]
        if self.service_id:
            params["service_ids[]"] = [self.service_id]
        if self.team_id:
            params["team_ids[]"] = [self.team_id]
        if self.since or self.until:
            if self.since:
                params["since"] = self.since.isoformat()
            if self.until:
                params["until"] = self.until.isoformat()
        else:
            params["date_range"] = "all"
        return params

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


@dataclass
class IncidentPage:
    """One page of incidents with what the pager needs."""

    incidents: list[IncidentListItem]
    total: int | None
    more: bool
    query: IncidentQuery
    cap_reached: bool = False

    @property
    def first(self) -> int:
        return self.query.offset + 1 if self.incidents else 0

    @property
    def last(self) -> int:
        return self.query.offset + len(self.incidents)

    @property
    def has_previous(self) -> bool:
        return self.query.page > 1

    @property
    def has_next(self) -> bool:
        return self.more and self.query.offset + 2 * self.query.per_page <= OFFSET_CAP

    @property
    def passes_cap(self) -> bool:
        """Return whether later pages exist that PagerDuty will not list."""
        return self.total is not None and self.total > OFFSET_CAP


def incident_list(*, ws: Workspace, query: IncidentQuery) -> IncidentPage:
    """Return one page of incidents with totals: exactly one upstream call."""
    try:
        page = ws.read_page(
            "/incidents",
            key="incidents",
            scope=Scope.INCIDENTS_READ,
            params=query.params(),
            offset=query.offset,
            limit=query.per_page,
            total=True,
            build=IncidentListItem.from_api,
        )
    except PagerDutyOffsetCapReached:
        return IncidentPage([], None, False, query, cap_reached=True)
    return IncidentPage(
        incidents=page.items,
        total=page.total,
        more=page.more,
        query=query,
    )


def narrower_window(query: IncidentQuery) -> tuple[datetime, datetime]:
    """Return a suggested since/until: the last 7 days of the current window."""
    until = query.until or timezone.now()
    since = until - timedelta(days=7)
    if query.since and query.since > since:
        since = query.since + (until - query.since) / 2
    return since, until


def day_start(value) -> datetime:
    """Return midnight UTC at the start of a date."""
    return datetime.combine(value, time.min, tzinfo=UTC)


@dataclass
class IncidentDetail:
    incident: Incident
    log_entries: list[LogEntry]
    notes: list[Note]


def incident_get(*, ws: Workspace, incident_id: str) -> IncidentDetail:
    """Return an incident, its timeline (newest first) and notes: three calls."""
    path = f"/incidents/{incident_id}"
    body = ws.read(
        path,
        {"include[]": ["assignees", "escalation_policies", "services", "teams"]},
        scope=Scope.INCIDENTS_READ,
    )
    entries = ws.read_page(
        f"{path}/log_entries",
        key="log_entries",
        scope=Scope.INCIDENTS_READ,
        params={"is_overview": False},
        limit=100,
    )
    notes = ws.read(f"{path}/notes", scope=Scope.INCIDENTS_READ)
    return IncidentDetail(
        incident=Incident.from_api(body.get("incident") or {}),
        log_entries=sorted(
            (LogEntry.from_api(item) for item in entries.items),
            key=lambda e: e.created_at or timezone.now(),
            reverse=True,
        ),
        notes=[Note.from_api(item) for item in notes.get("notes") or []],
    )


@dataclass
class OpenIncidents:
    """The open incidents tallied by status, urgency and service."""

    counts: IncidentCounts = field(default_factory=IncidentCounts)
    by_service: dict[str, tuple[Ref, list[Incident]]] = field(default_factory=dict)
    complete: bool = True

    @property
    def services(self) -> list[tuple[Ref, int, int]]:
        """Return (service, open count, high-urgency count), most first."""
        rows = [
            (ref, len(items), sum(1 for i in items if i.urgency == "high"))
            for ref, items in self.by_service.values()
        ]
        return sorted(rows, key=lambda row: (-row[1], row[0].name))


def open_incidents(*, ws: Workspace) -> OpenIncidents:
    """Tally every open incident: one call per 100 open incidents (max 10)."""
    result = OpenIncidents()
    offset = 0
    for _ in range(OPEN_PAGES):
        page = ws.read_page(
            "/incidents",
            key="incidents",
            scope=Scope.INCIDENTS_READ,
            params={
                "statuses[]": ["triggered", "acknowledged"],
                "date_range": "all",
            },
            offset=offset,
            limit=100,
        )
        for item in page.items:
            incident = Incident.from_api(item)
            result.counts.add(incident.status, incident.urgency)
            if incident.service is not None:
                entry = result.by_service.setdefault(
                    incident.service.id, (incident.service, [])
                )
                entry[1].append(incident)
        if not page.more or not page.items:
            return result
        offset = page.next_offset
    result.complete = False
    return result


def oncall_list(
    *,
    ws: Workspace,
    since: datetime | None = None,
    until: datetime | None = None,
    schedule_id: str = "",
    user_id: str = "",
    earliest: bool = False,
    limit: int = 100,
) -> list[OnCall]:
    """Return on-call entries (now when no window is given): one call."""
    params: dict[str, Any] = {"include[]": ["users"]}
    if since:
        params["since"] = since.isoformat()
    if until:
        params["until"] = until.isoformat()
    if schedule_id:
        params["schedule_ids[]"] = [schedule_id]
    if user_id:
        params["user_ids[]"] = [user_id]
    if earliest:
        params["earliest"] = True
    page = ws.read_page(
        "/oncalls",
        key="oncalls",
        scope=Scope.ONCALLS_READ,
        params=params,
        limit=limit,
        build=OnCall.from_api,
    )
    return page.items


def refs_list(*, ws: Workspace, path: str, key: str, scope: str) -> list[Ref]:
    """Return up to 100 objects of a list as references, for choice fields."""
    page = ws.read_page(path, key=key, scope=scope, limit=100)
    return [ref for ref in map(Ref.from_api, page.items) if ref is not None]


@dataclass
class ServicePage:
    services: list[Service]
    total: int | None
    more: bool
    offset: int
    limit: int


def service_list(
    *, ws: Workspace, query: str = "", offset: int = 0, limit: int = 25
) -> ServicePage:
    """Return one page of services with policies and teams: one call.

    The policy and team references already carry their names (`summary`),
    all the list shows; including the full objects made the response
    twenty times larger.
    """
    params: dict[str, Any] = {"query": query} if query else {}
    page = ws.read_page(
        "/services",
        key="services",
        scope=Scope.SERVICES_READ,
        params=params,
        offset=offset,
        limit=limit,
        total=True,
        build=Service.from_api,
    )
    return ServicePage(
        services=page.items,
        total=page.total,
        more=page.more,
        offset=offset,
        limit=limit,
    )


def service_get(*, ws: Workspace, service_id: str) -> Service:
    """Return a service with its policy, teams and integrations: one call."""
    body = ws.read(
        f"/services/{service_id}",
        {"include[]": ["escalation_policies", "teams", "integrations"]},
        scope=Scope.SERVICES_READ,
    )
    return Service.from_api(body.get("service") or {})


def service_recent_incidents(
    *, ws: Workspace, service_id: str, limit: int = 10
) -> list[Incident]:
    """Return a service's latest incidents, any status: one call."""
    page = ws.read_page(
        "/incidents",
        key="incidents",
        scope=Scope.INCIDENTS_READ,
        params={
            "service_ids[]": [service_id],
            "date_range": "all",
            "sort_by": "created_at:desc",
            "include[]": ["assignees"],
        },
        limit=limit,
    )
    return [Incident.from_api(item) for item in page.items]


def _entity_page(
    ws: Workspace,
    path: str,
    *,
    key: str,
    scope: str,
    entity,
    offset: int,
    params: dict | None = None,
) -> Page:
    """Return one page of 25 from `path`, each item built as `entity`."""
    page = ws.read_page(
        path, key=key, scope=scope, params=params, offset=offset, limit=25, total=True
    )
    return replace(page, items=[entity.from_api(item) for item in page.items])


# --- Schedules ---

TIMELINE_DAYS = 14
TIMELINE_COLORS = 8


def schedule_list(*, ws: Workspace, query: str = "", offset: int = 0) -> Page:
    """Return one page of schedules (entities in `.items`): one call."""
    return _entity_page(
        ws,
        "/schedules",
        key="schedules",
        scope=Scope.SCHEDULES_READ,
        entity=Schedule,
        offset=offset,
        params={"query": query} if query else None,
    )


@dataclass
class ScheduleDetail:
    schedule: Schedule
    overrides: list[Override]
    days: list[dict]
    legend: list[tuple[Ref, int]]
    since: datetime
    until: datetime
    zone: Any


def _zone(name: str):
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def schedule_get(*, ws: Workspace, schedule_id: str) -> ScheduleDetail:
    """Return a schedule's next 14 days as a timeline, and its overrides.

    Two calls: the schedule with its final schedule rendered for the window,
    and the overrides in that window (their IDs are needed to delete them).
    """
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    until = now + timedelta(days=TIMELINE_DAYS)
    window = {"since": now.isoformat(), "until": until.isoformat()}
    path = f"/schedules/{schedule_id}"
    body = ws.read(path, window, scope=Scope.SCHEDULES_READ)
    schedule = Schedule.from_api(body.get("schedule") or {})
    overrides = ws.read(f"{path}/overrides", window, scope=Scope.SCHEDULES_READ)
    zone = _zone(schedule.time_zone)
    days, legend = _timeline(schedule.final, now, zone)
    return ScheduleDetail(
        schedule=schedule,
        overrides=[
            Override.from_api(item) for item in _items(overrides.get("overrides"))
        ],
        days=days,
        legend=legend,
        since=now,
        until=until,
        zone=zone,
    )


def _items(value: Any) -> list[dict]:
    return [item for item in value if isinstance(item, dict)] if value else []


def _timeline(spans: list[Span], start: datetime, zone) -> tuple[list, list]:
    """Return 14 days of 24 hourly cells, each naming who is on call.

    Cells carry a colour class per person (`ws-c0`…`ws-c7`), so the page
    needs no inline styles.
    """
    colours: dict[str, int] = {}
    legend: list[tuple[Ref, int]] = []
    local = start.astimezone(zone).replace(hour=0, minute=0, second=0, microsecond=0)
    days = []
    for day in range(TIMELINE_DAYS):
        day_start = (local + timedelta(days=day)).replace(hour=0)
        cells = []
        for hour in range(24):
            moment = day_start.replace(hour=hour) + timedelta(minutes=30)
            who = next(
                (
                    span.user
                    for span in spans
                    if span.start and span.end and span.start <= moment < span.end
                ),
                None,
            )
            colour = None
            if who is not None:
                if who.id not in colours:
                    colours[who.id] = len(colours) % TIMELINE_COLORS
                    legend.append((who, colours[who.id]))
                colour = colours[who.id]
            cells.append(
                {
                    "hour": hour,
                    "user": who,
                    "colour": colour,
                    "past": moment < start,
                }
            )
        days.append({"date": day_start, "cells": cells})
    return days, legend


# --- Escalation policies ---


def escalation_policy_list(*, ws: Workspace, offset: int = 0) -> Page:
    """Return one page of escalation policies: one call."""
    return _entity_page(
        ws,
        "/escalation_policies",
        key="escalation_policies",
        scope=Scope.ESCALATION_POLICIES_READ,
        entity=EscalationPolicy,
        offset=offset,
    )


def escalation_policy_get(*, ws: Workspace, policy_id: str) -> EscalationPolicy:
    """Return an escalation policy with its rules and targets: one call."""
    body = ws.read(
        f"/escalation_policies/{policy_id}", scope=Scope.ESCALATION_POLICIES_READ
    )
    return EscalationPolicy.from_api(body.get("escalation_policy") or {})


# --- Users and teams ---


def user_list(*, ws: Workspace, query: str = "", offset: int = 0) -> Page:
    """Return one page of users with their teams: one call."""
    params: dict[str, Any] = {"include[]": ["teams"]}
    if query:
        params["query"] = query
    return _entity_page(
        ws,
        "/users",
        key="users",
        scope=Scope.USERS_READ,
        entity=User,
        offset=offset,
        params=params,
    )


def user_get(*, ws: Workspace, user_id: str) -> User:
    """Return a user with their teams: one call."""
    body = ws.read(
        f"/users/{user_id}", {"include[]": ["teams"]}, scope=Scope.USERS_READ
    )
    return User.from_api(body.get("user") or {})


def team_list(*, ws: Workspace, query: str = "", offset: int = 0) -> Page:
    """Return one page of teams: one call."""
    return _entity_page(
        ws,
        "/teams",
        key="teams",
        scope=Scope.TEAMS_READ,
        entity=Team,
        offset=offset,
        params={"query": query} if query else None,
    )


def team_get(*, ws: Workspace, team_id: str) -> tuple[Team, list[Member]]:
    """Return a team and its members (up to 100): two calls."""
    body = ws.read(f"/teams/{team_id}", scope=Scope.TEAMS_READ)
    members = ws.read_page(
        f"/teams/{team_id}/members",
        key="members",
        scope=Scope.TEAMS_READ,
        limit=100,
    )
    return (
        Team.from_api(body.get("team") or {}),
        [
            Member(user=ref, role=_role(item))
            for item in members.items
            if (ref := Ref.from_api(item.get("user"))) is not None
        ],
    )


def _role(item: dict) -> str:
    role = item.get("role")
    return role if isinstance(role, str) else ""


# --- Webhook subscriptions ---


def webhook_list(*, ws: Workspace, offset: int = 0) -> Page:
    """Return one page of webhook subscriptions: one call."""
    return _entity_page(
        ws,
        "/webhook_subscriptions",
        key="webhook_subscriptions",
        scope=Scope.WEBHOOK_SUBSCRIPTIONS_READ,
        entity=WebhookSubscription,
        offset=offset,
    )
