"""Business services, service dependencies and services' change events.

Dependencies link technical services (`services`) and business services:
the dependent side relies on the supporting side. Two technical services
are *related* when one supports the other or both support the same business
service; related incidents and related change events use that.
"""

import hashlib

from pagerduty_sandbox.http import Response
from pagerduty_sandbox.rest.base import Ctx, paginate
from pagerduty_sandbox.rest.registry import route
from pagerduty_sandbox.rest.services import owned_service
from pagerduty_sandbox.state import BusinessService, ChangeEvent, iso

REFERENCE_TYPES = {
    "service": "technical_service_reference",
    "business_service": "business_service_reference",
}
SEGMENTS = {"service": "services", "business_service": "business_services"}


def _dependencies(ctx: Ctx):
    return [
        d
        for d in ctx.state.service_dependencies.values()
        if d.account_id == ctx.account_id
    ]


def _side(ctx: Ctx, side: tuple[str, str]) -> dict:
    kind, obj_id = side
    return {
        "id": obj_id,
        "type": REFERENCE_TYPES[kind],
        "self": f"{ctx.api_url}/{SEGMENTS[kind]}/{obj_id}",
    }


def related_service_ids(ctx: Ctx, service_id: str) -> set[str]:
    """Return the technical services tied to `service_id` by a dependency."""
    related = set()
    supported = set()
    dependencies = _dependencies(ctx)
    for dep in dependencies:
        if dep.supporting == ("service", service_id) and dep.dependent[0] == "service":
            related.add(dep.dependent[1])
        if dep.dependent == ("service", service_id) and dep.supporting[0] == "service":
            related.add(dep.supporting[1])
        if dep.supporting == ("service", service_id) and dep.dependent[0] != "service":
            supported.add(dep.dependent)
    for dep in dependencies:
        if dep.dependent in supported and dep.supporting[0] == "service":
            related.add(dep.supporting[1])
    related.discard(service_id)
    return related


def service_relation(ctx: Ctx, service_id: str, other_id: str) -> dict:
    """Return {dependent_services, supporting_services} linking two services."""
    for dep in _dependencies(ctx):
        sides = {dep.supporting, dep.dependent}
        if sides == {("service", service_id), ("service", other_id)}:
            return {
                "dependent_services": [_side(ctx, dep.dependent)],
                "supporting_services": [_side(ctx, dep.supporting)],
            }
    business = {
        dep.dependent
        for dep in _dependencies(ctx)
        if dep.supporting == ("service", service_id) and dep.dependent[0] != "service"
    }
    shared = sorted(
        dep.dependent
        for dep in _dependencies(ctx)
        if dep.supporting == ("service", other_id) and dep.dependent in business
    )
    return {
        "dependent_services": [_side(ctx, side) for side in shared],
        "supporting_services": [
            _side(ctx, ("service", service_id)),
            _side(ctx, ("service", other_id)),
        ],
    }


def _relationships(ctx: Ctx, side: tuple[str, str]) -> Response:
    relationships = [
        {
            "id": dep.id,
            "type": "service_dependency",
            "supporting_service": _side(ctx, dep.supporting),
            "dependent_service": _side(ctx, dep.dependent),
        }
        for dep in _dependencies(ctx)
        if side in (dep.supporting, dep.dependent)
    ]
    return Response.json({"relationships": relationships})


@route("GET", "/service_dependencies/technical_services/{id}")
def technical_service_dependencies(ctx: Ctx, id: str):  # noqa: A002 - spec name
    service = owned_service(ctx, id)
    return _relationships(ctx, ("service", service.id))


@route("GET", "/service_dependencies/business_services/{id}")
def business_service_dependencies(ctx: Ctx, id: str):  # noqa: A002
    business = ctx.owned(
        ctx.state.business_services, id, "Business Service Not Found", 2100
    )
    return _relationships(ctx, ("business_service", business.id))


# --- Business services ---


def render_business_service(ctx: Ctx, business: BusinessService) -> dict:
    data = {
        "id": business.id,
        "summary": business.name,
        "type": "business_service",
        "self": f"{ctx.api_url}/business_services/{business.id}",
        "html_url": ctx.html_url("business_services", business.id),
        "name": business.name,
        "description": business.description,
        "point_of_contact": business.point_of_contact,
    }
    if business.team_id:
        data["team"] = {
            "id": business.team_id,
            "type": "team_reference",
            "self": f"{ctx.api_url}/teams/{business.team_id}",
        }
    return data


@route("GET", "/business_services")
def business_service_list(ctx: Ctx):
    found = sorted(
        (
            b
            for b in ctx.state.business_services.values()
            if b.account_id == ctx.account_id
        ),
        key=lambda b: b.name.lower(),
    )
    return paginate(
        ctx,
        found,
        "business_services",
        lambda b: render_business_service(ctx, b),
    )


# --- Change events ---


def render_change_event(ctx: Ctx, change: ChangeEvent) -> dict:
    first = change.service_ids[0] if change.service_ids else "P000000"
    return {
        "id": change.id,
        "summary": change.summary,
        "type": "change_event",
        "self": f"{ctx.api_url}/change_events/{change.id}",
        "html_url": None,
        "timestamp": iso(change.timestamp),
        "services": [ctx.service_ref(s) for s in change.service_ids],
        "integration": {
            "id": f"I{first[1:]}",
            "type": "inbound_integration_reference",
        },
        # The service's Events API integration key, as the change arrived.
        "routing_key": hashlib.md5(first.encode()).hexdigest(),  # noqa: S324
        "source": change.source,
        "links": list(change.links),
        "images": [],
        "custom_details": dict(change.custom_details),
    }


@route("GET", "/services/{id}/change_events")
def service_change_events(ctx: Ctx, id: str):  # noqa: A002
    service = owned_service(ctx, id)
    since, until = ctx.time_arg("since"), ctx.time_arg("until")
    team_ids = set(ctx.args("team_ids"))
    integration_ids = set(ctx.args("integration_ids"))
    if team_ids and not team_ids.intersection(service.team_ids):
        found = []
    else:
        found = [
            c
            for c in ctx.state.change_events.values()
            if c.account_id == ctx.account_id
            and service.id in c.service_ids
            and (since is None or c.timestamp >= since)
            and (until is None or c.timestamp < until)
            and (not integration_ids or f"I{c.service_ids[0][1:]}" in integration_ids)
        ]
    found.sort(key=lambda c: c.timestamp, reverse=True)
    return paginate(ctx, found, "change_events", lambda c: render_change_event(ctx, c))
