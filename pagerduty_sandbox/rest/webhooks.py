"""Webhook subscriptions (V3): CRUD, enable and ping (NOTES §6).

The signing secret appears only in the create response; GET answers
`"secret": null` and redacts custom header values. The delivery URL cannot
be changed by PUT.
"""

import secrets
from urllib.parse import urlsplit

from pagerduty_sandbox import webhooks
from pagerduty_sandbox.http import Response
from pagerduty_sandbox.rest.base import ApiError, Ctx, invalid, paginate
from pagerduty_sandbox.rest.registry import route
from pagerduty_sandbox.state import WebhookSubscription

FILTER_TYPES = ("account_reference", "service_reference", "team_reference")
UPDATABLE = {"type", "description", "events", "filter", "active", "oauth_client_id"}
REDACTED = "-- redacted --"


def _subscription(ctx: Ctx, subscription_id: str) -> WebhookSubscription:
    return ctx.owned(
        ctx.state.webhook_subscriptions, subscription_id, "Webhook Not Found", 5001
    )


def render_subscription(ctx: Ctx, sub: WebhookSubscription, *, secret=None) -> dict:
    data = {
        "id": sub.id,
        "type": "webhook_subscription",
        "active": sub.active,
        "delivery_method": {
            "id": sub.id,
            "secret": secret,
            "temporarily_disabled": sub.temporarily_disabled,
            "type": "http_delivery_method",
            "url": sub.url,
            "custom_headers": [
                {"name": h["name"], "value": h["value"] if secret else REDACTED}
                for h in sub.custom_headers
            ],
        },
        "events": list(sub.events),
        "filter": {"type": sub.filter_type},
    }
    if sub.description is not None:
        data["description"] = sub.description
    if sub.filter_id is not None:
        data["filter"]["id"] = sub.filter_id
    return data


def _events(value) -> list[str]:
    if not isinstance(value, list) or not value:
        raise invalid("events must be a non-empty array")
    if any(not isinstance(e, str) or not e for e in value):
        raise invalid("events must be strings")
    if len(set(value)) != len(value):
        raise invalid("events must be unique")
    unknown = [e for e in value if e not in webhooks.EVENT_TYPES]
    if unknown:
        raise invalid(f"Unknown event type: {unknown[0]}")
    return list(value)


def _filter(ctx: Ctx, value) -> tuple[str, str | None]:
    if not isinstance(value, dict) or value.get("type") not in FILTER_TYPES:
        raise invalid(f"filter.type must be one of {', '.join(FILTER_TYPES)}")
    kind = value["type"]
    if kind == "account_reference":
        return kind, None
    target = value.get("id")
    if not isinstance(target, str):
        raise invalid("filter.id is required for service and team filters")
    collection = ctx.state.services if kind == "service_reference" else ctx.state.teams
    ctx.owned(collection, target, "Filter target not found", 2100)
    return kind, target


def _headers(value) -> list[dict]:
    if value is None:
        return []
    if not isinstance(value, list) or any(
        not isinstance(h, dict)
        or not isinstance(h.get("name"), str)
        or not isinstance(h.get("value"), str)
        for h in value
    ):
        raise invalid("custom_headers must be [{name, value}] strings")
    return [{"name": h["name"], "value": h["value"]} for h in value]


@route("GET", "/webhook_subscriptions")
def subscription_list(ctx: Ctx):
    filter_type = ctx.arg("filter_type")
    filter_id = ctx.arg("filter_id")
    if filter_type is not None and filter_type not in ("account", "service", "team"):
        raise invalid("filter_type must be account, service or team")
    found = [
        s
        for s in ctx.state.webhook_subscriptions.values()
        if s.account_id == ctx.account_id
        and (filter_type is None or s.filter_type == f"{filter_type}_reference")
        and (filter_id is None or s.filter_id == filter_id)
    ]
    return paginate(
        ctx, found, "webhook_subscriptions", lambda s: render_subscription(ctx, s)
    )


