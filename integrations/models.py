import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from integrations import validators
from integrations.crypto import UNDECRYPTABLE, encrypted
from integrations.pagerduty import scopes as pd_scopes

CALLBACK_PATH = "/integration-callback"


class Provider(models.TextChoices):
    PAGERDUTY = "pagerduty", "PagerDuty"


class Region(models.TextChoices):
    US = "us", _("US")
    EU = "eu", _("EU")


class ConnectionStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    NEEDS_RECONNECT = "needs_reconnect", _("Needs reconnect")
    REVOKED = "revoked", _("Revoked")
    ERROR = "error", _("Error")


class AppType(models.TextChoices):
    SCOPED = "scoped", _("Scoped OAuth")
    CLASSIC = "classic", _("Classic User OAuth")


# PagerDuty's refresh-token lifetimes (NOTES §1 "Refresh"): Scoped 30 days,
# Classic 210 days; both rotate on every refresh.
REFRESH_TOKEN_LIFETIMES = {
    AppType.SCOPED: timedelta(days=30),
    AppType.CLASSIC: timedelta(days=210),
}


class ConnectionKind(models.TextChoices):
    TENANT = "tenant", _("Tenant connection")
    PERSONAL = "personal", _("Personal link")


def _links_follow_their_user(collector, field, sub_objs, using):
    """on_delete: a deleted user's personal links go; tenant connections stay.

    A tenant connection is only unlinked from its admin (user set to NULL):
    it still serves the tenant's webhooks, keep-alive and shared reads.
    """
    personal = [link for link in sub_objs if link.kind == ConnectionKind.PERSONAL]
    shared = [link for link in sub_objs if link.kind != ConnectionKind.PERSONAL]
    if personal:
        models.CASCADE(collector, field, personal, using)
    if shared:
        models.SET_NULL(collector, field, shared, using)


class AuditAction(models.TextChoices):
    CONFIG_CREATED = "config.created", _("Integration configured")
    CONFIG_UPDATED = "config.updated", _("Integration updated")
    CONFIG_SECRET_REPLACED = "config.secret_replaced", _("Client secret replaced")
    CONFIG_ENABLED = "config.enabled", _("Integration enabled")
    CONFIG_DISABLED = "config.disabled", _("Integration disabled")
    CONFIG_VERIFIED = "config.verified", _("Credentials verified")
    CONFIG_VERIFY_FAILED = "config.verify_failed", _("Credentials check failed")
    MEMBER_INVITED = "member.invited", _("Member invited")
    MEMBER_JOINED = "member.joined", _("Invitation accepted")
    INVITATION_REVOKED = "member.invitation_revoked", _("Invitation withdrawn")
    MEMBER_ROLE_CHANGED = "member.role_changed", _("Member role changed")
    MEMBER_REMOVED = "member.removed", _("Member removed")
    ENVIRONMENT_GATEWAY_CHANGED = (
        "environment.gateway_changed",
        _("Gateway base URL changed"),
    )
    CONNECTION_CREATED = "connection.created", _("PagerDuty connected")
    CONNECTION_RECONNECTED = "connection.reconnected", _("PagerDuty reconnected")
    CONNECTION_REFRESH_FAILED = "connection.refresh_failed", _("Token refresh failed")
    CONNECTION_DISCONNECTED = "connection.disconnected", _("PagerDuty disconnected")
    CONNECTION_FAILED = "connection.failed", _("Connect attempt failed")
    LINK_CREATED = "link.created", _("PagerDuty account linked")
    LINK_RELINKED = "link.relinked", _("PagerDuty account linked again")
    LINK_REMOVED = "link.removed", _("PagerDuty account unlinked")
    TENANT_READ_SETTING = "tenant.read_setting", _("Member read access changed")
    TENANT_APPS_ALLOWED = (
        "environment.tenant_apps_allowed",
        _("Tenants' own apps allowed"),
    )
    TENANT_APPS_FORBIDDEN = (
        "environment.tenant_apps_forbidden",
        _("Tenants' own apps turned off"),
    )
    TENANT_APPS_SCOPES = (
        "environment.tenant_app_scopes",
        _("Scopes allowed to tenants' apps changed"),
    )
    TENANT_APP_USED = "tenant_app.used", _("Tenant switched to its own app")
    TENANT_APP_UNUSED = (
        "tenant_app.unused",
        _("Tenant switched back to the environment's app"),
    )
    TENANT_APP_BLOCKED = "tenant_app.blocked", _("Tenant's own app turned off by staff")
    TENANT_APP_UNBLOCKED = (
        "tenant_app.unblocked",
        _("Tenant's own app allowed again by staff"),
    )
    RECONSENT_REQUESTED = "reconsent.requested", _("Asked to reconnect")
    CONNECT_STATE_INVALID = (
        "oauth.callback.state_invalid",
        _("Connect return not verified"),
    )
    RESOURCE_CHANGED = "resource.changed", _("PagerDuty resource changed")
    RESOURCE_CHANGE_FAILED = (
        "resource.change_failed",
        _("PagerDuty change refused or failed"),
    )
    WEBHOOK_SUBSCRIBED = "webhook.subscribed", _("Live updates subscribed")
    WEBHOOK_SUBSCRIBE_FAILED = "webhook.subscribe_failed", _("Live updates failed")
    WEBHOOK_UNSUBSCRIBED = "webhook.unsubscribed", _("Live updates unsubscribed")
    INCIDENTS_EXPORTED = "incidents.exported", _("Incidents exported (CSV)")
    AGENT_AUTHORIZED = "agent.authorized", _("AI agent authorized")
    AGENT_REVOKED = "agent.revoked", _("AI agent revoked")
    AGENT_POLICY_CHANGED = "agent.policy_changed", _("AI agent policy changed")
    AGENT_CALL_APPROVED = "agent.call_approved", _("AI agent call approved")
    AGENT_CALL_REJECTED = "agent.call_rejected", _("AI agent call rejected")
    MASKING_RULE_ADDED = "masking_rule.added", _("Masking rule added")
    MASKING_RULE_REMOVED = "masking_rule.removed", _("Masking rule removed")
    TOOL_CALLS_EXPORTED = "tool_calls.exported", _("Agent tool calls exported (CSV)")
    AGENT_BUDGET_CHANGED = "agent_budget.changed", _("Agent budgets changed")


