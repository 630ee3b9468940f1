import jwt
import pytest
import requests

from tests.pagerduty_sandbox.flow import (
    authorize_params,
    decide,
    exchange,
    hidden_fields,
    obtain_code,
    pkce_pair,
    redirect_query,
    signed_in_session,
)

DEMO_CALLBACK = "http://127.0.0.1:8000/integration-callback"


def _token(sandbox, **data):
    return requests.post(f"{sandbox.url}/oauth/token", data=data, timeout=5)


def _me(sandbox, token, base=None):
    return requests.get(
        f"{base or sandbox.url}/users/me",
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )


# --- Sign-in ---


def test_sign_in_with_a_seeded_user_shows_who_is_signed_in(pagerduty_sandbox):
    session = signed_in_session(pagerduty_sandbox)

    home = session.get(f"{pagerduty_sandbox.url}/", timeout=5)

    assert "alice@acme.example · acme (US)" in home.text


def test_sign_in_with_a_wrong_password_is_refused(pagerduty_sandbox):
    session = requests.Session()
    fields = hidden_fields(session.get(f"{pagerduty_sandbox.url}/sign_in").text)

    response = session.post(
        f"{pagerduty_sandbox.url}/sign_in",
        data={**fields, "email": "alice@acme.example", "password": "nope"},
        allow_redirects=False,
    )

    assert response.status_code == 400
    assert "Invalid email or password." in response.text


def test_sign_in_without_the_csrf_token_is_refused(pagerduty_sandbox):
    session = requests.Session()
    session.get(f"{pagerduty_sandbox.url}/sign_in")

    response = session.post(
        f"{pagerduty_sandbox.url}/sign_in",
        data={"email": "alice@acme.example", "password": "sandbox"},
        allow_redirects=False,
    )

    assert response.status_code == 403
    assert "Form expired" in response.text


@pytest.mark.parametrize(
    "next_url", ["https://evil.example/", "//evil.example/", "/\\evil.example"]
)
def test_sign_in_never_redirects_off_site(pagerduty_sandbox, next_url):
    session = requests.Session()
    fields = hidden_fields(
        session.get(f"{pagerduty_sandbox.url}/sign_in", params={"next": next_url}).text
    )

    response = session.post(
        f"{pagerduty_sandbox.url}/sign_in",
        data={**fields, "email": "bob@acme.example", "password": "sandbox"},
        allow_redirects=False,
    )

    assert response.headers["Location"] == "/"


def test_sign_out_ends_the_session(pagerduty_sandbox):
    session = signed_in_session(pagerduty_sandbox)
    fields = hidden_fields(session.get(f"{pagerduty_sandbox.url}/").text)

    session.post(f"{pagerduty_sandbox.url}/sign_out", data=fields)
    apps = session.get(
        f"{pagerduty_sandbox.url}/developer/applications", allow_redirects=False
    )

    assert apps.status_code == 303


def test_a_forged_cookie_is_not_a_sign_in(pagerduty_sandbox):
    session = requests.Session()
    session.cookies.set("pd_sandbox_session", "eyJ1aWQiOiAiUDEyMzQ1NiJ9.abc")

    apps = session.get(
        f"{pagerduty_sandbox.url}/developer/applications", allow_redirects=False
    )

    assert apps.status_code == 303
    assert apps.headers["Location"].startswith("/sign_in")


# --- Authorize ---


def test_authorize_signs_in_first_then_shows_consent(pagerduty_sandbox):
    _, challenge = pkce_pair()
    params = authorize_params(pagerduty_sandbox, challenge)
    session = requests.Session()

    first = session.get(
        f"{pagerduty_sandbox.url}/oauth/authorize",
        params=params,
        allow_redirects=False,
    )
    login = session.get(f"{pagerduty_sandbox.url}{first.headers['Location']}")
    fields = hidden_fields(login.text)
    signed = session.post(
        f"{pagerduty_sandbox.url}/sign_in",
        data={**fields, "email": "alice@acme.example", "password": "sandbox"},
    )

    assert first.headers["Location"].startswith("/sign_in?next=%2Foauth%2Fauthorize")
    assert signed.status_code == 200
    assert "Authorize Portal demo" in signed.text
    assert "<code>incidents.write</code>" in signed.text
    assert "Approve" in signed.text
    assert "Deny" in signed.text


def test_approve_redirects_with_a_code_and_echoes_state(pagerduty_sandbox):
    verifier, challenge = pkce_pair()
    session = signed_in_session(pagerduty_sandbox)

    response = decide(
        session, pagerduty_sandbox, authorize_params(pagerduty_sandbox, challenge)
    )

    assert response.status_code == 303
    assert response.headers["Location"].startswith(DEMO_CALLBACK + "?code=")
    assert redirect_query(response)["state"] == "st-123"


