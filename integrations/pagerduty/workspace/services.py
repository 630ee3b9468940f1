"""Writes to the tenant's PagerDuty account; each one invalidates its cache.

Every function raises the client's PagerDutyError subclasses unchanged, so
views can show PagerDuty's own message (e.g. "Incident Already Resolved").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from integrations.exceptions import PagerDutyError
from integrations.pagerduty.scopes import Scope
from integrations.pagerduty.workspace.context import Workspace

# PUT /incidents takes at most 250 incidents (413 beyond; NOTES §5).
BULK_LIMIT = 250


class BulkStopped(PagerDutyError):
    """A bulk update stopped part-way: `done` incidents were already updated."""

    def __init__(self, error: PagerDutyError, *, done: int):
        super().__init__(
            error.message, status=error.status, code=error.code, errors=error.errors
        )
        self.error = error
        self.done = done


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
        try:
            _write(
                ws,
                lambda body=body: ws.client.put(
                    "/incidents", body, required_scope=Scope.INCIDENTS_WRITE
                ),
            )
        except PagerDutyError as exc:
            if done:
                raise BulkStopped(exc, done=done) from exc
            raise
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


# --- Schedules ---


def schedule_override_create(
    *, ws: Workspace, schedule_id: str, user_id: str, start, end
) -> None:
    """Create an override on a schedule.

    PagerDuty answers 201 with one result per override, each with its own
    status, so an override can be refused inside a successful response.
    """
    body = {
        "overrides": [
            {
                "start": start.isoformat(),
                "end": end.isoformat(),
                "user": {"id": user_id, "type": "user_reference"},
            }
        ]
    }
    results = _write(
        ws,
        lambda: ws.client.post(
            f"/schedules/{schedule_id}/overrides",
            body,
            required_scope=Scope.SCHEDULES_WRITE,
        ),
    )
    for result in results if isinstance(results, list) else []:
        status = result.get("status") if isinstance(result, dict) else None
        if isinstance(status, int | float) and status >= 300:
            errors = [e for e in result.get("errors") or [] if isinstance(e, str)]
            raise PagerDutyError(
                "; ".join(errors) or "PagerDuty refused the override.",
                status=int(status),
                errors=errors,
            )


def schedule_override_delete(
    *, ws: Workspace, schedule_id: str, override_id: str
) -> None:
    """Delete an override."""
    _write(
        ws,
        lambda: ws.client.delete(
            f"/schedules/{schedule_id}/overrides/{override_id}",
            required_scope=Scope.SCHEDULES_WRITE,
        ),
    )


# --- Escalation policies ---


def _policy_body(
    *, name: str, description: str, num_loops: int, rules: list[dict]
) -> dict[str, Any]:
    return {
        "type": "escalation_policy",
        "name": name,
        "description": description,
        "num_loops": num_loops,
        "escalation_rules": [
            {
                "escalation_delay_in_minutes": rule["delay"],
                "targets": [
                    {"id": target_id, "type": f"{kind}_reference"}
                    for kind, target_id in rule["targets"]
                ],
            }
            for rule in rules
        ],
    }


def escalation_policy_create(*, ws: Workspace, **fields: Any) -> dict:
    """Create an escalation policy and return it."""
    return _write(
        ws,
        lambda: ws.client.create_entity(
            "/escalation_policies",
            "escalation_policy",
            _policy_body(**fields),
            required_scope=Scope.ESCALATION_POLICIES_WRITE,
        ),
    )


def escalation_policy_update(*, ws: Workspace, policy_id: str, **fields: Any) -> dict:
    """Replace an escalation policy's name, description, loops and rules."""
    return _write(
        ws,
        lambda: ws.client.update_entity(
            f"/escalation_policies/{policy_id}",
            "escalation_policy",
            _policy_body(**fields),
            required_scope=Scope.ESCALATION_POLICIES_WRITE,
        ),
    )


# --- Users and teams ---


def user_create(
    *, ws: Workspace, name: str, email: str, role: str, job_title: str = ""
) -> dict:
    """Create a user (PagerDuty wants `From`; the client sends it)."""
    data = {"type": "user", "name": name, "email": email, "role": role}
    if job_title:
        data["job_title"] = job_title
    return _write(
        ws,
        lambda: ws.client.create_entity(
            "/users", "user", data, required_scope=Scope.USERS_WRITE
        ),
    )


