"""The authorization server: registration, authorize, consent, tokens (M04–M08)."""

import json
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from oauth2_provider.models import AccessToken, Grant, RefreshToken

from integrations.gateway.models import AgentAuthorization
from integrations.gateway.models import Client as McpClient
from integrations.models import AuditEvent, Connection
from tests.factories import TenantFactory
from tests.gateway.harness import LOOPBACK_CALLBACK, pkce_pair
from tests.gateway.oauth_flow import (
    authorize_path,
    consent_fields,
    exchange,
    issue,
    location_query,
    new_client_id,
    obtain_code,
    refresh,
    register,
)
from tests.integrations.pagerduty.workspace.conftest import make_connection

pytestmark = pytest.mark.django_db

CLAUDE = {
    "client_name": "Claude",
    "redirect_uris": ["https://claude.ai/api/mcp/auth_callback"],
    "grant_types": ["authorization_code", "refresh_token"],
    "response_types": ["code"],
    "token_endpoint_auth_method": "none",
    "scope": "mcp:read mcp:write",
}
CURSOR = {
    "client_name": "Cursor",
    "redirect_uris": [
        "https://cursor.com/oauth/callback",
        "http://127.0.0.1:53134/callback",
        "cursor://anysphere.cursor-mcp/oauth/callback",
    ],
    "grant_types": ["authorization_code", "refresh_token"],
    "response_types": ["code"],
    "token_endpoint_auth_method": "none",
}
INSPECTOR = {
    "client_name": "MCP Inspector",
    "client_uri": "https://github.com/modelcontextprotocol/inspector",
    "redirect_uris": ["http://localhost:6274/oauth/callback"],
    "grant_types": ["authorization_code", "refresh_token"],
    "response_types": ["code"],
    "token_endpoint_auth_method": "none",
    "scope": "mcp:read mcp:write",
}


@pytest.fixture
def connected(tenant, pagerduty_client):
    return make_connection(tenant, pagerduty_client)


@pytest.fixture
def alice_client(client, tenant_admin, connected):
    client.force_login(tenant_admin)
    return client


@pytest.mark.parametrize(
    "body", [CLAUDE, CURSOR, INSPECTOR], ids=["claude", "cursor", "inspector"]
)
def test_m04_registration_accepts_what_claude_cursor_and_the_inspector_send(
    client, body
):
    response = client.post(
        reverse("oauth2_provider:dcr-register"),
        data=json.dumps(body),
        content_type="application/json",
    )

    assert response.status_code == 201, response.content
    registered = McpClient.objects.get(client_id=response.json()["client_id"])
    assert registered.redirect_uris.split() == body["redirect_uris"]
    assert registered.client_type == "public"
    assert registered.registration_source == "dcr"
    assert registered.registered_from == "127.0.0.1"
    assert "no-store" in response["Cache-Control"]


@pytest.mark.parametrize(
    ("uri", "why"),
    [
        ("http://evil.example/cb", "loopback hosts only"),
        ("javascript:alert(1)", "scheme javascript: is not allowed"),
        ("data:text/html,hi", "scheme data: is not allowed"),
        ("https://app.example/cb#frag", "fragment"),
        ("ftp://files.example/cb", "scheme ftp: is not allowed"),
        ("myapp://callback", "scheme myapp: is not allowed"),
        ("https://user:pw@app.example/cb", "credentials"),
        ("http://127.0.0.1.evil.example/cb", "loopback hosts only"),
    ],
)
def test_m04_registration_refuses_unsafe_redirect_uris(client, uri, why):
    response = register(client, redirect_uris=["https://ok.example/cb", uri])

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_redirect_uri"
    assert why in response.json()["error_description"]
    assert McpClient.objects.count() == 0


def test_m04_registration_refuses_other_grant_types(client):
    response = register(client, grant_types=["client_credentials"])

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_client_metadata"
    assert McpClient.objects.count() == 0


