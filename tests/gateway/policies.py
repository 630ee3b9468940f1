"""Governance policies the tests plug in through MCP_GOVERNANCE_POLICY."""

from integrations.gateway.tools.governance import ALLOWED, DENY, HOLD, Decision


def deny_acknowledge(request):
    if request.tool.name == "acknowledge_incidents":
        return Decision(DENY, "Acknowledging is reserved for people in this tenant.")
    return ALLOWED


def hold_acknowledge(request):
    if request.tool.name == "acknowledge_incidents" and not request.listing:
        return Decision(
            HOLD, "Waiting for a tenant admin's approval.", {"approval": "A1"}
        )
    return ALLOWED
