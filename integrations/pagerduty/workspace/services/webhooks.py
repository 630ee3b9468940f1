"""Webhook subscription writes: create, update, delete, enable, ping."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from integrations.pagerduty.scopes import Scope
from integrations.pagerduty.workspace import inputs
from integrations.pagerduty.workspace.context import Workspace
from integrations.pagerduty.workspace.entities import WebhookSubscription
from integrations.pagerduty.workspace.operations import operation


def _events(events: object) -> list[str]:
    if isinstance(events, str) or not isinstance(events, list | tuple) or not events:
        raise inputs.InvalidInput("events", _("Choose at least one event."))
    return list(
        dict.fromkeys(inputs.choice(e, "events", inputs.WEBHOOK_EVENTS) for e in events)
    )


def _filter(filter_type: object, filter_id: object) -> dict[str, Any]:
    filter_type = inputs.choice(filter_type, "filter_type", inputs.WEBHOOK_FILTERS)
    flt: dict[str, Any] = {"type": f"{filter_type}_reference"}
    if filter_type != "account":
        flt["id"] = inputs.pd_id(filter_id, "filter_id")
    return flt


@operation(scope=Scope.WEBHOOK_SUBSCRIPTIONS_WRITE, write=True)
def webhook_create(
    *,
    ws: Workspace,
    url: str,
    events: list[str],
    filter_type: str,
    filter_id: str = "",
    description: str = "",
    active: bool = True,
) -> WebhookSubscription:
    """Create a webhook subscription; the result carries its secret, once."""
    url = inputs.web_url(url, "url")
    events = _events(events)
    flt = _filter(filter_type, filter_id)
    description = inputs.text(description, "description", max_length=1024)
    if not isinstance(active, bool):
        raise inputs.InvalidInput("active", _("Give true or false."))
    data = {
        "type": "webhook_subscription",
        "delivery_method": {"type": "http_delivery_method", "url": url},
        "events": events,
        "filter": flt,
        "description": description,
        "active": active,
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
def webhook_update(
    *,
    ws: Workspace,
    subscription_id: str,
    events: list[str] | None = None,
    filter_type: str | None = None,
    filter_id: str = "",
    description: str | None = None,
    active: bool | None = None,
) -> WebhookSubscription:
    """Change a subscription's events, scope, description or active flag.

    PagerDuty does not change a delivery URL in place: a new URL is a new
    subscription (with a new secret).
    """
    subscription_id = inputs.pd_id(subscription_id, "subscription_id")
    data: dict[str, Any] = {}
    if events is not None:
        data["events"] = _events(events)
    if filter_type is not None:
        data["filter"] = _filter(filter_type, filter_id)
    if description is not None:
        data["description"] = inputs.text(description, "description", max_length=1024)
    if active is not None:
        if not isinstance(active, bool):
            raise inputs.InvalidInput("active", _("Give true or false."))
        data["active"] = active
    if not data:
        raise inputs.InvalidInput("webhook_data", _("Give something to change."))
    return WebhookSubscription.from_api(
        ws.write_client.update_entity(
            inputs.path("/webhook_subscriptions/{}", subscription_id),
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
