import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from responses import matchers

from integrations.models import AuditEvent, Connection, WebhookSubscription
from integrations.services.connections import (
    connection_disconnect,
    connection_save_from_connect,
)
from integrations.services.webhooks import (
    INCIDENT_EVENTS,
    webhook_subscription_ensure,
)
from tests.connect_fixtures import API
from tests.helpers import raw_column
from tests.integrations.webhook_helpers import SECRET, make_subscription

pytestmark = pytest.mark.django_db

SUBSCRIPTIONS = f"{API}/webhook_subscriptions"
NEW_SECRET = "CANARY-WHSEC-new-one-time-secret"
WITH_WEBHOOKS = (
    "openid incidents.read incidents.write services.read webhook_subscriptions.write"
)


@pytest.fixture
def portal_url(settings):
    settings.PORTAL_BASE_URL = "https://portal.example"
    return settings.PORTAL_BASE_URL


@pytest.fixture
def webhook_connection(connection, portal_url):
    connection.granted_scopes = WITH_WEBHOOKS
    connection.save()
    return connection


def _created(pd_id="PWHNEW1", secret=NEW_SECRET):
    return {
        "webhook_subscription": {
            "id": pd_id,
            "type": "webhook_subscription",
            "delivery_method": {
                "type": "http_delivery_method",
                "url": "https://portal.example/hooks/…",
                "secret": secret,
            },
            "events": list(INCIDENT_EVENTS),
            "filter": {"type": "account_reference"},
            "active": True,
        }
    }


def _mock_create(rsps, **kwargs):
    return rsps.post(SUBSCRIPTIONS, json=_created(**kwargs))


def _actions(tenant):
    return list(
        AuditEvent.objects.filter(tenant=tenant)
        .order_by("id")
        .values_list("action", flat=True)
    )


def test_subscribing_creates_an_account_subscription_to_this_receiver(
    webhook_connection, mocked_responses, portal_url
):
    call = _mock_create(mocked_responses)

    subscription = webhook_subscription_ensure(connection=webhook_connection)

    sent = json.loads(call.calls[0].request.body)["webhook_subscription"]
    assert sent["filter"] == {"type": "account_reference"}
    assert sent["events"] == list(INCIDENT_EVENTS)
    assert sent["delivery_method"] == {
        "type": "http_delivery_method",
        "url": f"{portal_url}/hooks/pagerduty/{subscription.receiver_id}/",
    }
    subscription.refresh_from_db()
    assert subscription.pd_subscription_id == "PWHNEW1"
    assert subscription.status == WebhookSubscription.Status.CREATED
    assert subscription.signing_secret == NEW_SECRET
    assert NEW_SECRET not in raw_column(
        WebhookSubscription, "signing_secret", subscription.pk
    )
    assert _actions(webhook_connection.tenant) == ["webhook.subscribed"]


def test_without_the_scope_nothing_is_subscribed(connection, mocked_responses):
    assert webhook_subscription_ensure(connection=connection) is None

    assert WebhookSubscription.objects.count() == 0


@pytest.mark.parametrize(
    ("status", "words"),
    [(403, "webhook_subscriptions.write"), (400, "base URL"), (503, "did not answer")],
)
def test_a_failed_subscribe_is_recorded_not_raised(
    webhook_connection, mocked_responses, status, words
):
    mocked_responses.post(
        SUBSCRIPTIONS,
        status=status,
        json={"error": {"message": "Nope", "code": 2001}},
    )

    subscription = webhook_subscription_ensure(connection=webhook_connection)

    assert subscription.status == WebhookSubscription.Status.FAILED
    assert words in subscription.last_error
    assert subscription.signing_secret == ""
    assert subscription.pd_subscription_id == ""
    assert _actions(webhook_connection.tenant) == ["webhook.subscribe_failed"]


def test_a_create_response_without_the_secret_is_a_failure(
    webhook_connection, mocked_responses
):
    _mock_create(mocked_responses, secret=None)

    subscription = webhook_subscription_ensure(connection=webhook_connection)

    assert subscription.status == WebhookSubscription.Status.FAILED


def test_a_healthy_subscription_is_kept_on_reconnect(
    webhook_connection, mocked_responses
):
    existing = make_subscription(webhook_connection)

    assert webhook_subscription_ensure(connection=webhook_connection) == existing
    assert len(mocked_responses.calls) == 0


