"""Change event tools: PagerDuty's own `list_service_change_events` and
`list_incident_change_events` (pagerduty-mcp 1.1.0's names and schemas)."""

from __future__ import annotations

from integrations.gateway.conf import SCOPE_READ
from integrations.gateway.tools.alerts import offset_of
from integrations.gateway.tools.incidents import MAX_IDS, _limit, _ref, _time, check_id
from integrations.gateway.tools.registry import pagerduty_mcp_schema, register
from integrations.pagerduty.client import OFFSET_CAP
from integrations.pagerduty.workspace import selectors
from integrations.pagerduty.workspace.selectors.change_events import RELATED_LIMIT


def change_event_json(event) -> dict:
    """Return a change event as pagerduty-mcp's ChangeEvent model names it.

    Without `routing_key`: the integration's key is a credential.
    """
    data = {
        "id": event.id,
        "type": "change_event",
        "summary": event.summary,
        "timestamp": event.timestamp,
        "source": event.source,
        "services": [_ref(ref) for ref in event.services],
        "integration": _ref(event.integration),
        "links": event.links,
        "images": event.images,
        "custom_details": event.custom_details,
    }
    if event.correlation:
        data["correlation_reason"] = {"reason": event.correlation}
    return data


def _ids(values, name: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(check_id(value, name) for value in values or ()))


@register(
    name="list_service_change_events",
    title="List a service's change events",
    description=(
        "List the changes (deploys, config pushes) reported for a service, "
        "newest first, optionally between since and until (ISO 8601) and for "
        "some teams or integrations. At most 100 per call: `more` says "
        "whether there are more; then call again with `offset`. total: also "
        "count them all."
    ),
    input_schema=pagerduty_mcp_schema("list_service_change_events"),
    access=SCOPE_READ,
    operations=("GET /services/{id}/change_events",),
    read_only=True,
    destructive=False,
    idempotent=True,
    compatible=True,
)
def list_service_change_events(ctx, args: dict) -> dict:
    offset = offset_of(args.get("offset"))
    limit = _limit(args.get("limit"), min(ctx.max_results, 100))
    page = selectors.service_change_events(
        ws=ctx.ws,
        query=selectors.ChangeEventQuery(
            service_id=check_id(args["service_id"], "service_id"),
            since=_time(args.get("since"), "since"),
            until=_time(args.get("until"), "until"),
            team_ids=_ids(args.get("team_ids"), "team_ids")[:MAX_IDS],
            integration_ids=_ids(args.get("integration_ids"), "integration_ids")[
                :MAX_IDS
            ],
            limit=min(limit, OFFSET_CAP - offset),
            offset=offset,
        ),
        total=args.get("total") is True,
    )
    result = {
        "response": [change_event_json(event) for event in page.events],
        "more": page.more,
        "offset": page.offset,
    }
    if page.total is not None:
        result["total"] = page.total
    return result


@register(
    name="list_incident_change_events",
    title="Changes related to an incident",
    description=(
        "List the changes (deploys, config pushes) PagerDuty relates to an "
        "incident: on its service or related services shortly before it, "
        "each with why it is related. limit: at most 100."
    ),
    input_schema=pagerduty_mcp_schema("list_incident_change_events"),
    access=SCOPE_READ,
    operations=("GET /incidents/{id}/related_change_events",),
    read_only=True,
    destructive=False,
    idempotent=True,
    compatible=True,
)
def list_incident_change_events(ctx, args: dict) -> dict:
    events = selectors.incident_change_events(
        ws=ctx.ws,
        incident_id=check_id(args["incident_id"]),
        limit=_limit(args.get("limit"), min(ctx.max_results, RELATED_LIMIT)),
    )
    return {"response": [change_event_json(event) for event in events]}
