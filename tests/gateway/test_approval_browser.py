"""In Chromium: a tenant admin sees a held agent call and approves it."""

import pytest

from integrations.gateway.models import Approval, ToolPolicy
from integrations.models import Environment, Membership
from tests.browser_fixtures import save_screenshot
from tests.factories import MembershipFactory, UserFactory
from tests.gateway.conftest import PASSWORD
from tests.gateway.mcp_http import call, result

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_tenant_admin_approves_a_held_call_in_the_browser(
    page, gateway, acme, token, pagerduty_sandbox
):
    carol = UserFactory(username="carol")
    carol.set_password(PASSWORD)
    carol.save()
    MembershipFactory(tenant=acme, user=carol, role=Membership.Role.ADMIN)
    ToolPolicy.objects.create(
        environment=Environment.objects.get(slug="development"),
        tool="acknowledge_incidents",
        action="approval",
    )
    with pagerduty_sandbox.state.lock:
        account = pagerduty_sandbox.state.account_by_subdomain("acme").id
        incident = next(
            i.id
            for i in pagerduty_sandbox.state.incidents.values()
            if i.account_id == account and i.status == "triggered"
        )
    arguments = {"incident_ids": [incident]}
    held = result(call(gateway.mcp_url, token, "acknowledge_incidents", arguments))
    approval_id = held["structuredContent"]["approval"]["id"]
    before = pagerduty_sandbox.count("/incidents", method="PUT")

    page.goto(f"{gateway.url}/tenants/{acme.pk}/")
    page.fill("input[name=login]", "carol")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    badge = page.wait_for_selector(f"#nav-approvals-{acme.pk} .nav-count")
    assert badge.text_content() == "1"
    page.click(f"#nav-approvals-{acme.pk}")
    page.click(f"tr[data-approval='{approval_id}'] a")
    page.wait_for_selector("#decision-form")
    assert incident in page.text_content("#approval-arguments")
    save_screenshot(page, "agent-approval")
    page.fill("input[name=reason]", "Looks right")
    page.click("#decision-form button[value=approve]")
    page.wait_for_selector(".messages")

    assert "Approved" in page.text_content(".messages")
    assert page.text_content("#approval-status").strip() == "approved"
    assert Approval.objects.get().decided_by == carol
    assert pagerduty_sandbox.count("/incidents", method="PUT") == before
    ran = result(
        call(
            gateway.mcp_url,
            token,
            "acknowledge_incidents",
            {**arguments, "approval_id": approval_id},
        )
    )
    assert ran["isError"] is False
    assert pagerduty_sandbox.count("/incidents", method="PUT") == before + 1
