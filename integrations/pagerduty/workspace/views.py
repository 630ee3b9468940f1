"""Workspace pages: a tenant's members read and manage its PagerDuty account.

Every view goes through `workspace_page`: membership first (another
tenant's pages answer 404 before anything is sent upstream), then the live
connection, then the scope the page or action needs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import wraps
from html import escape
from urllib.parse import quote, urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from integrations.exceptions import (
    PagerDutyAuthError,
    PagerDutyError,
    PagerDutyRateLimited,
    PagerDutyUnavailable,
)
from integrations.pagerduty.scopes import Scope
from integrations.pagerduty.workspace import forms as ws_forms
from integrations.pagerduty.workspace import selectors, services
from integrations.pagerduty.workspace.context import Workspace
from integrations.pagerduty.workspace.entities import (
    STATUS_LABELS,
    URGENCY_LABELS,
    Ref,
)
from integrations.pagerduty.workspace.views_live import live_updates
from integrations.selectors import (
    connection_get_live,
    membership_get_for_request_or_404,
    webhook_subscription_get,
)
from portal.redirects import has_hidden_characters


@dataclass(frozen=True)
class Section:
    key: str
    label: str
    url_name: str
    scope: str


SECTIONS = (
    Section(
        "overview", gettext_lazy("Overview"), "workspace_overview", Scope.INCIDENTS_READ
    ),
    Section(
        "incidents", gettext_lazy("Incidents"), "incident_list", Scope.INCIDENTS_READ
    ),
    Section("services", gettext_lazy("Services"), "service_list", Scope.SERVICES_READ),
    Section("oncalls", gettext_lazy("On-calls"), "oncall_list", Scope.ONCALLS_READ),
    Section(
        "schedules", gettext_lazy("Schedules"), "schedule_list", Scope.SCHEDULES_READ
    ),
    Section(
        "escalation_policies",
        gettext_lazy("Escalation policies"),
        "escalation_policy_list",
        Scope.ESCALATION_POLICIES_READ,
    ),
    Section("users", gettext_lazy("Users"), "user_list", Scope.USERS_READ),
    Section("teams", gettext_lazy("Teams"), "team_list", Scope.TEAMS_READ),
    Section(
        "webhooks",
        gettext_lazy("Webhooks"),
        "webhook_list",
        Scope.WEBHOOK_SUBSCRIPTIONS_READ,
    ),
)


@dataclass(frozen=True)
class ErrorInfo:
    """An upstream failure, described for the page."""

    message: str
    reconnect: bool = False
    retry: bool = False
    status: int = 502


def describe_error(exc: PagerDutyError) -> ErrorInfo:
    """Return what a page says about an upstream failure, and its status."""
    if isinstance(exc, PagerDutyAuthError):
        if exc.status == 403:
            return ErrorInfo(exc.message, status=403)
        return ErrorInfo(
            _(
                "PagerDuty no longer accepts this connection: it expired or "
                "access was revoked. A tenant admin must reconnect."
            ),
            reconnect=True,
        )
    if isinstance(exc, PagerDutyRateLimited):
        return ErrorInfo(exc.message, retry=True, status=429)
    if isinstance(exc, PagerDutyUnavailable):
        return ErrorInfo(_("PagerDuty is unavailable"), retry=True, status=503)
    status = exc.status if exc.status in (400, 404, 409) else 502
    return ErrorInfo(exc.message, status=status)


def _sections(ws: Workspace) -> list[dict]:
    return [
        {
            "key": section.key,
            "label": section.label,
            "url": reverse(f"integrations:{section.url_name}", args=[ws.tenant.pk]),
        }
        for section in SECTIONS
        if ws.can(section.scope)
    ]


def render_page(request, ws: Workspace, template: str, context=None, status=200):
    """Render a workspace page with its sub-navigation, freshness and scopes."""
    query = request.GET.copy()
    query["refresh"] = "1"
    data = {
        "ws": ws,
        "tenant": ws.tenant,
        "membership": ws.membership,
        "connection": ws.connection,
        "sections": _sections(ws) if ws.connection else [],
        "as_of": ws.as_of,
        "refresh_url": f"{request.path}?{query.urlencode()}",
        **(context or {}),
    }
    return render(request, template, data, status=status)


def workspace_page(section: str, scope: str = "", write_scope: str = ""):
    """Wrap a view: membership, live connection, scope, upstream errors.

    GET needs `scope`; POST needs `write_scope` (and is refused without
    calling PagerDuty when it was not granted).
    """

    def decorator(view):
        @login_required
        @wraps(view)
        def wrapper(request, tenant_id: int, **kwargs):
            membership = membership_get_for_request_or_404(
                request=request, tenant_id=tenant_id
            )
            connection = connection_get_live(tenant=membership.tenant)
            ws = Workspace(
                membership=membership,
                connection=connection,
                refresh=request.GET.get("refresh") == "1",
                section=section,
            )
            if connection is None or not connection.is_usable:
                return render_page(
                    request, ws, "integrations/pagerduty/not_connected.html", status=409
                )
            needed = write_scope if request.method == "POST" else scope
            if needed and not ws.can(needed):
                return render_page(
                    request,
                    ws,
                    "integrations/pagerduty/scope_missing.html",
                    {"scope": needed},
                    status=403,
                )
            try:
                return view(request, ws, **kwargs)
            except PagerDutyError as exc:
                error = describe_error(exc)
                return render_page(
                    request,
                    ws,
                    "integrations/pagerduty/error.html",
                    {"error": error},
                    status=error.status,
                )
            finally:
                ws.close()

        return wrapper

    return decorator


def _url(name: str, ws: Workspace, *args) -> str:
    return reverse(f"integrations:{name}", args=[ws.tenant.pk, *args])


def _posted(request):
    """Return the POST data to bind (even when empty), or None on GET."""
    return request.POST if request.method == "POST" else None


def _safe_next(request, fallback: str) -> str:
    target = request.POST.get("next", "")
    if (
        target
        and not has_hidden_characters(target)
        and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=False
        )
    ):
        return target
    return fallback


def _perform(request, ws, *, form, perform, success, done_url, template, context):
    """Run a validated action; on failure re-render the form, input kept."""
    error = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                result = perform(form.cleaned_data)
            except PagerDutyError as exc:
                error = describe_error(exc)
                status = error.status
            else:
                messages.success(request, success)
                return redirect(done_url(result) if callable(done_url) else done_url)
        else:
            status = 400
    return render_page(
        request, ws, template, {**context, "form": form, "error": error}, status
    )


# --- Overview ---


@workspace_page("overview", Scope.INCIDENTS_READ)
def workspace_overview(request, ws: Workspace):
    """Show open incidents by status and urgency, on-call now, busy services."""
    open_incidents = selectors.open_incidents(ws=ws)
    oncalls = None
    if ws.can(Scope.ONCALLS_READ):
        oncalls = selectors.oncall_list(ws=ws, earliest=True)
    return render_page(
        request,
        ws,
        "integrations/pagerduty/overview.html",
        {
            "open": open_incidents,
            "oncalls": oncalls,
            "webhook": webhook_subscription_get(connection=ws.connection),
        },
    )


# --- Incidents ---


@workspace_page("incidents", Scope.INCIDENTS_READ)
def incident_list(request, ws: Workspace):
    """List incidents with tabs, filters, sorting and pages: one upstream call."""
    form = ws_forms.IncidentFilterForm(request.GET or None)
    if request.GET and not form.is_valid():
        return render_page(
            request,
            ws,
            "integrations/pagerduty/incident_list.html",
            {"form": form, "page": None, "tabs": _tabs(request, "triggered")},
            status=400,
        )
    data = form.cleaned_data if request.GET else form.initial | {}
    query = selectors.IncidentQuery(
        status=data.get("status") or "triggered",
        urgency=data.get("urgency") or "",
        service_id=data.get("service") or "",
        team_id=data.get("team") or "",
        since=selectors.day_start(data["since"]) if data.get("since") else None,
        until=(
            selectors.day_start(data["until"]) + timedelta(days=1)
            if data.get("until")
            else None
        ),
        sort=data.get("sort") or "newest",
        per_page=data.get("per_page") or 25,
        page=data.get("page") or 1,
    )
    page = selectors.incident_list(ws=ws, query=query)
    can_write = ws.can(Scope.INCIDENTS_WRITE)
    rows = _incident_rows(ws, page.incidents, form["status"].value())
    narrower = None
    if page.cap_reached or page.passes_cap:
        since, until = selectors.narrower_window(query)
        params = request.GET.copy()
        params["since"] = since.date().isoformat()
        params["until"] = until.date().isoformat()
        params["page"] = "1"
        params.pop("refresh", None)
        narrower = {"since": since, "until": until, "url": f"?{params.urlencode()}"}
    return render_page(
        request,
        ws,
        "integrations/pagerduty/incident_list.html",
        {
            "form": form,
            "page": page,
            "rows": rows,
            "rows_html": _incident_rows_html(rows, can_write=can_write),
            "tabs": _tabs(request, query.status),
            "narrower": narrower,
            "previous_url": _page_url(request, query.page - 1),
            "next_url": _page_url(request, query.page + 1),
            "can_write": can_write,
            "live": live_updates(ws),
        },
    )


# Stands in for an object ID in a URL reversed once per page, not per row.
_ID = "PDOBJECTID"


def _incident_rows(ws: Workspace, incidents, status: str | None) -> list[dict]:
    """Return the incident table's rows with links, labels and times ready.

    A 100-row page would otherwise spend most of its time in the template:
    a `reverse` per row, attribute lookups that go through dict lookups
    first, a translation and a date filter per cell.
    """
    detail = reverse("integrations:incident_detail", args=[ws.tenant.pk, _ID])
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
                "url": detail.replace(_ID, quote(incident.id, safe="")),
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


# One table row per incident, written in code the way the admin's change
# list writes its cells: a 100-row page spent most of its CPU rendering
# these cells one template node at a time. Every value is escaped with
# html.escape, which is what Django's escape runs, minus its lazy-string
# wrapper (the values are plain strings).
_ROW = (
    '<tr id="incident-{id}" data-incident-id="{id}">\n'
    "<td>{select}</td>\n"
    '<td class="mono">{number}</td>\n'
    '<td><a href="{url}" class="cell-primary">{title}</a></td>\n'
    '<td><span class="badge ws-status-{status}" data-incident-status>'
    "{status_label}</span></td>\n"
    '<td><span class="badge ws-urgency-{urgency}">{urgency_label}</span></td>\n'
    "<td>{service}</td>\n"
    "<td>{assignees}</td>\n"
    '<td class="nowrap">{created}</td>\n'
    "</tr>\n"
)
_SELECT = '<input type="checkbox" name="incident" value="{}" aria-label="{}">'
_SERVICE = '<a href="{}">{}</a>'
_NOBODY = '<span class="muted">—</span>'
_ESCAPED = (
    "id",
    "number",
    "url",
    "title",
    "status",
    "status_label",
    "urgency",
    "urgency_label",
    "created",
)


def _incident_rows_html(rows: list[dict], *, can_write: bool) -> str:
    """Return the incident table's body rows as escaped HTML."""
    html = []
    for row in rows:
        cells = {key: escape(str(row[key])) for key in _ESCAPED}
        if can_write:
            select = _SELECT.format(cells["id"], escape(row["select_label"]))
        else:
            select = ""
        if row["service_url"]:
            service = _SERVICE.format(
                escape(row["service_url"]), escape(row["service_name"])
            )
        else:
            service = ""
        assignees = escape(row["assignees"]) if row["assignees"] else _NOBODY
        html.append(
            _ROW.format(select=select, service=service, assignees=assignees, **cells)
        )
    return mark_safe("".join(html))  # noqa: S308 - every value is escaped above


