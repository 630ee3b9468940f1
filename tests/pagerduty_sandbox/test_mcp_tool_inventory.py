"""integrations/pagerduty/pagerduty_mcp_tools.json: PagerDuty's MCP tools.

One test re-derives the file from the installed pagerduty-mcp (its own
Python 3.12 venv, `make pdmcp-install`) and a sandbox run; the others check
the committed file against openapi_scopes.json and the portal's 15 scopes
on every machine.
"""

import importlib.util
import json
import re
from pathlib import Path

import pytest

from integrations.pagerduty.scopes import ALL_SCOPES
from pagerduty_sandbox import pdmcp
from pagerduty_sandbox.scopes import spec_data
from tests.helpers import skip_unless_available

ROOT = Path(__file__).resolve().parents[2]
# The tools whose calls all fall within the 15 scopes (pagerduty-mcp 1.1.0).
IN_SCOPE = {
    "add_note_to_incident",
    "add_responders",
    "add_team_member",
    "create_alert_grouping_setting",
    "create_incident",
    "create_schedule_override",
    "create_service",
    "create_team",
    "create_user",
    "create_webhook_subscription",
    "delete_alert_grouping_setting",
    "delete_team",
    "delete_webhook_subscription",
    "get_alert_from_incident",
    "get_alert_grouping_setting",
    "get_business_service_dependencies",
    "get_escalation_policy",
    "get_event_orchestration_service",
    "get_incident",
    "get_log_entry",
    "get_outlier_incident",
    "get_past_incidents",
    "get_related_incidents",
    "get_schedule",
    "get_service",
    "get_team",
    "get_technical_service_dependencies",
    "get_user_data",
    "get_webhook_subscription",
    "list_alert_grouping_settings",
    "list_alerts_from_incident",
    "list_business_services",
    "list_escalation_policies",
    "list_incident_change_events",
    "list_incident_notes",
    "list_incidents",
    "list_log_entries",
    "list_oncalls",
    "list_schedule_users",
    "list_schedules",
    "list_service_change_events",
    "list_services",
    "list_team_members",
    "list_teams",
    "list_users",
    "list_webhook_subscriptions",
    "manage_incidents",
    "remove_team_member",
    "update_alert_grouping_setting",
    "update_service",
    "update_team",
    "update_webhook_subscription",
}


