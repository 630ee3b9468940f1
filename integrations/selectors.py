"""Reads. Every tenant-scoped query names its tenant explicitly."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _

from integrations.models import (
    AuditAction,
    AuditEvent,
    Connection,
    Environment,
    Membership,
    OAuthClient,
    Provider,
    ReconsentRequest,
    Tenant,
    UserPreference,
    WebhookDelivery,
    WebhookSubscription,
)
from integrations.pagerduty import scopes as pd_scopes
from integrations.pagerduty.scopes import ALL_SCOPES


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


def environment_list_for_request(*, request) -> list[Environment]:
    """Return all environments in display order, read once per request.

    A staff page's view and the navigation both need them.
    """
    environments = getattr(request, "_portal_environments", None)
    if environments is None:
        environments = list(environment_list())
        request._portal_environments = environments
    return environments


def membership_list_for_request(*, request) -> list[Membership]:
    """Return the signed-in user's memberships, read once per request.

    A tenant page's view and the navigation both need them.
    """
    memberships = getattr(request, "_portal_memberships", None)
    if memberships is None:
        from integrations.gateway.approvals import approval_pending_subquery

        # Held agent calls per tenant, for the navigation, in the same query.
        memberships = list(
            membership_list_for_user(user=request.user).annotate(
                pending_approvals=approval_pending_subquery()
            )
        )
        request._portal_memberships = memberships
    return memberships


def membership_get_for_request_or_404(*, request, tenant_id: int) -> Membership:
    """Return the signed-in user's membership in a tenant; 404 if none.

    Like `membership_get_or_404`, from the memberships the navigation shows.
    """
    for membership in membership_list_for_request(request=request):
        if membership.tenant_id == tenant_id:
            return membership
    raise Http404("No Membership matches the given query.")


def oauth_client_get_for_environment(
    *, environment: Environment, provider: str = Provider.PAGERDUTY
) -> OAuthClient | None:
    """Return the environment-wide app of a provider, or None if not set up."""
    return OAuthClient.objects.filter(
        environment=environment, tenant__isnull=True, provider=provider
    ).first()


def membership_get(*, user, tenant_id: int) -> Membership | None:
    """Return the user's membership in a tenant with its environment, or None."""
    return (
        Membership.objects.select_related("tenant__environment")
        .filter(user=user, tenant_id=tenant_id)
        .first()
    )


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
        Connection.objects.filter(
            tenant=tenant, provider=Provider.PAGERDUTY, kind=Connection.Kind.TENANT
        )
        .exclude(status=Connection.Status.REVOKED)
        .select_related("webhook_subscription")
        .first()
    )


def link_get_live(*, tenant: Tenant, user) -> Connection | None:
    """Return the user's own PagerDuty link in a tenant unless it was revoked.

    It is a personal link, or the tenant connection when this user
    connected the tenant and is still linked through it.
    """
    if not getattr(user, "is_authenticated", False):
        return None
    return (
        Connection.objects.filter(tenant=tenant, provider=Provider.PAGERDUTY, user=user)
        .exclude(status=Connection.Status.REVOKED)
        .first()
    )


def link_list_for_tenant(*, tenant: Tenant) -> QuerySet[Connection]:
    """Return who acts in a tenant's PagerDuty as themselves, by name."""
    return (
        Connection.objects.filter(
            tenant=tenant, provider=Provider.PAGERDUTY, user__isnull=False
        )
        .exclude(status=Connection.Status.REVOKED)
        .select_related("user")
        .order_by("user__username")
    )


def oauth_client_list_for_environment(
    *, environment: Environment
) -> QuerySet[OAuthClient]:
    """Return the environment-wide apps of every provider."""
    return OAuthClient.objects.filter(environment=environment, tenant__isnull=True)


