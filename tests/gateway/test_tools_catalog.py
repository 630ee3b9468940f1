"""The catalogue tools (services, business services, alert grouping,
escalation policies, webhooks, event orchestrations) against the sandbox.

Each answers through the live gateway with the arguments of pagerduty-mcp's
own plan (`pagerduty_sandbox.pdmcp.tool_calls`); reads match pagerduty-mcp's
own answers (same entity IDs); and every tool is held to M09 (tenant B's
IDs), M13 (IDs that are not IDs) and M14 (upstream faults).
"""

import json

import pytest

from integrations.gateway.models import ToolCall
from integrations.gateway.tools.registry import tool_get
from integrations.models import AuditAction, AuditEvent, Connection
from pagerduty_sandbox import pdmcp
from tests.gateway import test_mcp_faults
from tests.gateway.mcp_http import call, result, tool_answer, tool_error
from tests.helpers import skip_unless_available

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("governance_off"),
]
globex = test_mcp_faults.globex

# --- Sample arguments of the catalogue tools (tools-catalog) -------------
CATALOG_READS = [
    "get_alert_grouping_setting",
    "get_business_service_dependencies",
    "get_escalation_policy",
    "get_event_orchestration_service",
    "get_service",
    "get_technical_service_dependencies",
    "get_webhook_subscription",
    "list_alert_grouping_settings",
    "list_business_services",
    "list_escalation_policies",
    "list_services",
    "list_webhook_subscriptions",
]
CATALOG_WRITES = [
    "create_alert_grouping_setting",
    "create_service",
    "create_webhook_subscription",
    "delete_alert_grouping_setting",
    "delete_webhook_subscription",
    "update_alert_grouping_setting",
    "update_service",
    "update_webhook_subscription",
]
CATALOG_TOOLS = CATALOG_READS + CATALOG_WRITES
# The argument naming the object a tool reads or changes, where it takes one.
ID_ARGUMENT = {
    "get_alert_grouping_setting": "setting_id",
    "get_business_service_dependencies": "business_service_id",
    "get_escalation_policy": "policy_id",
    "get_event_orchestration_service": "service_id",
    "get_service": "service_id",
    "get_technical_service_dependencies": "service_id",
    "get_webhook_subscription": "subscription_id",
    "update_service": "service_id",
    "update_alert_grouping_setting": "setting_id",
    "delete_alert_grouping_setting": "setting_id",
    "update_webhook_subscription": "subscription_id",
    "delete_webhook_subscription": "subscription_id",
}
HOSTILE_IDS = ["../users/me", "P1/notes", "P1?x=1", "é", "", "P" * 41]


def plan(sandbox, subdomain="acme", email="alice@acme.example") -> dict:
    """Return pagerduty-mcp's plan arguments per catalogue tool (first call)."""
    with sandbox.state.lock:
        calls = pdmcp.tool_calls(sandbox.state, subdomain=subdomain, email=email)
    arguments = {}
    for item in calls:
        if item["tool"] in CATALOG_TOOLS:
            arguments.setdefault(item["tool"], item["arguments"])
    # In the plan's order: reads, writes, then deletes.
    return arguments


def _ids(data) -> set[str]:
    """Return every `id` in a JSON document (entities and their references)."""
    found = set()
    if isinstance(data, dict):
        if isinstance(data.get("id"), str):
            found.add(data["id"])
        for value in data.values():
            found |= _ids(value)
    elif isinstance(data, list):
        for value in data:
            found |= _ids(value)
    return found


def _account(sandbox, subdomain="acme"):
    state = sandbox.state
    account = state.account_by_subdomain(subdomain)

    def mine(table):
        return [item for item in table.values() if item.account_id == account.id]

    return mine


# --- Reads -----------------------------------------------------------------


