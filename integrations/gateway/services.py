"""Writes of the gateway: agents (consents), their revocation, tool calls."""

import logging
from datetime import timedelta

from django.core.cache import cache
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from oauth2_provider.models import (
    clear_expired,
    get_access_token_model,
    get_grant_model,
    get_refresh_token_model,
)

from integrations.gateway.models import (
    AgentAuthorization,
    AgentBudget,
    Client,
    MaskingRule,
    ToolCall,
)
from integrations.gateway.tools.budgets import limits_cache_key
from integrations.models import AuditAction, Environment, Tenant
from integrations.services.audit import audit_record

logger = logging.getLogger(__name__)

# How often `last_used_at` is written for a busy agent.
LAST_USED_RESOLUTION = timedelta(minutes=1)


@transaction.atomic
def agent_authorization_create(
    *,
    client: Client,
    user,
    tenant: Tenant,
    scope: str,
    resource: str,
    code_checksum: str,
) -> AgentAuthorization:
    """Record a consent: this client may act for `user` on `tenant`."""
    authorization = AgentAuthorization(
        client=client,
        user=user,
        tenant=tenant,
        scope=scope,
        resource=resource,
        code_checksum=code_checksum,
    )
    authorization.full_clean()
    authorization.save()
    audit_record(
        actor=user,
        action=AuditAction.AGENT_AUTHORIZED,
        target=client.display_name,
        environment=tenant.environment,
        tenant=tenant,
        details={
            "client_id": client.client_id,
            "agent": authorization.pk,
            "scope": scope,
        },
    )
    return authorization


@transaction.atomic
def agent_authorization_revoke(
    *, authorization: AgentAuthorization, reason: str, actor=None
) -> AgentAuthorization:
    """Revoke an agent: its tokens stop working on their next request.

    Marks the authorization revoked and deletes every access token of its
    family (DOT's `revoke_family`); nothing is done twice.
    """
    updated = AgentAuthorization.objects.filter(
        pk=authorization.pk, revoked_at__isnull=True
    ).update(
        revoked_at=timezone.now(),
        revoked_by=actor if actor is not None and actor.is_authenticated else None,
        revoke_reason=reason[:200],
    )
    get_refresh_token_model().revoke_family(authorization.token_family)
    authorization.refresh_from_db()
    if updated:
        tenant = authorization.tenant
        audit_record(
            actor=actor,
            action=AuditAction.AGENT_REVOKED,
            target=authorization.client.display_name,
            environment=tenant.environment,
            tenant=tenant,
            details={"agent": authorization.pk, "reason": reason[:200]},
        )
    return authorization


def agent_authorization_touch(*, authorization_id: int) -> None:
    """Note that an agent was used now (at most once a minute)."""
    now = timezone.now()
    AgentAuthorization.objects.filter(pk=authorization_id).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
    ).update(last_used_at=now)


def tool_call_record(**fields) -> ToolCall:
    """Write one audit row for a `tools/call`."""
    call = ToolCall(**fields)
    call.full_clean(exclude=["tenant", "user", "client", "authorization"])
    call.save()
    return call


def mcp_authorizations_purge(*, unused_for: timedelta) -> dict[str, int]:
    """Delete what no longer serves a purpose; return counts per kind.

    Expired tokens and codes (DOT's `clear_expired`), consents whose code
    was never exchanged, and registered clients that were never
    authorized within `unused_for` (open registration leaves those behind).
    """
    now = timezone.now()
    clear_expired()
    stale_codes, _ = AgentAuthorization.objects.filter(
        token_family__isnull=True, created_at__lt=now - timedelta(hours=1)
    ).delete()
    grants = get_grant_model().objects.filter(application=OuterRef("pk"))
    tokens = get_access_token_model().objects.filter(
        application=OuterRef("pk"), refresh_token__isnull=False
    )
    unused = (
        Client.objects.filter(
            registration_source__in=[
                Client.RegistrationSource.DCR,
                Client.RegistrationSource.CIMD,
            ],
            created__lt=now - unused_for,
        )
        .annotate(used=Exists(AgentAuthorization.objects.filter(client=OuterRef("pk"))))
        .filter(used=False)
        .exclude(Exists(grants))
        .exclude(Exists(tokens))
    )
    ids = list(unused.values_list("pk", flat=True))
    Client.objects.filter(pk__in=ids).delete()
    clients = len(ids)
    logger.info(
        "Purged MCP authorizations: %s unused codes, %s unused client rows",
        stale_codes,
        clients,
    )
    return {"unused_consents": stale_codes, "unused_clients": clients}


def _rule_details(rule: MaskingRule) -> dict:
    return {"kind": rule.kind, "value": rule.value, "tool": rule.tool or "*"}


@transaction.atomic
def masking_rule_create(
    *,
    actor,
    kind: str,
    value: str = "",
    tool: str = "",
    environment: Environment | None = None,
    tenant: Tenant | None = None,
) -> MaskingRule:
    """Add a masking rule to an environment (staff) or a tenant (its admins)."""
    rule = MaskingRule(
        environment=environment,
        tenant=tenant,
        kind=kind,
        value=value,
        tool=tool,
        created_by=actor,
    )
    rule.full_clean()
    rule.save()
    audit_record(
        actor=actor,
        action=AuditAction.MASKING_RULE_ADDED,
        target=str(rule),
        environment=environment or tenant.environment,
        tenant=tenant,
        details=_rule_details(rule),
    )
    return rule


@transaction.atomic
def masking_rule_delete(*, actor, rule: MaskingRule) -> None:
    """Remove a masking rule; results are no longer masked by it."""
    details = _rule_details(rule)
    tenant = rule.tenant
    environment = rule.environment or tenant.environment
    target = str(rule)
    rule.delete()
    audit_record(
        actor=actor,
        action=AuditAction.MASKING_RULE_REMOVED,
        target=target,
        environment=environment,
        tenant=tenant,
        details=details,
    )


@transaction.atomic
def agent_budget_update(
    *, actor, environment: Environment, limits: dict[str, int | None]
) -> AgentBudget:
    """Set an environment's per-minute budgets; empty keeps the default."""
    budget, _ = AgentBudget.objects.get_or_create(environment=environment)
    before = budget.limits()
    for kind, value in limits.items():
        setattr(budget, kind, value)
    budget.updated_by = actor
    budget.updated_at = timezone.now()
    budget.full_clean()
    budget.save()
    # Workers read the limits from the cache; the next call sees these
    # (dropped again at commit, in case a worker cached the old ones since).
    cache.delete(limits_cache_key(environment.pk))
    transaction.on_commit(lambda: cache.delete(limits_cache_key(environment.pk)))
    audit_record(
        actor=actor,
        action=AuditAction.AGENT_BUDGET_CHANGED,
        target=environment.name,
        environment=environment,
        details={"before": before, "after": budget.limits()},
    )
    return budget
