"""Webhook subscription tools: PagerDuty's own list, get, create, update and
delete (pagerduty-mcp 1.1.0's names and input schemas).

A subscription's signing secret never reaches an agent: PagerDuty returns
it only when the subscription is created, and tool output is no place for
secrets.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from integrations.gateway.conf import SCOPE_READ, SCOPE_WRITE
from integrations.gateway.tools.errors import ToolError
from integrations.gateway.tools.registry import pagerduty_mcp_schema, register
from integrations.gateway.tools.services import list_limit
from integrations.pagerduty.workspace import selectors, services


def subscription_data(subscription) -> dict:
    flt = {"type": f"{subscription.filter_type}_reference"}
    if subscription.filter_id:
        flt["id"] = subscription.filter_id
    return {
        "id": subscription.id,
        "type": "webhook_subscription",
        "active": subscription.active,
        "description": subscription.description,
        "delivery_method": {
            "type": "http_delivery_method",
            "url": subscription.url,
            "temporarily_disabled": subscription.temporarily_disabled,
        },
        "events": subscription.events,
        "filter": flt,
    }


def filter_kind(value) -> str:
    """Return PagerDuty's filter type ("service") for "service_reference" too."""
    return value.removesuffix("_reference") if isinstance(value, str) else value


@register(
    name="list_webhook_subscriptions",
    title="List webhook subscriptions",
    description=(
        "List the tenant's webhook subscriptions: delivery URL, events, scope "
        "filter and whether each is active. filter_type narrows to account, "
        "service or team subscriptions (account_reference etc. also work). "
        "At most 100; `more` says whether PagerDuty has more."
    ),
    input_schema=pagerduty_mcp_schema("list_webhook_subscriptions"),
    access=SCOPE_READ,
    operations=("GET /webhook_subscriptions",),
    read_only=True,
    destructive=False,
    idempotent=True,
    compatible=True,
)
def list_webhook_subscriptions(ctx, args: dict) -> dict:
    page = selectors.webhook_list(
        ws=ctx.ws,
        filter_type=filter_kind(args.get("filter_type")) or "",
        limit=list_limit(ctx, args.get("limit")),
    )
    return {
        "response": [subscription_data(item) for item in page.items],
        "total": page.total,
        "more": page.more,
    }


@register(
    name="get_webhook_subscription",
    title="Get a webhook subscription",
    description=("Get one webhook subscription by its ID (never its signing secret)."),
    input_schema=pagerduty_mcp_schema("get_webhook_subscription"),
    access=SCOPE_READ,
    operations=("GET /webhook_subscriptions/{id}",),
    read_only=True,
    destructive=False,
    idempotent=True,
    compatible=True,
)
def get_webhook_subscription(ctx, args: dict) -> dict:
    return subscription_data(
        selectors.webhook_get(ws=ctx.ws, subscription_id=args["subscription_id"])
    )


def _filter_arguments(flt) -> dict:
    if flt is None:
        return {}
    return {
        "filter_type": filter_kind(flt.get("type")),
        "filter_id": flt.get("id") or "",
    }


@register(
    name="create_webhook_subscription",
    title="Create a webhook subscription",
    description=(
        "Subscribe an http(s) URL to PagerDuty events (incident.triggered, "
        "incident.resolved, service.updated, …) for the account, a service "
        "or a team. Its signing secret is not returned to agents; create the "
        "subscription in the portal when you need the secret."
    ),
    input_schema=pagerduty_mcp_schema("create_webhook_subscription"),
    access=SCOPE_WRITE,
    operations=("POST /webhook_subscriptions",),
    read_only=False,
    destructive=False,
    idempotent=False,
    free_text=("url", "description"),
    compatible=True,
)
def create_webhook_subscription(ctx, args: dict) -> dict:
    data = args["webhook_data"]
    method = data["delivery_method"]
    if method.get("custom_headers"):
        raise ToolError(
            _(
                "Custom headers may carry credentials, which do not pass "
                "through agents; add them in PagerDuty itself."
            ),
            code="invalid_arguments",
        )
    if method.get("type", "http_delivery_method") != "http_delivery_method":
        raise ToolError(
            _("delivery_method.type must be http_delivery_method."),
            code="invalid_arguments",
        )
    created = services.webhook_create(
        ws=ctx.ws,
        url=method["url"],
        events=data["events"],
        description=data.get("description") or "",
        active=data.get("active", True) is not False,
        **_filter_arguments(data["filter"]),
    )
    return subscription_data(created)


@register(
    name="update_webhook_subscription",
    title="Update a webhook subscription",
    description=(
        "Change a webhook subscription's events, scope filter, description or "
        "active flag (only the fields given). Its delivery URL cannot change: "
        "delete the subscription and create a new one."
    ),
    input_schema=pagerduty_mcp_schema("update_webhook_subscription"),
    access=SCOPE_WRITE,
    operations=("PUT /webhook_subscriptions/{id}",),
    read_only=False,
    destructive=True,
    idempotent=True,
    free_text=("url", "description"),
    compatible=True,
)
def update_webhook_subscription(ctx, args: dict) -> dict:
    data = args["webhook_data"]
    if data.get("delivery_method"):
        raise ToolError(
            _(
                "A delivery URL cannot be changed; delete the subscription and "
                "create a new one."
            ),
            code="invalid_arguments",
        )
    updated = services.webhook_update(
        ws=ctx.ws,
        subscription_id=args["subscription_id"],
        events=data.get("events"),
        description=data.get("description"),
        active=data.get("active"),
        **(_filter_arguments(data["filter"]) if data.get("filter") is not None else {}),
    )
    return subscription_data(updated)


@register(
    name="delete_webhook_subscription",
    title="Delete a webhook subscription",
    description="Delete a webhook subscription: PagerDuty stops sending it events.",
    input_schema=pagerduty_mcp_schema("delete_webhook_subscription"),
    access=SCOPE_WRITE,
    operations=("DELETE /webhook_subscriptions/{id}",),
    read_only=False,
    destructive=True,
    idempotent=True,
    compatible=True,
)
def delete_webhook_subscription(ctx, args: dict) -> dict:
    services.webhook_delete(ws=ctx.ws, subscription_id=args["subscription_id"])
    return {"deleted": True, "subscription_id": args["subscription_id"]}
