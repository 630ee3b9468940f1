import pytest
import requests
from django.core.cache import cache
from django.urls import reverse
from responses import matchers

from integrations.models import AuditEvent
from integrations.services.oauth_clients import VERIFY_LIMIT, oauth_client_verify
from tests.factories import CLIENT_SECRET

pytestmark = pytest.mark.django_db

TOKEN_URL = "https://identity.pagerduty.test/oauth/token"
SCOPES = "incidents.read incidents.write services.read"


@pytest.fixture(autouse=True)
def _clear_rate_limit():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def app(pagerduty_client):
    pagerduty_client.scopes = SCOPES
    pagerduty_client.save()
    return pagerduty_client


def token_reply(scope=f"as_account-us.acme {SCOPES}"):
    return {
        "access_token": "pdus+_0APPTOKEN",
        "scope": scope,
        "token_type": "bearer",
        "expires_in": 86400,
    }


def test_verify_sends_client_credentials_for_the_account_and_scopes(
    app, staff_user, mocked_responses
):
    mocked_responses.post(
        TOKEN_URL,
        json=token_reply(),
        match=[
            matchers.urlencoded_params_matcher(
                {
                    "grant_type": "client_credentials",
                    "client_id": app.client_id,
                    "client_secret": CLIENT_SECRET,
                    "scope": f"as_account-us.acme {SCOPES}",
                }
            )
        ],
    )

    verification = oauth_client_verify(client=app, actor=staff_user)

    assert verification.outcome == "ok"
    assert verification.granted == SCOPES.split()
    assert verification.missing == []
    assert "account us.acme" in verification.message
    event = AuditEvent.objects.get()
    assert event.action == AuditEvent.Action.CONFIG_VERIFIED
    assert event.details == {"outcome": "ok", "missing": []}
    assert event.environment == app.environment


def test_verify_reports_scopes_pagerduty_did_not_grant(
    app, staff_user, mocked_responses
):
    app.scopes = f"{SCOPES} teams.read"
    app.save()
    mocked_responses.post(TOKEN_URL, json=token_reply())

    verification = oauth_client_verify(client=app, actor=staff_user)

    assert verification.outcome == "ok"
    assert verification.missing == ["teams.read"]
    assert AuditEvent.objects.get().details == {
        "outcome": "ok",
        "missing": ["teams.read"],
    }


@pytest.mark.parametrize(
    ("status", "body", "outcome", "words"),
    [
        (401, {"error": "invalid_client"}, "invalid_client", "Client ID is unknown"),
        (400, {"error": "invalid_client"}, "invalid_client", "secret is wrong"),
        (401, {"message": "nope"}, "invalid_client", "does not recognise"),
        (400, {"error": "invalid_request"}, "rejected", "subdomain 'acme'"),
        (400, {"error": "invalid_scope"}, "rejected", "Permission Scope list"),
        (400, {"error": "invalid_grant"}, "rejected", "region US"),
        (400, {"error": "unauthorized_client"}, "not_scoped", "Scoped OAuth"),
        (403, {"error": "teapot"}, "rejected", "HTTP 403"),
        (503, {"error": "down"}, "unavailable", "HTTP 503"),
        (200, {"token_type": "bearer"}, "malformed", "not with a token"),
    ],
)
def test_verify_explains_each_failure_in_words(
    app, staff_user, mocked_responses, status, body, outcome, words
):
    mocked_responses.post(TOKEN_URL, status=status, json=body)

    verification = oauth_client_verify(client=app, actor=staff_user)

    assert verification.outcome == outcome
    assert words in verification.message
    assert CLIENT_SECRET not in verification.message
    event = AuditEvent.objects.get()
    assert event.action == AuditEvent.Action.CONFIG_VERIFY_FAILED
    assert event.get_action_display() == "Credentials check failed"
    assert event.details == {"outcome": outcome}


def test_verify_reports_pagerduty_unreachable(app, staff_user, mocked_responses):
    mocked_responses.post(TOKEN_URL, body=requests.ConnectTimeout("timed out"))

    verification = oauth_client_verify(client=app, actor=staff_user)

    assert verification.outcome == "unavailable"
    assert "could not be reached" in verification.message


def test_verify_needs_the_subdomain_and_calls_nothing(
    app, staff_user, mocked_responses
):
    app.subdomain = ""
    app.save()

    verification = oauth_client_verify(client=app, actor=staff_user)

    assert verification.outcome == "no_subdomain"
    assert "subdomain" in verification.message
    assert not AuditEvent.objects.exists()


def test_verify_is_rate_limited_per_environment(app, staff_user, mocked_responses):
    mocked_responses.post(TOKEN_URL, json=token_reply())
    for _ in range(VERIFY_LIMIT):
        assert oauth_client_verify(client=app, actor=staff_user).ok

    verification = oauth_client_verify(client=app, actor=staff_user)

    assert verification.outcome == "rate_limited"
    assert len(mocked_responses.calls) == VERIFY_LIMIT
    assert AuditEvent.objects.count() == VERIFY_LIMIT


def test_verify_button_shows_the_outcome_once(
    client, app, staff_user, mocked_responses
):
    mocked_responses.post(TOKEN_URL, status=401, json={"error": "invalid_client"})
    client.force_login(staff_user)
    url = reverse("integrations:pagerduty_verify", args=["development"])

    response = client.post(url, follow=True)

    html = response.content.decode()
    assert "Verification failed" in html
    assert "does not recognise this Client ID" in html
    assert CLIENT_SECRET not in html
    again = client.get(reverse("integrations:pagerduty_config", args=["development"]))
    assert "Verification failed" not in again.content.decode()
    assert "Last check" in again.content.decode()
    assert "just now by staff" in again.content.decode()


def test_verify_button_lists_granted_and_missing_scopes(
    client, app, staff_user, mocked_responses
):
    app.scopes = f"{SCOPES} users.read"
    app.save()
    mocked_responses.post(TOKEN_URL, json=token_reply())
    client.force_login(staff_user)
    url = reverse("integrations:pagerduty_verify", args=["development"])

    response = client.post(url, follow=True)

    html = response.content.decode()
    assert "Credentials verified" in html
    assert "<code>users.read</code>" in html
    assert "not granted" in html


def test_verify_without_an_app_says_to_save_first(client, staff_user, development):
    client.force_login(staff_user)
    url = reverse("integrations:pagerduty_verify", args=["development"])

    response = client.post(url, follow=True)

    assert "Save the Client ID and Client Secret first." in response.content.decode()
    assert not AuditEvent.objects.exists()


def test_a_verification_shows_only_in_its_own_environment(
    client, app, staff_user, mocked_responses
):
    mocked_responses.post(TOKEN_URL, json=token_reply())
    client.force_login(staff_user)
    client.post(reverse("integrations:pagerduty_verify", args=["development"]))

    staging = client.get(reverse("integrations:pagerduty_config", args=["staging"]))
    development = client.get(
        reverse("integrations:pagerduty_config", args=["development"])
    )

    assert "Credentials verified" not in staging.content.decode()
    assert "Credentials verified" in development.content.decode()
