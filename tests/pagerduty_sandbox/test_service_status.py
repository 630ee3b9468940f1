"""A service's `status` is derived from its open incidents, as PagerDuty does."""

import pytest
import requests


@pytest.fixture
def token(pagerduty_sandbox):
    return pagerduty_sandbox.issue_token("alice@acme.example")


def _statuses(sandbox, token) -> dict[str, str]:
    response = requests.get(
        f"{sandbox.url}/services",
        headers={"Authorization": f"Bearer {token}"},
        params={"limit": 100},
        timeout=5,
    )
    response.raise_for_status()
    return {s["id"]: s["status"] for s in response.json()["services"]}


def _open(sandbox, service_id) -> set[str]:
    return {
        i.status
        for i in sandbox.state.incidents.values()
        if i.service_id == service_id and i.status != "resolved"
    }


def test_list_reports_critical_warning_or_active_from_open_incidents(
    pagerduty_sandbox, token
):
    statuses = _statuses(pagerduty_sandbox, token)

    for service_id, status in statuses.items():
        open_statuses = _open(pagerduty_sandbox, service_id)
        if "triggered" in open_statuses:
            assert status == "critical"
        elif "acknowledged" in open_statuses:
            assert status == "warning"
        else:
            assert status == "active"
    assert "critical" in statuses.values()


def test_resolving_a_service_s_incidents_makes_it_active(pagerduty_sandbox, token):
    state = pagerduty_sandbox.state
    service_id = next(
        sid for sid, s in _statuses(pagerduty_sandbox, token).items() if s != "active"
    )
    with state.lock:
        for incident in state.incidents.values():
            if incident.service_id == service_id:
                incident.status = "resolved"

    response = requests.get(
        f"{pagerduty_sandbox.url}/services/{service_id}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )

    assert response.json()["service"]["status"] == "active"


def test_a_disabled_service_stays_disabled_with_open_incidents(
    pagerduty_sandbox, token
):
    state = pagerduty_sandbox.state
    service_id = next(
        sid for sid, s in _statuses(pagerduty_sandbox, token).items() if s == "critical"
    )
    with state.lock:
        state.services[service_id].status = "disabled"

    assert _statuses(pagerduty_sandbox, token)[service_id] == "disabled"