@dataclass(frozen=True)
class TenantConnectionRow:
    """One line of the staff tenants page."""

    tenant: Tenant
    connection: Connection | None
    configured_scopes: tuple[str, ...]
    missing_scopes: tuple[str, ...]
    webhook: WebhookSubscription | None = None
    # The tenant's own app (in use or not) and the app its connects use.
    own_app: OAuthClient | None = None
    app: OAuthClient | None = None
    reconsent: ReconsentRequest | None = None

    @property
    def uses_own_app(self) -> bool:
        return self.own_app is not None and self.app is self.own_app

    @property
    def lacks_scopes(self) -> bool:
        """Whether the live connection misses scopes its app asks for now."""
        return self.connection is not None and bool(self.missing_scopes)

    @property
    def needs_attention(self) -> bool:
        if self.connection is None:
            return False
        return bool(self.missing_scopes) or self.connection.status in {
            Connection.Status.NEEDS_RECONNECT,
            Connection.Status.ERROR,
        }

    @property
    def granted_scopes(self) -> list[str]:
        """Return the granted PagerDuty scopes (not `openid`, which is no API
        permission), so the count compares with the configured ones."""
        if self.connection is None:
            return []
        return [s for s in self.connection.granted_scope_list if s in ALL_SCOPES]

    @property
    def effective_scopes(self) -> frozenset[str]:
        return self.connection.effective_scopes if self.connection else frozenset()


RECONSENT_FILTERS = ("waiting", "reconnected")


def tenant_connection_list(
    *,
    environment: Environment,
    attention_only: bool = False,
    query: str = "",
    reconsent: str = "",
    tenant_id: int | None = None,
) -> list[TenantConnectionRow]:
    """Return each tenant of an environment with its live PagerDuty connection.

    Runs a fixed number of queries whatever the number of tenants. Scopes
    are compared with the connection's own app, else the environment's.
    `reconsent` keeps tenants whose latest ask to reconnect is "waiting"
    or was answered ("reconnected").
    """
    live = (
        Connection.objects.filter(
            provider=Provider.PAGERDUTY, kind=Connection.Kind.TENANT
        )
        .exclude(status=Connection.Status.REVOKED)
        .select_related("connected_by", "oauth_client", "webhook_subscription")
    )
    linked = Count(
        "connections",
        filter=Q(connections__user__isnull=False)
        & ~Q(connections__status=Connection.Status.REVOKED),
    )
    own_apps = OAuthClient.objects.filter(provider=Provider.PAGERDUTY)
    asks = ReconsentRequest.objects.select_related("requested_by").order_by(
        "-requested_at", "-id"
    )
    tenants = (
        Tenant.objects.filter(environment=environment)
        .annotate(linked_people=linked)
        .prefetch_related(
            Prefetch("connections", queryset=live, to_attr="live"),
            Prefetch("oauth_clients", queryset=own_apps, to_attr="own_apps"),
            Prefetch("reconsent_requests", queryset=asks, to_attr="asks"),
        )
        .order_by("name")
    )
    if query:
        tenants = tenants.filter(Q(name__icontains=query) | Q(slug__icontains=query))
    if tenant_id is not None:
        tenants = tenants.filter(pk=tenant_id)
    app = oauth_client_get_for_environment(environment=environment)
    rows = []
    for tenant in tenants:
        connection = tenant.live[0] if tenant.live else None
        source = (connection and connection.oauth_client) or app
        configured = tuple(source.scope_list) if source else ()
        granted = connection.granted_scope_list if connection else ()
        missing = tuple(
            s for s in configured if connection and not pd_scopes.is_granted(s, granted)
        )
        webhook = getattr(connection, "webhook_subscription", None)
        own = tenant.own_apps[0] if tenant.own_apps else None
        if own is not None:
            own.environment = environment
        in_use = own if own is not None and own.in_use else app
        ask = tenant.asks[0] if tenant.asks else None
        row = TenantConnectionRow(
            tenant, connection, configured, missing, webhook, own, in_use, ask
        )
        if attention_only and not row.needs_attention:
            continue
        if reconsent == "waiting" and not (ask and ask.is_open):
            continue
        if reconsent == "reconnected" and not (ask and not ask.is_open):
            continue
        rows.append(row)
    return rows


