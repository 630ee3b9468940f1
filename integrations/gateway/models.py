"""The gateway's records: MCP clients, agents (consents) and tool calls."""

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from oauth2_provider.models import AbstractApplication, ApplicationManager

from integrations.gateway.conf import ALL_SCOPES
from integrations.gateway.oauth.redirects import is_loopback_host, redirect_uri_problem
from integrations.gateway.tools.result_masking import MAX_PATTERN, pattern_problem
from integrations.models import Environment, Tenant

FIELD_NAME = re.compile(r"[A-Za-z0-9_-]{1,100}")
# PagerDuty's REST API limit per account; no tool budget may exceed it.
PAGERDUTY_REQUESTS_PER_MINUTE = 960


class Client(AbstractApplication):
    """An MCP client registered with the portal's authorization server.

    django-oauth-toolkit's Application, swapped in
    (OAUTH2_PROVIDER_APPLICATION_MODEL) so that its redirect URIs follow
    the gateway's policy wherever a client comes from: registration (DCR),
    a metadata document (CIMD) or the admin.
    """

    registered_from = models.GenericIPAddressField(
        _("registered from"), null=True, blank=True, editable=False
    )

    objects = ApplicationManager()

    class Meta(AbstractApplication.Meta):
        verbose_name = _("MCP client")
        verbose_name_plural = _("MCP clients")

    def natural_key(self):
        return (self.client_id,)

    def clean(self):
        problems = []
        for uri in self.redirect_uris.split():
            problem = redirect_uri_problem(uri)
            if problem:
                problems.append(ValidationError(problem, code="redirect_uri"))
        try:
            super().clean()
        except ValidationError as exc:
            if not problems:
                raise
            raise ValidationError(
                {**exc.message_dict, "redirect_uris": problems}
            ) from exc
        if problems:
            raise ValidationError({"redirect_uris": problems})

    def get_allowed_schemes(self):
        """Return the schemes DOT lets this client's redirects use.

        Includes http so loopback callbacks work; `clean` and
        `redirect_uri_allowed` keep http to loopback hosts.
        """
        return ["https", "http", *settings.MCP_REDIRECT_SCHEMES]

    def redirect_uri_allowed(self, uri):
        return not redirect_uri_problem(uri) and super().redirect_uri_allowed(uri)

    @property
    def display_name(self) -> str:
        return self.name or _("Unnamed client")

    @property
    def redirect_hosts(self) -> list[str]:
        """Return the hosts (or private schemes) this client's redirects reach."""
        from urllib.parse import urlsplit

        hosts = []
        for uri in self.redirect_uris.split():
            parts = urlsplit(uri)
            hosts.append(parts.hostname or f"{parts.scheme}:")
        return list(dict.fromkeys(hosts))

    @property
    def loopback_only(self) -> bool:
        """Whether every redirect goes back to this machine only."""
        from urllib.parse import urlsplit

        uris = self.redirect_uris.split()
        return bool(uris) and all(
            is_loopback_host(urlsplit(uri).hostname) for uri in uris
        )


