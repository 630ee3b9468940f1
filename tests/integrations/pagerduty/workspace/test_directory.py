"""Schedules, escalation policies, users, teams and webhook subscriptions."""

import json

import pytest
from django.urls import reverse

from tests.integrations.pagerduty.workspace import payloads as pd

pytestmark = pytest.mark.django_db


def url(tenant, name, *args):
    return reverse(f"integrations:{name}", args=[tenant.pk, *args])


def body(call) -> dict:
    return json.loads(call.request.body)


def listing(key, items, total=None):
    return {
        key: items,
        "more": False,
        "limit": 25,
        "offset": 0,
        "total": len(items) if total is None else total,
    }


def user(obj_id="PUSER01", name="Alice Anders"):
    return {
        **pd.ref("user", obj_id, name),
        "type": "user",
        "name": name,
        "email": f"{name.split()[0].lower()}@acme.example",
        "role": "owner",
        "job_title": "Head of SRE",
        "time_zone": "America/New_York",
        "teams": [pd.ref("team", "PTEAM01", "Payments")],
    }


def schedule(entries=()):
    return {
        "id": "PSCH001",
        "type": "schedule",
        "name": "Payments primary",
        "time_zone": "UTC",
        "users": [pd.ref("user", "PUSER01", "Alice Anders")],
        "escalation_policies": [pd.ref("escalation_policy", "PEP0001", "Checkout")],
        "teams": [],
        "final_schedule": {
            "name": "Final Schedule",
            "rendered_schedule_entries": list(entries),
            "rendered_coverage_percentage": 100.0,
        },
    }


def policy():
    return {
        "id": "PEP0001",
        "type": "escalation_policy",
        "name": "Checkout policy",
        "num_loops": 2,
        "escalation_rules": [
            {
                "escalation_delay_in_minutes": 15,
                "targets": [pd.ref("schedule", "PSCH001", "Payments primary")],
            },
            {
                "escalation_delay_in_minutes": 30,
                "targets": [pd.ref("user", "PUSER02", "Bob Baker")],
            },
        ],
        "services": [pd.ref("service", "PSVC001", "Checkout")],
        "teams": [pd.ref("team", "PTEAM01", "Payments")],
    }


# --- Schedules ---


def test_schedule_list_costs_one_call(linked_client, tenant, mocked_responses):
    call = mocked_responses.get(
        pd.url("/schedules"), json=listing("schedules", [schedule()])
    )

    html = linked_client.get(url(tenant, "schedule_list")).content.decode()

    assert call.call_count == 1
    assert "Payments primary" in html
    assert "Alice Anders" in html


def test_schedule_detail_draws_14_days_of_hours_from_the_final_schedule(
    linked_client, tenant, mocked_responses
):
    from django.utils import timezone

    now = timezone.now()
    start = now.replace(minute=0, second=0, microsecond=0)
    entries = [
        {
            "start": start.isoformat(),
            "end": (start + timezone.timedelta(days=14)).isoformat(),
            "user": pd.ref("user", "PUSER01", "Alice Anders"),
        }
    ]
    sched = mocked_responses.get(
        pd.url("/schedules/PSCH001"), json={"schedule": schedule(entries)}
    )
    mocked_responses.get(
        pd.url("/schedules/PSCH001/overrides"),
        json={
            "overrides": [
                {
                    "id": "POVR001",
                    "start": "2026-12-01T10:00:00Z",
                    "end": "2026-12-01T12:00:00Z",
                    "user": pd.ref("user", "PUSER02", "Bob Baker"),
                }
            ]
        },
    )

    response = linked_client.get(url(tenant, "schedule_detail", "PSCH001"))

    html = response.content.decode()
    assert response.status_code == 200
    sent = pd.query(sched.calls[0])
    assert set(sent) == {"since", "until"}
    assert html.count('class="ws-tl-row"') == 14
    assert html.count("ws-tl-cell ws-c0") >= 24 * 13
    assert "style=" not in html
    assert 'id="override-POVR001"' in html
    assert "Alice Anders" in html[html.index('id="timeline-legend"') :]


