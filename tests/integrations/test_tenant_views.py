import pytest
from django.urls import reverse

from integrations.models import AuditEvent, Connection
from tests.connect_fixtures import connection_snapshot
from tests.factories import TenantFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_member_sees_their_tenant_page(client, tenant_member, tenant):
    client.force_login(tenant_member)

    response = client.get(reverse("integrations:tenant_home", args=[tenant.pk]))

    assert response.status_code == 200
    assert "PagerDuty is not connected for this tenant." in response.content.decode()


def test_member_of_one_tenant_gets_404_for_another(client, tenant_member, development):
    other = TenantFactory(environment=development, name="Globex", slug="globex")
    client.force_login(tenant_member)

    response = client.get(reverse("integrations:tenant_home", args=[other.pk]))

    assert response.status_code == 404


def _page(client, tenant) -> str:
    response = client.get(reverse("integrations:tenant_home", args=[tenant.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_admin_sees_connect_button_when_configured(
    tenant_admin_client, tenant, pagerduty_client
):
    page = _page(tenant_admin_client, tenant)

    assert "Connect PagerDuty" in page
    assert reverse("integrations:tenant_connect", args=[tenant.pk]) in page


def test_member_sees_no_connect_button(client, tenant_member, tenant, pagerduty_client):
    client.force_login(tenant_member)

    page = _page(client, tenant)

    assert "Connect PagerDuty" not in page
    assert "A tenant admin can connect PagerDuty." in page


def test_admin_is_told_when_pagerduty_is_not_configured(tenant_admin_client, tenant):
    page = _page(tenant_admin_client, tenant)

    assert "Connect PagerDuty" not in page
    assert "not configured, or is switched off" in page


def test_needs_reconnect_shows_banner_and_reconnect_button(
    tenant_admin_client, tenant, connection
):
    connection.status = Connection.Status.NEEDS_RECONNECT
    connection.last_error = "PagerDuty no longer accepts this connection's token."
    connection.save()

    page = _page(tenant_admin_client, tenant)

    assert 'id="reconnect-banner"' in page
    assert "PagerDuty no longer accepts this connection&#x27;s token." in page
    assert ">Reconnect</button>" in page


def test_missing_scopes_are_listed_with_what_they_disable(
    tenant_admin_client, tenant, connection, pagerduty_client
):
    connection.granted_scopes = "openid incidents.read"
    connection.requested_scopes = pagerduty_client.scopes
    connection.save()

    page = _page(tenant_admin_client, tenant)

    assert "PagerDuty granted fewer permissions than requested" in page
    assert "incidents.write" in page
    assert "no creating, acknowledging and resolving incidents" in page
    assert "Reconnect to grant new permissions" not in page


def test_scopes_added_to_the_config_ask_for_a_reconnect(
    tenant_admin_client, tenant, connection, pagerduty_client
):
    granted = "incidents.read incidents.write services.read"
    connection.granted_scopes = f"openid {granted}"
    connection.requested_scopes = granted
    connection.save()
    pagerduty_client.scopes = f"{granted} oncalls.read"
    pagerduty_client.save()

    page = _page(tenant_admin_client, tenant)

    assert "Reconnect to grant new permissions" in page
    assert "no seeing who is on call" in page


def test_fully_granted_connection_shows_no_scope_warning(
    tenant_admin_client, tenant, connection, pagerduty_client
):
    pagerduty_client.scopes = "incidents.read incidents.write services.read"
    pagerduty_client.save()

    page = _page(tenant_admin_client, tenant)

    assert 'id="missing-scopes"' not in page
    assert "Connected to acme as Alice Admin" in page


def test_admin_disconnects_and_is_told_what_to_do_in_pagerduty(
    tenant_admin_client, tenant, connection
):
    response = tenant_admin_client.post(
        reverse("integrations:tenant_disconnect", args=[tenant.pk]),
        {"confirm": "yes"},
        follow=True,
    )

    page = response.content.decode()
    connection.refresh_from_db()
    assert connection.status == Connection.Status.REVOKED
    assert connection.access_token == ""
    assert "PagerDuty is not connected for this tenant." in page
    assert "Revoke All Tokens" in page
    assert AuditEvent.objects.filter(action="connection.disconnected").count() == 1


def test_member_cannot_disconnect(client, tenant, tenant_member, connection):
    client.force_login(tenant_member)
    before = connection_snapshot(tenant)

    response = client.post(reverse("integrations:tenant_disconnect", args=[tenant.pk]))

    assert response.status_code == 403
    assert connection_snapshot(tenant) == before


@pytest.mark.parametrize(
    ("method", "data"), [("get", {}), ("post", {}), ("post", {"confirm": "no"})]
)
def test_disconnect_first_names_what_stops_and_changes_nothing(
    tenant_admin_client, tenant, connection, method, data
):
    response = getattr(tenant_admin_client, method)(
        reverse("integrations:tenant_disconnect", args=[tenant.pk]), data
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "Disconnect PagerDuty from Acme Corp?" in html
    assert "The PagerDuty workspace closes for the tenant's 1 member." in html
    assert "AI agents" in html
    assert 'name="confirm" value="yes"' in html
    assert Connection.objects.get().status == Connection.Status.ACTIVE


def test_the_tenant_page_asks_before_disconnecting(
    tenant_admin_client, tenant, connection
):
    page = _page(tenant_admin_client, tenant)

    url = reverse("integrations:tenant_disconnect", args=[tenant.pk])
    assert f'href="{url}" id="disconnect"' in page
    assert f'action="{url}"' not in page


def test_a_member_is_told_why_reconnect_and_disconnect_are_not_shown(
    client, tenant, tenant_member, tenant_admin, connection
):
    client.force_login(tenant_member)

    page = _page(client, tenant)

    assert 'id="disconnect"' not in page
    assert "Reconnect and Disconnect are for tenant admins (alice)" in page


def test_outsider_cannot_disconnect_another_tenant(client, tenant, connection):
    client.force_login(UserFactory(username="mallory"))

    response = client.post(reverse("integrations:tenant_disconnect", args=[tenant.pk]))

    assert response.status_code == 404
    assert Connection.objects.get().status == Connection.Status.ACTIVE
