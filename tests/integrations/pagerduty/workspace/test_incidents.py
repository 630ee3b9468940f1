import json
from datetime import UTC, datetime

import pytest
from django.urls import reverse

from integrations.models import Connection
from integrations.pagerduty.workspace.entities import IncidentListItem, Ref
from tests.integrations.pagerduty.workspace import payloads as pd
from tests.integrations.pagerduty.workspace.conftest import TOKEN

TOKEN_URL = "https://identity.pagerduty.test/oauth/token"

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_backoff(settings):
    settings.PAGERDUTY_RETRY_BACKOFF = 0


def list_url(tenant, query=""):
    return reverse("integrations:incident_list", args=[tenant.pk]) + query


def detail_url(tenant, incident_id="PINC001"):
    return reverse("integrations:incident_detail", args=[tenant.pk, incident_id])


def action_url(tenant, name, incident_id="PINC001"):
    return reverse(f"integrations:incident_{name}", args=[tenant.pk, incident_id])


def mock_detail(rsps, item=None, notes=()):
    rsps.get(pd.url("/incidents/PINC001"), json={"incident": item or pd.incident()})
    rsps.get(
        pd.url("/incidents/PINC001/log_entries"),
        json={
            "log_entries": [
                {
                    "id": "PLOG001",
                    "type": "trigger_log_entry",
                    "summary": "Triggered through the API",
                    "created_at": "2026-11-28T10:00:00Z",
                    "agent": pd.ref("service", "PSVC001", "Checkout"),
                },
                {
                    "id": "PLOG002",
                    "type": "acknowledge_log_entry",
                    "summary": "Acknowledged by Bob Baker",
                    "created_at": "2026-11-28T10:05:00Z",
                    "agent": pd.ref("user", "PUSER02", "Bob Baker"),
                },
            ],
            "limit": 100,
            "offset": 0,
            "more": False,
            "total": None,
        },
    )
    rsps.get(pd.url("/incidents/PINC001/notes"), json={"notes": list(notes)})


# --- List ---


def test_list_shows_one_page_with_total_and_counts_the_other_open_tab(
    linked_client, tenant, mocked_responses
):
    items = [pd.incident(f"PINC00{n}", number=n, title=f"Fire {n}") for n in (1, 2)]
    call = mocked_responses.get(
        pd.url("/incidents"), json=pd.incident_list(items, total=42, more=True)
    )
    pd.mock_directories(mocked_responses)

    response = linked_client.get(list_url(tenant))

    html = response.content.decode()
    assert response.status_code == 200
    assert call.call_count == 2
    count = pd.query(mocked_responses.calls[1])
    assert count["statuses[]"] == ["acknowledged"]
    assert count["limit"] == ["1"]
    assert count["total"] == ["true"]
    assert [tab["count"] for tab in response.context["tabs"]] == [42, 42, None, None]
    sent = pd.query(mocked_responses.calls[0])
    assert sent["statuses[]"] == ["triggered"]
    assert "include[]" not in sent
    assert sent["total"] == ["true"]
    assert sent["limit"] == ["25"]
    assert sent["offset"] == ["0"]
    assert sent["date_range"] == ["all"]
    assert sent["sort_by"] == ["created_at:desc"]
    assert "Fire 1" in html
    assert "Fire 2" in html
    assert "Bob Baker" in html
    assert "1–2 of 42" in html
    assert 'rel="next"' in html
    assert "as of" in html
    assert TOKEN not in html


def test_list_caches_only_what_its_rows_show(linked_client, tenant, mocked_responses):
    mocked_responses.get(pd.url("/incidents"), json=pd.incident_list([pd.incident()]))
    pd.mock_directories(mocked_responses)

    page = linked_client.get(list_url(tenant)).context["page"]

    (incident,) = page.incidents
    assert incident == IncidentListItem(
        id="PINC001",
        number=1,
        title="Checkout is down",
        status="triggered",
        urgency="high",
        created_at=datetime(2026, 11, 28, 10, tzinfo=UTC),
        service=Ref(
            id="PSVC001",
            name="Checkout",
            html_url="https://acme.pagerduty.com/services/PSVC001",
        ),
        assignee_names=("Bob Baker",),
    )