def test_override_create_posts_it_in_utc(linked_client, tenant, mocked_responses):
    mocked_responses.get(pd.url("/schedules/PSCH001"), json={"schedule": schedule()})
    mocked_responses.get(pd.url("/schedules/PSCH001/overrides"), json={"overrides": []})
    created = mocked_responses.post(
        pd.url("/schedules/PSCH001/overrides"),
        status=201,
        json=[{"status": 201, "override": {"id": "POVR002"}}],
    )

    response = linked_client.post(
        url(tenant, "schedule_override_create", "PSCH001"),
        {"user": "PUSER01", "start": "2026-12-01T10:00", "end": "2026-12-01T12:00"},
    )

    assert response.status_code == 302
    assert body(created.calls[0]) == {
        "overrides": [
            {
                "start": "2026-12-01T10:00:00+00:00",
                "end": "2026-12-01T12:00:00+00:00",
                "user": {"id": "PUSER01", "type": "user_reference"},
            }
        ]
    }


def test_override_times_are_read_in_the_viewers_zone(
    client, tenant, tenant_admin, ws_connection, mocked_responses
):
    from integrations.models import UserPreference

    UserPreference.objects.create(user=tenant_admin, time_zone="Europe/Paris")
    client.force_login(tenant_admin)
    mocked_responses.get(pd.url("/schedules/PSCH001"), json={"schedule": schedule()})
    mocked_responses.get(pd.url("/schedules/PSCH001/overrides"), json={"overrides": []})
    created = mocked_responses.post(
        pd.url("/schedules/PSCH001/overrides"),
        status=201,
        json=[{"status": 201, "override": {"id": "POVR002"}}],
    )

    page = client.get(url(tenant, "schedule_override_create", "PSCH001"))
    client.post(
        url(tenant, "schedule_override_create", "PSCH001"),
        {"user": "PUSER01", "start": "2026-12-01T10:00", "end": "2026-12-01T12:00"},
    )

    assert "From (Europe/Paris)" in page.content.decode()
    sent = body(created.calls[0])["overrides"][0]
    assert (sent["start"], sent["end"]) == (
        "2026-12-01T10:00:00+01:00",
        "2026-12-01T12:00:00+01:00",
    )


def test_override_refused_keeps_what_was_typed(linked_client, tenant, mocked_responses):
    mocked_responses.get(pd.url("/schedules/PSCH001"), json={"schedule": schedule()})
    mocked_responses.get(pd.url("/schedules/PSCH001/overrides"), json={"overrides": []})
    mocked_responses.post(
        pd.url("/schedules/PSCH001/overrides"),
        status=400,
        json=pd.error("Invalid Input Provided", 2001, ["User not found"]),
    )

    response = linked_client.post(
        url(tenant, "schedule_override_create", "PSCH001"),
        {"user": "PUSER01", "start": "2026-12-01T10:00", "end": "2026-12-01T12:00"},
    )

    html = response.content.decode()
    assert response.status_code == 400
    assert "User not found" in html
    assert 'value="2026-12-01T10:00"' in html


def test_override_refused_inside_a_201_shows_its_errors(
    linked_client, tenant, mocked_responses
):
    mocked_responses.get(pd.url("/schedules/PSCH001"), json={"schedule": schedule()})
    mocked_responses.get(pd.url("/schedules/PSCH001/overrides"), json={"overrides": []})
    mocked_responses.post(
        pd.url("/schedules/PSCH001/overrides"),
        status=201,
        json=[{"status": 400, "errors": ["Override overlaps"], "override": {}}],
    )

    response = linked_client.post(
        url(tenant, "schedule_override_create", "PSCH001"),
        {"user": "PUSER01", "start": "2026-12-01T10:00", "end": "2026-12-01T12:00"},
    )

    html = response.content.decode()
    assert response.status_code == 400
    assert "Override overlaps" in html
    assert 'value="2026-12-01T10:00"' in html


def test_override_delete(linked_client, tenant, mocked_responses):
    deleted = mocked_responses.delete(
        pd.url("/schedules/PSCH001/overrides/POVR001"), status=204
    )

    response = linked_client.post(
        url(tenant, "schedule_override_delete", "PSCH001", "POVR001")
    )

    assert response.status_code == 302
    assert deleted.call_count == 1


