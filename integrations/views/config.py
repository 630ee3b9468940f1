"""The PagerDuty integration page: setup guide, configuration, checks."""

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from integrations.forms import (
    GatewayUrlForm,
    PagerDutyConfigForm,
    TenantAppsSettingForm,
)
from integrations.models import Environment, OAuthClient, Provider
from integrations.pagerduty import scopes as pd_scopes
from integrations.selectors import (
    app_reach_get,
    integration_state_get,
    oauth_client_get_for_environment,
)
from integrations.services.environments import environment_set_gateway_url
from integrations.services.oauth_clients import (
    oauth_client_save,
    oauth_client_set_enabled,
    oauth_client_verify,
)
from integrations.services.tenant_apps import environment_set_tenant_apps
from integrations.views.staff import environment_view

SESSION_VERIFICATION = "pagerduty_verification"
TABS = ("configuration", "guide")
GUIDES = ("scoped", "classic")


def _config_url(environment: Environment, tab: str = "") -> str:
    url = reverse("integrations:pagerduty_config", args=[environment.slug])
    return f"{url}?tab={tab}" if tab else url


def app_form_context(
    request, *, form, client: OAuthClient | None, allowed_scopes=None
) -> dict:
    """Return what the app form and setup guide partials need.

    `allowed_scopes` limits the scope table (a tenant's own app may only
    ask for what its environment allows); None offers all 15.
    """
    allowed = set(pd_scopes.ALL_SCOPES if allowed_scopes is None else allowed_scopes)
    resources = [
        pd_scopes.Resource(
            r.label,
            r.read if r.read in allowed else None,
            r.write if r.write in allowed else None,
        )
        for r in pd_scopes.RESOURCES
        if r.read in allowed or r.write in allowed
    ]
    guide = request.GET.get("guide")
    if guide not in GUIDES:
        guide = "classic" if client is not None and client.is_classic else "scoped"
    return {
        "resources": resources,
        "minimum_scopes": pd_scopes.split(
            pd_scopes.canonical(pd_scopes.MINIMUM_SCOPES)
        ),
        "all_scopes": [s for s in pd_scopes.ALL_SCOPES if s in allowed],
        "guide": guide,
        "secret_typed": bool(request.POST.get("new_client_secret")),
    }


@sensitive_post_parameters("new_client_secret")
@environment_view
def pagerduty_config(request, environment: Environment):
    """Show the setup guide and the configuration form; save the form."""
    client = oauth_client_get_for_environment(environment=environment)
    new = OAuthClient(environment=environment, provider=Provider.PAGERDUTY)
    if request.method == "POST":
        # The form writes typed values onto its instance; the page's status,
        # links and Client ID check must keep showing the stored ones.
        instance = oauth_client_get_for_environment(environment=environment)
        form = PagerDutyConfigForm(request.POST, instance=instance or new)
        if form.is_valid():
            return _save(request, form, environment)
        tab = "configuration"
    else:
        form = PagerDutyConfigForm(instance=client or new)
        tab = request.GET.get("tab")
        if tab not in TABS:
            tab = "configuration" if client else "guide"
    return _render(request, environment, client, form, tab)


def _render(request, environment, client, form, tab, *, gateway_form=None, status=None):
    """Render the PagerDuty page (status 400 after a refused POST)."""
    state = integration_state_get(client=client)
    last_check = state.last_check
    return render(
        request,
        "integrations/pagerduty_config.html",
        {
            **app_form_context(request, form=form, client=client),
            "environment": environment,
            "client": client,
            "form": form,
            "tab": tab,
            "urls": {
                "save": _config_url(environment),
                "verify": reverse(
                    "integrations:pagerduty_verify", args=[environment.slug]
                ),
                "audit": reverse("integrations:audit_list")
                + f"?environment={environment.slug}",
            },
            "verification": request.session.pop(
                f"{SESSION_VERIFICATION}:{environment.slug}", None
            ),
            "state": state,
            "reach": client and app_reach_get(client=client),
            "last_verification": last_check,
            "last_verification_just_now": bool(last_check)
            and timezone.now() - last_check.created_at < timedelta(minutes=1),
            "secret_typed": bool(request.POST.get("new_client_secret")),
            "gateway_form": gateway_form
            or GatewayUrlForm(initial={"gateway_url": environment.gateway_url}),
        },
        status=status or (400 if request.method == "POST" else 200),
    )


