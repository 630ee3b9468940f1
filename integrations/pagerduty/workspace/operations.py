"""The registry of PagerDuty operations: each declares its scope once.

Selectors and services are declared with `@operation(scope=…)`. Calling
one checks the scope before anything is sent (`MissingScope`), and a write
runs through `Workspace.perform` (cache invalidation, audit). Pages read
`OPERATIONS` to enable their controls and the MCP gateway to decide which
tools a caller may see, so the two can never disagree.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Operation:
    """A named PagerDuty operation of the workspace."""

    name: str
    scope: str
    write: bool
    # The keyword argument holding the target's ID, for the audit log;
    # empty when the target is what the operation creates.
    target: str = ""


OPERATIONS: dict[str, Operation] = {}


def operation(*, scope: str, write: bool = False, target: str = "") -> Callable:
    """Declare a selector (read) or service (write) and its PagerDuty scope."""

    def decorate(func: F) -> F:
        declared = Operation(
            name=func.__name__, scope=scope, write=write, target=target
        )
        if OPERATIONS.setdefault(declared.name, declared) is not declared:
            raise RuntimeError(f"operation {declared.name} is declared twice")

        @wraps(func)
        def run(*, ws, **arguments):
            ws.require(scope)
            if not write:
                return func(ws=ws, **arguments)
            return ws.perform(declared, arguments, lambda: func(ws=ws, **arguments))

        run.operation = declared
        return run

    return decorate


def operation_get(name: str) -> Operation:
    """Return a declared operation by name (KeyError if unknown)."""
    return OPERATIONS[name]
