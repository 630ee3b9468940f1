"""Operations around incidents and services that PagerDuty's MCP tools call:
alerts, outlier/past/related incidents, change events, responder requests,
dependencies, alert grouping, orchestration, schedule users, v3 schedules.
Each answer must agree with the sandbox's state."""

import re
from datetime import timedelta

import pytest
import requests

from pagerduty_sandbox import ops
from pagerduty_sandbox.rest.incident_context import CHANGE_WINDOW
from pagerduty_sandbox.state import iso


@pytest.fixture
def api(pagerduty_sandbox):
    token = pagerduty_sandbox.issue_token("alice@acme.example")
    headers = {"Authorization": f"Bearer {token}", "From": "alice@acme.example"}

    def call(method, path, **kwargs):
        return requests.request(
            method,
            f"{pagerduty_sandbox.url}{path}",
            headers=headers,
            timeout=5,
            **kwargs,
        )

    return call


@pytest.fixture
def acme(pagerduty_sandbox):
    return pagerduty_sandbox.state.account_by_subdomain("acme")


def _mine(collection, account):
    return [x for x in collection.values() if x.account_id == account.id]


def _incident(state, account, **match):
    return next(
        i
        for i in sorted(_mine(state.incidents, account), key=lambda i: i.number)
        if all(getattr(i, k) == v for k, v in match.items())
    )


# --- Alerts ---


def test_every_seeded_incident_has_the_alerts_that_triggered_it(pagerduty_sandbox):
    state = pagerduty_sandbox.state

    for incident in state.incidents.values():
        assert 1 <= len(incident.alerts) <= 3
        assert incident.alerts[0].alert_key == incident.incident_key
        assert all(a.incident_id == incident.id for a in incident.alerts)
        assert all(a.service_id == incident.service_id for a in incident.alerts)
        resolved = incident.status == "resolved"
        assert all((a.status == "resolved") is resolved for a in incident.alerts)


def test_alerts_list_filters_and_counts_match_the_incident(
    api, pagerduty_sandbox, acme
):
    incident = next(
        i for i in _mine(pagerduty_sandbox.state.incidents, acme) if len(i.alerts) == 3
    )
    second = incident.alerts[1]

    listed = api("GET", f"/incidents/{incident.id}/alerts?total=true").json()
    by_key = api(
        "GET", f"/incidents/{incident.id}/alerts?alert_key={second.alert_key}"
    ).json()
    newest = api(
        "GET", f"/incidents/{incident.id}/alerts?sort_by=created_at:desc&limit=1"
    ).json()
    got = api("GET", f"/incidents/{incident.id}/alerts/{second.id}").json()
    shown = api("GET", f"/incidents/{incident.id}").json()["incident"]

    assert [a["id"] for a in listed["alerts"]] == [a.id for a in incident.alerts]
    assert listed["total"] == 3
    assert [a["id"] for a in by_key["alerts"]] == [second.id]
    assert newest["alerts"][0]["id"] == incident.alerts[-1].id
    assert newest["more"] is True
    assert got["alert"]["incident"]["id"] == incident.id
    assert shown["alert_counts"]["all"] == 3


def test_alert_of_another_incident_is_not_found(api, pagerduty_sandbox, acme):
    first, second = _mine(pagerduty_sandbox.state.incidents, acme)[:2]

    response = api("GET", f"/incidents/{first.id}/alerts/{second.alerts[0].id}")
    bad_sort = api("GET", f"/incidents/{first.id}/alerts?sort_by=severity")
    bad_status = api("GET", f"/incidents/{first.id}/alerts?statuses[]=open")

    assert response.status_code == 404
    assert response.json()["error"]["message"] == "Alert Not Found"
    assert bad_sort.status_code == 400
    assert bad_status.status_code == 400