def test_list_rows_escape_what_pagerduty_sends(linked_client, tenant, mocked_responses):
    hostile = "<b>\"Fire\" & 'smoke'</b>"
    items = [
        pd.incident("PINC001", title=hostile, service=("PSVC001", hostile)),
        pd.incident("PINC002", number=2, assignee=None),
    ]
    mocked_responses.get(pd.url("/incidents"), json=pd.incident_list(items))
    pd.mock_directories(mocked_responses)

    response = linked_client.get(list_url(tenant))

    html = response.content.decode()
    escaped = "&lt;b&gt;&quot;Fire&quot; &amp; &#x27;smoke&#x27;&lt;/b&gt;"
    assert hostile not in html
    assert f'class="cell-primary">{escaped}</a>' in html
    assert f'<a href="?status=triggered&amp;service=PSVC001">{escaped}</a>' in html
    assert (
        '<tr id="incident-PINC002" data-incident-id="PINC002" class="ws-incident">'
        in html
    )
    assert '<td class="ws-col-assignees"><span class="muted">—</span></td>' in html


def test_list_sends_filters_sort_and_page_size(linked_client, tenant, mocked_responses):
    mocked_responses.get(pd.url("/incidents"), json=pd.incident_list([]))
    pd.mock_directories(mocked_responses)

    response = linked_client.get(
        list_url(
            tenant,
            "?status=all&urgency=low&service=PSVC001&team=PTEAM01"
            "&since=2026-11-01&until=2026-11-07&sort=oldest&per_page=50&page=3",
        )
    )

    assert response.status_code == 200
    sent = pd.query(mocked_responses.calls[0])
    assert "statuses[]" not in sent
    assert sent["urgencies[]"] == ["low"]
    assert sent["service_ids[]"] == ["PSVC001"]
    assert sent["team_ids[]"] == ["PTEAM01"]
    assert sent["since"] == ["2026-11-01T00:00:00+00:00"]
    assert sent["until"] == ["2026-11-08T00:00:00+00:00"]
    assert "date_range" not in sent
    assert sent["sort_by"] == ["created_at:asc"]
    assert sent["limit"] == ["50"]
    assert sent["offset"] == ["100"]
    assert "No incidents match." in response.content.decode()


@pytest.mark.parametrize(
    ("status", "expected"),
    [("acknowledged", ["acknowledged"]), ("resolved", ["resolved"])],
)
def test_status_tabs_filter_by_status(
    linked_client, tenant, mocked_responses, status, expected
):
    mocked_responses.get(pd.url("/incidents"), json=pd.incident_list([]))
    pd.mock_directories(mocked_responses)

    linked_client.get(list_url(tenant, f"?status={status}"))

    assert pd.query(mocked_responses.calls[0])["statuses[]"] == expected


def test_invalid_filter_is_refused_without_calling_pagerduty(
    linked_client, tenant, mocked_responses
):
    response = linked_client.get(list_url(tenant, "?per_page=1000&service=a/b"))

    assert response.status_code == 400
    assert len(mocked_responses.calls) == 0


def test_list_past_the_offset_cap_suggests_a_narrower_window(
    linked_client, tenant, mocked_responses
):
    pd.mock_directories(mocked_responses)

    response = linked_client.get(list_url(tenant, "?per_page=100&page=101"))

    html = response.content.decode()
    assert response.status_code == 200
    assert [c.request.path_url.split("?")[0] for c in mocked_responses.calls] == [
        "/services",
        "/teams",
    ]
    assert "at most 10,000 results" in html
    assert 'id="cap-narrower"' in html


def test_list_with_more_than_the_cap_in_total_warns_on_the_first_page(
    linked_client, tenant, mocked_responses
):
    mocked_responses.get(
        pd.url("/incidents"),
        json=pd.incident_list([pd.incident()], total=12_000, more=True),
    )
    pd.mock_directories(mocked_responses)

    html = linked_client.get(list_url(tenant, "?status=all")).content.decode()

    assert 'id="cap-warning"' in html
    assert "since=" in html


