"""Calls per minute per tenant, user, client and tool (MCP-GATEWAY.md M25).

Fixed one-minute windows counted in Django's cache: `add` then `incr` are
atomic on Redis (shared by every worker) and on locmem (one process, the
demo). A refused call gives its units back, so an exhausted tool budget
does not also use up the tenant's budget for its other tools.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext as _

from integrations.gateway.models import AgentBudget
from integrations.gateway.tools.errors import ToolError

WINDOW_SECONDS = 60
KINDS = ("tenant", "user", "client", "tool")


@dataclass(frozen=True)
class Exhausted:
    """A budget that refused a call and when its window reopens."""

    kind: str
    limit: int
    retry_after: int


def budget_limits(*, environment_id: int | None = None) -> dict[str, int]:
    """Return the per-minute limit of each kind; 0 means unlimited.

    An environment's own budgets (set by staff) replace the defaults in
    settings.MCP_BUDGETS field by field; they are cached for a minute and
    dropped from the cache when staff change them.
    """
    configured = getattr(settings, "MCP_BUDGETS", {}) or {}
    limits = {kind: int(configured.get(kind) or 0) for kind in KINDS}
    if environment_id is None:
        return limits
    key = limits_cache_key(environment_id)
    own = cache.get(key)
    if own is None:
        budget = AgentBudget.objects.filter(environment_id=environment_id).first()
        own = budget.limits() if budget else {}
        cache.set(key, own, timeout=WINDOW_SECONDS)
    limits.update({kind: value for kind, value in own.items() if value is not None})
    return limits


def limits_cache_key(environment_id: int) -> str:
    return f"mcp-budget-limits:{environment_id}"


def budget_consume(
    *,
    tenant_id: int,
    user_id: int,
    client_id: int,
    tool: str,
    environment_id: int | None = None,
    now: float | None = None,
) -> Exhausted | None:
    """Count one call against every budget; return the first exhausted, or None.

    Nothing stays counted when a budget refuses the call.
    """
    now = time.time() if now is None else now
    window = int(now // WINDOW_SECONDS)
    subjects = {
        "tenant": str(tenant_id),
        "user": f"{tenant_id}:{user_id}",
        "client": f"{tenant_id}:{client_id}",
        "tool": f"{tenant_id}:{tool}",
    }
    taken = []
    for kind, limit in budget_limits(environment_id=environment_id).items():
        if limit <= 0:
            continue
        key = f"mcp-budget:{kind}:{subjects[kind]}:{window}"
        # Two windows' lifetime: the key outlives its minute, never `incr`'s
        # read of it.
        cache.add(key, 0, timeout=2 * WINDOW_SECONDS)
        count = cache.incr(key)
        taken.append(key)
        if count > limit:
            for key in taken:
                cache.decr(key)
            retry_after = math.ceil((window + 1) * WINDOW_SECONDS - now)
            return Exhausted(kind=kind, limit=limit, retry_after=max(retry_after, 1))
    return None


def exhausted_error(exhausted: Exhausted, *, tool: str) -> ToolError:
    """Return the tool error an agent gets for an exhausted budget."""
    whose = {
        "tenant": _("this tenant"),
        "user": _("the person this agent acts for"),
        "client": _("this agent"),
        "tool": _("%(tool)s in this tenant") % {"tool": tool},
    }[exhausted.kind]
    return ToolError(
        _(
            "The budget of %(limit)s calls a minute for %(whose)s is used up; "
            "retry after %(seconds)s s."
        )
        % {"limit": exhausted.limit, "whose": whose, "seconds": exhausted.retry_after},
        code="budget_exhausted",
        retryable=True,
        retry_after=exhausted.retry_after,
    )
