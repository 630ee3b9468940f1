import base64
import hashlib
import logging
from urllib.parse import parse_qs, urlsplit

import pytest
from allauth.socialaccount.internal import statekit
from allauth.socialaccount.models import SocialAccount, SocialApp, SocialToken
from django.urls import reverse
from responses import matchers

from integrations.models import AuditEvent, Connection
from integrations.pagerduty import scopes as pd_scopes
from tests.connect_fixtures import (
    ACCESS,
    CLIENT_ID,
    REFRESH,
    TOKEN_URL,
    callback,
    start_connect,
)
from tests.factories import CLIENT_SECRET, OAuthClientFactory, TenantFactory
from tests.helpers import raw_column

pytestmark = pytest.mark.django_db


def test_authorize_url_carries_exactly_the_configured_values(
    tenant_admin_client, tenant, pagerduty_client
):
    query = start_connect(tenant_admin_client, tenant)

    assert {key: len(values) for key, values in query.items()} == {
        "client_id": 1,
        "redirect_uri": 1,
        "scope": 1,
        "response_type": 1,
        "state": 1,
        "code_challenge": 1,
        "code_challenge_method": 1,
    }
    assert query["client_id"] == [CLIENT_ID]
    assert query["redirect_uri"] == ["http://127.0.0.1:8000/integration-callback"]
    assert query["response_type"] == ["code"]
    assert set(query["scope"][0].split(" ")) == set(pd_scopes.ALL_SCOPES)
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) == 43


def test_state_has_at_least_128_bits(tenant_admin_client, tenant, pagerduty_client):
    states = {start_connect(tenant_admin_client, tenant)["state"][0] for _ in range(5)}

    assert len(states) == 5
    for state in states:
        assert len(state) >= 43
        assert len(base64.urlsafe_b64decode(state + "=")) >= 32


@pytest.mark.parametrize(
    "query",
    [
        "scope=admin,users.write",
        "auth_params=client_id%3Devil%26redirect_uri%3Dhttps://evil.example/cb",
        "auth_params=response_type%3Dtoken%26state%3DATTACKER",
        "auth_params=code_challenge_method%3Dplain%26prompt%3Dnone",
        "process=login&next=https://evil.example/",
    ],
)
def test_request_parameters_never_shape_the_authorize_url(
    tenant_admin_client, tenant, pagerduty_client, query
):
    start_connect(tenant_admin_client, tenant)

    response = tenant_admin_client.post(f"{reverse('pagerduty_login')}?{query}")

    params = parse_qs(urlsplit(response["Location"]).query)
    assert params["client_id"] == [CLIENT_ID]
    assert params["redirect_uri"] == ["http://127.0.0.1:8000/integration-callback"]
    assert params["response_type"] == ["code"]
    assert params["code_challenge_method"] == ["S256"]
    assert set(params["scope"][0].split(" ")) == set(pd_scopes.ALL_SCOPES)
    assert set(params) == {
        "client_id",
        "redirect_uri",
        "scope",
        "response_type",
        "state",
        "code_challenge",
        "code_challenge_method",
    }


def test_allauth_login_url_is_404_without_a_connect_in_progress(
    tenant_admin_client, pagerduty_client
):
    response = tenant_admin_client.post(reverse("pagerduty_login"))

    assert response.status_code == 404


def test_connect_exchanges_the_code_and_stores_encrypted_tokens(
    tenant_admin_client, tenant, pagerduty_client, fake_identity
):
    query = start_connect(tenant_admin_client, tenant)
    state = query["state"][0]
    verifier = statekit.get_states(tenant_admin_client)[state][0]["pkce_code_verifier"]
    fake_identity.mock_token(
        match=[
            matchers.urlencoded_params_matcher(
                {
                    "grant_type": "authorization_code",
                    "client_id": CLIENT_ID,
                    "client_secret": CLIENT_SECRET,
                    "code": "the-code-123",
                    "redirect_uri": "http://127.0.0.1:8000/integration-callback",
                    "code_verifier": verifier,
                }
            )
        ]
    )
    fake_identity.mock_jwks()
    me = fake_identity.mock_me()

    response = callback(tenant_admin_client, code="the-code-123", state=state)

    assert response.status_code == 302
    assert response["Location"] == reverse("integrations:tenant_home", args=[tenant.pk])
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    assert challenge.rstrip(b"=").decode() == query["code_challenge"][0]
    assert me.calls[0].request.headers["Authorization"] == f"Bearer {ACCESS}"
    connection = Connection.objects.get(tenant=tenant)
    assert connection.status == Connection.Status.ACTIVE
    assert connection.access_token == ACCESS
    assert connection.refresh_token == REFRESH
    assert (connection.account_id, connection.subdomain) == ("PACCT01", "acme")
    assert (connection.region, connection.api_url) == (
        "us",
        "https://api.pagerduty.test",
    )
    assert (connection.pd_user_id, connection.pd_user_name) == (
        "PUSER01",
        "Alice Admin",
    )
    assert connection.pd_user_email == "alice@acme.example"
    assert connection.delegation_id == "PDELEG01"
    assert connection.oauth_client == pagerduty_client
    assert connection.granted_scopes == (
        "openid incidents.read incidents.write services.read"
    )
    assert connection.requested_scopes == pagerduty_client.scopes
    assert ACCESS not in raw_column(Connection, "access_token", connection.pk)
    assert REFRESH not in raw_column(Connection, "refresh_token", connection.pk)
    assert SocialToken.objects.count() == 0
    assert SocialAccount.objects.count() == 0
    assert SocialApp.objects.count() == 0
    assert list(AuditEvent.objects.values_list("action", flat=True)) == [
        "connection.created"
    ]


