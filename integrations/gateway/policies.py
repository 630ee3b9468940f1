"""Agent policies: one pure decision per tool call (MCP-GATEWAY.md M21–M24, M29).

`evaluate` takes everything a decision may depend on (the tool, the caller,
the arguments, the time, the environment's and the tenant's rules) and
returns allow, approval or deny with a reason. It reads nothing else: no
database, no settings, no clock. `integrations.gateway.tools.governance`
loads the rules and calls it.

Layers, each replacing the one below when its conditions hold: the
built-in default (by tool name, else by the tool's class), the
environment's rule (staff), the tenant's rule (tenant admins). A tenant
rule may always tighten; it may loosen only where the environment's rule
says tenants may.

Conditions read arguments after normalization (case, whitespace, duplicate
IDs, nesting at any depth), so an agent cannot dodge a rule by spelling a
value differently or burying it in an object.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

ALLOW = "allow"
# Ask the person themselves ("are you sure?") by MCP elicitation where the
# client supports it; otherwise a tenant admin's approval.
CONFIRM = "confirm"
APPROVAL = "approval"
DENY = "deny"
ACTIONS = (ALLOW, CONFIRM, APPROVAL, DENY)
STRICTNESS = {ALLOW: 0, CONFIRM: 1, APPROVAL: 2, DENY: 3}

# Writes that only add to an incident: allowed by default.
ADDITIVE_WRITES = frozenset(
    {"acknowledge_incidents", "add_incident_note", "add_note_to_incident"}
)
WEBHOOK_WRITES = frozenset(
    {"create_webhook_subscription", "update_webhook_subscription"}
)

# What a condition may look at, and the operators each accepts.
SUBJECTS = {
    "incident_count": ("gt", "gte"),
    "urgency": ("in", "not_in"),
    "status": ("in", "not_in"),
    "delivery_host": ("in", "not_in"),
    "role": ("in", "not_in"),
    "client": ("in", "not_in"),
    "hour_utc": ("in", "not_in"),
}
# Subjects known before the arguments are (listing a tool).
CALLER_SUBJECTS = frozenset({"role", "client", "hour_utc"})
MAX_CONDITIONS = 10
MAX_VALUES = 50
MAX_DEPTH = 12

_HOST = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$")


@dataclass(frozen=True)
class Rule:
    """One stored policy row: its action applies when all conditions hold."""

    action: str
    conditions: tuple[dict[str, Any], ...] = ()
    # Environment rules: whether tenants may choose a looser action.
    tenant_may_loosen: bool = False
    # Whether the requester may approve their own held call.
    self_approval: bool = False


@dataclass(frozen=True)
class Call:
    """Who asks for which tool with what; `arguments` is None when listing."""

    tool: str
    # None for a tool the registry does not know.
    read_only: bool | None
    role: str
    client: str
    now: datetime
    arguments: dict[str, Any] | None = None
    tenant: int | None = None
    user: int | None = None

    @property
    def listing(self) -> bool:
        return self.arguments is None


@dataclass(frozen=True)
class Verdict:
    action: str
    reason: str
    # Which layer decided: default, environment or tenant.
    source: str = "default"
    self_approval: bool = False
    notes: tuple[str, ...] = field(default=())


def evaluate(
    call: Call,
    *,
    environment_rule: Rule | None = None,
    tenant_rule: Rule | None = None,
    webhook_hosts: Iterable[str] = (),
) -> Verdict:
    """Return what may happen to `call`: allow, approval or deny, and why."""
    # An environment rule on a webhook tool carries staff's own host list
    # (delivery_host conditions), so it replaces the built-in host check.
    verdict = default_verdict(
        call, webhook_hosts=webhook_hosts, check_hosts=environment_rule is None
    )
    if environment_rule is not None and _applies(environment_rule, call):
        verdict = Verdict(
            environment_rule.action,
            _("The environment's policy for %(tool)s: %(action)s.")
            % {"tool": call.tool, "action": environment_rule.action},
            source="environment",
            self_approval=environment_rule.self_approval,
        )
    if tenant_rule is not None and _applies(tenant_rule, call):
        looser = STRICTNESS[tenant_rule.action] < STRICTNESS[verdict.action]
        may_loosen = environment_rule is not None and environment_rule.tenant_may_loosen
        if not looser or may_loosen:
            verdict = Verdict(
                tenant_rule.action,
                _("This tenant's policy for %(tool)s: %(action)s.")
                % {"tool": call.tool, "action": tenant_rule.action},
                source="tenant",
                self_approval=tenant_rule.self_approval,
            )
    return verdict


def default_verdict(
    call: Call, *, webhook_hosts: Iterable[str] = (), check_hosts: bool = True
) -> Verdict:
    """Return the built-in default: by tool name first, then by class."""
    if call.read_only is None:
        return Verdict(DENY, _("Unknown tools are denied."))
    if call.read_only:
        return Verdict(ALLOW, _("Reads are allowed."))
    if call.tool in ADDITIVE_WRITES:
        return Verdict(ALLOW, _("Additive writes are allowed."))
    if call.tool == "manage_incidents" and _acknowledges_only(call.arguments):
        return Verdict(ALLOW, _("Acknowledging is allowed."))
    if call.tool in WEBHOOK_WRITES and check_hosts and not call.listing:
        allowed = {_host(h) for h in webhook_hosts}
        outside = sorted(h for h in delivery_hosts(call.arguments) if h not in allowed)
        if outside:
            return Verdict(
                DENY,
                _(
                    "Webhook deliveries may only go to this environment's "
                    "allowed hosts; not to %(hosts)s."
                )
                % {"hosts": ", ".join(outside)[:200]},
            )
    return Verdict(
        APPROVAL,
        _("Changes other than notes and acknowledging need a tenant admin's approval."),
    )


def _acknowledges_only(arguments: dict[str, Any] | None) -> bool:
    if arguments is None:
        return False
    request = arguments.get("manage_request")
    if not isinstance(request, dict):
        return False
    changes = {k for k, v in request.items() if v is not None and k != "incident_ids"}
    status = request.get("status")
    return (
        changes == {"status"}
        and isinstance(status, str)
        and _norm(status) == "acknowledged"
    )


def _applies(rule: Rule, call: Call) -> bool:
    if call.listing:
        # Only what is known without arguments can hide a tool.
        return all(
            c["when"] in CALLER_SUBJECTS and _holds(c, call) for c in rule.conditions
        )
    return all(_holds(condition, call) for condition in rule.conditions)


def _holds(condition: dict[str, Any], call: Call) -> bool:
    subject, op, value = condition["when"], condition["op"], condition["value"]
    if subject not in CALLER_SUBJECTS and _depth(call.arguments) > MAX_DEPTH:
        # Too deep to read fully: the condition holds (fail closed).
        return True
    if subject == "incident_count":
        count = len(incident_ids(call.arguments))
        return count > value if op == "gt" else count >= value
    wanted = {_norm(v) for v in value} if subject != "hour_utc" else set(value)
    if subject == "role":
        found = {_norm(call.role)}
    elif subject == "client":
        found = {_norm(call.client)}
    elif subject == "hour_utc":
        found = {call.now.hour}
    elif subject == "delivery_host":
        wanted = {_host(v) for v in value}
        found = delivery_hosts(call.arguments)
    else:
        found = {
            _norm(v) for v in _values(call.arguments, subject) if isinstance(v, str)
        }
    if op == "in":
        return bool(found & wanted)
    # not_in: any value outside the list (a URL we cannot read counts as outside).
    return bool(found - wanted)


def _depth(value: Any, level: int = 0) -> int:
    if level > MAX_DEPTH or not isinstance(value, dict | list):
        return level
    items = value.values() if isinstance(value, dict) else value
    return max((_depth(item, level + 1) for item in items), default=level)


def _norm(value: str) -> str:
    return " ".join(str(value).split()).casefold()


def _walk(value: Any, depth: int = 0) -> Iterator[tuple[str, Any]]:
    """Yield (normalized key, value) for every key at any depth."""
    if depth > MAX_DEPTH:
        return
    if isinstance(value, dict):
        for key, item in value.items():
            yield _norm(key), item
            yield from _walk(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item, depth + 1)


def _values(arguments: dict[str, Any] | None, key: str) -> list[Any]:
    found = []
    for name, value in _walk(arguments or {}):
        if name == key:
            found.extend(value if isinstance(value, list) else [value])
    return found


def incident_ids(arguments: dict[str, Any] | None) -> set[str]:
    """Return the distinct incident IDs an argument set names, anywhere."""
    values = _values(arguments, "incident_ids") + _values(arguments, "incident_id")
    return {_norm(v).upper() for v in values if isinstance(v, str | int)}


def delivery_hosts(arguments: dict[str, Any] | None) -> set[str]:
    """Return the hosts of every URL in the arguments, normalized.

    A value that is not a plain http(s) URL with a host name yields a
    placeholder that no allowed list contains, so it counts as outside.
    """
    hosts = set()
    for value in _values(arguments, "url"):
        try:
            parts = urlsplit(str(value).strip())
            host = _host(parts.hostname or "")
            # Userinfo and backslashes read differently across URL parsers.
            plain = not set(parts.netloc) & {"@", "\\"}
            ok = (
                parts.scheme.lower() in ("http", "https")
                and plain
                and _HOST.match(host)
            )
        except ValueError:
            ok = False
        hosts.add(host if ok else "(unreadable URL)")
    return hosts


def _host(value: str) -> str:
    return str(value).strip().rstrip(".").casefold()


def validate_conditions(value: Any) -> list[dict[str, Any]]:
    """Return conditions in canonical form; raise ValidationError otherwise."""
    if value in (None, ""):
        return []
    if not isinstance(value, list) or len(value) > MAX_CONDITIONS:
        raise ValidationError(
            _("Conditions are a list of at most %(n)s objects.")
            % {"n": MAX_CONDITIONS},
            code="conditions",
        )
    cleaned = []
    for condition in value:
        if not isinstance(condition, dict) or set(condition) != {"when", "op", "value"}:
            raise ValidationError(
                _('Each condition is {"when": …, "op": …, "value": …}.'),
                code="conditions",
            )
        subject, op, operand = condition["when"], condition["op"], condition["value"]
        if subject not in SUBJECTS:
            raise ValidationError(
                _("Unknown condition %(when)s; use one of: %(known)s.")
                % {"when": str(subject)[:40], "known": ", ".join(SUBJECTS)},
                code="conditions",
            )
        if op not in SUBJECTS[subject]:
            raise ValidationError(
                _("%(when)s takes %(ops)s.")
                % {"when": subject, "ops": " or ".join(SUBJECTS[subject])},
                code="conditions",
            )
        if subject == "incident_count":
            if type(operand) is not int or not 0 <= operand <= 10000:
                raise ValidationError(
                    _("incident_count takes a whole number."), code="conditions"
                )
        elif subject == "hour_utc":
            if not _list_of(operand, int) or any(not 0 <= h <= 23 for h in operand):
                raise ValidationError(
                    _("hour_utc takes a list of hours 0–23."), code="conditions"
                )
            operand = sorted(set(operand))
        else:
            if not _list_of(operand, str) or any(len(v) > 200 for v in operand):
                raise ValidationError(
                    _("%(when)s takes a list of text values.") % {"when": subject},
                    code="conditions",
                )
            operand = sorted({_norm(v) for v in operand})
        cleaned.append({"when": subject, "op": op, "value": operand})
    return cleaned


def _list_of(value: Any, kind: type) -> bool:
    return (
        isinstance(value, list)
        and 0 < len(value) <= MAX_VALUES
        and all(type(v) is kind for v in value)
    )


def canonical_arguments(arguments: dict[str, Any]) -> str:
    """Return the arguments as canonical JSON (sorted keys, no spaces)."""
    return json.dumps(
        arguments, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )


def arguments_hash(arguments: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_arguments(arguments).encode()).hexdigest()
