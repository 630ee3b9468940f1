from django.urls import NoReverseMatch, reverse

from integrations.adapters import AccountAdapter
from integrations.selectors import (
    environment_list_for_request,
    membership_list_for_request,
)
from integrations.views.staff import SESSION_ENVIRONMENT

# Which navigation entry each URL name belongs to.
SECTIONS = {
    "integrations:integration_list": "integrations",
    "integrations:pagerduty_config": "integrations",
    "integrations:tenant_list": "tenants",
    "integrations:audit_list": "audit",
}


def navigation(request):
    """Return what the shell's navigation needs on every page.

    Staff get the environments, the current one (from the URL, else the
    last one visited) and, for each, a link to the same section in it.
    Members get their tenants.
    """
    user = getattr(request, "user", None)
    context = {"signup_open": AccountAdapter(request).is_open_for_signup(request)}
    if user is None or not user.is_authenticated:
        return context
    if not user.is_staff:
        context["nav_memberships"] = membership_list_for_request(request=request)
        return context

    match = getattr(request, "resolver_match", None)
    view_name = match.view_name if match else ""
    kwargs = dict(match.kwargs) if match else {}
    environments = environment_list_for_request(request=request)
    wanted = kwargs.get("environment") or request.session.get(SESSION_ENVIRONMENT)
    current = next((e for e in environments if e.slug == wanted), None)
    if current is None and environments:
        current = environments[0]
    context.update(
        {
            "nav_section": SECTIONS.get(view_name, ""),
            "current_environment": current,
            "nav_environments": [
                {
                    "environment": environment,
                    "url": _same_section_url(view_name, kwargs, environment),
                    "current": environment == current,
                }
                for environment in environments
            ],
        }
    )
    return context


def _same_section_url(view_name: str, kwargs: dict, environment) -> str:
    if "environment" in kwargs:
        try:
            return reverse(
                view_name, kwargs={**kwargs, "environment": environment.slug}
            )
        except NoReverseMatch:
            pass
    return reverse("integrations:integration_list", args=[environment.slug])