def _derive_module():
    path = ROOT / "scripts" / "derive_mcp_tools.py"
    spec = importlib.util.spec_from_file_location("derive_mcp_tools", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def inventory():
    return pdmcp.inventory()


def _spec_operations():
    data = spec_data()
    return {**data["scopes"], **dict.fromkeys(data["unscoped"])}


def test_inventory_is_current_with_the_installed_package():
    python = pdmcp.pdmcp_python()
    skip_unless_available(
        python is not None,
        "no pagerduty-mcp venv (make pdmcp-install, or set PDMCP_PYTHON)",
    )
    derive = _derive_module()

    data, summary = derive.derive(python)

    assert derive.render(data) == pdmcp.INVENTORY.read_text()
    # Every in-scope tool reached the sandbox in the check run.
    assert not IN_SCOPE & set(summary["unexercised"])


def test_inventory_pins_the_package_and_the_spec(inventory):
    package = inventory["package"]

    assert package["name"] == "pagerduty-mcp"
    assert package["version"] == "1.1.0"
    assert package["wheel"] == "pagerduty_mcp-1.1.0-py3-none-any.whl"
    requirements = (ROOT / "bench" / "pdmcp-requirements.txt").read_text()
    assert "pagerduty-mcp==1.1.0" in requirements
    assert f"sha256:{package['wheel_sha256']}" in requirements
    assert inventory["openapi"] == spec_data()["source"]
    assert inventory["portal_scopes"] == list(ALL_SCOPES)


def test_every_operation_and_scope_comes_from_openapi_scopes(inventory):
    operations = _spec_operations()

    for tool in inventory["tools"]:
        for op in tool["operations"]:
            assert op["operation"] in operations, (tool["name"], op)
            assert op["scope"] == operations[op["operation"]], (tool["name"], op)
        needed = [o for o in tool["operations"] if not o["fallback"]]
        assert needed, f"{tool['name']} calls nothing"
        assert tool["scopes"] == sorted({o["scope"] for o in needed if o["scope"]})
    for op in inventory["context_operations"]:
        assert op["operation"] in operations


def test_in_scope_means_every_needed_scope_is_one_of_the_15(inventory):
    usable = {
        entry["operation"]
        for entry in inventory["stated_by_hand"]
        if entry["fact"] == "usable without a scope"
    }

    for tool in inventory["tools"]:
        needed = [o for o in tool["operations"] if not o["fallback"]]
        expected = all(
            o["scope"] in ALL_SCOPES if o["scope"] else o["operation"] in usable
            for o in needed
        )
        assert tool["in_scope"] is expected, tool["name"]
    assert {t["name"] for t in inventory["tools"] if t["in_scope"]} == IN_SCOPE
    assert inventory["counts"]["in_scope"] == len(IN_SCOPE)


def test_fallbacks_and_hand_stated_facts_name_real_calls(inventory):
    tools = {t["name"]: t for t in inventory["tools"]}

    for entry in inventory["stated_by_hand"]:
        assert entry["reason"]
        if "tool" in entry:
            ops = {o["operation"]: o for o in tools[entry["tool"]]["operations"]}
            assert entry["operation"] in ops
            assert ops[entry["operation"]]["fallback"] is (entry["fact"] == "fallback")
    fallbacks = {
        (name, o["operation"])
        for name, tool in tools.items()
        for o in tool["operations"]
        if o["fallback"]
    }
    assert fallbacks == {
        ("list_schedules", "GET /v3/schedules"),
        ("list_schedules", "GET /v3/schedules/{id}"),
        ("get_schedule", "GET /v3/schedules/{id}"),
    }


def test_tools_keep_what_the_server_publishes(inventory):
    names = [t["name"] for t in inventory["tools"]]

    assert len(names) == len(set(names)) == inventory["counts"]["tools"] == 101
    for tool in inventory["tools"]:
        assert re.fullmatch(r"[a-z0-9_]+", tool["name"])
        assert tool["description"].strip()
        assert tool["inputSchema"]["type"] == "object"
        annotations = tool["annotations"]
        # The package marks every read read-only and every write destructive.
        assert annotations["readOnlyHint"] is (tool["kind"] == "read")
        assert annotations["destructiveHint"] is (tool["kind"] == "write")
    counts = inventory["counts"]
    assert counts["read"] + counts["write"] == counts["tools"]


def test_the_file_is_rendered_canonically(inventory):
    derive = _derive_module()

    assert derive.render(inventory) == pdmcp.INVENTORY.read_text()
    assert json.loads(pdmcp.INVENTORY.read_text()) == inventory


@pytest.mark.parametrize(
    ("method", "path", "pattern", "expected"),
    [
        ("GET", "/incidents/{}/alerts", True, "GET /incidents/{id}/alerts"),
        ("GET", "/incidents/PABC123/alerts", False, "GET /incidents/{id}/alerts"),
        (
            "GET",
            "/event_orchestrations/services/{}",
            True,
            "GET /event_orchestrations/services/{service_id}",
        ),
        ("GET", "/v3/schedules/PABC123", False, "GET /v3/schedules/{id}"),
        ("DELETE", "/teams/{}/users/{}", True, "DELETE /teams/{id}/users/{user_id}"),
    ],
)
def test_calls_match_the_most_specific_template(method, path, pattern, expected):
    derive = _derive_module()

    found = derive.match_operation(method, path, _spec_operations(), pattern=pattern)

    assert found == expected


def test_a_call_outside_the_spec_fails_the_derivation():
    derive = _derive_module()

    with pytest.raises(derive.DerivationError, match="matches none"):
        derive.match_operation("GET", "/nowhere/{}", _spec_operations(), pattern=True)
