"""Every failed connect ends on a clear page and leaves stored data as it was."""

import logging

import pytest
import requests
from allauth.socialaccount.internal import statekit
from django.test import Client
from django.urls import reverse

from integrations.models import AuditEvent, Connection, Membership
from tests.connect_fixtures import (
    ACCESS,
    API,
    CLIENT_ID,
    EU_API,
    ISSUER,
    REFRESH,
    TOKEN_URL,
    callback,
    connection_snapshot,
    start_connect,
)
from tests.factories import CLIENT_SECRET

pytestmark = pytest.mark.django_db


def _reason(response) -> str:
    marker = 'data-reason="'
    body = response.content.decode()
    start = body.index(marker) + len(marker)
    return body[start : body.index('"', start)]


@pytest.fixture
def started(tenant_admin_client, tenant, pagerduty_client, connection):
    """A connect in progress over an existing connection; returns the state."""
    before = connection_snapshot(tenant)
    state = start_connect(tenant_admin_client, tenant)["state"][0]
    return state, before


def _assert_untouched(tenant, before):
    assert connection_snapshot(tenant) == before


def test_user_denies_access(tenant_admin_client, tenant, started, mocked_responses):
    state, before = started

    response = callback(
        tenant_admin_client,
        error="access_denied",
        error_description="<script>alert(1)</script>",
        state=state,
    )

    assert response.status_code == 200
    assert _reason(response) == "cancelled"
    assert "You cancelled the connection" in response.content.decode()
    assert "<script>alert(1)" not in response.content.decode()
    assert len(mocked_responses.calls) == 0
    _assert_untouched(tenant, before)


def test_other_provider_error_shows_generic_page(tenant_admin_client, tenant, started):
    state, before = started

    response = callback(tenant_admin_client, error="server_error", state=state)

    assert response.status_code == 400
    assert _reason(response) == "provider_error"
    _assert_untouched(tenant, before)


@pytest.mark.parametrize(
    "params",
    [
        {"code": "code-abcdef"},
        {"code": "code-abcdef", "state": ""},
        {"code": "code-abcdef", "state": "forged-" + "x" * 40},
        {"code": "code-abcdef", "state": "A" * 1000},
    ],
    ids=["missing", "empty", "forged", "long"],
)
def test_missing_or_forged_state_is_refused(
    tenant_admin_client, tenant, started, mocked_responses, params
):
    _, before = started

    response = callback(tenant_admin_client, **params)

    assert response.status_code == 400
    assert _reason(response) == "state"
    assert "could not be verified" in response.content.decode()
    assert len(mocked_responses.calls) == 0
    _assert_untouched(tenant, before)


def test_reused_state_is_refused(tenant_admin_client, tenant, started, fake_identity):
    state, _ = started
    fake_identity.mock_success()
    first = callback(tenant_admin_client, code="code-first1", state=state)
    assert first.status_code == 302
    before = connection_snapshot(tenant)

    response = callback(tenant_admin_client, code="code-second", state=state)

    assert response.status_code == 400
    assert _reason(response) == "state"
    _assert_untouched(tenant, before)


def test_state_from_another_browser_is_refused(
    tenant, started, tenant_admin, mocked_responses
):
    state, before = started
    other_browser = Client()
    other_browser.force_login(tenant_admin)

    response = callback(other_browser, code="code-abcdef", state=state)

    assert response.status_code == 400
    assert _reason(response) == "state"
    assert len(mocked_responses.calls) == 0
    _assert_untouched(tenant, before)


@pytest.mark.parametrize(
    "case", ["replayed code", "expired code", "wrong PKCE verifier"]
)
def test_invalid_grant_from_token_endpoint(
    tenant_admin_client, tenant, started, fake_identity, case
):
    state, before = started
    fake_identity.mock_token(status=400, json={"error": "invalid_grant"})

    response = callback(tenant_admin_client, code="code-abcdef", state=state)

    assert response.status_code == 400
    assert _reason(response) == "code_rejected"
    assert "30 seconds" in response.content.decode()
    _assert_untouched(tenant, before)


def test_wrong_client_secret(tenant_admin_client, tenant, started, fake_identity):
    state, before = started
    fake_identity.mock_token(
        status=401, json={"error": "invalid_client", "secret": CLIENT_SECRET}
    )

    response = callback(tenant_admin_client, code="code-abcdef", state=state)

    assert response.status_code == 502
    assert _reason(response) == "client_rejected"
    assert CLIENT_SECRET not in response.content.decode()
    _assert_untouched(tenant, before)


