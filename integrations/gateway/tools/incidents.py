"""Incident tools: PagerDuty's own (same names and input schemas as
pagerduty-mcp 1.1.0) and the gateway's intent tools, one per action, which
a tenant's policies can tell apart (acknowledge, resolve, snooze, escalate,
reassign, note).

Handlers only translate arguments and results; the workspace's selectors
and services do the PagerDuty work (integrations/pagerduty/workspace/).
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime

from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from integrations.gateway.conf import SCOPE_READ, SCOPE_WRITE
from integrations.gateway.tools.errors import ToolError, from_pagerduty
from integrations.gateway.tools.registry import pagerduty_mcp_schema, register
from integrations.pagerduty.workspace import selectors, services
from integrations.pagerduty.workspace.access import LinkRequired
from integrations.pagerduty.workspace.services import BulkStopped

ID_PATTERN = "^[A-Za-z0-9]{1,40}$"
_ID = re.compile(ID_PATTERN)
STATUSES = ("triggered", "acknowledged", "resolved")
URGENCIES = ("high", "low")
REQUEST_SCOPES = ("all", "assigned", "teams")
# The most IDs one filter of the op layer takes.
MAX_IDS = 100


def _limit(value, cap: int) -> int:
    """Return a result count within 1..cap; None means the cap."""
    if value is None or value == 0:  # pagerduty-mcp: `limit or default`
        return cap
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ToolError(_("limit must be at least 1."), code="invalid_arguments")
    return min(value, cap)


def _own_pagerduty_user(ctx) -> str:
    """Return the PagerDuty user ID of the person's own link."""
    link = ctx.ws.usable_link
    if link is None or not link.pd_user_id:
        raise LinkRequired
    return check_id(link.pd_user_id, "user_id")


def _ref(ref) -> dict | None:
    if ref is None:
        return None
    data = {"id": ref.id, "summary": ref.name}
    if ref.email:
        data["email"] = ref.email
    return data