def test_tenant_page_says_connected_after_the_callback(
    tenant_admin_client, tenant, pagerduty_client, fake_identity
):
    state = start_connect(tenant_admin_client, tenant)["state"][0]
    fake_identity.mock_success()

    response = callback(tenant_admin_client, code="code-abcdef", state=state)
    page = tenant_admin_client.get(response["Location"]).content.decode()

    assert "Connected to acme as Alice Admin" in page
    assert ACCESS not in page
    assert REFRESH not in page


def test_reconnect_keeps_the_same_record(
    tenant_admin_client, tenant, pagerduty_client, fake_identity
):
    state = start_connect(tenant_admin_client, tenant)["state"][0]
    fake_identity.mock_success()
    callback(tenant_admin_client, code="code-first1", state=state)
    first = Connection.objects.get(tenant=tenant)
    state = start_connect(tenant_admin_client, tenant)["state"][0]
    fake_identity.mock_success(access_token="second-access")

    callback(tenant_admin_client, code="code-second", state=state)

    assert list(Connection.objects.values_list("pk", flat=True)) == [first.pk]
    assert Connection.objects.get().access_token == "second-access"
    assert list(AuditEvent.objects.order_by("id").values_list("action", flat=True)) == [
        "connection.created",
        "connection.reconnected",
    ]


def test_connect_after_disconnect_reuses_the_record(
    tenant_admin_client, tenant, pagerduty_client, fake_identity
):
    state = start_connect(tenant_admin_client, tenant)["state"][0]
    fake_identity.mock_success()
    callback(tenant_admin_client, code="code-first1", state=state)
    tenant_admin_client.post(
        reverse("integrations:tenant_disconnect", args=[tenant.pk]), {"confirm": "yes"}
    )
    state = start_connect(tenant_admin_client, tenant)["state"][0]
    fake_identity.mock_success()

    callback(tenant_admin_client, code="code-second", state=state)

    assert Connection.objects.count() == 1
    assert Connection.objects.get().status == Connection.Status.ACTIVE


def test_staging_tenant_connects_with_stagings_app(
    client, staging, pagerduty_client, fake_identity
):
    from integrations.models import Membership
    from tests.factories import MembershipFactory, UserFactory

    staging_app = OAuthClientFactory(
        environment=staging, client_id="staging-client-0001"
    )
    staged = TenantFactory(environment=staging, name="Initech", slug="initech")
    user = MembershipFactory(
        tenant=staged, user=UserFactory(username="sam"), role=Membership.Role.ADMIN
    ).user
    client.force_login(user)

    query = start_connect(client, staged)
    fake_identity.mock_token(
        match=[
            matchers.urlencoded_params_matcher(
                {"client_id": "staging-client-0001"}, strict_match=False
            )
        ],
        id_token=fake_identity.id_token(
            aud=["https://api.pagerduty.test", "staging-client-0001"],
            azp="staging-client-0001",
        ),
    )
    fake_identity.mock_jwks()
    fake_identity.mock_me()
    response = callback(client, code="code-abcdef", state=query["state"][0])

    assert query["client_id"] == ["staging-client-0001"]
    assert query["redirect_uri"] == [staging.redirect_url]
    assert response.status_code == 302
    assert Connection.objects.get(tenant=staged).oauth_client == staging_app


def test_tenant_with_its_own_app_uses_it(tenant_admin_client, tenant, pagerduty_client):
    tenant.environment.tenant_apps_allowed = True
    tenant.environment.save()
    OAuthClientFactory(tenant=tenant, client_id="tenant-own-client-01")

    query = start_connect(tenant_admin_client, tenant)

    assert query["client_id"] == ["tenant-own-client-01"]


def test_a_tenant_app_is_unused_where_the_environment_does_not_allow_them(
    tenant_admin_client, tenant, pagerduty_client
):
    OAuthClientFactory(tenant=tenant, client_id="tenant-own-client-01")

    query = start_connect(tenant_admin_client, tenant)

    assert query["client_id"] == [pagerduty_client.client_id]


def test_token_request_never_puts_the_secret_in_the_url(
    tenant_admin_client, tenant, pagerduty_client, fake_identity, mocked_responses
):
    state = start_connect(tenant_admin_client, tenant)["state"][0]
    fake_identity.mock_success()

    callback(tenant_admin_client, code="code-abcdef", state=state)

    token_call = next(c for c in mocked_responses.calls if c.request.url == TOKEN_URL)
    assert CLIENT_SECRET not in token_call.request.url
    assert token_call.request.headers["Content-Type"] == (
        "application/x-www-form-urlencoded"
    )


