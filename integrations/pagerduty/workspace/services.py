"""Writes to the tenant's PagerDuty account; each one invalidates its cache.

Every function raises the client's PagerDutyError subclasses unchanged, so
views can show PagerDuty's own message (e.g. "Incident Already Resolved").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from integrations.pagerduty.scopes import Scope
from integrations.pagerduty.workspace.context import Workspace

# PUT /incidents takes at most 250 incidents (413 beyond; NOTES §5).
BULK_LIMIT = 250


def _write(ws: Workspace, call: Callable[[], Any]) -> Any:
    """Run a write and invalidate the connection's cache, even on failure.

    A failed bulk or a timeout may still have changed something upstream.
    """
    try:
        return call()
    finally:
        ws.invalidate()


def _incident_put(ws: Workspace, incident_id: str, data: dict) -> dict:
    return _write(
        ws,
        lambda: ws.client.update_entity(
            f"/incidents/{incident_id}",
            "incident",
            {"type": "incident_reference", **data},
            required_scope=Scope.INCIDENTS_WRITE,
        ),
    )


def incident_acknowledge(*, ws: Workspace, incident_id: str) -> dict:
    """Acknowledge an incident."""
    return _incident_put(ws, incident_id, {"status": "acknowledged"})


def incident_resolve(*, ws: Workspace, incident_id: str, resolution: str = "") -> dict:
    """Resolve an incident, with an optional resolution note."""
    data: dict[str, Any] = {"status": "resolved"}
    if resolution:
        data["resolution"] = resolution
    return _incident_put(ws, incident_id, data)


def incident_set_urgency(*, ws: Workspace, incident_id: str, urgency: str) -> dict:
    """Change an incident's urgency (high or low)."""
    return _incident_put(ws, incident_id, {"urgency": urgency})


def incident_escalate(*, ws: Workspace, incident_id: str, level: int) -> dict:
    """Escalate an incident to a level of its escalation policy."""
    return _incident_put(ws, incident_id, {"escalation_level": level})


def incident_reassign(
    *, ws: Workspace, incident_id: str, user_id: str = "", policy_id: str = ""
) -> dict:
    """Reassign an incident to a user or to an escalation policy."""
    if user_id:
        data = {
            "assignments": [{"assignee": {"id": user_id, "type": "user_reference"}}]
        }
    else:
        data = {
            "escalation_policy": {
                "id": policy_id,
                "type": "escalation_policy_reference",
            }
        }
    return _incident_put(ws, incident_id, data)


def incident_snooze(*, ws: Workspace, incident_id: str, minutes: int) -> dict:
    """Snooze an acknowledged incident for some minutes."""
    return _write(
        ws,
        lambda: ws.client.post(
            f"/incidents/{incident_id}/snooze",
            {"duration": minutes * 60},
            required_scope=Scope.INCIDENTS_WRITE,
        ),
    )


def incident_add_note(*, ws: Workspace, incident_id: str, content: str) -> dict:
    """Add a note to an incident."""
    return _write(
        ws,
        lambda: ws.client.create_entity(
            f"/incidents/{incident_id}/notes",
            "note",
            {"content": content},
            required_scope=Scope.INCIDENTS_WRITE,
        ),
    )


def incident_create(
    *,
    ws: Workspace,
    title: str,
    service_id: str,
    urgency: str = "",
    details: str = "",
) -> dict:
    """Create an incident on a service and return it."""
    data: dict[str, Any] = {
        "type": "incident",
        "title": title,
        "service": {"id": service_id, "type": "service_reference"},
    }
    if urgency:
        data["urgency"] = urgency
    if details:
        data["body"] = {"type": "incident_body", "details": details}
    return _write(
        ws,
        lambda: ws.client.create_entity(
            "/incidents", "incident", data, required_scope=Scope.INCIDENTS_WRITE
        ),
    )


def incident_bulk_update(
    *, ws: Workspace, incident_ids: Sequence[str], status: str
) -> int:
    """Set many incidents' status, in requests of at most 250; return the count.

    Stops at the first refused request; the earlier ones stay applied.
    """
    ids = list(dict.fromkeys(incident_ids))
    done = 0
    for start in range(0, len(ids), BULK_LIMIT):
        chunk = ids[start : start + BULK_LIMIT]
        body = {
            "incidents": [
                {"id": incident_id, "type": "incident_reference", "status": status}
                for incident_id in chunk
            ]
        }
        _write(
            ws,
            lambda body=body: ws.client.put(
                "/incidents", body, required_scope=Scope.INCIDENTS_WRITE
            ),
        )
        done += len(chunk)
    return done


# --- Services ---


def _service_body(
    *,
    name: str,
    description: str,
    escalation_policy_id: str,
    acknowledgement_timeout: int | None,
    auto_resolve_timeout: int | None,
) -> dict[str, Any]:
    return {
        "type": "service",
        "name": name,
        "description": description,
        "escalation_policy": {
            "id": escalation_policy_id,
            "type": "escalation_policy_reference",
        },
        "acknowledgement_timeout": acknowledgement_timeout,
        "auto_resolve_timeout": auto_resolve_timeout,
    }


def service_create(*, ws: Workspace, **fields: Any) -> dict:
    """Create a service and return it."""
    return _write(
        ws,
        lambda: ws.client.create_entity(
            "/services",
            "service",
            _service_body(**fields),
            required_scope=Scope.SERVICES_WRITE,
        ),
    )


def service_update(*, ws: Workspace, service_id: str, **fields: Any) -> dict:
    """Update a service's name, description, policy and timeouts."""
    return _write(
        ws,
        lambda: ws.client.update_entity(
            f"/services/{service_id}",
            "service",
            _service_body(**fields),
            required_scope=Scope.SERVICES_WRITE,
        ),
    )


def service_set_enabled(*, ws: Workspace, service_id: str, enabled: bool) -> dict:
    """Enable (status active) or disable a service."""
    return _write(
        ws,
        lambda: ws.client.update_entity(
            f"/services/{service_id}",
            "service",
            {"type": "service", "status": "active" if enabled else "disabled"},
            required_scope=Scope.SERVICES_WRITE,
        ),
    )


def service_delete(*, ws: Workspace, service_id: str) -> None:
    """Delete a service."""
    _write(
        ws,
        lambda: ws.client.delete(
            f"/services/{service_id}", required_scope=Scope.SERVICES_WRITE
        ),
    )
