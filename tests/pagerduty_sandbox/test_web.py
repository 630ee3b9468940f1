"""The sandbox's stand-ins for PagerDuty's web pages the portal links to."""

import requests

from tests.pagerduty_sandbox.flow import signed_in_session


def _acme(state, items):
    acme = next(a.id for a in state.accounts.values() if a.subdomain == "acme")
    return next(i for i in items.values() if i.account_id == acme)


def test_web_pages_ask_to_sign_in_first(pagerduty_sandbox):
    with pagerduty_sandbox.state.lock:
        incident = _acme(pagerduty_sandbox.state, pagerduty_sandbox.state.incidents)

    response = requests.get(
        f"{pagerduty_sandbox.url}/web/incidents/{incident.id}",
        allow_redirects=False,
        timeout=5,
    )

    assert response.status_code == 303
    assert response.headers["Location"].startswith("/sign_in?next=%2Fweb%2Fincidents")


def test_an_incident_and_a_service_are_shown_to_their_account(pagerduty_sandbox):
    state = pagerduty_sandbox.state
    with state.lock:
        incident = _acme(state, state.incidents)
        service = state.services[incident.service_id]
    session = signed_in_session(pagerduty_sandbox)

    shown = session.get(f"{pagerduty_sandbox.url}/web/incidents/{incident.id}")
    listed = session.get(f"{pagerduty_sandbox.url}/web/service-directory/{service.id}")

    assert shown.status_code == 200
    assert incident.title in shown.text
    assert f"#{incident.number}" in shown.text
    assert listed.status_code == 200
    assert service.name in listed.text


def test_another_accounts_incident_is_not_found(pagerduty_sandbox):
    state = pagerduty_sandbox.state
    with state.lock:
        globex = next(a.id for a in state.accounts.values() if a.subdomain == "globex")
        theirs = next(i for i in state.incidents.values() if i.account_id == globex)
    session = signed_in_session(pagerduty_sandbox)

    response = session.get(f"{pagerduty_sandbox.url}/web/incidents/{theirs.id}")

    assert response.status_code == 404
    assert theirs.title not in response.text


def test_app_registration_goes_to_the_developer_pages(pagerduty_sandbox):
    response = requests.get(
        f"{pagerduty_sandbox.url}/web/developer/applications",
        allow_redirects=False,
        timeout=5,
    )

    assert response.status_code == 303
    assert response.headers["Location"] == "/developer/applications"
