from datetime import timedelta

import pytest
import requests

from pagerduty_sandbox.scopes import known_scopes
from pagerduty_sandbox.state import iso


def _get(sandbox, path, token=None, **kwargs):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.get(f"{sandbox.url}{path}", headers=headers, timeout=5, **kwargs)


def _write(sandbox, method, path, token, body, sender="alice@acme.example"):
    headers = {"Authorization": f"Bearer {token}"}
    if sender:
        headers["From"] = sender
    return requests.request(
        method, f"{sandbox.url}{path}", headers=headers, json=body, timeout=5
    )


@pytest.fixture
def token(pagerduty_sandbox):
    return pagerduty_sandbox.issue_token("alice@acme.example")


@pytest.fixture
def acme(pagerduty_sandbox):
    return pagerduty_sandbox.state.account_by_subdomain("acme")


def _incidents(sandbox, account, **match):
    return [
        i
        for i in sandbox.state.incidents.values()
        if i.account_id == account.id
        and all(getattr(i, k) == v for k, v in match.items())
    ]


# --- Authentication, scopes, From, limits ---


@pytest.mark.parametrize(
    ("header", "fragment"),
    [
        (None, "Send Authorization: Bearer"),
        ("Token token=abc", "API key is invalid or has been revoked"),
        ("Bearer pdus+_0unknown", "invalid or has been revoked"),
    ],
)
def test_requests_without_a_valid_token_get_401(pagerduty_sandbox, header, fragment):
    headers = {"Authorization": header} if header else {}

    response = requests.get(
        f"{pagerduty_sandbox.url}/incidents", headers=headers, timeout=5
    )

    assert response.status_code == 401
    assert response.json()["error"]["code"] == 2006
    assert fragment in response.json()["error"]["errors"][0]


def test_expired_token_gets_401(pagerduty_sandbox, token):
    pagerduty_sandbox.advance(86400)

    response = _get(pagerduty_sandbox, "/incidents", token)

    assert response.status_code == 401


def test_token_lacking_the_operation_scope_gets_403(pagerduty_sandbox):
    token = pagerduty_sandbox.issue_token(
        "alice@acme.example", ["incidents.read", "incidents.write"]
    )

    services = _get(pagerduty_sandbox, "/services", token)
    incidents = _get(pagerduty_sandbox, "/incidents", token)
    me = _get(pagerduty_sandbox, "/users/me", token)

    assert services.status_code == 403
    assert services.json()["error"]["message"] == "Token missing required scopes"
    assert "services.read" in services.json()["error"]["errors"][0]
    assert incidents.status_code == 200
    assert me.status_code == 200


def test_write_scope_does_not_imply_read(pagerduty_sandbox):
    token = pagerduty_sandbox.issue_token("alice@acme.example", ["incidents.write"])

    response = _get(pagerduty_sandbox, "/incidents", token)

    assert response.status_code == 403


@pytest.mark.parametrize(
    ("sender", "status", "code"),
    [
        (None, 400, 2001),
        ("nobody@acme.example", 400, 1008),
        ("ian@initech.example", 400, 1008),
    ],
)
def test_from_header_is_required_where_the_spec_says(
    pagerduty_sandbox, token, acme, sender, status, code
):
    incident = _incidents(pagerduty_sandbox, acme, status="triggered")[0]
    body = {"incident": {"type": "incident_reference", "status": "acknowledged"}}

    response = _write(
        pagerduty_sandbox, "PUT", f"/incidents/{incident.id}", token, body, sender
    )

    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert incident.status == "triggered"


def test_rate_limit_per_user_and_app_with_headers(pagerduty_sandbox, token):
    pagerduty_sandbox.configure(rate_limit=3)
    other = pagerduty_sandbox.issue_token("bob@acme.example")

    answers = [_get(pagerduty_sandbox, "/users/me", token) for _ in range(4)]
    bob = _get(pagerduty_sandbox, "/users/me", other)

    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert answers[0].headers["ratelimit-limit"] == "3"
    assert answers[0].headers["ratelimit-remaining"] == "2"
    assert 1 <= int(answers[3].headers["ratelimit-reset"]) <= 60
    assert answers[3].json() == {
        "error": {"message": "Rate Limit Exceeded", "code": 2020}
    }
    assert bob.status_code == 200


