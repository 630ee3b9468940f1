"""Incidents, their notes and log entries (NOTES §5, OAS Incidents)."""

import copy
from bisect import bisect_left
from datetime import timedelta

from pagerduty_sandbox import ops, webhooks
from pagerduty_sandbox.http import Response
from pagerduty_sandbox.rest.base import (
    ApiError,
    Ctx,
    includes,
    invalid,
    not_found,
    paginate,
    reference_id,
    text_field,
)
from pagerduty_sandbox.rest.registry import route
from pagerduty_sandbox.state import Incident, LogEntry, iso

STATUSES = ("triggered", "acknowledged", "resolved")
URGENCIES = ("high", "low")
INCIDENT_INCLUDES = (
    "acknowledgers",
    "agents",
    "assignees",
    "conference_bridge",
    "escalation_policies",
    "first_trigger_log_entries",
    "priorities",
    "services",
    "teams",
    "users",
)
SORT_FIELDS = ("incident_number", "created_at", "resolved_at", "urgency")
MAX_BULK = 250
# PagerDuty: since/until default to the last month, at most 6 months apart.
DEFAULT_WINDOW = timedelta(days=30)
MAX_WINDOW = timedelta(days=183)


def owned_incident(ctx: Ctx, incident_id: str) -> Incident:
    """Return the account's incident or raise PagerDuty's 404."""
    return ctx.owned(ctx.state.incidents, incident_id, "Incident Not Found", 5001)


_incident = owned_incident


def incident_ref(ctx: Ctx, incident: Incident) -> dict:
    return ctx.ref(
        "incident",
        incident.id,
        f"[#{incident.number}] {incident.title}",
        "incidents",
    )


def _agent_ref(ctx: Ctx, agent) -> dict | None:
    if agent is None:
        return None
    kind, agent_id = agent
    if kind == "user":
        return ctx.user_ref(agent_id)
    return ctx.service_ref(agent_id)


def render_log_entry(ctx: Ctx, entry: LogEntry, include=()) -> dict:
    incident = ctx.state.incidents.get(entry.incident_id)
    subdomain = ctx.state.accounts[ctx.account_id].subdomain
    data = {
        "id": entry.id,
        "type": entry.type,
        "summary": entry.summary,
        "self": f"{ctx.api_url}/log_entries/{entry.id}",
        "html_url": f"https://{subdomain}.pagerduty.com/incidents/"
        f"{entry.incident_id}/log_entries/{entry.id}",
        "created_at": iso(entry.created_at),
        "agent": _agent_ref(ctx, entry.agent),
        "channel": {"type": entry.channel},
        "contexts": [],
        "event_details": {},
    }
    if incident is not None:
        data["incident"] = incident_ref(ctx, incident)
        data["service"] = ctx.service_ref(incident.service_id)
        data["teams"] = [ctx.team_ref(t) for t in incident.team_ids]
        if "incidents" in include:
            data["incident"] = render_incident(ctx, incident)
    if "assignees" in entry.extra:
        data["assignees"] = [ctx.user_ref(u) for u in entry.extra["assignees"]]
    return data


