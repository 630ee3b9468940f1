"""An admin configures, verifies, disables and audits PagerDuty in a browser."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from integrations.models import AuditEvent, Connection, OAuthClient, Tenant
from integrations.pagerduty import scopes as pd_scopes
from integrations.services.audit import audit_record
from tests.browser_fixtures import save_screenshot
from tests.factories import TenantFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, live_server, username, password):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=login]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")


@pytest.fixture
def admin(portal_rows):
    cache.clear()
    yield UserFactory(
        username="admin", password="admin-pass-1", is_staff=True, is_superuser=True
    )
    cache.clear()


def test_admin_configures_and_verifies_pagerduty_against_the_sandbox(
    page, live_server, admin, sandbox_settings
):
    demo = sandbox_settings.demo_app
    sign_in(page, live_server, "admin", "admin-pass-1")

    # The home page is the catalog of the first environment.
    page.wait_for_url(f"{live_server.url}/environments/development/integrations/")
    assert page.text_content(".integration-status").strip() == "Not configured"

    # Live search hides the card; the empty state shows.
    page.fill("#integration-search", "slack")
    assert page.is_hidden(".integration-card")
    assert page.is_visible("#integration-empty")
    page.fill("#integration-search", "")

    page.click("text=PagerDuty")
    assert "Setup guide" in page.text_content(".tabs [aria-current]")
    assert page.input_value("#redirect-url") == (
        "http://127.0.0.1:8000/integration-callback"
    )
    save_screenshot(page, "pagerduty-setup-guide")

    page.click(".tabs >> text=Configuration")
    assert page.input_value("#selected-scope") == (
        "incidents.read incidents.write services.read"
    )
    page.fill("#id_client_id", demo.client_id)
    page.fill("#id_new_client_secret", demo.client_secret)
    page.fill("#id_subdomain", "acme")
    page.click("[data-preset] >> text=All")
    assert page.input_value("#selected-scope") == " ".join(pd_scopes.ALL_SCOPES)
    page.uncheck("input[value='teams.write']")
    expected = " ".join(s for s in pd_scopes.ALL_SCOPES if s != "teams.write")
    assert page.input_value("#selected-scope") == expected
    page.click("text=Minimum")
    assert page.input_value("#selected-scope") == (
        "incidents.read incidents.write services.read"
    )
    page.click("[data-preset] >> text=All")
    page.click("button:text('Save')")

    assert "PagerDuty is configured for Development" in page.text_content(".messages")
    assert demo.client_secret not in page.content()
    assert f"•••• {demo.client_secret[-4:]}" in page.text_content("#secret-status")

    page.click("#verify-button")
    result = page.text_content("#verification-result")
    assert "Credentials verified" in result
    assert "account us.acme" in result
    assert "not granted" not in result
    assert demo.client_secret not in page.content()
    assert "15 of 15 selected scopes granted." in result
    save_screenshot(page, "pagerduty-config")

    page.click(".nav >> text=Integrations")
    assert page.text_content(".integration-status").strip() == "Verified"
    save_screenshot(page, "catalog")
    page.click("text=PagerDuty")
    page.click("button:text('Disable')")
    assert "cannot connect PagerDuty" in page.text_content("#disable-consequences")
    save_screenshot(page, "pagerduty-disable-confirm")
    page.click("#disable-confirm")
    assert page.text_content("#integration-status").strip() == "Disabled"
    app = OAuthClient.objects.get()
    assert app.enabled is False
    assert app.client_secret == demo.client_secret
    assert list(AuditEvent.objects.order_by("id").values_list("action", flat=True)) == [
        "config.created",
        "config.verified",
        "config.disabled",
    ]


def test_bad_input_is_explained_next_to_the_field(page, live_server, admin):
    sign_in(page, live_server, "admin", "admin-pass-1")
    page.goto(f"{live_server.url}/environments/staging/integrations/pagerduty/")
    page.click(".tabs >> text=Configuration")

    page.fill("#id_client_id", "not a client id")
    page.fill("#id_new_client_secret", "typed-secret-123")
    page.uncheck("input[value='services.read']")
    page.click("button:text('Save')")

    assert "Nothing was saved" in page.text_content(".callout-danger")
    assert "Enter the Client ID exactly" in page.text_content(".field-invalid")
    assert page.input_value("#id_client_id") == "not a client id"
    assert page.input_value("#id_new_client_secret") == ""
    assert "typed-secret-123" not in page.content()
    assert page.input_value("#selected-scope") == "incidents.read incidents.write"
    assert not OAuthClient.objects.exists()


def test_tenants_and_audit_pages(page, live_server, admin, development):
    app = OAuthClient(
        environment=development,
        client_id="0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0",
        scopes=pd_scopes.canonical(pd_scopes.ALL_SCOPES),
        subdomain="acme",
    )
    app.set_client_secret("demo-secret-value-0001")
    app.save()
    now = timezone.now()
    alice = UserFactory(username="alice")
    Connection.objects.create(
        tenant=TenantFactory(name="Acme Corp", slug="acme"),
        oauth_client=app,
        subdomain="acme",
        pd_user_name="Alice Admin",
        connected_by=alice,
        granted_scopes=app.scopes,
        access_expires_at=now + timedelta(hours=20),
        refresh_expires_at=now + timedelta(days=29),
    )
    Connection.objects.create(
        tenant=TenantFactory(name="Globex", slug="globex"),
        oauth_client=app,
        subdomain="globex",
        region="eu",
        pd_user_name="Greta Globex",
        connected_by=UserFactory(username="greta"),
        granted_scopes="incidents.read incidents.write services.read",
        access_expires_at=now + timedelta(hours=3),
        refresh_expires_at=now + timedelta(days=12),
    )
    Connection.objects.create(
        tenant=TenantFactory(name="Initech", slug="initech"),
        oauth_client=app,
        subdomain="initech",
        pd_user_name="Ian Initech",
        connected_by=UserFactory(username="ian"),
        granted_scopes=app.scopes,
        status=Connection.Status.NEEDS_RECONNECT,
        last_error="PagerDuty refused the refresh token; reconnect.",
        access_expires_at=now - timedelta(hours=2),
        refresh_expires_at=now - timedelta(hours=2),
    )
    TenantFactory(name="Umbrella", slug="umbrella")
    for actor, action, tenant, details in [
        (admin, "config.created", None, {"fields": ["client_id", "scopes"]}),
        (admin, "config.verified", None, {"outcome": "ok", "missing": []}),
        (alice, "connection.created", "Acme Corp", {}),
    ]:
        audit_record(
            actor=actor,
            action=action,
            target=tenant or str(app),
            environment=development,
            tenant=Tenant.objects.get(name=tenant) if tenant else None,
            details=details,
        )
    sign_in(page, live_server, "admin", "admin-pass-1")

    page.click(".nav >> text=Tenants")
    assert page.locator(".tenant-table tbody tr").count() == 4
    save_screenshot(page, "tenants")
    page.click("text=Needs attention")
    assert page.locator(".tenant-table tbody tr").count() == 2

    # Generate a few audit events through the UI, then read them.
    page.goto(f"{live_server.url}/environments/development/integrations/pagerduty/")
    page.click("button:text('Disable')")
    page.click("#disable-confirm")
    page.click("button:text('Enable')")
    page.click(".nav >> text=Audit log")
    assert page.locator(".audit-table tbody tr").count() == 5
    page.select_option("#id_action", "config.disabled")
    page.click("button:text('Filter')")
    assert page.locator(".audit-table tbody tr").count() == 1
    page.goto(f"{live_server.url}/audit/")
    save_screenshot(page, "audit-log")


def test_environment_switcher_keeps_the_section(page, live_server, admin):
    sign_in(page, live_server, "admin", "admin-pass-1")
    page.click(".nav >> text=Tenants")

    page.click(".env-switcher summary")
    page.click(".env-switcher >> text=Production")

    page.wait_for_url(f"{live_server.url}/environments/production/tenants/")
    assert page.text_content(".topbar .env-badge").strip() == "Production"


def test_phone_layout_keeps_the_form_usable(browser, live_server, admin):
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        sign_in(page, live_server, "admin", "admin-pass-1")
        page.goto(
            f"{live_server.url}/environments/development/integrations/pagerduty/"
            "?tab=configuration"
        )
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390
        save_screenshot(page, "pagerduty-config-phone")
    finally:
        context.close()


def test_everything_works_with_javascript_off(browser, live_server, admin):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        sign_in(page, live_server, "admin", "admin-pass-1")
        page.goto(
            f"{live_server.url}/environments/development/integrations/?q=incident"
        )
        assert page.locator(".integration-card").count() == 1
        page.goto(
            f"{live_server.url}/environments/development/integrations/pagerduty/"
            "?tab=configuration"
        )
        assert page.is_hidden("[data-presets]")
        assert page.is_hidden("[data-copy]")

        page.fill("#id_client_id", "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0")
        page.fill("#id_new_client_secret", "first-secret-0001")
        page.check("input[value='oncalls.read']")
        page.click("button:text('Save')")
        assert "PagerDuty is configured" in page.text_content(".messages")
        assert page.input_value("#selected-scope") == (
            "incidents.read incidents.write services.read oncalls.read"
        )

        # Without JavaScript the Client ID confirmation is always visible.
        assert page.is_visible("#client-id-confirm")
        page.fill("#id_client_id", "another-client-0002")
        page.click("summary:text('Replace secret')")
        page.fill("#id_new_client_secret", "second-secret-0002")
        page.check("#id_confirm_client_id_change")
        page.click("button:text('Save')")
        assert "every tenant has to reconnect" in page.text_content(".messages")
    finally:
        context.close()
    app = OAuthClient.objects.get()
    assert (app.client_id, app.client_secret) == (
        "another-client-0002",
        "second-secret-0002",
    )


def test_client_id_confirmation_appears_once_the_id_is_edited(
    page, live_server, admin, development
):
    app = OAuthClient(
        environment=development, client_id="0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"
    )
    app.set_client_secret("stored-secret-0001")
    app.save()
    sign_in(page, live_server, "admin", "admin-pass-1")
    page.goto(f"{live_server.url}/environments/development/integrations/pagerduty/")

    assert page.is_hidden("#client-id-confirm")
    page.fill("#id_client_id", "another-client-0002")
    assert page.is_visible("#client-id-confirm")
    page.click("button:text('Save')")

    assert "Tick the box to confirm" in page.text_content("#client-id-confirm")
    assert page.is_visible("#client-id-confirm")
    app.refresh_from_db()
    assert app.client_id == "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"