# --- Escalation policies ---


def test_policy_detail_shows_rules_and_targets(linked_client, tenant, mocked_responses):
    mocked_responses.get(
        pd.url("/escalation_policies/PEP0001"), json={"escalation_policy": policy()}
    )

    html = linked_client.get(
        url(tenant, "escalation_policy_detail", "PEP0001")
    ).content.decode()

    rules = html[html.index('id="policy-rules"') :]
    assert rules.index("Payments primary") < rules.index("Bob Baker")
    assert "escalates after 15 min" in rules
    assert "Repeats 2 time(s)." in rules


def test_policy_list_costs_one_call(linked_client, tenant, mocked_responses):
    call = mocked_responses.get(
        pd.url("/escalation_policies"),
        json=listing("escalation_policies", [policy()]),
    )

    html = linked_client.get(url(tenant, "escalation_policy_list")).content.decode()

    assert call.call_count == 1
    assert "Checkout policy" in html


def mock_targets(rsps):
    rsps.get(pd.url("/users"), json=listing("users", [user()]))
    rsps.get(
        pd.url("/schedules"),
        json=listing("schedules", [pd.ref("schedule", "PSCH001", "Payments primary")]),
    )


def test_policy_create_sends_levels_and_targets(
    linked_client, tenant, mocked_responses
):
    mock_targets(mocked_responses)
    created = mocked_responses.post(
        pd.url("/escalation_policies"),
        status=201,
        json={"escalation_policy": {**policy(), "id": "PEPNEW1"}},
    )

    response = linked_client.post(
        url(tenant, "escalation_policy_create"),
        {
            "name": "Night",
            "num_loops": "1",
            "levels": "2",
            "rule1_delay": "10",
            "rule1_targets": ["schedule:PSCH001", "user:PUSER01"],
            "rule2_delay": "20",
            "rule2_targets": ["user:PUSER01"],
        },
    )

    assert response.status_code == 302
    assert response["Location"] == url(tenant, "escalation_policy_detail", "PEPNEW1")
    assert body(created.calls[0])["escalation_policy"] == {
        "type": "escalation_policy",
        "name": "Night",
        "description": "",
        "num_loops": 1,
        "escalation_rules": [
            {
                "escalation_delay_in_minutes": 10,
                "targets": [
                    {"id": "PSCH001", "type": "schedule_reference"},
                    {"id": "PUSER01", "type": "user_reference"},
                ],
            },
            {
                "escalation_delay_in_minutes": 20,
                "targets": [{"id": "PUSER01", "type": "user_reference"}],
            },
        ],
    }


def test_policy_edit_is_prefilled_and_puts(linked_client, tenant, mocked_responses):
    mock_targets(mocked_responses)
    mocked_responses.get(
        pd.url("/escalation_policies/PEP0001"), json={"escalation_policy": policy()}
    )
    updated = mocked_responses.put(
        pd.url("/escalation_policies/PEP0001"), json={"escalation_policy": policy()}
    )

    page = linked_client.get(url(tenant, "escalation_policy_edit", "PEP0001"))
    response = linked_client.post(
        url(tenant, "escalation_policy_edit", "PEP0001"),
        {"name": "Renamed", "num_loops": "0", "rule1_targets": ["user:PUSER01"]},
    )

    html = page.content.decode()
    assert 'value="Checkout policy"' in html
    assert '<option value="schedule:PSCH001" selected>' in html
    assert '<option value="user:PUSER02" selected>' in html
    assert response.status_code == 302
    assert body(updated.calls[0])["escalation_policy"]["name"] == "Renamed"


# --- Users ---


def test_user_list_and_detail(linked_client, tenant, mocked_responses):
    listed = mocked_responses.get(pd.url("/users"), json=listing("users", [user()]))
    mocked_responses.get(pd.url("/users/PUSER01"), json={"user": user()})

    html = linked_client.get(url(tenant, "user_list")).content.decode()
    detail = linked_client.get(url(tenant, "user_detail", "PUSER01")).content.decode()

    assert pd.query(listed.calls[0])["include[]"] == ["teams"]
    assert "alice@acme.example" in html
    assert "Account Owner" in html
    assert "Payments" in detail
    assert "America/New_York" in detail


