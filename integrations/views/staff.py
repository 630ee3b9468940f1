"""Staff pages scoped to one environment: the catalog and the tenants."""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from integrations.models import Connection, Environment, Provider
from integrations.registry import integration_list
from integrations.selectors import (
    environment_list_for_request,
    integration_state_get,
    oauth_client_list_for_environment,
    tenant_audit_event_list,
    tenant_connection_list,
    tenant_membership_list,
)
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
    rows = tenant_connection_list(
        environment=environment, attention_only=attention, query=query
    )
    return render(
        request,
        "integrations/tenant_list.html",
        {
            "environment": environment,
            "rows": rows,
            "attention": attention,
            "query": query,
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
