"""Reads. Every tenant-scoped query names its tenant explicitly."""

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from integrations.models import (
    Connection,
    Environment,
    Membership,
    OAuthClient,
    Provider,
    Tenant,
)


def environment_list() -> QuerySet[Environment]:
    """Return all environments in display order."""
    return Environment.objects.all()


def tenant_list(*, environment: Environment) -> QuerySet[Tenant]:
    """Return the tenants of one environment."""
    return Tenant.objects.filter(environment=environment)


def membership_list_for_user(*, user) -> QuerySet[Membership]:
    """Return the user's memberships with their tenants and environments."""
    if not user.is_authenticated:
        return Membership.objects.none()
    return Membership.objects.filter(user=user).select_related("tenant__environment")


def oauth_client_get_for_environment(
    *, environment: Environment, provider: str = Provider.PAGERDUTY
) -> OAuthClient | None:
    """Return the environment-wide app of a provider, or None if not set up."""
    return OAuthClient.objects.filter(
        environment=environment, tenant__isnull=True, provider=provider
    ).first()


def membership_get_or_404(*, user, tenant_id: int) -> Membership:
    """Return the user's membership in a tenant; 404 if there is none.

    Another tenant's page answers 404, never 403, so its existence stays
    hidden.
    """
    return get_object_or_404(
        Membership.objects.select_related("tenant__environment"),
        user=user,
        tenant_id=tenant_id,
    )


def connection_get_live(*, tenant: Tenant) -> Connection | None:
    """Return the tenant's PagerDuty connection unless it was revoked."""
    return (
        Connection.objects.filter(tenant=tenant, provider=Provider.PAGERDUTY)
        .exclude(status=Connection.Status.REVOKED)
        .first()
    )


def membership_get_for_user(*, user, tenant_id) -> Membership | None:
    """Return the user's membership in a tenant, or None."""
    if not isinstance(tenant_id, int) or not user.is_authenticated:
        return None
    return (
        Membership.objects.select_related("tenant__environment")
        .filter(user=user, tenant_id=tenant_id)
        .first()
    )


def tenant_admin_membership(*, user, tenant_id) -> Membership | None:
    """Return the user's membership in a tenant if it has the admin role."""
    membership = membership_get_for_user(user=user, tenant_id=tenant_id)
    return membership if membership is not None and membership.is_admin else None


def oauth_client_get_for_tenant(*, tenant: Tenant) -> OAuthClient | None:
    """Return the tenant's own PagerDuty app, else its environment's, or None."""
    own = OAuthClient.objects.filter(tenant=tenant, provider=Provider.PAGERDUTY).first()
    if own is not None:
        return own
    return oauth_client_get_for_environment(environment=tenant.environment)


def oauth_client_for_connect(*, tenant_id) -> OAuthClient | None:
    """Return the tenant's PagerDuty app if it is enabled and has a secret."""
    if not isinstance(tenant_id, int):
        return None
    tenant = Tenant.objects.select_related("environment").filter(pk=tenant_id).first()
    if tenant is None:
        return None
    client = oauth_client_get_for_tenant(tenant=tenant)
    if client is None or not client.enabled or not client.has_secret:
        return None
    return client
