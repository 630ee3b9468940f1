"""Incident reads: the filtered list, its counts and search, one incident,
the open tally."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from integrations.exceptions import PagerDutyOffsetCapReached
from integrations.pagerduty.client import OFFSET_CAP
from integrations.pagerduty.scopes import Scope
from integrations.pagerduty.workspace import inputs
from integrations.pagerduty.workspace.context import Workspace
from integrations.pagerduty.workspace.entities import (
    Incident,
    IncidentCounts,
    IncidentListItem,
    LogEntry,
    Note,
    Ref,
)
from integrations.pagerduty.workspace.operations import operation
from integrations.pagerduty.workspace.selectors.common import MAX_FILTER_IDS

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
# Past the offset cap the list says so (`cap_reached`) rather than refusing.
MAX_PAGE = OFFSET_CAP
# PagerDuty's API has no text search on incidents: a search reads the
# newest matching incidents, 100 a call, and looks through at most this many.
SEARCH_PAGES = 10
SEARCH_LIMIT = SEARCH_PAGES * 100
MAX_SEARCH = 100
OPEN_STATUSES = ("triggered", "acknowledged")


def day_start(value: date, zone=UTC) -> datetime:
    """Return midnight at the start of a date in `zone` (default UTC)."""
    return datetime.combine(value, time.min, tzinfo=zone)


@dataclass(frozen=True)
class IncidentQuery:
    """The incident list's filters; checked when built."""

    status: str = "triggered"
    urgency: str = ""
    service_id: str = ""
    team_id: str = ""
    since: datetime | None = None
    until: datetime | None = None
    sort: str = "newest"
    per_page: int = 25
    page: int = 1
    # Assigned to these users ("Assigned to me"), or of these teams
    # ("My teams"); a text to look for in title, number, service, assignees.
    user_ids: tuple[str, ...] = ()
    team_ids: tuple[str, ...] = ()
    search: str = ""

    def __post_init__(self):
        inputs.choice(self.status, "status", STATUS_TABS)
        if self.urgency:
            inputs.choice(self.urgency, "urgency", inputs.URGENCIES)
        for name in ("service_id", "team_id"):
            if getattr(self, name):
                inputs.pd_id(getattr(self, name), name)
        for name in ("user_ids", "team_ids"):
            values = getattr(self, name)
            if not isinstance(values, tuple) or len(values) > MAX_FILTER_IDS:
                raise inputs.InvalidInput(
                    name,
                    _("Give at most %(limit)s IDs.") % {"limit": MAX_FILTER_IDS},
                )
            for value in values:
                inputs.pd_id(value, name)
        inputs.text(self.search, "search", max_length=MAX_SEARCH)
        for name in ("since", "until"):
            if getattr(self, name) is not None:
                inputs.aware(getattr(self, name), name)
        if self.since and self.until and self.since >= self.until:
            raise inputs.InvalidInput("until", _("“From” must be before “Until”."))
        inputs.choice(self.sort, "sort", SORTS)
        inputs.choice(self.per_page, "per_page", PAGE_SIZES)
        inputs.bounded(self.page, "page", low=1, high=MAX_PAGE)

    @classmethod
    def from_filters(cls, data: Mapping[str, Any], zone=UTC) -> IncidentQuery:
        """Return the query of the list's filter form.

        Dates are whole days in `zone`, the viewer's time zone.
        """
        since, until = data.get("since"), data.get("until")
        return cls(
            status=data.get("status") or "triggered",
            urgency=data.get("urgency") or "",
            service_id=data.get("service") or "",
            team_id=data.get("team") or "",
            since=day_start(since, zone) if since else None,
            until=day_start(until + timedelta(days=1), zone) if until else None,
            sort=data.get("sort") or "newest",
            per_page=data.get("per_page") or 25,
            page=data.get("page") or 1,
            user_ids=tuple(data.get("user_ids") or ()),
            team_ids=tuple(data.get("team_ids") or ()),
            search=(data.get("q") or "").strip(),
        )

    def with_status(self, status: str) -> IncidentQuery:
        """Return the same filters on another status tab, first page."""
        return replace(self, status=status, page=1)

    @property
    def teams(self) -> list[str]:
        """Return every team ID the query filters on, once each."""
        return list(dict.fromkeys([*filter(None, [self.team_id]), *self.team_ids]))

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
        if self.teams:
            params["team_ids[]"] = self.teams
        if self.user_ids:
            params["user_ids[]"] = list(self.user_ids)
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

    def narrower_window(self) -> tuple[datetime, datetime]:
        """Return a suggested since/until: the last 7 days of the window."""
        until = self.until or timezone.now()
        since = until - timedelta(days=7)
        if self.since and self.since > since:
            since = self.since + (until - self.since) / 2
        return since, until


