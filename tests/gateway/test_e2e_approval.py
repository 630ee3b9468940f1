"""M22 end to end: the official SDK client, the live gateway, the sandbox.

A policy holds acknowledge_incidents; the agent's call makes no PagerDuty
request; another tenant admin approves it in the portal; the agent's retry
with the approval id makes exactly one, as the requester; a second retry is
refused.
"""

import anyio.to_thread
import pytest
from django.test import Client
from django.urls import reverse

from integrations.gateway.models import Approval, ToolCall, ToolPolicy
from integrations.models import Environment, Membership
from tests.factories import MembershipFactory, UserFactory
from tests.gateway.agent import Agent
from tests.gateway.conftest import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


def _approve(approval_id: str, admin) -> int:
    browser = Client()
    browser.force_login(admin)
    approval = Approval.objects.get(public_id=approval_id)
    return browser.post(
        reverse("gateway:approval_detail", args=[approval.tenant_id, approval_id]),
        {"decision": "approve", "reason": "go ahead"},
    ).status_code


def test_m22_sdk_client_held_call_runs_once_after_approval(
    gateway, acme, alice, visitor, pagerduty_sandbox
):
    carol = MembershipFactory(
        tenant=acme, user=UserFactory(username="carol"), role=Membership.Role.ADMIN
    ).user
    ToolPolicy.objects.create(
        environment=Environment.objects.get(slug="development"),
        tool="acknowledge_incidents",
        action="approval",
    )
    agent = Agent(gateway.mcp_url, visitor, "alice", PASSWORD, tenant_id=acme.pk)
    puts = []

    async def work(client):
        listed = await client.call_tool("list_incidents", {"statuses": ["triggered"]})
        incident = listed.structured_content["response"][0]["id"]
        arguments = {"incident_ids": [incident]}
        puts.append(pagerduty_sandbox.count("/incidents", method="PUT"))
        held = await client.call_tool("acknowledge_incidents", arguments)
        puts.append(pagerduty_sandbox.count("/incidents", method="PUT"))
        approval_id = held.structured_content["approval"]["id"]
        decided = await anyio.to_thread.run_sync(lambda: _approve(approval_id, carol))
        retry = {**arguments, "approval_id": approval_id}
        ran = await client.call_tool("acknowledge_incidents", retry)
        puts.append(pagerduty_sandbox.count("/incidents", method="PUT"))
        again = await client.call_tool("acknowledge_incidents", retry)
        puts.append(pagerduty_sandbox.count("/incidents", method="PUT"))
        return incident, held, decided, ran, again

    incident, held, decided, ran, again = agent.run(work)

    assert held.is_error is False
    assert held.structured_content["status"] == "held"
    assert decided == 302
    assert ran.is_error is False
    assert ran.structured_content == {"acknowledged": 1, "incident_ids": [incident]}
    assert again.is_error is True
    assert again.structured_content["error"]["code"] == "approval_used"
    before = puts[0]
    assert puts == [before, before, before + 1, before + 1]
    with pagerduty_sandbox.state.lock:
        acknowledged = pagerduty_sandbox.state.incidents[incident]
        alice_pd = next(
            u.id
            for u in pagerduty_sandbox.state.users.values()
            if u.email == "alice@acme.example"
        )
        # As the requester: the acknowledgement is alice's PagerDuty user's.
        assert acknowledged.status == "acknowledged"
        assert [who for who, _ in acknowledged.acknowledgements] == [alice_pd]
    assert list(
        ToolCall.objects.order_by("id").values_list("tool", "outcome", "user_label")
    ) == [
        ("list_incidents", "succeeded", "alice"),
        ("acknowledge_incidents", "held", "alice"),
        ("acknowledge_incidents", "succeeded", "alice"),
        ("acknowledge_incidents", "refused", "alice"),
    ]
