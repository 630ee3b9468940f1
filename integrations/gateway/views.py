"""The AI agents pages: connect an agent, see and revoke agents, their calls."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from integrations.gateway import conf
from integrations.gateway.forms import ToolCallFilterForm
from integrations.gateway.selectors import (
    agent_get,
    tool_visibility,
)
from integrations.gateway.selectors import (
    agent_list as agents_of,
)
from integrations.gateway.selectors import (
    tool_call_list as calls_of,
)
from integrations.gateway.services import agent_authorization_revoke
from integrations.selectors import (
    connection_get_live,
    membership_get_for_request_or_404,
)

PAGE_SIZE = 50


def _paged(request, calls) -> dict:
    """Return the requested page of calls and the filters to keep in links."""
    query = request.GET.copy()
    query.pop("page", None)
    return {
        "page": Paginator(calls, PAGE_SIZE).get_page(request.GET.get("page")),
        "filter_query": query.urlencode(),
    }


def _agent_or_404(request, membership, agent_id: int):
    """Return an agent the user may manage: their own, or any as tenant admin."""
    agent = agent_get(tenant=membership.tenant, agent_id=agent_id)
    if agent is None or not (membership.is_admin or agent.user_id == request.user.pk):
        raise Http404("No agent matches the given query.")
    return agent


@login_required
@never_cache
def agent_list(request, tenant_id: int):
    """Show how to connect an agent, the tools it gets, and the agents."""
    membership = membership_get_for_request_or_404(request=request, tenant_id=tenant_id)
    tenant = membership.tenant
    connection = connection_get_live(tenant=tenant)
    everyone = membership.is_admin
    agents = agents_of(tenant=tenant, user=None if everyone else request.user)
    calls = calls_of(tenant=tenant)
    if not everyone:
        calls = calls.filter(authorization__user=request.user)
    return render(
        request,
        "gateway/agent_list.html",
        {
            "tenant": tenant,
            "membership": membership,
            "connection": connection,
            "mcp_url": conf.resource_url_for(tenant.environment.base_url),
            "tool_rows": tool_visibility(connection=connection),
            "agents": agents,
            "calls": calls[:20],
            "everyone": everyone,
        },
    )


@login_required
@never_cache
def agent_detail(request, tenant_id: int, agent_id: int):
    """Show one agent and its tool calls, filterable by tool and outcome."""
    membership = membership_get_for_request_or_404(request=request, tenant_id=tenant_id)
    agent = _agent_or_404(request, membership, agent_id)
    form = ToolCallFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    calls = calls_of(
        tenant=membership.tenant,
        authorization=agent,
        tool=filters.get("tool", ""),
        outcome=filters.get("outcome", ""),
    )
    return render(
        request,
        "gateway/agent_detail.html",
        {
            "tenant": membership.tenant,
            "membership": membership,
            "agent": agent,
            "form": form,
            **_paged(request, calls),
        },
    )


@login_required
@require_POST
def agent_revoke(request, tenant_id: int, agent_id: int):
    """Revoke an agent: its next request is refused (401)."""
    membership = membership_get_for_request_or_404(request=request, tenant_id=tenant_id)
    agent = _agent_or_404(request, membership, agent_id)
    agent_authorization_revoke(
        authorization=agent, reason="revoked in the portal", actor=request.user
    )
    messages.success(
        request,
        _("%(client)s can no longer act for %(user)s in %(tenant)s.")
        % {
            "client": agent.client.display_name,
            "user": agent.user.get_username(),
            "tenant": agent.tenant.name,
        },
    )
    return redirect("gateway:agent_list", tenant_id=membership.tenant_id)