def test_resolving_an_incident_resolves_its_alerts(api, pagerduty_sandbox, acme):
    incident = _incident(pagerduty_sandbox.state, acme, status="triggered")

    api(
        "PUT",
        f"/incidents/{incident.id}",
        json={"incident": {"type": "incident_reference", "status": "resolved"}},
    )
    listed = api("GET", f"/incidents/{incident.id}/alerts?statuses[]=triggered")

    assert listed.json()["alerts"] == []
    assert all(a.resolved_at == incident.resolved_at for a in incident.alerts)


def test_merging_moves_the_alerts_to_the_target(api, pagerduty_sandbox, acme):
    state = pagerduty_sandbox.state
    target = _incident(state, acme, status="triggered")
    source = _incident(state, acme, status="acknowledged")
    moved = [a.id for a in source.alerts]

    response = api(
        "PUT",
        f"/incidents/{target.id}/merge",
        json={"source_incidents": [{"id": source.id, "type": "incident_reference"}]},
    )
    listed = api("GET", f"/incidents/{target.id}/alerts").json()["alerts"]

    assert response.status_code == 200
    assert set(moved) <= {a["id"] for a in listed}
    assert source.alerts == []


# --- Outlier, past and related incidents ---


def test_outlier_counts_the_services_incidents_with_the_same_template(
    api, pagerduty_sandbox, acme
):
    state = pagerduty_sandbox.state
    incident = _incident(state, acme)
    service = state.services[incident.service_id]
    peers = [i for i in _mine(state.incidents, acme) if i.service_id == service.id]

    body = api("GET", f"/incidents/{incident.id}/outlier_incident").json()
    detailed = api(
        "GET",
        f"/incidents/{incident.id}/outlier_incident?additional_details[]=incident",
    ).json()

    outlier = body["outlier_incident"]
    occurrence = outlier["incident"]["occurrence"]
    text = outlier["incident_template"]["mined_text"]
    assert service.name not in text
    assert text == re.sub(r"\d+", "<*>", incident.title.replace(service.name, "<*>"))
    assert occurrence["count"] == sum(
        re.sub(r"\d+", "<*>", i.title.replace(service.name, "<*>")) == text
        for i in peers
    )
    assert occurrence["frequency"] == round(occurrence["count"] / len(peers), 4)
    assert occurrence["category"] in ("anomalous", "rare", "frequent")
    assert detailed["outlier_incident"]["incident"]["type"] == "incident"


