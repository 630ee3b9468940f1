"""The tool registry: every MCP tool declared once, in one place.

A tool is a name, a description (what the model reads), an input schema,
precise annotations, its class (`mcp:read` or `mcp:write`, the portal scope
a token needs), the PagerDuty operations its handler calls (whose scopes
come from PagerDuty's own `x-pd-requires-scope`, derived into
`integrations/pagerduty/openapi_scopes.json`) and a thin handler. The
runner (`runner.py`) applies authorization, policy, audit and error mapping
around every handler; handlers never do.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import mcp_types as types
from django.core.exceptions import ImproperlyConfigured

from integrations.gateway.conf import SCOPE_READ, SCOPE_WRITE

OPENAPI_SCOPES = (
    Path(__file__).resolve().parents[2] / "pagerduty" / "openapi_scopes.json"
)


# PagerDuty's own MCP server's tools, pinned by scripts/derive_mcp_tools.py.
PAGERDUTY_MCP_TOOLS = (
    Path(__file__).resolve().parents[2] / "pagerduty" / "pagerduty_mcp_tools.json"
)


@cache
def _pagerduty_mcp_tools() -> dict[str, dict[str, Any]]:
    document = json.loads(PAGERDUTY_MCP_TOOLS.read_text())
    return {tool["name"]: tool for tool in document["tools"]}


def pagerduty_mcp_schema(name: str) -> dict[str, Any]:
    """Return pagerduty-mcp 1.1.0's input schema of a tool (scripts/derive_…)."""
    return copy.deepcopy(_pagerduty_mcp_tools()[name]["inputSchema"])


@cache
def operation_scopes() -> dict[str, str]:
    """Return PagerDuty's scope per operation ("GET /incidents": "incidents.read")."""
    return json.loads(OPENAPI_SCOPES.read_text())["scopes"]


@dataclass(frozen=True)
class Tool:
    """One MCP tool and everything the runner needs to govern it."""

    name: str
    title: str
    description: str
    input_schema: dict[str, Any]
    access: str
    operations: tuple[str, ...]
    handler: Callable[..., dict[str, Any]]
    read_only: bool
    destructive: bool
    idempotent: bool
    # Argument names holding free text (notes, titles): masked in the audit.
    free_text: tuple[str, ...] = ()
    # Same name and input schema as PagerDuty's own MCP server (1.1.0).
    compatible: bool = False
    pagerduty_scopes: frozenset[str] = field(default=frozenset(), init=False)

    def __post_init__(self):
        scopes = operation_scopes()
        unknown = [op for op in self.operations if op not in scopes]
        if unknown or not self.operations:
            raise ImproperlyConfigured(
                f"Tool {self.name}: unknown PagerDuty operations {unknown}"
            )
        if self.access not in (SCOPE_READ, SCOPE_WRITE):
            raise ImproperlyConfigured(f"Tool {self.name}: bad access {self.access}")
        if self.read_only and self.access != SCOPE_READ:
            raise ImproperlyConfigured(f"Tool {self.name}: read only but a write")
        object.__setattr__(
            self, "pagerduty_scopes", frozenset(scopes[op] for op in self.operations)
        )

    @property
    def is_write(self) -> bool:
        return self.access == SCOPE_WRITE

    def as_mcp(self) -> types.Tool:
        return types.Tool(
            name=self.name,
            title=self.title,
            description=self.description,
            input_schema=self.input_schema,
            annotations=types.ToolAnnotations(
                title=self.title,
                read_only_hint=self.read_only,
                destructive_hint=self.destructive,
                idempotent_hint=self.idempotent,
                open_world_hint=True,
            ),
        )


_REGISTRY: dict[str, Tool] = {}


def register(**declaration) -> Callable:
    """Declare the decorated function as a tool's handler."""

    def decorator(handler):
        tool = Tool(handler=handler, **declaration)
        if tool.name in _REGISTRY:
            raise ImproperlyConfigured(f"Tool {tool.name} is declared twice")
        _REGISTRY[tool.name] = tool
        return handler

    return decorator


def all_tools() -> list[Tool]:
    """Return every tool, in a fixed order (by name)."""
    _load()
    return sorted(_REGISTRY.values(), key=lambda tool: tool.name)


def tool_get(name: str) -> Tool | None:
    _load()
    return _REGISTRY.get(name)


def capability_summary() -> dict[str, list[Tool]]:
    """Return the tools per class, for the consent and agents pages."""
    tools = all_tools()
    return {
        "read": [t for t in tools if not t.is_write],
        "write": [t for t in tools if t.is_write],
    }


@cache
def _load() -> None:
    # Each module registers its tools on import.
    from integrations.gateway.tools import (  # noqa: F401
        alert_grouping,
        alerts,
        business_services,
        change_events,
        escalation_policies,
        event_orchestrations,
        incidents,
        log_entries,
        oncalls,
        schedules,
        services,
        teams,
        users,
        webhooks,
    )
