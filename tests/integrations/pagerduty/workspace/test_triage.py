"""Triage on the incident list: counts, search, "mine", row actions, times,
export with the list's filters, new incidents arriving live."""

import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from integrations.models import Connection, UserPreference, WebhookSubscription
from integrations.pagerduty.workspace import selectors
from integrations.pagerduty.workspace.access import InvalidInput, workspace_open
from integrations.services.webhooks import incident_summary
from tests.integrations.pagerduty.workspace import payloads as pd
from tests.integrations.pagerduty.workspace.test_live_updates import record
from tests.integrations.webhook_helpers import make_subscription

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_backoff(settings):
    settings.PAGERDUTY_RETRY_BACKOFF = 0


def list_url(tenant, query=""):
    return reverse("integrations:incident_list", args=[tenant.pk]) + query


def paths(rsps):
    return [call.request.path_url.split("?")[0] for call in rsps.calls]


# --- Counts on the tabs ---


def test_resolved_tab_counts_both_open_tabs(linked_client, tenant, mocked_responses):
    mocked_responses.get(pd.url("/incidents"), json=pd.incident_list([], total=9))
    pd.mock_directories(mocked_responses)

    response = linked_client.get(list_url(tenant, "?status=resolved&urgency=high"))

    counted = [pd.query(call) for call in mocked_responses.calls[1:3]]
    assert [q["statuses[]"] for q in counted] == [["triggered"], ["acknowledged"]]
    assert all(q["urgencies[]"] == ["high"] and q["limit"] == ["1"] for q in counted)
    html = response.content.decode()
    assert 'id="tab-triggered"' in html
    assert '<span class="ws-count">9</span>' in html


# --- Search ---


def test_search_reads_the_filtered_incidents_and_shows_the_matches(
    linked_client, tenant, mocked_responses
):
    items = [
        pd.incident("PINC001", 1, "Checkout is down"),
        pd.incident("PINC002", 2, "Disk full", service=("PSVC002", "Payments API")),
        pd.incident("PINC003", 3, "Slow queries", assignee=("PUSER09", "Dana Down")),
    ]
    mocked_responses.get(pd.url("/incidents"), json=pd.incident_list(items, limit=100))
    pd.mock_directories(mocked_responses)

    response = linked_client.get(list_url(tenant, "?status=all&q=down"))

    html = response.content.decode()
    sent = pd.query(mocked_responses.calls[0])
    assert sent["limit"] == ["100"]
    assert "statuses[]" not in sent
    assert [row["id"] for row in response.context["rows"]] == ["PINC001", "PINC003"]
    assert "Looked through all 3 incidents matching the filters." in html
    assert response.context["tabs"][0]["count"] is None
    assert paths(mocked_responses) == ["/incidents", "/services", "/teams"]


@pytest.mark.parametrize(("search", "found"), [("#2", ["PINC002"]), ("payments 2", [])])
def test_search_finds_by_number_and_needs_every_word(
    linked_client, tenant, mocked_responses, search, found
):
    items = [pd.incident("PINC001", 1), pd.incident("PINC002", 2)]
    mocked_responses.get(pd.url("/incidents"), json=pd.incident_list(items))
    pd.mock_directories(mocked_responses)

    response = linked_client.get(list_url(tenant), {"q": search})

    assert [row["id"] for row in response.context["rows"]] == found


def test_search_stops_after_a_thousand_and_says_so(
    linked_client, tenant, mocked_responses
):
    page = [pd.incident(f"P{n:06d}", n, "Fire") for n in range(100)]
    call = mocked_responses.get(
        pd.url("/incidents"), json=pd.incident_list(page, more=True, limit=100)
    )
    pd.mock_directories(mocked_responses)

    response = linked_client.get(list_url(tenant, "?q=fire&per_page=25"))

    html = response.content.decode()
    assert call.call_count == 10
    assert response.context["page"].total == 1000
    assert len(response.context["rows"]) == 25
    assert "Looked through the newest 1000 incidents" in html


def test_search_needs_words(ws_connection, tenant, tenant_admin, mocked_responses):
    ws = workspace_open(user=tenant_admin, tenant_id=tenant.pk)

    with pytest.raises(InvalidInput):
        selectors.incident_text_search(
            ws=ws, query=selectors.IncidentQuery(search="  ")
        )

    assert len(mocked_responses.calls) == 0


