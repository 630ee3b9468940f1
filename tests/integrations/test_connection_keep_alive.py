from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from integrations.models import Connection
from tests.connect_fixtures import API, TOKEN_URL
from tests.factories import TenantFactory

pytestmark = pytest.mark.django_db

REFRESHED = {
    "access_token": "AT2",
    "refresh_token": "RT2",
    "token_type": "bearer",
    "expires_in": 86400,
}


def _idle(connection, days):
    connection.refreshed_at = timezone.now() - timedelta(days=days)
    connection.save(update_fields=["refreshed_at"])
    return connection


def _another(pagerduty_client, development, *, slug, days, status="active"):
    tenant = TenantFactory(environment=development, slug=slug, name=slug.title())
    return Connection.objects.create(
        tenant=tenant,
        oauth_client=pagerduty_client,
        account_id="PACCT01",
        subdomain="acme",
        api_url=API,
        access_token=f"AT-{slug}",
        refresh_token=f"RT-{slug}",
        access_expires_at=timezone.now() + timedelta(hours=20),
        refreshed_at=timezone.now() - timedelta(days=days),
        status=status,
    )


def test_keep_alive_refreshes_only_idle_active_connections(
    connection, pagerduty_client, development, mocked_responses
):
    _idle(connection, days=8)
    recent = _another(pagerduty_client, development, slug="recent", days=1)
    broken = _another(
        pagerduty_client, development, slug="broken", days=20, status="needs_reconnect"
    )
    mocked_responses.post(TOKEN_URL, json=REFRESHED)
    out = StringIO()

    call_command("pagerduty_keep_alive", stdout=out)

    connection.refresh_from_db()
    assert connection.refresh_token == "RT2"
    assert Connection.objects.get(pk=recent.pk).refresh_token == "RT-recent"
    assert Connection.objects.get(pk=broken.pk).refresh_token == "RT-broken"
    assert len(mocked_responses.calls) == 1
    assert out.getvalue().strip() == (
        "Refreshed 1; need reconnect 0; PagerDuty unavailable 0."
    )


def test_keep_alive_reports_refusals_and_outages(
    connection, pagerduty_client, development, mocked_responses
):
    _idle(connection, days=10)
    _another(pagerduty_client, development, slug="other", days=9)
    mocked_responses.post(TOKEN_URL, status=500)
    mocked_responses.post(TOKEN_URL, status=400, json={"error": "invalid_grant"})
    out = StringIO()

    with pytest.raises(SystemExit) as excinfo:
        call_command("pagerduty_keep_alive", stdout=out)

    assert excinfo.value.code == 1
    assert out.getvalue().strip() == (
        "Refreshed 0; need reconnect 1; PagerDuty unavailable 1."
    )
    statuses = sorted(Connection.objects.values_list("status", flat=True))
    assert statuses == ["active", "needs_reconnect"]
