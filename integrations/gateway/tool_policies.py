"""Stored tool policies: load them for a decision, show them, change them (M27)."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from integrations.gateway.models import ToolPolicy
from integrations.gateway.policies import STRICTNESS, Call, Rule, Verdict, evaluate
from integrations.models import AuditAction, Environment, Tenant
from integrations.services.audit import audit_record


def rules_get(
    *, environment_id: int, tenant_id: int | None, tool: str
) -> tuple[Rule | None, Rule | None]:
    """Return the environment's and the tenant's rule for a tool (one query)."""
    rows = ToolPolicy.objects.filter(environment_id=environment_id, tool=tool).filter(
        Q(tenant__isnull=True) | Q(tenant_id=tenant_id)
    )
    environment_rule = tenant_rule = None
    for row in rows:
        if row.tenant_id is None:
            environment_rule = row.as_rule()
        else:
            tenant_rule = row.as_rule()
    return environment_rule, tenant_rule


def rules_get_all(
    *, environment_id: int, tenant_id: int | None
) -> dict[str, tuple[Rule | None, Rule | None]]:
    """Return (environment rule, tenant rule) per tool that has any (one query)."""
    rows = ToolPolicy.objects.filter(environment_id=environment_id).filter(
        Q(tenant__isnull=True) | Q(tenant_id=tenant_id)
    )
    rules: dict[str, tuple[Rule | None, Rule | None]] = {}
    for row in rows:
        environment_rule, tenant_rule = rules.get(row.tool, (None, None))
        if row.tenant_id is None:
            environment_rule = row.as_rule()
        else:
            tenant_rule = row.as_rule()
        rules[row.tool] = (environment_rule, tenant_rule)
    return rules


def verdict_for(
    *,
    rules: dict | None = None,
    tool: str,
    read_only: bool | None,
    tenant: Tenant,
    user,
    role: str,
    client_id: str,
    arguments: dict | None,
) -> Verdict:
    """Load a tool's rules for a tenant and evaluate this call against them.

    `rules` (from `rules_get_all`) saves the query when deciding many tools.
    """
    if rules is not None:
        environment_rule, tenant_rule = rules.get(tool, (None, None))
    else:
        environment_rule, tenant_rule = rules_get(
            environment_id=tenant.environment_id, tenant_id=tenant.pk, tool=tool
        )
    return evaluate(
        Call(
            tool=tool,
            read_only=read_only,
            role=role,
            client=client_id,
            now=timezone.now(),
            arguments=arguments,
            tenant=tenant.pk,
            user=user.pk if user else None,
        ),
        environment_rule=environment_rule,
        tenant_rule=tenant_rule,
        webhook_hosts=settings.MCP_WEBHOOK_ALLOWED_HOSTS,
    )


@dataclass(frozen=True)
class PolicyRow:
    """One line of a policy page: a tool, its layers and the effect."""

    tool: object
    default: Verdict
    environment_policy: ToolPolicy | None
    tenant_policy: ToolPolicy | None
    effective: Verdict

    @property
    def conditional(self) -> bool:
        return any(
            policy is not None and policy.conditions
            for policy in (self.environment_policy, self.tenant_policy)
        )


def policy_table(
    *, environment: Environment, tenant: Tenant | None = None
) -> list[PolicyRow]:
    """Return every registered tool with its default, rules and effective policy.

    The effective policy is what a call with no arguments that meet a
    condition would get (conditions show on the page next to it).
    """
    from integrations.gateway.tools.registry import all_tools

    rows = ToolPolicy.objects.filter(environment=environment).filter(
        Q(tenant__isnull=True) | Q(tenant=tenant)
    )
    environment_rows = {r.tool: r for r in rows if r.tenant_id is None}
    tenant_rows = {r.tool: r for r in rows if r.tenant_id is not None}
    table = []
    for tool in all_tools():
        call = Call(
            tool=tool.name,
            read_only=tool.read_only,
            role="admin",
            client="",
            now=timezone.now(),
            arguments=None,
        )
        environment_policy = environment_rows.get(tool.name)
        tenant_policy = tenant_rows.get(tool.name)
        table.append(
            PolicyRow(
                tool=tool,
                default=evaluate(call),
                environment_policy=environment_policy,
                tenant_policy=tenant_policy,
                effective=evaluate(
                    call,
                    environment_rule=environment_policy.as_rule()
                    if environment_policy
                    else None,
                    tenant_rule=tenant_policy.as_rule() if tenant_policy else None,
                ),
            )
        )
    return table


@transaction.atomic
def tool_policy_set(
    *,
    actor,
    environment: Environment,
    tenant: Tenant | None,
    tool: str,
    action: str,
    conditions: list,
    tenant_may_loosen: bool = False,
    self_approval: bool = False,
) -> ToolPolicy | None:
    """Set (or with action "" remove) a tool's rule; audit before and after.

    Applies on the next call: decisions read the rows afresh.
    """
    policy = (
        ToolPolicy.objects.select_for_update()
        .filter(environment=environment, tenant=tenant, tool=tool)
        .first()
    )
    if tenant is not None and action:
        _check_within_environment(environment=environment, tool=tool, action=action)
    before = policy.snapshot() if policy else None
    if not action:
        if policy is not None:
            policy.delete()
        after = None
        policy = None
    else:
        policy = policy or ToolPolicy(environment=environment, tenant=tenant, tool=tool)
        policy.action = action
        policy.conditions = conditions
        # Only an environment's rule decides what tenants may loosen.
        policy.tenant_may_loosen = tenant_may_loosen if tenant is None else False
        policy.self_approval = self_approval
        policy.updated_at = timezone.now()
        policy.updated_by = actor
        policy.full_clean()
        policy.save()
        after = policy.snapshot()
    if before != after:
        audit_record(
            actor=actor,
            action=AuditAction.AGENT_POLICY_CHANGED,
            target=tool,
            environment=environment,
            tenant=tenant,
            details={"tool": tool, "before": before, "after": after},
        )
    return policy


def _check_within_environment(*, environment: Environment, tool: str, action: str):
    """Refuse a tenant rule looser than the environment allows tenants."""
    from integrations.gateway.tools.registry import tool_get

    known = tool_get(tool)
    environment_rule, _tenant_rule = rules_get(
        environment_id=environment.pk, tenant_id=None, tool=tool
    )
    if environment_rule is not None and environment_rule.tenant_may_loosen:
        return
    floor = evaluate(
        Call(
            tool=tool,
            read_only=known.read_only if known else None,
            role="",
            client="",
            now=timezone.now(),
        ),
        environment_rule=environment_rule
        if environment_rule and not environment_rule.conditions
        else None,
    ).action
    if STRICTNESS[action] < STRICTNESS[floor]:
        raise ValidationError(
            {
                "action": ValidationError(
                    _(
                        "Staff set %(tool)s to %(floor)s for this environment; "
                        "a tenant may only make it stricter."
                    ),
                    code="looser",
                    params={"tool": tool, "floor": floor},
                )
            }
        )
