"""Input checks of the operation layer: every front door gets the same ones.

Operations call these on their arguments before anything is sent, so no
argument can point a call at another PagerDuty path or method, or send a
value PagerDuty would refuse. Each raises `InvalidInput` naming the field.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from urllib.parse import urlsplit
from zoneinfo import available_timezones

from django.utils.translation import gettext as _

from integrations.pagerduty.workspace.access import InvalidInput

# PagerDuty object IDs are short runs of letters and digits (e.g. PT4KHLK).
PD_ID = re.compile(r"[A-Za-z0-9]{1,40}")
# PUT /incidents takes at most 250 incidents (413 beyond; NOTES §5).
BULK_LIMIT = 250
# The portal's bulk form and tools take at most this many in one action.
MAX_BULK = 1000
INCIDENT_STATUSES = ("triggered", "acknowledged", "resolved")
URGENCIES = ("high", "low")
# PagerDuty's user roles as the API names them (OpenAPI `User.role`);
# `owner` is never assignable.
USER_ROLES = (
    "admin",
    "user",
    "limited_user",
    "observer",
    "restricted_access",
    "read_only_user",
    "read_only_limited_user",
)
TEAM_ROLES = ("observer", "responder", "manager")
SNOOZE_MINUTES = (30, 60, 240, 480, 1440)
WEBHOOK_FILTERS = ("account", "service", "team")
WEBHOOK_EVENTS = (
    "incident.triggered",
    "incident.acknowledged",
    "incident.unacknowledged",
    "incident.resolved",
    "incident.reopened",
    "incident.reassigned",
    "incident.escalated",
    "incident.delegated",
    "incident.priority_updated",
    "incident.annotated",
    "incident.responder.added",
    "incident.responder.replied",
    "incident.status_update_published",
    "service.created",
    "service.updated",
    "service.deleted",
)
ESCALATION_TARGETS = ("user", "schedule")
MAX_TITLE = 1024
MAX_NAME = 255
MAX_NOTE = 25_000
MAX_TEXT = 10_000


def pd_id(value: object, field: str) -> str:
    """Return `value` if it is a PagerDuty ID, else raise InvalidInput."""
    if isinstance(value, str) and PD_ID.fullmatch(value):
        return value
    raise InvalidInput(field, _("Enter a PagerDuty ID (letters and digits)."))


def pd_ids(values: Iterable[object], field: str, *, limit: int = MAX_BULK) -> list:
    """Return the IDs once each, in order; at least one and at most `limit`."""
    if isinstance(values, str | bytes) or not isinstance(values, Iterable):
        raise InvalidInput(field, _("Give a list of PagerDuty IDs."))
    ids = list(dict.fromkeys(pd_id(value, field) for value in values))
    if not ids:
        raise InvalidInput(field, _("Give at least one PagerDuty ID."))
    if len(ids) > limit:
        raise InvalidInput(
            field, _("Give at most %(limit)s IDs at a time.") % {"limit": limit}
        )
    return ids


def choice(value: object, field: str, choices: Iterable) -> str:
    """Return `value` if it is one of `choices`, else raise InvalidInput."""
    allowed = tuple(choices)
    if (
        isinstance(value, str | int)
        and not isinstance(value, bool)
        and value in allowed
    ):
        return value
    raise InvalidInput(
        field,
        _("Choose one of: %(choices)s.")
        % {"choices": ", ".join(str(item) for item in allowed)},
    )


def bounded(value: object, field: str, *, low: int, high: int) -> int:
    """Return an int within [low, high], else raise InvalidInput."""
    if isinstance(value, int) and not isinstance(value, bool) and low <= value <= high:
        return value
    raise InvalidInput(
        field,
        _("Enter a whole number from %(low)s to %(high)s.")
        % {"low": low, "high": high},
    )


def optional_bounded(value: object, field: str, *, low: int, high: int) -> int | None:
    """Return None or an int within [low, high]."""
    return None if value is None else bounded(value, field, low=low, high=high)


def text(value: object, field: str, *, max_length: int, required: bool = False) -> str:
    """Return a string of at most `max_length` characters, without NULs."""
    if value is None:
        value = ""
    if not isinstance(value, str) or "\x00" in value:
        raise InvalidInput(field, _("Enter text."))
    if required and not value.strip():
        raise InvalidInput(field, _("This is required."))
    if len(value) > max_length:
        raise InvalidInput(
            field,
            _("Enter at most %(max)s characters.") % {"max": max_length},
        )
    return value


def email(value: object, field: str) -> str:
    """Return an email address PagerDuty will take for a user."""
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email

    value = text(value, field, max_length=254, required=True)
    try:
        validate_email(value)
    except ValidationError:
        raise InvalidInput(field, _("Enter a valid email address.")) from None
    return value


def aware(value: object, field: str) -> datetime:
    """Return a datetime that carries its time zone."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value
    raise InvalidInput(field, _("Give a time with its time zone."))


def time_zone(value: object, field: str) -> str:
    """Return an IANA time zone name (e.g. Europe/Paris), as PagerDuty takes."""
    if isinstance(value, str) and value in _time_zones():
        return value
    raise InvalidInput(field, _("Enter a time zone name, e.g. Europe/Paris."))


@cache
def _time_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def web_url(value: object, field: str) -> str:
    """Return an absolute http(s) URL with a host, as webhook deliveries need."""
    value = text(value, field, max_length=2000, required=True)
    parts = urlsplit(value)
    if (
        parts.scheme not in ("https", "http")
        or not parts.hostname
        or parts.username is not None
        or any(c.isspace() for c in value)
    ):
        raise InvalidInput(field, _("Enter an http(s) URL."))
    return value


def path(template: str, *ids: str) -> str:
    """Return an API path with each `{}` filled by an already-checked ID.

    The last line of defence: a value that is not a PagerDuty ID never
    reaches a path, whatever an operation forgot to check.
    """
    for value in ids:
        if not isinstance(value, str) or not PD_ID.fullmatch(value):
            raise InvalidInput("id", _("Enter a PagerDuty ID (letters and digits)."))
    return template.format(*ids)


@dataclass(frozen=True)
class EscalationTarget:
    kind: str
    id: str

    def __post_init__(self):
        choice(self.kind, "targets", ESCALATION_TARGETS)
        pd_id(self.id, "targets")


@dataclass(frozen=True)
class EscalationRule:
    delay_minutes: int
    targets: tuple[EscalationTarget, ...]

    def __post_init__(self):
        bounded(self.delay_minutes, "delay", low=1, high=1440)
        if not 1 <= len(self.targets) <= 10:
            raise InvalidInput("targets", _("Give each level one to ten targets."))