def render_incident(ctx: Ctx, incident: Incident, include=()) -> dict:
    from pagerduty_sandbox.rest.oncall import render_policy
    from pagerduty_sandbox.rest.people import render_team, render_user
    from pagerduty_sandbox.rest.services import render_service

    state = ctx.state

    def user(user_id):
        if "assignees" in include and user_id in state.users:
            return render_user(ctx, state.users[user_id])
        return ctx.user_ref(user_id)

    trigger = next(
        (e for e in incident.log_entries if e.type == "trigger_log_entry"), None
    )
    service = state.services.get(incident.service_id)
    policy = state.escalation_policies.get(incident.escalation_policy_id)
    data = {
        "id": incident.id,
        "type": "incident",
        "summary": f"[#{incident.number}] {incident.title}",
        "self": f"{ctx.api_url}/incidents/{incident.id}",
        "html_url": ctx.html_url("incidents", incident.id),
        "incident_number": incident.number,
        "title": incident.title,
        "description": incident.title,
        "created_at": iso(incident.created_at),
        "updated_at": iso(incident.updated_at),
        "status": incident.status,
        "incident_key": incident.incident_key,
        "service": (
            render_service(ctx, service)
            if "services" in include and service
            else ctx.service_ref(incident.service_id)
        ),
        "assignments": [
            {"at": iso(incident.updated_at), "assignee": user(u)}
            for u in incident.assignee_ids
        ],
        "assigned_via": "escalation_policy",
        "last_status_change_at": iso(incident.last_status_change_at),
        "last_status_change_by": _agent_ref(ctx, incident.last_status_change_by),
        "acknowledgements": [
            {
                "at": iso(at),
                "acknowledger": (
                    render_user(ctx, state.users[u])
                    if "acknowledgers" in include and u in state.users
                    else ctx.user_ref(u)
                ),
            }
            for u, at in incident.acknowledgements
        ],
        "alert_counts": _alert_counts(incident),
        "is_mergeable": incident.merged_into is None,
        "incident_type": {"name": "incident_default"},
        "escalation_policy": (
            render_policy(ctx, policy)
            if "escalation_policies" in include and policy
            else ctx.policy_ref(incident.escalation_policy_id)
        ),
        "teams": [
            render_team(ctx, state.teams[t])
            if "teams" in include and t in state.teams
            else ctx.team_ref(t)
            for t in incident.team_ids
        ],
        "pending_actions": [],
        "urgency": incident.urgency,
        "incidents_responders": [
            responder
            for request in incident.responder_requests
            for responder in render_responders(ctx, incident, request)
        ],
        "responder_requests": [
            render_responder_request(ctx, incident, r)
            for r in incident.responder_requests
        ],
    }
    if incident.resolved_at:
        data["resolved_at"] = iso(incident.resolved_at)
    if trigger is not None:
        if "first_trigger_log_entries" in include:
            data["first_trigger_log_entry"] = render_log_entry(ctx, trigger)
        else:
            data["first_trigger_log_entry"] = {
                "id": trigger.id,
                "type": "trigger_log_entry_reference",
                "summary": trigger.summary,
                "self": f"{ctx.api_url}/log_entries/{trigger.id}",
                "html_url": None,
            }
    return data


def _alert_counts(incident: Incident) -> dict:
    triggered = sum(a.status == "triggered" for a in incident.alerts)
    return {
        "all": len(incident.alerts),
        "triggered": triggered,
        "resolved": len(incident.alerts) - triggered,
    }


def render_responders(ctx: Ctx, incident: Incident, request) -> list[dict]:
    """Return one pending responder per user a request asked."""
    policies = ctx.state.escalation_policies
    responders: dict[str, dict] = {}
    for kind, target_id, user_ids in request.targets:
        for user_id in user_ids:
            entry = responders.setdefault(
                user_id,
                {
                    "state": "pending",
                    "user": ctx.user_ref(user_id),
                    "incident": incident_ref(ctx, incident),
                    "updated_at": iso(request.requested_at),
                    "message": request.message,
                    "requester": ctx.user_ref(request.requester_id),
                    "requested_at": iso(request.requested_at),
                    "escalation_policy_requests": [],
                },
            )
            if kind == "escalation_policy" and target_id in policies:
                entry["escalation_policy_requests"].append(policies[target_id].name)
    return list(responders.values())


def render_responder_request(ctx: Ctx, incident: Incident, request) -> dict:
    responders = {r["user"]["id"]: r for r in render_responders(ctx, incident, request)}
    targets = []
    for kind, target_id, user_ids in request.targets:
        ref = ctx.user_ref(target_id) if kind == "user" else ctx.policy_ref(target_id)
        targets.append(
            {
                "responder_request_target": {
                    "type": kind,
                    "id": target_id,
                    "summary": ref["summary"],
                    "incidents_responders": [responders[u] for u in user_ids],
                }
            }
        )
    return {
        "id": request.id,
        "incident": incident_ref(ctx, incident),
        "requester": ctx.user_ref(request.requester_id),
        "requested_at": iso(request.requested_at),
        "message": request.message,
        "responder_request_targets": targets,
    }


def render_note(ctx: Ctx, note) -> dict:
    return {
        "id": note.id,
        "user": ctx.user_ref(note.user_id) if note.user_id else None,
        "channel": {"summary": "The PagerDuty website or API"},
        "content": note.content,
        "created_at": iso(note.created_at),
    }


# --- List and get ---


