"""Classic User OAuth apps in the sandbox (DD 06-OAuth-Functionality.md)."""

import jwt
import pytest
import requests

from pagerduty_sandbox.seed import classic_app_credentials, tenant_app_credentials
from tests.pagerduty_sandbox.flow import (
    authorize_params,
    decide,
    exchange,
    hidden_fields,
    pkce_pair,
    redirect_query,
    signed_in_session,
)

DAY = 86400


@pytest.fixture
def classic(pagerduty_sandbox):
    return classic_app_credentials(pagerduty_sandbox.options.seed)


def _code(sandbox, app, email, *, scope="write", pkce=True):
    verifier, challenge = pkce_pair()
    params = authorize_params(
        sandbox,
        challenge if pkce else None,
        client_id=app.client_id,
        redirect_uri=app.redirect_uris[0],
        scope=scope,
        code_challenge_method="S256" if pkce else None,
    )
    response = decide(signed_in_session(sandbox, email), sandbox, params)
    return redirect_query(response), verifier


def _tokens(sandbox, app, email, **kwargs):
    query, verifier = _code(sandbox, app, email, **kwargs)
    response = exchange(
        sandbox,
        query["code"],
        verifier if kwargs.get("pkce", True) else None,
        client_id=app.client_id,
        client_secret=app.client_secret,
        redirect_uri=app.redirect_uris[0],
    )
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize(
    ("email", "subdomain"),
    [
        ("ian@initech.example", "initech"),
        ("gina@globex.example", "globex"),
        ("alice@acme.example", "acme"),
    ],
)
def test_users_of_any_account_authorize_a_classic_app(
    pagerduty_sandbox, classic, email, subdomain
):
    body = _tokens(pagerduty_sandbox, classic, email)

    claims = jwt.decode(body["id_token"], options={"verify_signature": False})
    assert body["scope"] == "openid write"
    assert claims["subdomain"] == subdomain
    assert body["expires_in"] == 30 * DAY


def test_a_classic_token_reads_and_writes_its_users_account_only(
    pagerduty_sandbox, classic
):
    sandbox = pagerduty_sandbox
    body = _tokens(sandbox, classic, "ian@initech.example")
    claims = jwt.decode(body["id_token"], options={"verify_signature": False})
    headers = {
        "Authorization": f"Bearer {body['access_token']}",
        "Accept": "application/vnd.pagerduty+json;version=2",
    }

    incidents = requests.get(f"{sandbox.url}/incidents", headers=headers, timeout=5)
    oncalls = requests.get(f"{sandbox.url}/oncalls", headers=headers, timeout=5)
    eu = requests.get(f"{sandbox.eu_api_url}/incidents", headers=headers, timeout=5)

    assert incidents.status_code == 200
    assert oncalls.status_code == 200
    assert eu.status_code == 401
    with sandbox.state.lock:
        initech = sandbox.state.account_by_subdomain("initech")
        owners = {
            sandbox.state.incidents[i["id"]].account_id
            for i in incidents.json()["incidents"]
        }
    assert claims["aud"][0] == sandbox.url
    assert owners == {initech.id}


def test_a_classic_read_token_may_read_but_not_write(pagerduty_sandbox, classic):
    sandbox = pagerduty_sandbox
    body = _tokens(sandbox, classic, "ian@initech.example", scope="read")
    headers = {
        "Authorization": f"Bearer {body['access_token']}",
        "Accept": "application/vnd.pagerduty+json;version=2",
        "From": "ian@initech.example",
    }

    listing = requests.get(f"{sandbox.url}/services", headers=headers, timeout=5)
    service = listing.json()["services"][0]
    write = requests.put(
        f"{sandbox.url}/services/{service['id']}",
        json={"service": {"description": "x"}},
        headers=headers,
        timeout=5,
    )

    assert body["scope"] == "openid read"
    assert listing.status_code == 200
    assert write.status_code == 403
    assert "requires the services.write scope" in write.text


@pytest.mark.parametrize(
    ("scope", "granted"),
    [
        ("write", "openid write"),
        ("read", "openid read"),
        ("Write", "openid"),
        ("incidents.read", "openid"),
    ],
)
def test_classic_scopes_are_case_sensitive_and_unknown_ones_dropped(
    pagerduty_sandbox, classic, scope, granted
):
    body = _tokens(pagerduty_sandbox, classic, "ian@initech.example", scope=scope)

    assert body["scope"] == granted


def test_a_stakeholder_gets_read_from_a_classic_write_app(pagerduty_sandbox, classic):
    body = _tokens(pagerduty_sandbox, classic, "erin@acme.example")

    assert body["scope"] == "openid read"


def test_a_confidential_classic_client_may_skip_pkce(pagerduty_sandbox, classic):
    body = _tokens(pagerduty_sandbox, classic, "ian@initech.example", pkce=False)

    assert body["scope"] == "openid write"


def test_a_scoped_app_still_requires_pkce(pagerduty_sandbox):
    sandbox = pagerduty_sandbox
    session = signed_in_session(sandbox)
    params = authorize_params(sandbox, None, code_challenge_method=None)

    response = session.get(
        f"{sandbox.url}/oauth/authorize",
        params=params,
        allow_redirects=False,
        timeout=5,
    )

    assert redirect_query(response)["error"] == "invalid_request"


