"""The workspace against the PagerDuty sandbox: real requests, counted."""

import re

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def ids(html: str, prefix: str) -> list[str]:
    return re.findall(rf'id="{prefix}-([A-Z0-9]+)"', html)


def test_each_list_page_costs_one_call_per_endpoint(sandbox_member, tenant):
    sandbox = sandbox_member.sandbox

    incidents = sandbox_member.get(
        reverse("integrations:incident_list", args=[tenant.pk]) + "?status=all"
    )
    after_incidents = sandbox.count("/incidents")
    services = sandbox_member.get(
        reverse("integrations:service_list", args=[tenant.pk])
    )

    assert incidents.status_code == 200
    assert len(ids(incidents.content.decode(), "incident")) == 25
    assert after_incidents == 1
    assert services.status_code == 200
    assert sandbox.count("/services") == 1
    assert sandbox.count("/incidents") == 2


def test_overview_against_the_sandbox(sandbox_member, tenant):
    sandbox = sandbox_member.sandbox

    response = sandbox_member.get(
        reverse("integrations:workspace_overview", args=[tenant.pk])
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert sandbox.count("/incidents") >= 1
    assert sandbox.count("/oncalls") == 1
    assert "Nobody is on call." not in html


def test_acknowledge_and_note_round_trip_to_the_sandbox(sandbox_member, tenant):
    sandbox = sandbox_member.sandbox
    listing = sandbox_member.get(
        reverse("integrations:incident_list", args=[tenant.pk]) + "?status=triggered"
    )
    incident_id = ids(listing.content.decode(), "incident")[0]

    sandbox_member.post(
        reverse("integrations:incident_acknowledge", args=[tenant.pk, incident_id])
    )
    sandbox_member.post(
        reverse("integrations:incident_note", args=[tenant.pk, incident_id]),
        {"content": "Rolled back build 42"},
    )
    page = sandbox_member.get(
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


def test_resolving_twice_shows_the_sandboxs_message(sandbox_member, tenant):
    listing = sandbox_member.get(
        reverse("integrations:incident_list", args=[tenant.pk]) + "?status=resolved"
    )
    incident_id = ids(listing.content.decode(), "incident")[0]

    response = sandbox_member.post(
        reverse("integrations:incident_resolve", args=[tenant.pk, incident_id]),
        {"resolution": "again"},
    )

    assert response.status_code == 400
    assert "Incident Already Resolved" in response.content.decode()