def _window(ctx: Ctx):
    """Return (since, until) or (None, None) for date_range=all."""
    date_range = ctx.arg("date_range")
    if date_range not in (None, "", "all"):
        raise invalid("date_range must be all")
    if date_range == "all":
        return None, None
    now = ctx.state.now()
    until = ctx.time_arg("until") or now
    since = ctx.time_arg("since") or until - DEFAULT_WINDOW
    if since > until:
        raise ApiError(400, "Invalid Query Date Range", 2005, ["since is after until"])
    if until - since > MAX_WINDOW:
        raise ApiError(
            400,
            "Invalid Query Date Range",
            2005,
            ["since and until can be at most 6 months apart"],
        )
    return since, until


def _sorter(ctx: Ctx):
    value = ctx.arg("sort_by")
    if not value:
        return [("created_at", False)]
    keys = []
    for part in value.split(","):
        name, _, direction = part.strip().partition(":")
        if name not in SORT_FIELDS or direction not in ("", "asc", "desc"):
            raise invalid(f"sort_by has an invalid value: {part}")
        keys.append((name, direction == "desc"))
    if len(keys) > 2:
        raise invalid("sort_by takes at most two fields")
    return keys


def _sort(incidents: list[Incident], keys) -> list[Incident]:
    from datetime import UTC, datetime

    floor = datetime.min.replace(tzinfo=UTC)
    getters = {
        "incident_number": lambda i: i.number,
        "created_at": lambda i: i.created_at,
        "resolved_at": lambda i: i.resolved_at or floor,
        "urgency": lambda i: URGENCIES.index(i.urgency),
    }
    for name, descending in reversed(keys):
        incidents.sort(key=getters[name], reverse=descending)
    return incidents


def _by_created_at(ctx: Ctx) -> tuple[list[Incident], list]:
    """Return the account's incidents in created_at order, and their times.

    Cached until an incident is added or removed: created_at and the
    account never change. The sort is stable over insertion order, as the
    per-request sort was, so ties keep the order PagerDuty-like clients saw.
    """
    state = ctx.state
    key = ("incidents_by_created_at", ctx.account_id)
    cached = state.indexes.get(key)
    if cached is None or cached[0] != state.incidents.version:
        ordered = sorted(
            (i for i in state.incidents.values() if i.account_id == ctx.account_id),
            key=lambda i: i.created_at,
        )
        cached = (state.incidents.version, ordered, [i.created_at for i in ordered])
        state.indexes[key] = cached
    return cached[1], cached[2]


@route("GET", "/incidents")
def incident_list(ctx: Ctx):
    include = includes(ctx, INCIDENT_INCLUDES)
    statuses = set(ctx.enum_args("statuses", STATUSES))
    urgencies = set(ctx.enum_args("urgencies", URGENCIES))
    service_ids = set(ctx.args("service_ids"))
    team_ids = set(ctx.args("team_ids"))
    user_ids = set(ctx.args("user_ids"))
    incident_key = ctx.arg("incident_key")
    since, until = _window(ctx)
    keys = _sorter(ctx)
    # The default order is the index's, so a date window is two bisections
    # instead of a scan and a sort of every incident under the state lock.
    presorted = keys == [("created_at", False)]
    if presorted:
        candidates, moments = _by_created_at(ctx)
        if since is not None:
            candidates = candidates[
                bisect_left(moments, since) : bisect_left(moments, until)
            ]
    else:
        candidates = [
            i
            for i in ctx.state.incidents.values()
            if i.account_id == ctx.account_id
            and (since is None or since <= i.created_at < until)
        ]
    if statuses or urgencies or service_ids or team_ids or user_ids or incident_key:
        found = [
            i
            for i in candidates
            if (not statuses or i.status in statuses)
            and (not urgencies or i.urgency in urgencies)
            and (not service_ids or i.service_id in service_ids)
            and (not team_ids or team_ids.intersection(i.team_ids))
            and (not user_ids or user_ids.intersection(i.assignee_ids))
            and (not incident_key or i.incident_key == incident_key)
        ]
    else:
        found = candidates
    return paginate(
        ctx,
        found if presorted else _sort(found, keys),
        "incidents",
        lambda i: render_incident(ctx, i, include),
    )