def test_recreating_replaces_secret_and_receiver_atomically(
    webhook_connection, mocked_responses
):
    existing = make_subscription(webhook_connection)
    old_receiver = existing.receiver_id
    mocked_responses.delete(f"{SUBSCRIPTIONS}/PWHSUB1", status=204)
    _mock_create(mocked_responses)

    webhook_subscription_ensure(connection=webhook_connection, force=True)

    existing.refresh_from_db()
    assert existing.pd_subscription_id == "PWHNEW1"
    assert existing.signing_secret == NEW_SECRET
    assert existing.receiver_id != old_receiver
    assert WebhookSubscription.objects.count() == 1


def test_connect_with_the_scope_subscribes_after_commit(
    tenant,
    tenant_admin,
    pagerduty_client,
    mocked_responses,
    portal_url,
    django_capture_on_commit_callbacks,
):
    _mock_create(mocked_responses)
    connect_data = {
        "identity": {
            "account_id": "PACCT01",
            "subdomain": "acme",
            "region": "us",
            "api_url": API,
            "delegation_id": "PDELEG01",
        },
        "user": {"id": "PUSER01", "name": "Alice", "email": "alice@acme.example"},
        "granted_scope": WITH_WEBHOOKS,
        "requested_scope": pagerduty_client.scopes,
    }

    with django_capture_on_commit_callbacks(execute=True):
        connection = connection_save_from_connect(
            tenant=tenant,
            oauth_client=pagerduty_client,
            actor=tenant_admin,
            access_token="AT",
            refresh_token="RT",
            expires_at=None,
            connect_data=connect_data,
        )

    assert connection.webhook_subscription.pd_subscription_id == "PWHNEW1"
    assert _actions(tenant) == ["connection.created", "webhook.subscribed"]


def test_disconnect_deletes_the_subscription_at_pagerduty_and_locally(
    webhook_connection, tenant_admin, mocked_responses
):
    make_subscription(webhook_connection)
    mocked_responses.delete(
        f"{SUBSCRIPTIONS}/PWHSUB1",
        status=204,
        match=[
            matchers.header_matcher(
                {"Authorization": "Bearer " + "CANARY-AT-existing-access"}
            )
        ],
    )

    connection_disconnect(connection=webhook_connection, actor=tenant_admin)

    assert WebhookSubscription.objects.count() == 0
    assert _actions(webhook_connection.tenant) == [
        "webhook.unsubscribed",
        "connection.disconnected",
    ]


def test_disconnect_marks_the_subscription_for_cleanup_when_pagerduty_refuses(
    webhook_connection, tenant_admin, mocked_responses
):
    make_subscription(webhook_connection)
    mocked_responses.delete(f"{SUBSCRIPTIONS}/PWHSUB1", status=403, json={})

    connection_disconnect(connection=webhook_connection, actor=tenant_admin)

    left = WebhookSubscription.objects.get()
    assert (left.status, left.pd_subscription_id, left.signing_secret) == (
        WebhookSubscription.Status.DISABLED,
        "PWHSUB1",
        "",
    )
    assert "deleted at the next connect" in left.last_error
    webhook_connection.refresh_from_db()
    assert webhook_connection.status == Connection.Status.REVOKED


def test_staff_recreates_a_subscription_from_the_tenants_page(
    client, staff_user, webhook_connection, mocked_responses
):
    make_subscription(webhook_connection, status=WebhookSubscription.Status.FAILED)
    mocked_responses.delete(f"{SUBSCRIPTIONS}/PWHSUB1", status=404, json={})
    _mock_create(mocked_responses)
    client.force_login(staff_user)
    url = reverse(
        "integrations:tenant_webhook_recreate",
        args=["development", webhook_connection.tenant.pk],
    )

    response = client.post(url)

    assert response.status_code == 302
    assert WebhookSubscription.objects.get().pd_subscription_id == "PWHNEW1"
    event = AuditEvent.objects.get(action="webhook.subscribed")
    assert event.actor == staff_user
    assert SECRET not in str(event.details)
    assert NEW_SECRET not in str(event.details)


