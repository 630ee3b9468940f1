"""The whole chain with the official SDK client over real HTTP, both eras.

401 → protected-resource metadata → authorization-server metadata →
registration → PKCE → sign-in and consent with the tenant picked → token →
tools/list → tools/call against the PagerDuty sandbox.
"""

import pytest

from integrations.gateway.models import AgentAuthorization, ToolCall
from integrations.gateway.tools.registry import all_tools
from tests.gateway.agent import Agent
from tests.gateway.conftest import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


def _sandbox_incident(sandbox, incident_id):
    with sandbox.state.lock:
        return sandbox.state.incidents[incident_id]


@pytest.mark.parametrize(
    ("mode", "version"), [("auto", "2026-07-28"), ("legacy", "2025-11-25")]
)
def test_sdk_client_authorizes_lists_and_acknowledges(
    gateway, acme, alice, visitor, pagerduty_sandbox, mode, version
):
    agent = Agent(gateway.mcp_url, visitor, "alice", PASSWORD, tenant_id=acme.pk)

    async def work(client):
        tools = await client.list_tools()
        listed = await client.call_tool("list_incidents", {"statuses": ["triggered"]})
        first = listed.structured_content["response"][0]["id"]
        acked = await client.call_tool(
            "acknowledge_incidents", {"incident_ids": [first]}
        )
        fetched = await client.call_tool("get_incident", {"incident_id": first})
        return client.protocol_version, tools, listed, first, acked, fetched

    protocol, tools, listed, first, acked, fetched = agent.run(work, mode=mode)

    assert protocol == version
    assert [tool.name for tool in tools.tools] == [t.name for t in all_tools()]
    assert listed.is_error is False
    assert {i["status"] for i in listed.structured_content["response"]} == {"triggered"}
    assert acked.is_error is False
    assert acked.structured_content == {"acknowledged": 1, "incident_ids": [first]}
    assert fetched.structured_content["status"] == "acknowledged"
    assert _sandbox_incident(pagerduty_sandbox, first).status == "acknowledged"
    authorization = AgentAuthorization.objects.get()
    assert (authorization.tenant, authorization.user) == (acme, alice)
    assert authorization.scope == "mcp:read mcp:write"
    assert list(
        ToolCall.objects.order_by("id").values_list(
            "tool", "outcome", "protocol_version"
        )
    ) == [
        ("list_incidents", "succeeded", version),
        ("acknowledge_incidents", "succeeded", version),
        ("get_incident", "succeeded", version),
    ]
    assert agent.consents == 1
