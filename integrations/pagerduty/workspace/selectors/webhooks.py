"""Webhook subscription reads."""

from __future__ import annotations

from integrations.pagerduty.client import Page
from integrations.pagerduty.scopes import Scope
from integrations.pagerduty.workspace import inputs
from integrations.pagerduty.workspace.context import Workspace
from integrations.pagerduty.workspace.entities import WebhookSubscription
from integrations.pagerduty.workspace.operations import operation
from integrations.pagerduty.workspace.selectors.common import entity_page


@operation(scope=Scope.WEBHOOK_SUBSCRIPTIONS_READ)
def webhook_list(*, ws: Workspace, offset: int = 0) -> Page:
    """Return one page of webhook subscriptions: one call."""
    return entity_page(
        ws,
        "/webhook_subscriptions",
        key="webhook_subscriptions",
        scope=Scope.WEBHOOK_SUBSCRIPTIONS_READ,
        entity=WebhookSubscription,
        offset=offset,
    )


@operation(scope=Scope.WEBHOOK_SUBSCRIPTIONS_READ)
def webhook_get(*, ws: Workspace, subscription_id: str) -> WebhookSubscription:
    """Return one webhook subscription (never its secret): one call."""
    subscription_id = inputs.pd_id(subscription_id, "subscription_id")
    body = ws.read(
        inputs.path("/webhook_subscriptions/{}", subscription_id),
        scope=Scope.WEBHOOK_SUBSCRIPTIONS_READ,
    )
    found = body.get("webhook_subscription") if isinstance(body, dict) else None
    return WebhookSubscription.from_api(found if isinstance(found, dict) else {})