def test_deny_redirects_with_access_denied(pagerduty_sandbox):
    _, challenge = pkce_pair()
    session = signed_in_session(pagerduty_sandbox)

    response = decide(
        session,
        pagerduty_sandbox,
        authorize_params(pagerduty_sandbox, challenge),
        decision="deny",
    )

    assert redirect_query(response) == {
        "error": "access_denied",
        "error_description": "The resource owner or authorization server denied "
        "the request.",
        "state": "st-123",
    }
    assert pagerduty_sandbox.state.codes == {}


def test_consent_post_without_csrf_is_refused(pagerduty_sandbox):
    _, challenge = pkce_pair()
    session = signed_in_session(pagerduty_sandbox)
    params = authorize_params(pagerduty_sandbox, challenge)

    response = session.post(
        f"{pagerduty_sandbox.url}/oauth/authorize",
        data={**params, "decision": "approve"},
        allow_redirects=False,
    )

    assert response.status_code == 403
    assert pagerduty_sandbox.state.codes == {}


@pytest.mark.parametrize(
    ("overrides", "title"),
    [
        ({"client_id": "nope"}, "Unknown application"),
        ({"redirect_uri": "https://evil.example/cb"}, "redirect_uri is invalid"),
        ({"redirect_uri": DEMO_CALLBACK + "/"}, "redirect_uri is invalid"),
        ({"redirect_uri": None}, "redirect_uri is invalid"),
    ],
)
def test_authorize_errors_that_cannot_redirect_are_shown_as_a_page(
    pagerduty_sandbox, overrides, title
):
    _, challenge = pkce_pair()
    params = authorize_params(pagerduty_sandbox, challenge, **overrides)

    response = requests.get(
        f"{pagerduty_sandbox.url}/oauth/authorize",
        params=params,
        allow_redirects=False,
        timeout=5,
    )

    assert response.status_code == 400
    assert title in response.text
    assert "Location" not in response.headers


@pytest.mark.parametrize(
    ("overrides", "error", "fragment"),
    [
        ({"response_type": "token"}, "unsupported_response_type", "code"),
        ({"code_challenge": None}, "invalid_request", "PKCE"),
        ({"code_challenge_method": "plain"}, "invalid_request", "S256"),
        ({"code_challenge": "short"}, "invalid_request", "base64url"),
        ({"scope": None}, "invalid_request", "scope"),
    ],
)
def test_authorize_request_errors_redirect_back_with_state(
    pagerduty_sandbox, overrides, error, fragment
):
    _, challenge = pkce_pair()
    session = signed_in_session(pagerduty_sandbox)
    params = authorize_params(pagerduty_sandbox, challenge, **overrides)

    response = session.get(
        f"{pagerduty_sandbox.url}/oauth/authorize",
        params=params,
        allow_redirects=False,
    )

    query = redirect_query(response)
    assert response.headers["Location"].startswith(DEMO_CALLBACK + "?")
    assert query["error"] == error
    assert fragment in query["error_description"]
    assert query["state"] == "st-123"


def test_users_of_another_account_are_refused_with_a_page(pagerduty_sandbox):
    _, challenge = pkce_pair()
    session = signed_in_session(pagerduty_sandbox, "ian@initech.example")

    response = session.get(
        f"{pagerduty_sandbox.url}/oauth/authorize",
        params=authorize_params(pagerduty_sandbox, challenge),
        allow_redirects=False,
    )

    assert response.status_code == 403
    assert "This app belongs to another PagerDuty account" in response.text
    assert "You are signed in to initech" in response.text


@pytest.mark.parametrize(
    ("email", "requested", "granted"),
    [
        (
            "alice@acme.example",
            "incidents.read bogus.scope services.read",
            "openid incidents.read services.read",
        ),
        ("alice@acme.example", "bogus.scope", "openid"),
        ("alice@acme.example", "", "openid"),
        (
            "alice@acme.example",
            "as_account-us.acme incidents.read",
            "openid incidents.read",
        ),
        (
            "erin@acme.example",
            "incidents.read incidents.write",
            "openid incidents.read",
        ),
    ],
)
def test_token_scope_is_the_valid_requested_scopes_plus_openid(
    pagerduty_sandbox, email, requested, granted
):
    code, verifier = obtain_code(pagerduty_sandbox, email, scope=requested)

    response = exchange(pagerduty_sandbox, code, verifier)

    assert response.json()["scope"] == granted


