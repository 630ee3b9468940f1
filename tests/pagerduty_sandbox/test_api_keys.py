"""REST API keys: `Authorization: Token token=<key>`, as PagerDuty has them."""

import re

import pytest
import requests

from tests.helpers import skip_unless_available
from tests.pagerduty_sandbox.flow import hidden_fields, signed_in_session
from tests.pagerduty_sandbox.openapi import SPEC_PATH, validate


def _call(sandbox, method, path, key, *, sender=None, **kwargs):
    headers = {"Authorization": f"Token token={key}"}
    if sender:
        headers["From"] = sender
    return requests.request(
        method, f"{sandbox.url}{path}", headers=headers, timeout=5, **kwargs
    )


def _open_incident(sandbox, status="triggered"):
    acme = sandbox.state.account_by_subdomain("acme")
    return next(
        i
        for i in sandbox.state.incidents.values()
        if i.account_id == acme.id and i.status == status
    )


def _new_incident(sandbox):
    service = next(
        s
        for s in sandbox.state.services.values()
        if s.account_id == sandbox.state.account_by_subdomain("acme").id
    )
    return {
        "incident": {
            "type": "incident",
            "title": "Disk full",
            "service": {"id": service.id, "type": "service_reference"},
        }
    }


def _service_body(sandbox):
    acme = sandbox.state.account_by_subdomain("acme")
    policy = next(
        p for p in sandbox.state.escalation_policies.values() if p.account_id == acme.id
    )
    return {
        "service": {
            "type": "service",
            "name": "Ledger",
            "escalation_policy": {
                "id": policy.id,
                "type": "escalation_policy_reference",
            },
        }
    }


def test_user_key_acts_as_its_user(pagerduty_sandbox):
    key = pagerduty_sandbox.issue_api_key("bob@acme.example")

    me = _call(pagerduty_sandbox, "GET", "/users/me", key)
    incidents = _call(pagerduty_sandbox, "GET", "/incidents", key)

    assert me.status_code == 200
    assert me.json()["user"]["email"] == "bob@acme.example"
    assert incidents.status_code == 200
    assert incidents.headers["ratelimit-limit"] == "960"


def test_user_key_writes_without_from_as_its_user(pagerduty_sandbox):
    key = pagerduty_sandbox.issue_api_key("bob@acme.example")
    incident = _open_incident(pagerduty_sandbox)

    response = _call(
        pagerduty_sandbox,
        "POST",
        f"/incidents/{incident.id}/notes",
        key,
        json={"note": {"content": "On it"}},
    )

    assert response.status_code == 200
    bob = pagerduty_sandbox.state.user_by_email("bob@acme.example")
    assert response.json()["note"]["user"]["id"] == bob.id


def test_account_key_has_no_user_and_writes_need_from(pagerduty_sandbox):
    key = pagerduty_sandbox.issue_api_key()
    body = _new_incident(pagerduty_sandbox)

    me = _call(pagerduty_sandbox, "GET", "/users/me", key)
    read = _call(pagerduty_sandbox, "GET", "/incidents", key)
    anonymous = _call(pagerduty_sandbox, "POST", "/incidents", key, json=body)
    stranger = _call(
        pagerduty_sandbox,
        "POST",
        "/incidents",
        key,
        sender="gina@globex.example",
        json=body,
    )
    created = _call(
        pagerduty_sandbox,
        "POST",
        "/incidents",
        key,
        sender="carol@acme.example",
        json=body,
    )

    assert me.status_code == 400
    assert "account-level access token" in me.json()["error"]["message"]
    assert read.status_code == 200
    assert anonymous.status_code == 400
    assert "From header is required" in anonymous.json()["error"]["errors"][0]
    assert stranger.status_code == 400
    assert stranger.json()["error"]["code"] == 1008
    assert created.status_code == 201
    incident = pagerduty_sandbox.state.incidents[created.json()["incident"]["id"]]
    carol = pagerduty_sandbox.state.user_by_email("carol@acme.example")
    assert incident.log_entries[0].agent == ("user", carol.id)