@route("GET", "/incidents/{id}")
def incident_get(ctx: Ctx, id: str):  # noqa: A002 - the spec's parameter name
    include = includes(ctx, (*INCIDENT_INCLUDES, "custom_fields"))
    incident = _incident(ctx, id)
    return Response.json({"incident": render_incident(ctx, incident, include)})


# --- Create ---


def _assignee_ids(ctx: Ctx, assignments) -> list[str]:
    if not isinstance(assignments, list) or not assignments:
        raise invalid("assignments must be a non-empty array")
    user_ids = []
    for assignment in assignments:
        if not isinstance(assignment, dict):
            raise invalid("each assignment must be an object with an assignee")
        user_id = reference_id(assignment.get("assignee"), "assignee", "user")
        user = ctx.state.users.get(user_id)
        if user is None or user.account_id != ctx.account_id:
            raise ApiError(400, "Assigned To User Not Found", 1007)
        user_ids.append(user_id)
    return user_ids


def _policy(ctx: Ctx, value):
    policy_id = reference_id(value, "escalation_policy", "escalation_policy")
    policy = ctx.state.escalation_policies.get(policy_id)
    if policy is None or policy.account_id != ctx.account_id:
        raise ApiError(400, "Escalation Policy Not Found", 1014)
    return policy


@route("POST", "/incidents")
def incident_create(ctx: Ctx):
    data = ctx.body("incident")
    if data.get("type") != "incident":
        raise invalid("incident.type must be incident")
    title = text_field(data, "title", required=True, max_length=1024)
    service_id = reference_id(data.get("service"), "service", "service")
    service = ctx.state.services.get(service_id)
    if service is None or service.account_id != ctx.account_id:
        raise ApiError(404, "Service Not Found", 5002)
    urgency = data.get("urgency")
    if urgency is not None and urgency not in URGENCIES:
        raise invalid("urgency must be high or low")
    key = data.get("incident_key")
    if key is not None and not isinstance(key, str):
        raise invalid("incident_key must be a string")
    if key and any(
        i.incident_key == key and i.service_id == service.id and i.status != "resolved"
        for i in ctx.state.incidents.values()
    ):
        raise invalid(f"Open incident with key '{key}' already exists on the service")
    details = None
    body = data.get("body")
    if body is not None:
        if not isinstance(body, dict) or not isinstance(body.get("details"), str):
            raise invalid("body must be {type: incident_body, details: string}")
        details = body["details"]
    assignees = None
    if "assignments" in data:
        assignees = _assignee_ids(ctx, data["assignments"])
    policy = None
    if data.get("escalation_policy") is not None:
        policy = _policy(ctx, data["escalation_policy"])
    if assignees and policy:
        raise invalid("Give either assignments or an escalation_policy, not both")
    incident = ops.incident_create(
        ctx.state,
        service=service,
        title=title,
        agent=ctx.agent,
        urgency=urgency,
        incident_key=key or None,
        body_details=details,
        assignee_ids=assignees,
        escalation_policy=policy,
    )
    webhooks.emit_incident(ctx.app, incident, "incident.triggered", ctx.agent)
    return Response.json({"incident": render_incident(ctx, incident)}, status=201)


# --- Update ---


def _emit_changes(ctx: Ctx, incident: Incident, before: str, data: dict) -> None:
    events = []
    if "assignments" in data:
        events.append("incident.reassigned")
    if "escalation_level" in data or data.get("escalation_policy"):
        events.append("incident.escalated")
    if incident.status != before:
        if incident.status == "resolved":
            events.append("incident.resolved")
        elif before == "resolved":
            events.append("incident.reopened")
            if incident.status == "acknowledged":
                events.append("incident.acknowledged")
        elif incident.status == "acknowledged":
            events.append("incident.acknowledged")
        elif data.get("status") == "triggered":
            events.append("incident.unacknowledged")
    for event_type in events:
        webhooks.emit_incident(ctx.app, incident, event_type, ctx.agent)


