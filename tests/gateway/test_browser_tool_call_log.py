"""In Chromium: a tenant admin reads the tool-call log and adds a masking rule."""

import pytest

from integrations.gateway.models import MaskingRule
from tests.browser_fixtures import assert_accessible, save_screenshot
from tests.gateway.conftest import PASSWORD
from tests.gateway.mcp_http import call, result
from tests.gateway.test_result_masking import add_incident

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_admin_reads_the_chart_and_masks_emails_from_the_next_call(
    page, gateway, acme, alice, token, pagerduty_sandbox
):
    incident_id = add_incident(pagerduty_sandbox, "Customer carol@example.com called")
    for arguments in ({"limit": 2}, {"limit": "two"}, {"limit": 1}):
        call(gateway.mcp_url, token, "list_incidents", arguments)
    page.goto(f"{gateway.url}/accounts/login/")
    page.fill("input[name=login]", "alice")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")

    page.goto(f"{gateway.url}/tenants/{acme.pk}/agents/")
    page.click("#tool-call-log-link")
    page.wait_for_selector("#tool-call-chart")
    save_screenshot(page, "agent-tool-call-log")

    assert page.locator("#tool-call-chart rect.call-chart-calls").count() >= 48
    assert page.locator("#tool-call-chart rect.call-chart-refusals").count() == 1
    assert "3 calls, 1 refused" in page.text_content("#call-chart-desc")
    assert_accessible(page, "tool-call log")
    page.click("a:has-text('Masking rules')")
    page.select_option("select[name=kind]", "email")
    page.click("button:has-text('Add rule')")
    page.wait_for_selector("#own-rules .masking-rules")
    save_screenshot(page, "agent-masking-rules")

    assert "Email addresses" in page.text_content("#own-rules")
    assert MaskingRule.objects.get().tenant == acme
    got = result(
        call(gateway.mcp_url, token, "get_incident", {"incident_id": incident_id})
    )
    assert got["structuredContent"]["title"] == "Customer [email masked] called"
