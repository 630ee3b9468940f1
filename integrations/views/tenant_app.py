"""A tenant admin's own PagerDuty app: guide, settings, check, use it."""

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from integrations.forms import TenantAppForm
from integrations.models import OAuthClient, Provider
from integrations.selectors import (
    audit_event_last_verification,
    membership_get_or_404,
    oauth_client_for_connect,
    tenant_app_get,
)
from integrations.services.oauth_clients import oauth_client_verify
from integrations.services.tenant_apps import tenant_app_save, tenant_app_set_used
from integrations.views.config import TABS, app_form_context

SESSION_VERIFICATION = "pagerduty_tenant_verification"


def _admin_tenant(request, tenant_id: int):
    """Return the tenant if the user is its admin: 404 outside it, 403 inside."""
    membership = membership_get_or_404(user=request.user, tenant_id=tenant_id)
    if not membership.is_admin:
        raise PermissionDenied
    return membership.tenant


def _page_url(tenant, tab: str = "") -> str:
    url = reverse("integrations:tenant_app", args=[tenant.pk])
    return f"{url}?tab={tab}" if tab else url


@sensitive_post_parameters("new_client_secret")
@login_required
@never_cache
def tenant_app(request, tenant_id: int):
    """Show the tenant's own app (setup guide, settings); save the settings."""
    tenant = _admin_tenant(request, tenant_id)
    environment = tenant.environment
    client = tenant_app_get(tenant=tenant)
    options = {
        "allowed_scopes": environment.tenant_app_scope_list,
        "classic_scopes": environment.tenant_app_classic_scopes,
    }
    new = OAuthClient(
        environment=environment, tenant=tenant, provider=Provider.PAGERDUTY
    )
    status = 200
    if request.method == "POST":
        instance = tenant_app_get(tenant=tenant) or new
        form = TenantAppForm(request.POST, instance=instance, **options)
        if form.is_valid():
            creating = instance.pk is None
            try:
                tenant_app_save(
                    tenant=tenant,
                    client=form.instance,
                    actor=request.user,
                    new_secret=form.cleaned_data.get("new_client_secret", ""),
                    changed_fields=form.audited_changes,
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(
                    request,
                    _("Your PagerDuty app is saved. Verify the credentials next.")
                    if creating
                    else _("Your PagerDuty app's settings are saved."),
                )
                return redirect(_page_url(tenant, "configuration"))
        tab, status = "configuration", 400
    else:
        form = TenantAppForm(instance=client or new, **options)
        tab = request.GET.get("tab")
        if tab not in TABS:
            tab = "configuration" if client else "guide"
    last_check = client and audit_event_last_verification(client=client)
    connect_app = oauth_client_for_connect(tenant_id=tenant.pk)
    return render(
        request,
        "integrations/tenant_app.html",
        {
            **app_form_context(
                request,
                form=form,
                client=client,
                allowed_scopes=environment.tenant_app_scope_list,
            ),
            "tenant": tenant,
            "environment": environment,
            "client": client,
            "form": form,
            "tab": tab,
            "classic_choices_offered": environment.tenant_app_classic_scopes,
            "urls": {
                "save": _page_url(tenant),
                "verify": reverse("integrations:tenant_app_verify", args=[tenant.pk]),
            },
            "connects_through_own": connect_app is not None
            and client is not None
            and connect_app.pk == client.pk,
            "verification": request.session.pop(
                f"{SESSION_VERIFICATION}:{tenant.pk}", None
            ),
            "last_verification": last_check,
            "last_verification_just_now": bool(last_check)
            and timezone.now() - last_check.created_at < timedelta(minutes=1),
        },
        status=status,
    )


@login_required
@require_POST
def tenant_app_verify(request, tenant_id: int):
    """Check the tenant's own app's credentials with PagerDuty."""
    tenant = _admin_tenant(request, tenant_id)
    client = tenant_app_get(tenant=tenant)
    if client is None:
        messages.error(request, _("Save the Client ID and Client Secret first."))
        return redirect(_page_url(tenant, "configuration"))
    verification = oauth_client_verify(client=client, actor=request.user)
    request.session[f"{SESSION_VERIFICATION}:{tenant.pk}"] = verification.as_dict()
    return redirect(_page_url(tenant, "configuration"))


@login_required
@require_POST
def tenant_app_use(request, tenant_id: int):
    """Connect through the tenant's own app, or back through the environment's."""
    tenant = _admin_tenant(request, tenant_id)
    client = tenant_app_get(tenant=tenant)
    used = request.POST.get("used")
    if client is None or used not in {"0", "1"}:
        messages.error(request, _("Save your PagerDuty app first."))
        return redirect(_page_url(tenant, "configuration"))
    try:
        tenant_app_set_used(client=client, used=used == "1", actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(_page_url(tenant, "configuration"))
    if used == "1":
        text = _(
            "Connects now use your own PagerDuty app. Connect (or reconnect) "
            "PagerDuty to authorize it."
        )
    else:
        text = _(
            "Connects now use the environment's PagerDuty app. Your app's "
            "settings are kept; reconnect PagerDuty to authorize the "
            "environment's app."
        )
    messages.success(request, text)
    return redirect("integrations:tenant_home", tenant_id=tenant.pk)
