"""Schedule pages: the list, two weeks of the final schedule, overrides."""

from __future__ import annotations

from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from integrations.pagerduty.scopes import Scope
from integrations.pagerduty.workspace import forms as ws_forms
from integrations.pagerduty.workspace import selectors, services
from integrations.pagerduty.workspace.context import Workspace
from integrations.pagerduty.workspace.views.base import (
    confirm_page,
    form_page,
    list_offset,
    list_page,
    posted,
    render_page,
    url,
    workspace_page,
)
from integrations.pagerduty.workspace.views.presentation import timeline, zone_of


@workspace_page("schedules", Scope.SCHEDULES_READ)
def schedule_list(request, ws: Workspace):
    """List schedules: one call."""
    page = selectors.schedule_list(ws=ws, offset=list_offset(request))
    return list_page(request, ws, "integrations/pagerduty/schedule_list.html", page)


@workspace_page("schedules", Scope.SCHEDULES_READ)
def schedule_detail(request, ws: Workspace, schedule_id: str):
    """Show the final schedule of the next 14 days and the overrides."""
    detail = selectors.schedule_get(ws=ws, schedule_id=schedule_id)
    zone = zone_of(detail.schedule.time_zone)
    days, legend = timeline(detail.schedule.final, detail.since, zone)
    return render_page(
        request,
        ws,
        "integrations/pagerduty/schedule_detail.html",
        {
            "detail": detail,
            "schedule": detail.schedule,
            "days": days,
            "legend": legend,
            "zone": zone,
            "can_write": ws.can(Scope.SCHEDULES_WRITE),
            "override_form": ws_forms.OverrideForm(users=detail.schedule.users),
            "hours": range(24),
        },
    )


@require_http_methods(["GET", "POST"])
@workspace_page("schedules", Scope.SCHEDULES_WRITE, Scope.SCHEDULES_WRITE)
def schedule_override_create(request, ws: Workspace, schedule_id: str):
    """Create an override; on failure the form keeps what was typed."""
    users = selectors.schedule_get(ws=ws, schedule_id=schedule_id).schedule.users
    detail_url = url("schedule_detail", ws, schedule_id)
    return form_page(
        request,
        ws,
        form=ws_forms.OverrideForm(posted(request), users=users),
        action=lambda data: services.schedule_override_create(
            ws=ws,
            schedule_id=schedule_id,
            user_id=data["user"],
            start=data["start"],
            end=data["end"],
        ),
        success=_("Override created."),
        done_url=detail_url,
        title=_("New override"),
        cancel_url=detail_url,
    )


@require_http_methods(["GET", "POST"])
@workspace_page("schedules", Scope.SCHEDULES_WRITE, Scope.SCHEDULES_WRITE)
def schedule_override_delete(
    request, ws: Workspace, schedule_id: str, override_id: str
):
    """Ask, naming whose override and when, then delete it."""
    what = _("the override")
    if request.method == "GET":
        detail = selectors.schedule_get(ws=ws, schedule_id=schedule_id)
        found = next((o for o in detail.overrides if o.id == override_id), None)
        if found is not None:
            what = _(
                "the override of %(who)s on %(schedule)s, %(start)s to %(end)s"
            ) % {
                "who": found.user.name if found.user else _("nobody"),
                "schedule": detail.schedule.name,
                "start": _when(found.start),
                "end": _when(found.end),
            }
    back = url("schedule_detail", ws, schedule_id)
    return confirm_page(
        request,
        ws,
        what=what,
        action=lambda: services.schedule_override_delete(
            ws=ws, schedule_id=schedule_id, override_id=override_id
        ),
        success=_("Override deleted."),
        done_url=back,
        cancel_url=back,
    )


def _when(moment) -> str:
    if moment is None:
        return "—"
    return date_format(timezone.localtime(moment), "Y-m-d H:i T")
