"""Schedule writes: overrides."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils.translation import gettext as _

from integrations.exceptions import PagerDutyError
from integrations.pagerduty.scopes import Scope
from integrations.pagerduty.workspace import inputs
from integrations.pagerduty.workspace.context import Workspace
from integrations.pagerduty.workspace.entities import Override
from integrations.pagerduty.workspace.operations import operation

# Longer covers are a change of the rotation, not an override.
MAX_OVERRIDE = timedelta(days=31)


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
    results = ws.client.post(
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
    ws.client.delete(
        inputs.path("/schedules/{}/overrides/{}", schedule_id, override_id),
        required_scope=Scope.SCHEDULES_WRITE,
    )
