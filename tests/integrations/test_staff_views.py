from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from integrations.models import Connection, OAuthClient
from tests.factories import OAuthClientFactory, TenantFactory, UserFactory

pytestmark = pytest.mark.django_db

STAFF_URLS = [
    ("integrations:integration_list", ["development"]),
    ("integrations:pagerduty_config", ["development"]),
    ("integrations:tenant_list", ["development"]),
    ("integrations:audit_list", []),
]


@pytest.mark.parametrize(("name", "args"), STAFF_URLS)
def test_anonymous_users_are_sent_to_sign_in(client, development, name, args):
    response = client.get(reverse(name, args=args))

    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


@pytest.mark.parametrize(("name", "args"), STAFF_URLS)
def test_tenant_users_are_refused(client, tenant_admin, name, args):
    client.force_login(tenant_admin)

    response = client.get(reverse(name, args=args))

    assert response.status_code == 403
    assert "This page is for the vendor" in response.content.decode()


@pytest.mark.parametrize("name", ["pagerduty_verify", "pagerduty_set_enabled"])
def test_tenant_users_cannot_post_staff_actions(
    client, tenant_admin, pagerduty_client, name
):
    client.force_login(tenant_admin)

    response = client.post(
        reverse(f"integrations:{name}", args=["development"]), {"enabled": "0"}
    )

    pagerduty_client.refresh_from_db()
    assert response.status_code == 403
    assert pagerduty_client.enabled is True


def test_config_post_needs_csrf(staff_user, development):
    from django.test import Client

    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(staff_user)

    response = csrf_client.post(
        reverse("integrations:pagerduty_config", args=["development"]),
        {"client_id": "0b1c2d3e-4f50", "new_client_secret": "whatever-123"},
    )

    assert response.status_code == 403
    assert not OAuthClient.objects.exists()


def catalog_url(slug="development"):
    return reverse("integrations:integration_list", args=[slug])


def test_catalog_shows_pagerduty_not_configured(client, staff_user, development):
    client.force_login(staff_user)

    response = client.get(catalog_url())

    html = response.content.decode()
    assert [c["integration"].name for c in response.context["cards"]] == ["PagerDuty"]
    assert "Not configured" in html
    assert reverse("integrations:pagerduty_config", args=["development"]) in html


def _event(client, action, outcome, minutes_ago):
    from datetime import timedelta

    from django.utils import timezone

    from integrations.models import AuditEvent

    return AuditEvent.objects.create(
        action=action,
        environment=client.environment,
        details={"outcome": outcome} if outcome else {},
        created_at=timezone.now() - timedelta(minutes=minutes_ago),
    )


@pytest.mark.parametrize(
    ("enabled", "events", "label"),
    [
        (True, [], "Configured"),
        (True, [("config.verified", "ok", 5)], "Verified"),
        (True, [("config.verify_failed", "invalid_client", 5)], "Failing"),
        # An old-style failed check, recorded as "verified" before the fix.
        (True, [("config.verified", "rejected", 5)], "Failing"),
        (True, [("config.verified", "ok", 9), ("config.updated", "", 5)], "Configured"),
        (
            True,
            [("config.verified", "ok", 9), ("config.secret_replaced", "", 5)],
            "Configured",
        ),
        (
            True,
            [("config.verify_failed", "x", 9), ("config.verified", "ok", 2)],
            "Verified",
        ),
        (False, [("config.verified", "ok", 5)], "Disabled"),
    ],
)
def test_catalog_shows_the_honest_state_of_this_environment(
    client, staff_user, development, enabled, events, label
):
    app = OAuthClientFactory(environment=development, enabled=enabled)
    for action, outcome, minutes_ago in events:
        _event(app, action, outcome, minutes_ago)
    client.force_login(staff_user)

    response = client.get(catalog_url())
    staging = client.get(catalog_url("staging"))

    html = response.content.decode()
    assert f"integration-status integration-{label.lower()}" in html
    assert f">{label}</span>" in html
    assert "Active" not in html
    assert "Not configured" in staging.content.decode()


def test_the_configuration_page_says_when_the_last_check_failed(
    client, staff_user, development
):
    app = OAuthClientFactory(environment=development)
    _event(app, "config.verify_failed", "invalid_client", 3)
    client.force_login(staff_user)

    html = client.get(
        reverse("integrations:pagerduty_config", args=["development"])
    ).content.decode()

    assert 'id="integration-status">Failing<' in html
    assert "last check failed 3\xa0minutes ago" in html
    assert 'id="details-state">Failing<' in html


@pytest.mark.parametrize(
    ("query", "names"),
    [("pager", ["PagerDuty"]), ("INCIDENT", ["PagerDuty"]), ("slack", [])],
)
def test_catalog_search_works_without_javascript(
    client, staff_user, development, query, names
):
    client.force_login(staff_user)

    response = client.get(catalog_url(), {"q": query})

    assert [c["integration"].name for c in response.context["cards"]] == names
    assert f'value="{query}"' in response.content.decode()