@route("GET", "/webhook_subscriptions/{id}")
def subscription_get(ctx: Ctx, id: str):  # noqa: A002 - the spec's parameter name
    sub = _subscription(ctx, id)
    return Response.json({"webhook_subscription": render_subscription(ctx, sub)})


@route("POST", "/webhook_subscriptions")
def subscription_create(ctx: Ctx):
    data = ctx.body("webhook_subscription")
    if data.get("type") != "webhook_subscription":
        raise invalid("webhook_subscription.type must be webhook_subscription")
    method = data.get("delivery_method")
    if not isinstance(method, dict) or method.get("type") != "http_delivery_method":
        raise invalid("delivery_method.type must be http_delivery_method")
    url = method.get("url")
    parts = urlsplit(url) if isinstance(url, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
        raise invalid("delivery_method.url must be an absolute http(s) URL")
    description = data.get("description")
    if description is not None and not isinstance(description, str):
        raise invalid("description must be a string")
    active = data.get("active", True)
    if not isinstance(active, bool):
        raise invalid("active must be true or false")
    filter_type, filter_id = _filter(ctx, data.get("filter"))
    sub = WebhookSubscription(
        id=ctx.state.new_id(),
        account_id=ctx.account_id,
        url=url,
        secret=secrets.token_urlsafe(48),
        events=_events(data.get("events")),
        filter_type=filter_type,
        filter_id=filter_id,
        description=description,
        active=active,
        custom_headers=_headers(method.get("custom_headers")),
    )
    ctx.state.webhook_subscriptions[sub.id] = sub
    # The only response that ever carries the secret (NOTES §6).
    body = {"webhook_subscription": render_subscription(ctx, sub, secret=sub.secret)}
    return Response.json(body)


@route("PUT", "/webhook_subscriptions/{id}")
def subscription_update(ctx: Ctx, id: str):  # noqa: A002
    sub = _subscription(ctx, id)
    data = ctx.body("webhook_subscription")
    if "delivery_method" in data:
        raise invalid(
            "delivery_method cannot be changed; delete the subscription and "
            "create a new one"
        )
    unknown = sorted(set(data) - UPDATABLE)
    if unknown:
        raise invalid(f"Unknown field: {unknown[0]}")
    if "events" in data:
        sub.events = _events(data["events"])
    if "filter" in data:
        sub.filter_type, sub.filter_id = _filter(ctx, data["filter"])
    if "description" in data:
        if data["description"] is not None and not isinstance(data["description"], str):
            raise invalid("description must be a string")
        sub.description = data["description"]
    if "active" in data:
        if not isinstance(data["active"], bool):
            raise invalid("active must be true or false")
        sub.active = data["active"]
    return Response.json({"webhook_subscription": render_subscription(ctx, sub)})


@route("DELETE", "/webhook_subscriptions/{id}")
def subscription_delete(ctx: Ctx, id: str):  # noqa: A002
    sub = _subscription(ctx, id)
    del ctx.state.webhook_subscriptions[sub.id]
    return Response(status=204)


@route("POST", "/webhook_subscriptions/{id}/enable")
def subscription_enable(ctx: Ctx, id: str):  # noqa: A002
    sub = _subscription(ctx, id)
    sub.temporarily_disabled = False
    sub.consecutive_drops = 0
    return Response.json({"webhook_subscription": render_subscription(ctx, sub)})


@route("POST", "/webhook_subscriptions/{id}/ping")
def subscription_ping(ctx: Ctx, id: str):  # noqa: A002
    sub = _subscription(ctx, id)
    if sub.temporarily_disabled:
        raise ApiError(
            400,
            "Invalid operation",
            2015,
            ["The subscription is temporarily disabled; enable it first"],
        )
    webhooks.send(ctx.app, sub, webhooks.ping_event(ctx.state))
    return Response(status=202)
