"""Incident writes: acknowledge, resolve, reassign, escalate, snooze, notes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.utils.translation import gettext as _

from integrations.exceptions import PagerDutyError
from integrations.pagerduty.scopes import Scope
from integrations.pagerduty.workspace import inputs
from integrations.pagerduty.workspace.context import Workspace
from integrations.pagerduty.workspace.entities import Incident, Note
from integrations.pagerduty.workspace.operations import operation


class BulkStopped(PagerDutyError):
    """A bulk update stopped part-way: `done` incidents were already updated."""

    def __init__(self, error: PagerDutyError, *, done: int):
        super().__init__(
            error.message, status=error.status, code=error.code, errors=error.errors
        )
        self.error = error
        self.done = done


def _put(ws: Workspace, incident_id: str, data: dict[str, Any]) -> Incident:
    incident = ws.write_client.update_entity(
        inputs.path("/incidents/{}", incident_id),
        "incident",
        {"type": "incident_reference", **data},
        required_scope=Scope.INCIDENTS_WRITE,
    )
    return Incident.from_api(incident)


@operation(scope=Scope.INCIDENTS_WRITE, write=True, target="incident_id")
def incident_acknowledge(*, ws: Workspace, incident_id: str) -> Incident:
    """Acknowledge an incident and return it."""
    incident_id = inputs.pd_id(incident_id, "incident_id")
    return _put(ws, incident_id, {"status": "acknowledged"})


@operation(scope=Scope.INCIDENTS_WRITE, write=True, target="incident_id")
def incident_resolve(
    *, ws: Workspace, incident_id: str, resolution: str = ""
) -> Incident:
    """Resolve an incident, with an optional resolution note."""
    incident_id = inputs.pd_id(incident_id, "incident_id")
    resolution = inputs.text(resolution, "resolution", max_length=1000)
    data: dict[str, Any] = {"status": "resolved"}
    if resolution:
        data["resolution"] = resolution
    return _put(ws, incident_id, data)


@operation(scope=Scope.INCIDENTS_WRITE, write=True, target="incident_id")
def incident_reopen(*, ws: Workspace, incident_id: str) -> Incident:
    """Reopen a resolved incident (back to triggered)."""
    incident_id = inputs.pd_id(incident_id, "incident_id")
    return _put(ws, incident_id, {"status": "triggered"})


@operation(scope=Scope.INCIDENTS_WRITE, write=True, target="incident_id")
def incident_set_urgency(*, ws: Workspace, incident_id: str, urgency: str) -> Incident:
    """Change an incident's urgency (high or low)."""
    incident_id = inputs.pd_id(incident_id, "incident_id")
    urgency = inputs.choice(urgency, "urgency", inputs.URGENCIES)
    return _put(ws, incident_id, {"urgency": urgency})


@operation(scope=Scope.INCIDENTS_WRITE, write=True, target="incident_id")
def incident_escalate(*, ws: Workspace, incident_id: str, level: int) -> Incident:
    """Escalate an incident to a level of its escalation policy."""
    incident_id = inputs.pd_id(incident_id, "incident_id")
    level = inputs.bounded(level, "level", low=1, high=20)
    return _put(ws, incident_id, {"escalation_level": level})


@operation(scope=Scope.INCIDENTS_WRITE, write=True, target="incident_id")
def incident_reassign(
    *, ws: Workspace, incident_id: str, user_id: str = "", policy_id: str = ""
) -> Incident:
    """Reassign an incident to one user or to an escalation policy."""
    incident_id = inputs.pd_id(incident_id, "incident_id")
    if bool(user_id) == bool(policy_id):
        raise inputs.InvalidInput(
            "assignee", _("Choose either a user or an escalation policy.")
        )
    if user_id:
        user_id = inputs.pd_id(user_id, "user_id")
        data = {
            "assignments": [{"assignee": {"id": user_id, "type": "user_reference"}}]
        }
    else:
        policy_id = inputs.pd_id(policy_id, "policy_id")
        data = {
            "escalation_policy": {
                "id": policy_id,
                "type": "escalation_policy_reference",
            }
        }
    return _put(ws, incident_id, data)


@operation(scope=Scope.INCIDENTS_WRITE, write=True, target="incident_id")
def incident_snooze(*, ws: Workspace, incident_id: str, minutes: int) -> Incident:
    """Snooze an acknowledged incident for some minutes and return it."""
    incident_id = inputs.pd_id(incident_id, "incident_id")
    minutes = inputs.bounded(minutes, "minutes", low=1, high=7 * 24 * 60)
    body = ws.write_client.post(
        inputs.path("/incidents/{}/snooze", incident_id),
        {"duration": minutes * 60},
        required_scope=Scope.INCIDENTS_WRITE,
    )
    incident = body.get("incident") if isinstance(body, dict) else None
    return Incident.from_api(incident if isinstance(incident, dict) else {})


@operation(scope=Scope.INCIDENTS_WRITE, write=True, target="incident_id")
def incident_add_note(*, ws: Workspace, incident_id: str, content: str) -> Note:
    """Add a note to an incident and return it."""
    incident_id = inputs.pd_id(incident_id, "incident_id")
    content = inputs.text(content, "content", max_length=inputs.MAX_NOTE, required=True)
    note = ws.write_client.create_entity(
        inputs.path("/incidents/{}/notes", incident_id),
        "note",
        {"content": content},
        required_scope=Scope.INCIDENTS_WRITE,
    )
    return Note.from_api(note)


@operation(scope=Scope.INCIDENTS_WRITE, write=True)
def incident_create(
    *,
    ws: Workspace,
    title: str,
    service_id: str,
    urgency: str = "",
    details: str = "",
) -> Incident:
    """Create an incident on a service and return it."""
    title = inputs.text(title, "title", max_length=inputs.MAX_TITLE, required=True)
    service_id = inputs.pd_id(service_id, "service_id")
    details = inputs.text(details, "details", max_length=inputs.MAX_TEXT)
    data: dict[str, Any] = {
        "type": "incident",
        "title": title,
        "service": {"id": service_id, "type": "service_reference"},
    }
    if urgency:
        data["urgency"] = inputs.choice(urgency, "urgency", inputs.URGENCIES)
    if details:
        data["body"] = {"type": "incident_body", "details": details}
    incident = ws.write_client.create_entity(
        "/incidents", "incident", data, required_scope=Scope.INCIDENTS_WRITE
    )
    return Incident.from_api(incident)


@operation(scope=Scope.INCIDENTS_WRITE, write=True)
def incident_bulk_update(
    *, ws: Workspace, incident_ids: Sequence[str], status: str
) -> int:
    """Set many incidents' status, in requests of at most 250; return the count.

    Stops at the first refused request; the earlier ones stay applied
    (`BulkStopped` says how many).
    """
    ids = inputs.pd_ids(incident_ids, "incident_ids")
    status = inputs.choice(status, "status", ("acknowledged", "resolved"))
    done = 0
    for start in range(0, len(ids), inputs.BULK_LIMIT):
        chunk = ids[start : start + inputs.BULK_LIMIT]
        body = {
            "incidents": [
                {"id": incident_id, "type": "incident_reference", "status": status}
                for incident_id in chunk
            ]
        }
        try:
            ws.write_client.put(
                "/incidents", body, required_scope=Scope.INCIDENTS_WRITE
            )
        except PagerDutyError as exc:
            if done:
                raise BulkStopped(exc, done=done) from exc
            raise
        done += len(chunk)
    return done