def test_list_is_cached_and_refresh_bypasses_the_cache(
    linked_client, tenant, mocked_responses
):
    call = mocked_responses.get(pd.url("/incidents"), json=pd.incident_list([]))
    pd.mock_directories(mocked_responses)

    linked_client.get(list_url(tenant))
    linked_client.get(list_url(tenant))
    linked_client.get(list_url(tenant, "?refresh=1"))

    assert call.call_count == 4  # the list and the other tab's count, twice


# --- Detail ---


def test_detail_shows_summary_timeline_and_notes(
    linked_client, tenant, mocked_responses
):
    mock_detail(
        mocked_responses,
        notes=[
            {
                "id": "PNOTE01",
                "content": "Rolled back the deploy",
                "created_at": "2026-11-28T10:10:00Z",
                "user": pd.ref("user", "PUSER02", "Bob Baker"),
            }
        ],
    )

    response = linked_client.get(detail_url(tenant))

    html = response.content.decode()
    assert response.status_code == 200
    assert "#1 Checkout is down" in html
    assert "Checkout policy" in html
    assert "Payments" in html
    assert html.index("Acknowledged by Bob Baker") < html.index(
        "Triggered through the API"
    )
    assert "Rolled back the deploy" in html
    assert 'id="action-acknowledge"' in html
    assert len(mocked_responses.calls) == 3


def test_detail_of_unknown_incident_shows_pagerdutys_message(
    linked_client, tenant, mocked_responses
):
    mocked_responses.get(
        pd.url("/incidents/PNOPE01"),
        status=404,
        json=pd.error("Incident Not Found", 5001),
    )

    response = linked_client.get(detail_url(tenant, "PNOPE01"))

    assert response.status_code == 404
    assert "Incident Not Found" in response.content.decode()


# --- Actions ---


def sent_json(rsps, index=-1):
    return json.loads(rsps.calls[index].request.body)


def test_acknowledge_puts_status_with_from_and_confirms(
    linked_client, tenant, mocked_responses
):
    mocked_responses.put(
        pd.url("/incidents/PINC001"),
        json={"incident": pd.incident(status="acknowledged")},
    )

    response = linked_client.post(action_url(tenant, "acknowledge"), follow=False)

    assert response.status_code == 302
    assert response["Location"] == detail_url(tenant)
    assert sent_json(mocked_responses) == {
        "incident": {"type": "incident_reference", "status": "acknowledged"}
    }
    assert mocked_responses.calls[0].request.headers["From"] == "alice@acme.example"
    mock_detail(mocked_responses, item=pd.incident(status="acknowledged"))
    page = linked_client.get(response["Location"]).content.decode()
    assert "Incident #1 acknowledged." in page


def test_resolve_sends_the_resolution_note(linked_client, tenant, mocked_responses):
    mocked_responses.put(
        pd.url("/incidents/PINC001"), json={"incident": pd.incident(status="resolved")}
    )

    response = linked_client.post(
        action_url(tenant, "resolve"), {"resolution": "Rolled back"}
    )

    assert response.status_code == 302
    assert sent_json(mocked_responses)["incident"] == {
        "type": "incident_reference",
        "status": "resolved",
        "resolution": "Rolled back",
    }


def test_resolve_already_resolved_shows_pagerdutys_message_and_keeps_the_note(
    linked_client, tenant, mocked_responses
):
    mocked_responses.put(
        pd.url("/incidents/PINC001"),
        status=400,
        json=pd.error("Incident Already Resolved", 1001),
    )

    response = linked_client.post(
        action_url(tenant, "resolve"), {"resolution": "My careful words"}
    )

    html = response.content.decode()
    assert response.status_code == 400
    assert "Incident Already Resolved" in html
    assert "My careful words" in html


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("urgency", {"urgency": "low"}, {"urgency": "low"}),
        ("escalate", {"level": "2"}, {"escalation_level": 2}),
    ],
)
def test_update_actions_send_their_field(
    linked_client, tenant, mocked_responses, name, data, expected
):
    mocked_responses.put(pd.url("/incidents/PINC001"), json={"incident": pd.incident()})

    response = linked_client.post(action_url(tenant, name), data)

    assert response.status_code == 302
    assert sent_json(mocked_responses)["incident"] == {
        "type": "incident_reference",
        **expected,
    }


