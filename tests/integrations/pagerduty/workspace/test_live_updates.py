"""Live incident updates: the changes endpoint and the pages' hooks."""

from datetime import UTC, datetime, timedelta
from itertools import count
from urllib.parse import urlencode

import pytest
from django.urls import reverse
from django.utils import timezone

from integrations.models import Connection, WebhookDelivery, WebhookSubscription
from tests.integrations.pagerduty.workspace import payloads as pd
from tests.integrations.pagerduty.workspace.test_incidents import mock_detail
from tests.integrations.webhook_helpers import make_subscription

pytestmark = pytest.mark.django_db

_ids = count(1)


def changes_url(tenant, since=None):
    url = reverse("integrations:incident_changes", args=[tenant.pk])
    return url if since is None else f"{url}?{urlencode({'since': since.isoformat()})}"


def record(subscription, incident_id, status="acknowledged", *, received, **fields):
    n = next(_ids)
    return WebhookDelivery.objects.create(
        subscription=subscription,
        webhook_id=f"wh-{n}",
        event_id=f"evt-{n}",
        event_type=f"incident.{status}",
        resource_type="incident",
        resource_id=incident_id,
        incident_number=fields.pop("number", 7),
        incident_status=status,
        incident_title=fields.pop("title", "Disk full on db-1"),
        occurred_at=fields.pop("occurred", received),
        received_at=received,
        outcome=WebhookDelivery.Outcome.PROCESSED,
    )


@pytest.fixture
def subscription(ws_connection):
    return make_subscription(ws_connection, status=WebhookSubscription.Status.ACTIVE)


def test_changes_lists_only_this_connections_changes_after_since(
    linked_client, tenant, subscription, other_tenant, mocked_responses
):
    now = timezone.now()
    record(subscription, "PINC001", "triggered", received=now - timedelta(hours=1))
    record(subscription, "PINC002", received=now, number=8, title="API slow")
    other = make_subscription(
        Connection.objects.get(tenant=other_tenant), pd_id="PWHSUB2"
    )
    record(other, "PINC003", received=now)

    response = linked_client.get(changes_url(tenant, now - timedelta(minutes=1)))

    body = response.json()
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("max-age=0")
    assert body["changes"] == [
        {
            "id": "PINC002",
            "number": 8,
            "status": "acknowledged",
            "status_label": "Acknowledged",
            "title": "API slow",
        }
    ]
    assert datetime.fromisoformat(body["now"]) >= now


def test_a_late_older_event_never_overwrites_a_newer_state(
    linked_client, tenant, subscription
):
    now = timezone.now()
    record(subscription, "PINC001", "resolved", received=now - timedelta(minutes=2))
    record(
        subscription,
        "PINC001",
        "acknowledged",
        received=now,
        occurred=now - timedelta(minutes=3),
    )

    response = linked_client.get(changes_url(tenant, now - timedelta(minutes=1)))

    assert response.json()["changes"] == []


def test_changes_of_another_tenant_answer_404(
    client, tenant, subscription, other_tenant
):
    client.force_login(other_tenant.memberships.get().user)
    record(subscription, "PINC001", received=timezone.now())

    response = client.get(changes_url(tenant, timezone.now() - timedelta(hours=1)))

    assert response.status_code == 404
    assert b"PINC001" not in response.content


def test_changes_without_incidents_read_answer_403(
    linked_client, tenant, ws_connection, subscription
):
    ws_connection.granted_scopes = "openid services.read"
    ws_connection.save()
    record(subscription, "PINC001", received=timezone.now())

    response = linked_client.get(changes_url(tenant, timezone.now()))

    assert response.status_code == 403
    assert "incidents.read" in response.json()["error"]


@pytest.mark.parametrize(
    "since",
    [None, "", "yesterday", "2026-13-01T00:00:00+00:00", "2026-11-29T10:00:00"],
)
def test_changes_with_a_bad_since_answer_400(linked_client, tenant, since):
    url = changes_url(tenant)
    params = {} if since is None else {"since": since}

    response = linked_client.get(url, params)

    assert response.status_code == 400
    assert "since" in response.json()["error"]


def test_changes_refuse_post(linked_client, tenant):
    response = linked_client.post(changes_url(tenant, timezone.now()))

    assert response.status_code == 405


