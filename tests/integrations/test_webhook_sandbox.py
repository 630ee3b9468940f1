"""End to end: the sandbox delivers a signed incident event to the receiver."""

import time

import pytest

from integrations.models import WebhookDelivery, WebhookSubscription
from integrations.pagerduty.client import PagerDutyClient
from integrations.selectors import incident_change_list
from integrations.services.webhooks import (
    webhook_subscription_ensure,
    webhook_subscription_remove,
)
from tests.integrations.webhook_helpers import triggered_incident, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_acknowledging_in_the_sandbox_reaches_the_receiver_signed(
    sandbox_settings, sandbox_connection
):
    sandbox = sandbox_settings
    subscription = webhook_subscription_ensure(connection=sandbox_connection)
    assert subscription.status == WebhookSubscription.Status.CREATED
    incident = triggered_incident(sandbox, sandbox_connection.account_id)
    client = PagerDutyClient.for_connection(
        sandbox_connection, token_provider=lambda: sandbox_connection.access_token
    )

    started = time.monotonic()
    with client:
        client.update_entity(
            f"/incidents/{incident.id}",
            "incident",
            {"type": "incident_reference", "status": "acknowledged"},
        )
    delivery = wait_for(
        lambda: WebhookDelivery.objects.filter(
            resource_id=incident.id, event_type="incident.acknowledged"
        ).first()
    )
    elapsed = time.monotonic() - started

    assert delivery is not None
    assert delivery.subscription_id == subscription.pk
    assert delivery.incident_status == "acknowledged"
    assert delivery.outcome == WebhookDelivery.Outcome.PROCESSED
    assert elapsed < 5
    with sandbox.state.lock:
        records = [
            r
            for r in sandbox.state.webhook_deliveries
            if r["subscription_id"] == subscription.pd_subscription_id
        ]
    assert [(r["outcome"], r["last_status"]) for r in records] == [("delivered", 202)]
    changes = incident_change_list(connection=sandbox_connection)
    assert [(c.resource_id, c.incident_status) for c in changes] == [
        (incident.id, "acknowledged")
    ]
    subscription.refresh_from_db()
    assert subscription.status == WebhookSubscription.Status.ACTIVE


def test_sandbox_ping_marks_the_subscription_healthy_and_delete_removes_it(
    sandbox_settings, sandbox_connection
):
    sandbox = sandbox_settings
    subscription = webhook_subscription_ensure(connection=sandbox_connection)
    client = PagerDutyClient.for_connection(
        sandbox_connection, token_provider=lambda: sandbox_connection.access_token
    )

    with client:
        client.post(f"/webhook_subscriptions/{subscription.pd_subscription_id}/ping")
    pinged = wait_for(
        lambda: WebhookSubscription.objects.filter(
            pk=subscription.pk, last_ping_at__isnull=False
        ).exists()
    )
    webhook_subscription_remove(connection=sandbox_connection)

    assert pinged
    assert WebhookSubscription.objects.count() == 0
    with sandbox.state.lock:
        assert sandbox.state.webhook_subscriptions == {}