# --- Assigned to me, My teams ---


def test_assigned_to_me_asks_for_the_persons_own_incidents(
    linked_client, tenant, mocked_responses
):
    mocked_responses.get(pd.url("/incidents"), json=pd.incident_list([]))
    pd.mock_directories(mocked_responses)

    response = linked_client.get(list_url(tenant, "?assigned=me"))

    assert pd.query(mocked_responses.calls[0])["user_ids[]"] == ["PUSER01"]
    assert pd.query(mocked_responses.calls[1])["user_ids[]"] == ["PUSER01"]
    html = response.content.decode()
    assert 'id="quick-assigned" aria-pressed="true"' in html
    assert '<input type="hidden" name="assigned" value="me">' in html


def test_my_teams_asks_who_the_persons_teams_are_once(
    linked_client, tenant, mocked_responses
):
    user = mocked_responses.get(
        pd.url("/users/PUSER01"),
        json={"user": {"id": "PUSER01", "teams": [pd.ref("team", "PTEAM01", "Pay")]}},
    )
    mocked_responses.get(pd.url("/incidents"), json=pd.incident_list([]))
    pd.mock_directories(mocked_responses)

    linked_client.get(list_url(tenant, "?teams=mine"))
    linked_client.get(list_url(tenant, "?teams=mine&status=acknowledged"))

    assert user.call_count == 1
    sent = pd.query(mocked_responses.calls[1])
    assert sent["team_ids[]"] == ["PTEAM01"]


def test_my_teams_without_a_team_lists_nothing(linked_client, tenant, mocked_responses):
    mocked_responses.get(pd.url("/users/PUSER01"), json={"user": {"teams": []}})
    pd.mock_directories(mocked_responses)

    response = linked_client.get(list_url(tenant, "?teams=mine"))

    assert response.status_code == 200
    assert 'id="no-teams"' in response.content.decode()
    assert "/incidents" not in paths(mocked_responses)


def test_a_member_without_a_link_is_told_why_mine_is_off(
    member_client, tenant, mocked_responses
):
    mocked_responses.get(pd.url("/incidents"), json=pd.incident_list([]))
    pd.mock_directories(mocked_responses)

    html = member_client.get(list_url(tenant)).content.decode()

    assert (
        '<button type="button" class="button button-secondary button-small" disabled'
        in html
    )
    assert "Link your PagerDuty account to see what is yours." in html


def test_a_forced_assigned_to_me_without_a_link_is_refused_without_calls(
    member_client, tenant, mocked_responses
):
    response = member_client.get(list_url(tenant, "?assigned=me"))

    assert response.status_code == 400
    assert 'id="quick-error"' in response.content.decode()
    assert len(mocked_responses.calls) == 0


# --- Pickers ---


def test_filters_offer_services_and_teams_by_name(
    linked_client, tenant, mocked_responses
):
    mocked_responses.get(pd.url("/incidents"), json=pd.incident_list([]))
    pd.mock_directories(mocked_responses)

    html = linked_client.get(list_url(tenant, "?service=PSVCX99")).content.decode()

    assert '<option value="PSVC002">Payments API</option>' in html
    assert '<option value="PTEAM02">Platform</option>' in html
    assert '<option value="PSVCX99" selected>PSVCX99</option>' in html
    assert "data-picker" in html
    assert "Service ID" not in html
    assert "Team ID" not in html


def test_directory_lists_outlive_incident_changes_not_directory_writes(
    linked_client, tenant, ws_connection, mocked_responses
):
    from integrations.pagerduty.workspace.cache import cache_invalidate

    mocked_responses.get(pd.url("/incidents"), json=pd.incident_list([]))
    services = mocked_responses.get(
        pd.url("/services"), json=pd.directory("services", pd.SERVICES)
    )
    mocked_responses.get(pd.url("/teams"), json=pd.directory("teams", pd.TEAMS))
    mocked_responses.put(pd.url("/services/PSVC001"), json={"service": pd.service()})

    linked_client.get(list_url(tenant))
    cache_invalidate(ws_connection.pk)  # an incident event arrived
    linked_client.get(list_url(tenant))
    after_event = services.call_count
    linked_client.post(
        reverse("integrations:service_disable", args=[tenant.pk, "PSVC001"])
    )
    linked_client.get(list_url(tenant))

    assert after_event == 1
    assert services.call_count == 2


