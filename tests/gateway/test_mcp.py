"""/mcp as a resource server: discovery, tokens, tools/list, step-up, audit.

Against the real ASGI app under uvicorn (M01, M02, M07, M10–M12, M16, M17,
M19, M20) and the PagerDuty sandbox.
"""

import json
from datetime import timedelta

import pytest
import requests
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from oauth2_provider.models import AccessToken

from integrations.gateway.models import AgentAuthorization, ToolCall
from integrations.models import Connection, Membership
from tests.gateway.conftest import connect_to_sandbox
from tests.gateway.harness import register
from tests.gateway.mcp_http import (
    LEGACY,
    MODERN,
    call,
    list_tools,
    message,
    post,
    result,
)

pytestmark = pytest.mark.django_db(transaction=True)

ALL_TOOLS = [
    "acknowledge_incidents",
    "add_team_member",
    "create_schedule_override",
    "create_team",
    "create_user",
    "delete_team",
    "get_incident",
    "get_schedule",
    "get_team",
    "get_user_data",
    "list_incidents",
    "list_oncalls",
    "list_schedule_users",
    "list_schedules",
    "list_team_members",
    "list_teams",
    "list_users",
    "remove_team_member",
    "update_team",
    "who_is_on_call",
]
READ_TOOLS = [
    "get_incident",
    "get_schedule",
    "get_team",
    "get_user_data",
    "list_incidents",
    "list_oncalls",
    "list_schedule_users",
    "list_schedules",
    "list_team_members",
    "list_teams",
    "list_users",
    "who_is_on_call",
]


def names(response) -> list[str]:
    return [tool["name"] for tool in result(response)["tools"]]


@pytest.mark.parametrize("version", [MODERN, LEGACY, None])
def test_m01_no_token_is_401_pointing_at_the_metadata_with_the_scopes(gateway, version):
    body = message("tools/list", version=version or LEGACY)

    response = post(gateway.mcp_url, body, version=version)

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == (
        'Bearer error="invalid_token", error_description="Authentication required", '
        f'resource_metadata="{gateway.url}/.well-known/oauth-protected-resource/mcp", '
        'scope="mcp:read mcp:write"'
    )


@pytest.mark.parametrize(
    "path",
    [
        "/.well-known/oauth-protected-resource/mcp",
        "/.well-known/oauth-protected-resource",
    ],
)
def test_m02_protected_resource_metadata(gateway, path):
    response = requests.get(gateway.url + path, timeout=10)

    assert response.status_code == 200
    assert response.json() == {
        "resource": gateway.mcp_url,
        "authorization_servers": [gateway.url],
        "scopes_supported": ["mcp:read", "mcp:write"],
        "bearer_methods_supported": ["header"],
        "resource_name": "PagerDuty Portal",
    }


def test_m03_authorization_server_metadata(gateway):
    metadata = requests.get(
        f"{gateway.url}/.well-known/oauth-authorization-server", timeout=10
    ).json()
    resource = requests.get(
        f"{gateway.url}/.well-known/oauth-protected-resource/mcp", timeout=10
    ).json()

    assert metadata["issuer"] == gateway.url == resource["authorization_servers"][0]
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    assert metadata["registration_endpoint"] == f"{gateway.url}/o/register/"
    assert "none" in metadata["token_endpoint_auth_methods_supported"]
    assert metadata["authorization_response_iss_parameter_supported"] is True
    assert metadata["response_types_supported"] == ["code"]
    assert metadata["grant_types_supported"] == ["authorization_code", "refresh_token"]


def _refused(gateway, token) -> int:
    return list_tools(gateway.mcp_url, token).status_code


