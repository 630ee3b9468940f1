"""Domain operations on the sandbox state: incidents and on-call math.

Callers hold `state.lock`. Every incident change writes the log entry
PagerDuty would write, so log entries and webhooks stay consistent.
"""

import hashlib
from datetime import datetime, timedelta

from pagerduty_sandbox.state import (
    Alert,
    EscalationPolicy,
    Incident,
    LogEntry,
    Note,
    ResponderRequest,
    Schedule,
    ScheduleLayer,
    Service,
    State,
    User,
)

Agent = tuple[str, str] | None


class OperationError(Exception):
    """A request PagerDuty would refuse; carries its HTTP status and code."""

    def __init__(self, message: str, *, status: int = 400, code: int = 2001, errors=()):
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.errors = list(errors)


# --- On-call math ---


def layer_user_at(layer: ScheduleLayer, moment: datetime) -> str | None:
    """Return who is on call in one layer at `moment`, if the layer applies."""
    if not layer.user_ids or moment < layer.start:
        return None
    if layer.end is not None and moment >= layer.end:
        return None
    turns = int((moment - layer.rotation_virtual_start).total_seconds()) // (
        layer.turn_seconds
    )
    return layer.user_ids[turns % len(layer.user_ids)]


def schedule_user_at(schedule: Schedule, moment: datetime) -> str | None:
    """Return the final on-call user: overrides, then the highest layer."""
    for override in reversed(schedule.overrides):
        if override.start <= moment < override.end:
            return override.user_id
    for layer in reversed(schedule.layers):
        user_id = layer_user_at(layer, moment)
        if user_id:
            return user_id
    return None


def _boundaries(schedule: Schedule, since: datetime, until: datetime) -> list:
    points = {since, until}
    for override in schedule.overrides:
        points.update({override.start, override.end})
    for layer in schedule.layers:
        points.add(layer.start)
        if layer.end:
            points.add(layer.end)
        step = timedelta(seconds=layer.turn_seconds)
        offset = (since - layer.rotation_virtual_start) // step
        moment = layer.rotation_virtual_start + offset * step
        while moment < until:
            points.add(moment)
            moment += step
    return sorted(p for p in points if since <= p <= until)


def schedule_entries(
    schedule: Schedule, since: datetime, until: datetime, layer=None
) -> list[tuple[datetime, datetime, str]]:
    """Return merged (start, end, user id) spans for the window.

    With `layer`, only that layer's rotation; otherwise the final schedule.
    """
    entries: list[list] = []
    points = _boundaries(schedule, since, until)
    for start, end in zip(points, points[1:], strict=False):
        if start >= end:
            continue
        if layer is None:
            user_id = schedule_user_at(schedule, start)
        else:
            user_id = layer_user_at(layer, start)
        if user_id is None:
            continue
        if entries and entries[-1][2] == user_id and entries[-1][1] == start:
            entries[-1][1] = end
        else:
            entries.append([start, end, user_id])
    return [tuple(entry) for entry in entries]


def policy_oncalls(
    state: State, policy: EscalationPolicy, moment: datetime
) -> list[tuple[int, str, str | None]]:
    """Return (level, user id, schedule id or None) for each rule's targets."""
    result = []
    for level, rule in enumerate(policy.rules, start=1):
        for kind, target_id in rule.targets:
            if kind == "user":
                result.append((level, target_id, None))
            elif kind == "schedule" and target_id in state.schedules:
                user_id = schedule_user_at(state.schedules[target_id], moment)
                if user_id:
                    result.append((level, user_id, target_id))
    return result


def level_assignees(state: State, policy: EscalationPolicy, level: int) -> list[str]:
    now = state.now()
    seen: list[str] = []
    for rule_level, user_id, _ in policy_oncalls(state, policy, now):
        if rule_level == level and user_id not in seen:
            seen.append(user_id)
    return seen


# --- Incidents ---