def test_redirect_uri_ignores_the_host_header(
    tenant_admin_client, tenant, pagerduty_client
):
    response = tenant_admin_client.post(
        reverse("integrations:tenant_connect", args=[tenant.pk]),
        HTTP_HOST="localhost",
    )

    query = parse_qs(urlsplit(response["Location"]).query)
    assert query["redirect_uri"] == ["http://127.0.0.1:8000/integration-callback"]


def test_flow_started_with_a_foreign_next_returns_to_the_tenant_page(
    tenant_admin_client, tenant, pagerduty_client, fake_identity
):
    start_connect(tenant_admin_client, tenant)
    login = tenant_admin_client.post(
        f"{reverse('pagerduty_login')}?next=https://evil.example/&process=login"
    )
    state = parse_qs(urlsplit(login["Location"]).query)["state"][0]
    fake_identity.mock_success()

    response = callback(tenant_admin_client, code="code-abcdef", state=state)

    assert response.status_code == 302
    assert response["Location"] == reverse("integrations:tenant_home", args=[tenant.pk])


def test_successful_connect_leaks_no_secret(
    tenant_admin_client, tenant, pagerduty_client, fake_identity, caplog
):
    state = start_connect(tenant_admin_client, tenant)["state"][0]
    fake_identity.mock_success()

    with caplog.at_level(logging.DEBUG):
        response = callback(tenant_admin_client, code="CANARY-CODE-1", state=state)
        page = tenant_admin_client.get(response["Location"]).content.decode()

    sinks = [
        caplog.text,
        page,
        str(list(AuditEvent.objects.values("target", "details"))),
        str(dict(tenant_admin_client.session)),
        response["Location"],
    ]
    for canary in (ACCESS, REFRESH, CLIENT_SECRET, "CANARY-CODE-1"):
        assert all(canary not in sink for sink in sinks), canary
    assert "no-store" in response["Cache-Control"]


def test_two_tabs_each_complete_for_their_own_tenant(
    client, tenant, staging, pagerduty_client, fake_identity
):
    from integrations.models import Membership
    from tests.factories import MembershipFactory, UserFactory

    OAuthClientFactory(environment=staging, client_id="staging-client-0001")
    other = TenantFactory(environment=staging, name="Initech", slug="initech")
    user = UserFactory(username="dana")
    for each in (tenant, other):
        MembershipFactory(tenant=each, user=user, role=Membership.Role.ADMIN)
    client.force_login(user)
    first_tab = start_connect(client, tenant)["state"][0]
    start_connect(client, other)
    fake_identity.mock_token(
        match=[
            matchers.urlencoded_params_matcher(
                {"client_id": CLIENT_ID}, strict_match=False
            )
        ]
    )
    fake_identity.mock_jwks()
    fake_identity.mock_me()

    response = callback(client, code="code-abcdef", state=first_tab)

    assert response["Location"] == reverse("integrations:tenant_home", args=[tenant.pk])
    assert Connection.objects.get().tenant == tenant
    assert Connection.objects.get().oauth_client == pagerduty_client


def test_openid_only_grant_is_stored_and_shown_as_missing(
    tenant_admin_client, tenant, pagerduty_client, fake_identity
):
    state = start_connect(tenant_admin_client, tenant)["state"][0]
    fake_identity.mock_success(scope="openid")

    response = callback(tenant_admin_client, code="code-abcdef", state=state)
    page = tenant_admin_client.get(response["Location"]).content.decode()

    assert Connection.objects.get(tenant=tenant).granted_scopes == "openid"
    assert "PagerDuty granted fewer permissions than requested" in page
    assert "no listing and viewing incidents" in page


def test_reconnect_after_needs_reconnect_makes_the_connection_active(
    tenant_admin_client, tenant, pagerduty_client, connection, fake_identity
):
    connection.status = Connection.Status.NEEDS_RECONNECT
    connection.last_error = "PagerDuty refused the refresh."
    connection.save()
    state = start_connect(tenant_admin_client, tenant)["state"][0]
    fake_identity.mock_success()

    callback(tenant_admin_client, code="code-abcdef", state=state)

    connection.refresh_from_db()
    assert connection.status == Connection.Status.ACTIVE
    assert connection.last_error == ""
    assert connection.access_token == ACCESS
    assert Connection.objects.count() == 1


def test_odd_profile_values_are_stored_safely(
    tenant_admin_client, tenant, pagerduty_client, fake_identity
):
    state = start_connect(tenant_admin_client, tenant)["state"][0]
    fake_identity.mock_token()
    fake_identity.mock_jwks()
    fake_identity.mock_me(
        user={"id": "PUSER01", "name": "N" * 300, "email": "not-an-email"}
    )

    response = callback(tenant_admin_client, code="code-abcdef", state=state)

    connection = Connection.objects.get(tenant=tenant)
    assert response.status_code == 302
    assert connection.pd_user_email == ""
    assert connection.pd_user_name == "N" * 200
