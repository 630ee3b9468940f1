import re

import pytest
import requests

from tests.pagerduty_sandbox.flow import hidden_fields, signed_in_session

# Portal demo (acme), Globex portal (globex), Portal demo (Classic) (acme).
SEEDED_APPS = 3
# The portal's 15 scopes in the registration table's (alphabetical) order.
PORTAL_SCOPES = (
    "escalation_policies.read escalation_policies.write incidents.read "
    "incidents.write oncalls.read schedules.read schedules.write services.read "
    "services.write teams.read teams.write users.read users.write "
    "webhook_subscriptions.read webhook_subscriptions.write"
)


def _step_two(session, sandbox, **overrides):
    fields = hidden_fields(
        session.get(f"{sandbox.url}/developer/applications/new", timeout=5).text
    )
    data = {
        **fields,
        "name": "Frontegg Integration",
        "description": "Connects incidents",
        "functionality": "oauth2",
        **overrides,
    }
    return session.post(
        f"{sandbox.url}/developer/applications/new", data=data, timeout=5
    )


def _register(session, sandbox, *, urls, scopes, action="register", **extra):
    configure = _step_two(session, sandbox)
    fields = hidden_fields(configure.text)
    data = {
        **fields,
        "oauth_type": "scoped",
        "redirect_url": urls,
        "scope": scopes,
        "action": action,
        **extra,
    }
    return session.post(
        f"{sandbox.url}/developer/applications/new/oauth", data=data, timeout=5
    )


def _value(html: str, element_id: str) -> str:
    found = re.search(rf'id="{element_id}"[^>]*value="([^"]*)"', html)
    return found.group(1) if found else ""


def test_app_list_needs_a_sign_in(pagerduty_sandbox):
    response = requests.get(
        f"{pagerduty_sandbox.url}/developer/applications",
        allow_redirects=False,
        timeout=5,
    )

    assert response.status_code == 303
    assert response.headers["Location"] == ("/sign_in?next=%2Fdeveloper%2Fapplications")


def test_app_list_shows_the_accounts_apps_and_new_app(pagerduty_sandbox):
    session = signed_in_session(pagerduty_sandbox)

    page = session.get(f"{pagerduty_sandbox.url}/developer/applications")

    assert "Portal demo" in page.text
    assert pagerduty_sandbox.demo_app.client_id in page.text
    assert pagerduty_sandbox.demo_app.client_secret not in page.text
    assert 'href="/developer/applications/new">New App' in page.text


def test_other_accounts_do_not_see_the_app(pagerduty_sandbox):
    app = pagerduty_sandbox.state.app_by_client_id(pagerduty_sandbox.demo_app.client_id)
    session = signed_in_session(pagerduty_sandbox, "ian@initech.example")

    listing = session.get(f"{pagerduty_sandbox.url}/developer/applications")
    detail = session.get(f"{pagerduty_sandbox.url}/developer/applications/{app.id}")

    assert "Portal demo" not in listing.text
    assert detail.status_code == 404


def test_register_through_the_steps_shows_the_secret_exactly_once(pagerduty_sandbox):
    session = signed_in_session(pagerduty_sandbox)
    url = "https://gateway.example/integration-callback"

    configure = _step_two(session, pagerduty_sandbox)
    response = _register(
        session, pagerduty_sandbox, urls=[url], scopes=PORTAL_SCOPES.split()
    )

    assert "Scoped OAuth" in configure.text
    assert "Selected Permission Scope" in configure.text
    assert response.status_code == 201
    client_id = _value(response.text, "client-id")
    secret = _value(response.text, "client-secret")
    app = pagerduty_sandbox.state.app_by_client_id(client_id)
    alice = pagerduty_sandbox.state.user_by_email("alice@acme.example")
    assert app.client_secret == secret
    assert app.account_id == alice.account_id
    assert app.owner_user_id == alice.id
    assert app.redirect_uris == [url]
    assert " ".join(app.scopes) == PORTAL_SCOPES
    detail = session.get(f"{pagerduty_sandbox.url}/developer/applications/{app.id}")
    assert client_id in detail.text
    assert secret not in detail.text
    assert (
        secret
        not in session.get(f"{pagerduty_sandbox.url}/developer/applications").text
    )


def test_selected_permission_scope_follows_the_table_order(pagerduty_sandbox):
    session = signed_in_session(pagerduty_sandbox)

    response = _register(
        session,
        pagerduty_sandbox,
        urls=[""],
        scopes=["services.read", "incidents.read"],
    )

    assert response.status_code == 400
    assert re.search(
        r'id="selected-scope" rows="3" readonly>incidents.read services.read<',
        response.text,
    )


