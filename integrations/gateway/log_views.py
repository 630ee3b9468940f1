"""The tool-call log: per tenant (its admins) and per environment (staff).

Filters by tool, person, agent, outcome and time; a chart of calls,
refusals and p95 latency drawn as inline SVG; a streamed CSV export.
"""

from datetime import timedelta

from django.contrib.auth.decorators import login_required
from django.http import StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache

from integrations.gateway.forms import ToolCallFilterForm
from integrations.gateway.models import ToolCall
from integrations.gateway.selectors import tool_call_list as calls_of
from integrations.gateway.tool_call_log import tool_call_chart, tool_call_csv
from integrations.gateway.views import _paged
from integrations.models import AuditAction
from integrations.selectors import (
    environment_list_for_request,
    membership_get_for_request_or_404,
)
from integrations.services.audit import audit_record
from integrations.views.staff import staff_required

# The chart's range when the filters give no start.
DEFAULT_RANGE = timedelta(hours=24)


def _chart(calls, filters: dict):
    until = filters.get("until") or timezone.now()
    since = filters.get("since") or until - DEFAULT_RANGE
    return tool_call_chart(calls, since=since, until=until)


def _admin_membership(request, tenant_id: int):
    """Return the user's membership if they administer the tenant, else None."""
    membership = membership_get_for_request_or_404(request=request, tenant_id=tenant_id)
    return membership if membership.is_admin else None


def _csv_response(request, calls, *, name: str, environment=None, tenant=None):
    audit_record(
        actor=request.user,
        action=AuditAction.TOOL_CALLS_EXPORTED,
        target=name,
        environment=environment,
        tenant=tenant,
        details={"query": request.GET.urlencode()[:500]},
    )
    response = StreamingHttpResponse(
        tool_call_csv(calls), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response


def _filename(prefix: str) -> str:
    return f"{prefix}-tool-calls-{timezone.now():%Y%m%d-%H%M}.csv"


@login_required
@never_cache
def tenant_tool_call_list(request, tenant_id: int):
    """Show a tenant's tool calls to its admins: filters, chart, pages."""
    membership = _admin_membership(request, tenant_id)
    if membership is None:
        return render(request, "portal/forbidden.html", status=403)
    form = ToolCallFilterForm(request.GET or None)
    filters = form.filters()
    calls = calls_of(tenant=membership.tenant, **filters)
    return render(
        request,
        "gateway/tenant_tool_call_list.html",
        {
            "tenant": membership.tenant,
            "membership": membership,
            "form": form,
            "chart": _chart(calls, filters),
            **_paged(request, calls),
            "filtered": any(filters.values()),
        },
    )


@login_required
@never_cache
def tenant_tool_call_export(request, tenant_id: int):
    """Export a tenant's filtered tool calls as CSV (its admins)."""
    membership = _admin_membership(request, tenant_id)
    if membership is None:
        return render(request, "portal/forbidden.html", status=403)
    form = ToolCallFilterForm(request.GET or None)
    tenant = membership.tenant
    return _csv_response(
        request,
        calls_of(tenant=tenant, **form.filters()),
        name=_filename(tenant.slug),
        environment=tenant.environment,
        tenant=tenant,
    )


@staff_required
def tool_call_list(request):
    """Show every agent's tool calls (staff): filters, chart, pages."""
    form = ToolCallFilterForm(request.GET or None, staff=True)
    filters = form.filters()
    calls = calls_of(**filters)
    return render(
        request,
        "gateway/tool_call_list.html",
        {
            "form": form,
            "chart": _chart(calls, filters),
            **_paged(request, calls),
            "filtered": any(filters.values()),
            "outcomes": ToolCall.Outcome,
            "environments": environment_list_for_request(request=request),
        },
    )


@staff_required
def tool_call_export(request):
    """Export the filtered tool calls of every tenant as CSV (staff)."""
    form = ToolCallFilterForm(request.GET or None, staff=True)
    filters = form.filters()
    environment = filters.get("environment")
    return _csv_response(
        request,
        calls_of(**filters),
        name=_filename(environment.slug if environment else "all"),
        environment=environment,
        tenant=filters.get("tenant"),
    )
