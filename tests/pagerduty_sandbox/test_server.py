import http.client
import re
import time
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import requests
from django.core.management import call_command

from pagerduty_sandbox.seed import build_state, demo_app_credentials

ID_RE = re.compile(r"^P[A-Z0-9]{6}$")


def test_seed_is_deterministic_for_a_seed():
    first = build_state(seed=7)
    second = build_state(seed=7)

    assert list(first.incidents) == list(second.incidents)
    assert [u.email for u in first.users.values()] == [
        u.email for u in second.users.values()
    ]
    assert list(build_state(seed=8).incidents) != list(first.incidents)


def test_seed_has_accounts_in_both_regions_and_pagerduty_ids():
    state = build_state(seed=1)

    regions = {a.subdomain: a.region for a in state.accounts.values()}
    assert regions == {"acme": "us", "globex": "eu", "initech": "us"}
    ids = [*state.users, *state.services, *state.incidents, *state.teams]
    assert all(ID_RE.fullmatch(obj_id) for obj_id in ids)


def test_seed_has_incidents_in_every_status_with_notes_and_log_entries():
    state = build_state(seed=1, incidents=12)
    acme = state.account_by_subdomain("acme")

    incidents = [i for i in state.incidents.values() if i.account_id == acme.id]

    assert len(incidents) == 12
    assert {i.status for i in incidents} == {"triggered", "acknowledged", "resolved"}
    assert sum(1 for i in incidents if i.notes) == 6
    kinds = {e.type for i in incidents for e in i.log_entries}
    assert {"trigger_log_entry", "acknowledge_log_entry", "resolve_log_entry"} <= kinds


@pytest.mark.parametrize(("incidents", "services"), [(0, 1), (250, 40)])
def test_seed_size_knobs(incidents, services):
    state = build_state(seed=3, incidents=incidents, services=services)
    acme = state.account_by_subdomain("acme")

    assert sum(1 for s in state.services.values() if s.account_id == acme.id) == (
        services
    )
    assert sum(1 for i in state.incidents.values() if i.account_id == acme.id) == (
        incidents
    )


def test_demo_app_is_registered_on_acme_with_all_scopes(pagerduty_sandbox):
    demo = pagerduty_sandbox.demo_app
    app = pagerduty_sandbox.state.app_by_client_id(demo.client_id)

    assert app.name == "Portal demo"
    assert pagerduty_sandbox.state.accounts[app.account_id].subdomain == "acme"
    assert app.redirect_uris == ["http://127.0.0.1:8000/integration-callback"]
    assert len(app.scopes) == 15
    assert demo == demo_app_credentials(1)
    assert demo_app_credentials(2).client_secret != demo.client_secret


def test_fixture_gives_each_test_fresh_state(pagerduty_sandbox):
    state = pagerduty_sandbox.state
    requests.get(f"{pagerduty_sandbox.url}/", timeout=5)
    state.incidents.clear()

    pagerduty_sandbox.reset()

    assert pagerduty_sandbox.state is not state
    assert pagerduty_sandbox.state.incidents
    assert pagerduty_sandbox.request_log == []


def test_request_log_counts_calls_by_path_prefix(pagerduty_sandbox):
    token = pagerduty_sandbox.issue_token("alice@acme.example")
    headers = {"Authorization": f"Bearer {token}"}

    requests.get(f"{pagerduty_sandbox.url}/users/me", headers=headers, timeout=5)
    requests.get(f"{pagerduty_sandbox.url}/users", headers=headers, timeout=5)
    requests.get(f"{pagerduty_sandbox.url}/teams", timeout=5)

    assert pagerduty_sandbox.request_log == [
        ("GET", "/users/me", 200),
        ("GET", "/users", 200),
        ("GET", "/teams", 401),
    ]
    assert pagerduty_sandbox.count("/users") == 2
    assert pagerduty_sandbox.count("/teams", method="POST") == 0


