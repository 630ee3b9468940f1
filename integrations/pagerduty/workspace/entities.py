"""Dataclasses built from PagerDuty's JSON: what the operation layer returns.

They hold PagerDuty's own values; how a page words them lives in
`views/presentation.py`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.utils.dateparse import parse_datetime


def _time(value: Any) -> datetime | None:
    return parse_datetime(value) if isinstance(value, str) else None


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if value else []


@dataclass(frozen=True)
class Ref:
    """A reference or an included object, reduced to what pages show."""

    id: str
    name: str
    html_url: str = ""
    email: str = ""

    @classmethod
    def from_api(cls, data: Any) -> Ref | None:
        if not isinstance(data, dict) or not isinstance(data.get("id"), str):
            return None
        name = _str(data.get("name")) or _str(data.get("summary")) or data["id"]
        return cls(
            id=data["id"],
            name=name,
            html_url=_str(data.get("html_url")),
            email=_str(data.get("email")),
        )


def _refs(value: Any) -> list[Ref]:
    return [ref for ref in map(Ref.from_api, _dicts(value)) if ref is not None]


@dataclass(frozen=True)
class Incident:
    """An incident as the list and detail pages show it."""

    id: str
    number: int | None
    title: str
    status: str
    urgency: str
    created_at: datetime | None
    service: Ref | None
    escalation_policy: Ref | None
    assignees: list[Ref]
    teams: list[Ref]
    html_url: str
    incident_key: str = ""
    description: str = ""

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Incident:
        number = data.get("incident_number")
        return cls(
            id=_str(data.get("id")),
            number=number if type(number) is int else None,
            title=_str(data.get("title")) or _str(data.get("summary")),
            status=_str(data.get("status")),
            urgency=_str(data.get("urgency")),
            created_at=_time(data.get("created_at")),
            service=Ref.from_api(data.get("service")),
            escalation_policy=Ref.from_api(data.get("escalation_policy")),
            assignees=[
                ref
                for ref in (
                    Ref.from_api(item.get("assignee"))
                    for item in _dicts(data.get("assignments"))
                )
                if ref is not None
            ],
            teams=_refs(data.get("teams")),
            html_url=_str(data.get("html_url")),
            incident_key=_str(data.get("incident_key")),
            description=_str(data.get("description")),
        )

    @property
    def is_open(self) -> bool:
        return self.status in ("triggered", "acknowledged")

    @property
    def can_acknowledge(self) -> bool:
        return self.status == "triggered"

    @property
    def can_snooze(self) -> bool:
        return self.status == "acknowledged"

    @property
    def can_reopen(self) -> bool:
        return self.status == "resolved"


@dataclass(frozen=True)
class IncidentListItem:
    """An incident as one row of the incident list shows it.

    A page of 100 is built, pickled into the cache and read back on every
    view of the list, so it holds only the row's fields: no escalation
    policy, teams, links or description, and people by name.
    """

    id: str
    number: int | None
    title: str
    status: str
    urgency: str
    created_at: datetime | None
    service: Ref | None
    assignee_names: tuple[str, ...]

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> IncidentListItem:
        number = data.get("incident_number")
        return cls(
            id=_str(data.get("id")),
            number=number if type(number) is int else None,
            title=_str(data.get("title")) or _str(data.get("summary")),
            status=_str(data.get("status")),
            urgency=_str(data.get("urgency")),
            created_at=_time(data.get("created_at")),
            service=Ref.from_api(data.get("service")),
            assignee_names=tuple(
                ref.name
                for ref in (
                    Ref.from_api(item.get("assignee"))
                    for item in _dicts(data.get("assignments"))
                )
                if ref is not None
            ),
        )


@dataclass(frozen=True)
class LogEntry:
    """One line of an incident's timeline."""

    id: str
    type: str
    summary: str
    created_at: datetime | None
    agent: Ref | None

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> LogEntry:
        return cls(
            id=_str(data.get("id")),
            type=_str(data.get("type")),
            summary=_str(data.get("summary")),
            created_at=_time(data.get("created_at")),
            agent=Ref.from_api(data.get("agent")),
        )

    @property
    def kind(self) -> str:
        """Return the entry type without `_log_entry` (e.g. "acknowledge")."""
        return self.type.removesuffix("_log_entry")


