"""End to end in Chromium: an incident acknowledged in the sandbox turns
acknowledged on the open incidents page, without a reload."""

import pytest
from playwright.sync_api import expect

from integrations.models import Membership
from integrations.pagerduty.client import PagerDutyClient
from integrations.services.webhooks import webhook_subscription_ensure
from tests.browser_fixtures import save_screenshot
from tests.factories import MembershipFactory, UserFactory
from tests.integrations.conftest import SANDBOX_SCOPES

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _open_triggered_as_bob(page, live_server, connection):
    """Subscribe the tenant, then open its triggered incidents as member Bob."""
    webhook_subscription_ensure(connection=connection)
    MembershipFactory(
        tenant=connection.tenant,
        user=UserFactory(username="bob"),
        role=Membership.Role.MEMBER,
    )
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=login]", "bob")
    page.fill("input[name=password]", "password")
    page.click("button[type=submit]")
    page.wait_for_load_state()
    page.goto(
        f"{live_server.url}/tenants/{connection.tenant.pk}"
        "/pagerduty/incidents/?status=triggered"
    )


def test_acknowledged_in_the_sandbox_shows_live_on_the_incidents_page(
    page, live_server, sandbox_settings, sandbox_connection
):
    sandbox = sandbox_settings
    _open_triggered_as_bob(page, live_server, sandbox_connection)
    row = page.locator("#incident-table tbody tr").first
    incident_id = row.get_attribute("data-incident-id")
    badge = row.locator("[data-incident-status]")
    expect(badge).to_have_text("Triggered")
    page.evaluate("window.liveMarker = 'same page'")
    token = sandbox.issue_token("alice@acme.example", SANDBOX_SCOPES)
    api = PagerDutyClient.for_connection(
        sandbox_connection, token_provider=lambda: token
    )

    with api:
        api.update_entity(
            f"/incidents/{incident_id}",
            "incident",
            {"type": "incident_reference", "status": "acknowledged"},
        )

    expect(badge).to_have_text("Acknowledged", timeout=15_000)
    expect(badge).to_have_class("badge ws-status-acknowledged")
    expect(page.locator("#live-note")).to_contain_text("Updated live at")
    assert page.evaluate("window.liveMarker") == "same page"
    save_screenshot(page, "workspace-live-update")


def test_a_new_incident_appears_at_the_top_of_the_open_list(
    page, live_server, sandbox_settings, sandbox_connection
):
    sandbox = sandbox_settings
    _open_triggered_as_bob(page, live_server, sandbox_connection)
    before = page.locator("#incident-table tbody tr").count()
    token = sandbox.issue_token("alice@acme.example", SANDBOX_SCOPES)
    api = PagerDutyClient.for_connection(
        sandbox_connection, token_provider=lambda: token
    )
    with sandbox.state.lock:
        service = next(
            s
            for s in sandbox.state.services.values()
            if s.account_id == sandbox_connection.account_id
        )

    with api:
        created = api.create_entity(
            "/incidents",
            "incident",
            {
                "type": "incident",
                "title": "Queue backlog growing on workers",
                "service": {"id": service.id, "type": "service_reference"},
            },
        )

    first = page.locator("#incident-table tbody tr").first
    expect(first).to_have_attribute("data-incident-id", created["id"], timeout=15_000)
    expect(first).to_contain_text("Queue backlog growing on workers")
    expect(first).to_contain_text(service.name)
    expect(page.locator("#live-note")).to_contain_text("New incidents added at")
    assert page.locator("#incident-table tbody tr").count() == before + 1
    save_screenshot(page, "workspace-live-new-incident")