def test_user_create_sends_from_and_opens_the_user(
    linked_client, tenant, mocked_responses
):
    created = mocked_responses.post(
        pd.url("/users"), status=201, json={"user": user("PUSERNW", "Zed Zane")}
    )

    response = linked_client.post(
        url(tenant, "user_create"),
        {"name": "Zed Zane", "email": "zed@acme.example", "role": "user"},
    )

    assert response.status_code == 302
    assert response["Location"] == url(tenant, "user_detail", "PUSERNW")
    assert body(created.calls[0]) == {
        "user": {
            "type": "user",
            "name": "Zed Zane",
            "email": "zed@acme.example",
            "role": "user",
        }
    }
    assert created.calls[0].request.headers["From"] == "alice@acme.example"


def test_user_create_refused_keeps_what_was_typed(
    linked_client, tenant, mocked_responses
):
    mocked_responses.post(
        pd.url("/users"),
        status=400,
        json=pd.error("Invalid Input Provided", 2001, ["Email has already been taken"]),
    )

    response = linked_client.post(
        url(tenant, "user_create"),
        {"name": "Zed Zane", "email": "zed@acme.example", "role": "user"},
    )

    html = response.content.decode()
    assert response.status_code == 400
    assert "Email has already been taken" in html
    assert 'value="zed@acme.example"' in html


def test_user_edit_and_delete(linked_client, tenant, mocked_responses):
    updated = mocked_responses.put(pd.url("/users/PUSER01"), json={"user": user()})
    deleted = mocked_responses.delete(pd.url("/users/PUSER01"), status=204)

    edit = linked_client.post(
        url(tenant, "user_edit", "PUSER01"),
        {"name": "Alice A.", "email": "alice@acme.example", "role": "admin"},
    )
    delete = linked_client.post(url(tenant, "user_delete", "PUSER01"))

    assert edit.status_code == 302
    assert body(updated.calls[0])["user"]["role"] == "admin"
    assert deleted.call_count == 1
    assert delete["Location"] == url(tenant, "user_list")


# --- Teams ---


def test_team_detail_lists_members_and_offers_to_add(
    linked_client, tenant, mocked_responses
):
    mocked_responses.get(
        pd.url("/teams/PTEAM01"),
        json={"team": {"id": "PTEAM01", "name": "Payments", "description": "Money"}},
    )
    mocked_responses.get(
        pd.url("/teams/PTEAM01/members"),
        json={
            "members": [
                {"user": pd.ref("user", "PUSER01", "Alice Anders"), "role": "manager"}
            ],
            "more": False,
        },
    )
    mocked_responses.get(pd.url("/users"), json=listing("users", [user()]))

    html = linked_client.get(url(tenant, "team_detail", "PTEAM01")).content.decode()

    assert 'id="member-PUSER01"' in html
    assert "Manager" in html
    assert 'id="member-form"' in html


def test_team_create_edit_delete(linked_client, tenant, mocked_responses):
    created = mocked_responses.post(
        pd.url("/teams"), status=201, json={"team": {"id": "PTEAMNW", "name": "SRE"}}
    )
    updated = mocked_responses.put(
        pd.url("/teams/PTEAMNW"), json={"team": {"id": "PTEAMNW", "name": "SRE 2"}}
    )
    mocked_responses.delete(pd.url("/teams/PTEAMNW"), status=204)

    create = linked_client.post(url(tenant, "team_create"), {"name": "SRE"})
    linked_client.post(url(tenant, "team_edit", "PTEAMNW"), {"name": "SRE 2"})
    delete = linked_client.post(url(tenant, "team_delete", "PTEAMNW"))

    assert create["Location"] == url(tenant, "team_detail", "PTEAMNW")
    assert body(created.calls[0])["team"] == {
        "type": "team",
        "name": "SRE",
        "description": "",
    }
    assert body(updated.calls[0])["team"]["name"] == "SRE 2"
    assert delete["Location"] == url(tenant, "team_list")


