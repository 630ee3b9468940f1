"""A tenant's own PagerDuty app: staff's switch, the tenant admin's page."""

import pytest
from django.urls import reverse
from responses import matchers

from integrations.models import AuditEvent, Connection, OAuthClient
from integrations.pagerduty import scopes as pd_scopes
from integrations.selectors import oauth_client_for_connect
from tests.connect_fixtures import API, TOKEN_URL, callback, start_connect
from tests.factories import CLIENT_SECRET, OAuthClientFactory, TenantFactory
from tests.helpers import raw_column

pytestmark = pytest.mark.django_db

OWN_SECRET = "CANARY-CS-own-app-secret-0001"
MINIMUM = ["incidents.read", "incidents.write", "services.read"]


@pytest.fixture
def allowed(development):
    development.tenant_apps_allowed = True
    development.save()
    return development


def _app_url(tenant, name="tenant_app"):
    return reverse(f"integrations:{name}", args=[tenant.pk])


def _save(client, tenant, **overrides):
    data = {
        "app_type": "scoped",
        "client_id": "globex-own-client-01",
        "new_client_secret": OWN_SECRET,
        "region": "eu",
        "subdomain": "globex",
        "scopes": MINIMUM,
        **overrides,
    }
    return client.post(_app_url(tenant), data)


@pytest.fixture
def own_app(allowed, tenant):
    return OAuthClientFactory(
        environment=allowed,
        tenant=tenant,
        client_id="globex-own-client-01",
        client_secret=OWN_SECRET,
        region="eu",
        subdomain="globex",
        scopes=pd_scopes.canonical(MINIMUM),
    )


def test_tenant_home_offers_the_own_app_to_admins_where_allowed(
    client, tenant, tenant_admin, tenant_member, development
):
    home = _app_url(tenant, "tenant_home")
    client.force_login(tenant_admin)
    before = client.get(home).content.decode()
    development.tenant_apps_allowed = True
    development.save()

    admin_page = client.get(home).content.decode()
    client.force_login(tenant_member)
    member_page = client.get(home).content.decode()

    assert "Use your own PagerDuty app" not in before
    assert 'id="open-tenant-app"' in admin_page
    assert "Use your own PagerDuty app" not in member_page


def test_the_guide_has_the_six_steps_with_the_redirect_url_to_copy(
    tenant_admin_client, tenant, allowed
):
    html = tenant_admin_client.get(_app_url(tenant)).content.decode()

    assert html.count('class="step card"') == 6
    assert f'value="{allowed.redirect_url}" id="redirect-url"' in html
    assert 'data-copy="redirect-url"' in html
    assert 'id="tenant-configure-steps"' in html


def test_saving_an_own_app_stores_it_encrypted_and_connects_use_it(
    tenant_admin_client, tenant, allowed, pagerduty_client
):
    response = _save(tenant_admin_client, tenant)

    own = OAuthClient.objects.get(tenant=tenant)
    page = tenant_admin_client.get(_app_url(tenant)).content.decode()
    assert response.status_code == 302
    assert (own.client_id, own.region, own.subdomain, own.enabled) == (
        "globex-own-client-01",
        "eu",
        "globex",
        True,
    )
    assert OWN_SECRET not in raw_column(OAuthClient, "client_secret", own.pk)
    assert OWN_SECRET not in page
    assert "•••• 0001" in page
    assert oauth_client_for_connect(tenant_id=tenant.pk) == own
    assert start_connect(tenant_admin_client, tenant)["client_id"] == [
        "globex-own-client-01"
    ]
    event = AuditEvent.objects.get(action="config.created")
    assert (event.tenant, event.actor.username) == (tenant, "alice")


def test_the_tenant_page_never_shows_the_environments_app(
    tenant_admin_client, tenant, allowed, pagerduty_client
):
    html = tenant_admin_client.get(
        _app_url(tenant), {"tab": "configuration"}
    ).content.decode()

    assert pagerduty_client.client_id not in html
    assert f"•••• {CLIENT_SECRET[-4:]}" not in html
    assert CLIENT_SECRET not in html


