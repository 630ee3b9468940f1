from functools import lru_cache

from django.conf import settings
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils.translation import get_language

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
    "integrations:tenant_detail": "tenants",
    "integrations:audit_list": "audit",
    "gateway:environment_policy_list": "agent_policies",
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
    urls = {
        "home": _url("home"),
        "mfa": _url("mfa_index"),
        "profile": _url("profile"),
        "logout": _url("account_logout"),
    }
    context["nav_urls"] = urls
    if not user.is_staff:
        memberships = membership_list_for_request(request=request)
        context["nav_memberships"] = memberships
        context["nav_tenants"] = [
            {
                "membership": membership,
                "url": _url("integrations:tenant_home", membership.tenant_id),
                "agents_url": _url("gateway:agent_list", membership.tenant_id),
                "approvals_url": _url("gateway:approval_list", membership.tenant_id)
                if membership.is_admin
                else "",
                "approvals_pending": getattr(membership, "pending_approvals", 0)
                if membership.is_admin
                else 0,
            }
            for membership in memberships
        ]
        return context

    match = getattr(request, "resolver_match", None)
    view_name = match.view_name if match else ""
    kwargs = dict(match.kwargs) if match else {}
    environments = environment_list_for_request(request=request)
    wanted = kwargs.get("environment") or request.session.get(SESSION_ENVIRONMENT)
    current = next((e for e in environments if e.slug == wanted), None)
    if current is None and environments:
        current = environments[0]
    urls["audit"] = _url("integrations:audit_list")
    urls["admin"] = _url("admin:index")
    if current is not None:
        urls["integrations"] = _url("integrations:integration_list", current.slug)
        urls["tenants"] = _url("integrations:tenant_list", current.slug)
        urls["agent_policies"] = _url("gateway:environment_policy_list", current.slug)
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
    return _url("integrations:integration_list", environment.slug)


def _url(name: str, *args) -> str:
    """Return reverse(name, args=args), worked out once per process.

    The shell's links are the same on every page; reversing them on each
    one cost ~25 µs a link.
    """
    return _reverse(
        get_script_prefix(),
        get_urlconf() or settings.ROOT_URLCONF,
        get_language(),
        name,
        args,
    )


@lru_cache(maxsize=4096)
def _reverse(script_prefix, urlconf, language, name, args) -> str:
    return reverse(name, urlconf=urlconf, args=args)
