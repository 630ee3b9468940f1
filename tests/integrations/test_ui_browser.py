"""Staff and tenant pages in Chromium, at desktop and phone width: people
invited by email, confirmations that name what they stop, the redirect URL
edited in the portal, tenant names that open the portal's tenant page."""

import re

import pytest
from django.core import mail

from integrations.models import AuditEvent, Environment, Membership, OAuthClient
from tests.browser_fixtures import another_tab, shot
from tests.factories import MembershipFactory, UserFactory
from tests.integrations.pagerduty.workspace.conftest import connect_acme, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def acme(seeded_environments, sandbox_settings, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox = []
    return connect_acme(sandbox_settings)


@pytest.fixture
def staff(acme):
    from django.contrib.sites.models import Site

    Site.objects.get_or_create(pk=1, defaults={"domain": "example.com", "name": "x"})
    return UserFactory(username="admin", is_staff=True, is_superuser=True)


def test_an_admin_invites_someone_who_joins_and_becomes_admin(
    device_page, live_server, acme
):
    page = device_page
    sign_in(page, live_server, "alice")
    page.goto(f"{live_server.url}/tenants/{acme.pk}/")
    shot(page, "tenant-admin")
    page.click("#manage-people")
    page.fill("#id_email", "carol@acme.example")
    page.click("#invite-submit")
    page.wait_for_selector(".message-success")
    assert "carol@acme.example" in page.text_content("#invitations")
    shot(page, "tenant-people")
    (message,) = mail.outbox
    link = re.search(r"http\S+/invitations/\S+/", message.body).group(0)

    context, carol = another_tab(page)
    try:
        carol.goto(link)
        shot(carol, "invitation-accept")
        carol.fill("#id_username", "carol")
        carol.fill("#id_password1", "Long-pass-1234!")
        carol.fill("#id_password2", "Long-pass-1234!")
        carol.click("#account-submit")
        carol.wait_for_selector("#pagerduty-connection")
        assert "Welcome to Acme Corp" in carol.text_content(".messages")
    finally:
        context.close()

    page.reload()
    row = page.locator("#member-table tr", has_text="carol")
    row.locator("select").select_option("admin")
    row.locator("button", has_text="Change role").click()
    page.wait_for_selector(".message-success")
    assert Membership.objects.get(user__username="carol").role == "admin"
    assert list(
        AuditEvent.objects.filter(action__startswith="member.")
        .order_by("id")
        .values_list("action", flat=True)
    ) == ["member.invited", "member.joined", "member.role_changed"]


def test_a_member_is_told_why_reconnect_and_disconnect_are_missing(
    device_page, live_server, acme
):
    MembershipFactory(tenant=acme, user=UserFactory(username="bob"))
    sign_in(device_page, live_server, "bob")

    device_page.goto(f"{live_server.url}/tenants/{acme.pk}/")

    assert device_page.locator("#disconnect").count() == 0
    assert "tenant admins (alice)" in device_page.text_content("#admin-only")
    shot(device_page, "tenant-member")


def test_disconnect_names_what_stops_first(device_page, live_server, acme):
    sign_in(device_page, live_server, "alice")
    device_page.goto(f"{live_server.url}/tenants/{acme.pk}/")

    device_page.click("#disconnect")

    text = device_page.text_content("#disconnect-consequences")
    assert "The PagerDuty workspace closes for the tenant's 1 member." in text
    shot(device_page, "tenant-disconnect-confirm")
    device_page.click("#disconnect-cancel")
    assert device_page.locator("#open-workspace").count() == 1


def test_a_new_client_id_is_confirmed_before_save_keeping_what_was_typed(
    device_page, live_server, staff
):
    page = device_page
    sign_in(page, live_server, "admin")
    page.goto(
        f"{live_server.url}/environments/development/integrations/pagerduty/"
        "?tab=configuration"
    )
    assert page.is_hidden("#client-id-confirm")

    page.fill("#id_client_id", "new-client-id-0123456789")
    page.click("summary:has-text('Replace secret')")
    page.fill("#id_new_client_secret", "new-secret-0123456789")
    page.click("button:text('Save')")

    assert page.is_visible("#client-id-confirm-needed")
    assert "1 tenant connected now will have to reconnect." in page.text_content(
        "#client-id-confirm"
    )
    assert page.input_value("#id_new_client_secret") == "new-secret-0123456789"
    assert OAuthClient.objects.get().client_id != "new-client-id-0123456789"
    shot(page, "pagerduty-client-id-confirm")
    page.check("#id_confirm_client_id_change")
    page.click("button:text('Save')")
    page.wait_for_selector(".message-success")
    assert "every tenant has to reconnect" in page.text_content(".messages")
    assert OAuthClient.objects.get().client_id == "new-client-id-0123456789"


def test_the_redirect_url_is_set_on_the_pagerduty_page(device_page, live_server, staff):
    page = device_page
    sign_in(page, live_server, "admin")
    page.goto(
        f"{live_server.url}/environments/development/integrations/pagerduty/"
        "?tab=configuration"
    )

    page.click("#redirect-url-card summary")
    page.fill("#id_gateway_url", "https://portal.acme.example/")
    page.click("#gateway-save")
    assert "trailing slash" in page.text_content("#gateway-form")
    page.fill("#id_gateway_url", "https://portal.acme.example")
    page.click("#gateway-save")
    page.wait_for_selector(".message-success")

    assert page.input_value("#redirect-url-aside") == (
        "https://portal.acme.example/integration-callback"
    )
    assert Environment.objects.get(slug="development").gateway_url == (
        "https://portal.acme.example"
    )
    shot(page, "pagerduty-redirect-url")


def test_tenant_names_open_the_portals_tenant_page_and_disable_asks(
    device_page, live_server, staff
):
    page = device_page
    sign_in(page, live_server, "admin")
    page.goto(f"{live_server.url}/environments/development/tenants/")

    page.click("a.cell-primary:has-text('Acme Corp')")
    page.wait_for_selector("#tenant-connection")
    assert "/admin/" not in page.url
    shot(page, "tenant-detail-staff")
    page.goto(
        f"{live_server.url}/environments/development/integrations/pagerduty/"
        "?tab=configuration"
    )
    page.click("button:text('Disable')")
    assert "1 tenant connected through this app" in page.text_content(
        "#disable-consequences"
    )
    shot(page, "pagerduty-disable-confirm")
    page.click("text=Cancel")
    assert OAuthClient.objects.get().enabled is True
