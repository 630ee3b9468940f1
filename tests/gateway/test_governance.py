"""Policies and approvals through the live gateway and the sandbox.

M21, M22, M24, M27 and M29 against the real ASGI app and the PagerDuty sandbox.
"""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from integrations.gateway.conf import SCOPE_WRITE
from integrations.gateway.models import Approval, ToolCall, ToolPolicy
from integrations.gateway.tools import registry
from integrations.models import Environment, Membership
from tests.factories import MembershipFactory, UserFactory
from tests.gateway.mcp_http import call, list_tools, result
from tests.helpers import skip_unless_available

pytestmark = pytest.mark.django_db(transaction=True)


def names(response) -> list[str]:
    return [tool["name"] for tool in result(response)["tools"]]


def rule(tool, action, *, tenant=None, **fields):
    return ToolPolicy.objects.create(
        environment=Environment.objects.get(slug="development"),
        tenant=tenant,
        tool=tool,
        action=action,
        **fields,
    )


def triggered(sandbox) -> str:
    with sandbox.state.lock:
        acme = next(
            a.id for a in sandbox.state.accounts.values() if a.subdomain == "acme"
        )
        return next(
            i.id
            for i in sandbox.state.incidents.values()
            if i.account_id == acme and i.status == "triggered"
        )


def status_of(sandbox, incident_id) -> str:
    with sandbox.state.lock:
        return sandbox.state.incidents[incident_id].status


def puts(sandbox) -> int:
    return sandbox.count("/incidents", method="PUT")


@pytest.fixture
def carol(acme):
    """A second admin of Acme, who decides alice's held calls."""
    return MembershipFactory(
        tenant=acme, user=UserFactory(username="carol"), role=Membership.Role.ADMIN
    ).user


def approve(approval_id, admin, *, decision="approve", reason="ok"):
    browser = Client()
    browser.force_login(admin)
    approval = Approval.objects.get(public_id=approval_id)
    return browser.post(
        reverse(
            "gateway:approval_detail", args=[approval.tenant_id, approval.public_id]
        ),
        {"decision": decision, "reason": reason},
    )


def structured(response) -> dict:
    return result(response)["structuredContent"]


def test_m21_a_deny_rule_hides_the_tool_and_refuses_the_call(
    gateway, token, pagerduty_sandbox
):
    rule("acknowledge_incidents", "deny")
    before = puts(pagerduty_sandbox)

    listed = names(list_tools(gateway.mcp_url, token))
    called = result(
        call(gateway.mcp_url, token, "acknowledge_incidents", {"incident_ids": ["P1"]})
    )

    assert "acknowledge_incidents" not in listed
    assert "list_incidents" in listed
    assert called["isError"] is True
    assert called["structuredContent"]["error"]["code"] == "policy_denied"
    assert "acknowledge_incidents: deny" in called["content"][0]["text"]
    assert puts(pagerduty_sandbox) == before
    audit = ToolCall.objects.get()
    assert (audit.outcome, audit.reason) == ("denied", "policy_denied")
    assert "acknowledge_incidents: deny" in audit.message


def test_m21_a_tenant_deny_applies_to_that_tenant_only(gateway, token, acme):
    rule("list_incidents", "deny", tenant=acme)

    listed = names(list_tools(gateway.mcp_url, token))

    assert "list_incidents" not in listed
    assert ToolPolicy.objects.get().tenant == acme


def test_m22_held_approved_retried_runs_once_as_the_requester(
    gateway, token, pagerduty_sandbox, carol, mailoutbox
):
    rule("acknowledge_incidents", "approval")
    incident = triggered(pagerduty_sandbox)
    arguments = {"incident_ids": [incident]}
    before = puts(pagerduty_sandbox)

    held = structured(call(gateway.mcp_url, token, "acknowledge_incidents", arguments))
    approval_id = held["approval"]["id"]
    early = result(
        call(
            gateway.mcp_url,
            token,
            "acknowledge_incidents",
            {**arguments, "approval_id": approval_id},
        )
    )
    after_hold = puts(pagerduty_sandbox)
    approve(approval_id, carol)
    ran = result(
        call(
            gateway.mcp_url,
            token,
            "acknowledge_incidents",
            {**arguments, "approval_id": approval_id},
        )
    )
    after_run = puts(pagerduty_sandbox)
    again = result(
        call(
            gateway.mcp_url,
            token,
            "acknowledge_incidents",
            {**arguments, "approval_id": approval_id},
        )
    )

    assert held["status"] == "held"
    assert held["approval"]["tool"] == "acknowledge_incidents"
    assert held["approval"]["arguments"] == arguments
    assert held["approval"]["url"].endswith(f"/agents/approvals/{approval_id}/")
    assert f'"approval_id": "{approval_id}"' in held["retry"]
    assert len(mailoutbox) == 1
    assert early["structuredContent"]["error"]["code"] == "approval_pending"
    assert after_hold == before
    assert ran["isError"] is False
    assert ran["structuredContent"] == {"acknowledged": 1, "incident_ids": [incident]}
    assert after_run == before + 1
    assert status_of(pagerduty_sandbox, incident) == "acknowledged"
    assert again["structuredContent"]["error"]["code"] == "approval_used"
    assert puts(pagerduty_sandbox) == before + 1
    assert list(ToolCall.objects.order_by("id").values_list("outcome", "reason")) == [
        ("held", "held"),
        ("refused", "approval_pending"),
        ("succeeded", ""),
        ("refused", "approval_used"),
    ]
    used = Approval.objects.get()
    assert (used.status, used.decided_by) == ("used", carol)
    assert used.used_at is not None


