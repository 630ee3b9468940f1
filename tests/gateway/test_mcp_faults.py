"""Upstream faults (M14), tenant isolation (M09) and secrets (M15), framework level.

The tools task repeats these per tool; here one representative tool per
path through the runner shows what an agent is told and what is recorded.
"""

import json
import logging

import pytest
import requests
from django.test import Client
from django.urls import reverse

from integrations.gateway.models import AgentAuthorization, ToolCall
from integrations.models import AuditEvent, Connection, Environment, Membership
from tests.factories import CLIENT_SECRET, MembershipFactory, TenantFactory, UserFactory
from tests.gateway.conftest import connect_to_sandbox
from tests.gateway.harness import register
from tests.gateway.mcp_http import (
    LEGACY,
    call,
    list_tools,
    result,
    tool_error,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def fast_upstream(settings):
    settings.PAGERDUTY_RETRY_BACKOFF = 0.01
    settings.PAGERDUTY_TIMEOUT = (1.0, 0.4)


@pytest.mark.parametrize(
    ("kind", "code", "retryable"),
    [
        ("500", "pagerduty_unavailable", True),
        ("timeout", "pagerduty_unavailable", True),
        ("429", "rate_limited", True),
    ],
)
def test_m14_upstream_failures_become_retryable_errors(
    gateway, token, pagerduty_sandbox, fast_upstream, kind, code, retryable
):
    pagerduty_sandbox.add_fault(kind, "/incidents", delay=1.0)

    error = tool_error(call(gateway.mcp_url, token, "list_incidents", {"limit": 1}))

    assert error["code"] == code
    assert error["retryable"] is retryable
    if kind == "429":
        assert error["retry_after_seconds"] >= 1
        assert "retry after" in error["message"]
    row = ToolCall.objects.get()
    assert (row.outcome, row.reason) == ("failed", code)


def test_m14_a_rejected_token_means_one_refresh_then_reconnect_needed(
    gateway, token, acme, pagerduty_sandbox
):
    Connection.objects.filter(tenant=acme).update(access_token="not-a-sandbox-token")

    error = tool_error(call(gateway.mcp_url, token, "list_incidents", {"limit": 1}))

    assert error["code"] == "reconnect_needed"
    assert "needs a reconnect" in error["message"]
    assert pagerduty_sandbox.count("/oauth/token", method="POST") == 1
    assert (
        Connection.objects.get(tenant=acme).status == Connection.Status.NEEDS_RECONNECT
    )


def test_m14_a_scope_pagerduty_refuses_is_named(
    gateway, issue_token, alice, acme, pagerduty_sandbox
):
    Connection.objects.filter(tenant=acme).update(
        access_token=pagerduty_sandbox.issue_token(
            "alice@acme.example", ["incidents.read"]
        )
    )
    agent = issue_token(alice, acme).access

    error = tool_error(call(gateway.mcp_url, agent, "who_is_on_call"))

    assert error["code"] == "pagerduty_scope_missing"
    assert "oncalls.read" in error["message"]
    assert ToolCall.objects.get().pagerduty_status == 403


def test_m14_unknown_ids_are_not_found(gateway, token):
    error = tool_error(
        call(gateway.mcp_url, token, "get_incident", {"incident_id": "PNOSUCH"})
    )

    assert error["code"] == "not_found"


def test_m14_ids_that_are_not_pagerduty_ids_never_reach_pagerduty(
    gateway, token, pagerduty_sandbox
):
    before = len(pagerduty_sandbox.request_log)

    errors = [
        tool_error(call(gateway.mcp_url, token, "get_incident", {"incident_id": value}))
        for value in ("../users/me", "P1/notes", "P1?x=1", "é", "")
    ]

    assert {e["code"] for e in errors} == {"invalid_arguments"}
    assert len(pagerduty_sandbox.request_log) == before


@pytest.fixture
def globex(gateway, pagerduty_sandbox):
    """Tenant B: Globex, on the sandbox's EU account, with its own member."""
    tenant = TenantFactory(
        environment=Environment.objects.get(slug="development"),
        name="Globex",
        slug="globex",
    )
    token = pagerduty_sandbox.issue_token("gina@globex.example")
    with pagerduty_sandbox.state.lock:
        account = next(
            a
            for a in pagerduty_sandbox.state.accounts.values()
            if a.subdomain == "globex"
        )
        incident_ids = [
            i.id
            for i in pagerduty_sandbox.state.incidents.values()
            if i.account_id == account.id
        ][:3]
    connection = connect_to_sandbox(tenant, pagerduty_sandbox)
    Connection.objects.filter(pk=connection.pk).update(
        access_token=token, api_url=pagerduty_sandbox.eu_api_url, region="eu"
    )
    MembershipFactory(tenant=tenant, user=UserFactory(username="gina"))
    tenant.incident_ids = incident_ids
    return tenant


def test_m09_an_agent_of_tenant_a_reaches_no_data_of_tenant_b(
    gateway, token, globex, pagerduty_sandbox
):
    before = {
        i: pagerduty_sandbox.state.incidents[i].status for i in globex.incident_ids
    }
    cells = 0
    answers = []
    for incident_id in globex.incident_ids:
        answers.append(
            call(gateway.mcp_url, token, "get_incident", {"incident_id": incident_id})
        )
        answers.append(
            call(
                gateway.mcp_url,
                token,
                "acknowledge_incidents",
                {"incident_ids": [incident_id]},
            )
        )
        cells += 2
    listed = result(call(gateway.mcp_url, token, "list_incidents", {"limit": 100}))
    cells += 1

    assert all(result(a)["isError"] for a in answers)
    assert not {i["id"] for i in listed["structuredContent"]["response"]} & set(
        globex.incident_ids
    )
    assert pagerduty_sandbox.count("/eu") == 0
    after = {
        i: pagerduty_sandbox.state.incidents[i].status for i in globex.incident_ids
    }
    assert after == before
    assert cells == 7


def test_m15_canary_secrets_reach_no_answer_row_log_or_admin_page(
    gateway, issue_token, alice, acme, pagerduty_sandbox, caplog, admin_user
):
    caplog.set_level(logging.DEBUG)
    Connection.objects.filter(tenant=acme).update(refresh_token="CANARY-RT-gateway-pd")
    pd_access = Connection.objects.get(tenant=acme).access_token
    writer = issue_token(alice, acme)
    reader = issue_token(alice, acme, read_only=True)
    confidential = register(
        gateway.url, token_endpoint_auth_method="client_secret_basic"
    ).json()
    answers = [
        list_tools(gateway.mcp_url, writer.access),
        call(gateway.mcp_url, writer.access, "list_incidents", {"limit": 2}),
        call(
            gateway.mcp_url, writer.access, "get_incident", {"incident_id": "PNOSUCH"}
        ),
        call(
            gateway.mcp_url,
            writer.access,
            "get_incident",
            {"incident_id": writer.access},
        ),
        call(
            gateway.mcp_url,
            reader.access,
            "acknowledge_incidents",
            {"incident_ids": ["P1"]},
        ),
        call(
            gateway.mcp_url,
            reader.access,
            "acknowledge_incidents",
            {"incident_ids": ["P1"]},
            version=LEGACY,
        ),
        list_tools(gateway.mcp_url, pd_access),
        list_tools(gateway.mcp_url, "CANARY-made-up-token"),
        requests.get(f"{gateway.url}/o/authorize/?client_id=x", timeout=10),
    ]
    admin = Client()
    admin.force_login(admin_user)
    pages = [
        admin.get(reverse(name))
        for name in (
            "admin:gateway_toolcall_changelist",
            "admin:gateway_agentauthorization_changelist",
            "admin:gateway_client_changelist",
            "admin:oauth2_provider_accesstoken_changelist",
            "admin:oauth2_provider_refreshtoken_changelist",
        )
    ]
    pages += [
        admin.get(reverse("admin:gateway_client_change", args=[pk]))
        for pk in AgentAuthorization.objects.values_list("client_id", flat=True)
    ]
    sinks = "\n".join(
        [
            *(answer.text + json.dumps(dict(answer.headers)) for answer in answers),
            *(page.content.decode() for page in pages),
            json.dumps(list(ToolCall.objects.values()), default=str),
            json.dumps(list(AgentAuthorization.objects.values()), default=str),
            json.dumps(list(AuditEvent.objects.values()), default=str),
            caplog.text,
        ]
    )

    canaries = {
        "mcp access (write)": writer.access,
        "mcp refresh (write)": writer.refresh,
        "mcp access (read)": reader.access,
        "registration token": confidential["registration_access_token"],
        "client secret (MCP)": confidential["client_secret"],
        "client secret (PagerDuty app)": CLIENT_SECRET,
        "pagerduty access": pd_access,
        "pagerduty refresh": "CANARY-RT-gateway-pd",
    }
    assert [name for name, value in canaries.items() if value in sinks] == []
    assert all(page.status_code == 200 for page in pages)
    assert tool_error(answers[3])["code"] == "token_in_arguments"
    assert Membership.objects.filter(user=alice).exists()
