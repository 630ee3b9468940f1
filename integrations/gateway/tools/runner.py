"""The one wrapper around every tool: who may, what is visible, what happened.

For every `tools/list` and `tools/call`, in this order: the agent's
authorization and the person's membership (re-checked on every call), the
tool's visibility (what the person may do in the tenant's PagerDuty, as
the workspace decides it: scopes granted to the link the tool would act
through, the portal role and the PagerDuty role; a hidden tool is refused
exactly like an unknown one), the token's class
(`mcp:read` / `mcp:write`), the connection being live, the arguments
against the input schema, the governance hook, the handler, the error
mapping, and one audit row. Synchronous: the MCP server runs it in a
worker thread.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import asdict, dataclass, field, is_dataclass
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from integrations.exceptions import PagerDutyError
from integrations.gateway.approvals import ApprovalRefused
from integrations.gateway.conf import SCOPE_WRITE
from integrations.gateway.confirmations import ConfirmationRefused
from integrations.gateway.models import AgentAuthorization, ToolCall
from integrations.gateway.selectors import masking_ruleset
from integrations.gateway.services import (
    agent_authorization_touch,
    tool_call_record,
)
from integrations.gateway.tools import budgets, governance
from integrations.gateway.tools.errors import (
    ToolError,
    from_pagerduty,
    from_workspace,
    reconnect_message,
)
from integrations.gateway.tools.masking import mask_arguments
from integrations.gateway.tools.registry import Tool, all_tools, tool_get
from integrations.gateway.tools.result_masking import mask_text, mask_value
from integrations.models import Connection, Membership
from integrations.pagerduty import roles
from integrations.pagerduty.workspace.access import (
    LinkRequired,
    MissingScope,
    NotAllowed,
    WorkspaceError,
)
from integrations.pagerduty.workspace.context import Workspace
from integrations.selectors import connection_get_live, link_get_live

logger = logging.getLogger(__name__)

Outcome = ToolCall.Outcome

# The argument naming an approved held call on its retry.
APPROVAL_KEY = "approval_id"


@dataclass(frozen=True)
class Caller:
    """Who is calling, as the verified access token says."""

    authorization_id: int
    scopes: frozenset[str]
    protocol_version: str = ""
    request_id: str = ""
    # SHA-256 of the presented access token, to catch it in arguments.
    token_checksum: str = ""
    # Whether the client takes an input-required result with a form (M23).
    can_elicit: bool = False
    # The retry of an elicitation: its echoed state and the person's answer.
    confirmation: Confirmation | None = None


@dataclass(frozen=True)
class Confirmation:
    state: Any
    accepted: bool


@dataclass
class Session:
    """The caller's authorization, membership, connection and link, read afresh."""

    authorization: AgentAuthorization
    membership: Membership | None
    connection: Connection | None
    link: Connection | None = None
    _masking: dict = field(default_factory=dict, repr=False)

    @property
    def tenant(self):
        return self.authorization.tenant

    def masking(self, tool: str):
        """Return the tool's masking rules, read once for the result and the log."""
        if tool not in self._masking:
            self._masking[tool] = masking_ruleset(tenant=self.tenant, tool=tool)
        return self._masking[tool]

    @property
    def usable(self) -> bool:
        return self.connection is not None and self.connection.is_usable

    def workspace(self) -> Workspace:
        """Return the person's workspace: the same one their pages open."""
        return Workspace(
            user=self.authorization.user,
            membership=self.membership,
            connection=self.connection,
            link=self.link,
            via=f"mcp:{self.authorization.client.client_id}",
        )


@dataclass(frozen=True)
class ToolContext:
    """What a handler gets: the tenant's workspace and the result cap."""

    ws: Workspace
    session: Session
    max_results: int


@dataclass(frozen=True)
class CallResult:
    structured: dict[str, Any]
    is_error: bool
    # Set when the person must confirm first: message, schema, signed state.
    input_required: dict[str, Any] | None = None


class _Ask(Exception):
    def __init__(self, payload: dict[str, Any]):
        super().__init__("confirmation asked")
        self.payload = payload


class _Stop(Exception):
    def __init__(self, error: ToolError, outcome: str = Outcome.REFUSED):
        super().__init__(error.message)
        self.error = error
        self.outcome = outcome