def test_scopes_outside_the_allowance_are_not_offered_nor_accepted(
    tenant_admin_client, tenant, allowed
):
    allowed.tenant_app_scopes = pd_scopes.canonical([*MINIMUM, "oncalls.read"])
    allowed.save()

    page = tenant_admin_client.get(
        _app_url(tenant), {"tab": "configuration"}
    ).content.decode()
    response = _save(tenant_admin_client, tenant, scopes=[*MINIMUM, "users.write"])

    assert 'value="oncalls.read"' in page
    assert 'value="users.write"' not in page
    assert response.status_code == 400
    assert not OAuthClient.objects.filter(tenant=tenant).exists()


def test_classic_is_refused_where_the_allowance_is_narrower_than_it(
    tenant_admin_client, tenant, allowed
):
    allowed.tenant_app_scopes = pd_scopes.canonical(MINIMUM)
    allowed.save()

    response = _save(
        tenant_admin_client, tenant, app_type="classic", classic_scope="write"
    )

    assert response.status_code == 400
    assert 'id="classic-not-allowed"' in response.content.decode()
    assert not OAuthClient.objects.filter(tenant=tenant).exists()


def test_a_classic_own_app_is_accepted_where_everything_is_allowed(
    tenant_admin_client, tenant, allowed
):
    response = _save(
        tenant_admin_client, tenant, app_type="classic", classic_scope="read"
    )

    assert response.status_code == 302
    assert OAuthClient.objects.get(tenant=tenant).scopes == "read"


def test_an_own_app_where_not_allowed_is_refused_and_nothing_saved(
    tenant_admin_client, tenant, development
):
    response = _save(tenant_admin_client, tenant)

    html = response.content.decode()
    assert response.status_code == 400
    assert "has not allowed tenants&#x27; own PagerDuty apps" in html
    assert not OAuthClient.objects.filter(tenant=tenant).exists()
    assert not AuditEvent.objects.exists()


def test_a_narrowed_allowance_stops_using_an_app_that_asks_for_more(
    tenant_admin_client, tenant, own_app, pagerduty_client
):
    own_app.scopes = pd_scopes.canonical([*MINIMUM, "users.write"])
    own_app.save()
    own_app.environment.tenant_app_scopes = pd_scopes.canonical(MINIMUM)
    own_app.environment.save()

    html = tenant_admin_client.get(_app_url(tenant)).content.decode()

    assert oauth_client_for_connect(tenant_id=tenant.pk) == pagerduty_client
    assert 'id="tenant-app-exceeds"' in html


def test_verify_checks_the_own_app_on_its_own_account(
    tenant_admin_client, tenant, own_app, mocked_responses
):
    mocked_responses.post(
        TOKEN_URL,
        json={
            "access_token": "pdus+_0APP",
            "scope": "as_account-eu.globex " + pd_scopes.canonical(MINIMUM),
            "token_type": "bearer",
            "expires_in": 86400,
        },
        match=[
            matchers.urlencoded_params_matcher(
                {
                    "grant_type": "client_credentials",
                    "client_id": "globex-own-client-01",
                    "client_secret": OWN_SECRET,
                    "scope": "as_account-eu.globex " + pd_scopes.canonical(MINIMUM),
                }
            )
        ],
    )

    response = tenant_admin_client.post(_app_url(tenant, "tenant_app_verify"))
    page = tenant_admin_client.get(response["Location"]).content.decode()

    assert 'id="verification-result"' in page
    assert "Credentials verified" in page
    assert "account eu.globex" in page
    event = AuditEvent.objects.get(action="config.verified")
    assert (event.tenant, event.details["outcome"]) == (tenant, "ok")