@pytest.mark.parametrize(
    "mock",
    [
        {"status": 500, "body": "upstream " + ACCESS},
        {"status": 503, "json": {"error": "temporarily_unavailable"}},
        {"status": 429, "json": {"error": {"message": "Rate Limit Exceeded"}}},
        {"body": requests.exceptions.ReadTimeout("slow")},
        {"body": requests.exceptions.ConnectionError("down")},
    ],
    ids=["500", "503", "429", "timeout", "connection-error"],
)
def test_token_endpoint_unavailable(
    tenant_admin_client, tenant, started, mocked_responses, caplog, mock
):
    state, before = started
    mocked_responses.post(TOKEN_URL, **mock)

    with caplog.at_level(logging.DEBUG):
        response = callback(tenant_admin_client, code="code-abcdef", state=state)

    assert response.status_code == 502
    assert _reason(response) == "unavailable"
    assert ACCESS not in caplog.text
    _assert_untouched(tenant, before)


@pytest.mark.parametrize(
    "body",
    [
        {"expires_in": "abc"},
        {"expires_in": -5},
        {"expires_in": None},
        {"access_token": None},
        {"token_type": "mac"},
    ],
    ids=["expires-abc", "expires-negative", "expires-missing", "no-token", "type"],
)
def test_malformed_token_response_shows_error_page(
    tenant_admin_client, tenant, started, fake_identity, caplog, body
):
    state, before = started
    fake_identity.mock_token(**body)

    with caplog.at_level(logging.DEBUG):
        response = callback(tenant_admin_client, code="code-abcdef", state=state)

    assert response.status_code == 502
    assert _reason(response) == "malformed"
    assert REFRESH not in caplog.text
    _assert_untouched(tenant, before)


def test_html_instead_of_json_is_malformed(
    tenant_admin_client, tenant, started, mocked_responses
):
    state, before = started
    mocked_responses.post(TOKEN_URL, body="<html>" + ACCESS, status=200)

    response = callback(tenant_admin_client, code="code-abcdef", state=state)

    assert _reason(response) == "malformed"
    assert ACCESS not in response.content.decode()
    _assert_untouched(tenant, before)


@pytest.mark.parametrize(
    "overrides",
    [
        {"aud": [API, "someone-elses-client"], "azp": None},
        {"aud": ["https://api.evil.example", CLIENT_ID]},
        {"aud": [API, EU_API, CLIENT_ID]},
        {"iss": "https://evil.example/global/oauth/anonymous"},
        {"exp": 1_000_000, "iat": 999_000, "nbf": 999_000},
        {"azp": "someone-elses-client"},
        {"account_id": None},
        {"subdomain": None},
        {"subdomain": "acme.evil.example"},
        {"account_id": "P" * 41},
    ],
    ids=[
        "foreign-aud",
        "unknown-api-host",
        "two-api-hosts",
        "issuer",
        "expired",
        "azp",
        "no-account",
        "no-subdomain",
        "bad-subdomain",
        "long-account",
    ],
)
def test_invalid_id_token_is_refused(
    tenant_admin_client, tenant, started, fake_identity, overrides
):
    state, before = started
    fake_identity.mock_token(id_token=fake_identity.id_token(**overrides))
    fake_identity.mock_jwks()

    response = callback(tenant_admin_client, code="code-abcdef", state=state)

    assert response.status_code == 502
    assert _reason(response) == "id_token"
    _assert_untouched(tenant, before)


def test_id_token_signed_by_another_key_is_refused(
    tenant_admin_client, tenant, started, fake_identity, other_key
):
    state, before = started
    fake_identity.mock_token(id_token=fake_identity.id_token(key=other_key))
    fake_identity.mock_jwks()

    response = callback(tenant_admin_client, code="code-abcdef", state=state)

    assert _reason(response) == "id_token"
    _assert_untouched(tenant, before)


def test_unsigned_or_hmac_id_token_is_refused(
    tenant_admin_client, tenant, started, fake_identity
):
    import jwt

    state, before = started
    forged = jwt.encode(
        {"iss": ISSUER, "aud": [API, CLIENT_ID], "sub": "x"},
        CLIENT_SECRET * 2,
        algorithm="HS256",
        headers={"kid": "test-key-1"},
    )
    fake_identity.mock_token(id_token=forged)
    fake_identity.mock_jwks()

    response = callback(tenant_admin_client, code="code-abcdef", state=state)

    assert _reason(response) == "id_token"
    _assert_untouched(tenant, before)


