"""The workspace against the PagerDuty sandbox: real requests, counted."""

import re

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def ids(html: str, prefix: str) -> list[str]:
    return re.findall(rf'id="{prefix}-([A-Z0-9]+)"', html)


def test_each_list_page_costs_one_call_per_endpoint(sandbox_linked, tenant):
    sandbox = sandbox_linked.sandbox

    incidents = sandbox_linked.get(
        reverse("integrations:incident_list", args=[tenant.pk]) + "?status=all"
    )
    after_incidents = sandbox.count("/incidents")
    services = sandbox_linked.get(
        reverse("integrations:service_list", args=[tenant.pk])
    )

    assert incidents.status_code == 200
    assert len(ids(incidents.content.decode(), "incident")) == 25
    # The page, then the Triggered and Acknowledged tabs' counts.
    assert after_incidents == 3
    counts = incidents.context["tabs"]
    with sandbox.state.lock:
        acme = next(
            a.id for a in sandbox.state.accounts.values() if a.subdomain == "acme"
        )
        statuses = [
            i.status for i in sandbox.state.incidents.values() if i.account_id == acme
        ]
    assert [tab["count"] for tab in counts[:2]] == [
        statuses.count("triggered"),
        statuses.count("acknowledged"),
    ]
    assert services.status_code == 200
    # The pickers' directory list, then the services page.
    assert sandbox.count("/services") == 2
    assert sandbox.count("/teams") == 1
    assert sandbox.count("/incidents") == 3