def test_snooze_posts_the_duration_in_seconds(linked_client, tenant, mocked_responses):
    mocked_responses.post(
        pd.url("/incidents/PINC001/snooze"),
        status=201,
        json={"incident": pd.incident(status="acknowledged")},
    )

    response = linked_client.post(action_url(tenant, "snooze"), {"minutes": "240"})

    assert response.status_code == 302
    assert sent_json(mocked_responses) == {"duration": 14400}
    assert mocked_responses.calls[0].request.headers["From"] == "alice@acme.example"


def test_snooze_of_a_triggered_incident_shows_pagerdutys_message(
    linked_client, tenant, mocked_responses
):
    mocked_responses.post(
        pd.url("/incidents/PINC001/snooze"),
        status=400,
        json=pd.error("Incident is not Acknowledged", 1012),
    )

    response = linked_client.post(action_url(tenant, "snooze"), {"minutes": "60"})

    assert response.status_code == 400
    assert "Incident is not Acknowledged" in response.content.decode()


def test_add_note_posts_the_content_and_confirms(
    linked_client, tenant, mocked_responses
):
    mocked_responses.post(
        pd.url("/incidents/PINC001/notes"),
        status=201,
        json={"note": {"id": "PNOTE02", "content": "Looking into it"}},
    )

    response = linked_client.post(
        action_url(tenant, "note"), {"content": "Looking into it"}, follow=False
    )

    assert response.status_code == 302
    assert sent_json(mocked_responses) == {"note": {"content": "Looking into it"}}
    assert mocked_responses.calls[0].request.headers["From"] == "alice@acme.example"


def test_empty_note_is_refused_without_calling_pagerduty(
    linked_client, tenant, mocked_responses
):
    response = linked_client.post(action_url(tenant, "note"), {"content": ""})

    assert response.status_code == 400
    assert len(mocked_responses.calls) == 0


def mock_choices(rsps):
    rsps.get(
        pd.url("/users"),
        json={
            "users": [{**pd.ref("user", "PUSER02", "Bob Baker"), "name": "Bob Baker"}],
            "more": False,
        },
    )
    rsps.get(
        pd.url("/escalation_policies"),
        json={
            "escalation_policies": [
                {**pd.ref("escalation_policy", "PEP0002", "Night"), "name": "Night"}
            ],
            "more": False,
        },
    )


def test_reassign_to_a_user(linked_client, tenant, mocked_responses):
    mock_choices(mocked_responses)
    mocked_responses.put(pd.url("/incidents/PINC001"), json={"incident": pd.incident()})

    response = linked_client.post(action_url(tenant, "reassign"), {"user": "PUSER02"})

    assert response.status_code == 302
    assert sent_json(mocked_responses)["incident"] == {
        "type": "incident_reference",
        "assignments": [{"assignee": {"id": "PUSER02", "type": "user_reference"}}],
    }


def test_reassign_to_an_escalation_policy(linked_client, tenant, mocked_responses):
    mock_choices(mocked_responses)
    mocked_responses.put(pd.url("/incidents/PINC001"), json={"incident": pd.incident()})

    response = linked_client.post(
        action_url(tenant, "reassign"), {"escalation_policy": "PEP0002"}
    )

    assert response.status_code == 302
    assert sent_json(mocked_responses)["incident"]["escalation_policy"] == {
        "id": "PEP0002",
        "type": "escalation_policy_reference",
    }


def test_reassign_needs_exactly_one_target(linked_client, tenant, mocked_responses):
    mock_choices(mocked_responses)

    response = linked_client.post(
        action_url(tenant, "reassign"),
        {"user": "PUSER02", "escalation_policy": "PEP0002"},
    )

    assert response.status_code == 400
    assert "either a user or an escalation policy" in response.content.decode()
    assert [c.request.method for c in mocked_responses.calls] == ["GET", "GET"]