def test_m07_tokens_not_for_this_resource_or_dead_are_refused(
    gateway, issue_token, alice, acme, pagerduty_sandbox
):
    tokens = {
        name: issue_token(alice, acme)
        for name in ("no_resource", "other_resource", "expired", "revoked")
    }
    rows = {
        name: AccessToken.objects.get(token_checksum=_checksum(t.access))
        for name, t in tokens.items()
    }
    AccessToken.objects.filter(pk=rows["no_resource"].pk).update(resource=[])
    AccessToken.objects.filter(pk=rows["other_resource"].pk).update(
        resource=["https://other.example/mcp"]
    )
    AccessToken.objects.filter(pk=rows["expired"].pk).update(
        expires=timezone.now() - timedelta(seconds=1)
    )
    from integrations.gateway.services import agent_authorization_revoke

    agent_authorization_revoke(
        authorization=AgentAuthorization.objects.get(
            token_family=rows["revoked"].refresh_token.token_family
        ),
        reason="test",
    )
    registration = register(gateway.url).json()["registration_access_token"]
    pagerduty = Connection.objects.get(tenant=acme).access_token

    statuses = {name: _refused(gateway, t.access) for name, t in tokens.items()}
    statuses["registration"] = _refused(gateway, registration)
    statuses["pagerduty"] = _refused(gateway, pagerduty)
    statuses["made_up"] = _refused(gateway, "x" * 600)

    assert statuses == dict.fromkeys(statuses, 401)
    assert ToolCall.objects.count() == 0


def _checksum(token):
    import hashlib

    return hashlib.sha256(token.encode()).hexdigest()


def test_m10_tools_list_is_what_class_and_scopes_allow_in_a_fixed_order(
    gateway, issue_token, alice, acme
):
    writer = issue_token(alice, acme).access
    reader = issue_token(alice, acme, read_only=True).access

    full = list_tools(gateway.mcp_url, writer)
    legacy = list_tools(gateway.mcp_url, writer, version=LEGACY)
    read = list_tools(gateway.mcp_url, reader)
    Connection.objects.filter(tenant=acme).update(
        granted_scopes="openid incidents.read incidents.write"
    )
    narrowed = list_tools(gateway.mcp_url, writer)

    assert names(full) == names(legacy) == ALL_TOOLS
    assert names(read) == READ_TOOLS
    assert names(narrowed) == [
        "acknowledge_incidents",
        "get_incident",
        "list_incidents",
    ]
    assert result(full)["cacheScope"] == "private"
    assert full.headers["Cache-Control"] == "no-store, private"
    assert full.headers["Vary"] == "Authorization"


def test_m10_a_hidden_tool_is_refused_exactly_like_an_unknown_one(gateway, token, acme):
    Connection.objects.filter(tenant=acme).update(
        granted_scopes="openid incidents.read incidents.write"
    )

    hidden = result(call(gateway.mcp_url, token, "who_is_on_call"))
    unknown = result(call(gateway.mcp_url, token, "no_such_tool"))

    assert hidden["isError"] is unknown["isError"] is True
    assert hidden["content"][0]["text"] == "Unknown tool: who_is_on_call"
    assert unknown["content"][0]["text"] == "Unknown tool: no_such_tool"
    assert hidden["structuredContent"]["error"]["code"] == "unknown_tool"
    assert list(ToolCall.objects.values_list("outcome", "reason")) == [
        ("refused", "unknown_tool"),
        ("refused", "unknown_tool"),
    ]


def test_m10_a_policy_denial_hides_the_tool_and_refuses_the_call(
    gateway, token, settings
):
    settings.MCP_GOVERNANCE_POLICY = "tests.gateway.policies.deny_acknowledge"

    listed = names(list_tools(gateway.mcp_url, token))
    called = result(
        call(gateway.mcp_url, token, "acknowledge_incidents", {"incident_ids": ["P1"]})
    )

    assert "acknowledge_incidents" not in listed
    assert called["isError"] is True
    assert (
        called["content"][0]["text"]
        == "Acknowledging is reserved for people in this tenant."
    )
    audit = ToolCall.objects.get()
    assert (audit.outcome, audit.reason) == ("denied", "policy_denied")


def test_a_held_call_returns_pending_and_calls_nothing(
    gateway, token, settings, pagerduty_sandbox
):
    settings.MCP_GOVERNANCE_POLICY = "tests.gateway.policies.hold_acknowledge"
    before = pagerduty_sandbox.count("/incidents", method="PUT")

    held = result(
        call(gateway.mcp_url, token, "acknowledge_incidents", {"incident_ids": ["P1"]})
    )

    assert held["isError"] is False
    assert held["structuredContent"] == {
        "status": "held",
        "reason": "Waiting for a tenant admin's approval.",
        "approval": "A1",
    }
    assert pagerduty_sandbox.count("/incidents", method="PUT") == before
    assert ToolCall.objects.get().outcome == "held"