def load_session(caller: Caller) -> Session | None:
    """Return the caller's live authorization with membership and connection."""
    authorization = (
        AgentAuthorization.objects.select_related(
            "client", "user", "tenant__environment"
        )
        .filter(pk=caller.authorization_id, revoked_at__isnull=True)
        .first()
    )
    if authorization is None:
        return None
    membership = (
        Membership.objects.select_related("tenant__environment")
        .filter(user_id=authorization.user_id, tenant_id=authorization.tenant_id)
        .first()
    )
    connection = connection_get_live(tenant=authorization.tenant)
    link = None
    if membership is not None:
        if connection is not None and connection.user_id == authorization.user_id:
            link = connection
        else:
            link = link_get_live(tenant=authorization.tenant, user=authorization.user)
    return Session(
        authorization=authorization,
        membership=membership,
        connection=connection,
        link=link,
    )


def _request(
    tool: Tool, session: Session, arguments=None, rules=None
) -> governance.ToolRequest:
    authorization = session.authorization
    return governance.ToolRequest(
        tool=tool,
        tenant=authorization.tenant,
        user=authorization.user,
        client=authorization.client,
        authorization=authorization,
        arguments=arguments,
        role=session.membership.role if session.membership else "",
        rules=rules,
        masking=session.masking(tool.name) if arguments is not None else None,
    )


def _available(tool: Tool, session: Session) -> bool:
    """Whether the person may use the tool here: the workspace decides.

    Each PagerDuty scope the tool needs must be usable by this person:
    granted to the connection it would act through, and allowed by their
    portal and PagerDuty roles. Without a link of their own, a tool is
    judged by the tenant connection's grant and the portal role, and
    calling it says how to link. Without a live connection every tool stays
    listed, so that calling one says the connection is missing.
    """
    if not session.usable:
        return True
    ws = session.workspace()
    for scope in tool.pagerduty_scopes:
        try:
            ws.require(scope)
        except LinkRequired:
            ability = roles.ability_for(scope)
            if not session.connection.has_scope(scope) or (
                ability
                and not roles.portal_allows(
                    is_admin=session.membership.is_admin, ability=ability
                )
            ):
                return False
        except (MissingScope, NotAllowed):
            return False
    return True


def visible_tools(caller: Caller) -> list[Tool]:
    """Return the tools this caller may see, in the registry's fixed order."""
    session = load_session(caller)
    if session is None or session.membership is None:
        return []
    agent_authorization_touch(authorization_id=caller.authorization_id)
    # Every tool's stored rules in one query, not one per tool.
    rules = governance.rules_for(session.tenant)
    return [
        tool
        for tool in all_tools()
        if tool.access in caller.scopes
        and _available(tool, session)
        and governance.decide(_request(tool, session, rules=rules)).kind
        != governance.DENY
    ]


def step_up_required(caller: Caller, name: str) -> bool:
    """Whether a write scope would let this caller run `name` (step-up).

    True only for a read-only token and a write tool the tenant has; an
    unknown or hidden tool is refused by the call itself, like any other.
    """
    if SCOPE_WRITE in caller.scopes:
        return False
    tool = tool_get(name)
    if tool is None or not tool.is_write:
        return False
    session = load_session(caller)
    return (
        session is not None
        and session.membership is not None
        and _available(tool, session)
    )


def record_step_up(caller: Caller, name: str, arguments: Any) -> None:
    """Audit a write call answered with the HTTP step-up challenge."""
    session = load_session(caller)
    tool = tool_get(name)
    _audit(
        caller,
        session,
        name,
        arguments,
        tool,
        outcome=Outcome.REFUSED,
        reason="insufficient_scope",
        message=_write_scope_message(name),
        started=time.monotonic(),
    )


def _write_scope_message(name: str) -> str:
    return _(
        "This agent was authorized read only, and %(tool)s needs the mcp:write "
        "scope. Authorize the agent again without “Read only” to use it."
    ) % {"tool": name}