def test_outlier_refuses_a_window_over_six_months(api, pagerduty_sandbox, acme):
    incident = _incident(pagerduty_sandbox.state, acme)
    too_old = iso(pagerduty_sandbox.state.now() - timedelta(days=200))

    response = api(
        "GET", f"/incidents/{incident.id}/outlier_incident", params={"since": too_old}
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == 2005


def test_past_incidents_are_earlier_on_the_same_service_best_first(
    api, pagerduty_sandbox, acme
):
    state = pagerduty_sandbox.state
    incident = max(_mine(state.incidents, acme), key=lambda i: i.created_at)

    body = api(
        "GET", f"/incidents/{incident.id}/past_incidents?limit=3&total=true"
    ).json()

    scores = [p["score"] for p in body["past_incidents"]]
    assert body["limit"] == 3
    assert body["past_incidents"]
    assert len(body["past_incidents"]) == min(3, body["total"])
    assert scores == sorted(scores, reverse=True)
    for past in body["past_incidents"]:
        other = state.incidents[past["incident"]["id"]]
        assert other.service_id == incident.service_id
        assert other.created_at < incident.created_at
        assert 0 < past["score"] <= 100


@pytest.mark.parametrize("limit", ["0", "1000", "x"])
def test_past_incidents_limit_is_checked(api, pagerduty_sandbox, acme, limit):
    incident = _incident(pagerduty_sandbox.state, acme)

    response = api("GET", f"/incidents/{incident.id}/past_incidents?limit={limit}")

    assert response.status_code == 400


def test_related_incidents_are_open_on_dependent_or_supporting_services(
    api, pagerduty_sandbox, acme
):
    state = pagerduty_sandbox.state
    incident = _incident(state, acme, status="triggered")
    linked = set()
    for dep in _mine(state.service_dependencies, acme):
        sides = {dep.supporting, dep.dependent}
        if ("service", incident.service_id) in sides:
            linked |= {obj_id for kind, obj_id in sides if kind == "service"}

    related = api("GET", f"/incidents/{incident.id}/related_incidents").json()[
        "related_incidents"
    ]

    assert related
    assert len(related) <= 20
    for entry in related:
        other = state.incidents[entry["incident"]["id"]]
        assert other.id != incident.id
        assert other.status != "resolved"
        kinds = {r["type"] for r in entry["relationships"]}
        if "service_dependency" in kinds and other.service_id in linked:
            metadata = entry["relationships"][0]["metadata"]
            ids = {
                s["id"]
                for s in metadata["dependent_services"]
                + metadata["supporting_services"]
            }
            assert {incident.service_id, other.service_id} == ids


def test_related_change_events_precede_the_incident(api, pagerduty_sandbox, acme):
    state = pagerduty_sandbox.state
    incident = _incident(state, acme, number=1)

    changes = api("GET", f"/incidents/{incident.id}/related_change_events").json()[
        "change_events"
    ]

    assert changes
    first = changes[0]
    assert first["correlation_reason"]["reason"] == "most_recent"
    assert incident.service_id in [s["id"] for s in first["services"]]
    for change in changes:
        moment = state.change_events[change["id"]].timestamp
        assert incident.created_at - CHANGE_WINDOW <= moment <= incident.created_at


# --- Responder requests ---


def test_responder_request_asks_users_and_a_policys_on_call(
    api, pagerduty_sandbox, acme
):
    state = pagerduty_sandbox.state
    incident = _incident(state, acme, status="triggered")
    bob = state.user_by_email("bob@acme.example")
    policy = state.escalation_policies[incident.escalation_policy_id]
    on_call = ops.level_assignees(state, policy, 1)

    response = api(
        "POST",
        f"/incidents/{incident.id}/responder_requests",
        json={
            "requester_id": state.user_by_email("alice@acme.example").id,
            "message": "Join the bridge",
            "responder_request_targets": [
                {"responder_request_target": {"id": bob.id, "type": "user_reference"}},
                {"id": policy.id, "type": "escalation_policy_reference"},
            ],
        },
    )
    shown = api("GET", f"/incidents/{incident.id}").json()["incident"]

    assert response.status_code == 200
    targets = response.json()["responder_request"]["responder_request_targets"]
    assert [t["responder_request_target"]["type"] for t in targets] == [
        "user",
        "escalation_policy",
    ]
    asked = {r["user"]["id"] for r in shown["incidents_responders"]}
    assert asked == {bob.id, *on_call}
    assert all(r["state"] == "pending" for r in shown["incidents_responders"])
    assert shown["responder_requests"][0]["message"] == "Join the bridge"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"message": "x", "responder_request_targets": []}, 400, 2011),
        ({"requester_id": "PNOPE00", "message": "x"}, 400, 1008),
        ({"requester_id": "$alice", "message": "x"}, 400, 2001),
        (
            {
                "requester_id": "$alice",
                "message": "x",
                "responder_request_targets": [
                    {"id": "PNOPE00", "type": "user_reference"}
                ],
            },
            400,
            2001,
        ),
        (
            {
                "requester_id": "$alice",
                "message": "x",
                "responder_request_targets": [
                    {"id": "PNOPE00", "type": "team_reference"}
                ],
            },
            400,
            2001,
        ),
    ],
)
def test_responder_request_refuses_bad_bodies(
    api, pagerduty_sandbox, acme, body, status, code
):
    state = pagerduty_sandbox.state
    incident = _incident(state, acme, status="triggered")
    if body.get("requester_id") == "$alice":
        body = {**body, "requester_id": state.user_by_email("alice@acme.example").id}

    response = api("POST", f"/incidents/{incident.id}/responder_requests", json=body)

    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert incident.responder_requests == []


