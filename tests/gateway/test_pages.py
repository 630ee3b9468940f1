"""The AI agents pages, the staff views of agents and calls, the purge."""

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from oauth2_provider.models import AccessToken, RefreshToken

from integrations.gateway.models import (
    AgentAuthorization,
    ToolCall,
)
from integrations.gateway.models import (
    Client as McpClient,
)
from integrations.models import AuditEvent, Membership
from tests.factories import MembershipFactory, UserFactory
from tests.gateway.oauth_flow import issue, new_client_id, obtain_code, register
from tests.integrations.pagerduty.workspace.conftest import make_connection

pytestmark = pytest.mark.django_db


@pytest.fixture
def connected(tenant, pagerduty_client):
    return make_connection(
        tenant, pagerduty_client, scopes="openid incidents.read incidents.write"
    )


@pytest.fixture
def bobs_agent(client, tenant, tenant_member, connected):
    client.force_login(tenant_member)
    issue(client, tenant=tenant)
    client.logout()
    return AgentAuthorization.objects.get(user=tenant_member)


@pytest.fixture
def alices_agent(client, tenant, tenant_admin, connected):
    client.force_login(tenant_admin)
    issue(client, tenant=tenant, read_only=True)
    client.logout()
    return AgentAuthorization.objects.get(user=tenant_admin)


def test_the_agents_page_shows_how_to_connect_and_what_the_tenant_exposes(
    client, tenant, tenant_member, connected, settings
):
    client.force_login(tenant_member)

    page = client.get(reverse("gateway:agent_list", args=[tenant.pk]))

    html = page.content.decode()
    url = f"{settings.PORTAL_BASE_URL}/mcp"
    assert page.status_code == 200
    assert f'value="{url}"' in html
    assert f"claude mcp add --transport http pagerduty {url}" in html
    assert '"pagerduty": { "url": "' + url in html
    assert '"type": "http"' in html
    assert "npx @modelcontextprotocol/inspector" in html
    assert 'data-copy="mcp-url"' in html
    row = html.split("<code>who_is_on_call</code>")[1].split("</tr>")[0]
    assert "hidden: PagerDuty permission not granted" in row
    assert "oncalls.read" in row
    assert "available" in html.split("<code>list_incidents</code>")[1].split("</tr>")[0]
    assert "hidden from agents you authorize as read only" in html


def test_members_see_their_own_agents_and_admins_see_all(
    client, tenant, tenant_admin, tenant_member, bobs_agent, alices_agent
):
    client.force_login(tenant_member)
    bob_page = client.get(
        reverse("gateway:agent_list", args=[tenant.pk])
    ).content.decode()
    client.force_login(tenant_admin)
    alice_page = client.get(
        reverse("gateway:agent_list", args=[tenant.pk])
    ).content.decode()

    assert f'id="agent-{bobs_agent.pk}"' in bob_page
    assert f'id="agent-{alices_agent.pk}"' not in bob_page
    assert f'id="agent-{bobs_agent.pk}"' in alice_page
    assert f'id="agent-{alices_agent.pk}"' in alice_page
    assert "read only" in alice_page


def test_a_member_cannot_revoke_someone_elses_agent(
    client, tenant, tenant_member, alices_agent
):
    client.force_login(tenant_member)

    response = client.post(
        reverse("gateway:agent_revoke", args=[tenant.pk, alices_agent.pk])
    )
    detail = client.get(
        reverse("gateway:agent_detail", args=[tenant.pk, alices_agent.pk])
    )

    assert response.status_code == detail.status_code == 404
    alices_agent.refresh_from_db()
    assert alices_agent.revoked_at is None


def test_an_admin_revokes_any_agent_of_the_tenant_and_it_is_audited(
    client, tenant, tenant_admin, bobs_agent
):
    client.force_login(tenant_admin)

    response = client.post(
        reverse("gateway:agent_revoke", args=[tenant.pk, bobs_agent.pk])
    )

    bobs_agent.refresh_from_db()
    assert response.status_code == 302
    assert bobs_agent.revoked_by == tenant_admin
    assert not RefreshToken.objects.filter(
        token_family=bobs_agent.token_family, revoked__isnull=True
    ).exists()
    assert not AccessToken.objects.filter(
        refresh_token__token_family=bobs_agent.token_family
    )
    event = AuditEvent.objects.get(action="agent.revoked")
    assert event.actor == tenant_admin
    page = client.get(reverse("gateway:agent_list", args=[tenant.pk])).content.decode()
    assert f'id="agent-{bobs_agent.pk}"' not in page