def test_recreate_needs_staff_and_post(
    client, tenant_admin, webhook_connection, staff_user
):
    url = reverse(
        "integrations:tenant_webhook_recreate",
        args=["development", webhook_connection.tenant.pk],
    )
    client.force_login(tenant_admin)
    assert client.post(url).status_code == 403
    client.force_login(staff_user)
    assert client.get(url).status_code == 405
    assert WebhookSubscription.objects.count() == 0


def test_tenants_page_shows_webhook_health(client, staff_user, webhook_connection):
    make_subscription(
        webhook_connection,
        status=WebhookSubscription.Status.TEMPORARILY_DISABLED,
        consecutive_refusals=3,
        last_error="Refused: a delivery's signature did not match the secret.",
    )
    client.force_login(staff_user)

    page = client.get(
        reverse("integrations:tenant_list", args=["development"])
    ).content.decode()

    assert "Temporarily disabled by PagerDuty" in page
    assert "3 refused in a row" in page
    assert "signature did not match" in page
    assert SECRET not in page


def test_tenant_page_says_live_updates_are_off_without_the_scope(
    tenant_admin_client, tenant, connection
):
    page = tenant_admin_client.get(
        reverse("integrations:tenant_home", args=[tenant.pk])
    ).content.decode()

    assert "Live updates off" in page
    assert "webhook_subscriptions.write" in page


def test_tenant_page_says_live_updates_are_on(
    tenant_admin_client, tenant, webhook_connection
):
    make_subscription(webhook_connection, status=WebhookSubscription.Status.ACTIVE)

    page = tenant_admin_client.get(
        reverse("integrations:tenant_home", args=[tenant.pk])
    ).content.decode()

    assert "Live updates on" in page


def _remote(temporarily_disabled=False, active=True):
    body = _created(secret=None)
    body["webhook_subscription"]["id"] = "PWHSUB1"
    body["webhook_subscription"]["active"] = active
    body["webhook_subscription"]["delivery_method"]["temporarily_disabled"] = (
        temporarily_disabled
    )
    return body


@pytest.mark.parametrize(
    ("reply", "status", "words"),
    [
        ({"json": _remote(temporarily_disabled=True)}, "temporarily_disabled", "3"),
        ({"json": _remote(active=False)}, "disabled", "switched off"),
        ({"status": 404, "json": {}}, "disabled", "no longer exists"),
        ({"json": _remote()}, "created", ""),
    ],
    ids=["temporarily-disabled", "inactive", "deleted", "healthy"],
)
def test_check_reads_pagerdutys_state_into_the_status(
    webhook_connection, mocked_responses, reply, status, words
):
    make_subscription(webhook_connection)
    mocked_responses.get(f"{SUBSCRIPTIONS}/PWHSUB1", **reply)
    out = StringIO()

    call_command("check_webhook_subscriptions", stdout=out)

    subscription = WebhookSubscription.objects.get()
    assert subscription.status == status
    assert words in subscription.last_error
    assert out.getvalue() == f"Checked subscriptions: 1 {status}.\n"


def test_check_that_cannot_read_keeps_the_status(webhook_connection, mocked_responses):
    make_subscription(webhook_connection, status=WebhookSubscription.Status.ACTIVE)
    mocked_responses.get(f"{SUBSCRIPTIONS}/PWHSUB1", status=403, json={})

    call_command("check_webhook_subscriptions", stdout=StringIO())

    subscription = WebhookSubscription.objects.get()
    assert subscription.status == WebhookSubscription.Status.ACTIVE
    assert "could not be read" in subscription.last_error


def test_check_rides_out_pagerdutys_rate_limit(webhook_connection, mocked_responses):
    # The hourly check is a background client: it sleeps out 429s (here a
    # reset of 0 s) where a page would answer at once.
    make_subscription(webhook_connection, status=WebhookSubscription.Status.CREATED)
    limited = {"status": 429, "json": {}, "headers": {"ratelimit-reset": "0"}}
    mocked_responses.get(f"{SUBSCRIPTIONS}/PWHSUB1", **limited)
    mocked_responses.get(f"{SUBSCRIPTIONS}/PWHSUB1", **limited)
    mocked_responses.get(f"{SUBSCRIPTIONS}/PWHSUB1", json=_remote(active=False))

    call_command("check_webhook_subscriptions", stdout=StringIO())

    assert WebhookSubscription.objects.get().status == "disabled"
