import pytest
from django.urls import reverse

from tests.integrations.pagerduty.workspace import payloads as pd

pytestmark = pytest.mark.django_db


def test_overview_counts_open_incidents_and_lists_on_call_and_busy_services(
    linked_client, tenant, mocked_responses
):
    items = [
        pd.incident("PINC001", 1, status="triggered", urgency="high"),
        pd.incident("PINC002", 2, status="triggered", urgency="low"),
        pd.incident("PINC003", 3, status="acknowledged", urgency="high"),
        pd.incident(
            "PINC004",
            4,
            status="triggered",
            urgency="high",
            service=("PSVC002", "Search"),
        ),
    ]
    incidents = mocked_responses.get(pd.url("/incidents"), json=pd.incident_list(items))
    oncalls = mocked_responses.get(
        pd.url("/oncalls"),
        json={"oncalls": [pd.oncall(schedule=("PSCH001", "Primary"))], "more": False},
    )

    response = linked_client.get(
        reverse("integrations:workspace_overview", args=[tenant.pk])
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert incidents.call_count == 1
    assert oncalls.call_count == 1
    sent = pd.query(incidents.calls[0])
    assert sent["statuses[]"] == ["triggered", "acknowledged"]
    assert sent["limit"] == ["100"]
    assert 'class="ws-count-triggered-high">2<' in html
    assert 'class="ws-count-triggered-low">1<' in html
    assert 'class="ws-count-acknowledged-high">1<' in html
    assert "Alice Anders" in html
    assert "Primary" in html
    busy = html[html.index('id="busy-services"') :]
    assert busy.index("Checkout") < busy.index("Search")
    assert pd.query(oncalls.calls[0])["earliest"] == ["true"]


def test_overview_pages_through_more_than_100_open_incidents(
    linked_client, tenant, ws_connection, mocked_responses
):
    ws_connection.granted_scopes = "openid incidents.read"
    ws_connection.save()
    first = [pd.incident(f"PA{n:05d}", n) for n in range(100)]
    mocked_responses.get(
        pd.url("/incidents"), json=pd.incident_list(first, more=True, limit=100)
    )
    mocked_responses.get(
        pd.url("/incidents"),
        json=pd.incident_list([pd.incident("PB00001", 101)], offset=100, limit=100),
    )

    html = linked_client.get(
        reverse("integrations:workspace_overview", args=[tenant.pk])
    ).content.decode()

    assert 'class="ws-count-triggered-high">101<' in html
    assert pd.query(mocked_responses.calls[1])["offset"] == ["100"]
    assert "Needs the oncalls.read permission." in html


def test_oncalls_groups_now_by_policy_and_level_and_lists_the_week(
    linked_client, tenant, mocked_responses
):
    mocked_responses.get(
        pd.url("/oncalls"),
        json={
            "oncalls": [
                pd.oncall(("PUSER02", "Bob Baker"), level=2),
                pd.oncall(level=1, schedule=("PSCH001", "Primary")),
            ],
            "more": False,
        },
    )
    mocked_responses.get(
        pd.url("/oncalls"),
        json={
            "oncalls": [pd.oncall(level=1, schedule=("PSCH001", "Primary"))],
            "more": False,
        },
    )
    mocked_responses.get(
        pd.url("/schedules"), json=pd.directory("schedules", [("PSCH001", "Primary")])
    )
    mocked_responses.get(
        pd.url("/users"), json=pd.directory("users", [("PUSER01", "Alice Anders")])
    )

    response = linked_client.get(
        reverse("integrations:oncall_list", args=[tenant.pk])
        + "?schedule=PSCH001&user=PUSER01"
    )

    html = response.content.decode()
    assert response.status_code == 200
    now_block = html[html.index('id="oncall-now"') : html.index('id="oncall-week"')]
    assert now_block.index("Level 1") < now_block.index("Level 2")
    week = pd.query(mocked_responses.calls[1])
    assert week["schedule_ids[]"] == ["PSCH001"]
    assert week["user_ids[]"] == ["PUSER01"]
    assert "since" in week
    assert "until" in week
    assert "Primary" in html[html.index('id="oncall-week"') :]
    assert '<option value="PSCH001" selected>Primary</option>' in html
    assert '<option value="PUSER01" selected>Alice Anders</option>' in html
    assert "Schedule ID" not in html


def test_oncalls_with_a_bad_filter_sends_nothing_filtered(
    linked_client, tenant, mocked_responses
):
    mocked_responses.get(pd.url("/oncalls"), json={"oncalls": [], "more": False})
    mocked_responses.get(pd.url("/schedules"), json=pd.directory("schedules", []))
    mocked_responses.get(pd.url("/users"), json=pd.directory("users", []))

    response = linked_client.get(
        reverse("integrations:oncall_list", args=[tenant.pk]) + "?user=../x"
    )

    assert response.status_code == 400
    assert all("user_ids" not in c.request.url for c in mocked_responses.calls)
