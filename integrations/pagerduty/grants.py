"""Compare the scopes an app asks for with what PagerDuty granted.

PagerDuty silently grants fewer scopes when one is not enabled on the app,
down to `openid` only (NOTES §0.5), so the tenant page lists what is
missing and what that switches off.
"""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from integrations.pagerduty.scopes import Scope

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
    """Return the configured scopes not granted, and those added since."""
    granted = set(granted)
    requested = set(requested)
    missing = tuple(
        MissingScope(
            name=name,
            label=str(Scope(name).label) if name in Scope.values else name,
            disables=str(FEATURES.get(name, "")),
        )
        for name in configured
        if name not in granted
    )
    baseline = requested or granted
    new = tuple(name for name in configured if name not in baseline)
    return ScopeReport(missing=missing, new_since_connect=new)