def test_responder_request_on_a_resolved_incident_is_refused(
    api, pagerduty_sandbox, acme
):
    state = pagerduty_sandbox.state
    incident = _incident(state, acme, status="resolved")
    bob = state.user_by_email("bob@acme.example")

    response = api(
        "POST",
        f"/incidents/{incident.id}/responder_requests",
        json={
            "requester_id": bob.id,
            "message": "x",
            "responder_request_targets": [{"id": bob.id, "type": "user_reference"}],
        },
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == 1001


# --- Services: change events, dependencies, grouping, orchestration ---


def test_service_change_events_filter_by_time_and_team(api, pagerduty_sandbox, acme):
    state = pagerduty_sandbox.state
    service = _mine(state.services, acme)[0]
    now = state.now()
    theirs = [
        c for c in _mine(state.change_events, acme) if service.id in c.service_ids
    ]
    week = [c for c in theirs if c.timestamp >= now - timedelta(days=7)]
    other_team = next(
        t for t in _mine(state.teams, acme) if t.id not in service.team_ids
    )

    everything = api("GET", f"/services/{service.id}/change_events?limit=100").json()
    recent = api(
        "GET",
        f"/services/{service.id}/change_events",
        params={"since": iso(now - timedelta(days=7)), "limit": 100},
    ).json()
    filtered = api(
        "GET", f"/services/{service.id}/change_events?team_ids[]={other_team.id}"
    ).json()

    assert {c["id"] for c in everything["change_events"]} == {c.id for c in theirs}
    assert {c["id"] for c in recent["change_events"]} == {c.id for c in week}
    stamps = [c["timestamp"] for c in everything["change_events"]]
    assert stamps == sorted(stamps, reverse=True)
    assert filtered["change_events"] == []


def test_dependencies_list_each_link_of_a_service_or_business_service(
    api, pagerduty_sandbox, acme
):
    state = pagerduty_sandbox.state
    service = _mine(state.services, acme)[0]
    business = _mine(state.business_services, acme)[0]

    technical = api(
        "GET", f"/service_dependencies/technical_services/{service.id}"
    ).json()["relationships"]
    upward = api(
        "GET", f"/service_dependencies/business_services/{business.id}"
    ).json()["relationships"]
    listed = api("GET", "/business_services?total=true").json()
    missing = api("GET", "/service_dependencies/business_services/PNOPE00")

    expected = {
        d.id
        for d in _mine(state.service_dependencies, acme)
        if ("service", service.id) in (d.supporting, d.dependent)
    }
    assert {r["id"] for r in technical} == expected
    assert all(
        r["dependent_service"] == {**r["dependent_service"], "id": business.id}
        for r in upward
    )
    assert {r["dependent_service"]["type"] for r in upward} == {
        "business_service_reference"
    }
    assert listed["total"] == len(_mine(state.business_services, acme))
    assert missing.status_code == 404


def test_alert_grouping_settings_round_trip(api, pagerduty_sandbox, acme):
    state = pagerduty_sandbox.state
    grouped = {s for g in state.alert_grouping_settings.values() for s in g.service_ids}
    free = next(s for s in _mine(state.services, acme) if s.id not in grouped)

    created = api(
        "POST",
        "/alert_grouping_settings",
        json={
            "alert_grouping_setting": {
                "type": "time",
                "config": {"timeout": 600},
                "services": [{"id": free.id, "type": "service_reference"}],
            }
        },
    )
    setting_id = created.json()["alert_grouping_setting"]["id"]
    updated = api(
        "PUT",
        f"/alert_grouping_settings/{setting_id}",
        json={"alert_grouping_setting": {"name": "Renamed"}},
    )
    by_service = api("GET", f"/alert_grouping_settings?service_ids[]={free.id}").json()
    deleted = api("DELETE", f"/alert_grouping_settings/{setting_id}")
    gone = api("GET", f"/alert_grouping_settings/{setting_id}")

    assert created.status_code == 201
    assert updated.json()["alert_grouping_setting"]["services"][0]["id"] == free.id
    assert updated.json()["alert_grouping_setting"]["name"] == "Renamed"
    assert [s["id"] for s in by_service["alert_grouping_settings"]] == [setting_id]
    assert deleted.status_code == 204
    assert gone.status_code == 404


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ({"type": "magic", "config": {}}, "type must be one of"),
        ({"type": "time", "config": {"timeout": 30}}, "config.timeout must be"),
        ({"type": "intelligent", "config": {"time_window": 4000}}, "time_window"),
        (
            {"type": "content_based", "config": {"aggregate": "all", "fields": []}},
            "config.fields",
        ),
        ({"type": "content_based", "config": {"aggregate": "some"}}, "aggregate"),
        ({"type": "time", "config": {"timeout": 600}, "services": []}, "services"),
    ],
)
def test_alert_grouping_settings_refuse_bad_configs(
    api, pagerduty_sandbox, acme, setting, message
):
    state = pagerduty_sandbox.state
    before = dict(state.alert_grouping_settings)
    service = _mine(state.services, acme)[-1]
    setting = {"services": [{"id": service.id, "type": "service_reference"}], **setting}

    response = api(
        "POST", "/alert_grouping_settings", json={"alert_grouping_setting": setting}
    )

    assert response.status_code == 400
    assert message in response.json()["error"]["errors"][0]
    assert state.alert_grouping_settings == before