def test_m04_registration_is_rate_limited_per_address(client, settings):
    settings.MCP_REGISTRATION_RATE_LIMIT = (3, 3600)

    answers = [register(client, address="10.0.0.7").status_code for _ in range(4)]
    elsewhere = register(client, address="10.0.0.8")

    assert answers == [201, 201, 201, 429]
    assert elsewhere.status_code == 201
    assert McpClient.objects.count() == 4


def test_m04_the_admin_cannot_save_a_client_with_an_unsafe_redirect(db):
    from django.core.exceptions import ValidationError

    client = McpClient(
        name="x",
        client_type="public",
        authorization_grant_type="authorization-code",
        redirect_uris="http://evil.example/cb",
    )

    with pytest.raises(ValidationError, match="loopback"):
        client.full_clean()


def test_m05_authorize_without_pkce_or_with_plain_is_refused(alice_client):
    client_id = new_client_id(alice_client)
    verifier, challenge = pkce_pair()

    missing = alice_client.get(
        authorize_path(
            client_id, challenge, code_challenge=None, code_challenge_method=None
        )
    )
    plain = alice_client.get(
        authorize_path(client_id, verifier, code_challenge_method="plain")
    )

    for response in (missing, plain):
        assert response.status_code == 302
        assert response["Location"].startswith(LOOPBACK_CALLBACK)
        assert location_query(response)["error"] == "invalid_request"
    assert Grant.objects.count() == 0


def test_m05_unregistered_redirect_uri_shows_a_page_never_a_redirect(alice_client):
    client_id = new_client_id(alice_client)
    _, challenge = pkce_pair()

    response = alice_client.get(
        authorize_path(client_id, challenge, redirect_uri="https://evil.example/steal")
    )

    assert response.status_code == 400
    assert b'id="consent-error"' in response.content
    assert "Location" not in response


def test_m05_unknown_client_shows_a_page(alice_client):
    _, challenge = pkce_pair()

    response = alice_client.get(authorize_path("no-such-client", challenge))

    assert response.status_code in (400, 401)
    assert b'id="consent-error"' in response.content


def test_m05_another_resource_is_refused(alice_client):
    client_id = new_client_id(alice_client)
    _, challenge = pkce_pair()

    response = alice_client.get(
        authorize_path(client_id, challenge, resource="https://other.example/mcp")
    )

    assert location_query(response)["error"] == "invalid_target"


def test_m05_a_replayed_code_is_refused_and_revokes_what_it_issued(
    alice_client, tenant
):
    client_id = new_client_id(alice_client)
    code, verifier, _ = obtain_code(alice_client, client_id, tenant=tenant)
    first = exchange(alice_client, client_id, code, verifier)

    replay = exchange(alice_client, client_id, code, verifier)

    assert first.status_code == 200
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"
    assert AccessToken.objects.filter(refresh_token__isnull=False).count() == 0
    assert not RefreshToken.objects.filter(revoked__isnull=True).exists()
    assert (
        AgentAuthorization.objects.get().revoke_reason == "authorization code replayed"
    )


def test_m05_codes_live_at_most_60_seconds(alice_client, tenant):
    client_id = new_client_id(alice_client)
    code, verifier, _ = obtain_code(alice_client, client_id, tenant=tenant)

    with time_machine.travel(timedelta(seconds=61), tick=False):
        late = exchange(alice_client, client_id, code, verifier)

    assert late.status_code == 400
    assert late.json()["error"] == "invalid_grant"
    grant_life = Grant.objects.get().expires - Grant.objects.get().created
    assert grant_life <= timedelta(seconds=60)


def test_m03_authorization_response_carries_the_issuer(alice_client, tenant, settings):
    client_id = new_client_id(alice_client)

    _, _, query = obtain_code(alice_client, client_id, tenant=tenant)

    assert query["iss"] == settings.PORTAL_BASE_URL
    assert query["state"] == "state-123"