def test_create_incident_posts_it_and_opens_it(linked_client, tenant, mocked_responses):
    mocked_responses.get(
        pd.url("/services"),
        json={"services": [pd.service()], "more": False},
    )
    mocked_responses.post(
        pd.url("/incidents"),
        status=201,
        json={"incident": pd.incident(obj_id="PNEW001")},
    )

    response = linked_client.post(
        reverse("integrations:incident_create", args=[tenant.pk]),
        {"title": "Disk full", "service": "PSVC001", "urgency": "low", "details": "x"},
    )

    assert response.status_code == 302
    assert response["Location"] == detail_url(tenant, "PNEW001")
    assert sent_json(mocked_responses)["incident"] == {
        "type": "incident",
        "title": "Disk full",
        "service": {"id": "PSVC001", "type": "service_reference"},
        "urgency": "low",
        "body": {"type": "incident_body", "details": "x"},
    }
    assert mocked_responses.calls[1].request.headers["From"] == "alice@acme.example"


def test_create_incident_refused_keeps_what_was_typed(
    linked_client, tenant, mocked_responses
):
    mocked_responses.get(
        pd.url("/services"), json={"services": [pd.service()], "more": False}
    )
    mocked_responses.post(
        pd.url("/incidents"),
        status=400,
        json=pd.error("Invalid Input Provided", 2001, ["Title is too long"]),
    )

    response = linked_client.post(
        reverse("integrations:incident_create", args=[tenant.pk]),
        {"title": "Disk full on db-7", "service": "PSVC001", "details": "df says 100%"},
    )

    html = response.content.decode()
    assert response.status_code == 400
    assert "Invalid Input Provided: Title is too long" in html
    assert 'value="Disk full on db-7"' in html
    assert "df says 100%" in html


# --- Bulk ---


def test_bulk_resolve_splits_into_requests_of_250(
    linked_client, tenant, mocked_responses
):
    call = mocked_responses.put(pd.url("/incidents"), json={"incidents": []})
    ids = [f"PINC{n:04d}" for n in range(600)]

    response = linked_client.post(
        reverse("integrations:incident_bulk", args=[tenant.pk]),
        {"action": "resolve", "incident": ids, "next": list_url(tenant, "?status=all")},
    )

    assert response.status_code == 302
    assert response["Location"] == list_url(tenant, "?status=all")
    assert call.call_count == 3
    sizes = [len(json.loads(c.request.body)["incidents"]) for c in call.calls]
    assert sizes == [250, 250, 100]
    first = json.loads(call.calls[0].request.body)["incidents"][0]
    assert first == {
        "id": "PINC0000",
        "type": "incident_reference",
        "status": "resolved",
    }
    assert call.calls[0].request.headers["From"] == "alice@acme.example"


def test_bulk_acknowledge_confirms_with_the_count(
    linked_client, tenant, mocked_responses
):
    mocked_responses.put(pd.url("/incidents"), json={"incidents": []})
    mocked_responses.get(pd.url("/incidents"), json=pd.incident_list([]))

    response = linked_client.post(
        reverse("integrations:incident_bulk", args=[tenant.pk]),
        {"action": "acknowledge", "incident": ["PINC001", "PINC002"]},
        follow=True,
    )

    assert "2 incident(s) acknowledged." in response.content.decode()


def test_bulk_without_selection_sends_nothing(linked_client, tenant, mocked_responses):
    mocked_responses.get(pd.url("/incidents"), json=pd.incident_list([]))
    pd.mock_directories(mocked_responses)

    response = linked_client.post(
        reverse("integrations:incident_bulk", args=[tenant.pk]),
        {"action": "resolve"},
        follow=True,
    )

    assert "Select at least one incident." in response.content.decode()
    assert {c.request.method for c in mocked_responses.calls} == {"GET"}


def test_bulk_never_redirects_off_site(linked_client, tenant, mocked_responses):
    mocked_responses.put(pd.url("/incidents"), json={"incidents": []})

    response = linked_client.post(
        reverse("integrations:incident_bulk", args=[tenant.pk]),
        {"action": "resolve", "incident": ["PINC001"], "next": "https://evil.test/"},
    )

    assert response["Location"] == list_url(tenant)