def test_m22_changed_arguments_another_client_or_user_are_refused(
    gateway, token, issue_token, alice, acme, carol, pagerduty_sandbox
):
    rule("acknowledge_incidents", "approval")
    incident = triggered(pagerduty_sandbox)
    held = structured(
        call(
            gateway.mcp_url,
            token,
            "acknowledge_incidents",
            {"incident_ids": [incident]},
        )
    )
    approval_id = held["approval"]["id"]
    approve(approval_id, carol)
    other_client = issue_token(alice, acme).access
    carols_token = issue_token(carol, acme).access
    before = puts(pagerduty_sandbox)

    attempts = [
        (token, {"incident_ids": [incident, "PZZZZZZ"]}),
        (token, {"incident_ids": ["PZZZZZZ"]}),
        (other_client, {"incident_ids": [incident]}),
        (carols_token, {"incident_ids": [incident]}),
        (token, {"incident_ids": [incident], "approval_id": "apr_made_up"}),
        (token, {"incident_ids": [incident], "approval_id": ["not", "a", "string"]}),
    ]
    codes = []
    for bearer, arguments in attempts:
        arguments = {"approval_id": approval_id, **arguments}
        answer = result(
            call(gateway.mcp_url, bearer, "acknowledge_incidents", arguments)
        )
        codes.append(answer["structuredContent"]["error"]["code"])

    assert codes == ["approval_mismatch"] * 6
    assert puts(pagerduty_sandbox) == before
    assert Approval.objects.get().status == "approved"
    # The rightful retry still works after all of those.
    ran = result(
        call(
            gateway.mcp_url,
            token,
            "acknowledge_incidents",
            {"incident_ids": [incident], "approval_id": approval_id},
        )
    )
    assert ran["isError"] is False
    assert puts(pagerduty_sandbox) == before + 1


def test_m22_a_rejected_or_expired_approval_is_refused(
    gateway, token, carol, pagerduty_sandbox
):
    rule("acknowledge_incidents", "approval")
    incident = triggered(pagerduty_sandbox)
    arguments = {"incident_ids": [incident]}
    first = structured(call(gateway.mcp_url, token, "acknowledge_incidents", arguments))
    second = structured(
        call(gateway.mcp_url, token, "acknowledge_incidents", arguments)
    )
    approve(first["approval"]["id"], carol, decision="reject", reason="change freeze")
    approve(second["approval"]["id"], carol)
    Approval.objects.filter(public_id=second["approval"]["id"]).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    before = puts(pagerduty_sandbox)

    rejected = result(
        call(
            gateway.mcp_url,
            token,
            "acknowledge_incidents",
            {**arguments, "approval_id": first["approval"]["id"]},
        )
    )
    expired = result(
        call(
            gateway.mcp_url,
            token,
            "acknowledge_incidents",
            {**arguments, "approval_id": second["approval"]["id"]},
        )
    )

    assert rejected["structuredContent"]["error"]["code"] == "approval_rejected"
    assert "change freeze" in rejected["content"][0]["text"]
    assert expired["structuredContent"]["error"]["code"] == "approval_expired"
    assert puts(pagerduty_sandbox) == before
    assert status_of(pagerduty_sandbox, incident) == "triggered"


def test_m22_the_approval_id_is_not_part_of_the_advertised_schema(gateway, token):
    tools = {t["name"]: t for t in result(list_tools(gateway.mcp_url, token))["tools"]}

    schema = tools["acknowledge_incidents"]["inputSchema"]

    assert "approval_id" not in str(schema)
    assert schema == registry.tool_get("acknowledge_incidents").input_schema


def test_m27_a_policy_change_applies_on_the_next_call(
    gateway, token, alice, acme, pagerduty_sandbox
):
    incident = triggered(pagerduty_sandbox)
    arguments = {"incident_ids": [incident]}
    browser = Client()
    browser.force_login(alice)
    url = reverse("gateway:tenant_policy_list", args=[acme.pk])

    browser.post(url, {"tool": "acknowledge_incidents", "action": "approval"})
    held = structured(call(gateway.mcp_url, token, "acknowledge_incidents", arguments))
    browser.post(url, {"tool": "acknowledge_incidents", "action": "deny"})
    listed = names(list_tools(gateway.mcp_url, token))
    denied = result(call(gateway.mcp_url, token, "acknowledge_incidents", arguments))
    browser.post(url, {"tool": "acknowledge_incidents", "action": ""})
    ran = result(call(gateway.mcp_url, token, "acknowledge_incidents", arguments))

    assert held["status"] == "held"
    assert "acknowledge_incidents" not in listed
    assert denied["structuredContent"]["error"]["code"] == "policy_denied"
    assert ran["isError"] is False
    assert status_of(pagerduty_sandbox, incident) == "acknowledged"


