"""Incident writes: acknowledge, resolve, reassign, escalate, snooze, notes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.utils.translation import gettext as _

from integrations.exceptions import PagerDutyError
from integrations.pagerduty.scopes import Scope
from integrations.pagerduty.workspace import inputs
from integrations.pagerduty.workspace.context import Workspace
from integrations.pagerduty.workspace.entities import (
    Incident,
    Note,
    Ref,
    _dicts,
    _str,
    _time,
)
from integrations.pagerduty.workspace.operations import operation

# PagerDuty takes at most this many assignees on an incident.
MAX_ASSIGNEES = 10
RESPONDER_KINDS = ("user", "escalation_policy")
MAX_RESPONDER_TARGETS = 25


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
    assignee_ids: Sequence[str] = (),
) -> Incident:
    """Create an incident on a service and return it.

    With `assignee_ids` only those users are notified, not the service's
    escalation policy.
    """
    title = inputs.text(title, "title", max_length=inputs.MAX_TITLE, required=True)
    service_id = inputs.pd_id(service_id, "service_id")
    details = inputs.text(details, "details", max_length=inputs.MAX_TEXT)
    assignees = (
        inputs.pd_ids(assignee_ids, "assignee_ids", limit=MAX_ASSIGNEES)
        if assignee_ids
        else []
    )
    data: dict[str, Any] = {
        "type": "incident",
        "title": title,
        "service": {"id": service_id, "type": "service_reference"},
    }
    if urgency:
        data["urgency"] = inputs.choice(urgency, "urgency", inputs.URGENCIES)
    if details:
        data["body"] = {"type": "incident_body", "details": details}
    if assignees:
        data["assignments"] = [
            {"assignee": {"id": user_id, "type": "user_reference"}}
            for user_id in assignees
        ]
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


@operation(scope=Scope.INCIDENTS_WRITE, write=True)
def incident_bulk_change(
    *,
    ws: Workspace,
    incident_ids: Sequence[str],
    status: str = "",
    urgency: str = "",
    assignee_id: str = "",
    escalation_level: int | None = None,
) -> list[Incident]:
    """Change many incidents at once; return them as PagerDuty now has them.

    Each request of at most 250 incidents carries every change, so an
    incident is never left half-changed. Stops at the first refused
    request; the earlier ones stay applied (`BulkStopped` says how many).
    """
    ids = inputs.pd_ids(incident_ids, "incident_ids")
    change: dict[str, Any] = {}
    if status:
        change["status"] = inputs.choice(status, "status", ("acknowledged", "resolved"))
    if urgency:
        change["urgency"] = inputs.choice(urgency, "urgency", inputs.URGENCIES)
    if assignee_id:
        user_id = inputs.pd_id(assignee_id, "assignee_id")
        change["assignments"] = [
            {"assignee": {"id": user_id, "type": "user_reference"}}
        ]
    if escalation_level is not None:
        change["escalation_level"] = inputs.bounded(
            escalation_level, "escalation_level", low=1, high=20
        )
    if not change:
        raise inputs.InvalidInput(
            "incident_ids",
            _("Say what to change: status, urgency, assignee or escalation level."),
        )
    updated: list[Incident] = []
    done = 0
    for start in range(0, len(ids), inputs.BULK_LIMIT):
        chunk = ids[start : start + inputs.BULK_LIMIT]
        body = {
            "incidents": [
                {"id": incident_id, "type": "incident_reference", **change}
                for incident_id in chunk
            ]
        }
        try:
            answer = ws.write_client.put(
                "/incidents", body, required_scope=Scope.INCIDENTS_WRITE
            )
        except PagerDutyError as exc:
            if done:
                raise BulkStopped(exc, done=done) from exc
            raise
        done += len(chunk)
        items = answer.get("incidents") if isinstance(answer, dict) else None
        updated.extend(Incident.from_api(item) for item in _dicts(items))
    return updated


@dataclass(frozen=True)
class ResponderRequest:
    """A request for more responders on an incident."""

    id: str
    message: str
    requested_at: datetime | None
    requester: Ref | None
    # (kind, target): kind is "user" or "escalation_policy".
    targets: list[tuple[str, Ref]] = field(default_factory=list)

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> ResponderRequest:
        targets = []
        for item in _dicts(data.get("responder_request_targets")):
            target = item.get("responder_request_target", item)
            ref = Ref.from_api(target)
            if ref is not None:
                kind = _str(target.get("type")).removesuffix("_reference")
                targets.append((kind, ref))
        return cls(
            id=_str(data.get("id")),
            message=_str(data.get("message")),
            requested_at=_time(data.get("requested_at")),
            requester=Ref.from_api(data.get("requester")),
            targets=targets,
        )


@operation(scope=Scope.INCIDENTS_WRITE, write=True, target="incident_id")
def incident_add_responders(
    *,
    ws: Workspace,
    incident_id: str,
    targets: Sequence[tuple[str, str]],
    message: str,
) -> ResponderRequest:
    """Ask users or escalation policies to join an incident, as this person.

    `targets` are (kind, ID) pairs, kind "user" or "escalation_policy". The
    requester is the PagerDuty user of the person's own link.
    """
    incident_id = inputs.pd_id(incident_id, "incident_id")
    message = inputs.text(message, "message", max_length=2000, required=True)
    if isinstance(targets, str | bytes) or not isinstance(targets, Sequence):
        raise inputs.InvalidInput("targets", _("Give a list of responders."))
    if not 1 <= len(targets) <= MAX_RESPONDER_TARGETS:
        raise inputs.InvalidInput(
            "targets",
            _("Give from 1 to %(n)s responders.") % {"n": MAX_RESPONDER_TARGETS},
        )
    checked = []
    for target in targets:
        if not isinstance(target, tuple | list) or len(target) != 2:
            raise inputs.InvalidInput("targets", _("Give (kind, ID) pairs."))
        kind = inputs.choice(target[0], "targets", RESPONDER_KINDS)
        checked.append((kind, inputs.pd_id(target[1], "targets")))
    client = ws.write_client
    requester_id = inputs.pd_id(ws.usable_link.pd_user_id, "requester_id")
    body = client.post(
        inputs.path("/incidents/{}/responder_requests", incident_id),
        {
            "requester_id": requester_id,
            "message": message,
            "responder_request_targets": [
                {
                    "responder_request_target": {
                        "id": target_id,
                        "type": f"{kind}_reference",
                    }
                }
                for kind, target_id in dict.fromkeys(checked)
            ],
        },
        required_scope=Scope.INCIDENTS_WRITE,
    )
    request = body.get("responder_request") if isinstance(body, dict) else None
    return ResponderRequest.from_api(request if isinstance(request, dict) else {})