def test_catalog_remembers_the_environment_for_the_home_page(client, staff_user):
    client.force_login(staff_user)

    client.get(catalog_url("staging"))
    response = client.get(reverse("home"))

    assert response.url == catalog_url("staging")


def tenants_url():
    return reverse("integrations:tenant_list", args=["development"])


@pytest.fixture
def connections(development, pagerduty_client):
    """Three tenants: healthy, missing scopes, needing a reconnect; one idle."""
    now = timezone.now()
    alice = UserFactory(username="alice")
    healthy = Connection.objects.create(
        tenant=TenantFactory(name="Acme", slug="acme"),
        oauth_client=pagerduty_client,
        subdomain="acme",
        pd_user_name="Alice Admin",
        connected_by=alice,
        granted_scopes=pagerduty_client.scopes,
        access_expires_at=now + timedelta(hours=20),
        refresh_expires_at=now + timedelta(days=29),
    )
    partial = Connection.objects.create(
        tenant=TenantFactory(name="Globex", slug="globex"),
        oauth_client=pagerduty_client,
        subdomain="globex",
        granted_scopes="incidents.read incidents.write services.read",
    )
    broken = Connection.objects.create(
        tenant=TenantFactory(name="Initech", slug="initech"),
        oauth_client=pagerduty_client,
        granted_scopes=pagerduty_client.scopes,
        status=Connection.Status.NEEDS_RECONNECT,
        last_error="Refresh token rejected; reconnect.",
    )
    TenantFactory(name="Umbrella", slug="umbrella")
    return healthy, partial, broken


def test_tenants_page_shows_each_tenant_and_its_connection(
    client, staff_user, connections
):
    client.force_login(staff_user)

    response = client.get(tenants_url())

    rows = response.context["rows"]
    html = response.content.decode()
    assert [r.tenant.name for r in rows] == ["Acme", "Globex", "Initech", "Umbrella"]
    assert rows[0].missing_scopes == ()
    assert "schedules.write" in rows[1].missing_scopes
    assert len(rows[1].missing_scopes) == 12
    assert rows[3].connection is None
    assert "Alice Admin" in html
    assert "alice" in html
    assert "Refresh token rejected; reconnect." in html
    assert "Not connected" in html
    assert "Needs reconnect" in html


def test_tenants_filter_keeps_connections_that_need_attention(
    client, staff_user, connections
):
    client.force_login(staff_user)

    response = client.get(tenants_url(), {"attention": "1"})

    assert [r.tenant.name for r in response.context["rows"]] == ["Globex", "Initech"]


def test_tenants_page_leaves_out_other_environments_and_revoked_links(
    client, staff_user, connections, staging
):
    TenantFactory(environment=staging, name="Staging Co", slug="staging-co")
    healthy = connections[0]
    healthy.status = Connection.Status.REVOKED
    healthy.save()
    client.force_login(staff_user)

    response = client.get(tenants_url())

    rows = {r.tenant.name: r for r in response.context["rows"]}
    assert "Staging Co" not in rows
    assert rows["Acme"].connection is None


def test_tenants_page_runs_a_constant_number_of_queries(
    client, staff_user, connections, pagerduty_client, django_assert_max_num_queries
):
    client.force_login(staff_user)
    client.get(tenants_url())
    with CaptureQueriesContext(connection) as baseline:
        client.get(tenants_url())
    for n in range(20):
        Connection.objects.create(
            tenant=TenantFactory(name=f"Extra {n}", slug=f"extra-{n}"),
            oauth_client=pagerduty_client,
            connected_by=UserFactory(),
        )

    with django_assert_max_num_queries(len(baseline)):
        response = client.get(tenants_url())

    assert len(response.context["rows"]) == 24


def test_tenant_names_open_the_portals_tenant_page(
    client, staff_user, tenant, tenant_admin, pagerduty_client
):
    from integrations.models import AuditEvent
    from tests.integrations.pagerduty.workspace.conftest import make_connection

    make_connection(tenant, pagerduty_client, user=tenant_admin)
    AuditEvent.objects.create(
        action="connection.created", environment=tenant.environment, tenant=tenant
    )
    client.force_login(staff_user)
    detail = reverse("integrations:tenant_detail", args=["development", tenant.pk])

    listing = client.get(reverse("integrations:tenant_list", args=["development"]))
    audit = client.get(reverse("integrations:audit_list"))
    page = client.get(detail)

    assert f'href="{detail}"' in listing.content.decode()
    assert "admin/integrations/tenant/" not in listing.content.decode()
    assert f'href="{detail}"' in audit.content.decode()
    html = page.content.decode()
    assert page.status_code == 200
    assert "Acme Corp" in html
    assert 'id="tenant-connection"' in html
    assert "alice" in html.split('id="tenant-members"')[1]
    assert "PagerDuty connected" in html.split('id="tenant-events"')[1]


def test_a_tenant_of_another_environment_is_not_found_there(client, staff_user, tenant):
    client.force_login(staff_user)

    response = client.get(
        reverse("integrations:tenant_detail", args=["staging", tenant.pk])
    )

    assert response.status_code == 404