def user_update(
    *, ws: Workspace, user_id: str, name: str, email: str, role: str, job_title: str
) -> dict:
    """Update a user's name, email, role and job title."""
    data = {
        "type": "user",
        "name": name,
        "email": email,
        "role": role,
        "job_title": job_title,
    }
    return _write(
        ws,
        lambda: ws.client.update_entity(
            f"/users/{user_id}", "user", data, required_scope=Scope.USERS_WRITE
        ),
    )


def user_delete(*, ws: Workspace, user_id: str) -> None:
    """Delete a user."""
    _write(
        ws,
        lambda: ws.client.delete(f"/users/{user_id}", required_scope=Scope.USERS_WRITE),
    )


def team_create(*, ws: Workspace, name: str, description: str = "") -> dict:
    """Create a team."""
    data = {"type": "team", "name": name, "description": description}
    return _write(
        ws,
        lambda: ws.client.create_entity(
            "/teams", "team", data, required_scope=Scope.TEAMS_WRITE
        ),
    )


def team_update(*, ws: Workspace, team_id: str, name: str, description: str) -> dict:
    """Update a team's name and description."""
    data = {"type": "team", "name": name, "description": description}
    return _write(
        ws,
        lambda: ws.client.update_entity(
            f"/teams/{team_id}", "team", data, required_scope=Scope.TEAMS_WRITE
        ),
    )


def team_delete(*, ws: Workspace, team_id: str) -> None:
    """Delete a team."""
    _write(
        ws,
        lambda: ws.client.delete(f"/teams/{team_id}", required_scope=Scope.TEAMS_WRITE),
    )


def team_add_member(*, ws: Workspace, team_id: str, user_id: str, role: str) -> None:
    """Add a user to a team with a team role (or change their role)."""
    _write(
        ws,
        lambda: ws.client.put(
            f"/teams/{team_id}/users/{user_id}",
            {"role": role},
            required_scope=Scope.TEAMS_WRITE,
        ),
    )


def team_remove_member(*, ws: Workspace, team_id: str, user_id: str) -> None:
    """Remove a user from a team."""
    _write(
        ws,
        lambda: ws.client.delete(
            f"/teams/{team_id}/users/{user_id}", required_scope=Scope.TEAMS_WRITE
        ),
    )


# --- Webhook subscriptions ---


def webhook_create(
    *,
    ws: Workspace,
    url: str,
    events: list[str],
    filter_type: str,
    filter_id: str = "",
    description: str = "",
) -> dict:
    """Create a webhook subscription; the result carries its secret, once."""
    flt: dict[str, Any] = {"type": f"{filter_type}_reference"}
    if filter_type != "account":
        flt["id"] = filter_id
    data = {
        "type": "webhook_subscription",
        "delivery_method": {"type": "http_delivery_method", "url": url},
        "events": events,
        "filter": flt,
        "description": description,
        "active": True,
    }
    return _write(
        ws,
        lambda: ws.client.create_entity(
            "/webhook_subscriptions",
            "webhook_subscription",
            data,
            required_scope=Scope.WEBHOOK_SUBSCRIPTIONS_WRITE,
        ),
    )


def webhook_delete(*, ws: Workspace, subscription_id: str) -> None:
    """Delete a webhook subscription."""
    _write(
        ws,
        lambda: ws.client.delete(
            f"/webhook_subscriptions/{subscription_id}",
            required_scope=Scope.WEBHOOK_SUBSCRIPTIONS_WRITE,
        ),
    )


def webhook_enable(*, ws: Workspace, subscription_id: str) -> None:
    """Re-enable a temporarily disabled webhook subscription."""
    _write(
        ws,
        lambda: ws.client.post(
            f"/webhook_subscriptions/{subscription_id}/enable",
            required_scope=Scope.WEBHOOK_SUBSCRIPTIONS_WRITE,
        ),
    )


def webhook_ping(*, ws: Workspace, subscription_id: str) -> None:
    """Ask PagerDuty to send a test event to the subscription."""
    ws.client.post(
        f"/webhook_subscriptions/{subscription_id}/ping",
        required_scope=Scope.WEBHOOK_SUBSCRIPTIONS_WRITE,
    )