def test_unknown_paths_and_ids_are_404(pagerduty_sandbox, token):
    path = _get(pagerduty_sandbox, "/incidents/PAAAAAA/nothing", token)
    missing = _get(pagerduty_sandbox, "/incidents/PAAAAAA", token)

    assert path.status_code == 404
    assert missing.status_code == 404
    assert missing.json()["error"]["message"] == "Incident Not Found"


def test_another_accounts_objects_are_404(pagerduty_sandbox, token):
    initech = pagerduty_sandbox.state.account_by_subdomain("initech")
    theirs = _incidents(pagerduty_sandbox, initech)[0]

    response = _get(pagerduty_sandbox, f"/incidents/{theirs.id}", token)

    assert response.status_code == 404


# --- Pagination ---


def test_classic_pagination(pagerduty_sandbox, token, acme):
    window = {"date_range": "all"}
    visible = len(_incidents(pagerduty_sandbox, acme))

    first = _get(
        pagerduty_sandbox, "/incidents", token, params={**window, "limit": 10}
    ).json()
    last = _get(
        pagerduty_sandbox,
        "/incidents",
        token,
        params={**window, "limit": 10, "offset": 20, "total": "true"},
    ).json()

    assert (first["limit"], first["offset"], first["more"]) == (10, 0, True)
    assert first["total"] is None
    assert len(last["incidents"]) == visible - 20
    assert (last["more"], last["total"]) == (False, visible)


def test_limit_is_capped_at_100(pagerduty_sandbox, token):
    response = _get(pagerduty_sandbox, "/log_entries", token, params={"limit": 500})

    assert response.json()["limit"] == 100
    assert len(response.json()["log_entries"]) == 100


@pytest.mark.parametrize(
    "params",
    [
        {"offset": 9950, "limit": 100},
        {"limit": 0},
        {"limit": "ten"},
        {"offset": "-1"},
        {"total": "yes"},
    ],
)
def test_bad_pagination_is_400(pagerduty_sandbox, token, params):
    response = _get(pagerduty_sandbox, "/incidents", token, params=params)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == 2001


# --- Incidents: filters ---


def _ids(response):
    return {i["id"] for i in response.json()["incidents"]}


def test_incident_filters(pagerduty_sandbox, token, acme):
    state = pagerduty_sandbox.state
    everything = {"date_range": "all", "limit": 100}
    service = next(s for s in state.services.values() if s.account_id == acme.id)
    bob = state.user_by_email("bob@acme.example")
    team = next(t for t in state.teams.values() if t.name == "Platform")

    def listed(**params):
        return _ids(
            _get(
                pagerduty_sandbox, "/incidents", token, params={**everything, **params}
            )
        )

    mine = _incidents(pagerduty_sandbox, acme)
    assert listed(**{"statuses[]": "triggered"}) == {
        i.id for i in mine if i.status == "triggered"
    }
    assert listed(**{"statuses[]": ["triggered", "acknowledged"]}) == {
        i.id for i in mine if i.status != "resolved"
    }
    assert listed(**{"urgencies[]": "low"}) == {
        i.id for i in mine if i.urgency == "low"
    }
    assert listed(**{"service_ids[]": service.id}) == {
        i.id for i in mine if i.service_id == service.id
    }
    assert listed(**{"user_ids[]": bob.id}) == {
        i.id for i in mine if bob.id in i.assignee_ids
    }
    assert listed(**{"team_ids[]": team.id}) == {
        i.id for i in mine if team.id in i.team_ids
    }


