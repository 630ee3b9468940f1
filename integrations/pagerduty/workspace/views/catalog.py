"""Service pages: the list, the detail, create, edit, enable, disable, delete."""

from __future__ import annotations

from urllib.parse import quote, urlencode

from django.contrib import messages
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from integrations.exceptions import PagerDutyError
from integrations.pagerduty.scopes import Scope
from integrations.pagerduty.workspace import forms as ws_forms
from integrations.pagerduty.workspace import selectors, services
from integrations.pagerduty.workspace.access import WorkspaceError, describe_error
from integrations.pagerduty.workspace.context import Workspace
from integrations.pagerduty.workspace.views.base import (
    ID_PLACEHOLDER,
    page_number,
    perform,
    posted,
    render_page,
    simple_action,
    url,
    workspace_page,
)

# A service's own status says whether it has open incidents (critical:
# triggered, warning: acknowledged), so the list links there instead of
# tallying every open incident: one upstream call per page.
OPEN_STATUS_TABS = {"critical": "triggered", "warning": "acknowledged"}
PER_PAGE = 25


@workspace_page("services", Scope.SERVICES_READ)
def service_list(request, ws: Workspace):
    """List services with status, policy and teams: one upstream call."""
    query = request.GET.get("q", "")[:100]
    number = page_number(request)
    page = selectors.service_list(
        ws=ws, query=query, offset=(number - 1) * PER_PAGE, limit=PER_PAGE
    )
    incidents_url = url("incident_list", ws) if ws.can(Scope.INCIDENTS_READ) else ""
    detail = url("service_detail", ws, ID_PLACEHOLDER)
    rows = []
    for service in page.services:
        tab = OPEN_STATUS_TABS.get(service.status)
        open_url = ""
        if tab and incidents_url:
            params = urlencode({"status": tab, "service": service.id})
            open_url = f"{incidents_url}?{params}"
        rows.append(
            {
                "service": service,
                "url": detail.replace(ID_PLACEHOLDER, quote(service.id, safe="")),
                "open_url": open_url,
                "teams": ", ".join(team.name for team in service.teams),
            }
        )
    return render_page(
        request,
        ws,
        "integrations/pagerduty/service_list.html",
        {
            "page": page,
            "rows": rows,
            "query": query,
            "number": number,
            "previous_url": f"?{urlencode({'q': query, 'page': number - 1})}",
            "next_url": f"?{urlencode({'q': query, 'page': number + 1})}",
            "can_write": ws.can(Scope.SERVICES_WRITE),
        },
    )


@workspace_page("services", Scope.SERVICES_READ)
def service_detail(request, ws: Workspace, service_id: str):
    """Show a service with its integrations and recent incidents."""
    service = selectors.service_get(ws=ws, service_id=service_id)
    recent = None
    if ws.can(Scope.INCIDENTS_READ):
        recent = selectors.service_recent_incidents(ws=ws, service_id=service_id)
    return render_page(
        request,
        ws,
        "integrations/pagerduty/service_detail.html",
        {
            "service": service,
            "recent": recent,
            "can_write": ws.can(Scope.SERVICES_WRITE),
        },
    )


def _minutes(seconds: int | None) -> int | None:
    return None if seconds is None else max(1, round(seconds / 60))


def _seconds(minutes: int | None) -> int | None:
    return None if minutes is None else minutes * 60


def _service_form_page(request, ws, *, service_id: str = ""):
    policies = selectors.refs_if_granted(ws, selectors.escalation_policy_refs)
    initial = None
    if service_id and request.method == "GET":
        service = selectors.service_get(ws=ws, service_id=service_id)
        initial = {
            "name": service.name,
            "description": service.description,
            "escalation_policy": (
                service.escalation_policy.id if service.escalation_policy else ""
            ),
            # PagerDuty keeps seconds; the form asks for minutes.
            "acknowledgement_timeout": _minutes(service.acknowledgement_timeout),
            "auto_resolve_timeout": _minutes(service.auto_resolve_timeout),
        }
        if service.escalation_policy and all(
            ref.id != service.escalation_policy.id for ref in policies
        ):
            policies = [service.escalation_policy, *policies]
    form = ws_forms.ServiceForm(posted(request), initial=initial, policies=policies)
    if service_id and request.method == "POST":
        current = request.POST.get("escalation_policy", "")
        if current and all(ref.id != current for ref in policies):
            form.fields["escalation_policy"].choices += [(current, current)]

    def save(data):
        fields = services.ServiceInput(
            name=data["name"],
            description=data["description"],
            escalation_policy_id=data["escalation_policy"],
            acknowledgement_timeout=_seconds(data["acknowledgement_timeout"]),
            auto_resolve_timeout=_seconds(data["auto_resolve_timeout"]),
        )
        if service_id:
            return services.service_update(ws=ws, service_id=service_id, data=fields)
        return services.service_create(ws=ws, data=fields)

    return perform(
        request,
        ws,
        form=form,
        action=save,
        success=_("Service saved."),
        done_url=lambda saved: (
            url("service_detail", ws, saved.id) if saved.id else url("service_list", ws)
        ),
        template="integrations/pagerduty/service_form.html",
        context={"service_id": service_id},
    )


@require_http_methods(["GET", "POST"])
@workspace_page("services", Scope.SERVICES_WRITE, Scope.SERVICES_WRITE)
def service_create(request, ws: Workspace):
    """Create a service."""
    return _service_form_page(request, ws)


@require_http_methods(["GET", "POST"])
@workspace_page("services", Scope.SERVICES_WRITE, Scope.SERVICES_WRITE)
def service_edit(request, ws: Workspace, service_id: str):
    """Edit a service."""
    return _service_form_page(request, ws, service_id=service_id)


@require_POST
@workspace_page("services", Scope.SERVICES_READ, Scope.SERVICES_WRITE)
def service_enable(request, ws: Workspace, service_id: str):
    """Enable a service."""
    return simple_action(
        request,
        action=lambda: services.service_set_enabled(
            ws=ws, service_id=service_id, enabled=True
        ),
        success=_("Service enabled."),
        back_url=url("service_detail", ws, service_id),
    )


@require_POST
@workspace_page("services", Scope.SERVICES_READ, Scope.SERVICES_WRITE)
def service_disable(request, ws: Workspace, service_id: str):
    """Disable a service."""
    return simple_action(
        request,
        action=lambda: services.service_set_enabled(
            ws=ws, service_id=service_id, enabled=False
        ),
        success=_("Service disabled."),
        back_url=url("service_detail", ws, service_id),
    )


@require_http_methods(["GET", "POST"])
@workspace_page("services", Scope.SERVICES_WRITE, Scope.SERVICES_WRITE)
def service_delete(request, ws: Workspace, service_id: str):
    """Ask, then delete a service."""
    error = None
    if request.method == "POST":
        try:
            services.service_delete(ws=ws, service_id=service_id)
        except (PagerDutyError, WorkspaceError) as exc:
            error = describe_error(exc)
        else:
            messages.success(request, _("Service deleted."))
            return redirect(url("service_list", ws))
    service = selectors.service_get(ws=ws, service_id=service_id)
    return render_page(
        request,
        ws,
        "integrations/pagerduty/service_confirm_delete.html",
        {"service": service, "error": error},
        status=error.status if error else 200,
    )