def call_tool(caller: Caller, name: str, arguments: Any) -> CallResult:
    """Run one `tools/call` through every check; return what the agent sees."""
    started = time.monotonic()
    session = load_session(caller)
    tool = tool_get(name)
    try:
        structured, outcome = _run(caller, session, tool, name, arguments)
    except _Stop as stop:
        error = stop.error
        _audit(
            caller,
            session,
            name,
            arguments,
            tool,
            outcome=stop.outcome,
            reason=error.code,
            message=error.message,
            pagerduty_status=error.pagerduty_status,
            started=started,
        )
        return CallResult(error.as_structured(), is_error=True)
    except _Ask as ask:
        _audit(
            caller,
            session,
            name,
            arguments,
            tool,
            outcome=Outcome.HELD,
            reason="confirmation_asked",
            message=_("Asked the person to confirm."),
            started=started,
        )
        return CallResult({}, is_error=False, input_required=ask.payload)
    _audit(
        caller,
        session,
        name,
        arguments,
        tool,
        outcome=outcome,
        reason="" if outcome == Outcome.SUCCEEDED else outcome,
        message=structured.get("reason", "") if outcome == Outcome.HELD else "",
        started=started,
    )
    return CallResult(structured, is_error=False)


def _run(caller, session, tool, name, arguments) -> tuple[dict, str]:
    if session is None or session.membership is None:
        raise _Stop(
            ToolError(
                _("This agent's authorization no longer holds; authorize it again."),
                code="not_authorized",
            )
        )
    if tool is None or not _available(tool, session):
        raise _Stop(
            ToolError(
                _("Unknown tool: %(name)s") % {"name": name[:100]}, code="unknown_tool"
            )
        )
    if tool.is_write and SCOPE_WRITE not in caller.scopes:
        raise _Stop(ToolError(_write_scope_message(name), code="insufficient_scope"))
    if not session.usable:
        raise _Stop(_not_connected(session))
    if not isinstance(arguments, dict):
        raise _Stop(
            ToolError(_("Arguments must be a JSON object."), code="invalid_arguments")
        )
    if caller.token_checksum and _contains_token(arguments, caller.token_checksum):
        # No token passthrough: the agent's token is for the portal only.
        raise _Stop(
            ToolError(
                _("Arguments may not contain your access token."),
                code="token_in_arguments",
            )
        )
    approval_id = None
    if tool.is_write and APPROVAL_KEY in arguments:
        # Not part of the advertised schema (kept pagerduty-mcp's own): the
        # retry of a held call names its approval beside the arguments.
        arguments = dict(arguments)
        approval_id = arguments.pop(APPROVAL_KEY)
    error = best_match(Draft202012Validator(tool.input_schema).iter_errors(arguments))
    if error is not None:
        where = "/".join(str(part) for part in error.absolute_path) or "arguments"
        raise _Stop(
            ToolError(
                _("Invalid arguments (%(where)s): %(message)s")
                % {"where": where[:100], "message": error.message[:200]},
                code="invalid_arguments",
            )
        )
    request = _request(tool, session, arguments)
    decision = governance.decide(request)
    if decision.kind == governance.DENY:
        raise _Stop(
            ToolError(
                decision.reason
                or _("A policy of this tenant denies %(tool)s.") % {"tool": name},
                code="policy_denied",
            ),
            outcome=Outcome.DENIED,
        )
    # Before any hold or approval: an exhausted budget must not spend one.
    _spend_budget(session, name)
    held = decision.kind == governance.HOLD
    if decision.kind == governance.CONFIRM:
        if caller.confirmation is not None:
            try:
                governance.confirm(
                    request, caller.confirmation.state, caller.confirmation.accepted
                )
            except ConfirmationRefused as exc:
                raise _Stop(ToolError(str(exc), code=exc.code)) from None
        elif caller.can_elicit:
            raise _Ask(governance.ask(request, decision))
        else:
            # No way to ask the person here: a tenant admin decides instead,
            # and the retry redeems that approval like any held call's.
            held = True
    if held:
        if approval_id is None:
            return governance.hold(request, decision), Outcome.HELD
        try:
            governance.redeem(request, approval_id)
        except ApprovalRefused as exc:
            raise _Stop(ToolError(str(exc), code=exc.code)) from None
    agent_authorization_touch(authorization_id=caller.authorization_id)
    ws = session.workspace()
    context = ToolContext(
        ws=ws, session=session, max_results=settings.MCP_TOOL_MAX_RESULTS
    )
    try:
        result = tool.handler(context, arguments)
    except ToolError as exc:
        # A handler's own argument checks refuse before PagerDuty is called.
        refused = exc.code == "invalid_arguments"
        raise _Stop(
            exc, outcome=Outcome.REFUSED if refused else Outcome.FAILED
        ) from None
    except PagerDutyError as exc:
        raise _Stop(
            from_pagerduty(exc, tenant=session.tenant, scopes=tool.pagerduty_scopes),
            outcome=Outcome.FAILED,
        ) from None
    except WorkspaceError as exc:
        # Refused by the workspace before PagerDuty was called.
        raise _Stop(from_workspace(exc, tenant=session.tenant)) from None
    except Exception:
        logger.exception("Tool %s failed", name)
        raise _Stop(
            ToolError(
                _(
                    "The tool failed unexpectedly; the portal logged it under "
                    "request id %(id)s."
                )
                % {"id": caller.request_id or "-"},
                code="internal_error",
            ),
            outcome=Outcome.FAILED,
        ) from None
    finally:
        ws.close()
    return governance.filter_result(request, _json(result)), Outcome.SUCCEEDED


