import pytest
from django.urls import reverse

from tests.integrations.pagerduty.workspace import payloads as pd

pytestmark = pytest.mark.django_db

READ_ONLY = "openid incidents.read services.read"


@pytest.fixture
def read_only(ws_connection):
    ws_connection.granted_scopes = READ_ONLY
    ws_connection.save()
    return ws_connection


def test_navigation_lists_only_granted_sections(
    linked_client, tenant, read_only, mocked_responses
):
    mocked_responses.get(pd.url("/incidents"), json=pd.incident_list([]))
    pd.mock_directories(mocked_responses, teams=None)

    html = linked_client.get(
        reverse("integrations:incident_list", args=[tenant.pk])
    ).content.decode()

    nav = html[html.index('id="ws-nav"') : html.index("</nav>", html.index("ws-nav"))]
    assert "Incidents" in nav
    assert "Services" in nav
    assert "On-calls" not in nav


def test_navigation_with_every_scope_lists_every_built_section(
    linked_client, tenant, mocked_responses
):
    mocked_responses.get(pd.url("/incidents"), json=pd.incident_list([]))
    pd.mock_directories(mocked_responses)

    html = linked_client.get(
        reverse("integrations:incident_list", args=[tenant.pk])
    ).content.decode()

    for label in ("Overview", "Incidents", "Services", "On-calls"):
        assert f">{label}</a>" in html


def test_write_controls_without_the_scope_are_disabled_and_name_it(
    linked_client, tenant, read_only, mocked_responses
):
    mocked_responses.get(pd.url("/incidents"), json=pd.incident_list([pd.incident()]))
    pd.mock_directories(mocked_responses, teams=None)

    html = linked_client.get(
        reverse("integrations:incident_list", args=[tenant.pk])
    ).content.decode()

    assert "disabled" in html
    assert "needs incidents.write" in html
    assert 'id="bulk-submit"' not in html
    assert 'name="incident"' not in html


def test_a_section_without_its_read_scope_is_refused_without_calling_pagerduty(
    linked_client, tenant, read_only, mocked_responses
):
    response = linked_client.get(reverse("integrations:oncall_list", args=[tenant.pk]))

    assert response.status_code == 403
    assert "oncalls.read" in response.content.decode()
    assert len(mocked_responses.calls) == 0


@pytest.mark.parametrize(
    ("name", "args", "data"),
    [
        ("incident_acknowledge", ["PINC001"], {}),
        ("incident_resolve", ["PINC001"], {"resolution": "x"}),
        ("incident_note", ["PINC001"], {"content": "x"}),
        ("incident_bulk", [], {"action": "resolve", "incident": ["PINC001"]}),
        ("incident_create", [], {"title": "x", "service": "PSVC001"}),
        ("service_disable", ["PSVC001"], {}),
        ("service_delete", ["PSVC001"], {}),
    ],
)
def test_writes_without_their_scope_are_refused_without_calling_pagerduty(
    linked_client, tenant, read_only, mocked_responses, name, args, data
):
    response = linked_client.post(
        reverse(f"integrations:{name}", args=[tenant.pk, *args]), data
    )

    assert response.status_code == 403
    assert "was not granted" in response.content.decode()
    assert len(mocked_responses.calls) == 0


@pytest.mark.parametrize(
    ("name", "args", "scope"),
    [
        ("schedule_list", [], "schedules.read"),
        ("escalation_policy_list", [], "escalation_policies.read"),
        ("user_list", [], "users.read"),
        ("team_detail", ["PTEAM01"], "teams.read"),
        ("webhook_list", [], "webhook_subscriptions.read"),
    ],
)
def test_directory_sections_need_their_read_scope(
    linked_client, tenant, read_only, mocked_responses, name, args, scope
):
    response = linked_client.get(
        reverse(f"integrations:{name}", args=[tenant.pk, *args])
    )

    assert response.status_code == 403
    assert scope in response.content.decode()
    assert len(mocked_responses.calls) == 0


@pytest.mark.parametrize(
    ("name", "args", "data"),
    [
        ("schedule_override_delete", ["PSCH001", "POVR001"], {}),
        ("escalation_policy_create", [], {"name": "x"}),
        ("user_delete", ["PUSER01"], {}),
        ("team_member_remove", ["PTEAM01", "PUSER01"], {}),
        ("webhook_ping", ["PWH0001"], {}),
    ],
)
def test_directory_writes_without_scope_send_nothing(
    linked_client, tenant, ws_connection, mocked_responses, name, args, data
):
    ws_connection.granted_scopes = (
        "openid incidents.read schedules.read escalation_policies.read users.read "
        "teams.read webhook_subscriptions.read"
    )
    ws_connection.save()

    response = linked_client.post(
        reverse(f"integrations:{name}", args=[tenant.pk, *args]), data
    )

    assert response.status_code == 403
    assert len(mocked_responses.calls) == 0


def test_write_controls_of_directory_pages_are_disabled_without_scope(
    linked_client, tenant, ws_connection, mocked_responses
):
    ws_connection.granted_scopes = "openid incidents.read webhook_subscriptions.read"
    ws_connection.save()
    mocked_responses.get(
        pd.url("/webhook_subscriptions"),
        json={"webhook_subscriptions": [], "more": False, "total": 0},
    )

    html = linked_client.get(
        reverse("integrations:webhook_list", args=[tenant.pk])
    ).content.decode()

    assert "needs webhook_subscriptions.write" in html
    assert 'id="webhook-create"' not in html
    assert ">Webhooks</a>" in html
    assert ">Teams</a>" not in html


def test_reassign_without_list_scopes_explains_and_calls_nothing(
    linked_client, tenant, ws_connection, mocked_responses
):
    ws_connection.granted_scopes = "openid incidents.read incidents.write"
    ws_connection.save()

    response = linked_client.get(
        reverse("integrations:incident_reassign", args=[tenant.pk, "PINC001"])
    )

    assert response.status_code == 200
    assert "needs users.read" in response.content.decode()
    assert len(mocked_responses.calls) == 0