def _log(
    state: State,
    incident: Incident,
    kind: str,
    agent: Agent,
    summary: str,
    *,
    at: datetime | None = None,
    channel: str = "api",
    **extra,
) -> LogEntry:
    entry = LogEntry(
        id="R" + state.new_id()[1:] + state.new_id()[1:],
        type=kind,
        incident_id=incident.id,
        created_at=at or state.now(),
        agent=agent,
        summary=summary,
        channel=channel,
        extra=extra,
    )
    incident.log_entries.append(entry)
    return entry


def _touch(incident: Incident, at: datetime, agent: Agent, *, status: bool = False):
    incident.updated_at = at
    if status:
        incident.last_status_change_at = at
        incident.last_status_change_by = agent


def _agent_label(state: State, agent: Agent) -> str:
    if agent and agent[0] == "user" and agent[1] in state.users:
        return state.users[agent[1]].name
    return "the API"


def incident_create(
    state: State,
    *,
    service: Service,
    title: str,
    agent: Agent,
    urgency: str | None = None,
    incident_key: str | None = None,
    body_details: str | None = None,
    assignee_ids: list[str] | None = None,
    escalation_policy: EscalationPolicy | None = None,
    at: datetime | None = None,
    channel: str = "api",
) -> Incident:
    """Trigger an incident on a service and assign it as PagerDuty would."""
    at = at or state.now()
    policy = (
        escalation_policy or state.escalation_policies[service.escalation_policy_id]
    )
    number = state.next_incident_number(service.account_id)
    key = (
        incident_key
        or hashlib.md5(  # noqa: S324 - a dedup key, not security
            f"{service.id}-{number}-{title}".encode()
        ).hexdigest()
    )
    incident = Incident(
        id=state.new_id(),
        account_id=service.account_id,
        number=number,
        title=title,
        status="triggered",
        urgency=urgency or service.urgency,
        service_id=service.id,
        escalation_policy_id=policy.id,
        created_at=at,
        incident_key=key,
        body_details=body_details,
        team_ids=list(service.team_ids),
    )
    _touch(incident, at, agent or ("service", service.id), status=True)
    state.incidents[incident.id] = incident
    how = "through the API" if channel == "api" else "through the website"
    _log(
        state,
        incident,
        "trigger_log_entry",
        agent,
        f"Triggered {how}",
        at=at,
        channel=channel,
    )
    if assignee_ids:
        incident.assignee_ids = list(assignee_ids)
    else:
        incident.assignee_ids = level_assignees(state, policy, 1)
    for user_id in incident.assignee_ids:
        name = state.users[user_id].name if user_id in state.users else user_id
        _log(
            state,
            incident,
            "assign_log_entry",
            agent,
            f"Assigned to {name}",
            at=at,
            channel=channel,
            assignees=[user_id],
        )
    return incident


def incident_acknowledge(
    state: State, incident: Incident, agent: Agent, *, at: datetime | None = None
) -> None:
    if incident.status == "resolved":
        raise OperationError("Incident Already Resolved", code=1001)
    at = at or state.now()
    user_id = agent[1] if agent and agent[0] == "user" else None
    if user_id and any(u == user_id for u, _ in incident.acknowledgements):
        raise OperationError("Incident Already Acknowledged", code=1002)
    incident.status = "acknowledged"
    if user_id:
        incident.acknowledgements.append((user_id, at))
    _touch(incident, at, agent, status=True)
    _log(
        state,
        incident,
        "acknowledge_log_entry",
        agent,
        f"Acknowledged by {_agent_label(state, agent)}",
        at=at,
    )


