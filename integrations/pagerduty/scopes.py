"""PagerDuty's permission scopes for Scoped OAuth apps, as the seed lists them.

PagerDuty's App Registration page offers Read and Write per resource and
shows the selection space-separated in "Selected Permission Scope"; the
portal keeps the same order so the two can be compared by eye.

Classic User OAuth apps have one blanket scope instead, `read` or `write`
(NOTES §0.1). `expand` and `is_granted` are the one place that turns a
granted scope string into what it allows; everything that asks "is scope X
granted" (connections, the workspace, the tenants page, the MCP gateway's
tool list) goes through them.
"""

import json
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from django.db import models
from django.utils.translation import gettext_lazy as _


class Scope(models.TextChoices):
    INCIDENTS_READ = "incidents.read", _("Incidents: read")
    INCIDENTS_WRITE = "incidents.write", _("Incidents: write")
    SERVICES_READ = "services.read", _("Services: read")
    SERVICES_WRITE = "services.write", _("Services: write")
    SCHEDULES_READ = "schedules.read", _("Schedules: read")
    SCHEDULES_WRITE = "schedules.write", _("Schedules: write")
    ESCALATION_POLICIES_READ = (
        "escalation_policies.read",
        _("Escalation policies: read"),
    )
    ESCALATION_POLICIES_WRITE = (
        "escalation_policies.write",
        _("Escalation policies: write"),
    )
    ONCALLS_READ = "oncalls.read", _("On-calls: read")
    USERS_READ = "users.read", _("Users: read")
    USERS_WRITE = "users.write", _("Users: write")
    TEAMS_READ = "teams.read", _("Teams: read")
    TEAMS_WRITE = "teams.write", _("Teams: write")
    WEBHOOK_SUBSCRIPTIONS_READ = (
        "webhook_subscriptions.read",
        _("Webhook subscriptions: read"),
    )
    WEBHOOK_SUBSCRIPTIONS_WRITE = (
        "webhook_subscriptions.write",
        _("Webhook subscriptions: write"),
    )


# "openid" is attached to every token by PagerDuty; it is never selected.
OPENID = "openid"
# Classic User OAuth: `read` reads, `write` reads and writes, everything
# the authorizing user may (DD 06-OAuth-Functionality.md, case-sensitive).
CLASSIC_READ = "read"
CLASSIC_WRITE = "write"
CLASSIC_SCOPES = (CLASSIC_READ, CLASSIC_WRITE)
OPENAPI_SCOPES_FILE = Path(__file__).resolve().parent / "openapi_scopes.json"
MINIMUM_SCOPES = frozenset(
    {Scope.INCIDENTS_READ, Scope.INCIDENTS_WRITE, Scope.SERVICES_READ}
)
ALL_SCOPES = tuple(Scope.values)


@dataclass(frozen=True)
class Resource:
    label: str
    read: str
    write: str | None


# The rows of PagerDuty's permission-scope table (seed, step 4).
RESOURCES = (
    Resource("Incidents", Scope.INCIDENTS_READ, Scope.INCIDENTS_WRITE),
    Resource("Services", Scope.SERVICES_READ, Scope.SERVICES_WRITE),
    Resource("Schedules", Scope.SCHEDULES_READ, Scope.SCHEDULES_WRITE),
    Resource(
        "Escalation Policies",
        Scope.ESCALATION_POLICIES_READ,
        Scope.ESCALATION_POLICIES_WRITE,
    ),
    Resource("Oncalls", Scope.ONCALLS_READ, None),
    Resource("Users", Scope.USERS_READ, Scope.USERS_WRITE),
    Resource("Teams", Scope.TEAMS_READ, Scope.TEAMS_WRITE),
    Resource(
        "Webhook Subscriptions",
        Scope.WEBHOOK_SUBSCRIPTIONS_READ,
        Scope.WEBHOOK_SUBSCRIPTIONS_WRITE,
    ),
)


def canonical(scopes) -> str:
    """Return the scopes deduplicated, in the table's order, space-separated.

    Unknown names are kept out; callers validate before they canonicalise.
    """
    chosen = set(scopes)
    return " ".join(scope for scope in ALL_SCOPES if scope in chosen)


def split(value: str) -> list[str]:
    """Return the scope names of a space-separated string."""
    return [part for part in value.split(" ") if part]


def scopes_regex() -> str:
    """Return a regex matching a non-empty space-separated list of known scopes.

    Used by the database check constraint, so it must mean the same to
    PostgreSQL (POSIX) and SQLite (Python's re).
    """
    alternatives = "|".join(scope.replace(".", r"\.") for scope in ALL_SCOPES)
    return rf"^({alternatives})( ({alternatives}))*$"


def classic_regex() -> str:
    """Return a regex matching a Classic app's one scope (`read` or `write`)."""
    return rf"^({'|'.join(CLASSIC_SCOPES)})$"


@cache
def pagerduty_scopes() -> frozenset[str]:
    """Return every scope PagerDuty's OpenAPI file names, plus the portal's.

    From `openapi_scopes.json` (scripts/derive_openapi_scopes.py), so a
    Classic `write` covers the scopes of PagerDuty's MCP tools too.
    """
    data = json.loads(OPENAPI_SCOPES_FILE.read_text())
    return frozenset(data["scopes"].values()) | frozenset(ALL_SCOPES)


def is_granted(scope: str, granted: Iterable[str]) -> bool:
    """Return whether the granted scope names allow `scope`.

    Classic `read` allows every `<resource>.read`, `write` every scope.
    """
    names = set(granted)
    if scope in names:
        return True
    if scope == OPENID or "." not in scope:
        return False
    if CLASSIC_WRITE in names:
        return True
    return CLASSIC_READ in names and scope.endswith(".read")


def expand(granted: Iterable[str]) -> frozenset[str]:
    """Return the scopes a grant allows, Classic `read`/`write` spelled out.

    The result holds the granted names themselves and, for a Classic
    grant, every known scope it covers (`pagerduty_scopes`).
    """
    names = frozenset(granted)
    if not names & set(CLASSIC_SCOPES):
        return names
    return names | frozenset(s for s in pagerduty_scopes() if is_granted(s, names))