def test_missing_id_token_is_refused(
    tenant_admin_client, tenant, started, fake_identity
):
    state, before = started
    fake_identity.mock_token(id_token=None)

    response = callback(tenant_admin_client, code="code-abcdef", state=state)

    assert _reason(response) == "id_token"
    _assert_untouched(tenant, before)


def test_app_issuer_variant_is_accepted(
    tenant_admin_client, tenant, pagerduty_client, fake_identity
):
    state = start_connect(tenant_admin_client, tenant)["state"][0]
    fake_identity.mock_token(
        id_token=fake_identity.id_token(
            iss="https://app.pagerduty.test/global/oauth/anonymous"
        )
    )
    fake_identity.mock_jwks()
    fake_identity.mock_me()

    response = callback(tenant_admin_client, code="code-abcdef", state=state)

    assert response.status_code == 302
    assert Connection.objects.get(tenant=tenant).status == "active"


def test_eu_account_uses_the_eu_api_host(
    tenant_admin_client, tenant, pagerduty_client, fake_identity
):
    state = start_connect(tenant_admin_client, tenant)["state"][0]
    fake_identity.mock_token(id_token=fake_identity.id_token(aud=[EU_API, CLIENT_ID]))
    fake_identity.mock_jwks()
    fake_identity.mock_me(url=f"{EU_API}/users/me")

    callback(tenant_admin_client, code="code-abcdef", state=state)

    connection = Connection.objects.get(tenant=tenant)
    assert (connection.region, connection.api_url) == ("eu", EU_API)


def test_user_of_another_pagerduty_account_is_refused(
    tenant_admin_client, tenant, started, fake_identity
):
    state, before = started
    fake_identity.mock_token(
        id_token=fake_identity.id_token(subdomain="globex", account_id="PGLOBEX")
    )
    fake_identity.mock_jwks()
    fake_identity.mock_me()

    response = callback(tenant_admin_client, code="code-abcdef", state=state)

    assert response.status_code == 403
    assert _reason(response) == "other_account"
    page = response.content.decode()
    assert "only works for users of the PagerDuty account" in page
    assert "globex" in page
    _assert_untouched(tenant, before)


def test_tenant_connected_to_another_account_is_not_switched_silently(
    tenant_admin_client, tenant, started, fake_identity, pagerduty_client
):
    state, before = started
    pagerduty_client.subdomain = ""
    pagerduty_client.save()
    fake_identity.mock_token(
        id_token=fake_identity.id_token(subdomain="globex", account_id="PGLOBEX")
    )
    fake_identity.mock_jwks()
    fake_identity.mock_me()

    response = callback(tenant_admin_client, code="code-abcdef", state=state)

    assert response.status_code == 409
    assert _reason(response) == "account_changed"
    _assert_untouched(tenant, before)


@pytest.mark.parametrize("status", [401, 500])
def test_profile_failure_is_refused(
    tenant_admin_client, tenant, started, fake_identity, status
):
    state, before = started
    fake_identity.mock_token()
    fake_identity.mock_jwks()
    fake_identity.mock_me(status=status)

    response = callback(tenant_admin_client, code="code-abcdef", state=state)

    assert _reason(response) == "profile"
    _assert_untouched(tenant, before)


def test_integration_disabled_before_connect(
    tenant_admin_client, tenant, pagerduty_client
):
    pagerduty_client.enabled = False
    pagerduty_client.save()

    response = tenant_admin_client.post(
        reverse("integrations:tenant_connect", args=[tenant.pk])
    )

    assert response.status_code == 409
    assert _reason(response) == "not_configured"
    assert Connection.objects.count() == 0


def test_integration_not_configured_in_this_environment(tenant_admin_client, tenant):
    response = tenant_admin_client.post(
        reverse("integrations:tenant_connect", args=[tenant.pk])
    )

    assert response.status_code == 409
    assert _reason(response) == "not_configured"


def test_integration_disabled_during_connect(
    tenant_admin_client, tenant, started, pagerduty_client, mocked_responses
):
    state, before = started
    pagerduty_client.enabled = False
    pagerduty_client.save()

    response = callback(tenant_admin_client, code="code-abcdef", state=state)

    assert response.status_code == 409
    assert _reason(response) == "not_configured"
    assert len(mocked_responses.calls) == 0
    _assert_untouched(tenant, before)


