"""The workspace's overview and on-call pages."""

from __future__ import annotations

from integrations.pagerduty.scopes import Scope
from integrations.pagerduty.workspace import forms as ws_forms
from integrations.pagerduty.workspace import selectors
from integrations.pagerduty.workspace.context import Workspace
from integrations.pagerduty.workspace.views.base import render_page, workspace_page
from integrations.pagerduty.workspace.views.live import live_updates


@workspace_page("overview", Scope.INCIDENTS_READ)
def workspace_overview(request, ws: Workspace):
    """Show open incidents by status and urgency, on-call now, busy services."""
    oncalls = None
    if ws.can(Scope.ONCALLS_READ):
        oncalls = selectors.oncall_list(ws=ws, earliest=True)
    live = live_updates(ws)
    return render_page(
        request,
        ws,
        "integrations/pagerduty/overview.html",
        {
            "open": selectors.open_incidents(ws=ws),
            "oncalls": oncalls,
            "live": live,
            "webhook": live["subscription"],
        },
    )


@workspace_page("oncalls", Scope.ONCALLS_READ)
def oncall_list(request, ws: Workspace):
    """Show who is on call now by policy and level, and the next 7 days.

    Two calls; the schedule and user pickers come from the directory lists.
    """
    form = ws_forms.OnCallFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    overview = selectors.oncall_overview(
        ws=ws,
        schedule_id=filters.get("schedule") or "",
        user_id=filters.get("user") or "",
    )
    form.offer(
        schedules=selectors.refs_if_granted(ws, selectors.schedule_refs),
        users=selectors.refs_if_granted(ws, selectors.user_refs),
    )
    return render_page(
        request,
        ws,
        "integrations/pagerduty/oncall_list.html",
        {"form": form, "policies": overview.now, "upcoming": overview.upcoming},
        status=200 if not request.GET or form.is_valid() else 400,
    )
