"""End to end through the PagerDuty sandbox: connect, approve, disconnect."""

import re
from io import StringIO

import pytest
from django.core.management import call_command

from integrations.models import AuditEvent, Connection, Environment, Tenant
from tests.browser_fixtures import save_screenshot

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture(autouse=True)
def _environments(seeded_environments):
    return seeded_environments


@pytest.fixture
def sandbox_tenant(sandbox_settings, live_server):
    """The portal and sandbox set up as `make demo` sets them up.

    The one difference: the portal runs on the live server's port, so its
    /integration-callback is added to the demo app's redirect URLs, as a
    PagerDuty admin would add it on the App Registration page.
    """
    sandbox = sandbox_settings
    call_command("seed_demo", stdout=StringIO())
    call_command(
        "pagerduty_sandbox_configure_demo",
        seed=sandbox.options.seed,
        sandbox_url=sandbox.url,
        stdout=StringIO(),
    )
    Environment.objects.filter(slug="development").update(gateway_url=live_server.url)
    with sandbox.state.lock:
        app = sandbox.state.app_by_client_id(sandbox.demo_app.client_id)
        app.redirect_uris.append(f"{live_server.url}/integration-callback")
    return Tenant.objects.get(slug="acme", environment__slug="development")


def _sign_in_as_alice(page, live_server):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=login]", "alice")
    page.fill("input[name=password]", "alice")
    page.click("button[type=submit]")
    page.wait_for_load_state()


def test_tenant_admin_connects_and_disconnects_through_the_sandbox(
    page, live_server, sandbox_tenant, sandbox_settings
):
    tenant_url = f"{live_server.url}/tenants/{sandbox_tenant.pk}/"
    _sign_in_as_alice(page, live_server)
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

    page.click("#disconnect")
    page.wait_for_selector("#disconnect-consequences")
    assert "The PagerDuty workspace closes" in page.text_content(
        "#disconnect-consequences"
    )
    save_screenshot(page, "tenant-disconnect-confirm")
    page.click("#disconnect-confirm")
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
    ) == [
        "connection.created",
        "webhook.subscribed",
        "webhook.unsubscribed",
        "connection.disconnected",
    ]
    with sandbox_settings.state.lock:
        assert sandbox_settings.state.webhook_subscriptions == {}


def test_denying_on_the_sandbox_ends_on_a_clear_page(
    page, live_server, sandbox_tenant, sandbox_settings
):
    _sign_in_as_alice(page, live_server)
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


def _sign_in(page, live_server, username):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=login]", username)
    page.fill("input[name=password]", username)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def _approve_on_the_sandbox(page, sandbox, email):
    page.wait_for_url(f"{sandbox.url}/**")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", "sandbox")
    page.click("button:has-text('Sign In')")
    page.click("button[value=approve]")


def test_bob_links_his_own_account_and_acknowledges_as_himself(
    page, live_server, sandbox_tenant, sandbox_settings
):
    sandbox = sandbox_settings
    tenant_url = f"{live_server.url}/tenants/{sandbox_tenant.pk}/"
    _sign_in(page, live_server, "alice")
    page.goto(tenant_url)
    page.click("button:has-text('Connect PagerDuty')")
    _approve_on_the_sandbox(page, sandbox, "alice@acme.example")
    page.wait_for_url(tenant_url)
    page.context.clear_cookies()

    _sign_in(page, live_server, "bob")
    page.goto(tenant_url)
    save_screenshot(page, "tenant-link-offer")
    page.goto(f"{tenant_url}pagerduty/incidents/?status=triggered")
    row = page.locator("#incident-table tbody tr").first
    incident_id = row.get_attribute("data-incident-id")
    page.goto(f"{tenant_url}pagerduty/incidents/{incident_id}/")
    assert "Link your PagerDuty account to act as yourself." in page.content()
    assert page.locator("#action-acknowledge").count() == 0

    page.goto(tenant_url)
    page.click("#link-me")
    _approve_on_the_sandbox(page, sandbox, "bob@acme.example")
    page.wait_for_url(tenant_url)
    assert "You act in PagerDuty as Bob Baker (Manager)" in page.text_content(
        "#link-summary"
    )
    save_screenshot(page, "tenant-linked-as-bob")
    page.goto(f"{tenant_url}pagerduty/incidents/{incident_id}/")
    page.click("#action-acknowledge")
    page.wait_for_selector(".messages")

    assert re.search(r"Incident #\d+ acknowledged\.", page.content())
    save_screenshot(page, "workspace-acknowledged-as-bob")
    with sandbox.state.lock:
        incident = sandbox.state.incidents[incident_id]
        bob = sandbox.state.user_by_email("bob@acme.example")
        entry = incident.log_entries[-1]
        assert incident.status == "acknowledged"
        assert entry.type == "acknowledge_log_entry"
        assert entry.agent == ("user", bob.id)
    event = AuditEvent.objects.get(action="resource.changed")
    assert event.actor.username == "bob"
    assert event.details["pd_user_id"] == bob.id