def test_a_write_invalidates_the_connections_cached_reads(
    linked_client, tenant, mocked_responses
):
    listing = mocked_responses.get(pd.url("/incidents"), json=pd.incident_list([]))
    mocked_responses.put(pd.url("/incidents/PINC001"), json={"incident": pd.incident()})
    pd.mock_directories(mocked_responses)

    linked_client.get(list_url(tenant))
    linked_client.get(list_url(tenant))
    linked_client.post(action_url(tenant, "acknowledge"))
    linked_client.get(list_url(tenant))

    # The list and its count, read again after the write; the directory
    # lists behind the pickers are kept through an incident write.
    assert listing.call_count == 4
    assert len(mocked_responses.calls) == 4 + 1 + 2


# --- Errors ---


def test_forbidden_read_names_the_scope(linked_client, tenant, mocked_responses):
    mocked_responses.get(
        pd.url("/incidents"),
        status=403,
        json={"error": {"message": "Forbidden", "code": 2010}},
    )

    response = linked_client.get(list_url(tenant))

    assert response.status_code == 403
    assert (
        "PagerDuty refused: your PagerDuty role does not allow this (or the "
        "connection lacks incidents.read)." in response.content.decode()
    )


def test_forbidden_write_names_the_scope_and_keeps_the_note(
    linked_client, tenant, mocked_responses
):
    mocked_responses.post(
        pd.url("/incidents/PINC001/notes"),
        status=403,
        json={"error": {"message": "Forbidden"}},
    )

    response = linked_client.post(action_url(tenant, "note"), {"content": "keep me"})

    html = response.content.decode()
    assert response.status_code == 403
    assert "your PagerDuty role does not allow this" in html
    assert "incidents.write" in html
    assert "keep me" in html


def test_unauthorized_flags_the_connection_and_links_to_reconnect(
    linked_client, tenant, ws_connection, mocked_responses
):
    mocked_responses.get(
        pd.url("/incidents"), status=401, json={"error": {"message": "Unauthorized"}}
    )
    refused = mocked_responses.post(
        TOKEN_URL, status=400, json={"error": "invalid_grant"}
    )

    response = linked_client.get(list_url(tenant))

    html = response.content.decode()
    ws_connection.refresh_from_db()
    assert refused.call_count == 1
    assert ws_connection.status == Connection.Status.NEEDS_RECONNECT
    assert 'id="reconnect-banner"' in html
    assert reverse("integrations:tenant_home", args=[tenant.pk]) in html
    assert TOKEN not in html


def test_a_dropped_access_token_is_refreshed_once_and_the_page_recovers(
    linked_client, tenant, ws_connection, mocked_responses
):
    mocked_responses.get(pd.url("/incidents"), status=401, json={})
    mocked_responses.post(
        TOKEN_URL,
        json={
            "access_token": "fresh-access",
            "refresh_token": "fresh-refresh",
            "token_type": "bearer",
            "expires_in": 86400,
        },
    )
    retried = mocked_responses.get(
        pd.url("/incidents"), json={"incidents": [], "more": False, "total": 0}
    )
    pd.mock_directories(mocked_responses)

    response = linked_client.get(list_url(tenant))

    ws_connection.refresh_from_db()
    assert response.status_code == 200
    assert retried.calls[-1].request.headers["Authorization"] == "Bearer fresh-access"
    assert ws_connection.status == Connection.Status.ACTIVE
    assert ws_connection.access_token == "fresh-access"


def test_a_connection_needing_reconnect_calls_nothing(
    linked_client, tenant, ws_connection, mocked_responses
):
    ws_connection.status = Connection.Status.NEEDS_RECONNECT
    ws_connection.last_error = "PagerDuty refused the refresh."
    ws_connection.save()

    response = linked_client.get(list_url(tenant))

    assert response.status_code == 409
    assert 'id="reconnect-banner"' in response.content.decode()
    assert len(mocked_responses.calls) == 0


def test_unavailable_read_offers_a_retry(linked_client, tenant, mocked_responses):
    call = mocked_responses.get(pd.url("/incidents"), status=503)

    response = linked_client.get(list_url(tenant))

    html = response.content.decode()
    assert response.status_code == 503
    assert "PagerDuty is unavailable" in html
    assert 'id="ws-retry"' in html
    assert call.call_count == 3


