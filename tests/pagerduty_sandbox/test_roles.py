"""OAuth user tokens act within their PagerDuty user's base role."""

from datetime import timedelta

import pytest
import requests


def _call(sandbox, method, path, token, sender="nobody@acme.example", **kwargs):
    return requests.request(
        method,
        f"{sandbox.url}{path}",
        headers={
            "Authorization": f"Bearer {token}",
            "Accept": "application/vnd.pagerduty+json;version=2",
            "From": sender,
        },
        timeout=5,
        **kwargs,
    )


def _acme(sandbox):
    state = sandbox.state
    account = state.account_by_subdomain("acme")
    with state.lock:
        incident = next(
            i
            for i in state.incidents.values()
            if i.account_id == account.id and i.status == "triggered"
        )
        schedule = next(
            s for s in state.schedules.values() if s.account_id == account.id
        )
        policy = next(
            p for p in state.escalation_policies.values() if p.account_id == account.id
        )
    return incident, schedule, policy, state.now()


@pytest.mark.parametrize(
    ("email", "ack", "override", "service", "user"),
    [
        ("dave@acme.example", 200, 201, 403, 403),  # Responder
        ("bob@acme.example", 200, 201, 201, 403),  # Manager
        ("carol@acme.example", 200, 201, 201, 201),  # Global Admin
    ],
)
def test_a_user_token_may_write_what_its_role_allows(
    pagerduty_sandbox, email, ack, override, service, user
):
    sandbox = pagerduty_sandbox
    token = sandbox.issue_token(email)
    me = sandbox.state.user_by_email(email)
    incident, schedule, policy, now = _acme(sandbox)
    start = now + timedelta(days=1)

    answers = (
        _call(
            sandbox,
            "PUT",
            f"/incidents/{incident.id}",
            token,
            sender=email,
            json={"incident": {"type": "incident_reference", "status": "acknowledged"}},
        ),
        _call(
            sandbox,
            "POST",
            f"/schedules/{schedule.id}/overrides",
            token,
            json={
                "overrides": [
                    {
                        "start": start.isoformat(),
                        "end": (start + timedelta(hours=2)).isoformat(),
                        "user": {"id": me.id, "type": "user_reference"},
                    }
                ]
            },
        ),
        _call(
            sandbox,
            "POST",
            "/services",
            token,
            json={
                "service": {
                    "type": "service",
                    "name": f"Made by {email}",
                    "escalation_policy": {
                        "id": policy.id,
                        "type": "escalation_policy_reference",
                    },
                }
            },
        ),
        requests.post(
            f"{sandbox.url}/users",
            headers={
                "Authorization": f"Bearer {token}",
                "Accept": "application/vnd.pagerduty+json;version=2",
                "From": email,
            },
            json={
                "user": {
                    "type": "user",
                    "name": "Zed",
                    "email": f"zed-{me.id.lower()}@acme.example",
                    "role": "limited_user",
                }
            },
            timeout=5,
        ),
    )

    assert [a.status_code for a in answers] == [ack, override, service, user]
    for answer in answers:
        if answer.status_code == 403:
            assert answer.json()["error"]["code"] == 2010


def test_a_read_only_user_token_writes_nothing(pagerduty_sandbox):
    token = pagerduty_sandbox.issue_token("erin@acme.example")
    incident, *_ = _acme(pagerduty_sandbox)

    answer = _call(
        pagerduty_sandbox,
        "PUT",
        f"/incidents/{incident.id}",
        token,
        sender="erin@acme.example",
        json={"incident": {"type": "incident_reference", "status": "acknowledged"}},
    )

    assert answer.status_code == 403