def test_read_only_account_key_cannot_write(pagerduty_sandbox):
    key = pagerduty_sandbox.issue_api_key(read_only=True)
    incident = _open_incident(pagerduty_sandbox)

    read = _call(pagerduty_sandbox, "GET", f"/incidents/{incident.id}", key)
    write = _call(
        pagerduty_sandbox,
        "PUT",
        f"/incidents/{incident.id}",
        key,
        sender="alice@acme.example",
        json={"incident": {"type": "incident_reference", "status": "acknowledged"}},
    )

    assert read.status_code == 200
    assert write.status_code == 403
    assert write.json()["error"] == {
        "message": "Access Denied",
        "code": 2010,
        "errors": ["This API key is read-only."],
    }
    assert incident.status == "triggered"


@pytest.mark.parametrize(
    ("email", "incident_write", "service_write"),
    [
        ("erin@acme.example", 403, 403),  # Full Stakeholder: reads only
        ("dave@acme.example", 200, 403),  # Responder: incidents, not setup
        ("bob@acme.example", 200, 201),  # Manager
        ("carol@acme.example", 200, 201),  # Global Admin
    ],
)
def test_user_key_has_its_users_role(
    pagerduty_sandbox, email, incident_write, service_write
):
    key = pagerduty_sandbox.issue_api_key(email)
    incident = _open_incident(pagerduty_sandbox)

    ack = _call(
        pagerduty_sandbox,
        "PUT",
        f"/incidents/{incident.id}",
        key,
        json={"incident": {"type": "incident_reference", "status": "acknowledged"}},
    )
    service = _call(
        pagerduty_sandbox,
        "POST",
        "/services",
        key,
        json=_service_body(pagerduty_sandbox),
    )

    assert ack.status_code == incident_write
    assert service.status_code == service_write
    if service_write == 403:
        assert service.json()["error"]["code"] == 2010


def test_only_admins_keys_manage_users(pagerduty_sandbox):
    body = {"user": {"type": "user", "name": "Zed", "email": "zed@acme.example"}}

    manager = _call(
        pagerduty_sandbox,
        "POST",
        "/users",
        pagerduty_sandbox.issue_api_key("bob@acme.example"),
        json=body,
    )
    admin = _call(
        pagerduty_sandbox,
        "POST",
        "/users",
        pagerduty_sandbox.issue_api_key("carol@acme.example"),
        json=body,
    )

    assert manager.status_code == 403
    assert admin.status_code == 201


@pytest.mark.parametrize(
    ("header", "detail"),
    [
        ("Token token=nope", "invalid or has been revoked"),
        ("Token nope", "malformed"),
        ("Token token=", "malformed"),
        ("Basic Ym9iOnNhbmRib3g=", "malformed"),
        ("", "Send Authorization"),
    ],
)
def test_bad_keys_are_refused_with_pagerdutys_401(pagerduty_sandbox, header, detail):
    response = requests.get(
        f"{pagerduty_sandbox.url}/incidents",
        headers={"Authorization": header} if header else {},
        timeout=5,
    )

    assert response.status_code == 401
    error = response.json()["error"]
    assert error["message"] == "Authentication failed"
    assert error["code"] == 2006
    assert detail in error["errors"][0]


def test_error_bodies_match_the_openapi_schema(pagerduty_sandbox):
    skip_unless_available(SPEC_PATH.is_file(), f"{SPEC_PATH} is not present")
    reader = pagerduty_sandbox.issue_api_key(read_only=True)
    incident = _open_incident(pagerduty_sandbox)

    unknown = _call(pagerduty_sandbox, "GET", "/incidents", "nope")
    denied = _call(
        pagerduty_sandbox,
        "POST",
        f"/incidents/{incident.id}/notes",
        reader,
        sender="alice@acme.example",
        json={"note": {"content": "x"}},
    )

    validate("GET", "/incidents", 401, unknown.json())
    validate("POST", "/incidents/{id}/notes", 403, denied.json())


