import json

import pytest
from django.urls import reverse

from tests.integrations.pagerduty.workspace import payloads as pd

pytestmark = pytest.mark.django_db


def url(tenant, name, *args):
    return reverse(f"integrations:{name}", args=[tenant.pk, *args])


def mock_policies(rsps):
    rsps.get(
        pd.url("/escalation_policies"),
        json={
            "escalation_policies": [
                {**pd.ref("escalation_policy", "PEP0001", "Checkout policy")}
            ],
            "more": False,
        },
    )


def test_list_shows_status_policy_and_team_in_one_call(
    linked_client, tenant, mocked_responses
):
    services = mocked_responses.get(
        pd.url("/services"),
        json={
            "services": [
                # References only: names come from their summaries.
                {
                    **pd.service(status="critical"),
                    "escalation_policy": pd.ref(
                        "escalation_policy", "PEP0001", "Checkout policy"
                    ),
                    "teams": [pd.ref("team", "PTEAM01", "Payments")],
                },
                pd.service("PSVC002", "Search", "disabled"),
            ],
            "more": False,
            "total": 2,
        },
    )

    response = linked_client.get(url(tenant, "service_list"))

    html = response.content.decode()
    assert response.status_code == 200
    assert services.call_count == 1
    assert "include[]" not in pd.query(services.calls[0])
    row = html[html.index('id="service-PSVC001"') : html.index('id="service-PSVC002"')]
    assert "Checkout policy" in row
    assert "Payments" in row
    assert "Critical" in row
    assert "Disabled" in html
    assert "2 services" in html


@pytest.mark.parametrize(
    ("status", "tab"), [("critical", "triggered"), ("warning", "acknowledged")]
)
def test_list_links_a_service_with_open_incidents_to_them(
    linked_client, tenant, mocked_responses, status, tab
):
    mocked_responses.get(
        pd.url("/services"),
        json={"services": [pd.service(status=status)], "more": False, "total": 1},
    )

    response = linked_client.get(url(tenant, "service_list"))

    link = f'href="{url(tenant, "incident_list")}?status={tab}&amp;service=PSVC001"'
    assert link in response.content.decode()


def test_list_links_no_incidents_of_a_quiet_service(
    linked_client, tenant, mocked_responses
):
    mocked_responses.get(
        pd.url("/services"),
        json={"services": [pd.service()], "more": False, "total": 1},
    )

    response = linked_client.get(url(tenant, "service_list"))

    row = response.content.decode().split('id="service-PSVC001"')[1]
    assert "status=" not in row.split("</tr>")[0]


def test_detail_shows_integrations_and_recent_incidents(
    linked_client, tenant, mocked_responses
):
    service = mocked_responses.get(
        pd.url("/services/PSVC001"), json={"service": pd.service()}
    )
    mocked_responses.get(pd.url("/incidents"), json=pd.incident_list([pd.incident()]))

    response = linked_client.get(url(tenant, "service_detail", "PSVC001"))

    html = response.content.decode()
    assert response.status_code == 200
    assert pd.query(service.calls[0])["include[]"] == [
        "escalation_policies",
        "teams",
        "integrations",
    ]
    assert "Datadog" in html
    assert "<dd>30 min</dd>" in html  # PagerDuty's 1800 s
    assert "Checkout is down" in html
    assert pd.query(mocked_responses.calls[1])["service_ids[]"] == ["PSVC001"]


def test_create_posts_the_service_and_opens_it(linked_client, tenant, mocked_responses):
    mock_policies(mocked_responses)
    mocked_responses.post(
        pd.url("/services"), status=201, json={"service": pd.service("PNEW001", "New")}
    )

    response = linked_client.post(
        url(tenant, "service_create"),
        {
            "name": "New",
            "description": "d",
            "escalation_policy": "PEP0001",
            "acknowledgement_timeout": "10",  # minutes
        },
    )

    assert response.status_code == 302
    assert response["Location"] == url(tenant, "service_detail", "PNEW001")
    assert json.loads(mocked_responses.calls[1].request.body) == {
        "service": {
            "type": "service",
            "name": "New",
            "description": "d",
            "escalation_policy": {
                "id": "PEP0001",
                "type": "escalation_policy_reference",
            },
            "acknowledgement_timeout": 600,
            "auto_resolve_timeout": None,
        }
    }


