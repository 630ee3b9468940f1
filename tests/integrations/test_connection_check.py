"""Tokens PagerDuty refuses show as Needs reconnect: at once on any request,
and through the scheduled check for tenants nobody is using."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from integrations.models import AuditEvent, Connection
from tests.factories import OAuthClientFactory, TenantFactory
from tests.integrations.pagerduty.workspace.conftest import make_connection

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_tenants(development, sandbox_settings):
    app = OAuthClientFactory(environment=development)
    connections = {}
    for slug in ("acme", "idle"):
        tenant = TenantFactory(environment=development, name=slug.title(), slug=slug)
        token = sandbox_settings.issue_token(user_email="alice@acme.example")
        connections[slug] = make_connection(
            tenant, app, api_url=sandbox_settings.url, token=token
        )
    return connections


def _revoke(sandbox, connection):
    state = sandbox.state
    with state.lock:
        grant = state.grants[state.access_index[connection.access_token]]
        state.revoke_grant(grant)


def test_the_check_flags_a_revoked_idle_tenant_and_leaves_the_others(
    two_tenants, sandbox_settings, client, staff_user
):
    _revoke(sandbox_settings, two_tenants["idle"])
    out = StringIO()

    call_command("pagerduty_check_connections", stdout=out)

    assert out.getvalue().strip() == (
        "Checked 2; need reconnect 1; PagerDuty unavailable 0."
    )
    idle = Connection.objects.get(pk=two_tenants["idle"].pk)
    assert idle.status == Connection.Status.NEEDS_RECONNECT
    assert "must reconnect" in idle.last_error
    assert Connection.objects.get(pk=two_tenants["acme"].pk).is_usable
    assert AuditEvent.objects.filter(action="connection.refresh_failed").count() == 1
    client.force_login(staff_user)
    page = client.get(
        reverse("integrations:tenant_list", args=["development"]) + "?attention=1"
    )
    html = page.content.decode()
    assert [row.tenant.slug for row in page.context["rows"]] == ["idle"]
    assert "Needs reconnect" in html


def test_the_check_counts_pagerduty_being_down_and_exits_non_zero(
    two_tenants, sandbox_settings
):
    sandbox_settings.add_fault("500", "/incidents")

    with pytest.raises(SystemExit) as exit_:
        call_command("pagerduty_check_connections", stdout=StringIO())

    assert exit_.value.code == 1
    assert all(c.is_usable for c in Connection.objects.all())


def test_the_check_can_skip_recently_refreshed_connections(two_tenants, settings):
    from django.utils import timezone

    Connection.objects.update(refreshed_at=timezone.now())
    out = StringIO()

    call_command("pagerduty_check_connections", "--idle-hours", "6", stdout=out)

    assert out.getvalue().startswith("Checked 0;")


def test_a_refused_request_shows_needs_reconnect_on_the_tenants_page_at_once(
    two_tenants, sandbox_settings, client, staff_user, tenant_admin_of_acme
):
    _revoke(sandbox_settings, two_tenants["acme"])
    client.force_login(tenant_admin_of_acme)

    workspace = client.get(
        reverse("integrations:incident_list", args=[two_tenants["acme"].tenant_id])
    )
    client.force_login(staff_user)
    tenants = client.get(reverse("integrations:tenant_list", args=["development"]))

    assert workspace.status_code in (409, 502)
    row = next(
        r
        for r in tenants.context["rows"]
        if r.tenant.pk == two_tenants["acme"].tenant_id
    )
    assert row.connection.status == Connection.Status.NEEDS_RECONNECT
    assert row.needs_attention


@pytest.fixture
def tenant_admin_of_acme(two_tenants):
    from tests.factories import MembershipFactory, UserFactory

    user = UserFactory(username="amy")
    MembershipFactory(tenant=two_tenants["acme"].tenant, user=user, role="admin")
    return user


def test_openid_is_not_counted_among_the_granted_scopes(
    client, staff_user, tenant, pagerduty_client
):
    make_connection(
        tenant,
        pagerduty_client,
        scopes="openid incidents.read incidents.write services.read",
    )
    client.force_login(staff_user)

    page = client.get(reverse("integrations:tenant_list", args=["development"]))

    (row,) = page.context["rows"]
    assert row.granted_scopes == ["incidents.read", "incidents.write", "services.read"]
    shown = f'<span class="nowrap">3 / {len(row.configured_scopes)}</span>'
    assert shown in page.content.decode()
