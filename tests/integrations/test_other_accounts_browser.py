"""End to end: tenants on other PagerDuty accounts, through the sandbox.

Globex (EU) registers its own Scoped app as its account's owner and
connects through it; Initech connects through Production's Classic app.
Both then see their own account's incidents in the workspace.
"""

import re
from io import StringIO

import pytest
from django.core.management import call_command

from integrations.models import AuditEvent, Connection, Environment, OAuthClient, Tenant
from integrations.pagerduty import scopes as pd_scopes
from pagerduty_sandbox.seed import classic_app_credentials
from tests.browser_fixtures import save_screenshot

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

PORTAL_SCOPES = pd_scopes.ALL_SCOPES


@pytest.fixture(autouse=True)
def _environments(seeded_environments):
    return seeded_environments


@pytest.fixture
def demo(sandbox_settings, live_server):
    """`make demo`'s setup, with the portal on the live server's port."""
    sandbox = sandbox_settings
    call_command("seed_demo", stdout=StringIO())
    call_command(
        "pagerduty_sandbox_configure_demo",
        seed=sandbox.options.seed,
        sandbox_url=sandbox.url,
        stdout=StringIO(),
    )
    Environment.objects.update(gateway_url=live_server.url)
    return sandbox


def _sign_in(page, live_server, username):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=login]", username)
    page.fill("input[name=password]", username)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def _account_incidents(sandbox, subdomain) -> set[str]:
    with sandbox.state.lock:
        account = sandbox.state.account_by_subdomain(subdomain)
        return {
            i.id for i in sandbox.state.incidents.values() if i.account_id == account.id
        }


def _workspace_incident_ids(page, tenant_url) -> set[str]:
    page.goto(f"{tenant_url}pagerduty/incidents/?status=all")
    page.wait_for_selector("#incident-table tbody tr")
    rows = page.locator("#incident-table tbody tr")
    return {rows.nth(i).get_attribute("data-incident-id") for i in range(rows.count())}


def test_globex_registers_its_own_app_verifies_and_connects(page, live_server, demo):
    sandbox = demo
    OAuthClient.objects.filter(tenant__slug="globex").delete()
    tenant = Tenant.objects.get(slug="globex")
    tenant_url = f"{live_server.url}/tenants/{tenant.pk}/"
    _sign_in(page, live_server, "gina")
    page.goto(tenant_url)
    page.click("#open-tenant-app")
    redirect_url = page.input_value("#redirect-url")
    save_screenshot(page, "tenant-own-app-guide")

    page.goto(f"{sandbox.url}/developer/applications")
    page.fill("#email", "gina@globex.example")
    page.fill("#password", "sandbox")
    page.click("button:has-text('Sign In')")
    page.click("text=New App")
    page.fill("#name", "Globex on the portal")
    page.fill("#description", "Our tenant of the vendor's portal")
    page.check("#functionality-oauth2")
    page.click("button:has-text('Next')")
    page.fill("#redirect-url-1", redirect_url)
    for scope in PORTAL_SCOPES:
        page.check(f"input[name=scope][value='{scope}']")
    page.click("button:has-text('Register App')")
    client_id = page.input_value("#client-id")
    secret = page.input_value("#client-secret")

    page.goto(f"{tenant_url}app/?tab=configuration")
    page.fill("#id_client_id", client_id)
    page.fill("#id_new_client_secret", secret)
    page.check("input[name=region][value=eu]")
    page.fill("#id_subdomain", "globex")
    for scope in PORTAL_SCOPES:
        page.check(f"input[name=scopes][value='{scope}']")
    page.click("button:has-text('Save')")
    page.wait_for_selector(".messages")
    page.click("#verify-button")
    page.wait_for_selector("#verification-result")
    assert "Credentials verified" in page.text_content("#verification-result")
    assert "account eu.globex" in page.text_content("#verification-result")
    assert secret not in page.content()
    save_screenshot(page, "tenant-own-app-verified")

    page.goto(tenant_url)
    assert "Your own app" in page.text_content("#tenant-app-card")
    page.click("button:has-text('Connect PagerDuty')")
    page.wait_for_selector("button[value=approve]")
    page.click("button[value=approve]")
    page.wait_for_url(tenant_url)

    assert "Connected to globex as Gina Gold" in page.text_content(
        "#connection-summary"
    )
    save_screenshot(page, "tenant-own-app-connected")
    connection = Connection.objects.get(tenant=tenant, kind="tenant")
    own = OAuthClient.objects.get(tenant=tenant)
    assert connection.oauth_client == own
    assert (connection.region, connection.api_url) == ("eu", sandbox.eu_api_url)
    shown = _workspace_incident_ids(page, tenant_url)
    save_screenshot(page, "tenant-own-app-workspace")
    assert shown
    assert shown <= _account_incidents(sandbox, "globex")
    actions = set(
        AuditEvent.objects.filter(tenant=tenant).values_list("action", flat=True)
    )
    assert {"config.created", "config.verified", "connection.created"} <= actions