def _spend_budget(session: Session, name: str) -> None:
    authorization = session.authorization
    exhausted = budgets.budget_consume(
        tenant_id=authorization.tenant_id,
        user_id=authorization.user_id,
        client_id=authorization.client_id,
        tool=name,
        environment_id=authorization.tenant.environment_id,
    )
    if exhausted is not None:
        raise _Stop(budgets.exhausted_error(exhausted, tool=name))


def _contains_token(value: Any, checksum: str, depth: int = 0) -> bool:
    if isinstance(value, str):
        return hashlib.sha256(value.encode()).hexdigest() == checksum
    if depth > 8:
        return False
    if isinstance(value, dict):
        items = [*value.keys(), *value.values()]
    elif isinstance(value, list):
        items = value
    else:
        return False
    return any(_contains_token(item, checksum, depth + 1) for item in items)


def _not_connected(session: Session) -> ToolError:
    if session.connection is not None:
        return ToolError(reconnect_message(session.tenant), code="reconnect_needed")
    return ToolError(
        _(
            "PagerDuty is not connected for %(tenant)s. A tenant admin must "
            "connect it in the portal; this agent keeps its authorization."
        )
        % {"tenant": session.tenant.name},
        code="not_connected",
    )


def _json(value: dict) -> dict:
    return json.loads(json.dumps(value, default=_default))


def _default(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    if is_dataclass(value):
        return asdict(value)
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    return str(value)


def _audit(
    caller: Caller,
    session: Session | None,
    name: str,
    arguments: Any,
    tool: Tool | None,
    *,
    outcome: str,
    reason: str,
    message: str,
    started: float,
    pagerduty_status: int | None = None,
) -> None:
    authorization = session.authorization if session is not None else None
    client = authorization.client if authorization else None
    user = authorization.user if authorization else None
    try:
        # The log keeps only what the tenant's masking rules let through.
        rules = (
            session.masking(str(name))
            if authorization
            else masking_ruleset(tenant=None, tool=str(name))
        )
        tool_call_record(
            tenant=authorization.tenant if authorization else None,
            user=user,
            user_label=user.get_username() if user else "",
            client=client,
            client_label=client.display_name[:255] if client else "",
            authorization=authorization,
            protocol_version=caller.protocol_version[:20],
            tool=str(name)[:100],
            arguments=mask_value(
                mask_arguments(
                    arguments,
                    free_text=tool.free_text if tool else None,
                    hide=lambda value: _contains_token(value, caller.token_checksum),
                ),
                rules,
            ),
            outcome=outcome,
            reason=reason[:40],
            message=mask_text(message, rules)[:500],
            pagerduty_status=pagerduty_status,
            latency_ms=int((time.monotonic() - started) * 1000),
            request_id=caller.request_id[:64],
        )
    except Exception:
        # The agent still gets its answer; the failure is in the log.
        logger.exception("Could not record the tool call %s", str(name)[:100])
