"""Budgets: calls per minute per tenant, user, client and tool (M25)."""

import os
import socket
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.cache import cache, caches
from django.db import connection as db_connection
from django.urls import reverse

from integrations.gateway.models import AgentBudget, ToolCall
from integrations.gateway.tools.budgets import budget_consume, budget_limits
from integrations.models import AuditEvent, Environment, Membership
from tests.factories import MembershipFactory, TenantFactory, UserFactory
from tests.gateway.conftest import connect_to_sandbox
from tests.gateway.mcp_http import call, result
from tests.helpers import skip_unless_available

pytestmark = pytest.mark.django_db(transaction=True)

NO_LIMIT = {"tenant": 0, "user": 0, "client": 0, "tool": 0}


def fresh_window() -> None:
    """Wait for a new minute if this one ends too soon for the test."""
    left = 60 - time.time() % 60
    if left < 8:
        time.sleep(left + 0.1)


@pytest.fixture
def budgets(settings):
    def set_budgets(**limits):
        settings.MCP_BUDGETS = {**NO_LIMIT, **limits}
        cache.clear()
        fresh_window()

    yield set_budgets
    cache.clear()


@pytest.fixture
def globex_token(issue_token, pagerduty_sandbox):
    tenant = TenantFactory(
        environment=Environment.objects.get(slug="development"),
        name="Globex",
        slug="globex",
    )
    connect_to_sandbox(tenant, pagerduty_sandbox)
    gina = UserFactory(username="gina")
    MembershipFactory(tenant=tenant, user=gina, role=Membership.Role.ADMIN)
    return issue_token(gina, tenant).access


def test_m25_call_n_plus_1_per_tenant_and_tool_is_refused_with_a_retry_time(
    gateway, token, budgets, pagerduty_sandbox
):
    budgets(tool=3)
    for _ in range(3):
        ok = result(call(gateway.mcp_url, token, "list_incidents", {"limit": 1}))
        assert ok["isError"] is False
    before = pagerduty_sandbox.count("/incidents", method="GET")

    refused = result(call(gateway.mcp_url, token, "list_incidents", {"limit": 1}))

    assert refused["isError"] is True
    error = refused["structuredContent"]["error"]
    assert error["code"] == "budget_exhausted"
    assert error["retryable"] is True
    assert 1 <= error["retry_after_seconds"] <= 60
    assert f"retry after {error['retry_after_seconds']} s" in error["message"]
    assert "list_incidents" in error["message"]
    assert pagerduty_sandbox.count("/incidents", method="GET") == before
    last = ToolCall.objects.order_by("-id").first()
    assert (last.outcome, last.reason) == ("refused", "budget_exhausted")
    assert (
        list(ToolCall.objects.values_list("outcome", flat=True)).count("succeeded") == 3
    )


def test_m25_other_tools_and_other_tenants_keep_their_budgets(
    gateway, token, globex_token, budgets
):
    budgets(tool=2)
    for _ in range(2):
        result(call(gateway.mcp_url, token, "list_incidents", {"limit": 1}))
    exhausted = result(call(gateway.mcp_url, token, "list_incidents", {"limit": 1}))

    other_tool = result(call(gateway.mcp_url, token, "who_is_on_call", {}))
    other_tenant = result(
        call(gateway.mcp_url, globex_token, "list_incidents", {"limit": 1})
    )

    assert exhausted["structuredContent"]["error"]["code"] == "budget_exhausted"
    assert other_tool["isError"] is False
    assert other_tenant["isError"] is False


def test_m25_the_tenant_budget_covers_every_tool_and_refusals_cost_nothing(
    gateway, token, budgets
):
    budgets(tenant=3, tool=1)
    first = result(call(gateway.mcp_url, token, "list_incidents", {"limit": 1}))
    tool_spent = result(call(gateway.mcp_url, token, "list_incidents", {"limit": 1}))

    # The refused call gave its tenant unit back: two more calls fit.
    second = result(call(gateway.mcp_url, token, "who_is_on_call", {}))
    third = result(call(gateway.mcp_url, token, "get_incident", {"incident_id": "PX1"}))
    tenant_spent = result(
        call(gateway.mcp_url, token, "get_incident", {"incident_id": "PX2"})
    )

    assert first["isError"] is False
    assert tool_spent["structuredContent"]["error"]["code"] == "budget_exhausted"
    assert second["isError"] is False
    assert third["structuredContent"]["error"]["code"] == "not_found"
    error = tenant_spent["structuredContent"]["error"]
    assert error["code"] == "budget_exhausted"
    assert error["message"].startswith(
        "The budget of 3 calls a minute for this tenant is used up"
    )


@pytest.mark.parametrize("kind", ["tenant", "user", "client", "tool"])
def test_budget_consume_refuses_past_each_limit_and_reopens_next_minute(settings, kind):
    settings.MCP_BUDGETS = {**NO_LIMIT, kind: 2}
    cache.clear()
    start = 1_800_000_000.0  # the start of a minute
    who = {"tenant_id": 1, "user_id": 2, "client_id": 3, "tool": "list_incidents"}

    answers = [budget_consume(**who, now=start + 10 + i) for i in range(3)]
    next_minute = budget_consume(**who, now=start + 60)

    assert answers[:2] == [None, None]
    assert (answers[2].kind, answers[2].limit, answers[2].retry_after) == (
        kind,
        2,
        48,
    )
    assert next_minute is None


def _redis_reachable() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        return False
    return True