def test_add_redirect_url_adds_a_field_and_keeps_the_input(pagerduty_sandbox):
    session = signed_in_session(pagerduty_sandbox)

    response = _register(
        session,
        pagerduty_sandbox,
        urls=["https://a.example/cb"],
        scopes=["incidents.read"],
        action="add_redirect",
    )

    assert response.status_code == 200
    assert 'id="redirect-url-2"' in response.text
    assert 'value="https://a.example/cb"' in response.text
    assert len(pagerduty_sandbox.state.apps) == SEEDED_APPS


@pytest.mark.parametrize(
    ("urls", "scopes", "message"),
    [
        ([""], ["incidents.read"], "Add at least one redirect URL."),
        (["ftp://x.example/cb"], ["incidents.read"], "is not an absolute http(s) URL"),
        (["https://x.example/cb#frag"], ["incidents.read"], "must not contain a"),
        (["https://x.example/cb"], [], "Select at least one permission scope."),
        (["https://x.example/cb"], ["admin.everything"], "Unknown scope"),
    ],
)
def test_register_errors_are_shown_and_nothing_is_saved(
    pagerduty_sandbox, urls, scopes, message
):
    session = signed_in_session(pagerduty_sandbox)

    response = _register(session, pagerduty_sandbox, urls=urls, scopes=scopes)

    assert response.status_code == 400
    assert message in response.text
    assert len(pagerduty_sandbox.state.apps) == SEEDED_APPS


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"name": ""}, "Enter a name for the app."),
        ({"name": "x" * 101}, "at most 100 characters"),
        ({"functionality": ""}, "Select OAuth 2.0"),
    ],
)
def test_step_two_errors(pagerduty_sandbox, overrides, message):
    session = signed_in_session(pagerduty_sandbox)

    response = _step_two(session, pagerduty_sandbox, **overrides)

    assert response.status_code == 400
    assert message in response.text


@pytest.mark.parametrize("email", ["dave@acme.example", "erin@acme.example"])
def test_responders_and_stakeholders_cannot_register(pagerduty_sandbox, email):
    session = signed_in_session(pagerduty_sandbox, email)

    listing = session.get(f"{pagerduty_sandbox.url}/developer/applications")
    new = session.get(f"{pagerduty_sandbox.url}/developer/applications/new")

    assert "New App</a>" not in listing.text
    assert new.status_code == 403


def test_register_without_csrf_is_refused(pagerduty_sandbox):
    session = signed_in_session(pagerduty_sandbox)

    response = session.post(
        f"{pagerduty_sandbox.url}/developer/applications/new/oauth",
        data={
            "name": "X",
            "functionality": "oauth2",
            "oauth_type": "scoped",
            "redirect_url": "https://x.example/cb",
            "scope": "incidents.read",
            "action": "register",
        },
    )

    assert response.status_code == 403
    assert len(pagerduty_sandbox.state.apps) == SEEDED_APPS


def test_revoke_all_tokens_makes_the_apps_tokens_fail(pagerduty_sandbox):
    token = pagerduty_sandbox.issue_token("bob@acme.example")
    app = pagerduty_sandbox.state.app_by_client_id(pagerduty_sandbox.demo_app.client_id)
    session = signed_in_session(pagerduty_sandbox)
    detail = session.get(f"{pagerduty_sandbox.url}/developer/applications/{app.id}")

    response = session.post(
        f"{pagerduty_sandbox.url}/developer/applications/{app.id}/revoke_tokens",
        data=hidden_fields(detail.text),
    )
    me = requests.get(
        f"{pagerduty_sandbox.url}/users/me",
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )

    assert "Revoked 1 authorization." in response.text
    assert me.status_code == 401


def test_generate_new_client_secret_shows_it_once_and_retires_the_old(
    pagerduty_sandbox,
):
    demo = pagerduty_sandbox.demo_app
    app = pagerduty_sandbox.state.app_by_client_id(demo.client_id)
    session = signed_in_session(pagerduty_sandbox)
    detail = session.get(f"{pagerduty_sandbox.url}/developer/applications/{app.id}")

    response = session.post(
        f"{pagerduty_sandbox.url}/developer/applications/{app.id}/regenerate_secret",
        data=hidden_fields(detail.text),
    )
    old = requests.post(
        f"{pagerduty_sandbox.url}/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": demo.client_id,
            "client_secret": demo.client_secret,
            "scope": "as_account-us.acme",
        },
        timeout=5,
    )

    new_secret = _value(response.text, "client-secret")
    assert new_secret == app.client_secret != demo.client_secret
    assert "has a new Client Secret" in response.text
    assert old.status_code == 401
    again = session.get(f"{pagerduty_sandbox.url}/developer/applications/{app.id}")
    assert new_secret not in again.text