def test_incident_list_defaults_to_the_last_month(pagerduty_sandbox, token, acme):
    now = pagerduty_sandbox.state.now()
    mine = _incidents(pagerduty_sandbox, acme)
    recent = {i.id for i in mine if i.created_at >= now - timedelta(days=30)}

    default = _get(pagerduty_sandbox, "/incidents", token, params={"limit": 100})
    everything = _get(
        pagerduty_sandbox,
        "/incidents",
        token,
        params={"limit": 100, "date_range": "all"},
    )

    assert _ids(default) == recent
    assert len(_ids(everything)) == len(mine) > len(recent)


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"since": "yesterday"}, 2004),
        ({"since": "2026-01-01T00:00:00Z", "until": "2025-01-01T00:00:00Z"}, 2005),
        ({"since": "2024-01-01T00:00:00Z", "until": "2025-01-01T00:00:00Z"}, 2005),
        ({"statuses[]": "open"}, 2001),
        ({"sort_by": "title"}, 2001),
        ({"include[]": "everything"}, 2001),
    ],
)
def test_incident_list_rejects_bad_queries(pagerduty_sandbox, token, params, code):
    response = _get(pagerduty_sandbox, "/incidents", token, params=params)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == code


def test_incident_list_sorts(pagerduty_sandbox, token):
    response = _get(
        pagerduty_sandbox,
        "/incidents",
        token,
        params={"sort_by": "incident_number:desc", "date_range": "all"},
    )

    numbers = [i["incident_number"] for i in response.json()["incidents"]]
    assert numbers == sorted(numbers, reverse=True)


def test_include_assignees_expands_users(pagerduty_sandbox, token):
    response = _get(
        pagerduty_sandbox,
        "/incidents",
        token,
        params={"statuses[]": "triggered", "include[]": "assignees"},
    )

    assignee = response.json()["incidents"][0]["assignments"][0]["assignee"]
    assert assignee["type"] == "user"
    assert "@acme.example" in assignee["email"]


# --- Incidents: writes ---


def test_create_assigns_the_level_one_on_call_and_logs_it(
    pagerduty_sandbox, token, acme
):
    state = pagerduty_sandbox.state
    service = next(s for s in state.services.values() if s.account_id == acme.id)
    body = {
        "incident": {
            "type": "incident",
            "title": "Queue stuck",
            "service": {"id": service.id, "type": "service_reference"},
            "incident_key": "queue-1",
        }
    }

    created = _write(pagerduty_sandbox, "POST", "/incidents", token, body)
    duplicate = _write(pagerduty_sandbox, "POST", "/incidents", token, body)

    incident = state.incidents[created.json()["incident"]["id"]]
    policy = state.escalation_policies[service.escalation_policy_id]
    level_one = {uid for lvl, uid, _ in _policy_oncalls(state, policy) if lvl == 1}
    assert created.status_code == 201
    assert incident.status == "triggered"
    assert set(incident.assignee_ids) == level_one
    assert [e.type for e in incident.log_entries][0] == "trigger_log_entry"
    assert duplicate.status_code == 400
    assert len([i for i in state.incidents.values() if i.title == "Queue stuck"]) == 1


def _policy_oncalls(state, policy):
    from pagerduty_sandbox.ops import policy_oncalls

    return policy_oncalls(state, policy, state.now())


def test_acknowledge_then_resolve_with_a_resolution_note(
    pagerduty_sandbox, token, acme
):
    incident = _incidents(pagerduty_sandbox, acme, status="triggered")[0]
    path = f"/incidents/{incident.id}"

    ack = _write(
        pagerduty_sandbox,
        "PUT",
        path,
        token,
        {"incident": {"type": "incident_reference", "status": "acknowledged"}},
    )
    resolve = _write(
        pagerduty_sandbox,
        "PUT",
        path,
        token,
        {
            "incident": {
                "type": "incident_reference",
                "status": "resolved",
                "resolution": "Restarted the workers",
            }
        },
    )
    again = _write(
        pagerduty_sandbox,
        "PUT",
        path,
        token,
        {"incident": {"type": "incident_reference", "status": "resolved"}},
    )

    assert ack.json()["incident"]["acknowledgements"][0]["acknowledger"]["summary"] == (
        "Alice Anders"
    )
    assert resolve.json()["incident"]["status"] == "resolved"
    assert resolve.json()["incident"]["assignments"] == []
    assert incident.notes[-1].content == "Restarted the workers"
    assert again.status_code == 400
    assert again.json()["error"] == {
        "message": "Incident Already Resolved",
        "code": 1001,
    }