def incident_resolve(
    state: State,
    incident: Incident,
    agent: Agent,
    *,
    resolution: str | None = None,
    at: datetime | None = None,
) -> None:
    if incident.status == "resolved":
        raise OperationError("Incident Already Resolved", code=1001)
    at = at or state.now()
    incident.status = "resolved"
    incident.resolved_at = at
    for alert in incident.alerts:
        if alert.status == "triggered":
            alert.status, alert.resolved_at = "resolved", at
    incident.assignee_ids = []
    incident.acknowledgements = []
    incident.snoozed_until = None
    _touch(incident, at, agent, status=True)
    if resolution:
        incident_add_note(state, incident, agent, resolution, at=at)
    _log(
        state,
        incident,
        "resolve_log_entry",
        agent,
        f"Resolved by {_agent_label(state, agent)}",
        at=at,
    )


def incident_reopen(state: State, incident: Incident, agent: Agent, status: str):
    """Set a resolved incident back to triggered or acknowledged."""
    at = state.now()
    policy = state.escalation_policies.get(incident.escalation_policy_id)
    incident.status = "triggered"
    incident.resolved_at = None
    incident.escalation_level = 1
    incident.assignee_ids = level_assignees(state, policy, 1) if policy else []
    _touch(incident, at, agent, status=True)
    _log(
        state,
        incident,
        "trigger_log_entry",
        agent,
        f"Reopened by {_agent_label(state, agent)}",
        at=at,
    )
    if status == "acknowledged":
        incident_acknowledge(state, incident, agent, at=at)


def incident_unacknowledge(state: State, incident: Incident, agent: Agent) -> None:
    at = state.now()
    incident.status = "triggered"
    incident.acknowledgements = []
    _touch(incident, at, agent, status=True)
    _log(
        state,
        incident,
        "unacknowledge_log_entry",
        agent,
        "Unacknowledged due to timeout",
        at=at,
    )


def incident_reassign(
    state: State, incident: Incident, agent: Agent, user_ids: list[str]
) -> None:
    if incident.status == "resolved":
        raise OperationError("Cannot process reassign action", code=1011)
    at = state.now()
    incident.assignee_ids = list(dict.fromkeys(user_ids))
    if incident.status == "acknowledged":
        incident.status = "triggered"
        incident.acknowledgements = []
        _touch(incident, at, agent, status=True)
    else:
        _touch(incident, at, agent)
    names = ", ".join(state.users[u].name for u in incident.assignee_ids)
    _log(
        state,
        incident,
        "assign_log_entry",
        agent,
        f"Assigned to {names}",
        at=at,
        assignees=list(incident.assignee_ids),
    )


def incident_escalate(
    state: State, incident: Incident, agent: Agent, level: int
) -> None:
    if incident.status == "resolved":
        raise OperationError("Cannot Escalate", code=1006)
    policy = state.escalation_policies.get(incident.escalation_policy_id)
    if policy is None or not 1 <= level <= len(policy.rules):
        raise OperationError(
            "Cannot Escalate",
            code=1006,
            errors=[
                f"escalation_level must be between 1 and "
                f"{len(policy.rules) if policy else 0}"
            ],
        )
    at = state.now()
    incident.escalation_level = level
    incident.assignee_ids = level_assignees(state, policy, level)
    if incident.status == "acknowledged":
        incident.status = "triggered"
        incident.acknowledgements = []
    _touch(incident, at, agent, status=True)
    _log(
        state,
        incident,
        "escalate_log_entry",
        agent,
        f"Escalated to level {level} by {_agent_label(state, agent)}",
        at=at,
        assignees=list(incident.assignee_ids),
    )


def incident_set_urgency(
    state: State, incident: Incident, agent: Agent, urgency: str
) -> None:
    if urgency == incident.urgency:
        return
    at = state.now()
    incident.urgency = urgency
    _touch(incident, at, agent)
    _log(
        state,
        incident,
        "urgency_change_log_entry",
        agent,
        f"Urgency changed to {urgency}",
        at=at,
    )