# --- Row actions ---


def test_rows_offer_only_the_actions_pagerduty_takes(
    linked_client, tenant, mocked_responses
):
    items = [
        pd.incident("PINC001", 1, status="triggered"),
        pd.incident("PINC002", 2, status="acknowledged"),
        pd.incident("PINC003", 3, status="resolved"),
    ]
    mocked_responses.get(pd.url("/incidents"), json=pd.incident_list(items))
    pd.mock_directories(mocked_responses)

    html = linked_client.get(list_url(tenant, "?status=all")).content.decode()

    rows = {
        i: html.split(f'id="incident-{i}"')[1].split("</tr>")[0]
        for i in ("PINC001", "PINC002", "PINC003")
    }
    assert 'data-row-action="acknowledge"' in rows["PINC001"]
    assert 'aria-label="Acknowledge incident #1"' in rows["PINC001"]
    assert 'data-row-action="resolve"' in rows["PINC001"]
    assert 'data-row-action="acknowledge"' not in rows["PINC002"]
    assert 'data-row-action="resolve"' in rows["PINC002"]
    assert "data-row-action" not in rows["PINC003"]


def test_acknowledge_from_a_row_goes_back_to_the_list(
    linked_client, tenant, mocked_responses
):
    mocked_responses.put(
        pd.url("/incidents/PINC001"),
        json={"incident": pd.incident(status="acknowledged")},
    )
    back = list_url(tenant, "?status=triggered&service=PSVC001")

    response = linked_client.post(
        reverse("integrations:incident_acknowledge", args=[tenant.pk, "PINC001"]),
        {"next": back, "action": "acknowledge", "incident": ["PINC002"]},
    )

    assert response.status_code == 302
    assert response["Location"] == back
    assert json.loads(mocked_responses.calls[0].request.body) == {
        "incident": {"type": "incident_reference", "status": "acknowledged"}
    }
    messages = [str(m) for m in response.wsgi_request._messages]
    assert messages == ["Incident #1 acknowledged."]


def test_a_refused_row_action_says_why_on_the_list(
    linked_client, tenant, mocked_responses
):
    mocked_responses.put(
        pd.url("/incidents/PINC001"),
        status=400,
        json=pd.error("Incident Already Resolved", 2001),
    )

    response = linked_client.post(
        reverse("integrations:incident_resolve", args=[tenant.pk, "PINC001"]),
        {"next": "https://evil.test/"},
    )

    assert response["Location"] == list_url(tenant)
    messages = [str(m) for m in response.wsgi_request._messages]
    assert messages == ["Incident Already Resolved"]


# --- Times in the viewer's zone ---


def test_times_are_shown_in_the_viewers_zone_and_say_which(
    client, tenant, tenant_admin, ws_connection, mocked_responses
):
    UserPreference.objects.create(user=tenant_admin, time_zone="Europe/Paris")
    client.force_login(tenant_admin)
    mocked_responses.get(pd.url("/incidents"), json=pd.incident_list([pd.incident()]))
    pd.mock_directories(mocked_responses)

    html = client.get(list_url(tenant, "?since=2026-11-28")).content.decode()

    assert "Created (Europe/Paris)" in html
    assert '<td class="nowrap ws-col-created">2026-11-28 11:00</td>' in html
    assert pd.query(mocked_responses.calls[0])["since"] == ["2026-11-28T00:00:00+01:00"]


# --- Export with the list's filters ---


def test_export_link_carries_the_lists_filters(linked_client, tenant, mocked_responses):
    mocked_responses.get(pd.url("/incidents"), json=pd.incident_list([]))
    pd.mock_directories(mocked_responses)

    response = linked_client.get(
        list_url(tenant, "?status=acknowledged&service=PSVC001&q=x&page=2&sort=oldest")
    )

    export = reverse("integrations:incident_export", args=[tenant.pk])
    assert response.context["export_url"] == (
        f"{export}?status=acknowledged&service=PSVC001"
    )