def test_team_add_and_remove_member(linked_client, tenant, mocked_responses):
    mocked_responses.get(pd.url("/users"), json=listing("users", [user()]))
    added = mocked_responses.put(pd.url("/teams/PTEAM01/users/PUSER01"), status=204)
    removed = mocked_responses.delete(
        pd.url("/teams/PTEAM01/users/PUSER01"), status=204
    )

    add = linked_client.post(
        url(tenant, "team_member_add", "PTEAM01"),
        {"user": "PUSER01", "role": "observer"},
    )
    remove = linked_client.post(url(tenant, "team_member_remove", "PTEAM01", "PUSER01"))

    assert add.status_code == 302
    assert body(added.calls[0]) == {"role": "observer"}
    assert removed.call_count == 1
    assert remove["Location"] == url(tenant, "team_detail", "PTEAM01")


def test_team_remove_asks_by_name_first(linked_client, tenant, mocked_responses):
    mocked_responses.get(
        pd.url("/teams/PTEAM01"), json={"team": {"id": "PTEAM01", "name": "Payments"}}
    )
    mocked_responses.get(
        pd.url("/teams/PTEAM01/members"),
        json={
            "members": [
                {"user": pd.ref("user", "PUSER01", "Alice Anders"), "role": "manager"}
            ],
            "more": False,
        },
    )

    page = linked_client.get(url(tenant, "team_member_remove", "PTEAM01", "PUSER01"))

    assert page.status_code == 200
    assert (
        "Remove Alice Anders from the team Payments in PagerDuty?"
        in page.content.decode()
    )
    assert [c.request.method for c in mocked_responses.calls] == ["GET", "GET"]


def test_team_remove_refused_shows_pagerdutys_message(
    linked_client, tenant, mocked_responses
):
    mocked_responses.delete(
        pd.url("/teams/PTEAM01/users/PUSER01"),
        status=400,
        json=pd.error("User is the last manager", 2001),
    )

    response = linked_client.post(
        url(tenant, "team_member_remove", "PTEAM01", "PUSER01")
    )

    assert response.status_code == 400
    assert "User is the last manager" in response.content.decode()


# --- Webhook subscriptions ---


def subscription(secret=None, disabled=False):
    return {
        "id": "PWH0001",
        "type": "webhook_subscription",
        "active": True,
        "description": "Ops",
        "delivery_method": {
            "type": "http_delivery_method",
            "url": "https://hooks.example.test/pd",
            "secret": secret,
            "temporarily_disabled": disabled,
        },
        "events": ["incident.triggered"],
        "filter": {"type": "service_reference", "id": "PSVC001"},
    }


def test_webhook_list_shows_state_and_actions(linked_client, tenant, mocked_responses):
    mocked_responses.get(
        pd.url("/webhook_subscriptions"),
        json=listing("webhook_subscriptions", [subscription(disabled=True)]),
    )
    pd.mock_directories(mocked_responses, teams=None)

    html = linked_client.get(url(tenant, "webhook_list")).content.decode()

    assert "https://hooks.example.test/pd" in html
    assert "Service: Checkout<" in html
    assert "PSVC001<" not in html
    assert "Temporarily disabled" in html
    assert url(tenant, "webhook_enable", "PWH0001") in html
    assert url(tenant, "webhook_ping", "PWH0001") in html


def test_webhook_create_shows_the_secret_once_and_never_caches_it(
    linked_client, tenant, mocked_responses, caplog
):
    secret = "CANARY-WEBHOOK-SECRET-0123456789"
    created = mocked_responses.post(
        pd.url("/webhook_subscriptions"),
        json={"webhook_subscription": subscription(secret=secret)},
    )

    response = linked_client.post(
        url(tenant, "webhook_create"),
        {
            "url": "https://hooks.example.test/pd",
            "events": ["incident.triggered", "incident.resolved"],
            "filter_type": "service",
            "service": "PSVC001",
            "team": "PTEAM01",
            "description": "Ops",
        },
    )

    assert response.status_code == 201
    assert response["Cache-Control"] == "no-store"
    assert secret in response.content.decode()
    assert secret not in caplog.text
    assert body(created.calls[0])["webhook_subscription"] == {
        "type": "webhook_subscription",
        "delivery_method": {
            "type": "http_delivery_method",
            "url": "https://hooks.example.test/pd",
        },
        "events": ["incident.triggered", "incident.resolved"],
        "filter": {"type": "service_reference", "id": "PSVC001"},
        "description": "Ops",
        "active": True,
    }


