"""What surrounds an incident: outliers, past and related incidents, related
change events (PagerDuty's Event Intelligence), and responder requests.

PagerDuty computes the first four with models it does not describe; the
sandbox uses plain rules over its own state, documented here:

- An incident's *template* is its title with the service's name and every
  number replaced by `<*>` (PagerDuty calls this the mined text), and its
  *cluster* the template's hash.
- Outlier: over the service's incidents since `since` (default and maximum
  six months back), `count` is how many share the template (itself
  included) and `frequency` their share of all of them; the category is
  `anomalous` for a first occurrence, `rare` under a quarter, else
  `frequent`.
- Past incidents: the service's earlier incidents (six months back), scored
  0-100 by the word overlap of their titles; the best first.
- Related incidents: open incidents on services tied to this one by a
  service dependency (either way, or supporting the same business
  service), and open incidents elsewhere with the same template triggered
  within an hour (`machine_learning_inferred`, `similar_contents`); the 20
  most recent.
- Related change events: changes on the incident's service in the 24 hours
  before it triggered (`most_recent`), then on dependency-related services
  (`related_service`).
"""

import hashlib
import re
from datetime import timedelta

from pagerduty_sandbox import ops
from pagerduty_sandbox.http import Response
from pagerduty_sandbox.rest.base import (
    ApiError,
    Ctx,
    invalid,
    reference_id,
    text_field,
)
from pagerduty_sandbox.rest.dependencies import (
    related_service_ids,
    render_change_event,
    service_relation,
)
from pagerduty_sandbox.rest.incidents import (
    owned_incident,
    render_incident,
    render_responder_request,
)
from pagerduty_sandbox.rest.registry import route
from pagerduty_sandbox.state import Incident, iso

SIX_MONTHS = timedelta(days=183)
SIMILAR_WINDOW = timedelta(hours=1)
CHANGE_WINDOW = timedelta(hours=24)
RELATED_LIMIT = 20
NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
WORD = re.compile(r"[a-z0-9]+")


def mined_text(ctx: Ctx, incident: Incident) -> str:
    """Return the incident's title with its variable parts as `<*>`."""
    service = ctx.state.services.get(incident.service_id)
    text = incident.title
    if service is not None and service.name:
        text = text.replace(service.name, "<*>")
    return NUMBER.sub("<*>", text)


