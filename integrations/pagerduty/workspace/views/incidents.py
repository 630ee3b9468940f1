"""Incident pages: the list with tabs and filters, the detail and its actions."""

from __future__ import annotations

from urllib.parse import quote

from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from integrations.exceptions import PagerDutyError
from integrations.pagerduty.scopes import Scope
from integrations.pagerduty.workspace import forms as ws_forms
from integrations.pagerduty.workspace import selectors, services
from integrations.pagerduty.workspace.access import WorkspaceError, describe_error
from integrations.pagerduty.workspace.context import Workspace
from integrations.pagerduty.workspace.views.base import (
    ID_PLACEHOLDER,
    perform,
    posted,
    render_page,
    safe_next,
    url,
    workspace_page,
)
from integrations.pagerduty.workspace.views.live import live_updates
from integrations.pagerduty.workspace.views.presentation import (
    STATUS_LABELS,
    URGENCY_LABELS,
)

TAB_LABELS = {**STATUS_LABELS, "all": gettext_lazy("All")}


@workspace_page("incidents", Scope.INCIDENTS_READ)
def incident_list(request, ws: Workspace):
    """List incidents with tabs, filters, sorting and pages: one upstream call."""
    form = ws_forms.IncidentFilterForm(request.GET or None)
    template = "integrations/pagerduty/incident_list.html"
    if request.GET and not form.is_valid():
        context = {"form": form, "page": None, "tabs": _tabs(request, "triggered")}
        return render_page(request, ws, template, context, status=400)
    query = selectors.IncidentQuery.from_filters(
        form.cleaned_data if request.GET else form.initial
    )
    page = selectors.incident_list(ws=ws, query=query)
    narrower = None
    if page.cap_reached or page.passes_cap:
        since, until = query.narrower_window()
        params = request.GET.copy()
        params["since"] = since.date().isoformat()
        params["until"] = until.date().isoformat()
        params["page"] = "1"
        params.pop("refresh", None)
        narrower = {"since": since, "until": until, "url": f"?{params.urlencode()}"}
    return render_page(
        request,
        ws,
        template,
        {
            "form": form,
            "page": page,
            "rows": _incident_rows(ws, page.incidents, form["status"].value()),
            "tabs": _tabs(request, query.status),
            "narrower": narrower,
            "previous_url": _page_url(request, query.page - 1),
            "next_url": _page_url(request, query.page + 1),
            "can_write": ws.can(Scope.INCIDENTS_WRITE),
            "live": live_updates(ws),
        },
    )


def _incident_rows(ws: Workspace, incidents, status: str | None) -> list[dict]:
    """Return the incident table's rows with links, labels and times ready.

    A 100-row page would otherwise spend most of its time in the template:
    a `reverse` per row, attribute lookups that go through dict lookups
    first, a translation and a date filter per cell.
    """
    detail = reverse(
        "integrations:incident_detail", args=[ws.tenant.pk, ID_PLACEHOLDER]
    )
    service_filter = f"?status={quote(status)}&service=" if status else "?service="
    statuses = {key: str(label) for key, label in STATUS_LABELS.items()}
    urgencies = {key: str(label) for key, label in URGENCY_LABELS.items()}
    select = _("Select incident %(number)s")
    rows = []
    for incident in incidents:
        number = "" if incident.number is None else incident.number
        service = incident.service
        rows.append(
            {
                "id": incident.id,
                "number": number,
                "title": incident.title,
                "url": detail.replace(ID_PLACEHOLDER, quote(incident.id, safe="")),
                "status": incident.status,
                "status_label": statuses.get(incident.status, incident.status),
                "urgency": incident.urgency,
                "urgency_label": urgencies.get(incident.urgency, incident.urgency),
                "select_label": select % {"number": number},
                "service_name": service.name if service else "",
                "service_url": (
                    service_filter + quote(service.id, safe="") if service else ""
                ),
                "assignees": ", ".join(incident.assignee_names),
                "created": (
                    timezone.localtime(incident.created_at).strftime("%Y-%m-%d %H:%M")
                    if incident.created_at
                    else ""
                ),
            }
        )
    return rows


def _tabs(request, current: str) -> list[dict]:
    tabs = []
    for status in selectors.STATUS_TABS:
        params = request.GET.copy()
        params["status"] = status
        params.pop("page", None)
        params.pop("refresh", None)
        tabs.append(
            {
                "label": TAB_LABELS[status],
                "url": f"?{params.urlencode()}",
                "current": status == current,
            }
        )
    return tabs