def test_m24_a_rule_on_the_incident_count_holds_through_the_gateway(
    gateway, token, pagerduty_sandbox
):
    rule(
        "acknowledge_incidents",
        "approval",
        conditions=[{"when": "incident_count", "op": "gt", "value": 1}],
    )
    incident = triggered(pagerduty_sandbox)
    before = puts(pagerduty_sandbox)

    two = structured(
        call(
            gateway.mcp_url,
            token,
            "acknowledge_incidents",
            {"incident_ids": [incident, "PQWERTY"]},
        )
    )
    held_puts = puts(pagerduty_sandbox)
    one = result(
        call(
            gateway.mcp_url,
            token,
            "acknowledge_incidents",
            {"incident_ids": [incident]},
        )
    )

    assert two["status"] == "held"
    assert held_puts == before
    assert one["isError"] is False
    assert puts(pagerduty_sandbox) == before + 1
    assert status_of(pagerduty_sandbox, incident) == "acknowledged"


@pytest.fixture
def webhook_tool(monkeypatch):
    """create_webhook_subscription as the catalog helpers will declare it."""
    ran = []

    def handler(ctx, args):
        ran.append(args)
        return {"id": "PWEBHOOK"}

    tool = registry.Tool(
        name="create_webhook_subscription",
        title="Create a webhook subscription",
        description="Create a webhook subscription.",
        input_schema=registry.pagerduty_mcp_schema("create_webhook_subscription"),
        access=SCOPE_WRITE,
        operations=("POST /webhook_subscriptions",),
        handler=handler,
        read_only=False,
        destructive=False,
        idempotent=False,
        compatible=True,
    )
    registry.all_tools()
    monkeypatch.setitem(registry._REGISTRY, tool.name, tool)
    return ran


def _subscription(url):
    return {
        "webhook_data": {
            "delivery_method": {"type": "http_delivery_method", "url": url},
            "events": ["incident.triggered"],
            "filter": {"type": "account_reference"},
        }
    }


def test_m29_a_webhook_to_an_outside_host_is_denied_by_default(
    gateway, token, webhook_tool, settings
):
    settings.MCP_WEBHOOK_ALLOWED_HOSTS = ["hooks.acme.example"]

    outside = result(
        call(
            gateway.mcp_url,
            token,
            "create_webhook_subscription",
            _subscription("https://collector.evil.example/pd"),
        )
    )
    dodged = result(
        call(
            gateway.mcp_url,
            token,
            "create_webhook_subscription",
            _subscription("https://hooks.acme.example@collector.evil.example/"),
        )
    )
    inside = structured(
        call(
            gateway.mcp_url,
            token,
            "create_webhook_subscription",
            _subscription("https://HOOKS.acme.example/pd"),
        )
    )

    assert outside["structuredContent"]["error"]["code"] == "policy_denied"
    assert "collector.evil.example" in outside["content"][0]["text"]
    assert dodged["structuredContent"]["error"]["code"] == "policy_denied"
    assert inside["status"] == "held"
    assert webhook_tool == []
    assert list(ToolCall.objects.order_by("id").values_list("outcome", flat=True)) == [
        "denied",
        "denied",
        "held",
    ]


@pytest.mark.postgres
def test_m22_concurrent_retries_run_the_approved_call_once(
    gateway, token, carol, pagerduty_sandbox
):
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    skip_unless_available(
        connection.vendor == "postgresql",
        "concurrent writes need PostgreSQL: set DATABASE_URL=postgres://…",
    )
    rule("acknowledge_incidents", "approval")
    incident = triggered(pagerduty_sandbox)
    arguments = {"incident_ids": [incident]}
    held = structured(call(gateway.mcp_url, token, "acknowledge_incidents", arguments))
    retry = {**arguments, "approval_id": held["approval"]["id"]}
    approve(held["approval"]["id"], carol)
    before = puts(pagerduty_sandbox)

    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(
            pool.map(
                lambda _: result(
                    call(gateway.mcp_url, token, "acknowledge_incidents", retry)
                ),
                range(6),
            )
        )

    outcomes = sorted(
        "ran" if not a["isError"] else a["structuredContent"]["error"]["code"]
        for a in answers
    )
    assert outcomes == ["approval_used"] * 5 + ["ran"]
    assert puts(pagerduty_sandbox) == before + 1


def test_governance_off_lets_a_tools_own_tests_run_it(
    gateway, token, webhook_tool, governance_off
):
    ran = result(
        call(
            gateway.mcp_url,
            token,
            "create_webhook_subscription",
            _subscription("https://collector.evil.example/pd"),
        )
    )

    assert ran["isError"] is False
    assert len(webhook_tool) == 1
