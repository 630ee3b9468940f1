"""Incident pages: the list with tabs and filters, the detail and its actions."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect
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
    perform,
    posted,
    render_page,
    safe_next,
    url,
    workspace_page,
)
from integrations.pagerduty.workspace.views.live import live_filter, live_updates
from integrations.pagerduty.workspace.views.presentation import STATUS_LABELS
from integrations.pagerduty.workspace.views.rows import incident_rows

TAB_LABELS = {**STATUS_LABELS, "all": gettext_lazy("All")}
NO_COUNTS = selectors.StatusCounts()


@workspace_page("incidents", Scope.INCIDENTS_READ)
def incident_list(request, ws: Workspace):
    """List incidents with tabs and counts, filters, search and row actions.

    One call for the page and one for the other open tab's count; the
    pickers' directory lists come from their cache (`selectors.references`);
    "My teams" asks once who the person's teams are. A search reads up to
    1,000 incidents (`selectors.incident_text_search`).
    """
    form = ws_forms.IncidentFilterForm(request.GET or None)
    template = "integrations/pagerduty/incident_list.html"
    quick = _quick_filters(ws, request.GET)
    context = {
        "form": form,
        "page": None,
        "tabs": _tabs(request, request.GET.get("status") or "triggered", NO_COUNTS),
        "quick": quick,
        "can_write": ws.can(Scope.INCIDENTS_WRITE),
        "zone": timezone.get_current_timezone_name(),
        "export_url": _export_url(ws, request),
    }
    if (request.GET and not form.is_valid()) or quick["error"]:
        # Nothing is sent upstream for a refused filter, not even the names.
        form.offer()
        return render_page(request, ws, template, context, status=400)
    data = form.cleaned_data if request.GET else form.initial
    query = selectors.IncidentQuery.from_filters(
        {**data, "user_ids": quick["user_ids"], "team_ids": quick["team_ids"]},
        timezone.get_current_timezone(),
    )
    if quick["no_teams"]:
        page, counts = selectors.IncidentPage([], 0, False, query), NO_COUNTS
    elif query.search:
        page, counts = selectors.incident_text_search(ws=ws, query=query), NO_COUNTS
    else:
        page = selectors.incident_list(ws=ws, query=query)
        counts = NO_COUNTS
        if not page.cap_reached:
            counts = selectors.incident_status_counts(
                ws=ws, query=query, known={query.status: page.total}
            )
    narrower = None
    if page.cap_reached or page.passes_cap:
        since, until = query.narrower_window()
        params = request.GET.copy()
        params["since"] = since.date().isoformat()
        params["until"] = until.date().isoformat()
        params["page"] = "1"
        params.pop("refresh", None)
        narrower = {"since": since, "until": until, "url": f"?{params.urlencode()}"}
    _offer(ws, form)
    live = live_updates(ws)
    if live["on"]:
        live["filter"] = live_filter(query, insert=query.page == 1)
    context.update(
        {
            "page": page,
            "rows": incident_rows(ws.tenant.pk, page.incidents, query.status),
            "tabs": _tabs(request, query.status, counts),
            "narrower": narrower,
            "previous_url": _page_url(request, query.page - 1),
            "next_url": _page_url(request, query.page + 1),
            "live": live,
        }
    )
    return render_page(request, ws, template, context)


def _offer(ws: Workspace, form) -> None:
    form.offer(
        services=selectors.refs_if_granted(ws, selectors.service_refs),
        teams=selectors.refs_if_granted(ws, selectors.team_refs),
    )


def mine_blocked(ws: Workspace, key: str) -> str:
    """Return why "Assigned to me" / "My teams" can't be used ("" if it can)."""
    if ws.usable_link is None:
        return _("Link your PagerDuty account to see what is yours.")
    if key == "teams" and not ws.can(Scope.USERS_READ):
        return _("Needs users.read to know your teams.")
    return ""


def mine_ids(ws: Workspace, *, assigned: bool, teams: bool) -> tuple[tuple, tuple]:
    """Return the user IDs ("Assigned to me") and team IDs ("My teams").

    Call only when `mine_blocked` said nothing; "My teams" costs one call.
    """
    user_ids = (ws.usable_link.pd_user_id,) if assigned else ()
    team_ids = ()
    if teams:
        refs = selectors.my_team_refs(ws=ws)
        team_ids = tuple(team.id for team in refs)[: selectors.MAX_FILTER_IDS]
    return user_ids, team_ids


