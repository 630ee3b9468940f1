"""Compare the scopes an app asks for with what PagerDuty granted.

PagerDuty silently grants fewer scopes when one is not enabled on the app,
down to `openid` only (NOTES §0.5), so the tenant page lists what is
missing and what that switches off.
"""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from integrations.pagerduty.scopes import (
    CLASSIC_READ,
    CLASSIC_WRITE,
    Scope,
    is_granted,
)

FEATURES = {
    Scope.INCIDENTS_READ: _("listing and viewing incidents"),
    Scope.INCIDENTS_WRITE: _("creating, acknowledging and resolving incidents"),
    Scope.SERVICES_READ: _("listing services"),
    Scope.SERVICES_WRITE: _("changing services"),
    Scope.SCHEDULES_READ: _("viewing schedules"),
    Scope.SCHEDULES_WRITE: _("changing schedules"),
    Scope.ESCALATION_POLICIES_READ: _("viewing escalation policies"),
    Scope.ESCALATION_POLICIES_WRITE: _("changing escalation policies"),
    Scope.ONCALLS_READ: _("seeing who is on call"),
    Scope.USERS_READ: _("listing users"),
    Scope.USERS_WRITE: _("changing users"),
    Scope.TEAMS_READ: _("listing teams"),
    Scope.TEAMS_WRITE: _("changing teams"),
    Scope.WEBHOOK_SUBSCRIPTIONS_READ: _("viewing webhook subscriptions"),
    Scope.WEBHOOK_SUBSCRIPTIONS_WRITE: _("managing webhook subscriptions"),
    CLASSIC_READ: _("reading anything in PagerDuty"),
    CLASSIC_WRITE: _("changing anything in PagerDuty"),
}
LABELS = {
    CLASSIC_READ: _("Classic: read"),
    CLASSIC_WRITE: _("Classic: read/write"),
}


@dataclass(frozen=True)
class MissingScope:
    name: str
    label: str
    disables: str


@dataclass(frozen=True)
class ScopeReport:
    missing: tuple[MissingScope, ...]
    # The config asks for scopes that were not requested at the last connect.
    new_since_connect: tuple[str, ...]

    @property
    def reconnect_for_new(self) -> bool:
        return bool(self.new_since_connect)


def scope_report(*, configured, requested, granted) -> ScopeReport:
    """Return the configured scopes not granted, and those added since.

    A Classic grant counts as every scope it covers (`scopes.is_granted`).
    """
    granted = set(granted)
    requested = set(requested)
    missing = tuple(
        MissingScope(
            name=name,
            label=scope_label(name),
            disables=str(FEATURES.get(name, "")),
        )
        for name in configured
        if not is_granted(name, granted)
    )
    baseline = requested or granted
    new = tuple(name for name in configured if name not in baseline)
    return ScopeReport(missing=missing, new_since_connect=new)


def scope_label(name: str) -> str:
    """Return a scope's label in words (its name when unknown)."""
    if name in Scope.values:
        return str(Scope(name).label)
    return str(LABELS.get(name, name))