def test_another_tenants_member_gets_404(client, tenant, bobs_agent, development):
    outsider = UserFactory(username="gina")
    from tests.factories import TenantFactory

    MembershipFactory(user=outsider, tenant=TenantFactory(environment=development))
    client.force_login(outsider)

    assert (
        client.get(reverse("gateway:agent_list", args=[tenant.pk])).status_code == 404
    )
    assert (
        client.post(
            reverse("gateway:agent_revoke", args=[tenant.pk, bobs_agent.pk])
        ).status_code
        == 404
    )


def test_an_agents_page_lists_its_calls_filtered(
    client, tenant, tenant_admin, bobs_agent
):
    for tool, outcome in [("list_incidents", "succeeded"), ("get_incident", "failed")]:
        ToolCall.objects.create(
            tenant=tenant,
            authorization=bobs_agent,
            tool=tool,
            outcome=outcome,
            protocol_version="2026-07-28",
            arguments={"incident_id": "PX1"},
        )
    client.force_login(tenant_admin)
    url = reverse("gateway:agent_detail", args=[tenant.pk, bobs_agent.pk])

    everything = client.get(url).content.decode()
    failed = client.get(url, {"outcome": "failed"}).content.decode()

    assert "<code>list_incidents</code>" in everything
    assert "<code>get_incident</code>" in everything
    assert "<code>list_incidents</code>" not in failed
    assert "incident_id=PX1" in failed


def test_staff_see_agents_per_environment_and_every_tool_call(
    client, tenant, staff_user, bobs_agent, development
):
    ToolCall.objects.create(
        tenant=tenant,
        authorization=bobs_agent,
        tool="list_incidents",
        outcome="refused",
        reason="unknown_tool",
        protocol_version="2025-11-25",
    )
    client.force_login(staff_user)

    tenants = client.get(reverse("integrations:tenant_list", args=[development.slug]))
    calls = client.get(reverse("gateway:tool_call_list"), {"tenant": tenant.pk})
    other = client.get(reverse("gateway:tool_call_list"), {"outcome": "succeeded"})

    assert 'id="environment-agents"' in tenants.content.decode()
    assert "Test agent" in tenants.content.decode()
    assert "unknown_tool" in calls.content.decode()
    assert "unknown_tool" not in other.content.decode()
    audit = client.get(reverse("integrations:audit_list")).content.decode()
    assert reverse("gateway:tool_call_list") in audit


def test_members_cannot_see_the_staff_tool_call_log(client, tenant_member):
    client.force_login(tenant_member)

    assert client.get(reverse("gateway:tool_call_list")).status_code == 403


def test_the_tenant_page_and_the_navigation_link_to_the_agents_page(
    client, tenant, tenant_member, connected
):
    client.force_login(tenant_member)

    html = client.get(
        reverse("integrations:tenant_home", args=[tenant.pk])
    ).content.decode()

    assert html.count(reverse("gateway:agent_list", args=[tenant.pk])) == 2


def test_purge_deletes_unused_registrations_and_expired_tokens(
    client, tenant, tenant_member, connected
):
    register(client)
    used = new_client_id(client)
    client.force_login(tenant_member)
    obtain_code(client, used, tenant=tenant)  # a consent never exchanged
    issued = issue(client, tenant=tenant)
    McpClient.objects.update(created=timezone.now() - timedelta(days=2))
    AgentAuthorization.objects.filter(token_family__isnull=True).update(
        created_at=timezone.now() - timedelta(hours=2)
    )
    AccessToken.objects.filter(refresh_token__isnull=True).update(
        expires=timezone.now() - timedelta(seconds=1)
    )

    call_command("purge_mcp_authorizations", stdout=io.StringIO())

    assert set(McpClient.objects.values_list("client_id", flat=True)) == {
        used,
        issued.client_id,
    }
    assert AgentAuthorization.objects.filter(token_family__isnull=False).count() == 1
    assert AgentAuthorization.objects.count() == 1
    assert AccessToken.objects.filter(refresh_token__isnull=True).count() == 0
    assert Membership.objects.count() == 1