def _quick_filters(ws: Workspace, params) -> dict:
    """Resolve "Assigned to me" and "My teams" to PagerDuty IDs, or say why not.

    Each toggle carries its link (on or off) and, when this person cannot
    use it, the reason shown beside it.
    """
    result = {"user_ids": (), "team_ids": (), "error": "", "no_teams": False}
    toggles = []
    for key, value, label in (
        ("assigned", "me", _("Assigned to me")),
        ("teams", "mine", _("My teams")),
    ):
        on = params.get(key) == value
        query = params.copy()
        query.pop("page", None)
        query.pop("refresh", None)
        if on:
            query.pop(key, None)
        else:
            query[key] = value
        why = mine_blocked(ws, key)
        toggles.append(
            {
                "key": key,
                "label": label,
                "on": on and not why,
                "why": why,
                "url": f"?{query.urlencode()}",
            }
        )
        if on and why:
            result["error"] = why
        elif on and key == "assigned":
            result["user_ids"], _teams = mine_ids(ws, assigned=True, teams=False)
        elif on and key == "teams":
            _users, result["team_ids"] = mine_ids(ws, assigned=False, teams=True)
            result["no_teams"] = not result["team_ids"]
    result["toggles"] = toggles
    return result


EXPORT_FILTERS = (
    "status",
    "urgency",
    "service",
    "team",
    "assigned",
    "teams",
    "since",
    "until",
)


def _export_url(ws: Workspace, request) -> str:
    """Return the export page's URL carrying the list's current filters."""
    params = request.GET.copy()
    for key in list(params):
        if key not in EXPORT_FILTERS or not params.get(key):
            params.pop(key)
    base = url("incident_export", ws)
    return f"{base}?{params.urlencode()}" if params else base


def _tabs(request, current: str, counts: selectors.StatusCounts) -> list[dict]:
    tabs = []
    for status in selectors.STATUS_TABS:
        params = request.GET.copy()
        params["status"] = status
        params.pop("page", None)
        params.pop("refresh", None)
        tabs.append(
            {
                "key": status,
                "label": TAB_LABELS[status],
                "count": counts.get(status),
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
    """Run an action on one incident.

    From a row of the list (a posted `next`), it ends back on the list with
    a message either way; from the detail page, a refusal keeps the form
    and what was typed.
    """
    detail_url = url("incident_detail", ws, incident_id)
    if request.method == "POST" and request.POST.get("next"):
        return _row_action(request, ws, form=form, action=action, success=success)
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


def _row_action(request, ws, *, form, action, success):
    back = safe_next(request, url("incident_list", ws))
    if not form.is_valid():
        messages.error(request, _("The action was not valid."))
        return redirect(back)
    try:
        incident = action(form.cleaned_data)
    except (PagerDutyError, WorkspaceError) as exc:
        messages.error(request, describe_error(exc).message)
    else:
        messages.success(request, success(incident) if callable(success) else success)
    return redirect(back)


def _done(numbered: str, plain: str):
    """Return a success message naming the incident's number when known."""

    def text(incident) -> str:
        number = getattr(incident, "number", None)
        return numbered % {"number": number} if number else plain

    return text


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
        success=_done(
            _("Incident #%(number)s acknowledged."), _("Incident acknowledged.")
        ),
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
        success=_done(_("Incident #%(number)s resolved."), _("Incident resolved.")),
        title=_("Resolve incident"),
        button=_("Resolve"),
    )


@require_POST
@workspace_page("incidents", Scope.INCIDENTS_READ, Scope.INCIDENTS_WRITE)
def incident_reopen(request, ws: Workspace, incident_id: str):
    """Reopen a resolved incident (triggered again, on its escalation policy)."""
    return _incident_action(
        request,
        ws,
        incident_id,
        form=ws_forms.ConfirmForm(posted(request)),
        action=lambda data: services.incident_reopen(ws=ws, incident_id=incident_id),
        success=_done(_("Incident #%(number)s reopened."), _("Incident reopened.")),
        title=_("Reopen incident"),
        button=_("Reopen"),
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