@pytest.fixture
def redis_cache(settings):
    skip_unless_available(_redis_reachable(), "no Redis server on 127.0.0.1:6379")
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ.get("REDIS_BUDGET_URL", "redis://127.0.0.1:6379/7"),
            "KEY_PREFIX": f"budgets-test-{os.getpid()}",
        }
    }
    yield caches["default"]
    caches["default"].clear()


def test_m25_twenty_concurrent_budget_checks_on_redis_exactly_n_pass(
    redis_cache, settings
):
    settings.MCP_BUDGETS = {**NO_LIMIT, "tool": 5, "tenant": 50}
    fresh_window()
    who = {"tenant_id": 1, "user_id": 2, "client_id": 3, "tool": "list_incidents"}

    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(lambda _: budget_consume(**who), range(20)))

    assert answers.count(None) == 5
    assert {answer.kind for answer in answers if answer is not None} == {"tool"}
    # Refusals gave their tenant units back.
    assert redis_cache.get(f"mcp-budget:tenant:1:{int(time.time() // 60)}") == 5


@pytest.mark.postgres
def test_m25_twenty_concurrent_callers_on_redis_exactly_n_pass(
    redis_cache, gateway, token, budgets, pagerduty_sandbox
):
    skip_unless_available(
        db_connection.vendor == "postgresql",
        "concurrent writes need PostgreSQL: set DATABASE_URL=postgres://…",
    )
    budgets(tool=5)
    before = pagerduty_sandbox.count("/incidents", method="GET")

    def one_call(_):
        answer = result(call(gateway.mcp_url, token, "list_incidents", {"limit": 1}))
        if answer["isError"]:
            return answer["structuredContent"]["error"]["code"]
        return "ok"

    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(one_call, range(20)))

    assert answers.count("ok") == 5
    assert answers.count("budget_exhausted") == 15
    # Reads may be served from the portal's PagerDuty read cache.
    assert pagerduty_sandbox.count("/incidents", method="GET") - before <= 5
    outcomes = list(ToolCall.objects.values_list("outcome", "reason"))
    assert sorted(outcomes) == sorted(
        [("succeeded", "")] * 5 + [("refused", "budget_exhausted")] * 15
    )


@pytest.mark.usefixtures("seeded_environments")
def test_an_environments_own_budgets_replace_the_defaults_field_by_field(
    settings, development, staging
):
    settings.MCP_BUDGETS = {"tenant": 240, "user": 120, "client": 120, "tool": 60}
    cache.clear()
    AgentBudget.objects.create(environment=development, tool=5, tenant=None)

    own = budget_limits(environment_id=development.pk)
    default = budget_limits(environment_id=staging.pk)

    assert own == {"tenant": 240, "user": 120, "client": 120, "tool": 5}
    assert default == {"tenant": 240, "user": 120, "client": 120, "tool": 60}


@pytest.mark.usefixtures("seeded_environments")
def test_m25_staff_change_an_environments_budgets_on_the_next_call(
    client, staff_user, development, settings
):
    settings.MCP_BUDGETS = {"tenant": 240, "user": 120, "client": 120, "tool": 60}
    cache.clear()
    assert budget_limits(environment_id=development.pk)["tool"] == 60  # cached
    client.force_login(staff_user)
    url = reverse("gateway:environment_budgets", args=[development.slug])

    page = client.get(url).content.decode()
    saved = client.post(url, {"tenant": "", "user": "", "client": "", "tool": "2"})
    too_high = client.post(
        url, {"tenant": "5000", "user": "", "client": "", "tool": ""}
    )

    assert 'placeholder="60"' in page
    assert saved.status_code == 302
    assert budget_limits(environment_id=development.pk)["tool"] == 2
    assert too_high.status_code == 200
    assert "less than or equal to 960" in too_high.content.decode()
    assert AgentBudget.objects.get(environment=development).tenant is None
    event = AuditEvent.objects.get(action="agent_budget.changed")
    assert event.details == {
        "before": {"tenant": None, "user": None, "client": None, "tool": None},
        "after": {"tenant": None, "user": None, "client": None, "tool": 2},
    }
    assert event.environment == development


@pytest.mark.usefixtures("seeded_environments")
def test_only_staff_change_budgets(client, tenant_admin, development):
    client.force_login(tenant_admin)

    response = client.post(
        reverse("gateway:environment_budgets", args=[development.slug]), {"tool": "1"}
    )

    assert response.status_code == 403
    assert not AgentBudget.objects.exists()


def test_m25_held_calls_count_and_a_denied_call_does_not(
    gateway, token, budgets, settings, pagerduty_sandbox
):
    budgets(tool=1)
    arguments = {"incident_ids": ["P1"]}
    settings.MCP_GOVERNANCE_POLICY = "tests.gateway.policies.deny_acknowledge"
    denied = result(call(gateway.mcp_url, token, "acknowledge_incidents", arguments))
    settings.MCP_GOVERNANCE_POLICY = "tests.gateway.policies.hold_acknowledge"

    held = result(call(gateway.mcp_url, token, "acknowledge_incidents", arguments))
    flood = result(call(gateway.mcp_url, token, "acknowledge_incidents", arguments))

    assert denied["structuredContent"]["error"]["code"] == "policy_denied"
    assert held["structuredContent"]["status"] == "held"
    assert flood["structuredContent"]["error"]["code"] == "budget_exhausted"
    assert pagerduty_sandbox.count("/incidents", method="PUT") == 0
    assert list(ToolCall.objects.order_by("id").values_list("outcome", "reason")) == [
        ("denied", "policy_denied"),
        ("held", "held"),
        ("refused", "budget_exhausted"),
    ]