def test_m11_read_token_write_call_gets_the_step_up_challenge_on_2026(
    gateway, issue_token, alice, acme, pagerduty_sandbox
):
    reader = issue_token(alice, acme, read_only=True).access
    before = pagerduty_sandbox.count("/incidents", method="PUT")

    response = call(
        gateway.mcp_url, reader, "acknowledge_incidents", {"incident_ids": ["P1"]}
    )

    assert response.status_code == 403
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith(
        'Bearer error="insufficient_scope", scope="mcp:read mcp:write"'
    )
    assert (
        f'resource_metadata="{gateway.url}/.well-known/oauth-protected-resource/mcp"'
        in challenge
    )
    assert pagerduty_sandbox.count("/incidents", method="PUT") == before
    audit = ToolCall.objects.get()
    assert (audit.tool, audit.outcome, audit.reason, audit.protocol_version) == (
        "acknowledge_incidents",
        "refused",
        "insufficient_scope",
        MODERN,
    )


def test_m11_read_token_write_call_is_a_tool_error_naming_the_scope_on_legacy(
    gateway, issue_token, alice, acme
):
    reader = issue_token(alice, acme, read_only=True).access

    answer = result(
        call(
            gateway.mcp_url,
            reader,
            "acknowledge_incidents",
            {"incident_ids": ["P1"]},
            version=LEGACY,
        )
    )

    assert answer["isError"] is True
    assert "mcp:write" in answer["content"][0]["text"]
    assert ToolCall.objects.get().reason == "insufficient_scope"


def test_m12_transport_guards(gateway, token):
    body = message("tools/list")
    url = gateway.mcp_url

    bad_origin = post(
        url, body, token=token, headers={"Origin": "https://evil.example"}
    )
    bad_host = post(url, body, token=token, headers={"Host": "evil.example"})
    named = message("tools/call", {"name": "list_incidents", "arguments": {}})
    mismatch = post(url, named, token=token, headers={"Mcp-Name": "get_incident"})
    future = message("tools/list")
    future["params"]["_meta"]["io.modelcontextprotocol/protocolVersion"] = "2099-01-01"
    unsupported = post(
        url, future, token=token, headers={"MCP-Protocol-Version": "2099-01-01"}
    )
    get = requests.get(
        url,
        headers={"Authorization": f"Bearer {token}", "MCP-Protocol-Version": MODERN},
        timeout=10,
    )
    delete = requests.delete(
        url,
        headers={"Authorization": f"Bearer {token}", "MCP-Protocol-Version": MODERN},
        timeout=10,
    )
    too_big = post(url, body, token=token, raw=b"{" + b" " * (1024 * 1024 + 10) + b"}")
    malformed = post(
        url, body, token=token, raw=b'{"jsonrpc": "2.0", "id": 1, "method"'
    )
    malformed_legacy = post(
        url,
        message("tools/list", version=LEGACY),
        token=token,
        version=LEGACY,
        raw=b"[[[[",
    )

    assert bad_origin.status_code == 403
    assert bad_host.status_code == 421
    assert mismatch.status_code == 400
    assert mismatch.json()["error"]["code"] == -32020
    assert unsupported.status_code == 400
    assert unsupported.json()["error"]["code"] == -32022
    assert MODERN in unsupported.json()["error"]["data"]["supported"]
    assert get.status_code == delete.status_code == 405
    assert too_big.status_code == 413
    assert malformed.status_code == 400
    assert malformed.json()["error"]["code"] == -32700
    assert malformed_legacy.status_code < 500
    assert ToolCall.objects.count() == 0


def test_m12_an_allowed_browser_origin_is_served(gateway, token):
    response = post(
        gateway.mcp_url,
        message("tools/list"),
        token=token,
        headers={"Origin": gateway.url},
    )

    assert response.status_code == 200