def test_catalogue_reads_answer_against_the_sandbox(gateway, token, pagerduty_sandbox):
    arguments = plan(pagerduty_sandbox)
    mine = _account(pagerduty_sandbox)
    with pagerduty_sandbox.state.lock:
        services = {s.id: s for s in mine(pagerduty_sandbox.state.services)}
        policies = {p.id for p in mine(pagerduty_sandbox.state.escalation_policies)}
        business = {b.id for b in mine(pagerduty_sandbox.state.business_services)}
        groupings = mine(pagerduty_sandbox.state.alert_grouping_settings)
        hooks = {w.id for w in mine(pagerduty_sandbox.state.webhook_subscriptions)}

    answers = {
        name: tool_answer(call(gateway.mcp_url, token, name, arguments[name]))
        for name in CATALOG_READS
    }

    listed = answers["list_services"]["response"]
    assert listed
    assert {s["id"] for s in listed} <= set(services)
    assert all("a" in s["name"].lower() for s in listed)
    assert len(listed) <= 10
    service = answers["get_service"]
    assert service["id"] == arguments["get_service"]["service_id"]
    assert service["name"] == services[service["id"]].name
    assert service["escalation_policy"]["id"] == (
        services[service["id"]].escalation_policy_id
    )
    assert {p["id"] for p in answers["list_escalation_policies"]["response"]} <= (
        policies
    )
    policy = answers["get_escalation_policy"]
    assert policy["id"] == arguments["get_escalation_policy"]["policy_id"]
    assert policy["escalation_rules"][0]["targets"]
    assert {b["id"] for b in answers["list_business_services"]["response"]} == (
        business
    )
    for name in (
        "get_technical_service_dependencies",
        "get_business_service_dependencies",
    ):
        asked = next(iter(arguments[name].values()))
        relationships = answers[name]["relationships"]
        assert relationships, name
        assert all(
            asked in (r["supporting_service"]["id"], r["dependent_service"]["id"])
            for r in relationships
        )
    settings = answers["list_alert_grouping_settings"]["response"]
    wanted = arguments["list_alert_grouping_settings"]["service_ids"][0]
    assert {s["id"] for s in settings} == {
        g.id for g in groupings if wanted in g.service_ids
    }
    setting = answers["get_alert_grouping_setting"]
    assert setting["id"] == arguments["get_alert_grouping_setting"]["setting_id"]
    assert setting["type"] in ("time", "intelligent", "content_based")
    assert {w["id"] for w in answers["list_webhook_subscriptions"]["response"]} == (
        hooks
    )
    hook = answers["get_webhook_subscription"]
    assert hook["id"] == arguments["get_webhook_subscription"]["subscription_id"]
    assert "secret" not in json.dumps(hook)
    orchestration = answers["get_event_orchestration_service"]["orchestration_path"]
    assert (
        orchestration["parent"]["id"]
        == (arguments["get_event_orchestration_service"]["service_id"])
    )
    assert orchestration["sets"][0]["id"] == "start"
    rows = ToolCall.objects.filter(outcome="succeeded")
    assert rows.count() == len(CATALOG_READS)


def test_lists_are_capped_and_say_when_more_exist(
    gateway, token, pagerduty_sandbox, settings
):
    settings.MCP_TOOL_MAX_RESULTS = 1

    services = tool_answer(call(gateway.mcp_url, token, "list_services", {"limit": 50}))
    policies = tool_answer(call(gateway.mcp_url, token, "list_escalation_policies"))

    assert len(services["response"]) == 1
    assert services["more"] is True
    assert len(policies["response"]) == 1
    assert policies["more"] is (policies["total"] > 1)


def test_alert_grouping_settings_page_by_cursor(gateway, token, pagerduty_sandbox):
    first = tool_answer(
        call(gateway.mcp_url, token, "list_alert_grouping_settings", {"limit": 1})
    )
    second = tool_answer(
        call(
            gateway.mcp_url,
            token,
            "list_alert_grouping_settings",
            {"limit": 1, "after": first["after"], "total": True},
        )
    )

    assert first["more"] is True
    assert first["after"] == first["response"][0]["id"]
    assert second["response"][0]["id"] != first["response"][0]["id"]
    assert second["total"] >= 2


def test_webhook_filter_type_takes_pagerduty_mcps_reference_names(
    gateway, token, pagerduty_sandbox
):
    plan(pagerduty_sandbox)  # adds a service-scoped subscription

    by_reference = tool_answer(
        call(
            gateway.mcp_url,
            token,
            "list_webhook_subscriptions",
            {"filter_type": "service_reference"},
        )
    )
    by_name = tool_answer(
        call(
            gateway.mcp_url,
            token,
            "list_webhook_subscriptions",
            {"filter_type": "service"},
        )
    )

    assert by_reference["response"] == by_name["response"]
    assert by_reference["response"]
    assert {w["filter"]["type"] for w in by_reference["response"]} == {
        "service_reference"
    }


