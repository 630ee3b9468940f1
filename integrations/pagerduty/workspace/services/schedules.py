"""Schedule writes: overrides."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone
from django.utils.translation import gettext as _

from integrations.exceptions import PagerDutyError
from integrations.pagerduty.scopes import Scope
from integrations.pagerduty.workspace import inputs
from integrations.pagerduty.workspace.access import NotAllowed
from integrations.pagerduty.workspace.context import Workspace
from integrations.pagerduty.workspace.entities import Override
from integrations.pagerduty.workspace.operations import operation

# Longer covers are a change of the rotation, not an override.
MAX_OVERRIDE = timedelta(days=31)
# How far ahead a member's override is looked for before deleting it.
OVERRIDE_LOOKAHEAD = timedelta(days=90)


@operation(scope=Scope.SCHEDULES_WRITE, write=True, target="schedule_id")
def schedule_override_create(
    *,
    ws: Workspace,
    schedule_id: str,
    user_id: str,
    start: datetime,
    end: datetime,
) -> Override:
    """Create an override on a schedule and return it.

    PagerDuty answers 201 with one result per override, each with its own
    status, so an override can be refused inside a successful response.
    """
    schedule_id = inputs.pd_id(schedule_id, "schedule_id")
    user_id = inputs.pd_id(user_id, "user_id")
    _own_only(ws, user_id)
    start = inputs.aware(start, "start")
    end = inputs.aware(end, "end")
    if not start < end <= start + MAX_OVERRIDE:
        raise inputs.InvalidInput(
            "end", _("“Until” must be after “From”, and at most 31 days later.")
        )
    body = {
        "overrides": [
            {
                "start": start.isoformat(),
                "end": end.isoformat(),
                "user": {"id": user_id, "type": "user_reference"},
            }
        ]
    }
    results = ws.write_client.post(
        inputs.path("/schedules/{}/overrides", schedule_id),
        body,
        required_scope=Scope.SCHEDULES_WRITE,
    )
    created: dict = {}
    for result in results if isinstance(results, list) else []:
        if not isinstance(result, dict):
            continue
        status = result.get("status")
        if isinstance(status, int | float) and status >= 300:
            errors = [e for e in result.get("errors") or [] if isinstance(e, str)]
            raise PagerDutyError(
                "; ".join(errors) or _("PagerDuty refused the override."),
                status=int(status),
                errors=tuple(errors),
            )
        if isinstance(result.get("override"), dict):
            created = result["override"]
    return Override.from_api(created)


@operation(scope=Scope.SCHEDULES_WRITE, write=True, target="override_id")
def schedule_override_delete(
    *, ws: Workspace, schedule_id: str, override_id: str
) -> None:
    """Delete an override."""
    schedule_id = inputs.pd_id(schedule_id, "schedule_id")
    override_id = inputs.pd_id(override_id, "override_id")
    if not ws.is_admin:
        _own_only(ws, _override_user(ws, schedule_id, override_id))
    ws.write_client.delete(
        inputs.path("/schedules/{}/overrides/{}", schedule_id, override_id),
        required_scope=Scope.SCHEDULES_WRITE,
    )


def _own_only(ws: Workspace, user_id: str) -> None:
    """Members change only their own overrides; admins anyone's."""
    if not ws.is_admin and user_id != ws.usable_link.pd_user_id:
        raise NotAllowed(_("As a member you can change only your own overrides."))


def _override_user(ws: Workspace, schedule_id: str, override_id: str) -> str:
    """Return whose override it is: one read of the schedule's overrides.

    PagerDuty lists overrides for a window only; one that has already
    ended can no longer be deleted, so the window starts now.
    """
    since = timezone.now()
    body = ws.client.get(
        inputs.path("/schedules/{}/overrides", schedule_id),
        {
            "since": since.isoformat(),
            "until": (since + OVERRIDE_LOOKAHEAD).isoformat(),
        },
        required_scope=Scope.SCHEDULES_READ,
    )
    for item in body.get("overrides") or [] if isinstance(body, dict) else []:
        if isinstance(item, dict) and item.get("id") == override_id:
            user = item.get("user")
            return user.get("id", "") if isinstance(user, dict) else ""
    return ""