def test_webhook_create_for_a_service_needs_one_picked(
    linked_client, tenant, mocked_responses
):
    pd.mock_directories(mocked_responses)

    response = linked_client.post(
        url(tenant, "webhook_create"),
        {
            "url": "https://hooks.example.test/pd",
            "events": ["incident.triggered"],
            "filter_type": "service",
        },
    )

    html = response.content.decode()
    assert response.status_code == 400
    assert "Choose the service whose events are sent." in html
    assert '<option value="PSVC002">Payments API</option>' in html
    assert {c.request.method for c in mocked_responses.calls} == {"GET"}


def test_webhook_create_refused_keeps_what_was_typed(
    linked_client, tenant, mocked_responses
):
    mocked_responses.post(
        pd.url("/webhook_subscriptions"),
        status=400,
        json=pd.error("Invalid Input Provided", 2001, ["Filter target not found"]),
    )
    pd.mock_directories(mocked_responses)

    response = linked_client.post(
        url(tenant, "webhook_create"),
        {
            "url": "https://hooks.example.test/typed",
            "events": ["incident.triggered"],
            "filter_type": "team",
            "team": "PNOPE01",
        },
    )

    html = response.content.decode()
    assert response.status_code == 400
    assert '<option value="PNOPE01" selected>PNOPE01</option>' in html
    assert "Filter target not found" in html
    assert "https://hooks.example.test/typed" in html


@pytest.mark.parametrize(
    ("name", "method", "path", "message"),
    [
        (
            "webhook_ping",
            "post",
            "/webhook_subscriptions/PWH0001/ping",
            "PagerDuty accepted the ping",
        ),
        (
            "webhook_enable",
            "post",
            "/webhook_subscriptions/PWH0001/enable",
            "Webhook subscription enabled.",
        ),
        (
            "webhook_delete",
            "delete",
            "/webhook_subscriptions/PWH0001",
            "Webhook subscription deleted.",
        ),
    ],
)
def test_webhook_actions(
    linked_client, tenant, mocked_responses, name, method, path, message
):
    getattr(mocked_responses, method)(pd.url(path), status=202)
    mocked_responses.get(
        pd.url("/webhook_subscriptions"), json=listing("webhook_subscriptions", [])
    )

    response = linked_client.post(url(tenant, name, "PWH0001"), follow=True)

    assert message in response.content.decode()


def test_policy_edit_keeps_every_level_of_a_long_policy(
    linked_client, tenant, mocked_responses
):
    mock_targets(mocked_responses)
    long_policy = policy()
    long_policy["escalation_rules"] = [
        {
            "escalation_delay_in_minutes": 10 * n,
            "targets": [pd.ref("user", "PUSER01", "Alice Anders")],
        }
        for n in range(1, 6)
    ]
    mocked_responses.get(
        pd.url("/escalation_policies/PEP0001"),
        json={"escalation_policy": long_policy},
    )
    updated = mocked_responses.put(
        pd.url("/escalation_policies/PEP0001"), json={"escalation_policy": policy()}
    )

    page = linked_client.get(url(tenant, "escalation_policy_edit", "PEP0001"))
    data = {"name": "Long", "num_loops": "0", "levels": "5"}
    for n in range(1, 6):
        data[f"rule{n}_delay"] = str(10 * n)
        data[f"rule{n}_targets"] = ["user:PUSER01"]
    response = linked_client.post(
        url(tenant, "escalation_policy_edit", "PEP0001"), data
    )

    html = page.content.decode()
    assert 'name="levels" value="5"' in html
    assert 'name="rule5_targets"' in html
    assert response.status_code == 302
    sent = body(updated.calls[0])["escalation_policy"]["escalation_rules"]
    assert [rule["escalation_delay_in_minutes"] for rule in sent] == [
        10,
        20,
        30,
        40,
        50,
    ]
