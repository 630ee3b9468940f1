import logging

import pytest
import requests
from responses import matchers

from integrations.pagerduty import identity

TOKEN_URL = "https://identity.pagerduty.test/oauth/token"
ACCESS = "CANARY-AT-pdus+_0XBPWQQ_identity"
REFRESH = "CANARY-RT-pdus+_1XBPWQQ_identity"
SECRET = "CANARY-CS-identity-secret"


def _refresh():
    return identity.refresh_token_grant(
        client_id="client-123", client_secret=SECRET, refresh_token=REFRESH
    )


def test_refresh_posts_the_form_and_parses_rotated_tokens(mocked_responses):
    mocked_responses.post(
        TOKEN_URL,
        match=[
            matchers.urlencoded_params_matcher(
                {
                    "grant_type": "refresh_token",
                    "client_id": "client-123",
                    "client_secret": SECRET,
                    "refresh_token": REFRESH,
                }
            )
        ],
        json={
            "access_token": ACCESS,
            "refresh_token": "new-refresh",
            "token_type": "bearer",
            "scope": "openid incidents.read",
            "expires_in": 86400,
        },
    )

    token = _refresh()

    assert token.access_token == ACCESS
    assert token.refresh_token == "new-refresh"
    assert token.scopes == ["openid", "incidents.read"]
    assert token.expires_in == 86400
    assert ACCESS not in repr(token)


def test_client_credentials_names_the_account_in_the_scope(mocked_responses):
    mocked_responses.post(
        TOKEN_URL,
        match=[
            matchers.urlencoded_params_matcher(
                {"scope": "as_account-eu.acme incidents.read services.read"},
                allow_blank=True,
                strict_match=False,
            )
        ],
        json={"access_token": "a", "token_type": "bearer", "expires_in": 86400},
    )

    token = identity.client_credentials_token(
        client_id="c",
        client_secret=SECRET,
        region="eu",
        subdomain="acme",
        scopes=["incidents.read", "services.read"],
    )

    assert token.refresh_token == ""


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (400, {"error": "invalid_grant"}, "invalid_grant"),
        (401, {"error": "invalid_client", "error_description": "x"}, "invalid_client"),
        (400, {"error": f"weird {ACCESS}"}, "other"),
        (400, None, "other"),
    ],
)
def test_refusals_carry_only_a_known_error_code(mocked_responses, status, body, error):
    mocked_responses.post(TOKEN_URL, status=status, json=body)

    with pytest.raises(identity.TokenEndpointError) as caught:
        _refresh()

    assert caught.value.kind == "rejected"
    assert caught.value.error == error
    assert ACCESS not in str(caught.value)


@pytest.mark.parametrize("failure", [requests.Timeout(), requests.ConnectionError()])
def test_network_failures_are_unavailable(mocked_responses, failure):
    mocked_responses.post(TOKEN_URL, body=failure)

    with pytest.raises(identity.TokenEndpointError) as caught:
        _refresh()

    assert caught.value.kind == "unavailable"


def test_server_errors_are_unavailable(mocked_responses):
    mocked_responses.post(TOKEN_URL, status=503, body=f"upstream {ACCESS}")

    with pytest.raises(identity.TokenEndpointError) as caught:
        _refresh()

    assert (caught.value.kind, caught.value.status) == ("unavailable", 503)


@pytest.mark.parametrize(
    "body",
    [
        {"access_token": ACCESS, "token_type": "bearer", "expires_in": "soon"},
        {"access_token": ACCESS, "token_type": "bearer", "expires_in": -5},
        {"access_token": ACCESS, "token_type": "bearer", "expires_in": True},
        {"access_token": ACCESS, "token_type": "bearer", "expires_in": 10**12},
        {"access_token": ACCESS, "token_type": "mac", "expires_in": 60},
        {"token": ACCESS, "token_type": "bearer", "expires_in": 60},
        [ACCESS],
    ],
)
def test_unusable_success_bodies_are_malformed_and_never_echoed(
    mocked_responses, caplog, body
):
    mocked_responses.post(TOKEN_URL, json=body)

    with (
        caplog.at_level(logging.DEBUG),
        pytest.raises(identity.TokenEndpointError) as caught,
    ):
        _refresh()

    assert caught.value.kind == "malformed"
    assert ACCESS not in str(caught.value)
    assert ACCESS not in caplog.text
    assert SECRET not in caplog.text


def test_numeric_string_expires_in_is_accepted(mocked_responses):
    mocked_responses.post(
        TOKEN_URL,
        json={"access_token": "a", "token_type": "Bearer", "expires_in": "3600"},
    )

    assert _refresh().expires_in == 3600