def _page_url(request, number: int) -> str:
    params = request.GET.copy()
    params["page"] = str(number)
    params.pop("refresh", None)
    return f"?{params.urlencode()}"


@workspace_page("incidents", Scope.INCIDENTS_READ)
def incident_detail(request, ws: Workspace, incident_id: str):
    """Show an incident with its timeline, notes and actions."""
    detail = selectors.incident_get(ws=ws, incident_id=incident_id)
    return render_page(
        request,
        ws,
        "integrations/pagerduty/incident_detail.html",
        {
            "detail": detail,
            "incident": detail.incident,
            "can_write": ws.can(Scope.INCIDENTS_WRITE),
            "live": live_updates(ws),
            "resolve_form": ws_forms.ResolveForm(),
            "note_form": ws_forms.NoteForm(),
            "urgency_form": ws_forms.UrgencyForm(
                initial={"urgency": detail.incident.urgency}
            ),
            "escalate_form": ws_forms.EscalateForm(initial={"level": 2}),
            "snooze_form": ws_forms.SnoozeForm(),
        },
    )


def _incident_action(
    request, ws, incident_id, *, form, action, success, title, button, notice=""
):
    detail_url = url("incident_detail", ws, incident_id)
    return perform(
        request,
        ws,
        form=form,
        action=action,
        success=success,
        done_url=detail_url,
        template="integrations/pagerduty/incident_action.html",
        context={
            "incident_id": incident_id,
            "detail_url": detail_url,
            "title": title,
            "button": button,
            "notice": notice,
        },
    )


@require_POST
@workspace_page("incidents", Scope.INCIDENTS_READ, Scope.INCIDENTS_WRITE)
def incident_acknowledge(request, ws: Workspace, incident_id: str):
    """Acknowledge an incident."""
    return _incident_action(
        request,
        ws,
        incident_id,
        form=ws_forms.ConfirmForm(posted(request)),
        action=lambda data: services.incident_acknowledge(
            ws=ws, incident_id=incident_id
        ),
        success=_("Incident acknowledged."),
        title=_("Acknowledge incident"),
        button=_("Acknowledge"),
    )


@require_http_methods(["GET", "POST"])
@workspace_page("incidents", Scope.INCIDENTS_WRITE, Scope.INCIDENTS_WRITE)
def incident_resolve(request, ws: Workspace, incident_id: str):
    """Resolve an incident with an optional resolution note."""
    return _incident_action(
        request,
        ws,
        incident_id,
        form=ws_forms.ResolveForm(posted(request)),
        action=lambda data: services.incident_resolve(
            ws=ws, incident_id=incident_id, resolution=data["resolution"]
        ),
        success=_("Incident resolved."),
        title=_("Resolve incident"),
        button=_("Resolve"),
    )


@require_http_methods(["GET", "POST"])
@workspace_page("incidents", Scope.INCIDENTS_WRITE, Scope.INCIDENTS_WRITE)
def incident_urgency(request, ws: Workspace, incident_id: str):
    """Change an incident's urgency."""
    return _incident_action(
        request,
        ws,
        incident_id,
        form=ws_forms.UrgencyForm(posted(request)),
        action=lambda data: services.incident_set_urgency(
            ws=ws, incident_id=incident_id, urgency=data["urgency"]
        ),
        success=_("Urgency changed."),
        title=_("Change urgency"),
        button=_("Change urgency"),
    )


@require_http_methods(["GET", "POST"])
@workspace_page("incidents", Scope.INCIDENTS_WRITE, Scope.INCIDENTS_WRITE)
def incident_escalate(request, ws: Workspace, incident_id: str):
    """Escalate an incident to a level of its escalation policy."""
    return _incident_action(
        request,
        ws,
        incident_id,
        form=ws_forms.EscalateForm(posted(request)),
        action=lambda data: services.incident_escalate(
            ws=ws, incident_id=incident_id, level=data["level"]
        ),
        success=_("Incident escalated."),
        title=_("Escalate incident"),
        button=_("Escalate"),
    )


