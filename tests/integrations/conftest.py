"""Fixtures shared by the integrations tests."""

from datetime import timedelta

import pytest
from django.utils import timezone

from integrations.models import Connection, Environment
from tests.factories import TenantFactory

SANDBOX_SCOPES = [
    "incidents.read",
    "incidents.write",
    "services.read",
    "webhook_subscriptions.write",
]


@pytest.fixture
def sandbox_connection(sandbox_settings, live_server, seeded_environments, settings):
    """Tenant acme connected to the sandbox as Alice; webhooks reach live_server."""
    sandbox = sandbox_settings
    settings.PORTAL_BASE_URL = live_server.url
    tenant = TenantFactory(
        environment=Environment.objects.get(slug="development"), slug="acme"
    )
    token = sandbox.issue_token("alice@acme.example", SANDBOX_SCOPES)
    with sandbox.state.lock:
        account = next(
            a for a in sandbox.state.accounts.values() if a.subdomain == "acme"
        )
    return Connection.objects.create(
        tenant=tenant,
        account_id=account.id,
        subdomain="acme",
        api_url=sandbox.url,
        pd_user_id="PALICE",
        pd_user_email="alice@acme.example",
        access_token=token,
        refresh_token="unused",
        access_expires_at=timezone.now() + timedelta(hours=1),
        granted_scopes="openid " + " ".join(SANDBOX_SCOPES),
    )