def test_replacing_the_secret_works_like_the_staff_page(
    tenant_admin_client, tenant, own_app
):
    kept = _save(tenant_admin_client, tenant, new_client_secret="")
    replaced = _save(tenant_admin_client, tenant, new_client_secret="new-secret-0002")

    own_app.refresh_from_db()
    assert (kept.status_code, replaced.status_code) == (302, 302)
    assert own_app.client_secret == "new-secret-0002"
    actions = list(AuditEvent.objects.values_list("action", flat=True))
    assert actions == ["config.secret_replaced"]


def test_switching_back_flags_connections_through_the_own_app(
    tenant_admin_client, tenant, own_app, connection, pagerduty_client
):
    Connection.objects.filter(pk=connection.pk).update(oauth_client=own_app)

    back = tenant_admin_client.post(_app_url(tenant, "tenant_app_use"), {"used": "0"})
    connection.refresh_from_db()
    flagged = connection.status
    again = tenant_admin_client.post(_app_url(tenant, "tenant_app_use"), {"used": "1"})

    own_app.refresh_from_db()
    assert (back.status_code, again.status_code) == (302, 302)
    assert flagged == Connection.Status.NEEDS_RECONNECT
    assert "another PagerDuty app" in Connection.objects.get().last_error
    assert own_app.enabled is True
    events = AuditEvent.objects.order_by("id")
    assert [(e.action, e.details["connections_to_reconnect"]) for e in events] == [
        ("tenant_app.unused", 1),
        ("tenant_app.used", 0),
    ]


def test_members_cannot_change_the_own_app(client, tenant, tenant_member, own_app):
    client.force_login(tenant_member)

    responses = [
        client.get(_app_url(tenant)),
        client.post(_app_url(tenant), {"client_id": "x"}),
        client.post(_app_url(tenant, "tenant_app_use"), {"used": "0"}),
        client.post(_app_url(tenant, "tenant_app_verify")),
    ]

    own_app.refresh_from_db()
    assert [r.status_code for r in responses] == [403, 403, 403, 403]
    assert own_app.enabled is True
    assert not AuditEvent.objects.exists()


def test_staff_see_which_app_each_tenant_uses(
    admin_client, tenant, own_app, pagerduty_client, development
):
    other = TenantFactory(environment=development, name="Initech", slug="initech")

    html = admin_client.get(
        reverse("integrations:tenant_list", args=["development"])
    ).content.decode()

    row = html[html.index(f'id="tenant-{tenant.pk}"') :]
    other_row = html[html.index(f'id="tenant-{other.pk}"') :]
    assert "Own app" in row[: row.index("</tr>")]
    assert "Environment" in other_row[: other_row.index("</tr>")]
    assert "Turn own app off" in row[: row.index("</tr>")]


def test_staff_turn_a_tenants_own_app_off(
    admin_client, tenant_admin, tenant, own_app, connection, pagerduty_client, client
):
    Connection.objects.filter(pk=connection.pk).update(oauth_client=own_app)
    url = reverse("integrations:tenant_app_block", args=["development", tenant.pk])

    response = admin_client.post(url, {"blocked": "1"})
    client.force_login(tenant_admin)
    refused = client.post(_app_url(tenant, "tenant_app_use"), {"used": "1"})

    own_app.refresh_from_db()
    connection.refresh_from_db()
    assert response.status_code == 302
    assert own_app.staff_disabled is True
    assert oauth_client_for_connect(tenant_id=tenant.pk) == pagerduty_client
    assert connection.status == Connection.Status.NEEDS_RECONNECT
    assert refused.status_code == 302
    event = AuditEvent.objects.get(action="tenant_app.blocked")
    assert event.details == {"connections_to_reconnect": 1}
    page = client.get(_app_url(tenant)).content.decode()
    assert 'id="tenant-app-blocked"' in page


