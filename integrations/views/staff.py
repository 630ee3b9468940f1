"""Staff pages scoped to one environment: the catalog and the tenants."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, render

from integrations.models import Environment
from integrations.registry import integration_list
from integrations.selectors import (
    oauth_client_list_for_environment,
    tenant_connection_list,
)

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
        found = get_object_or_404(Environment, slug=environment)
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
        {"integration": integration, "client": clients.get(integration.provider)}
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
