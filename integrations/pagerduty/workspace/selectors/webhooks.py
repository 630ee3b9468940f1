"""Webhook subscription reads."""

from __future__ import annotations

from integrations.pagerduty.client import Page
from integrations.pagerduty.scopes import Scope
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