def test_staff_cannot_turn_off_another_environments_tenant_app(admin_client, staging):
    foreign = TenantFactory(environment=staging)
    staging.tenant_apps_allowed = True
    staging.save()
    app = OAuthClientFactory(environment=staging, tenant=foreign)
    url = reverse("integrations:tenant_app_block", args=["development", foreign.pk])

    response = admin_client.post(url, {"blocked": "1"})

    app.refresh_from_db()
    assert response.status_code == 404
    assert app.staff_disabled is False


def test_staff_allow_tenant_apps_and_their_scopes(admin_client, development):
    url = reverse("integrations:pagerduty_tenant_apps", args=["development"])

    response = admin_client.post(
        url, {"allowed": "on", "tenant_app_scopes": [*MINIMUM, "oncalls.read"]}
    )

    development.refresh_from_db()
    assert response.status_code == 302
    assert development.tenant_apps_allowed is True
    assert development.tenant_app_scope_list == [
        "incidents.read",
        "incidents.write",
        "services.read",
        "oncalls.read",
    ]
    events = AuditEvent.objects.order_by("id")
    assert [e.action for e in events] == [
        "environment.tenant_apps_allowed",
        "environment.tenant_app_scopes",
    ]
    assert events[1].details["removed"][0] == "services.write"


@pytest.mark.parametrize(
    ("scopes", "error"),
    [
        ([], "The minimum scopes are required"),
        (["incidents.read"], "The minimum scopes are required"),
        ([*MINIMUM, "admin.write"], "is not one of the available choices"),
    ],
)
def test_a_tenant_app_allowance_without_the_minimum_is_refused(
    admin_client, development, scopes, error
):
    url = reverse("integrations:pagerduty_tenant_apps", args=["development"])

    response = admin_client.post(
        url, {"allowed": "on", "tenant_app_scopes": scopes}, follow=True
    )

    development.refresh_from_db()
    assert development.tenant_apps_allowed is False
    assert error in response.content.decode()
    assert not AuditEvent.objects.exists()


def test_turning_tenant_apps_off_flags_connections_through_them(
    admin_client, tenant, own_app, connection, pagerduty_client
):
    Connection.objects.filter(pk=connection.pk).update(oauth_client=own_app)
    url = reverse("integrations:pagerduty_tenant_apps", args=["development"])

    admin_client.post(url, {"tenant_app_scopes": list(pd_scopes.ALL_SCOPES)})

    connection.refresh_from_db()
    assert connection.status == Connection.Status.NEEDS_RECONNECT
    assert oauth_client_for_connect(tenant_id=tenant.pk) == pagerduty_client
    event = AuditEvent.objects.get(action="environment.tenant_apps_forbidden")
    assert event.details == {"connections_to_reconnect": 1}


def test_a_disabled_environment_app_switches_own_apps_off_too(
    tenant, own_app, pagerduty_client
):
    pagerduty_client.enabled = False
    pagerduty_client.save()

    assert oauth_client_for_connect(tenant_id=tenant.pk) is None


def test_without_an_environment_app_a_tenant_connects_through_its_own(tenant, own_app):
    assert oauth_client_for_connect(tenant_id=tenant.pk) == own_app


def test_a_user_of_another_account_is_told_about_the_tenants_own_app(
    tenant_admin_client, tenant, own_app, fake_identity
):
    state = start_connect(tenant_admin_client, tenant)["state"][0]
    fake_identity.mock_token(
        id_token=fake_identity.id_token(
            subdomain="acme", aud=[API, own_app.client_id], azp=own_app.client_id
        )
    )
    fake_identity.mock_jwks()
    fake_identity.mock_me()

    response = callback(tenant_admin_client, code="code-abcdef", state=state)

    html = response.content.decode()
    assert response.status_code == 403
    assert 'data-reason="other_account_own_app"' in html
    assert "own PagerDuty app was registered by “globex”" in html
    assert not Connection.objects.filter(tenant=tenant).exists()
