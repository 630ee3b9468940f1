"""Incident tools: PagerDuty's own `list_incidents` and `get_incident` (same
names and input schemas as pagerduty-mcp 1.1.0), and `acknowledge_incidents`.

Handlers only translate arguments and results; the workspace's selectors
and services do the PagerDuty work (integrations/pagerduty/workspace/).
"""

from __future__ import annotations

import re
from datetime import datetime

from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from integrations.exceptions import PagerDutyError
from integrations.gateway.conf import SCOPE_READ, SCOPE_WRITE
from integrations.gateway.tools.errors import ToolError, from_pagerduty
from integrations.gateway.tools.registry import pagerduty_mcp_schema, register
from integrations.pagerduty.workspace import selectors, services
from integrations.pagerduty.workspace.services import BulkStopped

ID_PATTERN = "^[A-Za-z0-9]{1,40}$"
_ID = re.compile(ID_PATTERN)
STATUSES = ("triggered", "acknowledged", "resolved")
URGENCIES = ("high", "low")


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
    parsed = parse_datetime(value)
    if parsed is None:
        raise ToolError(
            _("%(name)s must be an ISO 8601 date-time, e.g. 2026-01-31T09:00:00Z.")
            % {"name": name},
            code="invalid_arguments",
        )
    return parsed


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


@register(
    name="list_incidents",
    title="List incidents",
    description=(
        "List the tenant's PagerDuty incidents, newest first, filtered by "
        "status (triggered, acknowledged, resolved), urgency (high, low), "
        "priority IDs and a created-at window (since/until, ISO 8601; "
        "PagerDuty's default is the last month). At most 100 per call: "
        "`more` says whether PagerDuty has more, then narrow the window. "
        "request_scope 'all' only."
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
    scope = args.get("request_scope")
    if scope not in (None, "all"):
        raise ToolError(
            _(
                "request_scope %(scope)s needs your own PagerDuty user, which "
                "this gateway does not link yet; use 'all' and filter instead."
            )
            % {"scope": repr(scope)[:40]},
            code="invalid_arguments",
        )
    limit = args.get("limit") or ctx.max_results
    if limit < 1:
        raise ToolError(_("limit must be at least 1."), code="invalid_arguments")
    query = selectors.IncidentSearch(
        statuses=_choices(args.get("statuses"), STATUSES, "statuses"),
        urgencies=_choices(args.get("urgencies"), URGENCIES, "urgencies"),
        priority_ids=tuple(
            check_id(value, "priorities") for value in args.get("priorities") or ()
        ),
        since=_time(args.get("since"), "since"),
        until=_time(args.get("until"), "until"),
        limit=min(limit, ctx.max_results),
    )
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
        "escalation policy, teams, its notes and its latest timeline "
        "entries (newest first)."
    ),
    input_schema=pagerduty_mcp_schema("get_incident"),
    access=SCOPE_READ,
    operations=(
        "GET /incidents/{id}",
        "GET /incidents/{id}/log_entries",
        "GET /incidents/{id}/notes",
    ),
    read_only=True,
    destructive=False,
    idempotent=True,
    compatible=True,
)
def get_incident(ctx, args: dict) -> dict:
    detail = selectors.incident_get(
        ws=ctx.ws, incident_id=check_id(args["incident_id"])
    )
    incident = detail.incident
    return {
        "id": incident.id,
        "incident_number": incident.number,
        "title": incident.title,
        "status": incident.status,
        "urgency": incident.urgency,
        "created_at": incident.created_at,
        "html_url": incident.html_url,
        "service": _ref(incident.service),
        "escalation_policy": _ref(incident.escalation_policy),
        "assignees": [_ref(ref) for ref in incident.assignees],
        "teams": [_ref(ref) for ref in incident.teams],
        "description": incident.description,
        "notes": [
            {
                "id": note.id,
                "content": note.content,
                "created_at": note.created_at,
                "user": _ref(note.user),
            }
            for note in detail.notes[: ctx.max_results]
        ],
        "log_entries": [
            {
                "id": entry.id,
                "type": entry.type,
                "summary": entry.summary,
                "created_at": entry.created_at,
                "agent": _ref(entry.agent),
            }
            for entry in detail.log_entries[:20]
        ],
    }


@register(
    name="acknowledge_incidents",
    title="Acknowledge incidents",
    description=(
        "Acknowledge one or more triggered incidents (at most 100 IDs): "
        "PagerDuty stops escalating them while someone works on them. "
        "Acknowledging an acknowledged incident changes nothing."
    ),
    input_schema={
        "type": "object",
        "properties": {
            "incident_ids": {
                "type": "array",
                "items": {"type": "string", "pattern": ID_PATTERN},
                "minItems": 1,
                "maxItems": 100,
                "uniqueItems": True,
                "description": "IDs of the incidents to acknowledge.",
            }
        },
        "required": ["incident_ids"],
        "additionalProperties": False,
    },
    access=SCOPE_WRITE,
    operations=("PUT /incidents",),
    read_only=False,
    destructive=False,
    idempotent=True,
)
def acknowledge_incidents(ctx, args: dict) -> dict:
    ids = [check_id(value) for value in args["incident_ids"]]
    try:
        done = services.incident_bulk_update(
            ws=ctx.ws, incident_ids=ids, status="acknowledged"
        )
    except BulkStopped as exc:
        error = from_pagerduty(
            exc.error, tenant=ctx.session.tenant, scopes={"incidents.write"}
        )
        error.message += " " + _("%(n)s incidents were acknowledged before that.") % {
            "n": exc.done
        }
        raise error from None
    except PagerDutyError:
        raise
    return {"acknowledged": done, "incident_ids": ids}
