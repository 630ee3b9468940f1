"""The tool-call log pages: filters, chart, CSV; the masking rule pages."""

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from integrations.gateway.models import MaskingRule, ToolCall
from integrations.gateway.tool_call_log import percentile_95, tool_call_chart
from integrations.models import AuditEvent, Environment
from tests.factories import TenantFactory

pytestmark = pytest.mark.django_db


def record(tenant, *, minutes_ago=5, **fields) -> ToolCall:
    values = {
        "tool": "list_incidents",
        "outcome": "succeeded",
        "protocol_version": "2025-11-25",
        "user_label": "alice",
        "client_label": "Claude",
        **fields,
    }
    return ToolCall.objects.create(
        tenant=tenant,
        created_at=timezone.now() - timedelta(minutes=minutes_ago),
        **values,
    )


@pytest.fixture
def calls(tenant, staging):
    record(tenant, message="row-ok")
    record(tenant, message="row-bob", user_label="bob")
    record(tenant, message="row-cursor", client_label="Cursor")
    record(tenant, message="row-get", tool="get_incident")
    record(tenant, message="row-refused", outcome="refused", reason="budget_exhausted")
    record(tenant, message="row-old", minutes_ago=3 * 24 * 60)
    other = TenantFactory(environment=staging, name="Globex", slug="globex")
    record(other, message="row-globex")


@pytest.mark.parametrize(
    ("query", "shown"),
    [
        ({}, {"ok", "bob", "cursor", "get", "refused", "old"}),
        ({"tool": "get_incident"}, {"get"}),
        ({"user": " BO "}, {"bob"}),
        ({"client": "curs"}, {"cursor"}),
        ({"outcome": "refused"}, {"refused"}),
        (
            {
                "since": f"{timezone.now() - timedelta(days=4):%Y-%m-%dT%H:%M}",
                "until": f"{timezone.now() - timedelta(days=2):%Y-%m-%dT%H:%M}",
            },
            {"old"},
        ),
    ],
)
def test_tenant_admins_filter_their_calls_by_tool_person_agent_outcome_and_time(
    client, tenant, tenant_admin, calls, query, shown
):
    client.force_login(tenant_admin)

    page = client.get(
        reverse("gateway:tenant_tool_call_list", args=[tenant.pk]), query
    ).content.decode()

    everything = {"ok", "bob", "cursor", "get", "refused", "old", "globex"}
    assert {name for name in everything if f"row-{name}<" in page} == shown


def test_members_and_other_tenants_admins_cannot_read_a_tenants_log(
    client, tenant, tenant_member, staging
):
    other = TenantFactory(environment=staging, name="Globex", slug="globex")
    client.force_login(tenant_member)

    page = client.get(reverse("gateway:tenant_tool_call_list", args=[tenant.pk]))
    export = client.get(reverse("gateway:tenant_tool_call_export", args=[tenant.pk]))
    elsewhere = client.get(reverse("gateway:tenant_tool_call_list", args=[other.pk]))

    assert (page.status_code, export.status_code, elsewhere.status_code) == (
        403,
        403,
        404,
    )
    assert not AuditEvent.objects.filter(action="tool_calls.exported").exists()


def test_a_reversed_time_range_is_an_error_not_a_filter(client, tenant, tenant_admin):
    client.force_login(tenant_admin)

    page = client.get(
        reverse("gateway:tenant_tool_call_list", args=[tenant.pk]),
        {"since": "2026-12-06T10:00", "until": "2026-12-06T09:00"},
    )

    assert "“From” must be before “Until”." in page.content.decode()


def test_csv_export_is_streamed_filtered_and_formula_safe(
    client, tenant, tenant_admin, calls
):
    record(
        tenant,
        message='=HYPERLINK("http://evil.example")',
        user_label="+carol",
        arguments={"incident_id": "P1", "note": "[text, 5 chars]"},
        pagerduty_status=404,
        latency_ms=87,
        outcome="failed",
        reason="not_found",
    )
    client.force_login(tenant_admin)

    response = client.get(
        reverse("gateway:tenant_tool_call_export", args=[tenant.pk]),
        {"outcome": "failed"},
    )

    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith(
        'attachment; filename="acme-tool-calls-'
    )
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:6] == ["time_utc", "tenant", "user", "client", "tool", "outcome"]
    assert len(rows) == 2
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["message"] == '\'=HYPERLINK("http://evil.example")'
    assert row["user"] == "'+carol"
    assert row["arguments_masked"] == '{"incident_id": "P1", "note": "[text, 5 chars]"}'
    assert (row["tenant"], row["pagerduty_status"], row["latency_ms"]) == (
        "Acme Corp",
        "404",
        "87",
    )
    event = AuditEvent.objects.get(action="tool_calls.exported")
    assert (event.tenant, event.actor) == (tenant, tenant_admin)


def test_staff_export_every_tenants_calls_or_one_environments(
    client, staff_user, calls, development
):
    client.force_login(staff_user)

    everything = client.get(reverse("gateway:tool_call_export"))
    development_only = client.get(
        reverse("gateway:tool_call_export"), {"environment": development.slug}
    )

    def messages(response):
        text = b"".join(response.streaming_content).decode()
        return {row["message"] for row in csv.DictReader(io.StringIO(text))}

    assert "row-globex" in messages(everything)
    assert messages(development_only) == {
        "row-ok",
        "row-bob",
        "row-cursor",
        "row-get",
        "row-refused",
        "row-old",
    }


@pytest.mark.parametrize(
    ("values", "expected"),
    [([], None), ([5], 5), (list(range(1, 21)), 19), (list(range(100, 0, -1)), 95)],
)
def test_p95_is_the_nearest_rank_percentile(values, expected):
    assert percentile_95(values) == expected