def test_app_scopes_limit_what_a_user_token_gets(pagerduty_sandbox):
    app = pagerduty_sandbox.state.app_by_client_id(pagerduty_sandbox.demo_app.client_id)
    app.scopes = ["incidents.read", "services.read"]
    code, verifier = obtain_code(
        pagerduty_sandbox, scope="incidents.read incidents.write services.read"
    )

    response = exchange(pagerduty_sandbox, code, verifier)

    assert response.json()["scope"] == "openid incidents.read services.read"


# --- Token: authorization_code ---


def test_code_exchange_returns_tokens_and_a_verifiable_id_token(pagerduty_sandbox):
    code, verifier = obtain_code(pagerduty_sandbox)

    response = exchange(pagerduty_sandbox, code, verifier)

    body = response.json()
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert set(body) == {
        "access_token",
        "refresh_token",
        "token_type",
        "scope",
        "expires_in",
        "id_token",
    }
    assert body["access_token"].startswith("pdus+_0")
    assert body["refresh_token"].startswith("pdus+_1")
    assert body["token_type"] == "bearer"
    assert body["scope"] == "openid incidents.read incidents.write services.read"
    assert body["expires_in"] == 86400
    jwks = requests.get(
        f"{pagerduty_sandbox.url}/global/oauth/anonymous/jwks", timeout=5
    ).json()
    key = jwt.PyJWK(jwks["keys"][0]).key
    claims = jwt.decode(
        body["id_token"],
        key,
        algorithms=["RS256"],
        audience=pagerduty_sandbox.demo_app.client_id,
        issuer=f"{pagerduty_sandbox.url}/global/oauth/anonymous",
    )
    alice = pagerduty_sandbox.state.user_by_email("alice@acme.example")
    assert claims["aud"] == [
        pagerduty_sandbox.url,
        pagerduty_sandbox.demo_app.client_id,
    ]
    assert claims["user_id"] == alice.id
    assert claims["account_id"] == alice.account_id
    assert claims["subdomain"] == "acme"
    assert claims["region"] == "UnitedStates"
    assert claims["azp"] == pagerduty_sandbox.demo_app.client_id
    assert claims["exp"] - claims["iat"] == 3600
    assert {
        "nbf",
        "jti",
        "sub",
        "auth_time",
        "purpose",
        "at_hash",
        "acr",
        "delegation_id",
        "amr",
        "sid",
    } <= set(claims)
    assert _me(pagerduty_sandbox, body["access_token"]).json()["user"]["id"] == (
        alice.id
    )


def test_eu_user_token_names_the_eu_api_and_works_only_there(pagerduty_sandbox):
    app_id = pagerduty_sandbox.state.account_by_subdomain("globex").id
    demo = pagerduty_sandbox.state.app_by_client_id(
        pagerduty_sandbox.demo_app.client_id
    )
    demo.account_id = app_id  # the demo app, moved to the EU account
    code, verifier = obtain_code(pagerduty_sandbox, "gina@globex.example")

    body = exchange(pagerduty_sandbox, code, verifier).json()

    claims = jwt.decode(body["id_token"], options={"verify_signature": False})
    assert claims["aud"][0] == pagerduty_sandbox.eu_api_url
    assert claims["region"] == "Europe"
    assert _me(pagerduty_sandbox, body["access_token"]).status_code == 401
    eu = _me(pagerduty_sandbox, body["access_token"], pagerduty_sandbox.eu_api_url)
    assert eu.json()["user"]["email"] == "gina@globex.example"


def test_a_code_works_once_and_its_replay_revokes_the_tokens(pagerduty_sandbox):
    code, verifier = obtain_code(pagerduty_sandbox)
    first = exchange(pagerduty_sandbox, code, verifier).json()

    replay = exchange(pagerduty_sandbox, code, verifier)

    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"
    assert _me(pagerduty_sandbox, first["access_token"]).status_code == 401


def test_a_code_expires_after_30_seconds(pagerduty_sandbox):
    code, verifier = obtain_code(pagerduty_sandbox)
    pagerduty_sandbox.advance(30)

    response = exchange(pagerduty_sandbox, code, verifier)

    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_grant",
        "error_description": "The authorization code has expired.",
    }