@dataclass(frozen=True)
class Note:
    """A note on an incident."""

    id: str
    content: str
    created_at: datetime | None
    user: Ref | None

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Note:
        return cls(
            id=_str(data.get("id")),
            content=_str(data.get("content")),
            created_at=_time(data.get("created_at")),
            user=Ref.from_api(data.get("user")),
        )


@dataclass(frozen=True)
class Integration:
    """An integration of a service (how events reach it)."""

    id: str
    name: str
    type: str

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Integration:
        return cls(
            id=_str(data.get("id")),
            name=_str(data.get("name")) or _str(data.get("summary")),
            type=_str(data.get("type")).removesuffix("_reference"),
        )


@dataclass(frozen=True)
class Service:
    """A service with its escalation policy and teams."""

    id: str
    name: str
    description: str
    status: str
    escalation_policy: Ref | None
    teams: list[Ref]
    integrations: list[Integration]
    html_url: str
    acknowledgement_timeout: int | None = None
    auto_resolve_timeout: int | None = None
    open_incidents: int = 0

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Service:
        ack = data.get("acknowledgement_timeout")
        auto = data.get("auto_resolve_timeout")
        return cls(
            id=_str(data.get("id")),
            name=_str(data.get("name")) or _str(data.get("summary")),
            description=_str(data.get("description")),
            status=_str(data.get("status")),
            escalation_policy=Ref.from_api(data.get("escalation_policy")),
            teams=_refs(data.get("teams")),
            integrations=[
                Integration.from_api(item) for item in _dicts(data.get("integrations"))
            ],
            html_url=_str(data.get("html_url")),
            acknowledgement_timeout=ack if type(ack) is int else None,
            auto_resolve_timeout=auto if type(auto) is int else None,
        )

    @property
    def is_disabled(self) -> bool:
        return self.status == "disabled"


@dataclass(frozen=True)
class OnCall:
    """Someone on call for a policy at a level, maybe through a schedule."""

    user: Ref | None
    escalation_policy: Ref | None
    level: int | None
    schedule: Ref | None
    start: datetime | None
    end: datetime | None

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> OnCall:
        level = data.get("escalation_level")
        return cls(
            user=Ref.from_api(data.get("user")),
            escalation_policy=Ref.from_api(data.get("escalation_policy")),
            level=level if type(level) is int else None,
            schedule=Ref.from_api(data.get("schedule")),
            start=_time(data.get("start")),
            end=_time(data.get("end")),
        )


@dataclass
class IncidentCounts:
    """Open incidents counted by status and urgency."""

    cells: dict[tuple[str, str], int] = field(default_factory=dict)

    def add(self, status: str, urgency: str) -> None:
        self.cells[(status, urgency)] = self.cells.get((status, urgency), 0) + 1

    @property
    def rows(self) -> list[dict[str, Any]]:
        return [
            {
                "status": status,
                "high": self.cells.get((status, "high"), 0),
                "low": self.cells.get((status, "low"), 0),
                "total": self.cells.get((status, "high"), 0)
                + self.cells.get((status, "low"), 0),
            }
            for status in ("triggered", "acknowledged")
        ]

    @property
    def total(self) -> int:
        return sum(self.cells.values())


@dataclass(frozen=True)
class Span:
    """A stretch of a rendered schedule: who is on call from when to when."""

    start: datetime | None
    end: datetime | None
    user: Ref | None

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Span:
        return cls(
            start=_time(data.get("start")),
            end=_time(data.get("end")),
            user=Ref.from_api(data.get("user")),
        )


@dataclass(frozen=True)
class Override:
    """A schedule override."""

    id: str
    start: datetime | None
    end: datetime | None
    user: Ref | None

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Override:
        return cls(
            id=_str(data.get("id")),
            start=_time(data.get("start")),
            end=_time(data.get("end")),
            user=Ref.from_api(data.get("user")),
        )