@dataclass
class IncidentPage:
    """One page of incidents with what a pager needs."""

    incidents: list[IncidentListItem]
    total: int | None
    more: bool
    query: IncidentQuery
    cap_reached: bool = False
    # A search: how many incidents were looked through, and whether that
    # was every incident matching the other filters.
    searched: int | None = None
    search_complete: bool = True

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


@operation(scope=Scope.INCIDENTS_READ)
def incident_list(*, ws: Workspace, query: IncidentQuery) -> IncidentPage:
    """Return one page of incidents with totals: exactly one upstream call."""
    if not isinstance(query, IncidentQuery):
        raise inputs.InvalidInput("query", _("Give an incident query."))
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
        incidents=page.items, total=page.total, more=page.more, query=query
    )


@dataclass(frozen=True)
class IncidentSearch:
    """An agent's incident query: several statuses, urgencies, people, teams.

    Checked when built. Without since/until PagerDuty's own default window
    (the last month) applies, as it does for PagerDuty's own MCP server.
    """

    statuses: tuple[str, ...] = ()
    urgencies: tuple[str, ...] = ()
    priority_ids: tuple[str, ...] = ()
    user_ids: tuple[str, ...] = ()
    team_ids: tuple[str, ...] = ()
    service_ids: tuple[str, ...] = ()
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 25
    offset: int = 0

    def __post_init__(self):
        for value in self.statuses:
            inputs.choice(value, "statuses", inputs.INCIDENT_STATUSES)
        for value in self.urgencies:
            inputs.choice(value, "urgencies", inputs.URGENCIES)
        for name in ("priority_ids", "user_ids", "team_ids", "service_ids"):
            values = getattr(self, name)
            if values:
                inputs.pd_ids(values, name, limit=100)
        for name in ("since", "until"):
            if getattr(self, name) is not None:
                inputs.aware(getattr(self, name), name)
        if self.since and self.until and self.since >= self.until:
            raise inputs.InvalidInput("until", _("“since” must be before “until”."))
        inputs.bounded(self.limit, "limit", low=1, high=100)
        inputs.bounded(self.offset, "offset", low=0, high=OFFSET_CAP - self.limit)

    def params(self) -> dict[str, Any]:
        params: dict[str, Any] = {"sort_by": "created_at:desc"}
        for key, values in (
            ("statuses[]", self.statuses),
            ("urgencies[]", self.urgencies),
            ("priority_ids[]", self.priority_ids),
            ("user_ids[]", self.user_ids),
            ("team_ids[]", self.team_ids),
            ("service_ids[]", self.service_ids),
        ):
            if values:
                params[key] = list(values)
        if self.since:
            params["since"] = self.since.isoformat()
        if self.until:
            params["until"] = self.until.isoformat()
        return params


@dataclass(frozen=True)
class IncidentResults:
    """One page of an agent's incident query."""

    incidents: list[IncidentListItem]
    total: int | None
    more: bool
    offset: int


@operation(scope=Scope.INCIDENTS_READ)
def incident_search(*, ws: Workspace, query: IncidentSearch) -> IncidentResults:
    """Return one page of incidents for an agent's query: one call."""
    if not isinstance(query, IncidentSearch):
        raise inputs.InvalidInput("query", _("Give an incident query."))
    page = ws.read_page(
        "/incidents",
        key="incidents",
        scope=Scope.INCIDENTS_READ,
        params=query.params(),
        offset=query.offset,
        limit=query.limit,
        total=True,
        build=IncidentListItem.from_api,
    )
    return IncidentResults(
        incidents=page.items, total=page.total, more=page.more, offset=query.offset
    )


def incident_matches(incident: IncidentListItem, search: str) -> bool:
    """Return whether a search's words all appear in the incident's row.

    Title, number ("42" or "#42"), service and assignees are looked at,
    case-insensitively.
    """
    haystack = " ".join(
        [
            incident.title,
            f"#{incident.number}" if incident.number is not None else "",
            incident.service.name if incident.service else "",
            *incident.assignee_names,
        ]
    ).casefold()
    return all(word in haystack for word in search.casefold().split())