def test_reassign_escalate_and_change_urgency(pagerduty_sandbox, token, acme):
    state = pagerduty_sandbox.state
    incident = _incidents(pagerduty_sandbox, acme, status="acknowledged")[0]
    carol = state.user_by_email("carol@acme.example")
    urgency = "low" if incident.urgency == "high" else "high"

    reassigned = _write(
        pagerduty_sandbox,
        "PUT",
        f"/incidents/{incident.id}",
        token,
        {
            "incident": {
                "type": "incident_reference",
                "assignments": [
                    {"assignee": {"id": carol.id, "type": "user_reference"}}
                ],
                "urgency": urgency,
            }
        },
    )
    escalated = _write(
        pagerduty_sandbox,
        "PUT",
        f"/incidents/{incident.id}",
        token,
        {"incident": {"type": "incident_reference", "escalation_level": 2}},
    )
    too_far = _write(
        pagerduty_sandbox,
        "PUT",
        f"/incidents/{incident.id}",
        token,
        {"incident": {"type": "incident_reference", "escalation_level": 9}},
    )

    assert reassigned.json()["incident"]["status"] == "triggered"
    assert incident.urgency == urgency
    assert escalated.status_code == 200
    assert incident.escalation_level == 2
    assert too_far.json()["error"]["code"] == 1006
    kinds = [e.type for e in incident.log_entries]
    assert {"assign_log_entry", "urgency_change_log_entry", "escalate_log_entry"} <= (
        set(kinds)
    )


def test_reopening_a_resolved_incident(pagerduty_sandbox, token, acme):
    incident = _incidents(pagerduty_sandbox, acme, status="resolved")[0]

    response = _write(
        pagerduty_sandbox,
        "PUT",
        f"/incidents/{incident.id}",
        token,
        {"incident": {"type": "incident_reference", "status": "triggered"}},
    )

    assert response.json()["incident"]["status"] == "triggered"
    assert "resolved_at" not in response.json()["incident"]
    assert incident.assignee_ids


def test_bulk_update_is_all_or_nothing(pagerduty_sandbox, token, acme):
    open_one = _incidents(pagerduty_sandbox, acme, status="triggered")[0]
    resolved = _incidents(pagerduty_sandbox, acme, status="resolved")[0]
    body = {
        "incidents": [
            {"id": open_one.id, "type": "incident_reference", "status": "resolved"},
            {"id": resolved.id, "type": "incident_reference", "status": "resolved"},
        ]
    }

    response = _write(pagerduty_sandbox, "PUT", "/incidents", token, body)

    assert response.status_code == 400
    assert open_one.status == "triggered"
    assert open_one.resolved_at is None


def test_bulk_update_accepts_at_most_250(pagerduty_sandbox, token, acme):
    incident = _incidents(pagerduty_sandbox, acme)[0]
    items = [{"id": incident.id, "type": "incident_reference"}] * 251

    response = _write(
        pagerduty_sandbox, "PUT", "/incidents", token, {"incidents": items}
    )

    assert response.status_code == 413


def test_snooze_needs_an_acknowledged_incident(pagerduty_sandbox, token, acme):
    triggered = _incidents(pagerduty_sandbox, acme, status="triggered")[0]
    acked = _incidents(pagerduty_sandbox, acme, status="acknowledged")[0]

    refused = _write(
        pagerduty_sandbox,
        "POST",
        f"/incidents/{triggered.id}/snooze",
        token,
        {"duration": 60},
    )
    bad = _write(
        pagerduty_sandbox,
        "POST",
        f"/incidents/{acked.id}/snooze",
        token,
        {"duration": 0},
    )
    snoozed = _write(
        pagerduty_sandbox,
        "POST",
        f"/incidents/{acked.id}/snooze",
        token,
        {"duration": 3600},
    )

    assert refused.json()["error"]["code"] == 1012
    assert bad.json()["error"]["code"] == 1013
    assert snoozed.status_code == 201
    assert acked.snoozed_until == pagerduty_sandbox.state.now() + timedelta(hours=1)


