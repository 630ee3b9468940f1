import pytest

from integrations.pagerduty import id_token
from integrations.pagerduty.flow import ConnectError
from tests.connect_fixtures import API, CLIENT_ID, ISSUER


def test_both_documented_issuers_are_accepted_for_real_pagerduty(settings):
    settings.PAGERDUTY_IDENTITY_URL = "https://identity.pagerduty.com"

    assert id_token.accepted_issuers() == [
        "https://identity.pagerduty.com/global/oauth/anonymous",
        "https://app.pagerduty.com/global/oauth/anonymous",
    ]


def test_a_sandbox_host_accepts_only_its_own_issuer(settings):
    settings.PAGERDUTY_IDENTITY_URL = "http://127.0.0.1:8765"

    assert id_token.accepted_issuers() == [
        "http://127.0.0.1:8765/global/oauth/anonymous"
    ]


def test_verify_returns_the_account_from_the_claims(fake_identity):
    fake_identity.mock_jwks()

    found = id_token.verify(fake_identity.id_token(), client_id=CLIENT_ID)

    assert found == id_token.Identity(
        account_id="PACCT01",
        subdomain="acme",
        region="us",
        api_url=API,
        user_id="PUSER01",
        delegation_id="PDELEG01",
    )


def test_unknown_key_id_is_refused(fake_identity):
    fake_identity.mock_jwks()
    token = fake_identity.id_token(headers={"kid": "rotated-away"})

    with pytest.raises(ConnectError) as excinfo:
        id_token.verify(token, client_id=CLIENT_ID)

    assert excinfo.value.reason == "id_token"


def test_unreachable_jwks_is_refused(fake_identity, mocked_responses):
    mocked_responses.get(f"{ISSUER}/jwks", status=503)

    with pytest.raises(ConnectError):
        id_token.verify(fake_identity.id_token(), client_id=CLIENT_ID)


def test_garbage_is_refused(mocked_responses):
    with pytest.raises(ConnectError):
        id_token.verify("not-a-jwt", client_id=CLIENT_ID)
