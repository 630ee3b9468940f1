"""The tool framework's declarations, masking and error mapping."""

import json

import pytest
from django.core.exceptions import ImproperlyConfigured

from integrations.exceptions import (
    PagerDutyAuthError,
    PagerDutyError,
    PagerDutyRateLimited,
    PagerDutyUnavailable,
)
from integrations.gateway.oauth.redirects import redirect_uri_problem
from integrations.gateway.oauth.views import granted_scopes
from integrations.gateway.tools.errors import from_pagerduty
from integrations.gateway.tools.masking import MASKED, mask_arguments
from integrations.gateway.tools.registry import (
    PAGERDUTY_MCP_TOOLS,
    Tool,
    all_tools,
    operation_scopes,
)
from integrations.models import Tenant


def test_compatible_tools_keep_pagerduty_mcps_names_and_input_schemas():
    pinned = json.loads(PAGERDUTY_MCP_TOOLS.read_text())
    theirs = {tool["name"]: tool for tool in pinned["tools"]}

    compatible = [tool for tool in all_tools() if tool.compatible]

    assert pinned["package"]["version"] == "1.1.0"
    assert len(pinned["package"]["wheel_sha256"]) == 64
    assert len(pinned["tools"]) == 101
    assert [tool.name for tool in compatible] == [
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
    ]
    for tool in compatible:
        assert tool.input_schema == theirs[tool.name]["inputSchema"], tool.name


def test_each_tools_pagerduty_scopes_come_from_the_openapi_scopes():
    scopes = operation_scopes()

    for tool in all_tools():
        assert tool.pagerduty_scopes == {scopes[op] for op in tool.operations}
        if tool.read_only:
            assert all(op.startswith("GET ") for op in tool.operations), tool.name
            assert tool.access == "mcp:read"
            assert not tool.destructive
        else:
            assert tool.access == "mcp:write", tool.name
        assert tool.input_schema["type"] == "object"


def test_tools_are_listed_in_a_fixed_order():
    assert [tool.name for tool in all_tools()] == sorted(t.name for t in all_tools())
    assert [t.name for t in all_tools()] == [
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


def test_annotations_are_precise():
    tools = {tool.name: tool.as_mcp().annotations for tool in all_tools()}

    assert tools["list_incidents"].read_only_hint is True
    assert tools["acknowledge_incidents"].read_only_hint is False
    assert tools["acknowledge_incidents"].destructive_hint is False
    assert tools["acknowledge_incidents"].idempotent_hint is True


def test_a_tool_calling_an_unknown_operation_cannot_be_declared():
    with pytest.raises(ImproperlyConfigured, match="unknown PagerDuty operations"):
        Tool(
            name="x",
            title="x",
            description="x",
            input_schema={"type": "object"},
            access="mcp:read",
            operations=("GET /no/such/path",),
            handler=lambda ctx, args: {},
            read_only=True,
            destructive=False,
            idempotent=True,
        )


def test_masking_keeps_ids_and_choices_and_hides_text_and_secrets():
    arguments = {
        "incident_ids": ["P1", "P2"],
        "note": "The database is down, call Bob at 555-0100",
        "api_token": "abc",
        "header": "Bearer pdus+_0123456789",
        "nested": {"password": "x", "status": "resolved"},
        "long": "y" * 500,
    }

    masked = mask_arguments(arguments, free_text=("note",))

    assert masked["incident_ids"] == ["P1", "P2"]
    assert masked["note"] == "[text, 42 chars]"
    assert masked["api_token"] == MASKED
    assert masked["header"] == MASKED
    assert masked["nested"] == {"password": MASKED, "status": "resolved"}
    assert len(masked["long"]) == 121


def test_an_unknown_tools_arguments_are_all_masked():
    assert mask_arguments({"anything": "secret text", "n": 1}, free_text=None) == {
        "anything": MASKED,
        "n": MASKED,
    }
    assert mask_arguments(["not", "an", "object"], free_text=()) == {"_": MASKED}


@pytest.mark.parametrize(
    ("error", "code", "retryable", "text"),
    [
        (PagerDutyAuthError("x", status=401), "reconnect_needed", False, "reconnect"),
        (
            PagerDutyAuthError("x", status=403, required_scope="oncalls.read"),
            "pagerduty_scope_missing",
            False,
            "oncalls.read",
        ),
        (
            PagerDutyRateLimited("x", retry_after=7),
            "rate_limited",
            True,
            "retry after 7 s",
        ),
        (PagerDutyUnavailable("x", status=503), "pagerduty_unavailable", True, "retry"),
        (
            PagerDutyError("Incident Not Found", status=404),
            "not_found",
            False,
            "Not Found",
        ),
        (PagerDutyError("boom", status=502), "pagerduty_unavailable", True, "502"),
        (
            PagerDutyError("Invalid Input", status=400),
            "pagerduty_refused",
            False,
            "Invalid",
        ),
    ],
)
def test_pagerduty_failures_become_errors_an_agent_can_act_on(
    error, code, retryable, text
):
    mapped = from_pagerduty(
        error, tenant=Tenant(name="Acme"), scopes={"incidents.read"}
    )

    assert mapped.code == code
    assert mapped.retryable is retryable
    assert text in mapped.message
    assert mapped.as_structured()["error"]["code"] == code


@pytest.mark.parametrize(
    ("uri", "allowed"),
    [
        ("https://claude.ai/api/mcp/auth_callback", True),
        ("http://127.0.0.1:6274/oauth/callback", True),
        ("http://[::1]:8080/cb", True),
        ("http://localhost/cb", True),
        ("cursor://anysphere.cursor-mcp/oauth/callback", True),
        ("vscode://vscode.github-authentication/did-authenticate", True),
        ("http://10.0.0.1/cb", False),
        ("https://app.example/cb#x", False),
        ("javascript:alert(1)", False),
        ("data:text/html,x", False),
        ("https://a.example/ cb", False),
        ("", False),
        ("https:///nohost", False),
    ],
)
def test_redirect_uri_policy(uri, allowed):
    assert (redirect_uri_problem(uri) == "") is allowed


@pytest.mark.parametrize(
    ("requested", "read_only", "granted"),
    [
        ("mcp:read mcp:write", False, "mcp:read mcp:write"),
        ("mcp:read mcp:write", True, "mcp:read"),
        ("mcp:read", False, "mcp:read"),
        ("", False, "mcp:read mcp:write"),
        ("mcp:write", False, "mcp:read mcp:write"),
    ],
)
def test_consent_grants_read_and_write_unless_kept_read_only(
    requested, read_only, granted
):
    assert granted_scopes(requested, read_only=read_only) == granted