def test_revoked_key_stops_working(pagerduty_sandbox):
    created = requests.post(
        f"{pagerduty_sandbox.url}/_sandbox/api_keys",
        json={"kind": "user", "user_email": "bob@acme.example"},
        timeout=5,
    ).json()["api_key"]

    before = _call(pagerduty_sandbox, "GET", "/users/me", created["key"])
    revoked = requests.delete(
        f"{pagerduty_sandbox.url}/_sandbox/api_keys/{created['id']}", timeout=5
    )
    after = _call(pagerduty_sandbox, "GET", "/users/me", created["key"])

    assert before.status_code == 200
    assert revoked.status_code == 204
    assert after.status_code == 401


def test_key_of_an_eu_account_works_only_on_the_eu_host(pagerduty_sandbox):
    key = pagerduty_sandbox.issue_api_key("hank@globex.example")
    headers = {"Authorization": f"Token token={key}"}

    us = requests.get(f"{pagerduty_sandbox.url}/users/me", headers=headers, timeout=5)
    eu = requests.get(
        f"{pagerduty_sandbox.eu_api_url}/users/me", headers=headers, timeout=5
    )

    assert us.status_code == 401
    assert "EU service region" in us.json()["error"]["errors"][0]
    assert eu.status_code == 200


def test_keys_are_stored_hashed(pagerduty_sandbox):
    key = pagerduty_sandbox.issue_api_key("bob@acme.example")
    state = pagerduty_sandbox.state

    stored = next(iter(state.api_keys.values()))

    assert key not in repr(state.api_keys)
    assert key not in repr(state.api_key_index)
    assert stored.hint == key[-4:]
    assert key.startswith("u+")
    assert len(key) == 20


def test_user_keys_share_their_users_budget_and_account_keys_have_their_own(
    pagerduty_sandbox,
):
    pagerduty_sandbox.configure(rate_limit=2)
    first = pagerduty_sandbox.issue_api_key("bob@acme.example")
    second = pagerduty_sandbox.issue_api_key("bob@acme.example")
    account = pagerduty_sandbox.issue_api_key()

    statuses = [
        _call(pagerduty_sandbox, "GET", "/users/me", key).status_code
        for key in (first, second, first)
    ]
    other = _call(pagerduty_sandbox, "GET", "/incidents", account)

    assert statuses == [200, 200, 429]
    assert other.status_code == 200


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"kind": "team"}, "kind must be account or user"),
        ({"kind": "user", "user_email": "nobody@x.example"}, "user_email"),
        ({"kind": "account", "account": "nope"}, "subdomain"),
        ({"kind": "account", "account": "acme", "read_only": "yes"}, "read_only"),
        ({"kind": "user", "user_email": "bob@acme.example", "read_only": True}, "user"),
        ({"kind": "user", "user_email": "bob@acme.example", "description": ""}, "1 to"),
    ],
)
def test_control_endpoint_refuses_bad_key_requests(pagerduty_sandbox, body, message):
    response = requests.post(
        f"{pagerduty_sandbox.url}/_sandbox/api_keys", json=body, timeout=5
    )

    assert response.status_code == 400
    assert message in response.json()["error"]
    assert pagerduty_sandbox.state.api_keys == {}


def test_control_endpoint_lists_keys_without_their_secret(pagerduty_sandbox):
    created = requests.post(
        f"{pagerduty_sandbox.url}/_sandbox/api_keys",
        json={"kind": "account", "account": "acme", "read_only": True},
        timeout=5,
    ).json()["api_key"]

    listed = requests.get(f"{pagerduty_sandbox.url}/_sandbox/api_keys", timeout=5)

    assert created["read_only"] is True
    assert created["key"] not in listed.text
    assert listed.json()["api_keys"][0]["id"] == created["id"]


# --- The API Access Keys page ---


def _create_on_page(session, sandbox, **fields):
    page = session.get(f"{sandbox.url}/api_keys", timeout=5)
    data = {**hidden_fields(page.text), "description": "Benchmarks", **fields}
    return session.post(f"{sandbox.url}/api_keys", data=data, timeout=5)