def test_merge_resolves_the_sources(pagerduty_sandbox, token, acme):
    target, source = _incidents(pagerduty_sandbox, acme, status="triggered")[:2]

    response = _write(
        pagerduty_sandbox,
        "PUT",
        f"/incidents/{target.id}/merge",
        token,
        {"source_incidents": [{"id": source.id, "type": "incident_reference"}]},
    )
    again = _write(
        pagerduty_sandbox,
        "PUT",
        f"/incidents/{target.id}/merge",
        token,
        {"source_incidents": [{"id": source.id, "type": "incident_reference"}]},
    )

    assert response.status_code == 200
    assert source.status == "resolved"
    assert again.json()["error"]["code"] == 1019


def test_notes_are_added_and_listed(pagerduty_sandbox, token, acme):
    incident = _incidents(pagerduty_sandbox, acme, status="triggered")[0]
    path = f"/incidents/{incident.id}/notes"

    created = _write(
        pagerduty_sandbox, "POST", path, token, {"note": {"content": "On it"}}
    )
    empty = _write(pagerduty_sandbox, "POST", path, token, {"note": {"content": " "}})
    listed = _get(pagerduty_sandbox, path, token)

    assert created.json()["note"]["user"]["summary"] == "Alice Anders"
    assert listed.json()["notes"][-1]["content"] == "On it"
    assert empty.status_code == 400


def test_log_entries_are_newest_first(pagerduty_sandbox, token, acme):
    incident = _incidents(pagerduty_sandbox, acme, status="resolved")[0]

    response = _get(pagerduty_sandbox, f"/incidents/{incident.id}/log_entries", token)

    entries = response.json()["log_entries"]
    assert entries[0]["type"] == "resolve_log_entry"
    assert entries[-1]["type"] in ("trigger_log_entry", "assign_log_entry")
    assert [e["created_at"] for e in entries] == sorted(
        (e["created_at"] for e in entries), reverse=True
    )


# --- Services, policies, schedules, on-calls, users, teams ---