def test_initech_connects_through_a_classic_environment_app(page, live_server, demo):
    sandbox = demo
    with sandbox.state.lock:
        app = sandbox.state.app_by_client_id(classic_app_credentials(1).client_id)
        app.redirect_uris.append(f"{live_server.url}/integration-callback")
    tenant = Tenant.objects.get(slug="initech")
    tenant_url = f"{live_server.url}/tenants/{tenant.pk}/"
    _sign_in(page, live_server, "ian")
    page.goto(tenant_url)

    page.click("button:has-text('Connect PagerDuty')")
    page.wait_for_url(f"{sandbox.url}/**")
    page.fill("input[name=email]", "ian@initech.example")
    page.fill("input[name=password]", "sandbox")
    page.click("button:has-text('Sign In')")
    page.wait_for_selector("button[value=approve]")
    assert "read and change everything you can" in page.content()
    save_screenshot(page, "tenant-classic-consent")
    page.click("button[value=approve]")
    page.wait_for_url(tenant_url)

    assert "Connected to initech as Ian Irwin" in page.text_content(
        "#connection-summary"
    )
    connection = Connection.objects.get(tenant=tenant, kind="tenant")
    assert connection.granted_scopes == "openid write"
    assert connection.oauth_client.app_type == "classic"
    shown = _workspace_incident_ids(page, tenant_url)
    save_screenshot(page, "tenant-classic-workspace")
    assert shown
    assert shown <= _account_incidents(sandbox, "initech")

    with sandbox.state.lock:
        triggered = sorted(
            i for i in shown if sandbox.state.incidents[i].status == "triggered"
        )
    assert triggered
    page.goto(f"{tenant_url}pagerduty/incidents/{triggered[0]}/")
    page.click("#action-acknowledge")
    page.wait_for_selector(".messages")

    assert re.search(r"Incident #\d+ acknowledged\.", page.text_content(".messages"))
    with sandbox.state.lock:
        incident = sandbox.state.incidents[triggered[0]]
        ian = sandbox.state.user_by_email("ian@initech.example")
        assert incident.status == "acknowledged"
        assert incident.log_entries[-1].agent == ("user", ian.id)


def test_staff_ask_a_tenant_to_reconnect_and_its_admin_sees_the_banner(
    page, live_server, demo, mailoutbox
):
    from datetime import timedelta

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    acme = Tenant.objects.get(slug="acme")
    app = OAuthClient.objects.get(environment__slug="development", tenant=None)
    Connection.objects.create(
        tenant=acme,
        oauth_client=app,
        account_id="PACME01",
        subdomain="acme",
        api_url=demo.url,
        pd_user_id="PALICE",
        pd_user_name="Alice Anders",
        access_token="unused",
        refresh_token="unused",
        access_expires_at=timezone.now() + timedelta(hours=1),
        granted_scopes="openid incidents.read incidents.write services.read",
        requested_scopes="incidents.read incidents.write services.read",
    )
    get_user_model().objects.filter(username="admin").update(is_staff=True)
    _sign_in(page, live_server, "admin")
    page.goto(f"{live_server.url}/environments/development/tenants/")
    assert f"reconsent-{acme.pk}" in page.content()

    page.click("#ask-to-reconnect")
    page.wait_for_selector(".messages")

    assert "Asked 1 tenant(s) to reconnect; 1 email(s) sent." in page.content()
    save_screenshot(page, "tenants-reconsent")
    assert [m.to for m in mailoutbox] == [["alice@acme.example"]]
    page.context.clear_cookies()
    _sign_in(page, live_server, "alice")
    page.goto(f"{live_server.url}/tenants/{acme.pk}/")
    assert "Reconnect PagerDuty to grant new permissions" in page.text_content(
        "#reconsent-banner"
    )
