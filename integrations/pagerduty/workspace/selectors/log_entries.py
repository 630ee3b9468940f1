"""The account's log entries: every event on every incident, newest first."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.utils.translation import gettext as _

from integrations.pagerduty.client import OFFSET_CAP
from integrations.pagerduty.scopes import Scope
from integrations.pagerduty.workspace import inputs
from integrations.pagerduty.workspace.context import Workspace
from integrations.pagerduty.workspace.entities import Ref, _dicts, _str, _time
from integrations.pagerduty.workspace.operations import operation


def _type(data: Any) -> str:
    return _str(data.get("type")) if isinstance(data, dict) else ""


@dataclass(frozen=True)
class LogEntryRecord:
    """A log entry with what it is about: incident, service, teams, channel."""

    id: str
    type: str
    summary: str
    created_at: datetime | None
    html_url: str
    agent: Ref | None
    agent_type: str
    channel_type: str
    incident: Ref | None
    service: Ref | None
    teams: list[Ref] = field(default_factory=list)

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> LogEntryRecord:
        return cls(
            id=_str(data.get("id")),
            type=_str(data.get("type")),
            summary=_str(data.get("summary")),
            created_at=_time(data.get("created_at")),
            html_url=_str(data.get("html_url")),
            agent=Ref.from_api(data.get("agent")),
            agent_type=_type(data.get("agent")),
            channel_type=_type(data.get("channel")),
            incident=Ref.from_api(data.get("incident")),
            service=Ref.from_api(data.get("service")),
            teams=[
                ref
                for ref in map(Ref.from_api, _dicts(data.get("teams")))
                if ref is not None
            ],
        )


@dataclass(frozen=True)
class LogEntryQuery:
    """Which log entries to read; checked when built."""

    since: datetime | None = None
    until: datetime | None = None
    team_ids: tuple[str, ...] = ()
    is_overview: bool | None = None
    limit: int = 25
    offset: int = 0

    def __post_init__(self):
        for name in ("since", "until"):
            if getattr(self, name) is not None:
                inputs.aware(getattr(self, name), name)
        if self.since and self.until and self.since >= self.until:
            raise inputs.InvalidInput("until", _("“since” must be before “until”."))
        if self.team_ids:
            inputs.pd_ids(self.team_ids, "team_ids", limit=100)
        if self.is_overview is not None and not isinstance(self.is_overview, bool):
            raise inputs.InvalidInput("is_overview", _("Give true or false."))
        inputs.bounded(self.limit, "limit", low=1, high=100)
        inputs.bounded(self.offset, "offset", low=0, high=OFFSET_CAP - self.limit)

    def params(self) -> dict[str, Any]:
        params: dict[str, Any] = {}
        if self.since:
            params["since"] = self.since.isoformat()
        if self.until:
            params["until"] = self.until.isoformat()
        if self.team_ids:
            params["team_ids[]"] = list(self.team_ids)
        if self.is_overview is not None:
            params["is_overview"] = self.is_overview
        return params


@dataclass(frozen=True)
class LogEntryPage:
    """One page of log entries."""

    entries: list[LogEntryRecord]
    more: bool
    offset: int


@operation(scope=Scope.INCIDENTS_READ)
def log_entry_list(*, ws: Workspace, query: LogEntryQuery) -> LogEntryPage:
    """Return one page of the account's log entries: one call."""
    if not isinstance(query, LogEntryQuery):
        raise inputs.InvalidInput("query", _("Give a log entry query."))
    page = ws.read_page(
        "/log_entries",
        key="log_entries",
        scope=Scope.INCIDENTS_READ,
        params=query.params(),
        offset=query.offset,
        limit=query.limit,
        build=LogEntryRecord.from_api,
    )
    return LogEntryPage(entries=page.items, more=page.more, offset=query.offset)


@operation(scope=Scope.INCIDENTS_READ)
def log_entry_get(*, ws: Workspace, log_entry_id: str) -> LogEntryRecord:
    """Return one log entry: one call."""
    log_entry_id = inputs.pd_id(log_entry_id, "log_entry_id")
    body = ws.read(
        inputs.path("/log_entries/{}", log_entry_id), scope=Scope.INCIDENTS_READ
    )
    entry = body.get("log_entry") if isinstance(body, dict) else None
    return LogEntryRecord.from_api(entry if isinstance(entry, dict) else {})