def test_access_tokens_live_at_most_an_hour_and_bind_the_resource(
    alice_client, tenant, settings
):
    issued = issue(alice_client, tenant=tenant)

    token = AccessToken.objects.get(refresh_token__isnull=False)
    assert issued.body["expires_in"] <= 3600
    assert token.expires - token.created <= timedelta(hours=1, seconds=1)
    assert token.resource == [f"{settings.PORTAL_BASE_URL}/mcp"]
    assert token.token == ""  # only the checksum is stored
    assert issued.access not in json.dumps(
        list(AccessToken.objects.values()), default=str
    )


def test_m06_refresh_rotates_and_keeps_the_tenant(alice_client, tenant, settings):
    issued = issue(alice_client, tenant=tenant)

    rotated = refresh(alice_client, issued.client_id, issued.refresh)

    assert rotated.status_code == 200
    body = rotated.json()
    assert body["refresh_token"] != issued.refresh
    assert body["access_token"] != issued.access
    family = RefreshToken.objects.get(revoked__isnull=True).token_family
    assert AgentAuthorization.objects.get(token_family=family).tenant == tenant
    assert AccessToken.objects.get(refresh_token__isnull=False).resource == [
        f"{settings.PORTAL_BASE_URL}/mcp"
    ]


def test_m06_a_reused_refresh_token_revokes_the_family(alice_client, tenant):
    issued = issue(alice_client, tenant=tenant)
    rotated = refresh(alice_client, issued.client_id, issued.refresh).json()

    reuse = refresh(alice_client, issued.client_id, issued.refresh)
    after = refresh(alice_client, issued.client_id, rotated["refresh_token"])

    assert reuse.status_code == 400
    assert after.status_code == 400
    assert not RefreshToken.objects.filter(revoked__isnull=True).exists()
    assert AccessToken.objects.filter(refresh_token__isnull=False).count() == 0
    assert AgentAuthorization.objects.get().revoke_reason == "refresh token reused"


def test_m08_consent_is_csrf_protected(tenant_admin, tenant, connected):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(tenant_admin)
    client_id = new_client_id(browser)
    _, challenge = pkce_pair()
    path = authorize_path(client_id, challenge)
    fields = consent_fields(browser.get(path))
    del fields["csrfmiddlewaretoken"]

    response = browser.post(path, {**fields, "tenant": tenant.pk, "allow": "on"})

    assert response.status_code == 403
    assert Grant.objects.count() == 0
    assert AgentAuthorization.objects.count() == 0


def test_m08_only_the_users_tenants_are_offered(alice_client, tenant, development):
    other = TenantFactory(environment=development, name="Globex", slug="globex")
    client_id = new_client_id(alice_client)
    _, challenge = pkce_pair()

    page = alice_client.get(authorize_path(client_id, challenge)).content.decode()

    assert f'value="{tenant.pk}"' in page
    assert f'value="{other.pk}"' not in page
    assert "Globex" not in page


def test_m08_a_forged_tenant_gets_no_code(alice_client, tenant, development):
    other = TenantFactory(environment=development, name="Globex", slug="globex")
    client_id = new_client_id(alice_client)
    _, challenge = pkce_pair()
    path = authorize_path(client_id, challenge)
    fields = consent_fields(alice_client.get(path))

    response = alice_client.post(path, {**fields, "tenant": other.pk, "allow": "on"})

    assert response.status_code == 400
    assert b"Choose one of your tenants." in response.content
    assert b"Authorize Test agent?" in response.content
    assert Grant.objects.count() == 0
    assert AgentAuthorization.objects.count() == 0


@pytest.mark.parametrize("status", [None, Connection.Status.NEEDS_RECONNECT])
def test_m08_a_tenant_without_a_live_connection_gets_a_clear_page(
    client, tenant, tenant_admin, pagerduty_client, status
):
    if status:
        make_connection(tenant, pagerduty_client)
        Connection.objects.update(status=status)
    client.force_login(tenant_admin)
    client_id = new_client_id(client)
    _, challenge = pkce_pair()
    path = authorize_path(client_id, challenge)
    fields = consent_fields(client.get(path))

    response = client.post(path, {**fields, "tenant": tenant.pk, "allow": "on"})

    assert response.status_code == 409
    assert b'id="not-connected"' in response.content
    assert Grant.objects.count() == 0