@pytest.mark.parametrize(
    ("kind", "status", "code"), [("500", 500, 2000), ("429", 429, 2020)]
)
def test_fault_applies_only_under_its_path_prefix(
    pagerduty_sandbox, kind, status, code
):
    pagerduty_sandbox.add_fault(kind, path_prefix="/incidents")
    token = pagerduty_sandbox.issue_token("alice@acme.example")
    headers = {"Authorization": f"Bearer {token}"}

    faulty = requests.get(
        f"{pagerduty_sandbox.url}/incidents", headers=headers, timeout=5
    )
    healthy = requests.get(
        f"{pagerduty_sandbox.url}/users/me", headers=headers, timeout=5
    )

    assert faulty.status_code == status
    assert faulty.json()["error"]["code"] == code
    assert healthy.status_code == 200


def test_timeout_fault_holds_the_request_past_the_client_timeout(pagerduty_sandbox):
    pagerduty_sandbox.add_fault("timeout", path_prefix="/users", delay=0.5)

    with pytest.raises(requests.Timeout):
        requests.get(f"{pagerduty_sandbox.url}/users/me", timeout=0.2)


def test_a_request_held_across_a_reset_stays_in_the_old_worlds_log(pagerduty_sandbox):
    pagerduty_sandbox.add_fault("timeout", path_prefix="/users", delay=0.3)
    old = pagerduty_sandbox.state
    with pytest.raises(requests.Timeout):
        requests.get(f"{pagerduty_sandbox.url}/users/me", timeout=0.05)

    pagerduty_sandbox.reset()
    deadline = time.monotonic() + 5
    while not old.request_log and time.monotonic() < deadline:
        time.sleep(0.02)

    assert list(old.request_log) == [("GET", "/users/me", 504)]
    assert pagerduty_sandbox.request_log == []


def test_a_request_delayed_across_a_reset_does_not_touch_the_new_world(
    pagerduty_sandbox,
):
    pagerduty_sandbox.set_latency(300)
    old = pagerduty_sandbox.state
    with pytest.raises(requests.Timeout):
        requests.get(f"{pagerduty_sandbox.url}/users/me", timeout=0.05)

    pagerduty_sandbox.reset()
    deadline = time.monotonic() + 5
    while not old.request_log and time.monotonic() < deadline:
        time.sleep(0.02)

    assert list(old.request_log) == [("GET", "/users/me", 503)]
    assert pagerduty_sandbox.request_log == []


def test_fault_share_fails_roughly_that_share(pagerduty_sandbox):
    pagerduty_sandbox.add_fault("500", path_prefix="/", share=0.5)

    statuses = [
        requests.get(f"{pagerduty_sandbox.url}/", timeout=5).status_code
        for _ in range(40)
    ]

    assert 8 <= statuses.count(500) <= 32
    assert set(statuses) == {200, 500}


def test_latency_delays_every_request(pagerduty_sandbox):
    pagerduty_sandbox.set_latency(150)

    response = requests.get(f"{pagerduty_sandbox.url}/", timeout=5)

    assert response.elapsed.total_seconds() >= 0.15


def test_control_endpoint_sets_and_clears_faults(pagerduty_sandbox):
    url = f"{pagerduty_sandbox.url}/_sandbox/faults"

    created = requests.post(
        url, json={"kind": "429", "path_prefix": "/oauth/token"}, timeout=5
    )
    listed = requests.get(url, timeout=5).json()
    token = requests.post(f"{pagerduty_sandbox.url}/oauth/token", timeout=5)
    cleared = requests.delete(url, timeout=5)

    assert created.status_code == 201
    assert listed["faults"][0]["path_prefix"] == "/oauth/token"
    assert token.status_code == 429
    assert cleared.status_code == 204
    assert pagerduty_sandbox.state.faults == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"kind": "teapot"}, "kind must be one of"),
        ({"kind": "500", "share": 0}, "share must be in"),
        ({"kind": "500", "path_prefix": "incidents"}, "path_prefix must start"),
        ([], "send a JSON object"),
    ],
)
def test_control_endpoint_rejects_bad_faults(pagerduty_sandbox, body, message):
    response = requests.post(
        f"{pagerduty_sandbox.url}/_sandbox/faults", json=body, timeout=5
    )

    assert response.status_code == 400
    assert message in response.json()["error"]
    assert pagerduty_sandbox.state.faults == []


