import hmac
import time
from datetime import timedelta
from io import StringIO
from unittest import mock

import pytest
from django.core.management import call_command
from django.db import OperationalError
from django.db import connection as db_connection
from django.utils import timezone

from integrations.models import Connection, WebhookDelivery, WebhookSubscription
from integrations.pagerduty.workspace.cache import cache_version
from integrations.selectors import incident_change_list
from integrations.services.webhooks import MAX_BODY_BYTES, webhook_delivery_prune
from tests.integrations.webhook_helpers import (
    OTHER_SECRET,
    deliver,
    envelope,
    make_subscription,
    sign,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def subscription(connection):
    """The tenant's connection subscribed, with the known SECRET."""
    return make_subscription(connection)


def _refusals(subscription):
    subscription.refresh_from_db()
    return subscription.consecutive_refusals


def test_valid_delivery_is_recorded_and_answered_202(client, subscription):
    version = cache_version(subscription.connection_id)
    body = envelope()

    response = deliver(client, subscription, body)

    assert response.status_code == 202
    delivery = WebhookDelivery.objects.get()
    assert (
        delivery.subscription,
        delivery.webhook_id,
        delivery.event_id,
        delivery.event_type,
        delivery.resource_id,
        delivery.incident_status,
        delivery.incident_number,
        delivery.outcome,
    ) == (
        subscription,
        "wh-0001",
        "evt-0001",
        "incident.acknowledged",
        "PINC001",
        "acknowledged",
        42,
        "processed",
    )
    subscription.refresh_from_db()
    assert subscription.status == WebhookSubscription.Status.ACTIVE
    assert subscription.last_delivery_at is not None
    assert cache_version(subscription.connection_id) == version + 1


def test_any_matching_signature_of_several_is_accepted(client, subscription):
    body = envelope()
    header = f"{sign(body, OTHER_SECRET)},v1={'0' * 64}, {sign(body)}"

    response = deliver(client, subscription, body, signature=header)

    assert response.status_code == 202
    assert WebhookDelivery.objects.count() == 1


@pytest.mark.parametrize(
    ("signature", "status"),
    [
        (None, 400),
        ("", 400),
        ("v1=", 400),
        ("sha256=abc", 400),
        (sign(b'{"event": {}}'), 403),
        (sign(envelope(), OTHER_SECRET), 403),
    ],
    ids=["unsigned", "empty", "no-hex", "other-scheme", "forged", "wrong-secret"],
)
def test_unsigned_or_forged_delivery_is_refused_and_nothing_recorded(
    client, subscription, signature, status
):
    response = deliver(client, subscription, envelope(), signature=signature)

    assert response.status_code == status
    assert WebhookDelivery.objects.count() == 0
    assert _refusals(subscription) == 1
    assert "signature" in subscription.last_error or "Signature" in (
        subscription.last_error
    )


def test_unknown_receiver_is_404_without_comparing_any_secret(client, subscription):
    body = envelope()
    with mock.patch("hmac.compare_digest", wraps=hmac.compare_digest) as compare:
        response = deliver(
            client,
            subscription,
            body,
            receiver_id="00000000-0000-0000-0000-000000000000",
        )

    assert response.status_code == 404
    assert compare.call_count == 0
    assert WebhookDelivery.objects.count() == 0


def test_failed_or_unsubscribed_receiver_answers_404(client, connection):
    failed = make_subscription(
        connection, pd_id="", status=WebhookSubscription.Status.FAILED
    )

    response = deliver(client, failed, envelope())

    assert response.status_code == 404


def test_a_connection_waiting_for_reconnect_keeps_receiving(client, subscription):
    connection = subscription.connection
    connection.status = Connection.Status.NEEDS_RECONNECT
    connection.save()

    response = deliver(client, subscription, envelope())

    assert response.status_code == 202


def test_a_revoked_connection_no_longer_receives(client, subscription):
    connection = subscription.connection
    connection.status = Connection.Status.REVOKED
    connection.save()

    response = deliver(client, subscription, envelope())

    assert response.status_code == 404


def test_oversized_body_is_refused_before_any_work(client, subscription):
    body = b'{"event": {"x": "' + b"a" * MAX_BODY_BYTES + b'"}}'

    response = deliver(client, subscription, body)

    assert response.status_code == 413
    assert WebhookDelivery.objects.count() == 0
    assert _refusals(subscription) == 0


def test_duplicate_webhook_id_answers_202_and_records_nothing_new(client, subscription):
    body = envelope()
    first = deliver(client, subscription, body)
    version = cache_version(subscription.connection_id)

    second = deliver(client, subscription, body)

    assert (first.status_code, second.status_code) == (202, 202)
    assert WebhookDelivery.objects.count() == 1
    assert cache_version(subscription.connection_id) == version


def test_same_event_under_a_new_webhook_id_is_a_replay(client, subscription):
    body = envelope()
    deliver(client, subscription, body, webhook_id="wh-0001")

    response = deliver(client, subscription, body, webhook_id="wh-0002")

    assert response.status_code == 202
    assert list(WebhookDelivery.objects.values_list("webhook_id", flat=True)) == [
        "wh-0001"
    ]


@pytest.mark.parametrize(
    "body",
    [b"", b"not json", b"[1, 2]", b'{"event": "x"}', b'{"event": {"id": 1}}'],
    ids=["empty", "text", "list", "event-string", "no-type"],
)
def test_signed_body_that_is_not_an_event_is_400(client, subscription, body):
    response = deliver(client, subscription, body)

    assert response.status_code == 400
    assert WebhookDelivery.objects.count() == 0


def test_ping_marks_the_subscription_healthy_without_other_effect(client, subscription):
    version = cache_version(subscription.connection_id)

    response = deliver(client, subscription, envelope("pagey.ping"))

    assert response.status_code == 202
    subscription.refresh_from_db()
    assert subscription.status == WebhookSubscription.Status.ACTIVE
    assert subscription.last_ping_at is not None
    assert WebhookDelivery.objects.get().outcome == "ping"
    assert cache_version(subscription.connection_id) == version


def test_unknown_event_type_is_accepted_and_ignored(client, subscription):
    body = envelope("service.updated", resource_type="service")

    response = deliver(client, subscription, body)

    assert response.status_code == 202
    assert WebhookDelivery.objects.get().outcome == "ignored"


def test_event_older_than_retention_is_ignored_as_stale(client, subscription, caplog):
    version = cache_version(subscription.connection_id)
    body = envelope(occurred_at=timezone.now() - timedelta(hours=73))

    response = deliver(client, subscription, body)

    assert response.status_code == 202
    assert WebhookDelivery.objects.get().outcome == "stale"
    assert cache_version(subscription.connection_id) == version
    assert "ignored as stale" in caplog.text


def test_database_failure_answers_503_so_pagerduty_retries(client, subscription):
    def fail_inserts(execute, sql, params, many, context):
        if sql.startswith("INSERT") and "webhookdelivery" in sql:
            raise OperationalError("database is down")
        return execute(sql, params, many, context)

    with db_connection.execute_wrapper(fail_inserts):
        response = deliver(client, subscription, envelope())

    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert WebhookDelivery.objects.count() == 0


def test_undecryptable_secret_answers_503_not_4xx(client, subscription):
    WebhookSubscription.objects.filter(pk=subscription.pk).update(signing_secret="")
    subscription.refresh_from_db()

    response = deliver(client, subscription, envelope())

    assert response.status_code == 503


@pytest.mark.parametrize("method", ["get", "put", "delete"])
def test_only_post_is_allowed(client, subscription, method):
    url = f"/hooks/pagerduty/{subscription.receiver_id}/"

    response = getattr(client, method)(url)

    assert response.status_code == 405


def test_wrong_content_type_is_415(client, subscription):
    response = deliver(
        client,
        subscription,
        envelope(),
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 415


def test_three_refusals_in_a_row_show_on_the_subscription(client, subscription):
    for _ in range(3):
        deliver(client, subscription, envelope(), signature=sign(b"other"))

    deliver(client, subscription, envelope())

    subscription.refresh_from_db()
    assert subscription.consecutive_refusals == 0
    assert subscription.last_refusal_at is not None


def test_incident_changes_keep_the_latest_occurred_state(client, subscription):
    now = timezone.now()
    resolved = envelope(
        "incident.resolved",
        event_id="evt-2",
        status="resolved",
        occurred_at=now - timedelta(seconds=10),
    )
    acknowledged = envelope(
        "incident.acknowledged",
        event_id="evt-1",
        status="acknowledged",
        occurred_at=now - timedelta(seconds=20),
    )
    deliver(client, subscription, resolved, webhook_id="wh-2")
    deliver(client, subscription, acknowledged, webhook_id="wh-1")

    changes = incident_change_list(connection=subscription.connection)

    assert [(c.resource_id, c.incident_status) for c in changes] == [
        ("PINC001", "resolved")
    ]


def test_prune_deletes_deliveries_past_retention(client, subscription):
    deliver(client, subscription, envelope(event_id="old"), webhook_id="old")
    deliver(client, subscription, envelope(event_id="new"), webhook_id="new")
    WebhookDelivery.objects.filter(webhook_id="old").update(
        received_at=timezone.now() - timedelta(hours=73)
    )

    call_command("prune_webhook_deliveries", stdout=StringIO())

    assert list(WebhookDelivery.objects.values_list("webhook_id", flat=True)) == ["new"]
    with pytest.raises(ValueError, match="72 hours"):
        webhook_delivery_prune(older_than=timedelta(hours=24))


def test_deliveries_are_answered_well_inside_pagerdutys_5_seconds(client, subscription):
    timings = []
    for number in range(30):
        body = envelope(event_id=f"evt-{number}", title="x" * 55_000)
        started = time.perf_counter()
        response = deliver(client, subscription, body, webhook_id=f"wh-{number}")
        timings.append(time.perf_counter() - started)
        assert response.status_code == 202

    assert max(timings) < 1.0
    assert WebhookDelivery.objects.count() == 30
