"""Staff pages scoped to one environment: the catalog and the tenants."""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from integrations.gateway.selectors import agent_list_for_environment
from integrations.models import Connection, Environment, OAuthClient, Provider
from integrations.registry import integration_list
from integrations.selectors import (
    RECONSENT_FILTERS,
    environment_list_for_request,
    integration_state_get,
    oauth_client_list_for_environment,
    reconsent_summary,
    tenant_audit_event_list,
    tenant_connection_list,
    tenant_membership_list,
)
from integrations.services.reconsent import (
    RECONSENT_COOLDOWN,
    RECONSENT_LIMIT,
    reconsent_request_send,
)
from integrations.services.tenant_apps import tenant_app_set_blocked
from integrations.services.webhooks import can_subscribe, webhook_subscription_ensure

# The last environment a staff user opened; the home page and the
# navigation fall back to it on pages without an environment in the URL.
SESSION_ENVIRONMENT = "portal_environment"


def staff_required(view):
    """Send anonymous users to sign in; refuse signed-in non-staff (403)."""

    @wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        if not request.user.is_staff:
            return render(request, "portal/forbidden.html", status=403)
        return view(request, *args, **kwargs)

    return wrapper


def environment_view(view):
    """Resolve the URL's environment slug (404 if unknown) and remember it."""

    @wraps(view)
    @staff_required
    def wrapper(request, environment: str, *args, **kwargs):
        found = next(
            (
                e
                for e in environment_list_for_request(request=request)
                if e.slug == environment
            ),
            None,
        )
        if found is None:
            raise Http404("No Environment matches the given query.")
        if request.session.get(SESSION_ENVIRONMENT) != found.slug:
            request.session[SESSION_ENVIRONMENT] = found.slug
        return view(request, found, *args, **kwargs)

    return wrapper


@environment_view
def integration_list_view(request, environment: Environment):
    """Show the catalog: one card per registered integration, with status."""
    query = request.GET.get("q", "").strip()[:100]
    clients = {
        c.provider: c
        for c in oauth_client_list_for_environment(environment=environment)
    }
    cards = [
        {
            "integration": integration,
            "client": clients.get(integration.provider),
            "state": integration_state_get(client=clients.get(integration.provider)),
        }
        for integration in integration_list(query=query)
    ]
    return render(
        request,
        "integrations/integration_list.html",
        {"environment": environment, "cards": cards, "query": query},
    )


@environment_view
def tenant_list_view(request, environment: Environment):
    """Show every tenant of the environment with its PagerDuty connection."""
    attention = request.GET.get("attention") == "1"
    query = request.GET.get("q", "").strip()[:100]
    reconsent = request.GET.get("reconsent", "")
    if reconsent not in RECONSENT_FILTERS:
        reconsent = ""
    rows = tenant_connection_list(
        environment=environment,
        attention_only=attention,
        query=query,
        reconsent=reconsent,
    )
    everyone = (
        rows
        if not (attention or query or reconsent)
        else tenant_connection_list(environment=environment)
    )
    candidates = [row for row in everyone if row.lacks_scopes]
    cooldown_start = timezone.now() - RECONSENT_COOLDOWN
    return render(
        request,
        "integrations/tenant_list.html",
        {
            "environment": environment,
            "rows": rows,
            "attention": attention,
            "query": query,
            "reconsent_filter": reconsent,
            "reconsent_candidates": candidates,
            "reconsent_askable": any(
                row.reconsent is None or row.reconsent.requested_at < cooldown_start
                for row in candidates
            ),
            "reconsent_summary": reconsent_summary(environment=environment),
            "reconsent_cooldown_start": cooldown_start,
            "agents": agent_list_for_environment(environment=environment),
        },
    )


@environment_view
def tenant_detail_view(request, environment: Environment, tenant_id: int):
    """Show one tenant to staff: its connection, members and latest events."""
    rows = tenant_connection_list(environment=environment, tenant_id=tenant_id)
    if not rows:
        raise Http404("No Tenant matches the given query.")
    row = rows[0]
    return render(
        request,
        "integrations/tenant_detail.html",
        {
            "environment": environment,
            "row": row,
            "tenant": row.tenant,
            "members": tenant_membership_list(tenant=row.tenant),
            "events": tenant_audit_event_list(tenant=row.tenant),
        },
    )