def test_unavailable_write_keeps_what_was_typed(
    linked_client, tenant, mocked_responses
):
    mocked_responses.post(pd.url("/incidents/PINC001/notes"), status=502)

    response = linked_client.post(
        action_url(tenant, "note"), {"content": "Half an hour of typing"}
    )

    html = response.content.decode()
    assert response.status_code == 503
    assert "PagerDuty is unavailable" in html
    assert "Half an hour of typing" in html


def test_timeout_shows_unavailable(linked_client, tenant, mocked_responses):
    import requests

    mocked_responses.get(pd.url("/incidents"), body=requests.Timeout())

    response = linked_client.get(list_url(tenant))

    assert response.status_code == 503
    assert "PagerDuty is unavailable" in response.content.decode()


def test_rate_limit_shows_its_message(linked_client, tenant, mocked_responses):
    mocked_responses.get(
        pd.url("/incidents"),
        status=429,
        headers={"ratelimit-reset": "42"},
        json=pd.error("Rate Limit Exceeded", 2020),
    )

    response = linked_client.get(list_url(tenant))

    assert response.status_code == 429
    assert "PagerDuty is rate limiting this connection; try again in 42 s" in (
        response.content.decode()
    )


def test_unauthorized_write_flags_reconnect_and_keeps_the_note(
    linked_client, tenant, ws_connection, mocked_responses, caplog
):
    mocked_responses.post(
        pd.url("/incidents/PINC001/notes"),
        status=401,
        json={"error": {"message": "Unauthorized"}},
    )
    mocked_responses.post(TOKEN_URL, status=400, json={"error": "invalid_grant"})

    response = linked_client.post(action_url(tenant, "note"), {"content": "still here"})

    html = response.content.decode()
    ws_connection.refresh_from_db()
    assert ws_connection.status == Connection.Status.NEEDS_RECONNECT
    assert 'id="reconnect-banner"' in html
    assert "still here" in html
    assert TOKEN not in html
    assert TOKEN not in caplog.text


def test_bulk_refused_part_way_says_how_many_were_updated(
    linked_client, tenant, mocked_responses
):
    mocked_responses.put(pd.url("/incidents"), json={"incidents": []})
    mocked_responses.put(
        pd.url("/incidents"),
        status=400,
        json=pd.error("Incident Already Resolved", 1001),
    )
    mocked_responses.get(pd.url("/incidents"), json=pd.incident_list([]))

    response = linked_client.post(
        reverse("integrations:incident_bulk", args=[tenant.pk]),
        {"action": "resolve", "incident": [f"PINC{n:04d}" for n in range(300)]},
        follow=True,
    )

    assert (
        "250 incident(s) were updated, then PagerDuty refused the rest: "
        "Incident Already Resolved" in response.content.decode()
    )


def test_bulk_refused_at_once_shows_pagerdutys_message(
    linked_client, tenant, mocked_responses
):
    mocked_responses.put(
        pd.url("/incidents"),
        status=400,
        json=pd.error("Incident Already Resolved", 1001),
    )
    mocked_responses.get(pd.url("/incidents"), json=pd.incident_list([]))

    response = linked_client.post(
        reverse("integrations:incident_bulk", args=[tenant.pk]),
        {"action": "resolve", "incident": ["PINC0001"]},
        follow=True,
    )

    html = response.content.decode()
    assert "Incident Already Resolved" in html
    assert "were updated" not in html


def test_list_names_services_and_assignees_from_their_references(
    linked_client, tenant, mocked_responses
):
    item = {**pd.incident(), "service": pd.ref("service", "PSVC001", "Checkout")}
    mocked_responses.get(pd.url("/incidents"), json=pd.incident_list([item]))
    pd.mock_directories(mocked_responses)

    response = linked_client.get(list_url(tenant))

    row = response.content.decode().split('id="incident-PINC001"')[1]
    row = row.split("</tr>")[0]
    assert ">Checkout</a>" in row
    assert "Bob Baker" in row
    assert "?status=triggered&amp;service=PSVC001" in row