@dataclass(frozen=True)
class Schedule:
    """A schedule; `final` holds the rendered final schedule when asked for."""

    id: str
    name: str
    description: str
    time_zone: str
    users: list[Ref]
    escalation_policies: list[Ref]
    teams: list[Ref]
    html_url: str
    final: list[Span] = field(default_factory=list)
    coverage: float | None = None

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Schedule:
        final = data.get("final_schedule")
        final = final if isinstance(final, dict) else {}
        coverage = final.get("rendered_coverage_percentage")
        return cls(
            id=_str(data.get("id")),
            name=_str(data.get("name")) or _str(data.get("summary")),
            description=_str(data.get("description")),
            time_zone=_str(data.get("time_zone")) or "UTC",
            users=_refs(data.get("users")),
            escalation_policies=_refs(data.get("escalation_policies")),
            teams=_refs(data.get("teams")),
            html_url=_str(data.get("html_url")),
            final=[
                Span.from_api(item)
                for item in _dicts(final.get("rendered_schedule_entries"))
            ],
            coverage=coverage if isinstance(coverage, int | float) else None,
        )


@dataclass(frozen=True)
class Target:
    """An escalation rule's target: a user or a schedule."""

    kind: str
    ref: Ref


@dataclass(frozen=True)
class Rule:
    """One level of an escalation policy."""

    delay_minutes: int | None
    targets: list[Target]
    id: str = ""


@dataclass(frozen=True)
class EscalationPolicy:
    """An escalation policy with its rules, services and teams."""

    id: str
    name: str
    description: str
    num_loops: int
    rules: list[Rule]
    services: list[Ref]
    teams: list[Ref]
    html_url: str

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> EscalationPolicy:
        rules = []
        for rule in _dicts(data.get("escalation_rules")):
            delay = rule.get("escalation_delay_in_minutes")
            targets = []
            for target in _dicts(rule.get("targets")):
                ref = Ref.from_api(target)
                if ref is not None:
                    kind = _str(target.get("type")).removesuffix("_reference")
                    targets.append(Target(kind=kind, ref=ref))
            rules.append(
                Rule(
                    delay if type(delay) is int else None,
                    targets=targets,
                    id=_str(rule.get("id")),
                )
            )
        loops = data.get("num_loops")
        return cls(
            id=_str(data.get("id")),
            name=_str(data.get("name")) or _str(data.get("summary")),
            description=_str(data.get("description")),
            num_loops=loops if type(loops) is int else 0,
            rules=rules,
            services=_refs(data.get("services")),
            teams=_refs(data.get("teams")),
            html_url=_str(data.get("html_url")),
        )


@dataclass(frozen=True)
class User:
    """A PagerDuty user."""

    id: str
    name: str
    email: str
    role: str
    job_title: str
    time_zone: str
    teams: list[Ref]
    html_url: str

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> User:
        return cls(
            id=_str(data.get("id")),
            name=_str(data.get("name")) or _str(data.get("summary")),
            email=_str(data.get("email")),
            role=_str(data.get("role")),
            job_title=_str(data.get("job_title")),
            time_zone=_str(data.get("time_zone")),
            teams=_refs(data.get("teams")),
            html_url=_str(data.get("html_url")),
        )


@dataclass(frozen=True)
class Team:
    """A PagerDuty team."""

    id: str
    name: str
    description: str
    html_url: str

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Team:
        return cls(
            id=_str(data.get("id")),
            name=_str(data.get("name")) or _str(data.get("summary")),
            description=_str(data.get("description")),
            html_url=_str(data.get("html_url")),
        )


@dataclass(frozen=True)
class Member:
    """A user's membership of a team."""

    user: Ref
    role: str