class AgentAuthorization(models.Model):
    """One person's consent for one MCP client to act on one tenant.

    The tenant is chosen on the consent page and bound to the authorization
    code, then to the token family it starts (`token_family`, DOT's
    refresh-token family), so every access and refresh token of the family
    carries it. Revoking it ends the family.
    """

    client = models.ForeignKey(
        Client, on_delete=models.CASCADE, related_name="authorizations"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="agent_authorizations",
    )
    tenant = models.ForeignKey(
        Tenant, on_delete=models.CASCADE, related_name="agent_authorizations"
    )
    scope = models.CharField(_("scope"), max_length=40)
    resource = models.URLField(_("resource"), max_length=300)
    code_checksum = models.CharField(max_length=64, unique=True, editable=False)
    token_family = models.UUIDField(null=True, blank=True, unique=True, editable=False)
    created_at = models.DateTimeField(_("authorized"), default=timezone.now)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    revoke_reason = models.CharField(_("revoke reason"), max_length=200, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("agent authorization")
        constraints = [
            models.CheckConstraint(
                condition=Q(scope__in=[ALL_SCOPES[0], " ".join(ALL_SCOPES)]),
                name="agentauthorization_scope_valid",
            ),
        ]

    def __str__(self):
        return f"{self.client.display_name} for {self.user} in {self.tenant}"

    @property
    def scope_list(self) -> list[str]:
        return self.scope.split()

    @property
    def read_only(self) -> bool:
        return ALL_SCOPES[1] not in self.scope_list

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None


class AgentBudget(models.Model):
    """An environment's own per-minute tool-call budgets (staff).

    An empty field keeps the deployment's default (settings.MCP_BUDGETS).
    """

    environment = models.OneToOneField(
        Environment, on_delete=models.CASCADE, related_name="agent_budget"
    )
    tenant = models.PositiveIntegerField(
        _("per tenant"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(PAGERDUTY_REQUESTS_PER_MINUTE)],
    )
    user = models.PositiveIntegerField(
        _("per person"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(PAGERDUTY_REQUESTS_PER_MINUTE)],
    )
    client = models.PositiveIntegerField(
        _("per agent"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(PAGERDUTY_REQUESTS_PER_MINUTE)],
    )
    tool = models.PositiveIntegerField(
        _("per tool"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(PAGERDUTY_REQUESTS_PER_MINUTE)],
    )
    updated_at = models.DateTimeField(_("changed"), default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("agent budget")

    def __str__(self):
        return f"{self.environment} budgets"

    def limits(self) -> dict[str, int | None]:
        return {
            kind: getattr(self, kind) for kind in ("tenant", "user", "client", "tool")
        }


class MaskingRule(models.Model):
    """What to mask in tool results and audit rows of an environment or tenant.

    Environment rules (staff) apply to every tenant of it; a tenant's admins
    add their own. A rule covers every tool, or the one it names.
    """

    class Kind(models.TextChoices):
        EMAIL = "email", _("Email addresses")
        PHONE = "phone", _("Phone numbers")
        FIELD = "field", _("A field, by name")
        PATTERN = "pattern", _("A custom pattern")

    environment = models.ForeignKey(
        Environment,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="masking_rules",
    )
    tenant = models.ForeignKey(
        Tenant,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="masking_rules",
    )
    kind = models.CharField(_("mask"), max_length=10, choices=Kind.choices)
    value = models.CharField(
        _("field or pattern"),
        max_length=MAX_PATTERN,
        blank=True,
        help_text=_("The field name (e.g. address) or the regular expression."),
    )
    tool = models.CharField(
        _("tool"), max_length=100, blank=True, help_text=_("Empty: every tool.")
    )
    created_at = models.DateTimeField(_("added"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("masking rule")
        constraints = [
            models.CheckConstraint(
                condition=Q(environment__isnull=True) ^ Q(tenant__isnull=True),
                name="maskingrule_one_owner",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["email", "phone", "field", "pattern"]),
                name="maskingrule_kind_valid",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.value}".strip()

    def clean(self):
        if self.kind in (self.Kind.EMAIL, self.Kind.PHONE):
            self.value = ""
        elif self.kind == self.Kind.FIELD:
            self.value = self.value.strip()
            if not FIELD_NAME.fullmatch(self.value):
                raise ValidationError(
                    {"value": _("Name a field: letters, digits, _ or -.")},
                    code="field_name",
                )
        elif self.kind == self.Kind.PATTERN:
            problem = pattern_problem(self.value)
            if problem:
                raise ValidationError({"value": problem}, code="pattern")


class ToolCallOutcome(models.TextChoices):
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")
    REFUSED = "refused", _("Refused")
    DENIED = "denied", _("Denied by policy")
    HELD = "held", _("Held for approval")


class ToolCall(models.Model):
    """One `tools/call` an agent made, whatever became of it.

    Arguments are stored masked (free text and secret-looking values
    replaced); no token is ever stored.
    """

    Outcome = ToolCallOutcome

    created_at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    tenant = models.ForeignKey(
        Tenant, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    user_label = models.CharField(_("user"), max_length=150, blank=True)
    client = models.ForeignKey(
        Client, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    client_label = models.CharField(_("client"), max_length=255, blank=True)
    authorization = models.ForeignKey(
        AgentAuthorization,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="tool_calls",
    )
    protocol_version = models.CharField(_("protocol version"), max_length=20)
    tool = models.CharField(_("tool"), max_length=100)
    arguments = models.JSONField(_("arguments (masked)"), default=dict, blank=True)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    reason = models.CharField(_("reason"), max_length=40, blank=True)
    message = models.CharField(_("message"), max_length=500, blank=True)
    pagerduty_status = models.PositiveSmallIntegerField(
        _("PagerDuty status"), null=True, blank=True
    )
    latency_ms = models.PositiveIntegerField(_("latency (ms)"), default=0)
    request_id = models.CharField(_("request ID"), max_length=64, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("tool call")
        constraints = [
            models.CheckConstraint(
                condition=Q(outcome__in=ToolCallOutcome.values),
                name="toolcall_outcome_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "-created_at"], name="toolcall_tenant_time"),
        ]

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.tool} {self.outcome}"


class PolicyAction(models.TextChoices):
    ALLOW = "allow", _("Allow")
    CONFIRM = "confirm", _("Ask the person to confirm")
    APPROVAL = "approval", _("Require approval")
    DENY = "deny", _("Deny")


class ToolPolicy(models.Model):
    """What agents may do with one tool: an environment default or a tenant's.

    A row without a tenant is the environment's rule (staff); a row with a
    tenant adjusts it for that tenant (tenant admins), looser only where
    the environment's rule lets tenants loosen it.
    """

    Action = PolicyAction

    environment = models.ForeignKey(
        "integrations.Environment", on_delete=models.CASCADE, related_name="+"
    )
    tenant = models.ForeignKey(
        Tenant, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    tool = models.CharField(_("tool"), max_length=100)
    action = models.CharField(_("action"), max_length=10, choices=Action.choices)
    conditions = models.JSONField(
        _("conditions"),
        default=list,
        blank=True,
        help_text=_("The action applies only when all of these hold."),
    )
    tenant_may_loosen = models.BooleanField(
        _("tenants may loosen"),
        default=False,
        help_text=_("Environment rules: tenant admins may choose a looser action."),
    )
    self_approval = models.BooleanField(
        _("requester may approve"),
        default=False,
        help_text=_("A tenant admin may approve their own held call."),
    )
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["tool"]
        verbose_name = _("tool policy")
        verbose_name_plural = _("tool policies")
        constraints = [
            models.UniqueConstraint(
                fields=["environment", "tool"],
                condition=Q(tenant__isnull=True),
                name="toolpolicy_unique_environment_tool",
            ),
            models.UniqueConstraint(
                fields=["tenant", "tool"],
                condition=Q(tenant__isnull=False),
                name="toolpolicy_unique_tenant_tool",
            ),
            models.CheckConstraint(
                condition=Q(action__in=PolicyAction.values),
                name="toolpolicy_action_valid",
            ),
        ]

    def __str__(self):
        where = self.tenant or self.environment
        return f"{self.tool} in {where}: {self.action}"

    def clean(self):
        from integrations.gateway.policies import validate_conditions

        if self.tenant_id and self.tenant.environment_id != self.environment_id:
            raise ValidationError(
                {"tenant": _("The tenant is in another environment.")}
            )
        self.conditions = validate_conditions(self.conditions)

    def as_rule(self):
        from integrations.gateway.policies import Rule

        return Rule(
            action=self.action,
            conditions=tuple(self.conditions),
            tenant_may_loosen=self.tenant_may_loosen,
            self_approval=self.self_approval,
        )

    def snapshot(self) -> dict:
        """Return the fields a change record compares (before/after)."""
        return {
            "action": self.action,
            "conditions": self.conditions,
            "tenant_may_loosen": self.tenant_may_loosen,
            "self_approval": self.self_approval,
        }


class ApprovalStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    USED = "used", _("Used")
    EXPIRED = "expired", _("Expired")


class Approval(models.Model):
    """A held tool call waiting for, or carrying, a tenant admin's decision.

    Bound to the tenant, the person, the agent (authorization and client),
    the tool and the canonical arguments: the agent's retry runs the call
    only if all match, before `expires_at`, once (`used_at`, set by a
    conditional update).
    """

    Status = ApprovalStatus

    public_id = models.CharField(_("approval ID"), max_length=40, unique=True)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+")
    authorization = models.ForeignKey(
        AgentAuthorization, on_delete=models.CASCADE, related_name="approvals"
    )
    tool = models.CharField(_("tool"), max_length=100)
    arguments = models.JSONField(_("arguments"), default=dict)
    arguments_hash = models.CharField(max_length=64)
    reason = models.CharField(_("why it was held"), max_length=500, blank=True)
    self_approval = models.BooleanField(default=False)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    created_at = models.DateTimeField(_("requested"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"))
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    decision_reason = models.CharField(_("reason"), max_length=500, blank=True)
    used_at = models.DateTimeField(_("used"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("approval")
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=ApprovalStatus.values),
                name="approval_status_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "status"], name="approval_tenant_status"),
        ]

    def __str__(self):
        return f"{self.public_id} {self.tool} {self.status}"

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()

    @property
    def effective_status(self) -> str:
        """The status with expiry applied (rows are not rewritten on expiry)."""
        if (
            self.status in (self.Status.PENDING, self.Status.APPROVED)
            and self.is_expired
        ):
            return self.Status.EXPIRED
        return self.status

    @property
    def arguments_json(self) -> str:
        import json

        return json.dumps(self.arguments, indent=2, sort_keys=True, ensure_ascii=False)