def test_m02_consent_can_keep_an_agent_read_only(alice_client, tenant):
    issued = issue(alice_client, tenant=tenant, read_only=True)

    assert issued.body["scope"] == "mcp:read"
    assert AgentAuthorization.objects.get().read_only is True


def test_consent_shows_the_client_its_return_address_and_a_loopback_warning(
    alice_client,
):
    client_id = new_client_id(alice_client)
    _, challenge = pkce_pair()

    page = alice_client.get(authorize_path(client_id, challenge))

    html = page.content.decode()
    assert "Test agent" in html
    assert LOOPBACK_CALLBACK in html
    assert 'id="loopback-warning"' in html
    directives = dict(
        part.strip().split(" ", 1)
        for part in page["Content-Security-Policy"].split(";")
    )
    assert "http://127.0.0.1:33418" in directives["form-action"].split()


def test_denying_returns_access_denied_and_authorizes_nothing(alice_client, tenant):
    client_id = new_client_id(alice_client)
    _, challenge = pkce_pair()
    path = authorize_path(client_id, challenge)
    fields = consent_fields(alice_client.get(path))

    response = alice_client.post(path, {**fields, "tenant": tenant.pk})

    assert location_query(response)["error"] == "access_denied"
    assert AgentAuthorization.objects.count() == 0


def test_authorizing_is_audited(alice_client, tenant):
    issue(alice_client, tenant=tenant)

    event = AuditEvent.objects.get(action="agent.authorized")
    assert event.tenant == tenant
    assert event.details["scope"] == "mcp:read mcp:write"


def test_the_whole_authorize_query_survives_sign_in(
    client, tenant, tenant_admin, connected
):
    tenant_admin.set_password("pw-alice-123")
    tenant_admin.save()
    client_id = new_client_id(client)
    _, challenge = pkce_pair()
    path = authorize_path(client_id, challenge)

    to_login = client.get(path)
    signed_in = client.post(
        to_login["Location"], {"login": "alice", "password": "pw-alice-123"}
    )

    assert to_login["Location"].startswith(reverse("account_login"))
    assert signed_in.status_code == 302
    assert signed_in["Location"] == path
    page = client.get(signed_in["Location"])
    fields = consent_fields(page)
    assert fields["code_challenge"] == challenge
    assert fields["state"] == "state-123"
    assert fields["resource"].endswith("/mcp")


def test_the_authorize_query_survives_the_staff_second_factor(
    client, tenant, pagerduty_client, settings
):
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    from integrations.models import Membership
    from tests.factories import MembershipFactory, UserFactory
    from tests.integrations.test_mfa import totp_code

    settings.PORTAL_REQUIRE_STAFF_MFA = True
    make_connection(tenant, pagerduty_client)
    staff = UserFactory(username="ops", is_staff=True)
    MembershipFactory(user=staff, tenant=tenant, role=Membership.Role.ADMIN)
    secret = generate_totp_secret()
    TOTP.activate(staff, secret)
    client_id = new_client_id(client)
    _, challenge = pkce_pair()
    path = authorize_path(client_id, challenge)

    to_login = client.get(path)
    password = client.post(
        to_login["Location"], {"login": "ops", "password": "password"}
    )
    second = client.post(password["Location"], {"code": totp_code(secret)})

    assert password["Location"].startswith(reverse("mfa_authenticate"))
    assert second.status_code == 302
    assert second["Location"] == path
    fields = consent_fields(client.get(second["Location"]))
    assert fields["code_challenge"] == challenge
    assert fields["resource"].endswith("/mcp")