class Environment(models.Model):
    """A deployment stage of the vendor's product (development, staging, …)."""

    name = models.CharField(_("name"), max_length=80)
    slug = models.SlugField(_("slug"), max_length=40, unique=True)
    gateway_url = models.CharField(
        _("gateway base URL"),
        max_length=200,
        blank=True,
        validators=[validators.validate_base_url],
        help_text=_(
            "Public base URL of this environment's gateway, with no trailing "
            "slash. Empty means this portal's own PORTAL_BASE_URL."
        ),
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    tenant_apps_allowed = models.BooleanField(
        _("tenants may use their own PagerDuty app"),
        default=False,
        help_text=_(
            "A tenant admin may register a PagerDuty app in the tenant's own "
            "PagerDuty account and connect through it."
        ),
    )
    tenant_app_scopes = models.CharField(
        _("scopes tenants' own apps may request"),
        max_length=500,
        default=pd_scopes.canonical(pd_scopes.ALL_SCOPES),
        validators=[validators.validate_scope_string],
    )

    class Meta:
        ordering = ["position", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(tenant_app_scopes__regex=pd_scopes.scopes_regex()),
                name="environment_tenant_app_scopes_known",
            ),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        self.name = validators.clean_display_name(self.name)

    @property
    def base_url(self) -> str:
        return self.gateway_url or settings.PORTAL_BASE_URL

    @property
    def redirect_url(self) -> str:
        """Return the redirect URL admins register on their PagerDuty app."""
        return f"{self.base_url}{CALLBACK_PATH}"

    @property
    def tenant_app_scope_list(self) -> list[str]:
        return pd_scopes.split(self.tenant_app_scopes)

    @property
    def tenant_app_classic_scopes(self) -> list[str]:
        """Return the Classic scopes a tenant's own app may request here.

        `read` stands for every read scope and `write` for every scope, so
        each is offered only when all it covers is allowed.
        """
        allowed = set(self.tenant_app_scope_list)
        reads = {s for s in pd_scopes.ALL_SCOPES if s.endswith(".read")}
        offered = []
        if reads <= allowed:
            offered.append(pd_scopes.CLASSIC_READ)
        if set(pd_scopes.ALL_SCOPES) <= allowed:
            offered.append(pd_scopes.CLASSIC_WRITE)
        return offered


class Tenant(models.Model):
    """A customer of the vendor, living in exactly one environment."""

    environment = models.ForeignKey(
        Environment, on_delete=models.PROTECT, related_name="tenants"
    )
    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(_("slug"), max_length=60)
    members_read_through_tenant = models.BooleanField(
        _("members read through the tenant connection"),
        default=True,
        help_text=_(
            "Members without a linked PagerDuty account may read through the "
            "tenant's connection. Writes always act as the person."
        ),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["environment", "slug"], name="tenant_unique_slug"
            ),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        self.name = validators.clean_display_name(self.name)


class Membership(models.Model):
    """A Django user's role in a tenant."""

    class Role(models.TextChoices):
        ADMIN = "admin", _("Admin")
        MEMBER = "member", _("Member")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    tenant = models.ForeignKey(
        Tenant, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(
        _("role"), max_length=10, choices=Role.choices, default=Role.MEMBER
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["tenant__name", "user__username"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "tenant"], name="membership_unique_user_tenant"
            ),
            models.CheckConstraint(
                condition=Q(role__in=["admin", "member"]), name="membership_role_valid"
            ),
        ]

    def __str__(self):
        return f"{self.user} in {self.tenant} ({self.get_role_display()})"

    @property
    def is_admin(self) -> bool:
        return self.role == self.Role.ADMIN


class OAuthClient(models.Model):
    """A PagerDuty OAuth app's credentials and the scopes to request.

    One per environment (tenant empty). A tenant on another PagerDuty
    account can hold its own, because a Scoped app serves only the account
    that registered it. A Classic app serves any account, with the one
    scope `read` or `write`.
    """

    AppType = AppType

    provider = models.CharField(
        _("provider"),
        max_length=20,
        choices=Provider.choices,
        default=Provider.PAGERDUTY,
    )
    environment = models.ForeignKey(
        Environment, on_delete=models.PROTECT, related_name="oauth_clients"
    )
    tenant = models.ForeignKey(
        Tenant,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="oauth_clients",
        help_text=_("Empty for the environment's app; set for a tenant's own."),
    )
    app_type = models.CharField(
        _("app type"), max_length=10, choices=AppType.choices, default=AppType.SCOPED
    )
    client_id = models.CharField(
        _("Client ID"), max_length=128, validators=[validators.validate_client_id]
    )
    client_secret = encrypted(
        models.TextField(
            _("Client Secret"), validators=[validators.validate_client_secret]
        )
    )
    secret_last4 = models.CharField(max_length=4, editable=False)
    scopes = models.CharField(
        _("scopes"),
        max_length=500,
        default=pd_scopes.canonical(pd_scopes.MINIMUM_SCOPES),
        validators=[validators.validate_scope_field],
    )
    enabled = models.BooleanField(_("enabled"), default=True)
    staff_disabled = models.BooleanField(
        _("turned off by staff"),
        default=False,
        help_text=_(
            "A tenant's own app that staff turned off: the tenant connects "
            "through the environment's app until staff allow it again."
        ),
    )
    region = models.CharField(
        _("service region"), max_length=2, choices=Region.choices, default=Region.US
    )
    subdomain = models.CharField(
        _("PagerDuty subdomain"),
        max_length=63,
        blank=True,
        validators=[validators.validate_subdomain],
        help_text=_("The account that registered the app: <subdomain>.pagerduty.com"),
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("OAuth client")
        ordering = ["environment__position", "tenant__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["environment", "provider"],
                condition=Q(tenant__isnull=True),
                name="oauthclient_one_per_environment",
            ),
            models.UniqueConstraint(
                fields=["tenant", "provider"],
                condition=Q(tenant__isnull=False),
                name="oauthclient_one_per_tenant",
            ),
            models.CheckConstraint(
                condition=Q(provider__in=Provider.values), name="oauthclient_provider"
            ),
            models.CheckConstraint(
                condition=Q(region__in=Region.values), name="oauthclient_region"
            ),
            models.CheckConstraint(
                condition=Q(app_type__in=AppType.values),
                name="oauthclient_app_type_valid",
            ),
            models.CheckConstraint(
                condition=Q(
                    app_type=AppType.SCOPED, scopes__regex=pd_scopes.scopes_regex()
                )
                | Q(app_type=AppType.CLASSIC, scopes__in=pd_scopes.CLASSIC_SCOPES),
                name="oauthclient_scopes_known",
            ),
            *(
                models.CheckConstraint(
                    condition=Q(app_type=AppType.CLASSIC)
                    | Q(scopes__regex=rf"(^| ){scope.replace('.', '[.]')}( |$)"),
                    name=f"oauthclient_scopes_min_{scope.replace('.', '_')}",
                )
                for scope in sorted(pd_scopes.MINIMUM_SCOPES)
            ),
            models.CheckConstraint(
                condition=Q(tenant__isnull=False) | Q(staff_disabled=False),
                name="oauthclient_staff_disabled_tenant_only",
            ),
        ]

    def __str__(self):
        owner = self.tenant or self.environment
        return f"{self.get_provider_display()} app for {owner}"

    def clean(self):
        from django.core.exceptions import ValidationError

        if self.tenant_id and self.tenant.environment_id != self.environment_id:
            raise ValidationError(
                {"tenant": _("The tenant belongs to another environment.")},
                code="tenant_environment_mismatch",
            )
        try:
            validators.validate_app_scopes(self.app_type, self.scopes)
        except ValidationError as exc:
            raise ValidationError({"scopes": exc.error_list}) from None

    def set_client_secret(self, value: str) -> None:
        self.client_secret = value
        self.secret_last4 = value[-4:]

    @property
    def scope_list(self) -> list[str]:
        return pd_scopes.split(self.scopes)

    @property
    def has_secret(self) -> bool:
        return bool(self.secret_last4)

    @property
    def is_classic(self) -> bool:
        return self.app_type == AppType.CLASSIC

    @property
    def refresh_token_lifetime(self) -> timedelta:
        return REFRESH_TOKEN_LIFETIMES[AppType(self.app_type)]

    @property
    def within_allowance(self) -> bool:
        """Whether a tenant's own app asks only for what its environment allows.

        A Classic scope stands for every scope it covers
        (`Environment.tenant_app_classic_scopes`).
        """
        if self.tenant_id is None:
            return True
        environment = self.environment
        if self.is_classic:
            return self.scopes in environment.tenant_app_classic_scopes
        return set(self.scope_list) <= set(environment.tenant_app_scope_list)

    @property
    def in_use(self) -> bool:
        """Whether connects may use this app (a tenant's: allowed and chosen)."""
        if not self.enabled or not self.has_secret:
            return False
        if self.tenant_id is None:
            return True
        return (
            not self.staff_disabled
            and self.environment.tenant_apps_allowed
            and self.within_allowance
        )

    @property
    def secret_unreadable(self) -> bool:
        """Whether the stored secret is under a key no longer configured."""
        return self.client_secret is UNDECRYPTABLE

    def as_social_app(self):
        """Return an unsaved allauth SocialApp carrying these credentials.

        Never saved: allauth reads apps through the adapter's `list_apps`,
        so no plaintext copy of the secret lands in `socialaccount_socialapp`.
        """
        from allauth.socialaccount.models import SocialApp

        app = SocialApp(
            provider=self.provider,
            name=str(self),
            client_id=self.client_id,
            secret=self.client_secret,
            settings={
                "scope": self.scope_list,
                "oauth_pkce_enabled": True,
                "redirect_uri": self.redirect_url,
                "oauth_client_id": self.pk,
            },
        )
        return app

    @property
    def redirect_url(self) -> str:
        return self.environment.redirect_url

    @property
    def developer_url(self) -> str:
        """Return the App Registration page of the owning account, if known."""
        from integrations.pagerduty.web import web_url

        if not self.subdomain:
            return ""
        return web_url(self.subdomain, "/developer/applications")


class Connection(models.Model):
    """A PagerDuty user's authorization in a tenant, with encrypted tokens.

    The tenant connection (one live per tenant) serves tenant-wide work:
    webhooks, keep-alive and reads the tenant shares. A personal link (one
    live per tenant and portal user) is how that user acts in PagerDuty as
    themselves. `user` names whose link a connection is; the admin who
    connects the tenant is linked through the tenant connection itself.
    """

    Status = ConnectionStatus
    Kind = ConnectionKind

    provider = models.CharField(
        max_length=20, choices=Provider.choices, default=Provider.PAGERDUTY
    )
    kind = models.CharField(
        _("kind"), max_length=10, choices=Kind.choices, default=Kind.TENANT
    )
    tenant = models.ForeignKey(
        Tenant, on_delete=models.CASCADE, related_name="connections"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=_links_follow_their_user,
        null=True,
        blank=True,
        related_name="pagerduty_links",
        help_text=_("The portal user who acts in PagerDuty through it."),
    )
    oauth_client = models.ForeignKey(
        OAuthClient,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="connections",
        help_text=_("The app whose tokens these are."),
    )
    account_id = models.CharField(_("PagerDuty account ID"), max_length=40, blank=True)
    subdomain = models.CharField(_("subdomain"), max_length=63, blank=True)
    region = models.CharField(
        _("service region"), max_length=2, choices=Region.choices, default=Region.US
    )
    api_url = models.URLField(_("API host"), max_length=200, blank=True)
    pd_user_id = models.CharField(_("PagerDuty user ID"), max_length=40, blank=True)
    pd_user_name = models.CharField(_("PagerDuty user"), max_length=200, blank=True)
    pd_user_email = models.EmailField(_("PagerDuty user email"), blank=True)
    pd_user_role = models.CharField(
        _("PagerDuty role"),
        max_length=30,
        blank=True,
        help_text=_("The PagerDuty user's base role when linked (users/me)."),
    )
    access_token = encrypted(models.TextField(blank=True))
    refresh_token = encrypted(models.TextField(blank=True))
    access_expires_at = models.DateTimeField(
        _("access token expires"), null=True, blank=True
    )
    refresh_expires_at = models.DateTimeField(
        _("refresh token expires"), null=True, blank=True
    )
    granted_scopes = models.CharField(
        _("granted scopes"),
        max_length=1000,
        blank=True,
        validators=[validators.validate_granted_scopes],
    )
    requested_scopes = models.CharField(
        _("requested scopes"),
        max_length=500,
        blank=True,
        validators=[validators.validate_granted_scopes],
        help_text=_("The scopes asked for at the last connect."),
    )
    delegation_id = models.CharField(
        _("PagerDuty delegation ID"),
        max_length=100,
        blank=True,
        help_text=_("From the ID token; the same across refreshes."),
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.ACTIVE
    )
    last_error = models.TextField(_("last error"), blank=True)
    connected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    connected_at = models.DateTimeField(null=True, blank=True)
    refreshed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["tenant__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "provider"],
                condition=~Q(status=ConnectionStatus.REVOKED)
                & Q(kind=ConnectionKind.TENANT),
                name="connection_one_live_per_tenant",
            ),
            models.UniqueConstraint(
                fields=["tenant", "provider", "user"],
                condition=~Q(status=ConnectionStatus.REVOKED) & Q(user__isnull=False),
                name="connection_one_live_link_per_user",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=ConnectionKind.values),
                name="connection_kind_valid",
            ),
            models.CheckConstraint(
                condition=Q(kind=ConnectionKind.TENANT) | Q(user__isnull=False),
                name="connection_personal_has_user",
            ),
            models.CheckConstraint(
                condition=Q(status__in=ConnectionStatus.values),
                name="connection_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(region__in=Region.values), name="connection_region"
            ),
            models.CheckConstraint(
                condition=Q(provider__in=Provider.values), name="connection_provider"
            ),
            models.CheckConstraint(
                condition=Q(requested_scopes="")
                | Q(requested_scopes__regex=pd_scopes.scopes_regex())
                | Q(requested_scopes__in=pd_scopes.CLASSIC_SCOPES),
                name="connection_requested_scopes_known",
            ),
        ]

    def __str__(self):
        where = self.subdomain or "PagerDuty"
        return f"{self.tenant}: {where} ({self.get_status_display()})"

    @property
    def credentials_unreadable(self) -> bool:
        """Whether a stored token is under a key no longer configured."""
        return UNDECRYPTABLE in (self.access_token, self.refresh_token)

    @property
    def granted_scope_list(self) -> list[str]:
        return pd_scopes.split(self.granted_scopes)

    @property
    def effective_scopes(self) -> frozenset[str]:
        """Return what the grant allows (Classic `read`/`write` spelled out)."""
        return pd_scopes.expand(self.granted_scope_list)

    def has_scope(self, scope: str) -> bool:
        return pd_scopes.is_granted(scope, self.granted_scope_list)

    @property
    def is_usable(self) -> bool:
        return self.status == self.Status.ACTIVE

    def expires_within(self, delta: timedelta) -> bool:
        """Return whether the access token expires within `delta` from now."""
        if self.access_expires_at is None:
            return False
        return self.access_expires_at <= timezone.now() + delta


