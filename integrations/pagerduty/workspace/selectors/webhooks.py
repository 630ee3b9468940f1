"""Webhook subscription reads."""

from __future__ import annotations

from integrations.pagerduty.client import Page
from integrations.pagerduty.scopes import Scope
from integrations.pagerduty.workspace import inputs
from integrations.pagerduty.workspace.context import Workspace
from integrations.pagerduty.workspace.entities import WebhookSubscription
from integrations.pagerduty.workspace.operations import operation
from integrations.pagerduty.workspace.selectors.common import (
    LIST_PAGE_SIZE,
    MAX_LIST_OFFSET,
)


@operation(scope=Scope.WEBHOOK_SUBSCRIPTIONS_READ)
def webhook_list(
    *,
    ws: Workspace,
    offset: int = 0,
    filter_type: str = "",
    filter_id: str = "",
    limit: int = LIST_PAGE_SIZE,
) -> Page:
    """Return one page of webhook subscriptions, optionally by scope: one call."""
    offset = inputs.bounded(offset, "offset", low=0, high=MAX_LIST_OFFSET)
    limit = inputs.bounded(limit, "limit", low=1, high=100)
    params = {}
    if filter_type:
        params["filter_type"] = inputs.choice(
            filter_type, "filter_type", inputs.WEBHOOK_FILTERS
        )
    if filter_id:
        params["filter_id"] = inputs.pd_id(filter_id, "filter_id")
    return ws.read_page(
        "/webhook_subscriptions",
        key="webhook_subscriptions",
        scope=Scope.WEBHOOK_SUBSCRIPTIONS_READ,
        params=params,
        offset=offset,
        limit=limit,
        total=True,
        build=WebhookSubscription.from_api,
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