def test_the_chart_counts_calls_refusals_and_p95_per_bucket(tenant):
    since = datetime(2026, 12, 6, 0, 0, tzinfo=UTC)
    until = since + timedelta(hours=24)
    for minute, outcome, latency in [
        (1, "succeeded", 100),
        (2, "refused", 5),
        (3, "denied", 7),
        (4, "held", 9),
        (65, "succeeded", 400),
        (24 * 60 + 5, "succeeded", 1),  # after the range
    ]:
        ToolCall.objects.create(
            tenant=tenant,
            created_at=since + timedelta(minutes=minute),
            tool="list_incidents",
            outcome=outcome,
            latency_ms=latency,
        )

    chart = tool_call_chart(
        ToolCall.objects.filter(tenant=tenant), since=since, until=until
    )

    assert chart.step == timedelta(minutes=30)
    assert len(chart.buckets) == 48
    first, second, third = chart.buckets[:3]
    assert (first.calls, first.refusals, first.p95_ms) == (4, 2, 100)
    assert (second.calls, third.calls, third.p95_ms) == (0, 1, 400)
    assert (chart.total_calls, chart.total_refusals, chart.max_calls) == (5, 2, 4)
    assert chart.max_p95_ms == 400
    assert first.calls_height == pytest.approx(220 - 12 - 28)
    assert first.refusals_height == pytest.approx((220 - 12 - 28) / 2)
    assert third.p95_y == pytest.approx(12)


def test_the_chart_is_inline_svg_without_script_or_style(
    client, tenant, tenant_admin, calls
):
    client.force_login(tenant_admin)

    response = client.get(reverse("gateway:tenant_tool_call_list", args=[tenant.pk]))

    page = response.content.decode()
    chart = response.context["chart"]
    svg = page[page.index('<svg class="call-chart-svg"') : page.index("</svg>")]
    # The last 24 hours in 30-minute buckets aligned on the half hour.
    assert chart.step == timedelta(minutes=30)
    assert svg.count('<rect class="call-chart-calls"') == len(chart.buckets) >= 48
    assert svg.count('<rect class="call-chart-refusals"') == 1
    assert '<polyline class="call-chart-p95"' in svg
    assert "5 calls, 1 refused" in svg
    assert "style=" not in svg
    assert "<script" not in svg
    assert re.findall(r"<script(?![^>]*\bsrc=)", page) == []  # no inline script


def test_admins_add_and_remove_masking_rules_audited(client, tenant, tenant_admin):
    client.force_login(tenant_admin)
    url = reverse("gateway:tenant_masking", args=[tenant.pk])

    added = client.post(url, {"kind": "pattern", "value": r"ACME-\d+", "tool": ""})
    rule = MaskingRule.objects.get()
    removed = client.post(
        reverse("gateway:tenant_masking_delete", args=[tenant.pk, rule.pk])
    )

    assert added.status_code == removed.status_code == 302
    assert (rule.tenant, rule.environment, rule.created_by) == (
        tenant,
        None,
        tenant_admin,
    )
    assert not MaskingRule.objects.exists()
    events = list(
        AuditEvent.objects.filter(action__startswith="masking_rule.")
        .order_by("id")
        .values_list("action", "tenant", "details")
    )
    details = {"kind": "pattern", "value": r"ACME-\d+", "tool": "*"}
    assert events == [
        ("masking_rule.added", tenant.pk, details),
        ("masking_rule.removed", tenant.pk, details),
    ]


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"kind": "pattern", "value": "(a+)+"}, "Repetition inside repetition"),
        ({"kind": "pattern", "value": "("}, "Not a valid regular expression"),
        ({"kind": "field", "value": "a b"}, "Name a field"),
        ({"kind": "email", "tool": "no_such_tool"}, "Select a valid choice"),
    ],
)
def test_invalid_masking_rules_are_refused_with_the_reason(
    client, tenant, tenant_admin, data, error
):
    client.force_login(tenant_admin)

    page = client.post(reverse("gateway:tenant_masking", args=[tenant.pk]), data)

    assert page.status_code == 200
    assert error in page.content.decode()
    assert not MaskingRule.objects.exists()


def test_members_cannot_change_masking_and_csrf_is_required(
    tenant, tenant_member, tenant_admin
):
    member = Client()
    member.force_login(tenant_member)
    admin = Client(enforce_csrf_checks=True)
    admin.force_login(tenant_admin)
    url = reverse("gateway:tenant_masking", args=[tenant.pk])

    by_member = member.post(url, {"kind": "email"})
    without_token = admin.post(url, {"kind": "email"})

    assert (by_member.status_code, without_token.status_code) == (403, 403)
    assert not MaskingRule.objects.exists()


def test_staff_rules_apply_to_every_tenant_and_tenants_cannot_remove_them(
    client, tenant, tenant_admin, staff_user, development
):
    client.force_login(staff_user)
    client.post(
        reverse("gateway:environment_masking", args=[development.slug]),
        {"kind": "email", "tool": ""},
    )
    rule = MaskingRule.objects.get()
    client.force_login(tenant_admin)

    page = client.get(
        reverse("gateway:tenant_masking", args=[tenant.pk])
    ).content.decode()
    removal = client.post(
        reverse("gateway:tenant_masking_delete", args=[tenant.pk, rule.pk])
    )

    assert (rule.environment, rule.tenant) == (development, None)
    inherited = page[page.index('id="inherited-rules"') : page.index('id="own-rules"')]
    assert "Email addresses" in inherited
    assert "<form" not in inherited
    assert removal.status_code == 404
    assert MaskingRule.objects.filter(pk=rule.pk).exists()
    assert Environment.objects.get(slug="development").masking_rules.count() == 1
