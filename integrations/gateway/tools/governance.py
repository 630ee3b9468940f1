"""The governance hook: one decision per listed or called tool.

`decide` is the single place policies, approvals and budgets plug in
(MCP-GATEWAY.md M21–M30): it asks the function named by MCP_GOVERNANCE_POLICY
(default `allow_all`). `filter_result` masks results by the masking rules of
the tenant and its environment. The runner calls both for every tool, so a
policy never touches a handler.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from django.conf import settings
from django.utils.module_loading import import_string

from integrations.gateway.selectors import masking_ruleset
from integrations.gateway.tools.result_masking import mask_value

ALLOW = "allow"
DENY = "deny"
HOLD = "hold"


@dataclass(frozen=True)
class ToolRequest:
    """What a decision may look at. `arguments` is None when listing."""

    tool: Any
    tenant: Any
    user: Any
    client: Any
    authorization: Any
    arguments: dict[str, Any] | None = None

    @property
    def listing(self) -> bool:
        return self.arguments is None


@dataclass(frozen=True)
class Decision:
    kind: Literal["allow", "deny", "hold"]
    reason: str = ""
    data: dict[str, Any] = field(default_factory=dict)


ALLOWED = Decision(ALLOW)


def allow_all(request: ToolRequest) -> Decision:
    """The default policy: every tool the checks before it let through."""
    return ALLOWED


def decide(request: ToolRequest) -> Decision:
    """Return whether a tool may be listed or called: allow, deny or hold."""
    return import_string(settings.MCP_GOVERNANCE_POLICY)(request)


def filter_result(request: ToolRequest, result: dict[str, Any]) -> dict[str, Any]:
    """Return the result the agent may see: masked by the tenant's rules (M26)."""
    rules = masking_ruleset(tenant=request.tenant, tool=request.tool.name)
    return mask_value(result, rules)