@pytest.fixture
def pdmcp_python():
    python = pdmcp.pdmcp_python()
    skip_unless_available(python is not None, "no pagerduty-mcp venv")
    return python


def test_reads_name_the_same_entities_as_pagerduty_mcp(
    gateway, token, pagerduty_sandbox, pdmcp_python
):
    arguments = plan(pagerduty_sandbox)
    calls = [{"tool": name, "arguments": arguments[name]} for name in CATALOG_READS]
    theirs = pdmcp.run_probe(
        pdmcp_python,
        "run",
        {
            "api_host": pagerduty_sandbox.url,
            "api_key": pagerduty_sandbox.issue_api_key("alice@acme.example"),
            "control_url": pagerduty_sandbox.url,
            "calls": calls,
        },
    )

    mismatches = []
    for item in theirs:
        assert item["ok"], item
        name = item["tool"]
        their_ids = _ids(json.loads(item["output"]))
        ours = _ids(tool_answer(call(gateway.mcp_url, token, name, arguments[name])))
        # Both name every entity; ours adds the references' IDs PagerDuty
        # sends that pagerduty-mcp's models drop (e.g. an orchestration's
        # creator), never other entities.
        if not their_ids <= ours:
            mismatches.append((name, sorted(their_ids - ours)))
    assert mismatches == [], mismatches
    assert len(theirs) == len(CATALOG_READS)


# --- Writes ----------------------------------------------------------------


def test_catalogue_writes_act_in_the_sandbox_as_the_person(
    gateway, token, alice, pagerduty_sandbox
):
    arguments = plan(pagerduty_sandbox)
    state = pagerduty_sandbox.state

    answers = {
        name: tool_answer(call(gateway.mcp_url, token, name, arguments[name]))
        for name in arguments
        if name in CATALOG_WRITES
    }

    created = answers["create_service"]
    with state.lock:
        service = state.services[created["id"]]
        assert (service.name, service.description) == ("Ledger", "Double-entry ledger")
        updated = state.services[arguments["update_service"]["service_id"]]
        assert updated.description == "Renamed by an agent"
        assert answers["update_service"]["name"] == updated.name
        grouping = state.alert_grouping_settings[
            answers["create_alert_grouping_setting"]["id"]
        ]
        assert (grouping.type, grouping.config) == ("time", {"timeout": 900})
        assert arguments["update_alert_grouping_setting"]["setting_id"] not in (
            state.alert_grouping_settings
        )
        hook = state.webhook_subscriptions[answers["create_webhook_subscription"]["id"]]
        assert hook.url == "http://127.0.0.1:9/hook"
        assert hook.events == ["incident.triggered", "incident.resolved"]
        assert arguments["update_webhook_subscription"]["subscription_id"] not in (
            state.webhook_subscriptions
        )
    assert answers["update_alert_grouping_setting"]["type"] == "content_based"
    assert answers["update_webhook_subscription"]["events"] == ["incident.acknowledged"]
    assert answers["delete_webhook_subscription"]["deleted"] is True
    assert hook.secret not in json.dumps(answers)
    rows = ToolCall.objects.filter(outcome="succeeded")
    assert rows.count() == len(CATALOG_WRITES)
    audit = AuditEvent.objects.filter(action=AuditAction.RESOURCE_CHANGED)
    assert sorted(e.details["operation"] for e in audit) == sorted(
        [
            "alert_grouping_setting_create",
            "alert_grouping_setting_delete",
            "alert_grouping_setting_update",
            "service_change",
            "service_create",
            "webhook_create",
            "webhook_delete",
            "webhook_update",
        ]
    )
    with pagerduty_sandbox.state.lock:
        alice = pagerduty_sandbox.state.user_by_email("alice@acme.example")
    assert {e.details["pd_user_id"] for e in audit} == {alice.id}
    assert all(e.details["via"].startswith("mcp:") for e in audit)
    assert "Double-entry" not in json.dumps(list(ToolCall.objects.values("arguments")))