def test_m16_one_audit_row_per_call_whatever_the_outcome(gateway, token, alice, acme):
    ok = call(
        gateway.mcp_url,
        token,
        "list_incidents",
        {"statuses": ["triggered"], "limit": 2},
    )
    failed = call(gateway.mcp_url, token, "get_incident", {"incident_id": "PNOSUCH"})
    refused = call(gateway.mcp_url, token, "list_incidents", {"limit": "ten"})

    rows = list(ToolCall.objects.order_by("id"))
    assert [(r.tool, r.outcome, r.reason) for r in rows] == [
        ("list_incidents", "succeeded", ""),
        ("get_incident", "failed", "not_found"),
        ("list_incidents", "refused", "invalid_arguments"),
    ]
    assert [r.request_id for r in rows] == [
        ok.headers["X-Request-ID"],
        failed.headers["X-Request-ID"],
        refused.headers["X-Request-ID"],
    ]
    first = rows[0]
    assert (first.tenant, first.user, first.user_label) == (acme, alice, "alice")
    assert first.client_label == "Test agent"
    assert first.authorization == AgentAuthorization.objects.get()
    assert first.protocol_version == MODERN
    assert first.arguments == {"statuses": ["triggered"], "limit": 2}
    assert rows[1].pagerduty_status == 404
    assert all(r.latency_ms >= 0 for r in rows)
    assert token not in json.dumps(list(ToolCall.objects.values()), default=str)


def test_m16_tool_calls_are_read_only_in_the_admin(gateway, token, admin_user):
    call(gateway.mcp_url, token, "list_incidents", {"limit": 1})
    admin = Client()
    admin.force_login(admin_user)
    row = ToolCall.objects.get()

    changelist = admin.get(reverse("admin:gateway_toolcall_changelist"))
    change = admin.get(reverse("admin:gateway_toolcall_change", args=[row.pk]))
    add = admin.get(reverse("admin:gateway_toolcall_add"))
    delete = admin.post(
        reverse("admin:gateway_toolcall_delete", args=[row.pk]), {"post": "yes"}
    )

    assert changelist.status_code == 200
    assert change.status_code == 200
    assert b'name="_save"' not in change.content
    assert add.status_code == 403
    assert delete.status_code == 403
    assert ToolCall.objects.count() == 1


def test_m17_revoking_an_agent_in_the_portal_refuses_its_next_request(
    gateway, token, alice, acme
):
    assert list_tools(gateway.mcp_url, token).status_code == 200
    agent = AgentAuthorization.objects.get()
    browser = Client()
    browser.force_login(alice)

    response = browser.post(reverse("gateway:agent_revoke", args=[acme.pk, agent.pk]))

    assert response.status_code == 302
    assert list_tools(gateway.mcp_url, token).status_code == 401
    assert call(gateway.mcp_url, token, "list_incidents").status_code == 401


def test_m19_disconnecting_makes_tools_say_so_and_reconnecting_restores_them(
    gateway, token, acme, pagerduty_sandbox
):
    Connection.objects.filter(tenant=acme).update(status=Connection.Status.REVOKED)

    listed = names(list_tools(gateway.mcp_url, token))
    disconnected = result(call(gateway.mcp_url, token, "list_incidents"))
    connect_to_sandbox(acme, pagerduty_sandbox)
    restored = result(call(gateway.mcp_url, token, "list_incidents", {"limit": 1}))

    assert listed == ALL_TOOLS
    assert disconnected["isError"] is True
    assert disconnected["structuredContent"]["error"]["code"] == "not_connected"
    assert "not connected for Acme Corp" in disconnected["content"][0]["text"]
    assert restored["isError"] is False


def test_m19_a_connection_needing_reconnect_is_named(gateway, token, acme):
    Connection.objects.filter(tenant=acme).update(
        status=Connection.Status.NEEDS_RECONNECT
    )

    answer = result(call(gateway.mcp_url, token, "get_incident", {"incident_id": "P1"}))

    assert answer["structuredContent"]["error"]["code"] == "reconnect_needed"


def test_m20_removing_the_person_from_the_tenant_refuses_the_agent(
    gateway, token, alice, acme
):
    assert list_tools(gateway.mcp_url, token).status_code == 200

    Membership.objects.filter(user=alice, tenant=acme).delete()

    assert list_tools(gateway.mcp_url, token).status_code == 401


def test_m07_a_token_of_a_tenant_now_served_by_another_gateway_is_refused(
    gateway, token, acme
):
    from integrations.models import Environment

    Environment.objects.filter(pk=acme.environment_id).update(
        gateway_url="https://gateway.example.com"
    )

    assert list_tools(gateway.mcp_url, token).status_code == 401


def test_the_2025_06_18_handshake_leg_is_served_too(gateway, token):
    answer = list_tools(gateway.mcp_url, token, version="2025-06-18")

    assert names(answer) == ALL_TOOLS
