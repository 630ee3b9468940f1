"""A Classic grant (`read` or `write`) in the workspace: navigation and writes."""

import pytest
from django.urls import reverse

from integrations.models import AppType
from tests.integrations.pagerduty.workspace import payloads as pd

pytestmark = pytest.mark.django_db


@pytest.fixture
def classic(ws_connection, pagerduty_client):
    pagerduty_client.app_type = AppType.CLASSIC
    pagerduty_client.scopes = "write"
    pagerduty_client.save()
    return ws_connection


def _grant(connection, scopes):
    connection.granted_scopes = scopes
    connection.save()


def test_a_classic_read_grant_opens_every_section(
    linked_client, tenant, classic, mocked_responses
):
    _grant(classic, "openid read")
    mocked_responses.get(pd.url("/incidents"), json=pd.incident_list([pd.incident()]))
    pd.mock_directories(mocked_responses)

    html = linked_client.get(
        reverse("integrations:incident_list", args=[tenant.pk])
    ).content.decode()

    nav = html[html.index('id="ws-nav"') : html.index("</nav>", html.index("ws-nav"))]
    for label in ("Incidents", "Services", "On-calls", "Schedules", "Users"):
        assert label in nav
    assert "needs incidents.write" in html
    assert 'id="bulk-submit"' not in html


def test_a_classic_read_grant_refuses_writes_without_calling_pagerduty(
    linked_client, tenant, classic, mocked_responses
):
    _grant(classic, "openid read")

    response = linked_client.post(
        reverse("integrations:incident_acknowledge", args=[tenant.pk, "PINC001"])
    )

    assert response.status_code == 403
    assert "was not granted" in response.content.decode()
    assert len(mocked_responses.calls) == 0


def test_a_classic_write_grant_enables_write_controls(
    linked_client, tenant, classic, mocked_responses
):
    _grant(classic, "openid write")
    mocked_responses.get(pd.url("/incidents"), json=pd.incident_list([pd.incident()]))
    pd.mock_directories(mocked_responses)

    html = linked_client.get(
        reverse("integrations:incident_list", args=[tenant.pk])
    ).content.decode()

    assert 'id="bulk-submit"' in html
    assert "needs incidents.write" not in html


def test_a_classic_write_grant_acknowledges_through_pagerduty(
    linked_client, tenant, classic, mocked_responses
):
    _grant(classic, "openid write")
    mocked_responses.put(
        pd.url("/incidents/PINC001"),
        json={"incident": pd.incident(status="acknowledged")},
    )

    response = linked_client.post(
        reverse("integrations:incident_acknowledge", args=[tenant.pk, "PINC001"])
    )

    assert response.status_code == 302
    assert len(mocked_responses.calls) == 1
