"""Names, not IDs: deletes are confirmed by name, scopes and filters named."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def _mine(state, items):
    acme = next(a.id for a in state.accounts.values() if a.subdomain == "acme")
    return [item for item in items.values() if item.account_id == acme]


def test_deleting_a_user_names_them(sandbox_linked, tenant):
    state = sandbox_linked.sandbox.state
    with state.lock:
        person = next(u for u in _mine(state, state.users) if u.role == "limited_user")

    page = sandbox_linked.get(
        reverse("integrations:user_delete", args=[tenant.pk, person.id])
    )

    html = page.content.decode()
    assert page.status_code == 200
    assert f"Delete the user {person.name} ({person.email}) in PagerDuty?" in html
    assert f"the user {person.id}" not in html


def test_deleting_a_team_names_it_and_counts_its_members(sandbox_linked, tenant):
    state = sandbox_linked.sandbox.state
    with state.lock:
        team = max(_mine(state, state.teams), key=lambda t: len(t.members))
        members = len(team.members)

    html = sandbox_linked.get(
        reverse("integrations:team_delete", args=[tenant.pk, team.id])
    ).content.decode()

    assert members > 1
    assert f"Delete the team {team.name} ({members} members) in PagerDuty?" in html


def test_deleting_a_webhook_subscription_names_where_it_delivers(
    sandbox_linked, tenant
):
    sandbox_linked.post(
        reverse("integrations:webhook_create", args=[tenant.pk]),
        {
            "url": "https://hooks.example.test/ops",
            "events": ["incident.triggered"],
            "filter_type": "account",
            "description": "Ops room",
        },
    )
    state = sandbox_linked.sandbox.state
    with state.lock:
        sub_id = next(
            s.id
            for s in state.webhook_subscriptions.values()
            if s.url == "https://hooks.example.test/ops"
        )

    html = sandbox_linked.get(
        reverse("integrations:webhook_delete", args=[tenant.pk, sub_id])
    ).content.decode()

    assert (
        "Delete the webhook subscription delivering to "
        "https://hooks.example.test/ops (Ops room) in PagerDuty?" in html
    )


def test_a_webhook_for_one_service_is_created_by_picking_its_name(
    sandbox_linked, tenant
):
    state = sandbox_linked.sandbox.state
    with state.lock:
        service = _mine(state, state.services)[0]
    form = sandbox_linked.get(reverse("integrations:webhook_create", args=[tenant.pk]))

    response = sandbox_linked.post(
        reverse("integrations:webhook_create", args=[tenant.pk]),
        {
            "url": "https://hooks.example.test/one",
            "events": ["incident.triggered"],
            "filter_type": "service",
            "service": service.id,
        },
    )
    listing = sandbox_linked.get(reverse("integrations:webhook_list", args=[tenant.pk]))

    assert f'<option value="{service.id}">{service.name}</option>' in (
        form.content.decode()
    )
    assert "Service or team ID" not in form.content.decode()
    assert response.status_code == 201
    with state.lock:
        sub = next(
            s
            for s in state.webhook_subscriptions.values()
            if s.url == "https://hooks.example.test/one"
        )
    assert (sub.filter_type, sub.filter_id) == ("service_reference", service.id)
    assert f"Service: {service.name}" in listing.content.decode()


def test_open_in_pagerduty_on_an_incident_goes_to_the_sandbox(
    sandbox_linked, tenant, settings
):
    settings.PAGERDUTY_WEB_URL = f"{sandbox_linked.sandbox.url}/web"
    listing = sandbox_linked.get(
        reverse("integrations:incident_list", args=[tenant.pk]) + "?status=all"
    )
    incident_id = listing.context["rows"][0]["id"]

    html = sandbox_linked.get(
        reverse("integrations:incident_detail", args=[tenant.pk, incident_id])
    ).content.decode()

    link = f"{sandbox_linked.sandbox.url}/web/incidents/{incident_id}"
    assert f'href="{link}"' in html
    assert "pagerduty.com/incidents" not in html


def test_deleting_an_override_names_whose_and_when(sandbox_linked, tenant):
    from datetime import timedelta

    from django.utils import timezone

    state = sandbox_linked.sandbox.state
    listing = sandbox_linked.get(
        reverse("integrations:schedule_list", args=[tenant.pk])
    ).content.decode()
    schedule_id = listing.split('id="schedule-')[2].split('"')[0]
    with state.lock:
        schedule = state.schedules[schedule_id]
        person = state.users[schedule.layers[0].user_ids[0]]
    start = (timezone.now() + timedelta(days=1)).replace(minute=0, second=0)
    sandbox_linked.post(
        reverse("integrations:schedule_override_create", args=[tenant.pk, schedule_id]),
        {
            "user": person.id,
            "start": start.strftime("%Y-%m-%dT%H:%M"),
            "end": (start + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
        },
    )
    with state.lock:
        override = schedule.overrides[-1]

    html = sandbox_linked.get(
        reverse(
            "integrations:schedule_override_delete",
            args=[tenant.pk, schedule_id, override.id],
        )
    ).content.decode()

    assert (
        f"Delete the override of {person.name} on {schedule.name}, "
        f"{start:%Y-%m-%d %H:%M} UTC to " in html
    )
    with state.lock:
        assert override in schedule.overrides
