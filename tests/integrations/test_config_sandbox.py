"""The credential check against the local PagerDuty sandbox, end to end."""

import pytest
from django.core.cache import cache

from integrations.models import AuditEvent
from integrations.pagerduty import scopes as pd_scopes
from integrations.services.oauth_clients import oauth_client_verify
from tests.factories import OAuthClientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clear_rate_limit():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def demo_app(sandbox_settings, development):
    demo = sandbox_settings.demo_app
    return OAuthClientFactory(
        environment=development,
        client_id=demo.client_id,
        client_secret=demo.client_secret,
        secret_last4=demo.client_secret[-4:],
        subdomain="acme",
        region="us",
        scopes=pd_scopes.canonical(demo.scopes),
    )


def test_sandbox_demo_app_credentials_verify(demo_app, staff_user, sandbox_settings):
    verification = oauth_client_verify(client=demo_app, actor=staff_user)

    assert verification.outcome == "ok"
    assert verification.granted == list(pd_scopes.ALL_SCOPES)
    assert verification.missing == []
    assert sandbox_settings.count("/oauth/token", method="POST") == 1
    assert AuditEvent.objects.get().details == {"outcome": "ok", "missing": []}


def test_sandbox_refuses_a_wrong_secret(demo_app, staff_user):
    demo_app.set_client_secret("not-the-secret-0000")
    demo_app.save()

    verification = oauth_client_verify(client=demo_app, actor=staff_user)

    assert verification.outcome == "invalid_client"


@pytest.mark.parametrize(("subdomain", "region"), [("globex", "us"), ("acme", "eu")])
def test_sandbox_refuses_another_account(demo_app, staff_user, subdomain, region):
    demo_app.subdomain, demo_app.region = subdomain, region
    demo_app.save()

    verification = oauth_client_verify(client=demo_app, actor=staff_user)

    assert verification.outcome == "rejected"
    assert f"'{subdomain}'" in verification.message