def test_export_page_names_the_filters_and_the_file_uses_them(
    linked_client, tenant, mocked_responses
):
    pd.mock_directories(mocked_responses, teams=None)
    count = mocked_responses.get(
        pd.url("/incidents"), json=pd.incident_list([], total=0)
    )
    export = reverse("integrations:incident_export", args=[tenant.pk])
    today = timezone.now().date()

    page = linked_client.get(f"{export}?status=acknowledged&service=PSVC002")
    csv = linked_client.get(
        reverse("integrations:incident_export_csv", args=[tenant.pk]),
        {
            "since": (today - timedelta(days=3)).isoformat(),
            "until": today.isoformat(),
            "status": "acknowledged",
            "service": "PSVC002",
            "assigned": "me",
        },
    )

    html = page.content.decode()
    assert "Status: Acknowledged" in html
    assert "Service: Payments API" in html
    assert 'name="service" value="PSVC002"' in html
    assert csv.status_code == 200
    b"".join(csv.streaming_content)
    sent = pd.query(count.calls[0])
    assert sent["statuses[]"] == ["acknowledged"]
    assert sent["service_ids[]"] == ["PSVC002"]
    assert sent["user_ids[]"] == ["PUSER01"]


def test_export_for_mine_without_a_link_is_refused(
    member_client, tenant, mocked_responses
):
    today = timezone.now().date().isoformat()

    response = member_client.get(
        reverse("integrations:incident_export_csv", args=[tenant.pk]),
        {"since": today, "until": today, "assigned": "me"},
    )

    assert response.status_code == 400
    assert "Link your PagerDuty account" in response.content.decode()
    assert len(mocked_responses.calls) == 0


# --- New incidents arriving live ---


@pytest.fixture
def subscription(ws_connection):
    return make_subscription(ws_connection, status=WebhookSubscription.Status.ACTIVE)


def changes(client, tenant, since, **filters):
    url = reverse("integrations:incident_changes", args=[tenant.pk])
    return client.get(url, {"since": since.isoformat(), **filters})


def summary(service=("PSVC001", "Checkout"), urgency="high", created=None, **more):
    return {
        "urgency": urgency,
        "created_at": (created or timezone.now()).isoformat(),
        "service": {"id": service[0], "name": service[1]},
        "assignees": [{"id": "PUSER01", "name": "Alice Anders"}],
        "teams": ["PTEAM01"],
        **more,
    }


def test_a_new_incident_matching_the_list_comes_with_its_row(
    linked_client, tenant, subscription, mocked_responses
):
    now = timezone.now()
    delivery = record(subscription, "PNEW001", "triggered", received=now, number=99)
    delivery.incident_summary = summary()
    delivery.save()

    body = changes(
        linked_client,
        tenant,
        now - timedelta(minutes=1),
        status="triggered",
        service="PSVC001",
        user="PUSER01",
        insert="1",
    ).json()

    (change,) = body["changes"]
    assert change["matches"] is True
    assert 'id="incident-PNEW001"' in change["row"]
    assert "Checkout" in change["row"]
    assert "Alice Anders" in change["row"]
    assert 'data-row-action="acknowledge"' in change["row"]
    assert len(mocked_responses.calls) == 0


@pytest.mark.parametrize(
    "filters",
    [
        {"status": "acknowledged"},
        {"status": "triggered", "urgency": "low"},
        {"status": "triggered", "service": "PSVC002"},
        {"status": "triggered", "team": "PTEAM09"},
        {"status": "triggered", "user": "PUSER09"},
        {"status": "triggered", "q": "nothing like it"},
    ],
)
def test_a_new_incident_outside_the_filters_gets_no_row(
    linked_client, tenant, subscription, filters
):
    now = timezone.now()
    delivery = record(subscription, "PNEW001", "triggered", received=now)
    delivery.incident_summary = summary()
    delivery.save()

    body = changes(
        linked_client, tenant, now - timedelta(minutes=1), insert="1", **filters
    ).json()

    assert body["changes"][0]["matches"] is False
    assert "row" not in body["changes"][0]


def test_an_old_incident_that_changed_is_not_inserted(
    linked_client, tenant, subscription
):
    now = timezone.now()
    delivery = record(subscription, "POLD001", "triggered", received=now)
    delivery.incident_summary = summary(created=now - timedelta(days=2))
    delivery.save()

    body = changes(
        linked_client,
        tenant,
        now - timedelta(minutes=1),
        status="triggered",
        insert="1",
    ).json()

    assert body["changes"][0]["matches"] is True
    assert "row" not in body["changes"][0]