def audit_event_list(
    *,
    environment: Environment | None = None,
    tenant: Tenant | None = None,
    actor: str = "",
    action: str = "",
) -> QuerySet[AuditEvent]:
    """Return audit events, newest first, narrowed by the given filters."""
    events = AuditEvent.objects.select_related("environment", "tenant")
    if environment is not None:
        events = events.filter(environment=environment)
    if tenant is not None:
        events = events.filter(tenant=tenant)
    if actor:
        events = events.filter(actor_label__iexact=actor)
    if action:
        events = events.filter(action=action)
    return events


VERIFICATIONS = (AuditAction.CONFIG_VERIFIED, AuditAction.CONFIG_VERIFY_FAILED)
# What changes the credentials a check vouched for.
CREDENTIAL_CHANGES = (
    AuditAction.CONFIG_CREATED,
    AuditAction.CONFIG_UPDATED,
    AuditAction.CONFIG_SECRET_REPLACED,
)
# Outcomes that are no check of the credentials at all.
NOT_CHECKED = ("rate_limited",)


def audit_event_last_verification(*, client: OAuthClient) -> AuditEvent | None:
    """Return the latest credentials check of an app's environment and tenant.

    A check that did not run (rate limited) is not one.
    """
    events = AuditEvent.objects.filter(
        action__in=VERIFICATIONS,
        environment_id=client.environment_id,
        tenant_id=client.tenant_id,
    ).order_by("-created_at", "-id")
    for event in events[:20]:
        if (event.details or {}).get("outcome") not in NOT_CHECKED:
            return event
    return None


@dataclass(frozen=True)
class IntegrationState:
    """What can honestly be said of an app: Configured, Verified or Failing.

    `key` is "not_configured", "disabled", "configured" (saved, not checked
    since its last change), "verified" or "failing"; `last_check` the check
    it rests on, if any.
    """

    key: str
    last_check: AuditEvent | None = None

    @property
    def label(self) -> str:
        return str(INTEGRATION_STATE_LABELS[self.key])


INTEGRATION_STATE_LABELS = {
    "not_configured": _("Not configured"),
    "disabled": _("Disabled"),
    "configured": _("Configured"),
    "verified": _("Verified"),
    "failing": _("Failing"),
}


def integration_state_get(*, client: OAuthClient | None) -> IntegrationState:
    """Return an app's state from its last credentials check and changes.

    Verified only when the last check succeeded and nothing changed the
    credentials since; Failing when it failed; Configured before any check
    or after a change. Disabled wins over all three.
    """
    if client is None:
        return IntegrationState("not_configured")
    last = audit_event_last_verification(client=client)
    if not client.enabled:
        return IntegrationState("disabled", last)
    if last is None:
        return IntegrationState("configured")
    changed = AuditEvent.objects.filter(
        action__in=CREDENTIAL_CHANGES,
        environment_id=client.environment_id,
        tenant_id=client.tenant_id,
        created_at__gt=last.created_at,
    ).exists()
    if changed:
        return IntegrationState("configured", last)
    if (last.details or {}).get("outcome") == "ok":
        return IntegrationState("verified", last)
    return IntegrationState("failing", last)


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


def tenant_app_get(*, tenant: Tenant) -> OAuthClient | None:
    """Return the tenant's own PagerDuty app, in use or not, or None."""
    return (
        OAuthClient.objects.select_related("environment", "tenant")
        .filter(tenant=tenant, provider=Provider.PAGERDUTY)
        .first()
    )


