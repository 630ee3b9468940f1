"""Webhook subscription pages: list, create (secret shown once), delete."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from integrations.exceptions import PagerDutyError
from integrations.pagerduty.scopes import Scope
from integrations.pagerduty.workspace import forms as ws_forms
from integrations.pagerduty.workspace import selectors, services
from integrations.pagerduty.workspace.access import WorkspaceError, describe_error
from integrations.pagerduty.workspace.context import Workspace
from integrations.pagerduty.workspace.views.base import (
    FORM_TEMPLATE,
    confirm_page,
    list_offset,
    list_page,
    posted,
    render_page,
    simple_action,
    url,
    workspace_page,
)


@workspace_page("webhooks", Scope.WEBHOOK_SUBSCRIPTIONS_READ)
def webhook_list(request, ws: Workspace):
    """List webhook subscriptions: one call.

    A subscription for one service or team names it from the directory
    lists (read only when one is there).
    """
    page = selectors.webhook_list(ws=ws, offset=list_offset(request))
    kinds = {sub.filter_type for sub in page.items if sub.filter_id}
    names = {}
    for kind, selector in (
        ("service", selectors.service_refs),
        ("team", selectors.team_refs),
    ):
        if kind in kinds:
            names.update(
                (ref.id, ref.name) for ref in selectors.refs_if_granted(ws, selector)
            )
    rows = [
        {"sub": sub, "scope_name": names.get(sub.filter_id, "")} for sub in page.items
    ]
    return list_page(
        request,
        ws,
        "integrations/pagerduty/webhook_list.html",
        page,
        rows=rows,
        can_write=ws.can(Scope.WEBHOOK_SUBSCRIPTIONS_WRITE),
    )


@require_http_methods(["GET", "POST"])
@workspace_page(
    "webhooks", Scope.WEBHOOK_SUBSCRIPTIONS_WRITE, Scope.WEBHOOK_SUBSCRIPTIONS_WRITE
)
def webhook_create(request, ws: Workspace):
    """Create a subscription and show its signing secret, this once only.

    The secret is not stored by the portal (the subscription is the
    tenant's own), so the page tells the user to copy it now.
    """
    form = ws_forms.WebhookForm(posted(request))
    error = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            subscription = services.webhook_create(
                ws=ws,
                url=data["url"],
                events=data["events"],
                filter_type=data["filter_type"],
                filter_id=data["filter_id"],
                description=data["description"],
            )
        except (PagerDutyError, WorkspaceError) as exc:
            error = describe_error(exc)
        else:
            response = render_page(
                request,
                ws,
                "integrations/pagerduty/webhook_created.html",
                {"subscription": subscription},
                status=201,
            )
            response["Cache-Control"] = "no-store"
            return response
    status = error.status if error else (400 if request.method == "POST" else 200)
    form.offer(
        services=selectors.refs_if_granted(ws, selectors.service_refs),
        teams=selectors.refs_if_granted(ws, selectors.team_refs),
    )
    return render_page(
        request,
        ws,
        FORM_TEMPLATE,
        {
            "form": form,
            "error": error,
            "title": _("New webhook subscription"),
            "cancel_url": url("webhook_list", ws),
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
@workspace_page(
    "webhooks", Scope.WEBHOOK_SUBSCRIPTIONS_WRITE, Scope.WEBHOOK_SUBSCRIPTIONS_WRITE
)
def webhook_delete(request, ws: Workspace, subscription_id: str):
    """Ask, then delete a subscription, naming where it delivers."""
    what = ""
    if request.method == "GET":
        subscription = selectors.webhook_get(ws=ws, subscription_id=subscription_id)
        what = _("the webhook subscription delivering to %(url)s") % {
            "url": subscription.url or subscription_id
        }
        if subscription.description:
            what += f" ({subscription.description})"
    return confirm_page(
        request,
        ws,
        what=what or _("the webhook subscription"),
        action=lambda: services.webhook_delete(ws=ws, subscription_id=subscription_id),
        success=_("Webhook subscription deleted."),
        done_url=url("webhook_list", ws),
        cancel_url=url("webhook_list", ws),
    )


@require_POST
@workspace_page(
    "webhooks", Scope.WEBHOOK_SUBSCRIPTIONS_READ, Scope.WEBHOOK_SUBSCRIPTIONS_WRITE
)
def webhook_enable(request, ws: Workspace, subscription_id: str):
    """Re-enable a temporarily disabled subscription."""
    return simple_action(
        request,
        action=lambda: services.webhook_enable(ws=ws, subscription_id=subscription_id),
        success=_("Webhook subscription enabled."),
        back_url=url("webhook_list", ws),
    )


@require_POST
@workspace_page(
    "webhooks", Scope.WEBHOOK_SUBSCRIPTIONS_READ, Scope.WEBHOOK_SUBSCRIPTIONS_WRITE
)
def webhook_ping(request, ws: Workspace, subscription_id: str):
    """Ask PagerDuty to send a test event to the subscription."""
    return simple_action(
        request,
        action=lambda: services.webhook_ping(ws=ws, subscription_id=subscription_id),
        success=_("PagerDuty accepted the ping; a test event is on its way."),
        back_url=url("webhook_list", ws),
    )