def incident_snooze(
    state: State, incident: Incident, agent: Agent, duration: int
) -> None:
    if not 1 <= duration <= 604800:
        raise OperationError("Snooze Duration is Invalid", code=1013)
    if incident.status != "acknowledged":
        raise OperationError("Incident is not Acknowledged", code=1012)
    at = state.now()
    incident.snoozed_until = at + timedelta(seconds=duration)
    _touch(incident, at, agent)
    _log(
        state,
        incident,
        "snooze_log_entry",
        agent,
        f"Snoozed for {duration // 60} minutes",
        at=at,
        changed_actions=[],
    )


def incident_add_note(
    state: State,
    incident: Incident,
    agent: Agent,
    content: str,
    *,
    at: datetime | None = None,
) -> Note:
    if not content.strip():
        raise OperationError("Invalid Input Provided", errors=["Content is required"])
    if len(incident.notes) >= 2000:
        raise OperationError(
            "Invalid Input Provided", errors=["An incident can have at most 2000 notes"]
        )
    at = at or state.now()
    user_id = agent[1] if agent and agent[0] == "user" else ""
    note = Note(id=state.new_id(), user_id=user_id, content=content, created_at=at)
    incident.notes.append(note)
    _touch(incident, at, agent)
    _log(
        state,
        incident,
        "annotate_log_entry",
        agent,
        f"Note added by {_agent_label(state, agent)}",
        at=at,
    )
    return note


def incident_merge(
    state: State, target: Incident, sources: list[Incident], agent: Agent
) -> None:
    if target.status == "resolved":
        raise OperationError("Incident Already Resolved", code=1001)
    for source in sources:
        if source.id == target.id or source.merged_into:
            raise OperationError("Incident Already Merged", code=1019)
    for source in sources:
        source.merged_into = target.id
        # PagerDuty moves the source's alerts into the target incident.
        for alert in source.alerts:
            alert.incident_id = target.id
        target.alerts.extend(source.alerts)
        source.alerts = []
        if source.status != "resolved":
            incident_resolve(state, source, agent)
        _log(
            state,
            target,
            "annotate_log_entry",
            agent,
            f"Merged incident #{source.number} into this incident",
        )


def incident_add_alert(
    state: State,
    incident: Incident,
    *,
    summary: str,
    severity: str,
    source: str,
    at: datetime,
    alert_key: str | None = None,
    details: dict | None = None,
) -> Alert:
    """Group a monitoring alert into an incident (as an event would)."""
    alert_id = "Q" + state.new_id()[1:] + state.new_id()[1:]
    alert = Alert(
        id=alert_id,
        incident_id=incident.id,
        service_id=incident.service_id,
        # Alerts with one key are one alert (deduplication), so a new alert
        # without a key gets its own.
        alert_key=alert_key or hashlib.md5(alert_id.encode()).hexdigest(),  # noqa: S324 - a dedup key
        summary=summary,
        severity=severity,
        created_at=at,
        source=source,
        details=dict(details or {}),
    )
    if incident.status == "resolved":
        alert.status, alert.resolved_at = "resolved", incident.resolved_at
    incident.alerts.append(alert)
    return alert


def incident_request_responders(
    state: State,
    incident: Incident,
    *,
    requester: User,
    message: str,
    targets: list[tuple[str, str]],
) -> ResponderRequest:
    """Ask more people to respond: users directly, or a policy's first level.

    Each asked user becomes a pending responder; asking an escalation policy
    asks whoever is on call at its first level now.
    """
    if incident.status == "resolved":
        raise OperationError("Incident Already Resolved", code=1001)
    asked = []
    for kind, target_id in targets:
        if kind == "user":
            users = [target_id]
        else:
            users = level_assignees(state, state.escalation_policies[target_id], 1)
        asked.append((kind, target_id, users))
    request = ResponderRequest(
        id=state.new_id(),
        incident_id=incident.id,
        requester_id=requester.id,
        message=message,
        requested_at=state.now(),
        targets=asked,
    )
    incident.responder_requests.append(request)
    _touch(incident, request.requested_at, ("user", requester.id))
    return request


def user_summary(user: User) -> str:
    return user.name
