"""What a person may do in a tenant's PagerDuty: the lesser of two roles.

The portal role bounds what a person may attempt (members: incident work
and their own schedule overrides; tenant admins: everything the scopes
allow) and their PagerDuty base role bounds the rest, as PagerDuty's user
roles document it (support.pagerduty.com, "User Roles" and "Advanced
Permissions"; README, "Acting as yourself", lists what is undocumented).
A write scope names the ability it needs.
"""

from django.utils.translation import gettext_lazy as _

from integrations.pagerduty.scopes import Scope

RESPOND = "respond"  # incident work
OVERRIDE = "override"  # schedule overrides
CONFIGURE = "configure"  # services, escalation policies, teams, webhooks
MANAGE_USERS = "manage_users"

ABILITY_BY_SCOPE = {
    Scope.INCIDENTS_WRITE: RESPOND,
    Scope.SCHEDULES_WRITE: OVERRIDE,
    Scope.SERVICES_WRITE: CONFIGURE,
    Scope.ESCALATION_POLICIES_WRITE: CONFIGURE,
    Scope.TEAMS_WRITE: CONFIGURE,
    Scope.WEBHOOK_SUBSCRIPTIONS_WRITE: CONFIGURE,
    Scope.USERS_WRITE: MANAGE_USERS,
}
EVERYTHING = frozenset({RESPOND, OVERRIDE, CONFIGURE, MANAGE_USERS})
MEMBER_ABILITIES = frozenset({RESPOND, OVERRIDE})
# PagerDuty's base roles as its API names them.
PD_ROLE_ABILITIES = {
    "owner": EVERYTHING,
    "admin": EVERYTHING,
    "user": frozenset({RESPOND, OVERRIDE, CONFIGURE}),  # Manager
    "limited_user": frozenset({RESPOND, OVERRIDE}),  # Responder
    "restricted_access": frozenset({RESPOND, OVERRIDE}),
    "observer": frozenset(),
    "read_only_user": frozenset(),  # Full Stakeholder
    "read_only_limited_user": frozenset(),  # Limited Stakeholder
}
ABILITY_LABELS = {
    RESPOND: _("work on incidents"),
    OVERRIDE: _("change schedules"),
    CONFIGURE: _("change services, escalation policies, teams and webhooks"),
    MANAGE_USERS: _("manage users"),
}


def ability_for(scope: str) -> str:
    """Return the ability a write scope needs ("" for reads)."""
    return ABILITY_BY_SCOPE.get(scope, "")


def portal_allows(*, is_admin: bool, ability: str) -> bool:
    """Return whether the portal role lets a person attempt this."""
    return is_admin or ability in MEMBER_ABILITIES


def pagerduty_allows(*, role: str, ability: str) -> bool:
    """Return whether a PagerDuty base role may do this.

    An unknown role (a link made before roles were read, or a role
    PagerDuty adds later) is not second-guessed: PagerDuty decides.
    """
    allowed = PD_ROLE_ABILITIES.get(role)
    return allowed is None or ability in allowed