@pytest.mark.parametrize(
    "filters",
    [
        {"status": "open"},
        {"status": "all", "service": "../x"},
        {"status": "all", "urgency": "urgent"},
        {"status": "all", "team": ["P1"] * 26},
        {"status": "all", "q": "x" * 101},
    ],
)
def test_bad_live_filters_are_refused(linked_client, tenant, subscription, filters):
    response = changes(linked_client, tenant, timezone.now(), **filters)

    assert response.status_code == 400


def test_the_list_page_hands_its_filters_to_live_updates(
    linked_client, tenant, subscription, mocked_responses
):
    mocked_responses.get(pd.url("/incidents"), json=pd.incident_list([]))
    pd.mock_directories(mocked_responses)

    html = linked_client.get(
        list_url(tenant, "?status=triggered&urgency=high&assigned=me")
    ).content.decode()

    assert (
        'data-filter="status=triggered&amp;urgency=high&amp;user=PUSER01&amp;insert=1"'
        in html
    )
    assert 'id="incident-table-wrap" hidden' not in html or 'id="no-incidents"' in html


def test_an_event_keeps_only_bounded_row_facts():
    data = {
        "urgency": "<script>",
        "created_at": "2026-11-28T10:00:00Z",
        "service": {"id": "PSVC001", "summary": "S" * 400},
        "assignees": [{"id": f"PU{n}", "summary": "A"} for n in range(50)],
        "teams": [{"id": "PT1"}, "not a ref", {"id": 7}],
    }

    kept = incident_summary(data)

    assert kept["urgency"] == ""
    assert len(kept["service"]["name"]) == 255
    assert len(kept["assignees"]) == 10
    assert kept["teams"] == ["PT1"]


def test_a_webhook_delivery_records_the_row_facts(client, ws_connection):
    from tests.integrations.webhook_helpers import deliver, envelope

    subscription = make_subscription(
        ws_connection, status=WebhookSubscription.Status.ACTIVE
    )

    response = deliver(client, subscription, envelope("incident.triggered"))

    assert response.status_code == 202
    delivery = subscription.deliveries.get()
    assert delivery.incident_summary["service"] == {"id": "PSVC001", "name": "PSVC001"}
    assert Connection.objects.filter(pk=ws_connection.pk).exists()


# --- A resolved incident: Reopen, and nothing PagerDuty refuses ---


def test_a_resolved_incident_offers_reopen_and_notes_only(
    linked_client, tenant, mocked_responses
):
    from tests.integrations.pagerduty.workspace.test_incidents import mock_detail

    mock_detail(mocked_responses, item=pd.incident(status="resolved"))

    html = linked_client.get(
        reverse("integrations:incident_detail", args=[tenant.pk, "PINC001"])
    ).content.decode()

    assert 'id="action-reopen"' in html
    for refused in ("acknowledge", "reassign", "resolve", "urgency", "escalate"):
        assert f'id="action-{refused}"' not in html
    assert 'id="action-note"' in html
    assert 'id="incident-created">2026-11-28 10:00 UTC<' in html


def test_reopen_triggers_the_incident_again(linked_client, tenant, mocked_responses):
    mocked_responses.put(
        pd.url("/incidents/PINC001"), json={"incident": pd.incident(number=5)}
    )

    response = linked_client.post(
        reverse("integrations:incident_reopen", args=[tenant.pk, "PINC001"])
    )

    assert response["Location"] == reverse(
        "integrations:incident_detail", args=[tenant.pk, "PINC001"]
    )
    assert json.loads(mocked_responses.calls[0].request.body) == {
        "incident": {"type": "incident_reference", "status": "triggered"}
    }
    messages = [str(m) for m in response.wsgi_request._messages]
    assert messages == ["Incident #5 reopened."]


def test_reopen_is_a_post_only(linked_client, tenant, mocked_responses):
    response = linked_client.get(
        reverse("integrations:incident_reopen", args=[tenant.pk, "PINC001"])
    )

    assert response.status_code == 405
    assert len(mocked_responses.calls) == 0