def test_control_endpoint_changes_config_and_reads_the_log(pagerduty_sandbox):
    base = f"{pagerduty_sandbox.url}/_sandbox"

    config = requests.put(f"{base}/config", json={"rate_limit": 5}, timeout=5)
    bad = requests.put(f"{base}/config", json={"rate_limt": 5}, timeout=5)
    log = requests.get(f"{base}/requests", timeout=5).json()

    assert config.json()["config"]["rate_limit"] == 5
    assert pagerduty_sandbox.state.config.rate_limit == 5
    assert bad.status_code == 400
    assert "unknown setting rate_limt" in bad.json()["error"]
    assert log["requests"][0] == {
        "method": "PUT",
        "path": "/_sandbox/config",
        "status": 200,
    }


def test_control_endpoints_can_be_disabled(pagerduty_sandbox):
    pagerduty_sandbox.configure(control_enabled=False)

    response = requests.get(f"{pagerduty_sandbox.url}/_sandbox/state", timeout=5)

    assert response.status_code == 404


def test_pages_send_protective_headers_and_static_css(pagerduty_sandbox):
    page = requests.get(f"{pagerduty_sandbox.url}/", timeout=5)
    css = requests.get(
        f"{pagerduty_sandbox.url}/static/pagerduty_sandbox/sandbox.css", timeout=5
    )
    escape = requests.get(f"{pagerduty_sandbox.url}/static/../state.py", timeout=5)

    assert page.headers["X-Frame-Options"] == "DENY"
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    assert "alice@acme.example" in page.text
    assert css.headers["Content-Type"] == "text/css"
    assert escape.status_code == 404


def test_unknown_page_is_a_404_page(pagerduty_sandbox):
    response = requests.get(f"{pagerduty_sandbox.url}/nowhere", timeout=5)

    assert response.status_code == 404
    assert "The sandbox has no page at /nowhere." in response.text


def test_command_refuses_a_port_in_use(pagerduty_sandbox):
    port = pagerduty_sandbox.url.rsplit(":", 1)[1]

    with pytest.raises(Exception, match="Cannot listen on 127.0.0.1"):
        call_command("pagerduty_sandbox", "--port", port)


def test_control_endpoint_resets_the_world(pagerduty_sandbox):
    before = pagerduty_sandbox.state
    before.incidents.clear()

    response = requests.post(
        f"{pagerduty_sandbox.url}/_sandbox/reset", json={}, timeout=5
    )

    assert response.json() == {"seed": 1}
    assert pagerduty_sandbox.state is not before
    assert pagerduty_sandbox.state.incidents


def test_clock_can_be_advanced_through_the_control_endpoint(pagerduty_sandbox):
    before = pagerduty_sandbox.state.now()

    response = requests.post(
        f"{pagerduty_sandbox.url}/_sandbox/advance", json={"seconds": 3600}, timeout=5
    )
    bad = requests.post(
        f"{pagerduty_sandbox.url}/_sandbox/advance", json={"seconds": "x"}, timeout=5
    )

    assert response.status_code == 200
    assert pagerduty_sandbox.state.now() - before >= timedelta(seconds=3600)
    assert bad.status_code == 400


def _console(sandbox, email="alice@acme.example"):
    from tests.pagerduty_sandbox.flow import hidden_fields, signed_in_session

    session = signed_in_session(sandbox, email)
    page = session.get(f"{sandbox.url}/app/incidents", timeout=5)
    return session, hidden_fields(page.text), page


def test_incident_page_lists_open_incidents_of_the_account(pagerduty_sandbox):
    state = pagerduty_sandbox.state
    acme = state.account_by_subdomain("acme")

    _, _, page = _console(pagerduty_sandbox)

    open_acme = [
        i
        for i in state.incidents.values()
        if i.account_id == acme.id and i.status != "resolved"
    ]
    assert page.status_code == 200
    assert all(i.title in page.text for i in open_acme)
    assert page.text.count("<tr>") == len(open_acme) + 1