@require_POST
@environment_view
def pagerduty_gateway(request, environment: Environment):
    """Set the environment's gateway base URL, which makes its redirect URL."""
    form = GatewayUrlForm(request.POST)
    if not form.is_valid():
        client = oauth_client_get_for_environment(environment=environment)
        new = OAuthClient(environment=environment, provider=Provider.PAGERDUTY)
        return _render(
            request,
            environment,
            client,
            PagerDutyConfigForm(instance=client or new),
            "configuration",
            gateway_form=form,
            status=400,
        )
    updated = environment_set_gateway_url(
        environment=environment,
        gateway_url=form.cleaned_data["gateway_url"],
        actor=request.user,
    )
    messages.success(
        request,
        _(
            "The redirect URL of %(env)s is now %(url)s. Add it to the "
            "PagerDuty app's redirect URLs (App Registration) before tenants "
            "connect; live-update subscriptions deliver to the new address "
            "once re-created on the Tenants page."
        )
        % {"env": updated.name, "url": updated.redirect_url},
    )
    return redirect(_config_url(updated, "configuration"))


def _save(request, form: PagerDutyConfigForm, environment: Environment):
    creating = form.instance.pk is None
    id_changed = form.client_id_change_pending
    oauth_client_save(
        client=form.instance,
        actor=request.user,
        new_secret=form.cleaned_data.get("new_client_secret", ""),
        changed_fields=form.audited_changes,
    )
    if creating:
        text = _("PagerDuty is configured for %(env)s. Verify the credentials next.")
    elif id_changed:
        text = _(
            "PagerDuty settings saved for %(env)s. The Client ID changed: every "
            "tenant has to reconnect PagerDuty."
        )
    else:
        text = _("PagerDuty settings saved for %(env)s.")
    messages.success(request, text % {"env": environment.name})
    return redirect(_config_url(environment, "configuration"))


@require_POST
@environment_view
def pagerduty_verify(request, environment: Environment):
    """Check the stored credentials with PagerDuty and show the outcome."""
    client = oauth_client_get_for_environment(environment=environment)
    if client is None:
        messages.error(request, _("Save the Client ID and Client Secret first."))
        return redirect(_config_url(environment, "configuration"))
    verification = oauth_client_verify(client=client, actor=request.user)
    key = f"{SESSION_VERIFICATION}:{environment.slug}"
    request.session[key] = verification.as_dict()
    return redirect(_config_url(environment, "configuration"))


@require_POST
@environment_view
def pagerduty_set_enabled(request, environment: Environment):
    """Enable or disable the environment's PagerDuty app.

    Disabling first names whom it stops (a POST with `confirm=yes` does it).
    """
    client = oauth_client_get_for_environment(environment=environment)
    enabled = request.POST.get("enabled")
    if client is None or enabled not in {"0", "1"}:
        messages.error(request, _("Configure PagerDuty before enabling it."))
        return redirect(_config_url(environment, "configuration"))
    if enabled == "0" and client.enabled and request.POST.get("confirm") != "yes":
        return render(
            request,
            "integrations/pagerduty_disable_confirm.html",
            {
                "environment": environment,
                "client": client,
                "reach": app_reach_get(client=client),
            },
        )
    oauth_client_set_enabled(client=client, enabled=enabled == "1", actor=request.user)
    if client.enabled:
        text = _("PagerDuty is enabled for %(env)s: tenants can connect.")
    else:
        text = _(
            "PagerDuty is disabled for %(env)s: tenants cannot connect until "
            "it is enabled again."
        )
    messages.success(request, text % {"env": environment.name})
    return redirect(_config_url(environment, "configuration"))


@require_POST
@environment_view
def pagerduty_tenant_apps(request, environment: Environment):
    """Allow tenants' own apps in the environment or not, and their scopes."""
    form = TenantAppsSettingForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
        return redirect(_config_url(environment, "configuration"))
    try:
        updated = environment_set_tenant_apps(
            environment=environment,
            allowed=form.cleaned_data["allowed"],
            scopes=form.cleaned_data["tenant_app_scopes"],
            actor=request.user,
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(_config_url(environment, "configuration"))
    if updated.tenant_apps_allowed:
        text = _("Tenant admins of %(env)s may now use their own PagerDuty app.")
    else:
        text = _(
            "Tenants of %(env)s connect through the environment's app only; "
            "their own apps are kept but not used."
        )
    messages.success(request, text % {"env": environment.name})
    return redirect(_config_url(environment, "configuration"))
