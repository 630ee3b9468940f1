"""Incident writes agents use: what is sent, and where a bulk change stops."""

import json

import pytest

from integrations.pagerduty.workspace import services
from integrations.pagerduty.workspace.access import workspace_open
from integrations.pagerduty.workspace.services import BulkStopped
from tests.connect_fixtures import API

pytestmark = pytest.mark.django_db


@pytest.fixture
def ws(tenant, tenant_admin, ws_connection, settings):
    settings.PAGERDUTY_RETRY_BACKOFF = 0
    return workspace_open(user=tenant_admin, tenant_id=tenant.pk)


def test_a_bulk_change_sends_every_change_at_once_and_stops_at_a_refusal(
    ws, mocked_responses
):
    ids = [f"P{n:06d}" for n in range(300)]
    mocked_responses.put(
        f"{API}/incidents",
        json={"incidents": [{"id": i, "status": "resolved"} for i in ids[:250]]},
    )
    mocked_responses.put(
        f"{API}/incidents",
        status=400,
        json={"error": {"message": "Invalid Input Provided", "code": 2001}},
    )

    with pytest.raises(BulkStopped) as stopped:
        services.incident_bulk_change(
            ws=ws, incident_ids=ids, status="resolved", urgency="low"
        )

    bodies = [json.loads(call.request.body) for call in mocked_responses.calls]
    assert stopped.value.done == 250
    assert [len(body["incidents"]) for body in bodies] == [250, 50]
    assert bodies[1]["incidents"][0] == {
        "id": ids[250],
        "type": "incident_reference",
        "status": "resolved",
        "urgency": "low",
    }


def test_a_responder_request_names_the_persons_own_pagerduty_user(ws, mocked_responses):
    mocked_responses.post(
        f"{API}/incidents/PINC001/responder_requests",
        json={
            "responder_request": {
                "id": "PRR0001",
                "message": "Join",
                "requester": {"id": ws.link.pd_user_id, "type": "user_reference"},
                "responder_request_targets": [
                    {
                        "responder_request_target": {
                            "id": "PPOL001",
                            "type": "escalation_policy",
                            "summary": "Payments",
                        }
                    }
                ],
            }
        },
    )

    made = services.incident_add_responders(
        ws=ws,
        incident_id="PINC001",
        targets=[("escalation_policy", "PPOL001"), ("escalation_policy", "PPOL001")],
        message="Join",
    )

    sent = json.loads(mocked_responses.calls[0].request.body)
    assert sent == {
        "requester_id": ws.link.pd_user_id,
        "message": "Join",
        "responder_request_targets": [
            {
                "responder_request_target": {
                    "id": "PPOL001",
                    "type": "escalation_policy_reference",
                }
            }
        ],
    }
    assert made.id == "PRR0001"
    assert [(kind, ref.name) for kind, ref in made.targets] == [
        ("escalation_policy", "Payments")
    ]