def test_a_service_belongs_to_one_alert_grouping_setting(api, pagerduty_sandbox, acme):
    taken = next(iter(pagerduty_sandbox.state.alert_grouping_settings.values()))

    response = api(
        "POST",
        "/alert_grouping_settings",
        json={
            "alert_grouping_setting": {
                "type": "content_based_intelligent",
                "config": {
                    "aggregate": "any",
                    "fields": ["summary"],
                    "time_window": 300,
                },
                "services": [{"id": taken.service_ids[0], "type": "service_reference"}],
            }
        },
    )

    assert response.status_code == 400
    assert "already belongs" in response.json()["error"]["errors"][0]


def test_alert_grouping_settings_page_with_cursors(api, pagerduty_sandbox, acme):
    first = api("GET", "/alert_grouping_settings?limit=1").json()
    second = api(
        "GET", f"/alert_grouping_settings?limit=1&after={first['after']}"
    ).json()
    bad = api("GET", "/alert_grouping_settings?after=PNOPE00")

    settings = _mine(pagerduty_sandbox.state.alert_grouping_settings, acme)
    assert len(settings) == 2
    assert first["after"] == first["alert_grouping_settings"][0]["id"]
    assert second["alert_grouping_settings"][0]["id"] != first["after"]
    assert second["after"] is None
    assert second["before"] == second["alert_grouping_settings"][0]["id"]
    assert bad.status_code == 400


def test_service_orchestration_starts_with_the_services_rules(
    api, pagerduty_sandbox, acme
):
    first, second = _mine(pagerduty_sandbox.state.services, acme)[:2]

    seeded = api("GET", f"/event_orchestrations/services/{first.id}").json()
    empty = api("GET", f"/event_orchestrations/services/{second.id}").json()
    unknown = api("GET", "/event_orchestrations/services/PNOPE00")
    bad = api("GET", f"/event_orchestrations/services/{first.id}?include[]=rules")

    path = seeded["orchestration_path"]
    assert path["parent"]["id"] == first.id
    assert path["sets"][0]["id"] == "start"
    assert path["sets"][0]["rules"][0]["actions"] == {"suppress": True}
    assert empty["orchestration_path"]["sets"] == [{"id": "start", "rules": []}]
    assert unknown.status_code == 404
    assert bad.status_code == 400


# --- Schedules ---


def test_schedule_users_are_the_final_schedules_on_call(api, pagerduty_sandbox, acme):
    state = pagerduty_sandbox.state
    schedule = _mine(state.schedules, acme)[0]
    since, until = state.now(), state.now() + timedelta(days=3)
    on_call = {u for _, _, u in ops.schedule_entries(schedule, since, until)}

    windowed = api(
        "GET",
        f"/schedules/{schedule.id}/users",
        params={"since": iso(since), "until": iso(until)},
    ).json()
    everyone = api("GET", f"/schedules/{schedule.id}/users").json()

    assert {u["id"] for u in windowed["users"]} == on_call
    named = {u for layer in schedule.layers for u in layer.user_ids}
    assert {u["id"] for u in everyone["users"]} == named | {
        o.user_id for o in schedule.overrides
    }


