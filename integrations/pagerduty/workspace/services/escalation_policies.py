"""Escalation policy writes: create and replace."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from integrations.pagerduty.scopes import Scope
from integrations.pagerduty.workspace import inputs
from integrations.pagerduty.workspace.context import Workspace
from integrations.pagerduty.workspace.entities import EscalationPolicy
from integrations.pagerduty.workspace.inputs import EscalationRule
from integrations.pagerduty.workspace.operations import operation

MAX_LEVELS = 20


@dataclass(frozen=True)
class EscalationPolicyInput:
    """A policy's name, loops and levels; checked when built."""

    name: str
    rules: tuple[EscalationRule, ...]
    description: str = ""
    num_loops: int = 0

    def __post_init__(self):
        inputs.text(self.name, "name", max_length=inputs.MAX_NAME, required=True)
        inputs.text(self.description, "description", max_length=inputs.MAX_TEXT)
        inputs.bounded(self.num_loops, "num_loops", low=0, high=9)
        if not 1 <= len(self.rules) <= MAX_LEVELS or not all(
            isinstance(rule, EscalationRule) for rule in self.rules
        ):
            raise inputs.InvalidInput(
                "rules", _("Give one to twenty levels, each with a target.")
            )

    def body(self) -> dict[str, Any]:
        return {
            "type": "escalation_policy",
            "name": self.name,
            "description": self.description,
            "num_loops": self.num_loops,
            "escalation_rules": [
                {
                    "escalation_delay_in_minutes": rule.delay_minutes,
                    "targets": [
                        {"id": target.id, "type": f"{target.kind}_reference"}
                        for target in rule.targets
                    ],
                }
                for rule in self.rules
            ],
        }


def _checked(data: object) -> EscalationPolicyInput:
    if not isinstance(data, EscalationPolicyInput):
        raise inputs.InvalidInput("policy", _("Give an escalation policy."))
    return data


@operation(scope=Scope.ESCALATION_POLICIES_WRITE, write=True)
def escalation_policy_create(
    *, ws: Workspace, data: EscalationPolicyInput
) -> EscalationPolicy:
    """Create an escalation policy and return it."""
    body = _checked(data).body()
    return EscalationPolicy.from_api(
        ws.write_client.create_entity(
            "/escalation_policies",
            "escalation_policy",
            body,
            required_scope=Scope.ESCALATION_POLICIES_WRITE,
        )
    )


@operation(scope=Scope.ESCALATION_POLICIES_WRITE, write=True, target="policy_id")
def escalation_policy_update(
    *, ws: Workspace, policy_id: str, data: EscalationPolicyInput
) -> EscalationPolicy:
    """Replace an escalation policy's name, description, loops and rules."""
    policy_id = inputs.pd_id(policy_id, "policy_id")
    body = _checked(data).body()
    return EscalationPolicy.from_api(
        ws.write_client.update_entity(
            inputs.path("/escalation_policies/{}", policy_id),
            "escalation_policy",
            body,
            required_scope=Scope.ESCALATION_POLICIES_WRITE,
        )
    )