@pytest.mark.parametrize(
    ("overrides", "status", "error"),
    [
        ({"client_secret": "wrong"}, 401, "invalid_client"),
        ({"client_secret": None}, 401, "invalid_client"),
        ({"client_id": "unknown"}, 401, "invalid_client"),
        ({"code_verifier": "x" * 43}, 400, "invalid_grant"),
        ({"code_verifier": None}, 400, "invalid_request"),
        ({"redirect_uri": DEMO_CALLBACK + "?x=1"}, 400, "invalid_grant"),
        ({"code": "not-a-code"}, 400, "invalid_grant"),
        ({"grant_type": "password"}, 400, "unsupported_grant_type"),
        ({"grant_type": None}, 400, "invalid_request"),
    ],
)
def test_code_exchange_errors(pagerduty_sandbox, overrides, status, error):
    code, verifier = obtain_code(pagerduty_sandbox)

    response = exchange(pagerduty_sandbox, code, verifier, **overrides)

    assert response.status_code == status
    assert response.json()["error"] == error
    assert pagerduty_sandbox.state.grants == {}


def test_token_endpoint_wants_a_form_body(pagerduty_sandbox):
    demo = pagerduty_sandbox.demo_app

    response = requests.post(
        f"{pagerduty_sandbox.url}/oauth/token",
        json={"grant_type": "client_credentials", "client_id": demo.client_id},
        timeout=5,
    )

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


# --- Token: refresh_token ---


def test_refresh_rotates_and_the_old_refresh_token_stops_working(pagerduty_sandbox):
    demo = pagerduty_sandbox.demo_app
    code, verifier = obtain_code(pagerduty_sandbox)
    first = exchange(pagerduty_sandbox, code, verifier).json()
    refresh = {
        "grant_type": "refresh_token",
        "client_id": demo.client_id,
        "client_secret": demo.client_secret,
    }

    second = _token(pagerduty_sandbox, **refresh, refresh_token=first["refresh_token"])
    reused = _token(pagerduty_sandbox, **refresh, refresh_token=first["refresh_token"])

    body = second.json()
    assert second.status_code == 200
    assert body["refresh_token"] != first["refresh_token"]
    assert body["scope"] == first["scope"]
    old_claims = jwt.decode(first["id_token"], options={"verify_signature": False})
    new_claims = jwt.decode(body["id_token"], options={"verify_signature": False})
    assert new_claims["delegation_id"] == old_claims["delegation_id"]
    assert reused.status_code == 400
    assert reused.json()["error"] == "invalid_grant"
    assert _me(pagerduty_sandbox, first["access_token"]).status_code == 401
    assert _me(pagerduty_sandbox, body["access_token"]).status_code == 200


def test_refresh_token_expires_after_its_lifetime(pagerduty_sandbox):
    demo = pagerduty_sandbox.demo_app
    pagerduty_sandbox.configure(refresh_ttl=60)
    code, verifier = obtain_code(pagerduty_sandbox)
    tokens = exchange(pagerduty_sandbox, code, verifier).json()
    pagerduty_sandbox.advance(61)

    response = _token(
        pagerduty_sandbox,
        grant_type="refresh_token",
        client_id=demo.client_id,
        client_secret=demo.client_secret,
        refresh_token=tokens["refresh_token"],
    )

    assert response.json()["error_description"] == "The refresh token has expired."


def test_access_token_expiry_gives_401(pagerduty_sandbox):
    pagerduty_sandbox.configure(access_ttl=5)
    code, verifier = obtain_code(pagerduty_sandbox)
    tokens = exchange(pagerduty_sandbox, code, verifier).json()
    pagerduty_sandbox.advance(5)

    response = _me(pagerduty_sandbox, tokens["access_token"])

    assert tokens["expires_in"] == 5
    assert response.status_code == 401
    assert "expired" in response.json()["error"]["errors"][0]


def test_refresh_with_another_apps_credentials_is_refused(pagerduty_sandbox):
    code, verifier = obtain_code(pagerduty_sandbox)
    tokens = exchange(pagerduty_sandbox, code, verifier).json()

    response = _token(
        pagerduty_sandbox,
        grant_type="refresh_token",
        client_id=pagerduty_sandbox.demo_app.client_id,
        client_secret="not-the-secret",
        refresh_token=tokens["refresh_token"],
    )

    assert response.status_code == 401


# --- Token: client_credentials ---


def test_client_credentials_gives_an_app_token_without_refresh(pagerduty_sandbox):
    demo = pagerduty_sandbox.demo_app

    response = _token(
        pagerduty_sandbox,
        grant_type="client_credentials",
        client_id=demo.client_id,
        client_secret=demo.client_secret,
        scope="as_account-us.acme incidents.read services.read",
    )

    body = response.json()
    assert response.status_code == 200
    assert set(body) == {"access_token", "scope", "token_type", "expires_in"}
    assert body["scope"] == "as_account-us.acme incidents.read services.read"
    assert body["expires_in"] == 86400
    me = _me(pagerduty_sandbox, body["access_token"])
    assert me.status_code == 400
    assert "account-level access token" in me.json()["error"]["message"]


