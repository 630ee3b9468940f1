"""Webhook subscription writes: create, delete, enable, ping."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from integrations.pagerduty.scopes import Scope
from integrations.pagerduty.workspace import inputs
from integrations.pagerduty.workspace.context import Workspace
from integrations.pagerduty.workspace.entities import WebhookSubscription
from integrations.pagerduty.workspace.operations import operation


@operation(scope=Scope.WEBHOOK_SUBSCRIPTIONS_WRITE, write=True)
def webhook_create(
    *,
    ws: Workspace,
    url: str,
    events: list[str],
    filter_type: str,
    filter_id: str = "",
    description: str = "",
) -> WebhookSubscription:
    """Create a webhook subscription; the result carries its secret, once."""
    url = inputs.web_url(url, "url")
    if isinstance(events, str) or not isinstance(events, list | tuple) or not events:
        raise inputs.InvalidInput("events", _("Choose at least one event."))
    events = list(
        dict.fromkeys(inputs.choice(e, "events", inputs.WEBHOOK_EVENTS) for e in events)
    )
    filter_type = inputs.choice(filter_type, "filter_type", inputs.WEBHOOK_FILTERS)
    description = inputs.text(description, "description", max_length=1024)
    flt: dict[str, Any] = {"type": f"{filter_type}_reference"}
    if filter_type != "account":
        flt["id"] = inputs.pd_id(filter_id, "filter_id")
    data = {
        "type": "webhook_subscription",
        "delivery_method": {"type": "http_delivery_method", "url": url},
        "events": events,
        "filter": flt,
        "description": description,
        "active": True,
    }
    return WebhookSubscription.from_api(
        ws.write_client.create_entity(
            "/webhook_subscriptions",
            "webhook_subscription",
            data,
            required_scope=Scope.WEBHOOK_SUBSCRIPTIONS_WRITE,
        )
    )


@operation(
    scope=Scope.WEBHOOK_SUBSCRIPTIONS_WRITE, write=True, target="subscription_id"
)
def webhook_delete(*, ws: Workspace, subscription_id: str) -> None:
    """Delete a webhook subscription."""
    subscription_id = inputs.pd_id(subscription_id, "subscription_id")
    ws.write_client.delete(
        inputs.path("/webhook_subscriptions/{}", subscription_id),
        required_scope=Scope.WEBHOOK_SUBSCRIPTIONS_WRITE,
    )


@operation(
    scope=Scope.WEBHOOK_SUBSCRIPTIONS_WRITE, write=True, target="subscription_id"
)
def webhook_enable(*, ws: Workspace, subscription_id: str) -> None:
    """Re-enable a temporarily disabled webhook subscription."""
    subscription_id = inputs.pd_id(subscription_id, "subscription_id")
    ws.write_client.post(
        inputs.path("/webhook_subscriptions/{}/enable", subscription_id),
        required_scope=Scope.WEBHOOK_SUBSCRIPTIONS_WRITE,
    )


@operation(
    scope=Scope.WEBHOOK_SUBSCRIPTIONS_WRITE, write=True, target="subscription_id"
)
def webhook_ping(*, ws: Workspace, subscription_id: str) -> None:
    """Ask PagerDuty to send a test event to the subscription."""
    subscription_id = inputs.pd_id(subscription_id, "subscription_id")
    ws.write_client.post(
        inputs.path("/webhook_subscriptions/{}/ping", subscription_id),
        required_scope=Scope.WEBHOOK_SUBSCRIPTIONS_WRITE,
    )