def test_owner_creates_a_general_key_shown_exactly_once(pagerduty_sandbox):
    session = signed_in_session(pagerduty_sandbox)

    created = _create_on_page(
        session, pagerduty_sandbox, kind="account", read_only="on"
    )
    key = re.search(r'id="api-key"[^>]*value="([^"]+)"', created.text)[1]
    listing = session.get(f"{pagerduty_sandbox.url}/api_keys", timeout=5)
    use = _call(pagerduty_sandbox, "GET", "/incidents", key)

    assert created.status_code == 201
    assert key not in listing.text
    assert f"…{key[-4:]}" in listing.text
    assert "Read-only" in listing.text
    assert use.status_code == 200
    stored = next(iter(pagerduty_sandbox.state.api_keys.values()))
    assert stored.read_only
    assert stored.kind == "account"


def test_a_manager_may_create_only_their_own_user_key(pagerduty_sandbox):
    session = signed_in_session(pagerduty_sandbox, "bob@acme.example")

    general = _create_on_page(session, pagerduty_sandbox, kind="account")
    own = _create_on_page(session, pagerduty_sandbox, kind="user")
    key = re.search(r'id="api-key"[^>]*value="([^"]+)"', own.text)[1]

    assert general.status_code == 403
    assert "Global Admin or Account Owner" in general.text
    assert own.status_code == 201
    me = _call(pagerduty_sandbox, "GET", "/users/me", key)
    assert me.json()["user"]["email"] == "bob@acme.example"


def test_page_revokes_a_key_and_refuses_forged_posts(pagerduty_sandbox):
    session = signed_in_session(pagerduty_sandbox, "bob@acme.example")
    key = _create_on_page(session, pagerduty_sandbox, kind="user")
    secret = re.search(r'id="api-key"[^>]*value="([^"]+)"', key.text)[1]
    key_id = next(iter(pagerduty_sandbox.state.api_keys))
    alice_key = pagerduty_sandbox.issue_api_key("alice@acme.example")
    alice_key_id = next(k for k in pagerduty_sandbox.state.api_keys if k != key_id)
    fields = hidden_fields(session.get(f"{pagerduty_sandbox.url}/api_keys").text)

    forged = session.post(
        f"{pagerduty_sandbox.url}/api_keys/{key_id}/revoke", data={}, timeout=5
    )
    others = session.post(
        f"{pagerduty_sandbox.url}/api_keys/{alice_key_id}/revoke",
        data=fields,
        timeout=5,
    )
    revoked = session.post(
        f"{pagerduty_sandbox.url}/api_keys/{key_id}/revoke",
        data=fields,
        timeout=5,
        allow_redirects=False,
    )

    assert forged.status_code == 403
    assert others.status_code == 404
    assert revoked.status_code == 303
    assert _call(pagerduty_sandbox, "GET", "/users/me", secret).status_code == 401
    assert _call(pagerduty_sandbox, "GET", "/users/me", alice_key).status_code == 200


def test_page_needs_a_sign_in(pagerduty_sandbox):
    response = requests.get(
        f"{pagerduty_sandbox.url}/api_keys", timeout=5, allow_redirects=False
    )

    assert response.status_code == 303
    assert response.headers["Location"].startswith("/sign_in?next=%2Fapi_keys")


def _routes():
    from pagerduty_sandbox.rest import ROUTES

    return [(method, template) for method, template, _ in ROUTES]


@pytest.mark.parametrize(("method", "template"), _routes())
def test_every_operation_accepts_a_user_key_and_a_general_key(
    pagerduty_sandbox, method, template
):
    # The owner's keys may do anything: whatever an operation then answers
    # (404 for the made-up ids, 400 for the missing body), it is not a
    # refusal of the credential.
    user_key = pagerduty_sandbox.issue_api_key("alice@acme.example")
    general_key = pagerduty_sandbox.issue_api_key()
    path = re.sub(r"\{[a-z_]+\}", "PZZZZZZ", template)

    answers = [
        _call(pagerduty_sandbox, method, path, user_key).status_code,
        _call(
            pagerduty_sandbox, method, path, general_key, sender="alice@acme.example"
        ).status_code,
    ]

    assert 401 not in answers
    assert 403 not in answers
