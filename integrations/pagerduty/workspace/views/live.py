"""Live incident updates: what PagerDuty's webhooks changed since a page loaded.

The changes endpoint reads the database only; it never calls PagerDuty, so
polling it costs the tenant none of its rate-limit budget. The incident
list sends its filters (`live_filter`); an incident created since the page
loaded that matches them comes back with its row, which the page inserts.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseNotAllowed, JsonResponse, QueryDict
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from integrations.models import Connection, WebhookDelivery, WebhookSubscription
from integrations.pagerduty.scopes import Scope
from integrations.pagerduty.templatetags.pagerduty_rows import incident_rows as html
from integrations.pagerduty.workspace import inputs
from integrations.pagerduty.workspace.access import (
    InvalidInput,
    MissingScope,
    NotAMember,
    NotConnected,
    workspace_open,
)
from integrations.pagerduty.workspace.context import Workspace
from integrations.pagerduty.workspace.entities import IncidentListItem, Ref
from integrations.pagerduty.workspace.selectors import (
    MAX_FILTER_IDS,
    STATUS_TABS,
    IncidentQuery,
    incident_matches,
)
from integrations.pagerduty.workspace.views.presentation import STATUS_LABELS
from integrations.pagerduty.workspace.views.rows import incident_rows
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
    try:
        wanted = _wanted(request.GET)
    except InvalidInput as exc:
        return _error(exc.message, 400)
    now = timezone.now()
    changes = incident_change_list(
        connection=ws.connection, limit=CHANGES_LIMIT, received_after=since - OVERLAP
    )
    can_write = ws.can(Scope.INCIDENTS_WRITE)
    answer = []
    for change in changes:
        item = _list_item(change)
        entry = {
            "id": change.resource_id,
            "number": change.incident_number,
            "status": change.incident_status,
            "status_label": str(
                STATUS_LABELS.get(change.incident_status, change.incident_status)
            ),
            "title": change.incident_title,
        }
        if wanted is not None:
            entry["matches"] = _matches(change, item, wanted)
            created = item.created_at
            if (
                wanted["insert"]
                and entry["matches"]
                and created is not None
                and created >= since - OVERLAP
            ):
                rows = incident_rows(ws.tenant.pk, [item], wanted["status"])
                entry["row"] = str(html(rows, can_write))
        answer.append(entry)
    return JsonResponse({"now": now.isoformat(), "changes": answer})


def live_filter(query: IncidentQuery, *, insert: bool) -> str:
    """Return an incident list's filters as the changes endpoint reads them.

    `insert` asks for the rows of incidents created since: only a first
    page sorted newest first can put them at its top.
    """
    params = QueryDict(mutable=True)
    params["status"] = query.status
    if query.urgency:
        params["urgency"] = query.urgency
    if query.service_id:
        params["service"] = query.service_id
    params.setlist("team", query.teams)
    params.setlist("user", list(query.user_ids))
    if query.search:
        params["q"] = query.search
    if insert and query.sort == "newest":
        params["insert"] = "1"
    return params.urlencode()


def _wanted(params) -> dict | None:
    """Return the list's filters sent with a poll, checked; None without."""
    if "status" not in params:
        return None
    status = inputs.choice(params.get("status"), "status", STATUS_TABS)
    urgency = params.get("urgency", "")
    if urgency:
        inputs.choice(urgency, "urgency", inputs.URGENCIES)
    service = params.get("service", "")
    if service:
        inputs.pd_id(service, "service")
    teams, users = params.getlist("team"), params.getlist("user")
    if len(teams) > MAX_FILTER_IDS or len(users) > MAX_FILTER_IDS:
        raise InvalidInput("team", _("Too many IDs."))
    for value in [*teams, *users]:
        inputs.pd_id(value, "team")
    return {
        "status": status,
        "urgency": urgency,
        "service": service,
        "teams": set(teams),
        "users": set(users),
        "q": inputs.text(params.get("q", ""), "q", max_length=100).strip(),
        "insert": params.get("insert") == "1",
    }


def _list_item(change: WebhookDelivery) -> IncidentListItem:
    """Return the incident as its list row shows it, from the webhook event."""
    summary = (
        change.incident_summary if isinstance(change.incident_summary, dict) else {}
    )
    service = summary.get("service") or None
    try:
        created = parse_datetime(summary.get("created_at") or "")
    except ValueError:
        created = None
    if created is not None and timezone.is_naive(created):
        created = None
    return IncidentListItem(
        id=change.resource_id,
        number=change.incident_number,
        title=change.incident_title,
        status=change.incident_status,
        urgency=summary.get("urgency") or "",
        created_at=created,
        service=Ref(id=service["id"], name=service["name"]) if service else None,
        assignee_names=tuple(a["name"] for a in summary.get("assignees") or ()),
    )


def _matches(change: WebhookDelivery, item: IncidentListItem, wanted: dict) -> bool:
    """Return whether the incident belongs on the list with these filters."""
    summary = (
        change.incident_summary if isinstance(change.incident_summary, dict) else {}
    )
    assignees = {a["id"] for a in summary.get("assignees") or ()}
    return (
        (wanted["status"] == "all" or item.status == wanted["status"])
        and (not wanted["urgency"] or item.urgency == wanted["urgency"])
        and (
            not wanted["service"]
            or (item.service is not None and item.service.id == wanted["service"])
        )
        and (
            not wanted["teams"]
            or bool(wanted["teams"] & set(summary.get("teams") or ()))
        )
        and (not wanted["users"] or bool(wanted["users"] & assignees))
        and (not wanted["q"] or incident_matches(item, wanted["q"]))
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