def _apply_update(ctx: Ctx, incident: Incident, data: dict) -> None:
    if data.get("type") not in ("incident", "incident_reference"):
        raise invalid("incident.type must be incident or incident_reference")
    state, agent = ctx.state, ctx.agent
    known = {
        "id",
        "type",
        "status",
        "resolution",
        "title",
        "urgency",
        "escalation_level",
        "assignments",
        "escalation_policy",
        "priority",
        "incident_type",
        "conference_bridge",
    }
    unknown = sorted(set(data) - known)
    if unknown:
        raise invalid(f"Unknown incident field: {unknown[0]}")
    if "title" in data:
        incident.title = text_field(data, "title", required=True, max_length=1024)
        incident.updated_at = state.now()
    if "urgency" in data:
        if data["urgency"] not in URGENCIES:
            raise invalid("urgency must be high or low")
        ops.incident_set_urgency(state, incident, agent, data["urgency"])
    if data.get("escalation_policy") is not None:
        policy = _policy(ctx, data["escalation_policy"])
        incident.escalation_policy_id = policy.id
        ops.incident_escalate(state, incident, agent, 1)
    if "assignments" in data:
        ops.incident_reassign(
            state, incident, agent, _assignee_ids(ctx, data["assignments"])
        )
    if "escalation_level" in data:
        level = data["escalation_level"]
        if isinstance(level, bool) or not isinstance(level, int):
            raise invalid("escalation_level must be an integer")
        ops.incident_escalate(state, incident, agent, level)
    status = data.get("status")
    if status is None:
        return
    if status not in STATUSES:
        raise ApiError(400, "Invalid Status Provided", 1003)
    if status == "resolved":
        resolution = data.get("resolution")
        if resolution is not None and not isinstance(resolution, str):
            raise invalid("resolution must be a string")
        ops.incident_resolve(state, incident, agent, resolution=resolution)
    elif incident.status == "resolved":
        ops.incident_reopen(state, incident, agent, status)
    elif status == "acknowledged":
        ops.incident_acknowledge(state, incident, agent)
    elif incident.status == "acknowledged":
        ops.incident_unacknowledge(state, incident, agent)


@route("PUT", "/incidents/{id}")
def incident_update(ctx: Ctx, id: str):  # noqa: A002
    incident = _incident(ctx, id)
    data = ctx.body("incident")
    before = incident.status
    _atomic(ctx, [incident], lambda: _apply_update(ctx, incident, data))
    _emit_changes(ctx, incident, before, data)
    return Response.json({"incident": render_incident(ctx, incident)})


def _atomic(ctx: Ctx, incidents: list[Incident], change) -> None:
    """Run `change`; on any error put the incidents back as they were."""
    saved = {i.id: copy.deepcopy(i) for i in incidents}
    try:
        change()
    except Exception:
        for incident in incidents:
            incident.__dict__.update(saved[incident.id].__dict__)
        raise


@route("PUT", "/incidents")
def incident_bulk_update(ctx: Ctx):
    data = ctx.body()
    items = data.get("incidents")
    if not isinstance(items, list) or not items:
        raise invalid("incidents must be a non-empty array")
    if len(items) > MAX_BULK:
        raise ApiError(
            413, "Invalid Input Provided", 2001, [f"At most {MAX_BULK} incidents"]
        )
    pairs = []
    before = {}
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            raise invalid("each incident needs an id")
        pairs.append((_incident(ctx, item["id"]), item))
        before[item["id"]] = pairs[-1][0].status
    targets = [incident for incident, _ in pairs]

    def change():
        for incident, item in pairs:
            _apply_update(ctx, incident, item)

    _atomic(ctx, targets, change)
    for incident, item in pairs:
        _emit_changes(ctx, incident, before[incident.id], item)
    updated = [render_incident(ctx, i) for i in targets]
    return Response.json(
        {
            "incidents": updated,
            "limit": len(updated),
            "offset": 0,
            "more": False,
            "total": None,
        }
    )


@route("POST", "/incidents/{id}/snooze")
def incident_snooze(ctx: Ctx, id: str):  # noqa: A002
    incident = _incident(ctx, id)
    duration = ctx.body().get("duration")
    if isinstance(duration, bool) or not isinstance(duration, int):
        raise ApiError(400, "Snooze Duration is Invalid", 1013)
    ops.incident_snooze(ctx.state, incident, ctx.agent, duration)
    return Response.json({"incident": render_incident(ctx, incident)}, status=201)


