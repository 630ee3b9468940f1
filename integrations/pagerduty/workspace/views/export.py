"""Incident CSV export: the page with its date form, and the streamed file.

The incident list's Export CSV link carries the list's filters (status,
urgency, service, team, "Assigned to me", "My teams"); the page names them
and the file holds only the incidents they select.

Planning runs before the response starts, so PagerDuty being down, a
missing scope or a connection that needs reconnecting give the usual error
page. After that the file streams; if it breaks off, its last line is
`# export incomplete: …` and the response is cut short (export.py).
"""

from __future__ import annotations

from datetime import date, timedelta

from django import forms
from django.conf import settings
from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from integrations.models import AuditAction
from integrations.pagerduty.scopes import Scope
from integrations.pagerduty.workspace import export, selectors
from integrations.pagerduty.workspace.access import ErrorInfo, InvalidInput
from integrations.pagerduty.workspace.context import Workspace
from integrations.pagerduty.workspace.forms import URGENCY_CHOICES, pd_id
from integrations.pagerduty.workspace.selectors import day_start
from integrations.pagerduty.workspace.views.base import (
    render_page,
    url,
    workspace_page,
)
from integrations.pagerduty.workspace.views.incidents import (
    TAB_LABELS,
    mine_blocked,
    mine_ids,
)
from integrations.pagerduty.workspace.views.presentation import URGENCY_LABELS
from integrations.ratelimit import rate_limit_allows
from integrations.services.audit import audit_record

DEFAULT_DAYS = 30
# Each 6-month window costs a counting request; three years is 7 of them.
MAX_DAYS = 3 * 366
TEMPLATE = "integrations/pagerduty/incident_export.html"


FILTERS = ("status", "urgency", "service", "team", "assigned", "teams")


class IncidentExportForm(forms.Form):
    since = forms.DateField(
        label=_("From"), widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=_("Until (inclusive)"), widget=forms.DateInput(attrs={"type": "date"})
    )
    # The incident list's filters, carried along unchanged.
    status = forms.ChoiceField(
        choices=[("", ""), *((s, s) for s in selectors.STATUS_TABS)],
        required=False,
        widget=forms.HiddenInput,
    )
    urgency = forms.ChoiceField(
        choices=[("", ""), *URGENCY_CHOICES], required=False, widget=forms.HiddenInput
    )
    service = forms.CharField(
        required=False, max_length=40, validators=[pd_id], widget=forms.HiddenInput
    )
    team = forms.CharField(
        required=False, max_length=40, validators=[pd_id], widget=forms.HiddenInput
    )
    assigned = forms.ChoiceField(
        choices=[("", ""), ("me", "me")], required=False, widget=forms.HiddenInput
    )
    teams = forms.ChoiceField(
        choices=[("", ""), ("mine", "mine")], required=False, widget=forms.HiddenInput
    )

    def clean(self):
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if not since or not until:
            return data
        today = timezone.now().date()
        if since > today or until > today:
            raise forms.ValidationError(
                _("The dates must not be in the future."), code="future"
            )
        if since > until:
            raise forms.ValidationError(
                _("“From” must not be after “Until”."), code="window"
            )
        if (until - since).days + 1 > MAX_DAYS:
            raise forms.ValidationError(
                _("Export at most %(days)s days at a time."),
                code="too_long",
                params={"days": MAX_DAYS},
            )
        return data

    def window(self):
        """Return the validated range as [since, until) in UTC, up to now."""
        since = day_start(self.cleaned_data["since"])
        until = day_start(self.cleaned_data["until"]) + timedelta(days=1)
        return since, min(until, timezone.now().replace(microsecond=0))


def _default_form(params) -> IncidentExportForm:
    """Return the form with the default range and the list's filters."""
    today = timezone.now().date()
    kept = {key: params.get(key) for key in FILTERS if params.get(key)}
    return IncidentExportForm(
        initial={
            "since": today - timedelta(days=DEFAULT_DAYS),
            "until": today,
            **kept,
        }
    )


def _filter_values(form) -> dict:
    if form.is_bound and form.is_valid():
        return {key: form.cleaned_data.get(key) or "" for key in FILTERS}
    return {key: form.initial.get(key) or "" for key in FILTERS}