def test_each_schedule_api_sends_the_other_kind_to_its_api(
    api, pagerduty_sandbox, acme
):
    state = pagerduty_sandbox.state
    layered = _mine(state.schedules, acme)[0]
    shift_based = _mine(state.v3_schedules, acme)[0]

    v2 = api("GET", f"/schedules/{shift_based.id}")
    v3 = api("GET", f"/v3/schedules/{layered.id}")
    listed = api("GET", "/v3/schedules").json()
    nowhere = api("GET", "/v3/schedules/PNOPE00")

    assert v2.status_code == 400
    assert "shift-based" in v2.json()["error"]["message"]
    assert v3.status_code == 400
    assert "layer-based" in v3.json()["error"]["message"]
    assert [s["id"] for s in listed["schedules"]] == [shift_based.id]
    assert listed["schedules"][0]["type"] == "schedule_v3_reference"
    assert nowhere.status_code == 404


def test_v3_final_schedule_rotates_weekday_shifts(api, pagerduty_sandbox, acme):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    state = pagerduty_sandbox.state
    schedule = _mine(state.v3_schedules, acme)[0]
    event = schedule.rotations[0]["events"][0]
    members = [m["user_id"] for m in event["assignment_strategy"]["members"]]
    zone = ZoneInfo(schedule.time_zone)
    since = state.now()

    body = api(
        "GET",
        f"/v3/schedules/{schedule.id}",
        params={
            "include[]": "final_schedule",
            "since": iso(since),
            "until": iso(since + timedelta(days=14)),
            "overflow": "true",
        },
    ).json()
    bad_zone = api(
        "GET",
        f"/v3/schedules/{schedule.id}?include[]=final_schedule&time_zone=Mars/Base",
    )

    shifts = body["schedule"]["final_schedule"]["computed_shift_assignments"]
    assert 8 <= len(shifts) <= 11
    for shift in shifts:
        start = datetime.fromisoformat(shift["start_time"].replace("Z", "+00:00"))
        local = start.astimezone(zone)
        assert local.weekday() < 5
        assert (local.hour, local.minute) == (9, 0)
        assert shift["member"]["user_id"] in members
    # Five shifts per member: one person covers each working week, in turn.
    weeks = {}
    for shift in shifts:
        start = datetime.fromisoformat(shift["start_time"].replace("Z", "+00:00"))
        weeks.setdefault(start.isocalendar()[1], set()).add(shift["member"]["user_id"])
    people = [weeks[week] for week in sorted(weeks)]
    assert all(len(covering) == 1 for covering in people)
    assert all(a != b for a, b in zip(people, people[1:], strict=False))
    assert bad_zone.status_code == 400


def test_unscoped_v3_operations_accept_any_valid_credential(pagerduty_sandbox):
    token = pagerduty_sandbox.issue_token("bob@acme.example", ["incidents.read"])
    key = pagerduty_sandbox.issue_api_key("erin@acme.example")

    by_token = requests.get(
        f"{pagerduty_sandbox.url}/v3/schedules",
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )
    by_key = requests.get(
        f"{pagerduty_sandbox.url}/v3/schedules",
        headers={"Authorization": f"Token token={key}"},
        timeout=5,
    )

    assert by_token.status_code == 200
    assert by_key.status_code == 200


def test_seed_gives_every_account_what_these_reads_need(pagerduty_sandbox):
    state = pagerduty_sandbox.state

    for account in state.accounts.values():
        assert _mine(state.change_events, account)
        assert _mine(state.business_services, account)
        assert _mine(state.service_dependencies, account)
        assert _mine(state.v3_schedules, account)
        assert any(s.orchestration_rules for s in _mine(state.services, account))
    assert len(_mine(state.alert_grouping_settings, state.account_by_subdomain("acme")))