def test_update_service_changes_only_the_fields_given(
    gateway, token, alice, pagerduty_sandbox
):
    arguments = plan(pagerduty_sandbox)["update_service"]
    with pagerduty_sandbox.state.lock:
        before = pagerduty_sandbox.state.services[arguments["service_id"]]
        name, timeout = before.name, before.acknowledgement_timeout

    tool_answer(call(gateway.mcp_url, token, "update_service", arguments))

    with pagerduty_sandbox.state.lock:
        after = pagerduty_sandbox.state.services[arguments["service_id"]]
        assert (after.name, after.acknowledgement_timeout) == (name, timeout)
        assert after.description == "Renamed by an agent"


@pytest.mark.parametrize(
    ("name", "change", "where"),
    [
        (
            "create_webhook_subscription",
            {"custom_headers": [{"name": "Authorization", "value": "Bearer x"}]},
            "Custom headers",
        ),
        ("create_webhook_subscription", {"url": "file:///etc/passwd"}, "url"),
        ("update_webhook_subscription", {"url": "https://new.example/"}, "cannot"),
    ],
)
def test_webhook_arguments_the_gateway_will_not_send(
    gateway, token, alice, pagerduty_sandbox, name, change, where
):
    arguments = plan(pagerduty_sandbox)[name]
    data = arguments["webhook_data"]
    method = {**data.get("delivery_method", {}), **change}
    bent = {**arguments, "webhook_data": {**data, "delivery_method": method}}
    before = len(pagerduty_sandbox.request_log)

    error = tool_error(call(gateway.mcp_url, token, name, bent))

    assert error["code"] == "invalid_arguments"
    assert where in error["message"]
    assert len(pagerduty_sandbox.request_log) == before


def test_alert_grouping_rules_are_checked_before_pagerduty(
    gateway, token, alice, pagerduty_sandbox
):
    arguments = plan(pagerduty_sandbox)["create_alert_grouping_setting"]
    setting = arguments["create_model"]["alert_grouping_setting"]
    before = len(pagerduty_sandbox.request_log)

    errors = [
        tool_error(
            call(
                gateway.mcp_url,
                token,
                "create_alert_grouping_setting",
                {"create_model": {"alert_grouping_setting": {**setting, **change}}},
            )
        )
        for change in (
            {"config": {"timeout": 10}},
            {"services": [{"id": "../services"}]},
            {"type": "intelligent", "config": {"time_window": 5000}},
        )
    ]

    assert [e["code"] for e in errors] == ["invalid_arguments"] * 3
    assert len(pagerduty_sandbox.request_log) == before


def test_write_tool_annotations_are_precise():
    hints = {
        name: (tool_get(name).destructive, tool_get(name).idempotent)
        for name in CATALOG_WRITES
    }

    assert hints == {
        "create_alert_grouping_setting": (False, False),
        "create_service": (False, False),
        "create_webhook_subscription": (False, False),
        "delete_alert_grouping_setting": (True, True),
        "delete_webhook_subscription": (True, True),
        "update_alert_grouping_setting": (True, True),
        "update_service": (True, True),
        "update_webhook_subscription": (True, True),
    }
    assert all(tool_get(name).read_only for name in CATALOG_READS)


# --- M13: IDs that are not PagerDuty IDs never reach PagerDuty ----------


def test_m13_hostile_ids_in_every_catalogue_tool_never_reach_pagerduty(
    gateway, token, pagerduty_sandbox
):
    arguments = plan(pagerduty_sandbox)
    before = len(pagerduty_sandbox.request_log)
    codes = set()

    for name, key in ID_ARGUMENT.items():
        for value in HOSTILE_IDS:
            bent = {**arguments[name], key: value}
            codes.add(tool_error(call(gateway.mcp_url, token, name, bent))["code"])

    assert codes == {"invalid_arguments"}
    assert len(pagerduty_sandbox.request_log) == before


# --- M09: tenant A's agent with tenant B's IDs ---------------------------


def _globex_objects(sandbox) -> tuple[set[str], str]:
    """Return the IDs of Globex's catalogue objects and a snapshot of them."""
    mine = _account(sandbox, "globex")
    state = sandbox.state
    with state.lock:
        tables = [
            mine(state.services),
            mine(state.escalation_policies),
            mine(state.business_services),
            mine(state.alert_grouping_settings),
            mine(state.webhook_subscriptions),
            mine(state.teams),
        ]
        ids = {item.id for table in tables for item in table}
        snapshot = repr(sorted(repr(item) for table in tables for item in table))
    return ids, snapshot