def _described(ws: Workspace, values: dict) -> list[str]:
    """Return the filters in words, services and teams by name."""
    words = []
    if values["status"] and values["status"] != "all":
        words.append(_("Status: %s") % TAB_LABELS.get(values["status"], ""))
    if values["urgency"]:
        words.append(_("Urgency: %s") % URGENCY_LABELS.get(values["urgency"], ""))
    for key, selector, label in (
        ("service", selectors.service_refs, _("Service: %s")),
        ("team", selectors.team_refs, _("Team: %s")),
    ):
        if values[key]:
            names = {
                ref.id: ref.name for ref in selectors.refs_if_granted(ws, selector)
            }
            words.append(label % names.get(values[key], values[key]))
    if values["assigned"]:
        words.append(_("Assigned to me"))
    if values["teams"]:
        words.append(_("My teams"))
    return words


def _page(request, ws: Workspace, form, *, status=200, error=None):
    values = _filter_values(form)
    return render_page(
        request,
        ws,
        TEMPLATE,
        {
            "form": form,
            "error": error,
            "filters": _described(ws, values),
            "unfiltered_url": url("incident_export", ws),
        },
        status,
    )


def _filters(ws: Workspace, data: dict) -> export.ExportFilters:
    """Return the export's filters, "mine" resolved to IDs; InvalidInput if not."""
    for key in ("assigned", "teams"):
        if data.get(key):
            why = mine_blocked(ws, key)
            if why:
                raise InvalidInput(key, why)
    user_ids, team_ids = mine_ids(
        ws, assigned=bool(data.get("assigned")), teams=bool(data.get("teams"))
    )
    if data.get("teams") and not team_ids:
        raise InvalidInput("teams", _("Your PagerDuty user is on no team."))
    status = data.get("status") or ""
    return export.ExportFilters(
        statuses=(status,) if status and status != "all" else (),
        urgency=data.get("urgency") or "",
        service_ids=(data["service"],) if data.get("service") else (),
        team_ids=tuple(dict.fromkeys([*filter(None, [data.get("team")]), *team_ids])),
        user_ids=user_ids,
    )


def _filename(ws: Workspace, since: date, until: date) -> str:
    name = slugify(ws.tenant.name) or str(ws.tenant.pk)
    return f"incidents-{name}-{since:%Y%m%d}-{until:%Y%m%d}.csv"


@workspace_page("incidents", Scope.INCIDENTS_READ)
@require_GET
def incident_export(request, ws: Workspace):
    """Show the export form; with since/until in the query, check them."""
    if "since" not in request.GET and "until" not in request.GET:
        return _page(request, ws, _default_form(request.GET))
    form = IncidentExportForm(request.GET)
    return _page(request, ws, form, status=200 if form.is_valid() else 400)


@workspace_page("incidents", Scope.INCIDENTS_READ)
@require_GET
def incident_export_csv(request, ws: Workspace):
    """Plan the export, then stream the CSV (header X-Export-Total)."""
    form = IncidentExportForm(request.GET)
    if not form.is_valid():
        return _page(request, ws, form, status=400)
    limit, window = settings.PAGERDUTY_EXPORT_RATE_LIMIT
    if not rate_limit_allows(
        key=f"pagerduty-export:{request.user.pk}", limit=limit, window=window
    ):
        error = ErrorInfo(
            _("Too many exports in a short time; try again in a minute."),
            retry=True,
            status=429,
        )
        return _page(request, ws, form, status=429, error=error)
    since, until = form.window()
    filters = _filters(ws, form.cleaned_data)
    plan = export.export_plan(ws=ws, since=since, until=until, filters=filters)
    audit_record(
        actor=request.user,
        action=AuditAction.INCIDENTS_EXPORTED,
        target=str(ws.tenant),
        environment=ws.tenant.environment,
        tenant=ws.tenant,
        details={
            "since": since.isoformat(),
            "until": until.isoformat(),
            "total": plan.total,
            "filters": filters.params(),
        },
    )
    response = StreamingHttpResponse(
        export.export_csv(ws=ws, plan=plan), content_type="text/csv; charset=utf-8"
    )
    filename = _filename(ws, form.cleaned_data["since"], form.cleaned_data["until"])
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Export-Total"] = str(plan.total)
    response["Cache-Control"] = "no-store"
    return response