@require_http_methods(["GET", "POST"])
@workspace_page("incidents", Scope.INCIDENTS_WRITE, Scope.INCIDENTS_WRITE)
def incident_snooze(request, ws: Workspace, incident_id: str):
    """Snooze an acknowledged incident."""
    return _incident_action(
        request,
        ws,
        incident_id,
        form=ws_forms.SnoozeForm(posted(request)),
        action=lambda data: services.incident_snooze(
            ws=ws, incident_id=incident_id, minutes=data["minutes"]
        ),
        success=_("Incident snoozed."),
        title=_("Snooze incident"),
        button=_("Snooze"),
    )


@require_http_methods(["GET", "POST"])
@workspace_page("incidents", Scope.INCIDENTS_WRITE, Scope.INCIDENTS_WRITE)
def incident_note(request, ws: Workspace, incident_id: str):
    """Add a note to an incident."""
    return _incident_action(
        request,
        ws,
        incident_id,
        form=ws_forms.NoteForm(posted(request)),
        action=lambda data: services.incident_add_note(
            ws=ws, incident_id=incident_id, content=data["content"]
        ),
        success=_("Note added."),
        title=_("Add a note"),
        button=_("Add note"),
    )


@require_http_methods(["GET", "POST"])
@workspace_page("incidents", Scope.INCIDENTS_WRITE, Scope.INCIDENTS_WRITE)
def incident_reassign(request, ws: Workspace, incident_id: str):
    """Reassign an incident to a user or an escalation policy."""
    users = selectors.refs_if_granted(ws, selectors.user_refs)
    policies = selectors.refs_if_granted(ws, selectors.escalation_policy_refs)
    notice = ""
    if not users and not policies:
        notice = _(
            "Listing users needs users.read and listing escalation policies "
            "needs escalation_policies.read; this connection has neither."
        )
    return _incident_action(
        request,
        ws,
        incident_id,
        form=ws_forms.ReassignForm(posted(request), users=users, policies=policies),
        action=lambda data: services.incident_reassign(
            ws=ws,
            incident_id=incident_id,
            user_id=data["user"],
            policy_id=data["escalation_policy"],
        ),
        success=_("Incident reassigned."),
        title=_("Reassign incident"),
        button=_("Reassign"),
        notice=notice,
    )


@require_http_methods(["GET", "POST"])
@workspace_page("incidents", Scope.INCIDENTS_WRITE, Scope.INCIDENTS_WRITE)
def incident_create(request, ws: Workspace):
    """Create an incident on a service, then show it."""
    service_refs = selectors.refs_if_granted(ws, selectors.service_refs)
    return perform(
        request,
        ws,
        form=ws_forms.IncidentCreateForm(posted(request), services=service_refs),
        action=lambda data: services.incident_create(
            ws=ws,
            title=data["title"],
            service_id=data["service"],
            urgency=data["urgency"],
            details=data["details"],
        ),
        success=_("Incident created."),
        done_url=lambda created: (
            url("incident_detail", ws, created.id)
            if created.id
            else url("incident_list", ws)
        ),
        template="integrations/pagerduty/incident_form.html",
        context={},
    )


@require_POST
@workspace_page("incidents", Scope.INCIDENTS_READ, Scope.INCIDENTS_WRITE)
def incident_bulk(request, ws: Workspace):
    """Acknowledge or resolve the selected incidents (250 per request)."""
    form = ws_forms.BulkForm(request.POST)
    back = safe_next(request, url("incident_list", ws))
    if not form.is_valid():
        for error in form.non_field_errors():
            messages.error(request, error)
        return redirect(back)
    action = form.cleaned_data["action"]
    try:
        count = services.incident_bulk_update(
            ws=ws,
            incident_ids=form.cleaned_data["incident_ids"],
            status="acknowledged" if action == "acknowledge" else "resolved",
        )
    except services.BulkStopped as exc:
        messages.error(
            request,
            _("%(count)s incident(s) were updated, then PagerDuty refused the rest: ")
            % {"count": exc.done}
            + describe_error(exc.error).message,
        )
        return redirect(back)
    except (PagerDutyError, WorkspaceError) as exc:
        messages.error(request, describe_error(exc).message)
        return redirect(back)
    if action == "acknowledge":
        text = _("%(count)s incident(s) acknowledged.") % {"count": count}
    else:
        text = _("%(count)s incident(s) resolved.") % {"count": count}
    messages.success(request, text)
    return redirect(back)