@route("PUT", "/incidents/{id}/merge")
def incident_merge(ctx: Ctx, id: str):  # noqa: A002
    target = _incident(ctx, id)
    sources = ctx.body().get("source_incidents")
    if not isinstance(sources, list) or not sources:
        raise invalid("source_incidents must be a non-empty array")
    found = [
        _incident(ctx, reference_id(s, "source_incidents[]", "incident"))
        for s in sources
    ]
    _atomic(
        ctx,
        [target, *found],
        lambda: ops.incident_merge(ctx.state, target, found, ctx.agent),
    )
    # The merge answer is documented as a reference-typed incident.
    merged = {**render_incident(ctx, target), "type": "incident_reference"}
    return Response.json({"incident": merged})


# --- Notes ---


@route("GET", "/incidents/{id}/notes")
def note_list(ctx: Ctx, id: str):  # noqa: A002
    incident = _incident(ctx, id)
    return Response.json({"notes": [render_note(ctx, n) for n in incident.notes]})


def _note_content(ctx: Ctx) -> str:
    content = ctx.body("note").get("content")
    if not isinstance(content, str) or not content.strip():
        raise invalid("note.content is required")
    if len(content) > 65535:
        raise invalid("note.content is too long")
    return content


@route("POST", "/incidents/{id}/notes")
def note_create(ctx: Ctx, id: str):  # noqa: A002
    incident = _incident(ctx, id)
    note = ops.incident_add_note(ctx.state, incident, ctx.agent, _note_content(ctx))
    webhooks.emit_incident(ctx.app, incident, "incident.annotated", ctx.agent)
    return Response.json({"note": render_note(ctx, note)})


def _note(incident: Incident, note_id: str):
    note = next((n for n in incident.notes if n.id == note_id), None)
    if note is None:
        raise not_found("Note Not Found", 5001)
    return note


@route("PUT", "/incidents/{id}/notes/{note_id}")
def note_update(ctx: Ctx, id: str, note_id: str):  # noqa: A002
    note = _note(_incident(ctx, id), note_id)
    note.content = _note_content(ctx)
    return Response.json({"note": render_note(ctx, note)})


@route("DELETE", "/incidents/{id}/notes/{note_id}")
def note_delete(ctx: Ctx, id: str, note_id: str):  # noqa: A002
    incident = _incident(ctx, id)
    incident.notes.remove(_note(incident, note_id))
    return Response(status=204)


# --- Log entries ---

LOG_INCLUDES = ("incidents", "services", "channels", "teams")


def _log_window(ctx: Ctx, entries: list[LogEntry]) -> list[LogEntry]:
    since, until = ctx.time_arg("since"), ctx.time_arg("until")
    if ctx.bool_arg("is_overview"):
        entries = [e for e in entries if e.type != "notify_log_entry"]
    return [
        e
        for e in entries
        if (since is None or e.created_at >= since)
        and (until is None or e.created_at < until)
    ]


@route("GET", "/incidents/{id}/log_entries")
def incident_log_entries(ctx: Ctx, id: str):  # noqa: A002
    incident = _incident(ctx, id)
    include = includes(ctx, LOG_INCLUDES)
    entries = sorted(
        _log_window(ctx, list(incident.log_entries)),
        key=lambda e: e.created_at,
        reverse=True,
    )
    return paginate(
        ctx, entries, "log_entries", lambda e: render_log_entry(ctx, e, include)
    )


@route("GET", "/log_entries")
def log_entry_list(ctx: Ctx):
    include = includes(ctx, LOG_INCLUDES)
    team_ids = set(ctx.args("team_ids"))
    entries = [
        e
        for i in ctx.state.incidents.values()
        if i.account_id == ctx.account_id
        and (not team_ids or team_ids.intersection(i.team_ids))
        for e in i.log_entries
    ]
    entries = sorted(
        _log_window(ctx, entries), key=lambda e: e.created_at, reverse=True
    )
    return paginate(
        ctx, entries, "log_entries", lambda e: render_log_entry(ctx, e, include)
    )


@route("GET", "/log_entries/{id}")
def log_entry_get(ctx: Ctx, id: str):  # noqa: A002
    include = includes(ctx, LOG_INCLUDES)
    for incident in ctx.state.incidents.values():
        if incident.account_id != ctx.account_id:
            continue
        for entry in incident.log_entries:
            if entry.id == id:
                return Response.json(
                    {"log_entry": render_log_entry(ctx, entry, include)}
                )
    raise not_found("Log Entry Not Found", 5001)