@operation(scope=Scope.INCIDENTS_READ)
def incident_text_search(*, ws: Workspace, query: IncidentQuery) -> IncidentPage:
    """Return one page of the incidents matching a search and the filters.

    PagerDuty's API cannot search incidents by text, so the newest
    incidents matching the other filters are read, 100 a call (at most ten
    calls, cached), and looked through here; the page says how many were.
    """
    if not isinstance(query, IncidentQuery) or not query.search.strip():
        raise inputs.InvalidInput("query", _("Give an incident query to search."))
    found: list[IncidentListItem] = []
    searched = 0
    offset = 0
    complete = True
    for number in range(SEARCH_PAGES):
        try:
            page = ws.read_page(
                "/incidents",
                key="incidents",
                scope=Scope.INCIDENTS_READ,
                params=query.params(),
                offset=offset,
                limit=100,
                build=IncidentListItem.from_api,
            )
        except PagerDutyOffsetCapReached:
            break
        searched += len(page.items)
        found.extend(
            item for item in page.items if incident_matches(item, query.search)
        )
        if not page.more or not page.items:
            break
        offset = page.next_offset
        if number == SEARCH_PAGES - 1:
            complete = False
    start = query.offset
    return IncidentPage(
        incidents=found[start : start + query.per_page],
        total=len(found),
        more=start + query.per_page < len(found),
        query=query,
        searched=searched,
        search_complete=complete,
    )


@dataclass(frozen=True)
class StatusCounts:
    """How many incidents the open status tabs hold (None: PagerDuty won't say)."""

    triggered: int | None = None
    acknowledged: int | None = None

    def get(self, status: str) -> int | None:
        return getattr(self, status) if status in OPEN_STATUSES else None


@operation(scope=Scope.INCIDENTS_READ)
def incident_status_counts(
    *,
    ws: Workspace,
    query: IncidentQuery,
    known: Mapping[str, int | None] | None = None,
) -> StatusCounts:
    """Return how many incidents each open status tab holds under the filters.

    `known` holds totals the caller already has (the list's own tab), so
    only the other open tab costs a call (limit 1, with the total).
    """
    if not isinstance(query, IncidentQuery):
        raise inputs.InvalidInput("query", _("Give an incident query."))
    counts = {}
    for status in OPEN_STATUSES:
        total = (known or {}).get(status)
        if total is None:
            try:
                total = ws.read_page(
                    "/incidents",
                    key="incidents",
                    scope=Scope.INCIDENTS_READ,
                    params=query.with_status(status).params(),
                    limit=1,
                    total=True,
                ).total
            except PagerDutyOffsetCapReached:
                total = None
        counts[status] = total
    return StatusCounts(**counts)


@dataclass
class IncidentDetail:
    incident: Incident
    log_entries: list[LogEntry]
    notes: list[Note]


INCIDENT_INCLUDES = ["assignees", "escalation_policies", "services", "teams"]


@operation(scope=Scope.INCIDENTS_READ)
def incident_fetch(*, ws: Workspace, incident_id: str) -> Incident:
    """Return the incident alone, with its references named: one call."""
    incident_id = inputs.pd_id(incident_id, "incident_id")
    path = inputs.path("/incidents/{}", incident_id)
    body = ws.read(path, {"include[]": INCIDENT_INCLUDES}, scope=Scope.INCIDENTS_READ)
    return Incident.from_api(body.get("incident") or {})


@operation(scope=Scope.INCIDENTS_READ)
def incident_get(*, ws: Workspace, incident_id: str) -> IncidentDetail:
    """Return an incident, its timeline (newest first) and notes: three calls."""
    incident_id = inputs.pd_id(incident_id, "incident_id")
    path = inputs.path("/incidents/{}", incident_id)
    body = ws.read(path, {"include[]": INCIDENT_INCLUDES}, scope=Scope.INCIDENTS_READ)
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


@operation(scope=Scope.INCIDENTS_READ)
def open_incidents(*, ws: Workspace) -> OpenIncidents:
    """Tally every open incident: one call per 100 open incidents (max 10)."""
    result = OpenIncidents()
    offset = 0
    for _page in range(OPEN_PAGES):
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


@operation(scope=Scope.INCIDENTS_READ)
def service_recent_incidents(
    *, ws: Workspace, service_id: str, limit: int = 10
) -> list[Incident]:
    """Return a service's latest incidents, any status: one call."""
    service_id = inputs.pd_id(service_id, "service_id")
    limit = inputs.bounded(limit, "limit", low=1, high=100)
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


@operation(scope=Scope.INCIDENTS_READ)
def incident_note_list(*, ws: Workspace, incident_id: str) -> list[Note]:
    """Return an incident's notes, oldest first: one call."""
    incident_id = inputs.pd_id(incident_id, "incident_id")
    body = ws.read(
        inputs.path("/incidents/{}/notes", incident_id), scope=Scope.INCIDENTS_READ
    )
    notes = body.get("notes") if isinstance(body, dict) else None
    return [Note.from_api(item) for item in notes or [] if isinstance(item, dict)]