def test_service_create_update_delete(pagerduty_sandbox, token, acme):
    state = pagerduty_sandbox.state
    policy = next(
        p for p in state.escalation_policies.values() if p.account_id == acme.id
    )
    body = {
        "service": {
            "type": "service",
            "name": "Ledger",
            "escalation_policy": {
                "id": policy.id,
                "type": "escalation_policy_reference",
            },
        }
    }

    created = _write(pagerduty_sandbox, "POST", "/services", token, body)
    clash = _write(pagerduty_sandbox, "POST", "/services", token, body)
    service_id = created.json()["service"]["id"]
    updated = _write(
        pagerduty_sandbox,
        "PUT",
        f"/services/{service_id}",
        token,
        {"service": {"name": "General Ledger"}},
    )
    deleted = requests.delete(
        f"{pagerduty_sandbox.url}/services/{service_id}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )

    assert created.status_code == 201
    assert clash.status_code == 400
    assert updated.json()["service"]["name"] == "General Ledger"
    assert deleted.status_code == 204
    assert service_id not in state.services


def test_policy_in_use_cannot_be_deleted(pagerduty_sandbox, token, acme):
    state = pagerduty_sandbox.state
    policy = next(
        p for p in state.escalation_policies.values() if p.account_id == acme.id
    )

    response = requests.delete(
        f"{pagerduty_sandbox.url}/escalation_policies/{policy.id}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )

    assert response.status_code == 400
    assert policy.id in state.escalation_policies


def test_final_schedule_applies_overrides(pagerduty_sandbox, token, acme):
    state = pagerduty_sandbox.state
    schedule = next(s for s in state.schedules.values() if s.account_id == acme.id)
    override = schedule.overrides[0]
    since = override.start - timedelta(hours=1)
    until = override.end + timedelta(hours=1)

    response = _get(
        pagerduty_sandbox,
        f"/schedules/{schedule.id}",
        token,
        params={"since": iso(since), "until": iso(until)},
    )

    final = response.json()["schedule"]["final_schedule"]["rendered_schedule_entries"]
    during = [e for e in final if e["start"] == iso(override.start)]
    assert during[0]["user"]["id"] == override.user_id
    assert during[0]["end"] == iso(override.end)
    assert final[0]["start"] == iso(since)
    assert final[-1]["end"] == iso(until)


def test_schedules_filter_by_team(pagerduty_sandbox, token, acme):
    state = pagerduty_sandbox.state
    mine = [s for s in state.schedules.values() if s.account_id == acme.id]
    team_id = next(t for s in mine for t in s.team_ids)

    response = _get(
        pagerduty_sandbox, "/schedules", token, params={"team_ids[]": team_id}
    )

    listed = {s["id"] for s in response.json()["schedules"]}
    assert listed == {s.id for s in mine if team_id in s.team_ids}
    assert 0 < len(listed) < len(mine)


def test_override_create_and_delete(pagerduty_sandbox, token, acme):
    state = pagerduty_sandbox.state
    schedule = next(s for s in state.schedules.values() if s.account_id == acme.id)
    carol = state.user_by_email("carol@acme.example")
    start = state.now() + timedelta(days=1)
    body = {
        "overrides": [
            {
                "start": iso(start),
                "end": iso(start + timedelta(hours=2)),
                "user": {"id": carol.id, "type": "user_reference"},
            }
        ]
    }

    created = _write(
        pagerduty_sandbox, "POST", f"/schedules/{schedule.id}/overrides", token, body
    )
    override_id = created.json()[0]["override"]["id"]
    deleted = requests.delete(
        f"{pagerduty_sandbox.url}/schedules/{schedule.id}/overrides/{override_id}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )

    assert created.status_code == 201
    assert deleted.status_code == 204
    assert all(o.id != override_id for o in schedule.overrides)


def test_oncalls_follow_the_schedules(pagerduty_sandbox, token, acme):
    from pagerduty_sandbox.ops import schedule_user_at

    state = pagerduty_sandbox.state
    now = state.now()

    response = _get(pagerduty_sandbox, "/oncalls", token)

    oncalls = response.json()["oncalls"]
    scheduled = [o for o in oncalls if "schedule" in o]
    assert scheduled
    for oncall in scheduled:
        schedule = state.schedules[oncall["schedule"]["id"]]
        assert oncall["user"]["id"] == schedule_user_at(schedule, now)
        assert oncall["escalation_level"] == 1
    assert {o["escalation_level"] for o in oncalls} == {1, 2}


def test_oncalls_are_limited_to_90_days_ahead(pagerduty_sandbox, token):
    until = pagerduty_sandbox.state.now() + timedelta(days=91)

    response = _get(pagerduty_sandbox, "/oncalls", token, params={"until": iso(until)})

    assert response.status_code == 400


def test_user_create_needs_from_and_a_unique_email(pagerduty_sandbox, token):
    body = {"user": {"type": "user", "name": "Zed", "email": "zed@acme.example"}}

    missing_from = _write(pagerduty_sandbox, "POST", "/users", token, body, None)
    created = _write(pagerduty_sandbox, "POST", "/users", token, body)
    clash = _write(pagerduty_sandbox, "POST", "/users", token, body)

    assert missing_from.status_code == 400
    assert created.status_code == 201
    assert created.json()["user"]["role"] == "user"
    assert clash.status_code == 400


def test_a_team_keeps_its_default_role(pagerduty_sandbox, token):
    private = _write(
        pagerduty_sandbox,
        "POST",
        "/teams",
        token,
        {"team": {"type": "team", "name": "Red team", "default_role": "none"}},
    )
    public = _write(
        pagerduty_sandbox,
        "POST",
        "/teams",
        token,
        {"team": {"type": "team", "name": "Blue team"}},
    )
    wrong = _write(
        pagerduty_sandbox,
        "POST",
        "/teams",
        token,
        {"team": {"type": "team", "name": "Grey team", "default_role": "observer"}},
    )
    team_id = private.json()["team"]["id"]

    fetched = _get(pagerduty_sandbox, f"/teams/{team_id}", token)

    assert fetched.json()["team"]["default_role"] == "none"
    assert public.json()["team"]["default_role"] == "manager"
    assert wrong.status_code == 400
    assert not any(
        t.name == "Grey team" for t in pagerduty_sandbox.state.teams.values()
    )


def test_team_membership(pagerduty_sandbox, token, acme):
    state = pagerduty_sandbox.state
    team = next(t for t in state.teams.values() if t.name == "Platform")
    erin = state.user_by_email("erin@acme.example")
    headers = {"Authorization": f"Bearer {token}"}

    added = requests.put(
        f"{pagerduty_sandbox.url}/teams/{team.id}/users/{erin.id}",
        headers=headers,
        json={"role": "observer"},
        timeout=5,
    )
    members = _get(pagerduty_sandbox, f"/teams/{team.id}/members", token)
    removed = requests.delete(
        f"{pagerduty_sandbox.url}/teams/{team.id}/users/{erin.id}",
        headers=headers,
        timeout=5,
    )

    assert added.status_code == 204
    assert {"user": members.json()["members"][-1]["user"], "role": "observer"} == (
        members.json()["members"][-1]
    )
    assert removed.status_code == 204
    assert erin.id not in team.members


def test_eu_api_serves_the_eu_account(pagerduty_sandbox):
    token = pagerduty_sandbox.issue_token(
        "gina@globex.example", client_id=_globex_app(pagerduty_sandbox)
    )

    response = requests.get(
        f"{pagerduty_sandbox.eu_api_url}/incidents",
        headers={"Authorization": f"Bearer {token}"},
        params={"date_range": "all"},
        timeout=5,
    )

    incident = response.json()["incidents"][0]
    assert incident["self"].startswith(pagerduty_sandbox.eu_api_url + "/incidents/")
    assert incident["html_url"].startswith("https://globex.pagerduty.com/")


def _globex_app(sandbox):
    from pagerduty_sandbox.state import App

    state = sandbox.state
    globex = state.account_by_subdomain("globex")
    gina = state.user_by_email("gina@globex.example")
    app = App(
        id=state.new_id(),
        account_id=globex.id,
        owner_user_id=gina.id,
        name="EU app",
        description="",
        client_id="eu-client-0001",
        client_secret="eu-secret-0001",
        redirect_uris=["http://127.0.0.1:8000/integration-callback"],
        scopes=["incidents.read"],
        created_at=state.now(),
    )
    state.apps[app.id] = app
    return app.client_id


def _scoped_routes():
    from pagerduty_sandbox.rest import ROUTES
    from pagerduty_sandbox.rest.base import spec_data

    scopes = spec_data()["scopes"]
    return [
        (method, template, scopes[f"{method} {template}"])
        for method, template, _ in ROUTES
        if f"{method} {template}" in scopes
    ]


@pytest.mark.parametrize(("method", "template", "scope"), _scoped_routes())
def test_every_operation_needs_its_spec_scope(
    pagerduty_sandbox, method, template, scope
):
    others = [s for s in known_scopes() if s != scope]
    token = pagerduty_sandbox.issue_token("alice@acme.example", others)
    path = template.replace("{id}", "PAAAAAA").replace("{note_id}", "PBBBBBB")
    path = path.replace("{override_id}", "PCCCCCC").replace("{user_id}", "PDDDDDD")

    response = requests.request(
        method,
        f"{pagerduty_sandbox.url}{path}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )

    assert response.status_code == 403
    assert f"requires the {scope} scope" in response.json()["error"]["errors"][0]
