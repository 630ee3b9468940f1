"""Incident CSV export: the page with its date form, and the streamed file.

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
from integrations.pagerduty.workspace import export
from integrations.pagerduty.workspace.access import ErrorInfo
from integrations.pagerduty.workspace.context import Workspace
from integrations.pagerduty.workspace.selectors import day_start
from integrations.pagerduty.workspace.views.base import render_page, workspace_page
from integrations.ratelimit import rate_limit_allows
from integrations.services.audit import audit_record

DEFAULT_DAYS = 30
# Each 6-month window costs a counting request; three years is 7 of them.
MAX_DAYS = 3 * 366
TEMPLATE = "integrations/pagerduty/incident_export.html"


class IncidentExportForm(forms.Form):
    since = forms.DateField(
        label=_("From"), widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=_("Until (inclusive)"), widget=forms.DateInput(attrs={"type": "date"})
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


def _default_form() -> IncidentExportForm:
    today = timezone.now().date()
    return IncidentExportForm(
        initial={"since": today - timedelta(days=DEFAULT_DAYS), "until": today}
    )


def _page(request, ws: Workspace, form, *, status=200, error=None):
    return render_page(request, ws, TEMPLATE, {"form": form, "error": error}, status)


def _filename(ws: Workspace, since: date, until: date) -> str:
    name = slugify(ws.tenant.name) or str(ws.tenant.pk)
    return f"incidents-{name}-{since:%Y%m%d}-{until:%Y%m%d}.csv"


@workspace_page("incidents", Scope.INCIDENTS_READ)
@require_GET
def incident_export(request, ws: Workspace):
    """Show the export form; with since/until in the query, check them."""
    if not request.GET:
        return _page(request, ws, _default_form())
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
    plan = export.export_plan(ws=ws, since=since, until=until)
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