def oauth_client_get_for_tenant(*, tenant: Tenant) -> OAuthClient | None:
    """Return the app the tenant connects through, configured or not.

    The tenant's own app when it may be used (`OAuthClient.in_use`),
    otherwise the environment's; None when neither exists.
    """
    own = tenant_app_get(tenant=tenant)
    if own is not None and own.in_use:
        return own
    return oauth_client_get_for_environment(environment=tenant.environment)


def oauth_client_for_connect(*, tenant_id) -> OAuthClient | None:
    """Return the app a tenant's connect uses now, or None if it cannot.

    A disabled environment app switches PagerDuty off for every tenant of
    the environment, own apps included; without an environment app, only
    tenants with their own app can connect.
    """
    if not isinstance(tenant_id, int):
        return None
    tenant = Tenant.objects.select_related("environment").filter(pk=tenant_id).first()
    if tenant is None:
        return None
    environment_app = oauth_client_get_for_environment(environment=tenant.environment)
    if environment_app is not None and not environment_app.enabled:
        return None
    client = oauth_client_get_for_tenant(tenant=tenant)
    if client is None or not client.in_use:
        return None
    return client


def webhook_subscription_for_receiver(*, receiver_id) -> WebhookSubscription | None:
    """Return the receiving subscription behind a receiver URL, or None.

    A connection waiting for a reconnect keeps receiving: the subscription
    does not depend on its tokens, and refusals would make PagerDuty
    disable it.
    """
    return (
        WebhookSubscription.objects.select_related("connection")
        .exclude(connection__status=Connection.Status.REVOKED)
        .filter(
            receiver_id=receiver_id,
            status__in=[
                WebhookSubscription.Status.CREATED,
                WebhookSubscription.Status.ACTIVE,
                WebhookSubscription.Status.TEMPORARILY_DISABLED,
            ],
        )
        .exclude(pd_subscription_id="")
        .first()
    )


def webhook_subscription_get(*, connection: Connection) -> WebhookSubscription | None:
    """Return the connection's webhook subscription, if it has one.

    A connection from `connection_get_live` carries it already (no query).
    """
    try:
        return connection.webhook_subscription
    except WebhookSubscription.DoesNotExist:
        return None


def incident_change_list(
    *,
    connection: Connection,
    limit: int = 50,
    received_after: datetime | None = None,
) -> list[WebhookDelivery]:
    """Return the latest webhook-reported state of recently changed incidents.

    One delivery per incident, the one that occurred last (not the last to
    arrive: PagerDuty may deliver out of order), newest first. With
    `received_after`, only incidents whose latest state arrived after it.
    """
    deliveries = WebhookDelivery.objects.filter(
        subscription__connection=connection,
        outcome=WebhookDelivery.Outcome.PROCESSED,
    ).exclude(resource_id="")
    if received_after is not None:
        # A late copy of an older event must not win over a newer one that
        # arrived earlier, so compare against every delivery of the incident.
        recent = deliveries.filter(received_at__gt=received_after)
        deliveries = deliveries.filter(resource_id__in=recent.values("resource_id"))
    latest = {}
    for delivery in deliveries.order_by("-occurred_at", "-received_at", "-id")[
        : limit * 20
    ]:
        latest.setdefault(delivery.resource_id, delivery)
    changes = list(latest.values())
    if received_after is not None:
        changes = [c for c in changes if c.received_at > received_after]
    return changes[:limit]


def reconsent_request_open(*, tenant: Tenant) -> ReconsentRequest | None:
    """Return staff's latest unanswered ask to reconnect this tenant, if any."""
    return (
        ReconsentRequest.objects.filter(tenant=tenant, reconnected_at__isnull=True)
        .select_related("requested_by")
        .order_by("-requested_at", "-id")
        .first()
    )


@dataclass(frozen=True)
class ReconsentSummary:
    """Staff's asks to reconnect in an environment, latest per tenant."""

    latest: tuple[ReconsentRequest, ...]

    @property
    def asked(self) -> int:
        return len(self.latest)

    @property
    def reconnected(self) -> int:
        return sum(1 for ask in self.latest if not ask.is_open)

    @property
    def waiting(self) -> int:
        return self.asked - self.reconnected

    @property
    def with_failures(self) -> list[ReconsentRequest]:
        return [ask for ask in self.latest if ask.failed_recipients]


