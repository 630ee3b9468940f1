"""How workspace pages show PagerDuty data: sections, labels, the schedule grid.

Page-only state lives here, not in the operation layer: the navigation's
sections, the words for PagerDuty's enum values, and the CSS cells of a
schedule's timeline.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from integrations.pagerduty.scopes import Scope
from integrations.pagerduty.workspace.entities import Ref, Span
from portal.timezones import zone_named


@dataclass(frozen=True)
class Section:
    key: str
    label: str
    url_name: str
    scope: str


SECTIONS = (
    Section("overview", _("Overview"), "workspace_overview", Scope.INCIDENTS_READ),
    Section("incidents", _("Incidents"), "incident_list", Scope.INCIDENTS_READ),
    Section("services", _("Services"), "service_list", Scope.SERVICES_READ),
    Section("oncalls", _("On-calls"), "oncall_list", Scope.ONCALLS_READ),
    Section("schedules", _("Schedules"), "schedule_list", Scope.SCHEDULES_READ),
    Section(
        "escalation_policies",
        _("Escalation policies"),
        "escalation_policy_list",
        Scope.ESCALATION_POLICIES_READ,
    ),
    Section("users", _("Users"), "user_list", Scope.USERS_READ),
    Section("teams", _("Teams"), "team_list", Scope.TEAMS_READ),
    Section(
        "webhooks", _("Webhooks"), "webhook_list", Scope.WEBHOOK_SUBSCRIPTIONS_READ
    ),
)


def sections_for(ws) -> list[dict]:
    """Return the navigation's sections whose read scope was granted."""
    return [
        {
            "key": section.key,
            "label": section.label,
            "url": reverse(f"integrations:{section.url_name}", args=[ws.tenant.pk]),
        }
        for section in SECTIONS
        if ws.can(section.scope)
    ]


STATUS_LABELS = {
    "triggered": _("Triggered"),
    "acknowledged": _("Acknowledged"),
    "resolved": _("Resolved"),
}
URGENCY_LABELS = {"high": _("High"), "low": _("Low")}
SERVICE_STATUS_LABELS = {
    "active": _("Active"),
    "warning": _("Warning"),
    "critical": _("Critical"),
    "maintenance": _("Maintenance"),
    "disabled": _("Disabled"),
}
# PagerDuty's names for its API roles (user roles, then team roles).
ROLE_LABELS = {
    "owner": _("Account Owner"),
    "admin": _("Global Admin"),
    "user": _("Manager"),
    "limited_user": _("Responder"),
    "observer": _("Observer"),
    "restricted_access": _("Restricted Access"),
    "read_only_user": _("Full Stakeholder"),
    "read_only_limited_user": _("Limited Stakeholder"),
    "manager": _("Manager"),
    "responder": _("Responder"),
}
TEAM_ROLE_LABELS = {
    "manager": _("Manager"),
    "responder": _("Responder"),
    "observer": _("Observer"),
}
TARGET_LABELS = {"user": _("User"), "schedule": _("Schedule")}


def label(labels: dict, value: str) -> str:
    """Return the words for an enum value, or the value itself if unknown."""
    return labels.get(value, value)


# --- The schedule's timeline ---------------------------------------------

TIMELINE_DAYS = 14
TIMELINE_COLORS = 8


def zone_of(name: str):
    """Return a schedule's time zone, UTC when PagerDuty's name is unknown."""
    return zone_named(name)


def timeline(spans: list[Span], start: datetime, zone) -> tuple[list, list]:
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