@dataclass(frozen=True)
class WebhookSubscription:
    """A V3 webhook subscription (its secret only ever comes with creation)."""

    id: str
    url: str
    description: str
    events: list[str]
    filter_type: str
    filter_id: str
    active: bool
    temporarily_disabled: bool
    secret: str = ""

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> WebhookSubscription:
        method = data.get("delivery_method")
        method = method if isinstance(method, dict) else {}
        flt = data.get("filter")
        flt = flt if isinstance(flt, dict) else {}
        events = data.get("events")
        return cls(
            id=_str(data.get("id")),
            url=_str(method.get("url")),
            description=_str(data.get("description")),
            events=[e for e in events if isinstance(e, str)] if events else [],
            filter_type=_str(flt.get("type")).removesuffix("_reference"),
            filter_id=_str(flt.get("id")),
            active=data.get("active") is True,
            temporarily_disabled=method.get("temporarily_disabled") is True,
            secret=_str(method.get("secret")),
        )


def _json(value: Any, depth: int = 0) -> Any:
    """Return JSON-shaped data only (configs PagerDuty defines, e.g. rules)."""
    if depth > 12:
        return None
    if isinstance(value, dict):
        return {
            key: _json(item, depth + 1)
            for key, item in value.items()
            if isinstance(key, str)
        }
    if isinstance(value, list):
        return [_json(item, depth + 1) for item in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return None


@dataclass(frozen=True)
class BusinessService:
    """A business service: what the business sees, backed by technical services."""

    id: str
    name: str
    description: str
    point_of_contact: str
    team: Ref | None
    html_url: str

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> BusinessService:
        return cls(
            id=_str(data.get("id")),
            name=_str(data.get("name")) or _str(data.get("summary")),
            description=_str(data.get("description")),
            point_of_contact=_str(data.get("point_of_contact")),
            team=Ref.from_api(data.get("team")),
            html_url=_str(data.get("html_url")),
        )


@dataclass(frozen=True)
class DependencySide:
    """One side of a service dependency: a technical or business service."""

    id: str
    type: str

    @classmethod
    def from_api(cls, data: Any) -> DependencySide | None:
        if not isinstance(data, dict) or not isinstance(data.get("id"), str):
            return None
        return cls(id=data["id"], type=_str(data.get("type")))


@dataclass(frozen=True)
class ServiceDependency:
    """The dependent service relies on the supporting one."""

    id: str
    supporting: DependencySide | None
    dependent: DependencySide | None

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> ServiceDependency:
        return cls(
            id=_str(data.get("id")),
            supporting=DependencySide.from_api(data.get("supporting_service")),
            dependent=DependencySide.from_api(data.get("dependent_service")),
        )


@dataclass(frozen=True)
class AlertGroupingSetting:
    """How alerts of one or more services are grouped into incidents."""

    id: str
    name: str
    description: str
    type: str
    config: dict[str, Any]
    services: list[Ref]
    created_at: datetime | None
    updated_at: datetime | None

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> AlertGroupingSetting:
        config = data.get("config")
        return cls(
            id=_str(data.get("id")),
            name=_str(data.get("name")),
            description=_str(data.get("description")),
            type=_str(data.get("type")),
            config=_json(config) if isinstance(config, dict) else {},
            services=_refs(data.get("services")),
            created_at=_time(data.get("created_at")),
            updated_at=_time(data.get("updated_at")),
        )


@dataclass(frozen=True)
class ServiceOrchestration:
    """A service's Event Orchestration: its rule sets and catch-all."""

    service: Ref | None
    sets: list[dict[str, Any]]
    catch_all: dict[str, Any]
    created_at: datetime | None
    updated_at: datetime | None
    version: str
    created_by: Ref | None = None
    updated_by: Ref | None = None

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> ServiceOrchestration:
        catch_all = data.get("catch_all")
        return cls(
            service=Ref.from_api(data.get("parent")),
            sets=[_json(item) for item in _dicts(data.get("sets"))],
            catch_all=_json(catch_all) if isinstance(catch_all, dict) else {},
            created_at=_time(data.get("created_at")),
            updated_at=_time(data.get("updated_at")),
            version=_str(data.get("version")),
            created_by=Ref.from_api(data.get("created_by")),
            updated_by=Ref.from_api(data.get("updated_by")),
        )