def test_member_who_is_not_admin_cannot_connect(
    client, tenant, tenant_member, pagerduty_client, mocked_responses
):
    client.force_login(tenant_member)

    response = client.post(reverse("integrations:tenant_connect", args=[tenant.pk]))

    assert response.status_code == 403
    assert _reason(response) == "not_admin"
    assert "socialaccount_states" not in client.session
    assert client.post(reverse("pagerduty_login")).status_code == 404


def test_admin_demoted_during_connect_stores_nothing(
    tenant_admin_client, tenant, tenant_admin, started, fake_identity
):
    state, before = started
    Membership.objects.filter(user=tenant_admin).update(role=Membership.Role.MEMBER)
    fake_identity.mock_success()

    response = callback(tenant_admin_client, code="code-abcdef", state=state)

    assert response.status_code == 403
    assert _reason(response) == "not_admin"
    _assert_untouched(tenant, before)


def test_outsider_gets_404_for_connect(client, tenant, pagerduty_client, db):
    from tests.factories import UserFactory

    client.force_login(UserFactory(username="mallory"))

    response = client.post(reverse("integrations:tenant_connect", args=[tenant.pk]))

    assert response.status_code == 404


def test_connect_requires_post_and_csrf(tenant_admin, tenant, pagerduty_client):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(tenant_admin)
    url = reverse("integrations:tenant_connect", args=[tenant.pk])

    assert browser.get(url).status_code == 405
    assert browser.post(url).status_code == 403
    assert "socialaccount_states" not in browser.session


def test_failed_connect_is_audited_without_secrets(
    tenant_admin_client, tenant, started, fake_identity
):
    state, _ = started
    fake_identity.mock_token(status=400, json={"error": "invalid_grant"})

    callback(tenant_admin_client, code="secret-code-value", state=state)

    event = AuditEvent.objects.get(action="connection.failed")
    assert event.details == {"reason": "code_rejected"}
    assert "secret-code-value" not in str(event.details)


def test_error_page_is_not_cached(tenant_admin_client, tenant, started):
    response = callback(tenant_admin_client, code="code-abcdef", state="nope")

    assert "no-store" in response["Cache-Control"]
    assert response["Referrer-Policy"] == "no-referrer"


def test_oversized_code_is_refused_without_a_token_request(
    tenant_admin_client, tenant, started, mocked_responses
):
    state, before = started

    response = callback(tenant_admin_client, code="x" * 257, state=state)

    assert _reason(response) == "code_rejected"
    assert len(mocked_responses.calls) == 0
    _assert_untouched(tenant, before)


@pytest.mark.parametrize("method", ["post", "head", "put"])
def test_callback_answers_only_get(
    tenant_admin_client, tenant, started, mocked_responses, method
):
    state, before = started

    response = getattr(tenant_admin_client, method)(
        f"{reverse('pagerduty_callback')}?code=the-code-123&state={state}"
    )

    assert response.status_code == 405
    assert len(mocked_responses.calls) == 0
    assert state in statekit.get_states(tenant_admin_client)
    _assert_untouched(tenant, before)


@pytest.mark.parametrize(
    "code", ["a", "short", "a\x00bcdefghi", "abcd\r\nSet-Cookie: x=1", "a b c d e f"]
)
def test_malformed_code_is_refused_without_a_token_request(
    tenant_admin_client, tenant, started, mocked_responses, code
):
    state, before = started

    response = callback(tenant_admin_client, code=code, state=state)

    assert response.status_code == 400
    assert _reason(response) == "code_rejected"
    assert len(mocked_responses.calls) == 0
    _assert_untouched(tenant, before)


def test_callback_without_any_connect_in_this_browser(client, tenant_admin, db):
    client.force_login(tenant_admin)

    response = callback(client, code="code-abcdef", state="whatever")

    assert response.status_code == 400
    assert _reason(response) == "state"


def test_anonymous_callback_ends_on_the_error_page(client, db):
    response = callback(client, code="code-abcdef", state="whatever")

    assert response.status_code == 400
    assert _reason(response) == "state"


def test_rest_style_error_body_from_token_endpoint_is_handled(
    tenant_admin_client, tenant, started, fake_identity
):
    state, before = started
    fake_identity.mock_token(
        status=400, json={"error": {"message": "Invalid Input", "code": 2001}}
    )

    response = callback(tenant_admin_client, code="code-abcdef", state=state)

    assert response.status_code == 400
    assert _reason(response) == "code_rejected"
    _assert_untouched(tenant, before)