def test_overview_against_the_sandbox(sandbox_linked, tenant):
    sandbox = sandbox_linked.sandbox

    response = sandbox_linked.get(
        reverse("integrations:workspace_overview", args=[tenant.pk])
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert sandbox.count("/incidents") >= 1
    assert sandbox.count("/oncalls") == 1
    assert "Nobody is on call." not in html


def test_acknowledge_and_note_round_trip_to_the_sandbox(sandbox_linked, tenant):
    sandbox = sandbox_linked.sandbox
    listing = sandbox_linked.get(
        reverse("integrations:incident_list", args=[tenant.pk]) + "?status=triggered"
    )
    incident_id = ids(listing.content.decode(), "incident")[0]

    sandbox_linked.post(
        reverse("integrations:incident_acknowledge", args=[tenant.pk, incident_id])
    )
    sandbox_linked.post(
        reverse("integrations:incident_note", args=[tenant.pk, incident_id]),
        {"content": "Rolled back build 42"},
    )
    page = sandbox_linked.get(
        reverse("integrations:incident_detail", args=[tenant.pk, incident_id])
    ).content.decode()

    with sandbox.state.lock:
        incident = sandbox.state.incidents[incident_id]
        status = incident.status
        notes = [note.content for note in incident.notes]
    assert status == "acknowledged"
    assert notes[-1] == "Rolled back build 42"
    assert "Rolled back build 42" in page
    assert "Acknowledged" in page


def test_resolving_twice_shows_the_sandboxs_message(sandbox_linked, tenant):
    listing = sandbox_linked.get(
        reverse("integrations:incident_list", args=[tenant.pk]) + "?status=resolved"
    )
    incident_id = ids(listing.content.decode(), "incident")[0]

    response = sandbox_linked.post(
        reverse("integrations:incident_resolve", args=[tenant.pk, incident_id]),
        {"resolution": "again"},
    )

    assert response.status_code == 400
    assert "Incident Already Resolved" in response.content.decode()


def first_id(client, tenant, name, prefix) -> str:
    html = client.get(reverse(f"integrations:{name}", args=[tenant.pk])).content
    return ids(html.decode(), prefix)[0]


def test_override_create_and_delete_round_trip(sandbox_linked, tenant):
    sandbox = sandbox_linked.sandbox
    schedule_id = first_id(sandbox_linked, tenant, "schedule_list", "schedule")
    with sandbox.state.lock:
        schedule = sandbox.state.schedules[schedule_id]
        before = len(schedule.overrides)
        user_id = schedule.layers[0].user_ids[0]

    created = sandbox_linked.post(
        reverse("integrations:schedule_override_create", args=[tenant.pk, schedule_id]),
        {"user": user_id, "start": "2026-12-03T08:00", "end": "2026-12-03T10:00"},
    )
    with sandbox.state.lock:
        override = schedule.overrides[-1]
        after_create = len(schedule.overrides)
    deleted = sandbox_linked.post(
        reverse(
            "integrations:schedule_override_delete",
            args=[tenant.pk, schedule_id, override.id],
        )
    )

    assert created.status_code == 302
    assert after_create == before + 1
    assert override.user_id == user_id
    assert deleted.status_code == 302
    with sandbox.state.lock:
        assert len(schedule.overrides) == before


def test_team_member_add_and_remove_round_trip(sandbox_linked, tenant):
    sandbox = sandbox_linked.sandbox
    team_id = first_id(sandbox_linked, tenant, "team_list", "team")
    with sandbox.state.lock:
        team = sandbox.state.teams[team_id]
        outsider = next(
            u.id
            for u in sandbox.state.users.values()
            if u.account_id == team.account_id and u.id not in team.members
        )

    sandbox_linked.post(
        reverse("integrations:team_member_add", args=[tenant.pk, team_id]),
        {"user": outsider, "role": "observer"},
    )
    with sandbox.state.lock:
        added = team.members.get(outsider)
    page = sandbox_linked.get(
        reverse("integrations:team_detail", args=[tenant.pk, team_id])
    ).content.decode()
    sandbox_linked.post(
        reverse("integrations:team_member_remove", args=[tenant.pk, team_id, outsider])
    )

    assert added == "observer"
    assert f'id="member-{outsider}"' in page
    with sandbox.state.lock:
        assert outsider not in team.members


def test_service_create_disable_delete_round_trip(sandbox_linked, tenant):
    sandbox = sandbox_linked.sandbox
    policy_id = first_id(sandbox_linked, tenant, "escalation_policy_list", "policy")

    created = sandbox_linked.post(
        reverse("integrations:service_create", args=[tenant.pk]),
        {"name": "Portal-made service", "escalation_policy": policy_id},
    )
    service_id = created["Location"].rstrip("/").rsplit("/", 1)[-1]
    sandbox_linked.post(
        reverse("integrations:service_disable", args=[tenant.pk, service_id])
    )
    with sandbox.state.lock:
        status = sandbox.state.services[service_id].status
    sandbox_linked.post(
        reverse("integrations:service_delete", args=[tenant.pk, service_id])
    )

    assert status == "disabled"
    with sandbox.state.lock:
        assert service_id not in sandbox.state.services


def test_escalation_policy_and_user_create_round_trip(sandbox_linked, tenant):
    sandbox = sandbox_linked.sandbox

    user = sandbox_linked.post(
        reverse("integrations:user_create", args=[tenant.pk]),
        {"name": "Zed Zane", "email": "zed@acme.example", "role": "user"},
    )
    user_id = user["Location"].rstrip("/").rsplit("/", 1)[-1]
    policy = sandbox_linked.post(
        reverse("integrations:escalation_policy_create", args=[tenant.pk]),
        {
            "name": "Portal night",
            "num_loops": "0",
            "rule1_delay": "5",
            "rule1_targets": [f"user:{user_id}"],
        },
    )
    policy_id = policy["Location"].rstrip("/").rsplit("/", 1)[-1]

    with sandbox.state.lock:
        assert sandbox.state.users[user_id].email == "zed@acme.example"
        rules = sandbox.state.escalation_policies[policy_id].rules
        assert [(r.delay_minutes, r.targets) for r in rules] == [
            (5, [("user", user_id)])
        ]


def test_webhook_delete_round_trip(sandbox_linked, tenant):
    sandbox = sandbox_linked.sandbox
    created = sandbox_linked.post(
        reverse("integrations:webhook_create", args=[tenant.pk]),
        {
            "url": "https://hooks.example.test/pd",
            "events": ["incident.triggered"],
            "filter_type": "account",
        },
    )
    with sandbox.state.lock:
        sub_id = next(
            s.id
            for s in sandbox.state.webhook_subscriptions.values()
            if s.url == "https://hooks.example.test/pd"
        )

    sandbox_linked.post(
        reverse("integrations:webhook_delete", args=[tenant.pk, sub_id])
    )

    assert created.status_code == 201
    with sandbox.state.lock:
        assert sub_id not in sandbox.state.webhook_subscriptions