@pytest.mark.parametrize(
    ("scope", "fragment"),
    [
        ("incidents.read", "exactly one as_account"),
        ("as_account-eu.acme incidents.read", "as_account-eu.acme is not"),
        ("as_account-us.initech incidents.read", "as_account-us.initech is not"),
        ("as_account-us.acme abilities.read", "Invalid scope: abilities.read"),
    ],
)
def test_client_credentials_scope_errors(pagerduty_sandbox, scope, fragment):
    demo = pagerduty_sandbox.demo_app

    response = _token(
        pagerduty_sandbox,
        grant_type="client_credentials",
        client_id=demo.client_id,
        client_secret=demo.client_secret,
        scope=scope,
    )

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert fragment in response.json()["error_description"]


# --- Discovery ---


def test_discovery_document_advertises_the_endpoints(pagerduty_sandbox):
    url = pagerduty_sandbox.url

    document = requests.get(
        f"{url}/global/oauth/anonymous/.well-known/openid-configuration", timeout=5
    ).json()

    assert document["issuer"] == f"{url}/global/oauth/anonymous"
    assert document["authorization_endpoint"] == f"{url}/oauth/authorize"
    assert document["token_endpoint"] == f"{url}/oauth/token"
    assert document["jwks_uri"] == f"{url}/global/oauth/anonymous/jwks"
    assert document["code_challenge_methods_supported"] == ["S256"]
    assert "webhook_subscriptions.write" in document["scopes_supported"]


def _second_app(sandbox):
    from pagerduty_sandbox.state import App

    state = sandbox.state
    demo = state.app_by_client_id(sandbox.demo_app.client_id)
    other = App(
        id=state.new_id(),
        account_id=demo.account_id,
        owner_user_id=demo.owner_user_id,
        name="Other",
        description="",
        client_id="other-client-0001",
        client_secret="other-secret-0001",
        redirect_uris=list(demo.redirect_uris),
        scopes=list(demo.scopes),
        created_at=state.now(),
    )
    state.apps[other.id] = other
    return other


def test_a_code_only_works_for_the_app_it_was_issued_to(pagerduty_sandbox):
    other = _second_app(pagerduty_sandbox)
    code, verifier = obtain_code(pagerduty_sandbox)

    response = exchange(
        pagerduty_sandbox,
        code,
        verifier,
        client_id=other.client_id,
        client_secret=other.client_secret,
    )

    assert response.json()["error"] == "invalid_grant"


def test_a_refresh_token_only_works_for_its_app(pagerduty_sandbox):
    other = _second_app(pagerduty_sandbox)
    code, verifier = obtain_code(pagerduty_sandbox)
    tokens = exchange(pagerduty_sandbox, code, verifier).json()

    response = _token(
        pagerduty_sandbox,
        grant_type="refresh_token",
        client_id=other.client_id,
        client_secret=other.client_secret,
        refresh_token=tokens["refresh_token"],
    )

    assert response.json()["error"] == "invalid_grant"


@pytest.mark.parametrize(
    ("data", "description"),
    [
        ({"grant_type": "refresh_token"}, "refresh_token is required."),
        ({"grant_type": "authorization_code"}, "code is required."),
        (
            {
                "grant_type": "client_credentials",
                "scope": "as_account-us.acme as_account-eu.acme",
            },
            "exactly one as_account",
        ),
    ],
)
def test_token_requests_missing_parameters(pagerduty_sandbox, data, description):
    demo = pagerduty_sandbox.demo_app

    response = _token(
        pagerduty_sandbox,
        client_id=demo.client_id,
        client_secret=demo.client_secret,
        **data,
    )

    assert response.status_code == 400
    assert description in response.json()["error_description"]


def test_token_endpoint_refuses_repeated_parameters_and_get(pagerduty_sandbox):
    demo = pagerduty_sandbox.demo_app
    url = f"{pagerduty_sandbox.url}/oauth/token"

    repeated = requests.post(
        url,
        data=[
            ("grant_type", "client_credentials"),
            ("client_id", demo.client_id),
            ("client_secret", demo.client_secret),
            ("scope", "as_account-us.acme"),
            ("scope", "as_account-us.acme incidents.read"),
        ],
        timeout=5,
    )
    get = requests.get(url, timeout=5)

    assert repeated.json()["error_description"] == "Repeated parameter: scope."
    assert get.status_code == 405
    assert pagerduty_sandbox.state.grants == {}
