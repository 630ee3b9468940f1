"""Webhook subscription tools: PagerDuty's own list, get, create, update and
delete (pagerduty-mcp 1.1.0's names and input schemas).

A subscription's signing secret never reaches an agent: PagerDuty returns
it only when the subscription is created, and tool output is no place for
secrets.
"""

from __future__ import annotations

from integrations.gateway.conf import SCOPE_READ
from integrations.gateway.tools.registry import pagerduty_mcp_schema, register
from integrations.gateway.tools.services import list_limit
from integrations.pagerduty.workspace import selectors


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