class AuditEvent(models.Model):
    """Who changed what, and when. Details name fields, never their values."""

    Action = AuditAction

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    actor_label = models.CharField(
        _("actor"), max_length=150, blank=True, help_text=_("Username at the time.")
    )
    action = models.CharField(_("action"), max_length=40, choices=Action.choices)
    target = models.CharField(_("target"), max_length=200, blank=True)
    environment = models.ForeignKey(
        Environment, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    tenant = models.ForeignKey(
        Tenant, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    details = models.JSONField(_("details"), default=dict, blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(action__in=AuditAction.values),
                name="auditevent_action_valid",
            ),
        ]

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_label} {self.action}"

    def get_absolute_url(self):
        return reverse("admin:integrations_auditevent_change", args=[self.pk])


class ReconsentRequest(models.Model):
    """Staff asked a tenant's admins to reconnect so an app's new scopes apply.

    `recipients` records each admin emailed and the outcome ("sent",
    "failed", "no_address"); `reconnected_at` is set when the tenant
    connects again afterwards.
    """

    class Status(models.TextChoices):
        SENT = "sent", _("Emailed")
        PARTIAL = "partial", _("Some emails failed")
        FAILED = "failed", _("Not emailed")

    tenant = models.ForeignKey(
        Tenant, on_delete=models.CASCADE, related_name="reconsent_requests"
    )
    oauth_client = models.ForeignKey(
        OAuthClient,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("The app whose scopes the tenant's grant lacked."),
    )
    scopes = models.CharField(
        _("missing scopes"),
        max_length=1000,
        validators=[validators.validate_granted_scopes],
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    recipients = models.JSONField(_("recipients"), default=list, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    requested_at = models.DateTimeField(_("asked"), default=timezone.now, db_index=True)
    reconnected_at = models.DateTimeField(_("reconnected"), null=True, blank=True)
    reconnected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    still_missing = models.CharField(
        _("still missing after reconnecting"),
        max_length=1000,
        blank=True,
        validators=[validators.validate_granted_scopes],
    )

    class Meta:
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["sent", "partial", "failed"]),
                name="reconsentrequest_status_valid",
            ),
        ]

    def __str__(self):
        return f"{self.tenant}: asked {self.requested_at:%Y-%m-%d %H:%M}"

    @property
    def scope_list(self) -> list[str]:
        return pd_scopes.split(self.scopes)

    @property
    def is_open(self) -> bool:
        return self.reconnected_at is None

    @property
    def failed_recipients(self) -> list[dict]:
        return [r for r in self.recipients if r.get("outcome") != "sent"]