def test_a_non_confidential_classic_client_needs_pkce_and_no_secret(
    pagerduty_sandbox, classic
):
    sandbox = pagerduty_sandbox
    query, verifier = _code(sandbox, classic, "ian@initech.example")
    without_pkce, _ = _code(sandbox, classic, "ian@initech.example", pkce=False)

    public = exchange(
        sandbox,
        query["code"],
        verifier,
        client_id=classic.client_id,
        client_secret=None,
        redirect_uri=classic.redirect_uris[0],
    )
    refused = exchange(
        sandbox,
        without_pkce["code"],
        None,
        client_id=classic.client_id,
        client_secret=None,
        redirect_uri=classic.redirect_uris[0],
    )

    assert public.status_code == 200
    assert refused.status_code == 400
    assert refused.json()["error"] in ("invalid_request", "invalid_grant")


def test_classic_refresh_tokens_rotate_and_live_210_days(pagerduty_sandbox, classic):
    sandbox = pagerduty_sandbox
    body = _tokens(sandbox, classic, "ian@initech.example")

    refreshed = requests.post(
        f"{sandbox.url}/oauth/token",
        data={
            "grant_type": "refresh_token",
            "client_id": classic.client_id,
            "client_secret": classic.client_secret,
            "refresh_token": body["refresh_token"],
        },
        timeout=5,
    )

    assert refreshed.status_code == 200
    assert refreshed.json()["refresh_token"] != body["refresh_token"]
    with sandbox.state.lock:
        grant = sandbox.state.grant_for_refresh_token(refreshed.json()["refresh_token"])
        lifetime = grant.refresh_expires_at - sandbox.state.now()
    assert lifetime.days == 210


def test_a_classic_app_gets_no_app_token(pagerduty_sandbox, classic):
    response = requests.post(
        f"{pagerduty_sandbox.url}/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": classic.client_id,
            "client_secret": classic.client_secret,
            "scope": "as_account-us.acme incidents.read",
        },
        timeout=5,
    )

    assert response.status_code == 400
    assert response.json()["error"] == "unauthorized_client"


@pytest.mark.parametrize(
    ("secret_ok", "error", "status"),
    [(True, "invalid_grant", 400), (False, "invalid_client", 401)],
)
def test_a_bogus_code_tells_a_known_client_from_wrong_credentials(
    pagerduty_sandbox, classic, secret_ok, error, status
):
    response = exchange(
        pagerduty_sandbox,
        "not-a-code-0000",
        "v" * 43,
        client_id=classic.client_id,
        client_secret=classic.client_secret if secret_ok else "wrong-secret-0",
        redirect_uri=classic.redirect_uris[0],
    )

    assert (response.status_code, response.json()["error"]) == (status, error)


def test_a_scoped_tenant_app_refuses_users_of_other_accounts(pagerduty_sandbox):
    sandbox = pagerduty_sandbox
    globex = tenant_app_credentials(sandbox.options.seed)
    verifier, challenge = pkce_pair()
    params = authorize_params(
        sandbox,
        challenge,
        client_id=globex.client_id,
        redirect_uri=globex.redirect_uris[0],
    )

    refused = signed_in_session(sandbox, "alice@acme.example").get(
        f"{sandbox.url}/oauth/authorize", params=params, timeout=5
    )
    accepted = decide(
        signed_in_session(sandbox, "gina@globex.example"), sandbox, params
    )

    assert refused.status_code == 403
    assert "another PagerDuty account" in refused.text
    assert "code" in redirect_query(accepted)


def _register_classic(session, sandbox, name, **fields):
    """Walk New App → Configure OAuth 2.0 with Classic User OAuth; return it."""
    step_two = session.post(
        f"{sandbox.url}/developer/applications/new",
        data={
            **hidden_fields(
                session.get(f"{sandbox.url}/developer/applications/new").text
            ),
            "name": name,
            "description": "",
            "functionality": "oauth2",
        },
        timeout=5,
    )
    return session.post(
        f"{sandbox.url}/developer/applications/new/oauth",
        data={
            **hidden_fields(step_two.text),
            "oauth_type": "classic",
            "redirect_url": ["https://portal.example/integration-callback"],
            "action": "register",
            **fields,
        },
        timeout=5,
    )


def test_registering_a_classic_app_shows_its_credentials_once(pagerduty_sandbox):
    sandbox = pagerduty_sandbox
    session = signed_in_session(sandbox, "ian@initech.example")

    response = _register_classic(
        session,
        sandbox,
        "Initech tools",
        classic_scope="read",
        message="Reads your incidents.",
    )

    assert response.status_code == 201
    with sandbox.state.lock:
        app = next(a for a in sandbox.state.apps.values() if a.name == "Initech tools")
        assert (app.oauth_type, app.scopes, app.message) == (
            "classic",
            ["read"],
            "Reads your incidents.",
        )
        assert app.client_secret in response.text
    detail = session.get(f"{sandbox.url}/developer/applications/{app.id}").text
    assert "Classic User OAuth" in detail
    assert app.client_secret not in detail


@pytest.mark.parametrize(
    ("classic_scope", "message", "error"),
    [
        ("", "", "choose Read or Read/Write"),
        ("admin", "", "choose Read or Read/Write"),
        ("write", "x" * 501, "at most 500 characters"),
    ],
)
def test_classic_registration_errors_save_nothing(
    pagerduty_sandbox, classic_scope, message, error
):
    sandbox = pagerduty_sandbox
    session = signed_in_session(sandbox)
    before = len(sandbox.state.apps)

    response = _register_classic(
        session, sandbox, "X", classic_scope=classic_scope, message=message
    )

    assert response.status_code == 400
    assert error in response.text
    assert len(sandbox.state.apps) == before
