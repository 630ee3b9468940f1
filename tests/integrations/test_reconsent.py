"""Re-consent: ask tenants missing an app's new scopes to reconnect."""

import pytest
from django.urls import reverse

from integrations.models import AuditEvent, Membership, ReconsentRequest
from integrations.pagerduty import scopes as pd_scopes
from integrations.services.reconsent import RECONSENT_LIMIT
from tests.connect_fixtures import callback, start_connect
from tests.factories import MembershipFactory, TenantFactory, UserFactory

pytestmark = pytest.mark.django_db

GRANTED = "openid incidents.read incidents.write services.read"
TENANTS_URL = reverse("integrations:tenant_list", args=["development"])
ASK_URL = reverse("integrations:tenant_reconsent", args=["development"])


@pytest.fixture
def widened(connection, pagerduty_client):
    """The environment's app gained oncalls.read after the tenant connected."""
    pagerduty_client.scopes = pd_scopes.canonical(
        [*pd_scopes.MINIMUM_SCOPES, "oncalls.read"]
    )
    pagerduty_client.save()
    connection.requested_scopes = pd_scopes.canonical(pd_scopes.MINIMUM_SCOPES)
    connection.granted_scopes = GRANTED
    connection.save()
    return connection


@pytest.fixture
def admins(tenant, tenant_admin, second_admin):
    tenant_admin.email = "alice@acme.example"
    tenant_admin.save()
    second_admin.email = "carol@acme.example"
    second_admin.save()
    return [tenant_admin, second_admin]


def _ask(client, *tenants):
    return client.post(ASK_URL, {"tenant": [str(t.pk) for t in tenants]})


def test_the_tenants_page_lists_tenants_missing_the_new_scope(
    admin_client, tenant, widened
):
    html = admin_client.get(TENANTS_URL).content.decode()

    row = html[html.index(f'id="reconsent-{tenant.pk}"') :]
    assert "<code>oncalls.read</code>" in row[: row.index("</tr>")]
    assert f'name="tenant" value="{tenant.pk}" checked' in row
    assert 'id="ask-to-reconnect"' in html


def test_a_tenant_holding_every_scope_is_not_listed(
    admin_client, connection, pagerduty_client
):
    pagerduty_client.scopes = pd_scopes.canonical(pd_scopes.MINIMUM_SCOPES)
    pagerduty_client.save()

    html = admin_client.get(TENANTS_URL).content.decode()

    assert 'id="reconsent-none"' in html
    assert 'id="ask-to-reconnect"' not in html


def test_asking_emails_each_admin_a_link_and_puts_a_banner_up(
    admin_client, client, tenant, widened, admins, tenant_member, mailoutbox
):
    response = _ask(admin_client, tenant)

    assert response.status_code == 302
    assert sorted(m.to[0] for m in mailoutbox) == [
        "alice@acme.example",
        "carol@acme.example",
    ]
    message = mailoutbox[0]
    home = reverse("integrations:tenant_home", args=[tenant.pk])
    assert (
        message.subject == "Reconnect PagerDuty for Acme Corp to grant new permissions"
    )
    assert f"{tenant.environment.base_url}{home}" in message.body
    assert "oncalls.read" in message.body
    ask = ReconsentRequest.objects.get()
    assert (ask.status, ask.scopes, ask.is_open) == ("sent", "oncalls.read", True)
    event = AuditEvent.objects.get(action="reconsent.requested")
    assert event.details["sent"] == ["alice", "carol"]
    client.force_login(tenant_member)
    banner = client.get(home).content.decode()
    assert 'id="reconsent-banner"' in banner
    assert "A tenant admin must reconnect PagerDuty" in banner


def test_addresses_that_fail_are_reported_on_the_page(
    admin_client, tenant, widened, admins, settings, mailoutbox
):
    settings.EMAIL_BACKEND = "tests.mail_backends.BouncingBackend"
    admins[1].email = "carol@bounce.example"
    admins[1].save()
    MembershipFactory(
        tenant=tenant, user=UserFactory(username="dan", email=""), role="admin"
    )

    response = _ask(admin_client, tenant)
    page = admin_client.get(response["Location"]).content.decode()
    later = admin_client.get(TENANTS_URL).content.decode()

    ask = ReconsentRequest.objects.get()
    outcomes = {r["username"]: (r["outcome"], r["error"]) for r in ask.recipients}
    assert ask.status == "partial"
    assert outcomes == {
        "alice": ("sent", ""),
        "carol": ("failed", "SMTPRecipientsRefused"),
        "dan": ("no_address", "no email address"),
    }
    assert [m.to for m in mailoutbox] == [["alice@acme.example"]]
    assert "no email reached carol@bounce.example (SMTPRecipientsRefused)" in page
    failures = later[later.index('id="reconsent-failures"') :]
    assert "carol@bounce.example" in failures
    assert "no email address in the portal" in failures