class Invitation(models.Model):
    """An emailed invitation to join a tenant with a role.

    Only the SHA-256 of the link's token is stored; the link goes out once,
    by email. Pending means neither accepted nor withdrawn, and not expired.
    """

    tenant = models.ForeignKey(
        Tenant, on_delete=models.CASCADE, related_name="invitations"
    )
    email = models.EmailField(_("email"))
    role = models.CharField(
        _("role"),
        max_length=10,
        choices=Membership.Role.choices,
        default=Membership.Role.MEMBER,
    )
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(role__in=["admin", "member"]), name="invitation_role_valid"
            ),
            models.UniqueConstraint(
                fields=["tenant", "email"],
                condition=Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="invitation_one_open_per_email",
            ),
        ]

    def __str__(self):
        return f"{self.email} to {self.tenant} ({self.get_role_display()})"

    @property
    def is_pending(self) -> bool:
        return (
            self.accepted_at is None
            and self.revoked_at is None
            and self.expires_at > timezone.now()
        )


class UserPreference(models.Model):
    """How a person wants the portal shown to them: their time zone."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="preference"
    )
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        default="UTC",
        validators=[validators.validate_time_zone],
        help_text=_("Times in the portal are shown in this zone."),
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"{self.user}: {self.time_zone}"


class WebhookSubscriptionStatus(models.TextChoices):
    CREATED = "created", _("Created, no delivery yet")
    ACTIVE = "active", _("Receiving")
    FAILED = "failed", _("Could not subscribe")
    TEMPORARILY_DISABLED = (
        "temporarily_disabled",
        _("Temporarily disabled by PagerDuty"),
    )
    DISABLED = "disabled", _("Disabled")


class WebhookSubscription(models.Model):
    """A connection's PagerDuty V3 webhook subscription and its health.

    The receiver URL carries `receiver_id`, an opaque UUID, never the
    PagerDuty id; the signing secret comes once, in the create response.
    """

    Status = WebhookSubscriptionStatus

    connection = models.OneToOneField(
        Connection, on_delete=models.CASCADE, related_name="webhook_subscription"
    )
    pd_subscription_id = models.CharField(
        _("PagerDuty subscription ID"), max_length=40, blank=True
    )
    receiver_id = models.UUIDField(
        _("receiver ID"), default=uuid.uuid4, unique=True, editable=False
    )
    signing_secret = encrypted(models.TextField(blank=True))
    events = models.JSONField(_("events"), default=list, blank=True)
    status = models.CharField(
        _("status"),
        max_length=24,
        choices=Status.choices,
        default=Status.CREATED,
    )
    last_error = models.TextField(_("last error"), blank=True)
    consecutive_refusals = models.PositiveIntegerField(
        _("refusals in a row"),
        default=0,
        help_text=_("Deliveries answered 4xx since the last accepted one."),
    )
    last_delivery_at = models.DateTimeField(_("last delivery"), null=True, blank=True)
    last_ping_at = models.DateTimeField(_("last ping"), null=True, blank=True)
    last_refusal_at = models.DateTimeField(_("last refusal"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=WebhookSubscriptionStatus.values),
                name="webhooksubscription_status_valid",
            ),
            models.UniqueConstraint(
                fields=["pd_subscription_id"],
                condition=~Q(pd_subscription_id=""),
                name="webhooksubscription_unique_pd_id",
            ),
        ]

    def __str__(self):
        return f"{self.connection.tenant}: {self.get_status_display()}"

    @property
    def is_receiving(self) -> bool:
        """Whether deliveries to the receiver URL are verified and recorded."""
        return bool(self.pd_subscription_id) and self.status in (
            self.Status.CREATED,
            self.Status.ACTIVE,
            self.Status.TEMPORARILY_DISABLED,
        )


class WebhookDeliveryOutcome(models.TextChoices):
    PROCESSED = "processed", _("Processed")
    PING = "ping", _("Ping")
    IGNORED = "ignored", _("Ignored (event type not handled)")
    STALE = "stale", _("Ignored (older than the retention window)")


class WebhookDelivery(models.Model):
    """One accepted delivery: the dedupe key and what the event changed."""

    Outcome = WebhookDeliveryOutcome

    subscription = models.ForeignKey(
        WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries"
    )
    webhook_id = models.CharField(_("X-Webhook-Id"), max_length=100)
    event_id = models.CharField(_("event ID"), max_length=100, blank=True)
    event_type = models.CharField(_("event type"), max_length=100)
    resource_type = models.CharField(_("resource type"), max_length=40, blank=True)
    resource_id = models.CharField(_("resource ID"), max_length=40, blank=True)
    incident_number = models.PositiveIntegerField(null=True, blank=True)
    incident_status = models.CharField(max_length=20, blank=True)
    incident_title = models.CharField(max_length=255, blank=True)
    # What a new incident's row shows, from the event (trimmed): urgency,
    # created_at, service {id, name}, assignees [{id, name}], team IDs.
    incident_summary = models.JSONField(default=dict, blank=True)
    occurred_at = models.DateTimeField(_("occurred"), null=True, blank=True)
    received_at = models.DateTimeField(
        _("received"), default=timezone.now, db_index=True
    )
    outcome = models.CharField(_("outcome"), max_length=12, choices=Outcome.choices)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name_plural = _("webhook deliveries")
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "webhook_id"],
                name="webhookdelivery_unique_webhook_id",
            ),
            models.UniqueConstraint(
                fields=["subscription", "event_id"],
                condition=~Q(event_id=""),
                name="webhookdelivery_unique_event_id",
            ),
            models.CheckConstraint(
                condition=Q(outcome__in=WebhookDeliveryOutcome.values),
                name="webhookdelivery_outcome_valid",
            ),
        ]
        indexes = [
            models.Index(
                fields=["subscription", "resource_id", "occurred_at"],
                name="webhookdelivery_resource",
            ),
        ]

    def __str__(self):
        return f"{self.event_type} {self.resource_id} ({self.webhook_id})"