@pytest.mark.usefixtures("globex")
def test_m09_catalogue_tools_reach_no_data_of_tenant_b(
    gateway, token, pagerduty_sandbox
):
    theirs = plan(pagerduty_sandbox, "globex", "gina@globex.example")
    globex_ids, before = _globex_objects(pagerduty_sandbox)

    answers = {
        name: result(call(gateway.mcp_url, token, name, theirs[name]))
        for name in CATALOG_TOOLS
    }

    leaks = [
        (name, value)
        for name, answer in answers.items()
        for value in globex_ids
        if value in json.dumps(answer)
    ]
    assert leaks == []
    answered = [name for name, answer in answers.items() if not answer["isError"]]
    assert set(answered).isdisjoint(ID_ARGUMENT)
    assert set(answered).isdisjoint(CATALOG_WRITES)
    assert pagerduty_sandbox.count("/eu") == 0
    assert _globex_objects(pagerduty_sandbox)[1] == before
    assert globex_ids


# --- M14: upstream faults, per tool --------------------------------------


@pytest.fixture
def fast_upstream(settings):
    settings.PAGERDUTY_RETRY_BACKOFF = 0.01
    # Short enough that twenty tools time out, retries included, in seconds.
    settings.PAGERDUTY_TIMEOUT = (1.0, 0.1)


@pytest.mark.parametrize(
    ("kind", "code"),
    [
        ("500", "pagerduty_unavailable"),
        ("timeout", "pagerduty_unavailable"),
        ("429", "rate_limited"),
    ],
)
def test_m14_faults_become_retryable_errors_in_every_catalogue_tool(
    gateway, token, pagerduty_sandbox, fast_upstream, kind, code
):
    arguments = plan(pagerduty_sandbox)
    pagerduty_sandbox.add_fault(kind, "/", delay=0.5)

    errors = {
        name: tool_error(call(gateway.mcp_url, token, name, arguments[name]))
        for name in CATALOG_TOOLS
    }

    assert {e["code"] for e in errors.values()} == {code}
    assert all(e["retryable"] for e in errors.values())
    if kind == "429":
        assert all(e["retry_after_seconds"] >= 1 for e in errors.values())
    assert ToolCall.objects.filter(outcome="failed", reason=code).count() == len(
        CATALOG_TOOLS
    )


def test_m14_a_rejected_token_means_one_refresh_then_reconnect_in_every_tool(
    gateway, token, acme, pagerduty_sandbox
):
    arguments = plan(pagerduty_sandbox)
    codes = {}

    for name in CATALOG_TOOLS:
        Connection.objects.filter(tenant=acme).update(
            access_token="not-a-sandbox-token", status=Connection.Status.ACTIVE
        )
        refreshes = pagerduty_sandbox.count("/oauth/token", method="POST")
        codes[name] = tool_error(call(gateway.mcp_url, token, name, arguments[name]))[
            "code"
        ]
        assert pagerduty_sandbox.count("/oauth/token", method="POST") == refreshes + 1

    assert set(codes.values()) == {"reconnect_needed"}


def test_m14_a_scope_pagerduty_refuses_is_named_in_every_tool(
    gateway, token, acme, pagerduty_sandbox
):
    arguments = plan(pagerduty_sandbox)
    Connection.objects.filter(tenant=acme).update(
        access_token=pagerduty_sandbox.issue_token(
            "alice@acme.example", ["incidents.read"]
        )
    )

    errors = {
        name: tool_error(call(gateway.mcp_url, token, name, arguments[name]))
        for name in CATALOG_TOOLS
    }

    for name, error in errors.items():
        assert error["code"] == "pagerduty_scope_missing", name
        assert any(s in error["message"] for s in tool_get(name).pagerduty_scopes)


def test_m14_unknown_ids_are_not_found_in_every_tool_taking_one(
    gateway, token, pagerduty_sandbox
):
    arguments = plan(pagerduty_sandbox)

    codes = {
        name: tool_error(
            call(gateway.mcp_url, token, name, {**arguments[name], key: "PNOSUCH"})
        )["code"]
        for name, key in ID_ARGUMENT.items()
    }

    assert set(codes.values()) == {"not_found"}, codes
