"""Reads of the gateway: agents, tool calls, tenants an agent may serve."""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet
from oauth2_provider.models import get_refresh_token_model

from integrations.gateway.models import AgentAuthorization, MaskingRule, ToolCall
from integrations.gateway.tools.registry import Tool, all_tools
from integrations.gateway.tools.result_masking import RuleSet, ruleset_from
from integrations.models import Connection, Environment, Membership, Tenant


def tenant_list_for_consent(*, user) -> QuerySet[Tenant]:
    """Return the user's tenants whose agents this deployment serves.

    A tenant's agents connect to `<its environment's base URL>/mcp`; here
    that is this deployment's own base URL only.
    """
    base = settings.PORTAL_BASE_URL
    environments = [
        e.pk for e in Environment.objects.all() if e.base_url.rstrip("/") == base
    ]
    return Tenant.objects.filter(
        memberships__user=user, environment__in=environments
    ).select_related("environment")


def membership_list_elsewhere(*, user) -> list[Membership]:
    """Return the user's memberships in tenants served by another gateway."""
    base = settings.PORTAL_BASE_URL
    return [
        membership
        for membership in Membership.objects.filter(user=user).select_related(
            "tenant__environment"
        )
        if membership.tenant.environment.base_url.rstrip("/") != base
    ]


def _with_status(queryset: QuerySet[AgentAuthorization]) -> QuerySet:
    live = get_refresh_token_model().objects.filter(
        token_family=OuterRef("token_family"), revoked__isnull=True
    )
    return queryset.annotate(has_live_tokens=Exists(live)).select_related(
        "client", "user", "tenant"
    )


def agent_list(*, tenant: Tenant, user=None) -> QuerySet[AgentAuthorization]:
    """Return a tenant's agents that got tokens and are not revoked.

    With `user`, only the agents that user authorized.
    """
    agents = AgentAuthorization.objects.filter(
        tenant=tenant, token_family__isnull=False, revoked_at__isnull=True
    )
    if user is not None:
        agents = agents.filter(user=user)
    return _with_status(agents)


def agent_get(*, tenant: Tenant, agent_id: int) -> AgentAuthorization | None:
    """Return one of a tenant's agents, or None."""
    return (
        AgentAuthorization.objects.filter(tenant=tenant, pk=agent_id)
        .select_related("client", "user", "tenant__environment")
        .first()
    )


def agent_list_for_environment(
    *, environment: Environment
) -> QuerySet[AgentAuthorization]:
    """Return the live agents of every tenant of an environment (staff)."""
    return _with_status(
        AgentAuthorization.objects.filter(
            tenant__environment=environment,
            token_family__isnull=False,
            revoked_at__isnull=True,
        )
    )


def tool_call_list(
    *,
    tenant: Tenant | None = None,
    environment: Environment | None = None,
    authorization: AgentAuthorization | None = None,
    tool: str = "",
    outcome: str = "",
    user: str = "",
    client: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[ToolCall]:
    """Return tool calls, newest first, narrowed by the given filters.

    `user` and `client` match the recorded username and agent name
    (case-insensitive, part of it); `until` is exclusive.
    """
    calls = ToolCall.objects.select_related("tenant", "client")
    if user:
        calls = calls.filter(user_label__icontains=user)
    if client:
        calls = calls.filter(client_label__icontains=client)
    if since is not None:
        calls = calls.filter(created_at__gte=since)
    if until is not None:
        calls = calls.filter(created_at__lt=until)
    if tenant is not None:
        calls = calls.filter(tenant=tenant)
    if environment is not None:
        calls = calls.filter(tenant__environment=environment)
    if authorization is not None:
        calls = calls.filter(authorization=authorization)
    if tool:
        calls = calls.filter(tool=tool)
    if outcome:
        calls = calls.filter(outcome=outcome)
    return calls


@dataclass(frozen=True)
class ToolRow:
    """A tool as the agents page shows it: whether this tenant has it, why not."""

    tool: Tool
    available: bool
    missing_scopes: tuple[str, ...]


def tool_visibility(*, connection: Connection | None) -> list[ToolRow]:
    """Return every tool with whether the tenant's connection exposes it."""
    granted = (
        frozenset(connection.granted_scope_list)
        if connection is not None and connection.is_usable
        else None
    )
    rows = []
    for tool in all_tools():
        missing = (
            () if granted is None else tuple(sorted(tool.pagerduty_scopes - granted))
        )
        rows.append(
            ToolRow(
                tool=tool,
                available=granted is not None and not missing,
                missing_scopes=missing,
            )
        )
    return rows


def masking_rule_list(
    *, environment: Environment | None = None, tenant: Tenant | None = None
) -> QuerySet[MaskingRule]:
    """Return the masking rules set on exactly one environment or tenant."""
    if (environment is None) == (tenant is None):
        raise ValueError("Give an environment or a tenant.")
    if tenant is not None:
        return MaskingRule.objects.filter(tenant=tenant)
    return MaskingRule.objects.filter(environment=environment)


def masking_ruleset(*, tenant: Tenant | None, tool: str) -> RuleSet:
    """Return what to mask for a tool in a tenant: its environment's and its own."""
    if tenant is None:
        return RuleSet()
    rules = MaskingRule.objects.filter(
        Q(environment_id=tenant.environment_id) | Q(tenant=tenant),
        Q(tool="") | Q(tool=tool),
    )
    return ruleset_from(list(rules))
