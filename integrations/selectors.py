"""Reads. Every tenant-scoped query names its tenant explicitly."""

from django.db.models import QuerySet

from integrations.models import Environment, Membership, OAuthClient, Provider, Tenant


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
