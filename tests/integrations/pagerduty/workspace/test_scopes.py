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
    member_client, tenant, read_only, mocked_responses
):
    mocked_responses.get(pd.url("/incidents"), json=pd.incident_list([]))

    html = member_client.get(
        reverse("integrations:incident_list", args=[tenant.pk])
    ).content.decode()

    nav = html[html.index('id="ws-nav"') : html.index("</nav>", html.index("ws-nav"))]
    assert "Incidents" in nav
    assert "Services" in nav
    assert "On-calls" not in nav


def test_navigation_with_every_scope_lists_every_built_section(
    member_client, tenant, mocked_responses
):
    mocked_responses.get(pd.url("/incidents"), json=pd.incident_list([]))

    html = member_client.get(
        reverse("integrations:incident_list", args=[tenant.pk])
    ).content.decode()

    for label in ("Overview", "Incidents", "Services", "On-calls"):
        assert f">{label}</a>" in html


def test_write_controls_without_the_scope_are_disabled_and_name_it(
    member_client, tenant, read_only, mocked_responses
):
    mocked_responses.get(pd.url("/incidents"), json=pd.incident_list([pd.incident()]))

    html = member_client.get(
        reverse("integrations:incident_list", args=[tenant.pk])
    ).content.decode()

    assert "disabled" in html
    assert "needs incidents.write" in html
    assert 'id="bulk-submit"' not in html
    assert 'name="incident"' not in html


def test_a_section_without_its_read_scope_is_refused_without_calling_pagerduty(
    member_client, tenant, read_only, mocked_responses
):
    response = member_client.get(reverse("integrations:oncall_list", args=[tenant.pk]))

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
    member_client, tenant, read_only, mocked_responses, name, args, data
):
    response = member_client.post(
        reverse(f"integrations:{name}", args=[tenant.pk, *args]), data
    )

    assert response.status_code == 403
    assert "was not granted" in response.content.decode()
    assert len(mocked_responses.calls) == 0