def _cluster(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _minimal(ctx: Ctx, incident: Incident) -> dict:
    return {
        "id": incident.id,
        "created_at": iso(incident.created_at),
        "self": f"{ctx.api_url}/incidents/{incident.id}",
        "title": incident.title,
    }


def _details(ctx: Ctx) -> bool:
    return "incident" in ctx.enum_args("additional_details", ("incident",))


def _service_incidents(ctx: Ctx, incident: Incident) -> list[Incident]:
    return [
        i
        for i in ctx.state.incidents.values()
        if i.account_id == ctx.account_id and i.service_id == incident.service_id
    ]


# --- Outlier incident ---


@route("GET", "/incidents/{id}/outlier_incident")
def outlier_incident(ctx: Ctx, id: str):  # noqa: A002 - the spec's parameter name
    incident = owned_incident(ctx, id)
    detailed = _details(ctx)
    now = ctx.state.now()
    since = ctx.time_arg("since") or now - SIX_MONTHS
    if since > now or now - since > SIX_MONTHS:
        raise ApiError(
            400,
            "Invalid Query Date Range",
            2005,
            ["since must be in the past and at most 6 months ago"],
        )
    text = mined_text(ctx, incident)
    window = [i for i in _service_incidents(ctx, incident) if i.created_at >= since]
    if incident not in window:
        window.append(incident)
    count = sum(mined_text(ctx, i) == text for i in window)
    frequency = round(count / len(window), 4)
    if count <= 1:
        category = "anomalous"
    elif frequency < 0.25:
        category = "rare"
    else:
        category = "frequent"
    body = render_incident(ctx, incident) if detailed else _minimal(ctx, incident)
    body["occurrence"] = {
        "count": count,
        "frequency": frequency,
        "category": category,
        "since": iso(since),
        "until": iso(now),
    }
    cluster = _cluster(text)
    return Response.json(
        {
            "outlier_incident": {
                "incident": body,
                "incident_template": {
                    "id": f"T{cluster[:12]}",
                    "cluster_id": cluster,
                    "mined_text": text,
                },
            }
        }
    )


# --- Past incidents ---


def _words(title: str) -> set[str]:
    return set(WORD.findall(title.lower()))


def _limit(ctx: Ctx, name: str, default: int, maximum: int) -> int:
    value = ctx.arg(name)
    if value in (None, ""):
        return default
    if not value.isdigit() or not 1 <= int(value) <= maximum:
        raise invalid(f"{name} must be an integer from 1 to {maximum}")
    return int(value)


@route("GET", "/incidents/{id}/past_incidents")
def past_incidents(ctx: Ctx, id: str):  # noqa: A002
    incident = owned_incident(ctx, id)
    limit = _limit(ctx, "limit", 5, 999)
    with_total = ctx.bool_arg("total")
    words = _words(incident.title)
    scored = []
    for other in _service_incidents(ctx, incident):
        if other.id == incident.id or not (
            incident.created_at - SIX_MONTHS <= other.created_at < incident.created_at
        ):
            continue
        theirs = _words(other.title)
        score = round(100 * len(words & theirs) / len(words | theirs), 1)
        if score > 0:
            scored.append((score, other))
    scored.sort(key=lambda pair: (-pair[0], -pair[1].created_at.timestamp()))
    body = {
        "past_incidents": [
            {"incident": _minimal(ctx, other), "score": score}
            for score, other in scored[:limit]
        ],
        "limit": limit,
    }
    if with_total:
        body["total"] = len(scored)
    return Response.json(body)


# --- Related incidents ---


@route("GET", "/incidents/{id}/related_incidents")
def related_incidents(ctx: Ctx, id: str):  # noqa: A002
    incident = owned_incident(ctx, id)
    detailed = _details(ctx)
    related = related_service_ids(ctx, incident.service_id)
    text = mined_text(ctx, incident)
    found = []
    for other in ctx.state.incidents.values():
        if (
            other.account_id != ctx.account_id
            or other.id == incident.id
            or other.status == "resolved"
            or other.merged_into
        ):
            continue
        relationships = []
        if other.service_id in related:
            relationships.append(
                {
                    "type": "service_dependency",
                    "metadata": service_relation(
                        ctx, incident.service_id, other.service_id
                    ),
                }
            )
        if (
            other.service_id != incident.service_id
            and abs(other.created_at - incident.created_at) <= SIMILAR_WINDOW
            and mined_text(ctx, other) == text
        ):
            relationships.append(
                {
                    "type": "machine_learning_inferred",
                    "metadata": {
                        "grouping_classification": "similar_contents",
                        "user_feedback": {
                            "positive_feedback_count": 0,
                            "negative_feedback_count": 0,
                        },
                    },
                }
            )
        if relationships:
            found.append((other, relationships))
    found.sort(key=lambda pair: pair[0].created_at, reverse=True)
    return Response.json(
        {
            "related_incidents": [
                {
                    "incident": (
                        render_incident(ctx, other)
                        if detailed
                        else _minimal(ctx, other)
                    ),
                    "relationships": relationships,
                }
                for other, relationships in found[:RELATED_LIMIT]
            ]
        }
    )


# --- Related change events ---


@route("GET", "/incidents/{id}/related_change_events")
def related_change_events(ctx: Ctx, id: str):  # noqa: A002
    incident = owned_incident(ctx, id)
    limit = _limit(ctx, "limit", 25, 100)
    related = related_service_ids(ctx, incident.service_id)
    start = incident.created_at - CHANGE_WINDOW
    found = []
    for change in ctx.state.change_events.values():
        if change.account_id != ctx.account_id or not (
            start <= change.timestamp <= incident.created_at
        ):
            continue
        if incident.service_id in change.service_ids:
            found.append((0, change, "most_recent"))
        elif related.intersection(change.service_ids):
            found.append((1, change, "related_service"))
    found.sort(key=lambda item: (item[0], -item[1].timestamp.timestamp()))
    return Response.json(
        {
            "change_events": [
                {
                    **render_change_event(ctx, change),
                    "correlation_reason": {"reason": why},
                }
                for _, change, why in found[:limit]
            ]
        }
    )


# --- Responder requests ---


def _targets(ctx: Ctx, value) -> list[tuple[str, str]]:
    if not isinstance(value, list) or not value:
        raise invalid("responder_request_targets must be a non-empty array")
    targets = []
    for item in value:
        if isinstance(item, dict) and "responder_request_target" in item:
            item = item["responder_request_target"]
        kind = item.get("type") if isinstance(item, dict) else None
        if kind not in ("user_reference", "escalation_policy_reference"):
            raise invalid(
                "each responder_request_target must be a user_reference or an "
                "escalation_policy_reference"
            )
        kind = kind.removesuffix("_reference")
        target_id = reference_id(item, "responder_request_target", kind)
        collection = (
            ctx.state.users if kind == "user" else ctx.state.escalation_policies
        )
        target = collection.get(target_id)
        if target is None or target.account_id != ctx.account_id:
            raise ApiError(
                400,
                "Invalid Input Provided",
                2001,
                [f"No {kind.replace('_', ' ')} {target_id} on this account"],
            )
        targets.append((kind, target_id))
    return list(dict.fromkeys(targets))


@route("POST", "/incidents/{id}/responder_requests")
def responder_request_create(ctx: Ctx, id: str):  # noqa: A002
    incident = owned_incident(ctx, id)
    data = ctx.body()
    requester_id = data.get("requester_id")
    if not isinstance(requester_id, str) or not requester_id:
        raise ApiError(
            400, "The action requires a 'requester_id' to be specified", 2011
        )
    requester = ctx.state.users.get(requester_id)
    if requester is None or requester.account_id != ctx.account_id:
        raise ApiError(400, "Requester User Not Found", 1008)
    message = text_field(data, "message", required=True, max_length=2000)
    targets = _targets(ctx, data.get("responder_request_targets"))
    request = ops.incident_request_responders(
        ctx.state, incident, requester=requester, message=message, targets=targets
    )
    return Response.json(
        {"responder_request": render_responder_request(ctx, incident, request)}
    )