@require_POST
@environment_view
def tenant_reconsent(request, environment: Environment):
    """Email the chosen tenants' admins to reconnect for new scopes."""
    tenant_ids = [int(v) for v in request.POST.getlist("tenant") if v.isdigit()]
    if not tenant_ids:
        messages.error(request, _("Choose at least one tenant to ask."))
        return redirect("integrations:tenant_list", environment=environment.slug)
    outcome = reconsent_request_send(
        environment=environment, tenant_ids=tenant_ids, actor=request.user
    )
    _report_reconsent(request, outcome)
    url = reverse("integrations:tenant_list", args=[environment.slug])
    return redirect(f"{url}?reconsent=waiting")


def _report_reconsent(request, outcome) -> None:
    if outcome.rate_limited:
        messages.error(
            request,
            _(
                "Tenants were asked to reconnect %(limit)s times in the last "
                "hour; nothing was sent. Try again later."
            )
            % {"limit": RECONSENT_LIMIT[0]},
        )
        return
    if outcome.asked:
        sent = sum(
            1 for ask in outcome.asked for r in ask.recipients if r["outcome"] == "sent"
        )
        messages.success(
            request,
            _("Asked %(tenants)s tenant(s) to reconnect; %(sent)s email(s) sent.")
            % {"tenants": len(outcome.asked), "sent": sent},
        )
    for tenant, recipient in outcome.failed_recipients:
        messages.error(
            request,
            _("%(tenant)s: no email reached %(user)s (%(reason)s).")
            % {
                "tenant": tenant.name,
                "user": recipient["email"] or recipient["username"],
                "reason": recipient["error"],
            },
        )
    if outcome.recently_asked:
        messages.warning(
            request,
            _("Not asked again within a day: %(names)s.")
            % {"names": ", ".join(t.name for t in outcome.recently_asked)},
        )
    if outcome.not_lacking:
        messages.info(
            request,
            _(
                "%(count)s tenant(s) were skipped: not connected, or no longer "
                "missing any scope."
            )
            % {"count": len(outcome.not_lacking)},
        )


@require_POST
@environment_view
def tenant_webhook_recreate(request, environment: Environment, tenant_id: int):
    """Delete and re-create a tenant's webhook subscription at PagerDuty."""
    connection = get_object_or_404(
        Connection,
        tenant_id=tenant_id,
        tenant__environment=environment,
        provider=Provider.PAGERDUTY,
        status=Connection.Status.ACTIVE,
    )
    if not can_subscribe(connection):
        messages.error(
            request,
            _(
                "The connection was not granted webhook_subscriptions.write; "
                "a tenant admin must reconnect with it."
            ),
        )
    else:
        subscription = webhook_subscription_ensure(
            connection=connection, actor=request.user, force=True
        )
        if subscription.status == subscription.Status.FAILED:
            messages.error(request, subscription.last_error)
        else:
            messages.success(
                request,
                _("Live updates re-subscribed for %(tenant)s.")
                % {"tenant": connection.tenant.name},
            )
    return redirect("integrations:tenant_list", environment=environment.slug)


@require_POST
@environment_view
def tenant_app_block(request, environment: Environment, tenant_id: int):
    """Turn a tenant's own PagerDuty app off, or allow it again."""
    client = get_object_or_404(
        OAuthClient,
        tenant_id=tenant_id,
        tenant__environment=environment,
        provider=Provider.PAGERDUTY,
    )
    blocked = request.POST.get("blocked")
    if blocked not in {"0", "1"}:
        messages.error(request, _("Choose whether to turn the app off or on."))
        return redirect("integrations:tenant_list", environment=environment.slug)
    tenant_app_set_blocked(client=client, blocked=blocked == "1", actor=request.user)
    if blocked == "1":
        text = _(
            "%(tenant)s's own PagerDuty app is off: it connects through the "
            "environment's app and must reconnect."
        )
    else:
        text = _("%(tenant)s may use its own PagerDuty app again.")
    messages.success(request, text % {"tenant": client.tenant.name})
    return redirect("integrations:tenant_list", environment=environment.slug)
