"""Classic User OAuth apps in the portal: configure, verify, connect, refresh."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from responses import matchers

from integrations.models import AppType, AuditEvent, Connection, OAuthClient
from integrations.services.oauth_clients import oauth_client_verify
from integrations.services.tokens import (
    ConnectionNeedsReconnect,
    connection_refresh_tokens,
)
from tests.connect_fixtures import (
    API,
    CLIENT_ID,
    OLD_REFRESH,
    TOKEN_URL,
    callback,
    start_connect,
)
from tests.factories import CLIENT_SECRET

pytestmark = pytest.mark.django_db


@pytest.fixture
def classic_app(pagerduty_client):
    pagerduty_client.app_type = AppType.CLASSIC
    pagerduty_client.scopes = "write"
    pagerduty_client.save()
    return pagerduty_client


def _config_post(client, **overrides):
    data = {
        "app_type": "classic",
        "client_id": "classic-client-0001",
        "new_client_secret": "classic-secret-0001",
        "region": "us",
        "subdomain": "",
        "classic_scope": "write",
        **overrides,
    }
    return client.post(
        reverse("integrations:pagerduty_config", args=["development"]), data
    )


def test_staff_configure_a_classic_app_with_read_write(admin_client, development):
    response = _config_post(admin_client)

    client = OAuthClient.objects.get(environment=development, tenant=None)
    assert response.status_code == 302
    assert (client.app_type, client.scopes, client.subdomain) == (
        "classic",
        "write",
        "",
    )
    event = AuditEvent.objects.get(action="config.created")
    assert event.details == {"fields": ["app_type", "client_id", "scopes"]}


def test_a_classic_app_without_its_permission_is_refused(admin_client, development):
    response = _config_post(admin_client, classic_scope="")

    assert response.status_code == 400
    assert "Choose Read or Read/Write, as set on the app." in response.content.decode()
    assert not OAuthClient.objects.exists()


@pytest.mark.parametrize("value", ["admin", "Write", "read write"])
def test_a_classic_permission_outside_read_and_write_is_refused(
    admin_client, development, value
):
    response = _config_post(admin_client, classic_scope=value)

    assert response.status_code == 400
    assert not OAuthClient.objects.exists()


def test_the_guide_offers_the_classic_registration_steps(admin_client, development):
    response = admin_client.get(
        reverse("integrations:pagerduty_config", args=["development"]),
        {"tab": "guide", "guide": "classic"},
    )

    html = response.content.decode()
    assert 'id="classic-guide"' in html
    assert "Classic User OAuth" in html
    assert "Set Permission Scopes" in html
    assert development.redirect_url in html
    assert html.count('class="step card"') == 6


def test_the_configuration_page_shows_the_classic_choice_for_a_classic_app(
    admin_client, classic_app
):
    html = admin_client.get(
        reverse("integrations:pagerduty_config", args=["development"])
    ).content.decode()

    classic = html[html.index('id="classic-scope-card"') :]
    assert re.search(r'value="write"[^>]*checked', classic)
    assert 'data-app-type="scoped" hidden' in html


def test_verify_of_a_classic_app_probes_the_token_endpoint(
    classic_app, staff_user, mocked_responses
):
    mocked_responses.post(
        TOKEN_URL,
        status=400,
        json={"error": "invalid_grant", "error_description": "bad code"},
        match=[
            matchers.urlencoded_params_matcher(
                {
                    "grant_type": "authorization_code",
                    "client_id": CLIENT_ID,
                    "client_secret": CLIENT_SECRET,
                    "redirect_uri": classic_app.redirect_url,
                },
                allow_blank=False,
                strict_match=False,
            )
        ],
    )

    verification = oauth_client_verify(client=classic_app, actor=staff_user)

    sent = mocked_responses.calls[0].request.body
    assert verification.outcome == "ok"
    assert verification.classic is True
    assert "scope=" not in sent
    assert "code=portal-credentials-check-" in sent
    event = AuditEvent.objects.get(action="config.verified")
    assert event.details == {"outcome": "ok", "app_type": "classic"}


@pytest.mark.parametrize(
    ("status", "body", "outcome"),
    [
        (401, {"error": "invalid_client"}, "invalid_client"),
        (400, {"error": "invalid_request"}, "rejected"),
        (503, {}, "unavailable"),
        (200, {"access_token": "x"}, "malformed"),
    ],
)
def test_verify_of_a_classic_app_explains_each_answer(
    classic_app, staff_user, mocked_responses, status, body, outcome
):
    mocked_responses.post(TOKEN_URL, status=status, json=body)

    verification = oauth_client_verify(client=classic_app, actor=staff_user)

    assert verification.outcome == outcome
    assert CLIENT_SECRET not in verification.message


def test_connect_through_a_classic_app_asks_for_write_with_pkce(
    tenant_admin_client, tenant, classic_app
):
    query = start_connect(tenant_admin_client, tenant)

    assert query["scope"] == ["write"]
    assert query["code_challenge_method"] == ["S256"]
    assert query["client_id"] == [CLIENT_ID]


def test_a_user_of_another_account_connects_through_a_classic_app(
    tenant_admin_client, tenant, classic_app, fake_identity
):
    state = start_connect(tenant_admin_client, tenant)["state"][0]
    fake_identity.mock_token(
        scope="openid write",
        expires_in=30 * 86400,
        id_token=fake_identity.id_token(subdomain="initech", account_id="PINIT01"),
    )
    fake_identity.mock_jwks()
    fake_identity.mock_me()

    response = callback(tenant_admin_client, code="code-abcdef", state=state)

    assert response.status_code == 302
    connection = Connection.objects.get(tenant=tenant)
    assert (connection.subdomain, connection.granted_scopes) == (
        "initech",
        "openid write",
    )
    assert connection.requested_scopes == "write"
    assert connection.has_scope("users.write")
    lifetime = connection.refresh_expires_at - timezone.now()
    assert timedelta(days=209) < lifetime <= timedelta(days=210)
    assert connection.access_expires_at > timezone.now() + timedelta(days=29)


def test_a_scoped_app_still_refuses_another_account(
    tenant_admin_client, tenant, pagerduty_client, fake_identity
):
    state = start_connect(tenant_admin_client, tenant)["state"][0]
    fake_identity.mock_token(
        id_token=fake_identity.id_token(subdomain="initech", account_id="PINIT01")
    )
    fake_identity.mock_jwks()
    fake_identity.mock_me()

    response = callback(tenant_admin_client, code="code-abcdef", state=state)

    assert response.status_code == 403
    assert not Connection.objects.filter(tenant=tenant).exists()


def test_refreshing_a_classic_connection_gives_the_refresh_token_210_days(
    connection, classic_app, mocked_responses
):
    mocked_responses.post(
        TOKEN_URL,
        json={
            "access_token": "AT2",
            "refresh_token": "RT2",
            "token_type": "bearer",
            "scope": "openid write",
            "expires_in": 30 * 86400,
        },
        match=[
            matchers.urlencoded_params_matcher(
                {"refresh_token": OLD_REFRESH}, strict_match=False
            )
        ],
    )

    connection_refresh_tokens(connection=connection, force=True)

    connection.refresh_from_db()
    lifetime = connection.refresh_expires_at - timezone.now()
    assert timedelta(days=209) < lifetime <= timedelta(days=210)
    assert connection.granted_scopes == "openid write"
    assert connection.api_url == API


def test_a_refused_classic_refresh_names_classic_lifetimes(
    connection, classic_app, mocked_responses
):
    mocked_responses.post(TOKEN_URL, status=400, json={"error": "invalid_grant"})

    with pytest.raises(ConnectionNeedsReconnect):
        connection_refresh_tokens(connection=connection, force=True)

    connection.refresh_from_db()
    assert connection.status == Connection.Status.NEEDS_RECONNECT
    assert "210 days unused, or three years" in connection.last_error