def reconsent_summary(*, environment: Environment) -> ReconsentSummary:
    """Return each tenant's latest ask to reconnect in an environment."""
    newest = (
        ReconsentRequest.objects.filter(tenant=OuterRef("tenant"))
        .order_by("-requested_at", "-id")
        .values("pk")[:1]
    )
    latest = (
        ReconsentRequest.objects.filter(
            tenant__environment=environment, pk=Subquery(newest)
        )
        .select_related("tenant", "requested_by")
        .order_by("tenant__name")
    )
    return ReconsentSummary(tuple(latest))


def user_time_zone_get(*, user) -> str:
    """Return the IANA name of the zone this person's times are shown in."""
    name = (
        UserPreference.objects.filter(user=user)
        .values_list("time_zone", flat=True)
        .first()
    )
    return name or "UTC"


@dataclass(frozen=True)
class DisconnectConsequences:
    """What stops when a tenant's PagerDuty connection goes."""

    members: int
    links: int
    live_updates: bool


def disconnect_consequences(*, connection: Connection) -> DisconnectConsequences:
    """Return who and what a disconnect of this connection affects."""
    tenant = connection.tenant
    links = (
        Connection.objects.filter(tenant=tenant, kind=Connection.Kind.PERSONAL)
        .exclude(status=Connection.Status.REVOKED)
        .count()
    )
    subscription = WebhookSubscription.objects.filter(connection=connection).first()
    return DisconnectConsequences(
        members=Membership.objects.filter(tenant=tenant).count(),
        links=links,
        live_updates=bool(subscription and subscription.pd_subscription_id),
    )


def tenant_admin_names(*, tenant: Tenant) -> list[str]:
    """Return the tenant admins' usernames, for members who need one."""
    return list(
        Membership.objects.filter(tenant=tenant, role=Membership.Role.ADMIN)
        .order_by("user__username")
        .values_list("user__username", flat=True)
    )


@dataclass(frozen=True)
class AppReach:
    """Who depends on an app: what disabling it or changing its ID touches."""

    tenants: int
    connected: int
    links: int


def app_reach_get(*, client: OAuthClient) -> AppReach:
    """Return how many tenants an app serves and how many connected through it."""
    through = Connection.objects.filter(oauth_client=client).exclude(
        status=Connection.Status.REVOKED
    )
    tenants = Tenant.objects.filter(environment_id=client.environment_id)
    if client.tenant_id:
        tenants = tenants.filter(pk=client.tenant_id)
    return AppReach(
        tenants=tenants.count(),
        connected=through.filter(kind=Connection.Kind.TENANT).count(),
        links=through.filter(kind=Connection.Kind.PERSONAL).count(),
    )


def tenant_membership_list(*, tenant: Tenant) -> QuerySet[Membership]:
    """Return a tenant's members with their users, admins first."""
    return (
        Membership.objects.filter(tenant=tenant)
        .select_related("user")
        .order_by("role", "user__username")
    )


def tenant_audit_event_list(*, tenant: Tenant, limit: int = 10) -> list[AuditEvent]:
    """Return a tenant's latest audit events, newest first."""
    return list(
        AuditEvent.objects.filter(tenant=tenant).order_by("-created_at", "-id")[:limit]
    )


def invitation_list_pending(*, tenant: Tenant) -> list:
    """Return the tenant's open, unexpired invitations, newest first."""
    from django.utils import timezone

    from integrations.models import Invitation

    return list(
        Invitation.objects.filter(
            tenant=tenant,
            accepted_at__isnull=True,
            revoked_at__isnull=True,
            expires_at__gt=timezone.now(),
        ).select_related("invited_by")
    )
