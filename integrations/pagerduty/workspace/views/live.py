"""Live incident updates: what PagerDuty's webhooks changed since a page loaded.

The changes endpoint reads the database only; it never calls PagerDuty, so
polling it costs the tenant none of its rate-limit budget.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseNotAllowed, JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from integrations.models import Connection, WebhookSubscription
from integrations.pagerduty.scopes import Scope
from integrations.pagerduty.workspace.access import (
    MissingScope,
    NotAMember,
    NotConnected,
    workspace_open,
)
from integrations.pagerduty.workspace.context import Workspace
from integrations.pagerduty.workspace.views.presentation import STATUS_LABELS
from integrations.selectors import incident_change_list, webhook_subscription_get

CHANGES_LIMIT = 100
# A delivery's received_at is stamped before its transaction commits, so a
# poll looks a little further back than `since`; a repeated change is
# harmless (the page sets the same status again).
OVERLAP = timedelta(seconds=5)
HEALTHY = (WebhookSubscription.Status.ACTIVE, WebhookSubscription.Status.CREATED)


def _error(message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


@login_required
@never_cache
def incident_changes(request, tenant_id: int):
    """Return the connection's incident changes received after `since`."""
    try:
        ws = workspace_open(user=request.user, tenant_id=tenant_id)
    except NotAMember:
        raise Http404("No Membership matches the given query.") from None
    except NotConnected:
        ws = None
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    if ws is None:
        return _error(_("PagerDuty is not connected."), 409)
    try:
        ws.require(Scope.INCIDENTS_READ)
    except MissingScope:
        return _error(_("This connection was not granted incidents.read."), 403)
    try:
        since = parse_datetime(request.GET.get("since", ""))
    except ValueError:
        since = None
    if since is None or timezone.is_naive(since):
        return _error(_("since must be an ISO 8601 time with a UTC offset."), 400)
    now = timezone.now()
    changes = incident_change_list(
        connection=ws.connection, limit=CHANGES_LIMIT, received_after=since - OVERLAP
    )
    return JsonResponse(
        {
            "now": now.isoformat(),
            "changes": [
                {
                    "id": change.resource_id,
                    "number": change.incident_number,
                    "status": change.incident_status,
                    "status_label": str(
                        STATUS_LABELS.get(
                            change.incident_status, change.incident_status
                        )
                    ),
                    "title": change.incident_title,
                }
                for change in changes
            ],
        }
    )


def live_updates(ws: Workspace) -> dict:
    """Return what an incident page needs to follow changes, or why it cannot."""
    connection: Connection = ws.connection
    subscription = webhook_subscription_get(connection=connection)
    data = {"on": False, "reason": "", "subscription": subscription}
    if not connection.has_scope(Scope.WEBHOOK_SUBSCRIPTIONS_WRITE):
        data["reason"] = _(
            "This connection was not granted webhook_subscriptions.write, so "
            "PagerDuty cannot send incident changes to the portal. Reconnect "
            "with that permission to turn live updates on."
        )
    elif subscription is None or subscription.status not in HEALTHY:
        data["reason"] = (subscription and subscription.last_error) or _(
            "The portal is not subscribed to this account's incident events; a "
            "portal administrator can subscribe it from the tenants page."
        )
    else:
        since = ws.as_of or timezone.now()
        data.update(
            on=True,
            since=since.isoformat(),
            changes_url=reverse("integrations:incident_changes", args=[ws.tenant.pk]),
        )
    return data