def test_incident_page_acknowledges_resolves_and_triggers(pagerduty_sandbox):
    state = pagerduty_sandbox.state
    acme = state.account_by_subdomain("acme")
    incident = next(
        i
        for i in state.incidents.values()
        if i.account_id == acme.id and i.status == "triggered"
    )
    service = state.services[incident.service_id]
    session, fields, _ = _console(pagerduty_sandbox)
    base = f"{pagerduty_sandbox.url}/app/incidents"

    session.post(f"{base}/{incident.id}/acknowledge", data=fields, timeout=5)
    acked = incident.status
    session.post(f"{base}/{incident.id}/resolve", data=fields, timeout=5)
    again = session.post(f"{base}/{incident.id}/resolve", data=fields, timeout=5)
    session.post(
        base, data={**fields, "title": "Manual page", "service": service.id}, timeout=5
    )
    blank = session.post(base, data={**fields, "title": " "}, timeout=5)

    assert acked == "acknowledged"
    assert incident.status == "resolved"
    assert again.status_code == 400
    assert "Incident Already Resolved" in again.text
    created = next(i for i in state.incidents.values() if i.title == "Manual page")
    assert created.log_entries[0].channel == "web_trigger"
    assert blank.status_code == 400


def test_incident_page_refuses_other_accounts_and_missing_csrf(pagerduty_sandbox):
    state = pagerduty_sandbox.state
    acme = state.account_by_subdomain("acme")
    incident = next(
        i
        for i in state.incidents.values()
        if i.account_id == acme.id and i.status == "triggered"
    )
    session, fields, _ = _console(pagerduty_sandbox, "ian@initech.example")
    url = f"{pagerduty_sandbox.url}/app/incidents/{incident.id}/acknowledge"

    other = session.post(url, data=fields, timeout=5)
    forged = session.post(url, data={}, timeout=5)

    assert other.status_code == 404
    assert forged.status_code == 403
    assert incident.status == "triggered"


def test_operations_the_sandbox_lacks_answer_a_json_404(pagerduty_sandbox):
    token = pagerduty_sandbox.issue_token("alice@acme.example")

    response = requests.get(
        f"{pagerduty_sandbox.url}/abilities",
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )

    assert response.status_code == 404
    assert response.json() == {"error": {"message": "Not Found", "code": 2100}}


def test_control_endpoint_refuses_non_json_posts(pagerduty_sandbox):
    response = requests.post(
        f"{pagerduty_sandbox.url}/_sandbox/faults",
        data='{"kind": "500"}',
        headers={"Content-Type": "text/plain"},
        timeout=5,
    )

    assert response.status_code == 415
    assert pagerduty_sandbox.state.faults == []


def test_tokens_can_be_minted_through_the_control_endpoint(pagerduty_sandbox):
    url = f"{pagerduty_sandbox.url}/_sandbox/tokens"

    minted = requests.post(
        url, json={"user_email": "alice@acme.example"}, timeout=5
    ).json()
    me = requests.get(
        f"{pagerduty_sandbox.url}/users/me",
        headers={"Authorization": f"Bearer {minted['access_token']}"},
        timeout=5,
    )
    refreshed = requests.post(
        f"{pagerduty_sandbox.url}/oauth/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": minted["refresh_token"],
            "client_id": pagerduty_sandbox.demo_app.client_id,
            "client_secret": pagerduty_sandbox.demo_app.client_secret,
        },
        timeout=5,
    )

    assert me.json()["user"]["email"] == "alice@acme.example"
    assert minted["scope"].split()[0] == "openid"
    assert minted["expires_in"] > 0
    assert minted["account_id"].startswith("P")
    assert refreshed.status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"user_email": "nobody@acme.example"},
        {"user_email": "alice@acme.example", "client_id": "unknown"},
        {"user_email": "alice@acme.example", "scopes": "incidents.read"},
        ["alice@acme.example"],
    ],
)
def test_minting_tokens_refuses_bad_requests(pagerduty_sandbox, body):
    response = requests.post(
        f"{pagerduty_sandbox.url}/_sandbox/tokens", json=body, timeout=5
    )

    assert response.status_code == 400
    assert "error" in response.json()


def test_server_keeps_the_connection_open_between_requests(pagerduty_sandbox):
    address = urlsplit(pagerduty_sandbox.url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=5)
    answers = []

    connection.request("POST", "/no-such-path", body=b'{"unread": true}')
    answers.append(connection.getresponse())
    answers[-1].read()
    socket = connection.sock
    connection.request("GET", "/sign_in")
    answers.append(connection.getresponse())
    answers[-1].read()

    assert [(a.version, a.status) for a in answers] == [(11, 404), (11, 200)]
    assert connection.sock is socket
    connection.close()
