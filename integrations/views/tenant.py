"""Pages a tenant's own members see, and the tenant admin's connect actions."""

from allauth.socialaccount.adapter import get_adapter as get_social_adapter
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from integrations.models import AuditAction, Connection, Provider
from integrations.pagerduty import flow
from integrations.pagerduty.grants import scope_report
from integrations.ratelimit import rate_limit_allows
from integrations.selectors import (
    connection_get_live,
    disconnect_consequences,
    link_get_live,
    link_list_for_tenant,
    membership_get_or_404,
    oauth_client_for_connect,
    oauth_client_get_for_tenant,
    reconsent_request_open,
    tenant_admin_names,
    tenant_app_get,
    webhook_subscription_get,
)
from integrations.services.audit import audit_record
from integrations.services.connections import connection_disconnect, link_remove
from integrations.services.tenants import tenant_set_member_reads


@login_required
@never_cache
def tenant_home(request, tenant_id: int):
    """Show a tenant's PagerDuty connection to its members."""
    membership = membership_get_or_404(user=request.user, tenant_id=tenant_id)
    tenant = membership.tenant
    connection = connection_get_live(tenant=tenant)
    client = oauth_client_get_for_tenant(tenant=tenant)
    report = None
    if connection is not None:
        source = connection.oauth_client or client
        report = scope_report(
            configured=source.scope_list if source else [],
            requested=connection.requested_scopes.split(),
            granted=connection.granted_scope_list,
        )
    return render(
        request,
        "integrations/tenant_home.html",
        {
            "membership": membership,
            "tenant": tenant,
            "connection": connection,
            "report": report,
            "webhook": connection and webhook_subscription_get(connection=connection),
            "link": link_get_live(tenant=tenant, user=request.user),
            # A member is told who may reconnect or disconnect.
            "admins": (
                () if membership.is_admin else tenant_admin_names(tenant=tenant)
            ),
            "links": link_list_for_tenant(tenant=tenant) if membership.is_admin else (),
            "can_connect": oauth_client_for_connect(tenant_id=tenant.pk) is not None,
            "app": client,
            "own_app": tenant_app_get(tenant=tenant) if membership.is_admin else None,
            "reconsent": reconsent_request_open(tenant=tenant),
            "was_disconnected": connection is None
            and Connection.objects.filter(
                tenant=tenant,
                provider=Provider.PAGERDUTY,
                status=Connection.Status.REVOKED,
            ).exists(),
        },
    )


@login_required
@require_POST
@never_cache
def tenant_connect(request, tenant_id: int):
    """Start PagerDuty's authorize redirect for a tenant (admins only)."""
    membership = membership_get_or_404(user=request.user, tenant_id=tenant_id)
    if not membership.is_admin:
        return connect_error_response(
            request, reason=flow.Reason.NOT_ADMIN, tenant=membership.tenant
        )
    return _start_connect(request, membership.tenant, flow.PURPOSE_TENANT)


@login_required
@require_POST
@never_cache
def tenant_link(request, tenant_id: int):
    """Start linking the signed-in person's own PagerDuty user (any member)."""
    membership = membership_get_or_404(user=request.user, tenant_id=tenant_id)
    connection = connection_get_live(tenant=membership.tenant)
    if connection is None or not connection.is_usable:
        return connect_error_response(
            request, reason=flow.Reason.NOT_CONNECTED, tenant=membership.tenant
        )
    return _start_connect(request, membership.tenant, flow.PURPOSE_LINK)


def _start_connect(request, tenant, purpose: str):
    if oauth_client_for_connect(tenant_id=tenant.pk) is None:
        return connect_error_response(
            request, reason=flow.Reason.NOT_CONFIGURED, tenant=tenant
        )
    limit, window = settings.PAGERDUTY_CONNECT_RATE_LIMIT
    if not rate_limit_allows(
        key=f"pagerduty-connect:{request.user.pk}:{tenant.pk}",
        limit=limit,
        window=window,
    ):
        return connect_error_response(
            request, reason=flow.Reason.RATE_LIMITED, tenant=tenant
        )
    request.session[flow.SESSION_KEY] = tenant.pk
    request.session[flow.PURPOSE_KEY] = purpose
    provider = get_social_adapter(request).get_provider(request, flow.PROVIDER_ID)
    return provider.redirect(request, process="redirect")


@login_required
@require_POST
def tenant_unlink(request, tenant_id: int):
    """Unlink a person's PagerDuty user: one's own, or anyone's for admins."""
    membership = membership_get_or_404(user=request.user, tenant_id=tenant_id)
    tenant = membership.tenant
    links = link_list_for_tenant(tenant=tenant)
    link_id = request.POST.get("link", "")
    if link_id:
        if not membership.is_admin:
            raise PermissionDenied
        if not link_id.isdigit():
            raise Http404
        link = get_object_or_404(links, pk=int(link_id))
    else:
        link = get_object_or_404(links, user=request.user)
    link_remove(link=link, actor=request.user)
    if link.user_id == request.user.pk:
        text = _("Your PagerDuty account is unlinked; you no longer act in it.")
    else:
        text = _("%(user)s is unlinked.") % {"user": link.user.get_username()}
    messages.success(request, text)
    return redirect("integrations:tenant_home", tenant_id=tenant.pk)


@login_required
@require_POST
def tenant_read_setting(request, tenant_id: int):
    """Let members read through the tenant connection, or not (admins)."""
    membership = membership_get_or_404(user=request.user, tenant_id=tenant_id)
    if not membership.is_admin:
        raise PermissionDenied
    allowed = request.POST.get("members_read_through_tenant") == "on"
    tenant_set_member_reads(
        tenant=membership.tenant, allowed=allowed, actor=request.user
    )
    messages.success(request, _("Saved."))
    return redirect("integrations:tenant_home", tenant_id=membership.tenant.pk)


@login_required
@require_http_methods(["GET", "POST"])
def tenant_disconnect(request, tenant_id: int):
    """Ask, naming what stops working; then delete the tokens (admins only).

    Only a POST with `confirm=yes` disconnects; anything else shows the
    question and changes nothing.
    """
    membership = membership_get_or_404(user=request.user, tenant_id=tenant_id)
    if not membership.is_admin:
        return connect_error_response(
            request, reason=flow.Reason.NOT_ADMIN, tenant=membership.tenant
        )
    tenant = membership.tenant
    connection = connection_get_live(tenant=tenant)
    if connection is None:
        return redirect("integrations:tenant_home", tenant_id=tenant.pk)
    if request.method == "POST" and request.POST.get("confirm") == "yes":
        connection_disconnect(connection=connection, actor=request.user)
        messages.success(
            request, _("PagerDuty is disconnected; the portal deleted its tokens.")
        )
        return redirect("integrations:tenant_home", tenant_id=tenant.pk)
    return render(
        request,
        "integrations/tenant_disconnect_confirm.html",
        {
            "tenant": tenant,
            "membership": membership,
            "connection": connection,
            "consequences": disconnect_consequences(connection=connection),
        },
    )


def connect_error_response(request, *, reason: str, tenant=None, params=None):
    """Render the page that ends every failed connect; audit it per tenant."""
    title, text, status = flow.describe(reason, params)
    if tenant is not None:
        audit_record(
            actor=request.user,
            action=AuditAction.CONNECTION_FAILED,
            target=str(tenant),
            environment=tenant.environment,
            tenant=tenant,
            details={"reason": reason},
        )
    response = render(
        request,
        "integrations/tenant_connect_error.html",
        {"tenant": tenant, "title": title, "text": text, "reason": reason},
        status=status,
    )
    response["Cache-Control"] = "no-store"
    return response
