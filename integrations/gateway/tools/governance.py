"""The governance hook: one decision per listed or called tool.

`decide` is the single place policies, approvals and budgets will plug in
(MCP-GATEWAY.md M21–M30); today it allows everything. `filter_result` is
where result masking will go. The runner calls both for every tool, so a
policy never needs to touch a tool's handler.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

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


def decide(request: ToolRequest) -> Decision:
    """Return whether a tool may be listed or called: allow, deny or hold."""
    return ALLOWED


def filter_result(request: ToolRequest, result: dict[str, Any]) -> dict[str, Any]:
    """Return the result the agent may see (masking goes here)."""
    return result