def test_a_tenant_without_any_address_is_recorded_as_not_emailed(
    admin_client, tenant, widened, tenant_admin, mailoutbox
):
    tenant_admin.email = ""
    tenant_admin.save()

    _ask(admin_client, tenant)

    assert ReconsentRequest.objects.get().status == "failed"
    assert mailoutbox == []


def test_a_tenant_is_asked_at_most_once_a_day(
    admin_client, tenant, widened, admins, mailoutbox
):
    _ask(admin_client, tenant)
    second = _ask(admin_client, tenant)

    page = admin_client.get(second["Location"]).content.decode()
    assert ReconsentRequest.objects.count() == 1
    assert len(mailoutbox) == 2
    assert "Not asked again within a day: Acme Corp." in page
    listing = admin_client.get(TENANTS_URL).content.decode()
    assert 'id="reconsent-all-asked"' in listing
    assert 'id="ask-to-reconnect"' not in listing


def test_asking_is_rate_limited_per_environment(
    admin_client, tenant, widened, admins, mailoutbox
):
    ReconsentRequest.objects.all().delete()
    for _ in range(RECONSENT_LIMIT[0]):
        _ask(admin_client, tenant)
        ReconsentRequest.objects.all().delete()
    sent = len(mailoutbox)

    refused = _ask(admin_client, tenant)

    page = admin_client.get(refused["Location"]).content.decode()
    assert "nothing was sent" in page
    assert len(mailoutbox) == sent
    assert not ReconsentRequest.objects.exists()


def test_tenants_not_missing_scopes_or_of_another_environment_are_skipped(
    admin_client, tenant, connection, pagerduty_client, staging, mailoutbox
):
    pagerduty_client.scopes = pd_scopes.canonical(pd_scopes.MINIMUM_SCOPES)
    pagerduty_client.save()
    foreign = TenantFactory(environment=staging)
    MembershipFactory(
        tenant=foreign,
        user=UserFactory(username="eve", email="eve@x.example"),
        role=Membership.Role.ADMIN,
    )

    _ask(admin_client, tenant, foreign)

    assert mailoutbox == []
    assert not ReconsentRequest.objects.exists()


def test_an_empty_ask_is_refused(admin_client, widened, mailoutbox):
    response = admin_client.post(ASK_URL, {"tenant": ["x"]}, follow=True)

    assert "Choose at least one tenant to ask." in response.content.decode()
    assert mailoutbox == []


def test_the_reconnect_after_an_ask_is_counted(
    admin_client,
    tenant_admin_client,
    tenant,
    widened,
    admins,
    fake_identity,
    mailoutbox,
):
    _ask(admin_client, tenant)
    assert "alice@acme.example" in [m.to[0] for m in mailoutbox]
    before = admin_client.get(TENANTS_URL).content.decode()
    state = start_connect(tenant_admin_client, tenant)["state"][0]
    fake_identity.mock_success(scope=f"{GRANTED} oncalls.read")

    callback(tenant_admin_client, code="code-abcdef", state=state)

    ask = ReconsentRequest.objects.get()
    assert ask.reconnected_at is not None
    assert (ask.reconnected_by.username, ask.still_missing) == ("alice", "")
    page = admin_client.get(TENANTS_URL).content.decode()
    assert "0 of 1 asked tenants reconnected" in before
    assert "1 of 1 asked tenants reconnected" in page
    reconnected = admin_client.get(
        TENANTS_URL, {"reconsent": "reconnected"}
    ).content.decode()
    waiting = admin_client.get(TENANTS_URL, {"reconsent": "waiting"}).content.decode()
    assert f'id="tenant-{tenant.pk}"' in reconnected
    assert f'id="tenant-{tenant.pk}"' not in waiting
    home = tenant_admin_client.get(
        reverse("integrations:tenant_home", args=[tenant.pk])
    ).content.decode()
    assert 'id="reconsent-banner"' not in home


def test_a_reconnect_that_still_lacks_the_scope_records_it(
    admin_client, tenant_admin_client, tenant, widened, admins, fake_identity
):
    _ask(admin_client, tenant)
    state = start_connect(tenant_admin_client, tenant)["state"][0]
    fake_identity.mock_success(scope=GRANTED)

    callback(tenant_admin_client, code="code-abcdef", state=state)

    ask = ReconsentRequest.objects.get()
    assert ask.reconnected_at is not None
    assert ask.still_missing == "oncalls.read"