@pytest.mark.parametrize("changed", [1, 40])
def test_changes_cost_constant_queries_and_no_upstream_call(
    linked_client,
    tenant,
    subscription,
    mocked_responses,
    django_assert_num_queries,
    changed,
):
    now = timezone.now()
    for n in range(changed):
        record(subscription, f"PINC{n:03d}", received=now)

    # Session, user, membership, connection, changes.
    with django_assert_num_queries(5):
        response = linked_client.get(changes_url(tenant, now - timedelta(minutes=1)))

    assert response.status_code == 200
    assert len(response.json()["changes"]) == changed
    assert len(mocked_responses.calls) == 0


def test_changes_are_capped_at_100(linked_client, tenant, subscription):
    now = timezone.now()
    for n in range(105):
        record(subscription, f"PINC{n:03d}", received=now)

    response = linked_client.get(changes_url(tenant, now - timedelta(minutes=1)))

    assert len(response.json()["changes"]) == 100


def test_incident_list_carries_live_hooks_with_a_healthy_subscription(
    linked_client, tenant, subscription, mocked_responses
):
    mocked_responses.get(
        pd.url("/incidents"), json=pd.incident_list([pd.incident("PINC001", 1)])
    )
    pd.mock_directories(mocked_responses)

    html = linked_client.get(
        reverse("integrations:incident_list", args=[tenant.pk])
    ).content.decode()

    assert f'data-changes-url="{changes_url(tenant)}"' in html
    assert 'data-since="' in html
    assert 'data-incident-id="PINC001"' in html
    assert "integrations/js/live_incidents.js" in html
    assert "Live updates are off" not in html


@pytest.mark.parametrize(
    ("scopes", "status", "reason"),
    [
        ("openid incidents.read", None, "not granted webhook_subscriptions.write"),
        (None, None, "not subscribed"),
        (None, WebhookSubscription.Status.FAILED, "not subscribed"),
    ],
)
def test_incident_list_says_live_updates_are_off_and_why(
    linked_client, tenant, ws_connection, mocked_responses, scopes, status, reason
):
    if scopes:
        ws_connection.granted_scopes = scopes
        ws_connection.save()
    if status:
        make_subscription(ws_connection, status=status)
    mocked_responses.get(
        pd.url("/incidents"), json=pd.incident_list([pd.incident("PINC001", 1)])
    )
    if not scopes:
        pd.mock_directories(mocked_responses)

    html = linked_client.get(
        reverse("integrations:incident_list", args=[tenant.pk])
    ).content.decode()

    assert "Live updates are off" in html
    assert reason in html
    assert "data-changes-url" not in html
    assert "live_incidents.js" not in html


def test_overview_shows_when_the_last_event_arrived(
    linked_client, tenant, ws_connection, mocked_responses
):
    ws_connection.granted_scopes = "openid incidents.read webhook_subscriptions.write"
    ws_connection.save()
    mocked_responses.get(pd.url("/incidents"), json=pd.incident_list([]))
    url = reverse("integrations:workspace_overview", args=[tenant.pk])

    before = linked_client.get(url).content.decode()
    make_subscription(
        ws_connection,
        status=WebhookSubscription.Status.ACTIVE,
        last_delivery_at=datetime(2026, 11, 29, 10, 30, tzinfo=UTC),
    )
    after = linked_client.get(url + "?refresh=1").content.decode()

    assert 'id="live-state">Off<' in before
    assert "The portal is not subscribed to this account" in before
    assert 'id="live-state">On<' in after
    assert "PagerDuty sends this account's incident events" in after
    assert "Last event from PagerDuty: 2026-11-29 10:30 UTC." in after


def test_incident_detail_status_badge_carries_live_hooks(
    linked_client, tenant, subscription, mocked_responses
):
    mock_detail(mocked_responses)

    html = linked_client.get(
        reverse("integrations:incident_detail", args=[tenant.pk, "PINC001"])
    ).content.decode()

    assert f'data-changes-url="{changes_url(tenant)}"' in html
    assert (
        'id="incident-status" data-incident-id="PINC001" data-incident-status' in html
    )
    assert "integrations/js/live_incidents.js" in html