def _time(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = parse_datetime(value) if isinstance(value, str) else None
    except ValueError:  # well formed but impossible, e.g. month 13
        parsed = None
    if parsed is None:
        raise ToolError(
            _("%(name)s must be an ISO 8601 date-time, e.g. 2026-01-31T09:00:00Z.")
            % {"name": name},
            code="invalid_arguments",
        )
    # pagerduty-mcp reads a time without a zone as UTC; so does the gateway.
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _choices(values, allowed: tuple[str, ...], name: str) -> tuple[str, ...]:
    values = tuple(dict.fromkeys(values or ()))
    wrong = [value for value in values if value not in allowed]
    if wrong:
        raise ToolError(
            _("%(name)s may contain only: %(allowed)s.")
            % {"name": name, "allowed": ", ".join(allowed)},
            code="invalid_arguments",
        )
    return values


def check_id(value: str, name: str = "incident_id") -> str:
    if not isinstance(value, str) or not _ID.match(value):
        raise ToolError(
            _("%(name)s must be a PagerDuty ID (letters and digits).") % {"name": name},
            code="invalid_arguments",
        )
    return value


def _incident_ids_schema(verb: str) -> dict:
    """Return the input schema of a tool that acts on up to 100 incidents."""
    return {
        "type": "object",
        "properties": {
            "incident_ids": {
                "type": "array",
                "items": {"type": "string", "pattern": ID_PATTERN},
                "minItems": 1,
                "maxItems": 100,
                "uniqueItems": True,
                "description": f"IDs of the incidents to {verb}.",
            }
        },
        "required": ["incident_ids"],
        "additionalProperties": False,
    }


@register(
    name="list_incidents",
    title="List incidents",
    description=(
        "List the tenant's PagerDuty incidents, newest first, filtered by "
        "status (triggered, acknowledged, resolved), urgency (high, low), "
        "priority IDs and a created-at window (since/until, ISO 8601; "
        "PagerDuty's default is the last month). At most 100 per call: "
        "`more` says whether PagerDuty has more, then narrow the window. "
        "request_scope: 'all' (default), 'assigned' (assigned to you) or "
        "'teams' (your teams', which needs PagerDuty's users.read); the last "
        "two go by the PagerDuty account you linked in the portal."
    ),
    input_schema=pagerduty_mcp_schema("list_incidents"),
    access=SCOPE_READ,
    operations=("GET /incidents",),
    read_only=True,
    destructive=False,
    idempotent=True,
    compatible=True,
)
def list_incidents(ctx, args: dict) -> dict:
    scope = args.get("request_scope") or "all"
    if scope not in REQUEST_SCOPES:
        raise ToolError(
            _("request_scope must be one of: %(allowed)s.")
            % {"allowed": ", ".join(REQUEST_SCOPES)},
            code="invalid_arguments",
        )
    # Every argument is checked before the teams lookup calls PagerDuty.
    query = selectors.IncidentSearch(
        statuses=_choices(args.get("statuses"), STATUSES, "statuses"),
        urgencies=_choices(args.get("urgencies"), URGENCIES, "urgencies"),
        priority_ids=tuple(
            check_id(value, "priorities") for value in args.get("priorities") or ()
        ),
        since=_time(args.get("since"), "since"),
        until=_time(args.get("until"), "until"),
        limit=_limit(args.get("limit"), ctx.max_results),
    )
    if scope == "assigned":
        query = replace(query, user_ids=(_own_pagerduty_user(ctx),))
    elif scope == "teams":
        _own_pagerduty_user(ctx)
        team_ids = tuple(ref.id for ref in selectors.my_team_refs(ws=ctx.ws))
        if not team_ids:
            # No team filter would list every incident: the opposite.
            return {
                "response": [],
                "total": 0,
                "more": False,
                "note": _("Your PagerDuty user belongs to no team."),
            }
        query = replace(query, team_ids=team_ids[:MAX_IDS])
    page = selectors.incident_search(ws=ctx.ws, query=query)
    return {
        "response": [
            {
                "id": item.id,
                "incident_number": item.number,
                "title": item.title,
                "status": item.status,
                "urgency": item.urgency,
                "created_at": item.created_at,
                "service": _ref(item.service),
                "assignees": list(item.assignee_names),
            }
            for item in page.incidents
        ],
        "total": page.total,
        "more": page.more,
    }


@register(
    name="get_incident",
    title="Get an incident",
    description=(
        "Get one incident by its ID: status, urgency, service, assignees, "
        "escalation policy and teams, in one PagerDuty call. Its notes: "
        "list_incident_notes; its timeline: list_log_entries."
    ),
    input_schema=pagerduty_mcp_schema("get_incident"),
    access=SCOPE_READ,
    operations=("GET /incidents/{id}",),
    read_only=True,
    destructive=False,
    idempotent=True,
    compatible=True,
)
def get_incident(ctx, args: dict) -> dict:
    # pagerduty-mcp's get_incident is one GET; notes and the timeline have
    # their own tools, so an agent pays for them only when it asks.
    incident = selectors.incident_fetch(
        ws=ctx.ws, incident_id=check_id(args["incident_id"])
    )
    return {
        **_incident(incident),
        "assignees": [_ref(ref) for ref in incident.assignees],
        "description": incident.description,
    }


@register(
    name="acknowledge_incidents",
    title="Acknowledge incidents",
    description=(
        "Acknowledge one or more triggered incidents (at most 100 IDs): "
        "PagerDuty stops escalating them while someone works on them. "
        "Acknowledging an acknowledged incident changes nothing."
    ),
    input_schema=_incident_ids_schema("acknowledge"),
    access=SCOPE_WRITE,
    operations=("PUT /incidents",),
    read_only=False,
    destructive=False,
    idempotent=True,
)
def acknowledge_incidents(ctx, args: dict) -> dict:
    return _set_status(
        ctx, args, "acknowledged", _("%(n)s incidents were acknowledged before that.")
    )


def _set_status(ctx, args: dict, status: str, done_message: str) -> dict:
    ids = [check_id(value) for value in args["incident_ids"]]
    try:
        done = services.incident_bulk_update(ws=ctx.ws, incident_ids=ids, status=status)
    except BulkStopped as exc:
        raise _bulk_error(ctx, exc, done_message) from None
    return {status: done, "incident_ids": ids}


def _incident(incident) -> dict:
    """Return an incident as pagerduty-mcp's Incident model names its fields."""
    return {
        "id": incident.id,
        "type": "incident",
        "incident_number": incident.number,
        "title": incident.title,
        "summary": incident.title,
        "status": incident.status,
        "urgency": incident.urgency,
        "created_at": incident.created_at,
        "html_url": incident.html_url,
        "service": _ref(incident.service),
        "escalation_policy": _ref(incident.escalation_policy),
        "assignments": [{"assignee": _ref(ref)} for ref in incident.assignees],
        "teams": [_ref(ref) for ref in incident.teams],
    }


def _note(note) -> dict:
    return {
        "id": note.id,
        "content": note.content,
        "created_at": note.created_at,
        "user": _ref(note.user),
    }


def _summary(incident) -> dict:
    return {
        "id": incident.id,
        "title": incident.title,
        "created_at": incident.created_at,
        "self": incident.self_url,
    }


def _query_model(args: dict) -> dict:
    return args.get("query_model") or {}


def _bulk_error(ctx, exc: BulkStopped, done_message: str) -> ToolError:
    error = from_pagerduty(
        exc.error, tenant=ctx.session.tenant, scopes={"incidents.write"}
    )
    error.message += " " + done_message % {"n": exc.done}
    return error


@register(
    name="list_incident_notes",
    title="List an incident's notes",
    description=(
        "List the notes people added to an incident, oldest first: what "
        "responders found and did."
    ),
    input_schema=pagerduty_mcp_schema("list_incident_notes"),
    access=SCOPE_READ,
    operations=("GET /incidents/{id}/notes",),
    read_only=True,
    destructive=False,
    idempotent=True,
    compatible=True,
)
def list_incident_notes(ctx, args: dict) -> dict:
    notes = selectors.incident_note_list(
        ws=ctx.ws, incident_id=check_id(args["incident_id"])
    )
    return {
        "response": [_note(note) for note in notes[: ctx.max_results]],
        "more": len(notes) > ctx.max_results,
    }


@register(
    name="get_outlier_incident",
    title="How unusual is an incident",
    description=(
        "How unusual an incident is on its service (PagerDuty Event "
        "Intelligence): how often its pattern occurred since `since` (ISO "
        "8601, at most 6 months back; default 6 months) and whether that is "
        "anomalous, rare or frequent."
    ),
    input_schema=pagerduty_mcp_schema("get_outlier_incident"),
    access=SCOPE_READ,
    operations=("GET /incidents/{id}/outlier_incident",),
    read_only=True,
    destructive=False,
    idempotent=True,
    compatible=True,
)
def get_outlier_incident(ctx, args: dict) -> dict:
    outlier = selectors.incident_outlier(
        ws=ctx.ws,
        incident_id=check_id(args["incident_id"]),
        since=_time(_query_model(args).get("since"), "since"),
    )
    return {
        "outlier_incident": {
            "incident": {
                **_summary(outlier.incident),
                "occurrence": {
                    "count": outlier.count,
                    "frequency": outlier.frequency,
                    "category": outlier.category,
                    "since": outlier.since,
                    "until": outlier.until,
                },
            },
            "incident_template": {
                "id": outlier.template_id,
                "cluster_id": outlier.cluster_id,
                "mined_text": outlier.mined_text,
            },
        }
    }


@register(
    name="get_past_incidents",
    title="Past incidents like this one",
    description=(
        "Incidents of the last 6 months on the same service that resemble "
        "this one, most similar first, each with a similarity score (PagerDuty "
        "Event Intelligence). limit: default 5; total: also count them all."
    ),
    input_schema=pagerduty_mcp_schema("get_past_incidents"),
    access=SCOPE_READ,
    operations=("GET /incidents/{id}/past_incidents",),
    read_only=True,
    destructive=False,
    idempotent=True,
    compatible=True,
)
def get_past_incidents(ctx, args: dict) -> dict:
    query = _query_model(args)
    past = selectors.incident_past(
        ws=ctx.ws,
        incident_id=check_id(args["incident_id"]),
        limit=_limit(query.get("limit", 5), ctx.max_results),
        total=query.get("total") is True,
    )
    return {
        "past_incidents": [
            {"incident": _summary(item.incident), "score": item.score}
            for item in past.incidents
        ],
        "total": past.total,
        "limit": past.limit,
    }


@register(
    name="get_related_incidents",
    title="Open incidents related to this one",
    description=(
        "The open incidents PagerDuty relates to this one (at most 20, newest "
        "first): on dependent services, or similar ones elsewhere at the same "
        "time, each with the kind of relationship."
    ),
    input_schema=pagerduty_mcp_schema("get_related_incidents"),
    access=SCOPE_READ,
    operations=("GET /incidents/{id}/related_incidents",),
    read_only=True,
    destructive=False,
    idempotent=True,
    compatible=True,
)
def get_related_incidents(ctx, args: dict) -> dict:
    _choices(
        _query_model(args).get("additional_details"),
        ("incident",),
        "additional_details",
    )
    related = selectors.incident_related(
        ws=ctx.ws, incident_id=check_id(args["incident_id"])
    )
    return {
        "related_incidents": [
            {"incident": _summary(item.incident), "relationships": item.relationships}
            for item in related[: ctx.max_results]
        ]
    }


# --- Writes: PagerDuty-compatible ------------------------------------------


@register(
    name="create_incident",
    title="Create an incident",
    description=(
        "Open an incident on a service, as you in PagerDuty: title, service "
        "{id}, urgency (high, low; default high), body {details} and "
        "optionally assignments [{assignee: {id}}] (then only they are "
        "notified, not the service's escalation policy)."
    ),
    input_schema=pagerduty_mcp_schema("create_incident"),
    access=SCOPE_WRITE,
    operations=("POST /incidents",),
    read_only=False,
    destructive=False,
    idempotent=False,
    free_text=("title", "details"),
    compatible=True,
)
def create_incident(ctx, args: dict) -> dict:
    data = args["incident"]
    assignees = [
        check_id((item.get("assignee") or {}).get("id"), "assignments")
        for item in data.get("assignments") or ()
    ]
    incident = services.incident_create(
        ws=ctx.ws,
        title=data["title"],
        service_id=check_id(data["service"]["id"], "service"),
        urgency=data.get("urgency") or "high",
        details=(data.get("body") or {}).get("details") or "",
        assignee_ids=assignees,
    )
    return _incident(incident)


@register(
    name="manage_incidents",
    title="Change incidents",
    description=(
        "Change one or more incidents at once (at most 1000 IDs): status "
        "(acknowledged, resolved), urgency (high, low), assignement (a user "
        "{id}: replaces the assignees) and escalation_level. All changes go "
        "in one request per 250 incidents. Resolving cannot be undone by "
        "this tool."
    ),
    input_schema=pagerduty_mcp_schema("manage_incidents"),
    access=SCOPE_WRITE,
    operations=("PUT /incidents",),
    read_only=False,
    destructive=True,
    idempotent=False,
    compatible=True,
)
def manage_incidents(ctx, args: dict) -> dict:
    request = args["manage_request"]
    ids = [check_id(value) for value in request["incident_ids"]]
    assignee = request.get("assignement") or {}
    try:
        incidents = services.incident_bulk_change(
            ws=ctx.ws,
            incident_ids=ids,
            status=request.get("status") or "",
            urgency=request.get("urgency") or "",
            assignee_id=check_id(assignee["id"], "assignement") if assignee else "",
            escalation_level=request.get("escalation_level"),
        )
    except BulkStopped as exc:
        raise _bulk_error(
            ctx, exc, _("%(n)s incidents were changed before that.")
        ) from None
    return {"response": [_incident(item) for item in incidents[: ctx.max_results]]}


@register(
    name="add_responders",
    title="Ask for more responders",
    description=(
        "Ask users or escalation policies to join an incident, as you: "
        "request {message, responder_request_targets: "
        "[{responder_request_target: {id, type: user_reference | "
        "escalation_policy_reference}}]}. They are notified."
    ),
    input_schema=pagerduty_mcp_schema("add_responders"),
    access=SCOPE_WRITE,
    operations=("POST /incidents/{id}/responder_requests",),
    read_only=False,
    destructive=False,
    idempotent=False,
    free_text=("message",),
    compatible=True,
)
def add_responders(ctx, args: dict) -> dict:
    request = args["request"]
    targets = []
    for item in request["responder_request_targets"]:
        target = item["responder_request_target"]
        kind = target["type"].removesuffix("_reference")
        targets.append((kind, check_id(target["id"], "responder_request_targets")))
    made = services.incident_add_responders(
        ws=ctx.ws,
        incident_id=check_id(args["incident_id"]),
        targets=targets,
        message=request["message"],
    )
    return {
        "requester": _ref(made.requester),
        "requested_at": made.requested_at,
        "message": made.message,
        "responder_request_targets": [
            {"type": f"{kind}_reference", **_ref(ref)} for kind, ref in made.targets
        ],
    }


@register(
    name="add_note_to_incident",
    title="Add a note to an incident",
    description="Add a note to an incident's timeline, as you in PagerDuty.",
    input_schema=pagerduty_mcp_schema("add_note_to_incident"),
    access=SCOPE_WRITE,
    operations=("POST /incidents/{id}/notes",),
    read_only=False,
    destructive=False,
    idempotent=False,
    free_text=("note",),
    compatible=True,
)
def add_note_to_incident(ctx, args: dict) -> dict:
    note = services.incident_add_note(
        ws=ctx.ws, incident_id=check_id(args["incident_id"]), content=args["note"]
    )
    return _note(note)


# --- Writes: one intent per tool --------------------------------------------


def _one_incident_schema(extra: dict, required: tuple[str, ...] = ()) -> dict:
    return {
        "type": "object",
        "properties": {
            "incident_id": {
                "type": "string",
                "pattern": ID_PATTERN,
                "description": "ID of the incident.",
            },
            **extra,
        },
        "required": ["incident_id", *required],
        "additionalProperties": False,
    }


@register(
    name="resolve_incidents",
    title="Resolve incidents",
    description=(
        "Resolve one or more incidents (at most 100 IDs): the problem is "
        "fixed, PagerDuty stops notifying and closes them. Resolving a "
        "resolved incident changes nothing."
    ),
    input_schema=_incident_ids_schema("resolve"),
    access=SCOPE_WRITE,
    operations=("PUT /incidents",),
    read_only=False,
    destructive=True,
    idempotent=True,
)
def resolve_incidents(ctx, args: dict) -> dict:
    return _set_status(
        ctx, args, "resolved", _("%(n)s incidents were resolved before that.")
    )


@register(
    name="snooze_incident",
    title="Snooze an incident",
    description=(
        "Snooze an acknowledged incident for some minutes (1 to 10080): it "
        "stays acknowledged and triggers again when the time is up."
    ),
    input_schema=_one_incident_schema(
        {
            "minutes": {
                "type": "integer",
                "minimum": 1,
                "maximum": 7 * 24 * 60,
                "description": "How long to snooze, in minutes.",
            }
        },
        ("minutes",),
    ),
    access=SCOPE_WRITE,
    operations=("POST /incidents/{id}/snooze",),
    read_only=False,
    destructive=False,
    idempotent=False,
)
def snooze_incident(ctx, args: dict) -> dict:
    incident = services.incident_snooze(
        ws=ctx.ws, incident_id=check_id(args["incident_id"]), minutes=args["minutes"]
    )
    return _incident(incident)


@register(
    name="escalate_incident",
    title="Escalate an incident",
    description=(
        "Escalate an open incident to a level of its escalation policy "
        "(1 to 20): the people on call at that level are assigned and "
        "notified."
    ),
    input_schema=_one_incident_schema(
        {
            "escalation_level": {
                "type": "integer",
                "minimum": 1,
                "maximum": 20,
                "description": "The escalation policy's level to escalate to.",
            }
        },
        ("escalation_level",),
    ),
    access=SCOPE_WRITE,
    operations=("PUT /incidents/{id}",),
    read_only=False,
    destructive=False,
    idempotent=False,
)
def escalate_incident(ctx, args: dict) -> dict:
    incident = services.incident_escalate(
        ws=ctx.ws,
        incident_id=check_id(args["incident_id"]),
        level=args["escalation_level"],
    )
    return _incident(incident)


@register(
    name="add_incident_note",
    title="Add a note",
    description=(
        "Add a note to an incident's timeline, as you in PagerDuty (at most "
        "25,000 characters). Notes cannot be edited here."
    ),
    input_schema=_one_incident_schema(
        {
            "content": {
                "type": "string",
                "minLength": 1,
                "maxLength": 25_000,
                "description": "The note's text.",
            }
        },
        ("content",),
    ),
    access=SCOPE_WRITE,
    operations=("POST /incidents/{id}/notes",),
    read_only=False,
    destructive=False,
    idempotent=False,
    free_text=("content",),
)
def add_incident_note(ctx, args: dict) -> dict:
    note = services.incident_add_note(
        ws=ctx.ws, incident_id=check_id(args["incident_id"]), content=args["content"]
    )
    return _note(note)


@register(
    name="reassign_incident",
    title="Reassign an incident",
    description=(
        "Reassign an open incident to one user (user_id) or to an escalation "
        "policy (escalation_policy_id), replacing its assignees; give exactly "
        "one."
    ),
    input_schema=_one_incident_schema(
        {
            "user_id": {
                "type": "string",
                "pattern": ID_PATTERN,
                "description": "The user to assign.",
            },
            "escalation_policy_id": {
                "type": "string",
                "pattern": ID_PATTERN,
                "description": "The escalation policy to hand the incident to.",
            },
        }
    ),
    access=SCOPE_WRITE,
    operations=("PUT /incidents/{id}",),
    read_only=False,
    destructive=True,
    idempotent=True,
)
def reassign_incident(ctx, args: dict) -> dict:
    incident = services.incident_reassign(
        ws=ctx.ws,
        incident_id=check_id(args["incident_id"]),
        user_id=check_id(args["user_id"], "user_id") if "user_id" in args else "",
        policy_id=check_id(args["escalation_policy_id"], "escalation_policy_id")
        if "escalation_policy_id" in args
        else "",
    )
    return _incident(incident)