def _tabs(request, current: str) -> list[dict]:
    labels = {
        "triggered": _("Triggered"),
        "acknowledged": _("Acknowledged"),
        "resolved": _("Resolved"),
        "all": _("All"),
    }
    tabs = []
    for status in selectors.STATUS_TABS:
        params = request.GET.copy()
        params["status"] = status
        params.pop("page", None)
        params.pop("refresh", None)
        tabs.append(
            {
                "label": labels[status],
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
    request,
    ws: Workspace,
    incident_id: str,
    *,
    form_class,
    perform,
    success,
    title,
    button,
    form_kwargs=None,
    notice="",
):
    form = form_class(_posted(request), **(form_kwargs or {}))
    detail_url = _url("incident_detail", ws, incident_id)
    return _perform(
        request,
        ws,
        form=form,
        perform=perform,
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
        form_class=ws_forms.ConfirmForm,
        perform=lambda data: services.incident_acknowledge(
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
        form_class=ws_forms.ResolveForm,
        perform=lambda data: services.incident_resolve(
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
        form_class=ws_forms.UrgencyForm,
        perform=lambda data: services.incident_set_urgency(
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
        form_class=ws_forms.EscalateForm,
        perform=lambda data: services.incident_escalate(
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
        form_class=ws_forms.SnoozeForm,
        perform=lambda data: services.incident_snooze(
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
        form_class=ws_forms.NoteForm,
        perform=lambda data: services.incident_add_note(
            ws=ws, incident_id=incident_id, content=data["content"]
        ),
        success=_("Note added."),
        title=_("Add a note"),
        button=_("Add note"),
    )


def _choice_refs(ws: Workspace, path: str, key: str, scope: str) -> list[Ref]:
    if not ws.can(scope):
        return []
    return selectors.refs_list(ws=ws, path=path, key=key, scope=scope)


@require_http_methods(["GET", "POST"])
@workspace_page("incidents", Scope.INCIDENTS_WRITE, Scope.INCIDENTS_WRITE)
def incident_reassign(request, ws: Workspace, incident_id: str):
    """Reassign an incident to a user or an escalation policy."""
    users = _choice_refs(ws, "/users", "users", Scope.USERS_READ)
    policies = _choice_refs(
        ws,
        "/escalation_policies",
        "escalation_policies",
        Scope.ESCALATION_POLICIES_READ,
    )
    return _incident_action(
        request,
        ws,
        incident_id,
        form_class=ws_forms.ReassignForm,
        form_kwargs={"users": users, "policies": policies},
        perform=lambda data: services.incident_reassign(
            ws=ws,
            incident_id=incident_id,
            user_id=data["user"],
            policy_id=data["escalation_policy"],
        ),
        success=_("Incident reassigned."),
        title=_("Reassign incident"),
        button=_("Reassign"),
        notice=(
            ""
            if users or policies
            else _(
                "Listing users needs users.read and listing escalation policies "
                "needs escalation_policies.read; this connection has neither."
            )
        ),
    )


@require_http_methods(["GET", "POST"])
@workspace_page("incidents", Scope.INCIDENTS_WRITE, Scope.INCIDENTS_WRITE)
def incident_create(request, ws: Workspace):
    """Create an incident on a service."""
    services_refs = _choice_refs(ws, "/services", "services", Scope.SERVICES_READ)
    form = ws_forms.IncidentCreateForm(_posted(request), services=services_refs)
    created = {}

    def perform(data):
        created.update(
            services.incident_create(
                ws=ws,
                title=data["title"],
                service_id=data["service"],
                urgency=data["urgency"],
                details=data["details"],
            )
        )

    response = _perform(
        request,
        ws,
        form=form,
        perform=perform,
        success=_("Incident created."),
        done_url=_url("incident_list", ws),
        template="integrations/pagerduty/incident_form.html",
        context={},
    )
    if created.get("id") and response.status_code == 302:
        return redirect(_url("incident_detail", ws, created["id"]))
    return response


@require_POST
@workspace_page("incidents", Scope.INCIDENTS_READ, Scope.INCIDENTS_WRITE)
def incident_bulk(request, ws: Workspace):
    """Acknowledge or resolve the selected incidents (250 per request)."""
    form = ws_forms.BulkForm(request.POST)
    back = _safe_next(request, _url("incident_list", ws))
    if not form.is_valid():
        for error in form.non_field_errors():
            messages.error(request, error)
        return redirect(back)
    action = form.cleaned_data["action"]
    status = "acknowledged" if action == "acknowledge" else "resolved"
    try:
        count = services.incident_bulk_update(
            ws=ws, incident_ids=form.cleaned_data["incident_ids"], status=status
        )
    except services.BulkStopped as exc:
        messages.error(
            request,
            _("%(count)s incident(s) were updated, then PagerDuty refused the rest: ")
            % {"count": exc.done}
            + describe_error(exc.error).message,
        )
        return redirect(back)
    except PagerDutyError as exc:
        messages.error(request, describe_error(exc).message)
        return redirect(back)
    if action == "acknowledge":
        text = _("%(count)s incident(s) acknowledged.") % {"count": count}
    else:
        text = _("%(count)s incident(s) resolved.") % {"count": count}
    messages.success(request, text)
    return redirect(back)


# --- Services ---


# A service's own status says whether it has open incidents (critical:
# triggered, warning: acknowledged), so the list links there instead of
# tallying every open incident: one upstream call per page.
OPEN_STATUS_TABS = {"critical": "triggered", "warning": "acknowledged"}


@workspace_page("services", Scope.SERVICES_READ)
def service_list(request, ws: Workspace):
    """List services with status, policy and teams: one upstream call."""
    query = request.GET.get("q", "")[:100]
    try:
        number = max(1, min(int(request.GET.get("page", "1")), 400))
    except ValueError:
        number = 1
    limit = 25
    page = selectors.service_list(
        ws=ws, query=query, offset=(number - 1) * limit, limit=limit
    )
    incidents_url = _url("incident_list", ws) if ws.can(Scope.INCIDENTS_READ) else ""
    detail = _url("service_detail", ws, _ID)
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
                "url": detail.replace(_ID, quote(service.id, safe="")),
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


def _service_form_page(request, ws, *, service_id: str = ""):
    policies = _choice_refs(
        ws,
        "/escalation_policies",
        "escalation_policies",
        Scope.ESCALATION_POLICIES_READ,
    )
    initial = None
    if service_id and request.method == "GET":
        service = selectors.service_get(ws=ws, service_id=service_id)
        initial = {
            "name": service.name,
            "description": service.description,
            "escalation_policy": (
                service.escalation_policy.id if service.escalation_policy else ""
            ),
            "acknowledgement_timeout": service.acknowledgement_timeout,
            "auto_resolve_timeout": service.auto_resolve_timeout,
        }
        if service.escalation_policy and all(
            ref.id != service.escalation_policy.id for ref in policies
        ):
            policies = [service.escalation_policy, *policies]
    form = ws_forms.ServiceForm(_posted(request), initial=initial, policies=policies)
    if service_id and request.method == "POST":
        current = request.POST.get("escalation_policy", "")
        if current and all(ref.id != current for ref in policies):
            form.fields["escalation_policy"].choices += [(current, current)]
    saved = {}

    def perform(data):
        fields = {
            "name": data["name"],
            "description": data["description"],
            "escalation_policy_id": data["escalation_policy"],
            "acknowledgement_timeout": data["acknowledgement_timeout"],
            "auto_resolve_timeout": data["auto_resolve_timeout"],
        }
        if service_id:
            saved.update(
                services.service_update(ws=ws, service_id=service_id, **fields)
            )
        else:
            saved.update(services.service_create(ws=ws, **fields))

    response = _perform(
        request,
        ws,
        form=form,
        perform=perform,
        success=_("Service saved."),
        done_url=_url("service_list", ws),
        template="integrations/pagerduty/service_form.html",
        context={"service_id": service_id},
    )
    if saved.get("id") and response.status_code == 302:
        return redirect(_url("service_detail", ws, saved["id"]))
    return response


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


def simple_action(request, *, perform, success, back_url):
    """Run a write with no input; confirm or show PagerDuty's message."""
    try:
        perform()
    except PagerDutyError as exc:
        messages.error(request, describe_error(exc).message)
    else:
        messages.success(request, success)
    return redirect(back_url)


def _service_simple_action(request, ws, service_id, *, perform, success):
    return simple_action(
        request,
        perform=perform,
        success=success,
        back_url=_url("service_detail", ws, service_id),
    )


@require_POST
@workspace_page("services", Scope.SERVICES_READ, Scope.SERVICES_WRITE)
def service_enable(request, ws: Workspace, service_id: str):
    """Enable a service."""
    return _service_simple_action(
        request,
        ws,
        service_id,
        perform=lambda: services.service_set_enabled(
            ws=ws, service_id=service_id, enabled=True
        ),
        success=_("Service enabled."),
    )


@require_POST
@workspace_page("services", Scope.SERVICES_READ, Scope.SERVICES_WRITE)
def service_disable(request, ws: Workspace, service_id: str):
    """Disable a service."""
    return _service_simple_action(
        request,
        ws,
        service_id,
        perform=lambda: services.service_set_enabled(
            ws=ws, service_id=service_id, enabled=False
        ),
        success=_("Service disabled."),
    )


@require_http_methods(["GET", "POST"])
@workspace_page("services", Scope.SERVICES_WRITE, Scope.SERVICES_WRITE)
def service_delete(request, ws: Workspace, service_id: str):
    """Ask, then delete a service."""
    error = None
    if request.method == "POST":
        try:
            services.service_delete(ws=ws, service_id=service_id)
        except PagerDutyError as exc:
            error = describe_error(exc)
        else:
            messages.success(request, _("Service deleted."))
            return redirect(_url("service_list", ws))
    service = selectors.service_get(ws=ws, service_id=service_id)
    return render_page(
        request,
        ws,
        "integrations/pagerduty/service_confirm_delete.html",
        {"service": service, "error": error},
        status=error.status if error else 200,
    )


# --- On-calls ---


@workspace_page("oncalls", Scope.ONCALLS_READ)
def oncall_list(request, ws: Workspace):
    """Show who is on call now by policy and level, and the next 7 days."""
    form = ws_forms.OnCallFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    schedule_id = filters.get("schedule") or ""
    user_id = filters.get("user") or ""
    now = selectors.oncall_list(
        ws=ws, schedule_id=schedule_id, user_id=user_id, earliest=False
    )
    start = timezone.now()
    week = selectors.oncall_list(
        ws=ws,
        since=start.replace(second=0, microsecond=0),
        until=(start + timedelta(days=7)).replace(second=0, microsecond=0),
        schedule_id=schedule_id,
        user_id=user_id,
    )
    groups: dict[str, dict] = {}
    for entry in now:
        key = entry.escalation_policy.id if entry.escalation_policy else ""
        group = groups.setdefault(
            key, {"policy": entry.escalation_policy, "levels": {}}
        )
        group["levels"].setdefault(entry.level, []).append(entry)
    policies = [
        {
            "policy": group["policy"],
            "levels": sorted(group["levels"].items(), key=lambda item: item[0] or 0),
        }
        for group in sorted(
            groups.values(), key=lambda g: g["policy"].name if g["policy"] else ""
        )
    ]
    upcoming = sorted(
        (entry for entry in week if entry.start),
        key=lambda entry: (entry.start, entry.user.name if entry.user else ""),
    )
    return render_page(
        request,
        ws,
        "integrations/pagerduty/oncall_list.html",
        {"form": form, "policies": policies, "upcoming": upcoming},
        status=200 if not request.GET or form.is_valid() else 400,
    )
