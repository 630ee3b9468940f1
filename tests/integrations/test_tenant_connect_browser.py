"""End to end through the PagerDuty sandbox: connect, approve, disconnect."""

import pytest

from integrations.models import (
    AuditEvent,
    Connection,
    Environment,
    Membership,
    OAuthClient,
    Tenant,
)
from integrations.pagerduty import scopes as pd_scopes
from tests.browser_fixtures import save_screenshot
from tests.factories import MembershipFactory, UserFactory


@pytest.fixture(autouse=True)
def _environments(seeded_environments):
    return seeded_environments


pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def sandbox_tenant(sandbox_settings, live_server):
    """Development configured with the sandbox's demo app; Acme's admin."""
    sandbox = sandbox_settings
    environment = Environment.objects.get(slug="development")
    # The portal's redirect URL is the live server's /integration-callback.
    Environment.objects.filter(pk=environment.pk).update(gateway_url=live_server.url)
    callback = f"{live_server.url}/integration-callback"
    with sandbox.state.lock:
        app = sandbox.state.app_by_client_id(sandbox.demo_app.client_id)
        app.redirect_uris.append(callback)
    client = OAuthClient(
        environment=environment,
        client_id=sandbox.demo_app.client_id,
        scopes=pd_scopes.canonical(pd_scopes.ALL_SCOPES),
        subdomain="acme",
    )
    client.set_client_secret(sandbox.demo_app.client_secret)
    client.save()
    tenant = Tenant.objects.create(
        environment=environment, name="Acme Corp", slug="acme"
    )
    MembershipFactory(
        tenant=tenant,
        user=UserFactory(username="alice", password="alice-pass-1"),
        role=Membership.Role.ADMIN,
    )
    return tenant


def test_tenant_admin_connects_and_disconnects_through_the_sandbox(
    page, live_server, sandbox_tenant, sandbox_settings
):
    tenant_url = f"{live_server.url}/tenants/{sandbox_tenant.pk}/"
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=login]", "alice")
    page.fill("input[name=password]", "alice-pass-1")
    page.click("button[type=submit]")
    page.wait_for_load_state()
    page.goto(tenant_url)
    save_screenshot(page, "tenant-not-connected")

    page.click("button:has-text('Connect PagerDuty')")
    page.wait_for_url(f"{sandbox_settings.url}/**")
    page.fill("input[name=email]", "alice@acme.example")
    page.fill("input[name=password]", "sandbox")
    page.click("button:has-text('Sign In')")
    page.wait_for_selector("button[value=approve]")
    save_screenshot(page, "tenant-sandbox-consent")
    page.click("button[value=approve]")
    page.wait_for_url(tenant_url)

    summary = page.text_content("#connection-summary")
    assert "Connected to acme as" in summary
    save_screenshot(page, "tenant-connected")
    connection = Connection.objects.get(tenant=sandbox_tenant)
    assert connection.status == Connection.Status.ACTIVE
    assert connection.subdomain == "acme"
    assert connection.pd_user_email == "alice@acme.example"
    assert connection.pd_user_name in summary
    assert connection.access_token not in page.content()

    page.click("button:has-text('Disconnect')")
    page.wait_for_selector("#after-disconnect")

    assert "PagerDuty is not connected" in page.text_content("#connection-summary")
    save_screenshot(page, "tenant-disconnected")
    connection.refresh_from_db()
    assert connection.status == Connection.Status.REVOKED
    assert connection.access_token == ""
    assert list(
        AuditEvent.objects.filter(tenant=sandbox_tenant)
        .order_by("id")
        .values_list("action", flat=True)
    ) == ["connection.created", "connection.disconnected"]


def test_denying_on_the_sandbox_ends_on_a_clear_page(
    page, live_server, sandbox_tenant, sandbox_settings
):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=login]", "alice")
    page.fill("input[name=password]", "alice-pass-1")
    page.click("button[type=submit]")
    page.wait_for_load_state()
    page.goto(f"{live_server.url}/tenants/{sandbox_tenant.pk}/")

    page.click("button:has-text('Connect PagerDuty')")
    page.fill("input[name=email]", "alice@acme.example")
    page.fill("input[name=password]", "sandbox")
    page.click("button:has-text('Sign In')")
    page.click("button[value=deny]")
    page.wait_for_selector("#connect-error")

    assert page.text_content("h1") == "You cancelled the connection"
    save_screenshot(page, "tenant-connect-cancelled")
    assert not Connection.objects.filter(tenant=sandbox_tenant).exists()