def test_create_refused_keeps_what_was_typed(linked_client, tenant, mocked_responses):
    mock_policies(mocked_responses)
    mocked_responses.post(
        pd.url("/services"),
        status=400,
        json=pd.error("Invalid Input Provided", 2001, ["Name has already been taken"]),
    )

    response = linked_client.post(
        url(tenant, "service_create"),
        {"name": "Checkout", "description": "typed", "escalation_policy": "PEP0001"},
    )

    html = response.content.decode()
    assert response.status_code == 400
    assert "Name has already been taken" in html
    assert 'value="Checkout"' in html
    assert "typed" in html


def test_edit_is_prefilled_and_puts_changes(linked_client, tenant, mocked_responses):
    mock_policies(mocked_responses)
    mocked_responses.get(pd.url("/services/PSVC001"), json={"service": pd.service()})
    mocked_responses.put(pd.url("/services/PSVC001"), json={"service": pd.service()})

    page = linked_client.get(url(tenant, "service_edit", "PSVC001")).content.decode()
    response = linked_client.post(
        url(tenant, "service_edit", "PSVC001"),
        {"name": "Checkout 2", "escalation_policy": "PEP0001"},
    )

    assert 'value="Checkout"' in page
    assert 'value="30"' in page  # PagerDuty's 1800 seconds, in minutes
    assert response.status_code == 302
    assert json.loads(mocked_responses.calls[-1].request.body)["service"]["name"] == (
        "Checkout 2"
    )


@pytest.mark.parametrize(
    ("name", "status", "message"),
    [
        ("service_disable", "disabled", "Service disabled."),
        ("service_enable", "active", "Service enabled."),
    ],
)
def test_enable_and_disable_put_the_status(
    linked_client, tenant, mocked_responses, name, status, message
):
    mocked_responses.put(pd.url("/services/PSVC001"), json={"service": pd.service()})
    mocked_responses.get(pd.url("/services/PSVC001"), json={"service": pd.service()})
    mocked_responses.get(pd.url("/incidents"), json=pd.incident_list([]))

    response = linked_client.post(url(tenant, name, "PSVC001"), follow=True)

    assert json.loads(mocked_responses.calls[0].request.body) == {
        "service": {"type": "service", "status": status}
    }
    assert message in response.content.decode()


def test_delete_asks_then_deletes(linked_client, tenant, mocked_responses):
    mocked_responses.get(pd.url("/services/PSVC001"), json={"service": pd.service()})
    deleted = mocked_responses.delete(pd.url("/services/PSVC001"), status=204)

    page = linked_client.get(url(tenant, "service_delete", "PSVC001"))
    response = linked_client.post(url(tenant, "service_delete", "PSVC001"))

    assert "Delete the service “Checkout”" in page.content.decode()
    assert deleted.call_count == 1
    assert response["Location"] == reverse(
        "integrations:service_list", args=[tenant.pk]
    )


def test_delete_refused_shows_pagerdutys_message(
    linked_client, tenant, mocked_responses
):
    mocked_responses.delete(
        pd.url("/services/PSVC001"),
        status=400,
        json=pd.error(
            "Invalid operation",
            2015,
            ["The service has open incidents; resolve them first"],
        ),
    )
    mocked_responses.get(pd.url("/services/PSVC001"), json={"service": pd.service()})

    response = linked_client.post(url(tenant, "service_delete", "PSVC001"))

    assert response.status_code == 400
    assert "The service has open incidents" in response.content.decode()
