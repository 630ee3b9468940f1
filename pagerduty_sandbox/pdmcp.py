"""Drive PagerDuty's own MCP server (`pagerduty-mcp`) against the sandbox.

The package needs Python 3.12 and is a benchmark baseline, never a portal
dependency, so it lives in its own venv (`make pdmcp-install`, from the
hashed `bench/pdmcp-requirements.txt`) and is driven through
`scripts/pdmcp_probe.py` in a subprocess. This module finds that venv, runs
the probe, and builds plausible arguments for every tool from the
sandbox's state; `scripts/derive_mcp_tools.py`, the tests and benchmarks
use it.
"""

import json
import os
import subprocess
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from pagerduty_sandbox.scopes import spec_data
from pagerduty_sandbox.state import State, WebhookSubscription, iso

ROOT = Path(__file__).resolve().parents[1]
PROBE = ROOT / "scripts" / "pdmcp_probe.py"
INVENTORY = ROOT / "integrations" / "pagerduty" / "pagerduty_mcp_tools.json"
DEFAULT_VENV = ROOT / ".venv-pdmcp"
PROBE_TIMEOUT = 600


class ProbeError(RuntimeError):
    """The probe failed; the message carries its stderr."""


def pdmcp_python() -> Path | None:
    """Return the interpreter of the pagerduty-mcp venv, or None.

    `PDMCP_PYTHON` names it; otherwise `.venv-pdmcp/` in the checkout
    (where `make pdmcp-install` puts it).
    """
    configured = os.environ.get("PDMCP_PYTHON")
    python = Path(configured) if configured else DEFAULT_VENV / "bin" / "python"
    return python if python.is_file() and os.access(python, os.X_OK) else None


def run_probe(python: Path, command: str, payload: dict | None = None):
    """Run `scripts/pdmcp_probe.py <command>` and return its JSON answer."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("PAGERDUTY_")
    }
    completed = subprocess.run(  # noqa: S603 - our own script, fixed arguments
        [os.path.abspath(python), str(PROBE), command],
        input=json.dumps(payload) if payload is not None else "",
        capture_output=True,
        text=True,
        timeout=PROBE_TIMEOUT,
        # The package reads a .env from its working directory (dotenv).
        cwd=str(PROBE.parent),
        env=env,
        check=False,
    )
    if completed.returncode != 0:
        raise ProbeError(
            f"pdmcp_probe.py {command} failed ({completed.returncode}):\n"
            f"{completed.stderr[-4000:]}"
        )
    return json.loads(completed.stdout)


def match_operation(method: str, path: str, operations, *, pattern: bool) -> str:
    """Return the OpenAPI operation ("METHOD /template") a path belongs to.

    With `pattern`, "{}" segments stand for interpolated values and must
    meet a path parameter; otherwise any segment may. The most specific
    template (most literal segments) wins; raise ValueError unless exactly
    one does.
    """
    segments = path.strip("/").split("/")
    best, best_literals = [], -1
    for operation in operations:
        op_method, template = operation.split(" ", 1)
        parts = template.strip("/").split("/")
        if op_method != method or len(parts) != len(segments):
            continue
        literals = 0
        for segment, part in zip(segments, parts, strict=True):
            if part.startswith("{"):
                if not segment:
                    break
                continue
            if segment != part:
                break
            literals += 1
        else:
            if literals > best_literals:
                best, best_literals = [operation], literals
            elif literals == best_literals:
                best.append(operation)
    if len(best) != 1:
        found = ", ".join(best) or "none"
        raise ValueError(f"{method} {path} matches {found} in the OpenAPI file")
    return best[0]


def spec_operations() -> dict[str, str | None]:
    """Return every OpenAPI operation with its scope (None when it has none)."""
    data = spec_data()
    return {**data["scopes"], **dict.fromkeys(data["unscoped"])}


def inventory() -> dict:
    """Return the committed tool inventory (scripts/derive_mcp_tools.py)."""
    return json.loads(INVENTORY.read_text())


# --- Plausible arguments ---


@dataclass
class Ids:
    """IDs of one account's seeded objects that the plan refers to."""

    user: str
    other_user: str
    team: str
    other_team: str
    service: str
    other_service: str
    ungrouped_service: str
    policy: str
    schedule: str
    incident: str
    acknowledged: str
    resolved: str
    log_entry: str
    alert: str | None
    alert_incident: str | None
    grouping_setting: str | None
    business_service: str | None
    subscription: str | None
    v3_schedule: str | None


def _ids(state: State, subdomain: str, email: str) -> Ids:
    account = state.account_by_subdomain(subdomain)

    def mine(collection):
        return [x for x in collection.values() if x.account_id == account.id]

    user = state.user_by_email(email)
    users = [u for u in mine(state.users) if u.id != user.id]
    teams = mine(state.teams)
    services = mine(state.services)
    incidents = sorted(mine(state.incidents), key=lambda i: i.number)

    def incident(status):
        return next(i for i in incidents if i.status == status)

    with_alerts = [i for i in incidents if i.alerts]
    groupings = mine(state.alert_grouping_settings)
    business = mine(state.business_services)
    v3 = mine(state.v3_schedules)
    subscriptions = mine(state.webhook_subscriptions)
    resolved = incident("resolved")
    return Ids(
        user=user.id,
        other_user=users[0].id,
        team=teams[0].id,
        other_team=teams[-1].id,
        service=services[0].id,
        other_service=services[1].id,
        ungrouped_service=next(
            s.id for s in services if not any(s.id in g.service_ids for g in groupings)
        ),
        policy=services[0].escalation_policy_id,
        schedule=next(s.id for s in mine(state.schedules)),
        incident=incident("triggered").id,
        acknowledged=incident("acknowledged").id,
        resolved=resolved.id,
        log_entry=resolved.log_entries[0].id,
        alert=with_alerts[0].alerts[0].id if with_alerts else None,
        alert_incident=with_alerts[0].id if with_alerts else None,
        grouping_setting=groupings[0].id if groupings else None,
        business_service=business[0].id if business else None,
        subscription=subscriptions[0].id if subscriptions else None,
        v3_schedule=v3[0].id if v3 else None,
    )


def _subscribe(state: State, subdomain: str) -> None:
    """Add a webhook subscription for the update and delete tools to use.

    It delivers to a closed local port and only for the account's last
    service, which the plan's incident writes leave alone.
    """
    account = state.account_by_subdomain(subdomain)
    service = [s for s in state.services.values() if s.account_id == account.id][-1]
    subscription = WebhookSubscription(
        id=state.new_id(),
        account_id=account.id,
        url="http://127.0.0.1:9/hook",
        secret="plan-secret",  # noqa: S106 - a throwaway subscription
        events=["incident.resolved"],
        filter_type="service_reference",
        filter_id=service.id,
        description="For the MCP tool run",
    )
    state.webhook_subscriptions[subscription.id] = subscription


def tool_calls(state: State, *, subdomain="acme", email="alice@acme.example"):
    """Return [{"tool", "arguments"}] for every in-scope tool, reads first.

    Arguments are what an agent would plausibly send, naming the account's
    seeded objects; writes follow the reads and deletes come last, so each
    call finds what it needs. Adds a webhook subscription to the state for
    the subscription tools. Hold `state.lock` or call between requests.
    """
    if not any(
        s.account_id == state.account_by_subdomain(subdomain).id
        for s in state.webhook_subscriptions.values()
    ):
        _subscribe(state, subdomain)
    ids = _ids(state, subdomain, email)
    now = state.now()
    since = iso(now - timedelta(days=7))
    until = iso(now + timedelta(days=7))
    ref = {"id": ids.service}
    calls = [
        ("get_user_data", {}),
        ("list_users", {"query": "a", "limit": 20}),
        ("list_teams", {"limit": 10}),
        ("list_teams", {"scope": "my"}),
        ("get_team", {"team_id": ids.team}),
        ("list_team_members", {"team_id": ids.team}),
        ("list_services", {"query": "a", "limit": 10}),
        ("get_service", {"service_id": ids.service}),
        ("get_technical_service_dependencies", {"service_id": ids.service}),
        ("get_event_orchestration_service", {"service_id": ids.service}),
        ("list_service_change_events", {"service_id": ids.service}),
        ("list_business_services", {}),
        (
            "get_business_service_dependencies",
            {"business_service_id": ids.business_service or "PNONE00"},
        ),
        ("list_alert_grouping_settings", {"service_ids": [ids.service]}),
        (
            "get_alert_grouping_setting",
            {"setting_id": ids.grouping_setting or "PNONE00"},
        ),
        ("list_escalation_policies", {"limit": 10}),
        ("get_escalation_policy", {"policy_id": ids.policy}),
        ("list_schedules", {"query_model": {"limit": 20}}),
        ("get_schedule", {"schedule_id": ids.schedule}),
        ("get_schedule", {"schedule_id": ids.v3_schedule or ids.schedule}),
        ("list_schedule_users", {"schedule_id": ids.schedule}),
        (
            "list_oncalls",
            {"since": since, "until": until, "service_ids": [ids.service]},
        ),
        ("list_oncalls", {"schedule_ids": [ids.schedule], "earliest": False}),
        ("list_incidents", {"statuses": ["triggered", "acknowledged"]}),
        ("list_incidents", {"request_scope": "teams", "urgencies": ["high"]}),
        (
            "get_incident",
            {"incident_id": ids.resolved, "query_model": {"include": ["services"]}},
        ),
        ("list_incident_notes", {"incident_id": ids.resolved}),
        (
            "list_alerts_from_incident",
            {"incident_id": ids.alert_incident or ids.incident},
        ),
        (
            "get_alert_from_incident",
            {
                "incident_id": ids.alert_incident or ids.incident,
                "alert_id": ids.alert or "PNONE00",
            },
        ),
        ("list_incident_change_events", {"incident_id": ids.incident}),
        ("get_outlier_incident", {"incident_id": ids.incident, "query_model": {}}),
        (
            "get_past_incidents",
            {"incident_id": ids.incident, "query_model": {"limit": 5}},
        ),
        ("get_related_incidents", {"incident_id": ids.incident, "query_model": {}}),
        ("list_log_entries", {"query_model": {"since": since, "limit": 50}}),
        ("get_log_entry", {"log_entry_id": ids.log_entry}),
        ("list_webhook_subscriptions", {}),
        (
            "get_webhook_subscription",
            {"subscription_id": ids.subscription or "PNONE00"},
        ),
        # --- Writes ---
        (
            "create_incident",
            {
                "incident": {
                    "title": "Checkout latency above 2 s",
                    "service": ref,
                    "urgency": "high",
                    "body": {"details": "p99 at 2.4 s since 10:02"},
                }
            },
        ),
        (
            "manage_incidents",
            {
                "manage_request": {
                    "incident_ids": [ids.incident],
                    "status": "acknowledged",
                }
            },
        ),
        (
            "manage_incidents",
            {
                "manage_request": {
                    "incident_ids": [ids.acknowledged],
                    "assignement": {"id": ids.user},
                }
            },
        ),
        # After the reassignment, so the caller has an incident assigned.
        ("list_incidents", {"request_scope": "assigned", "limit": 20}),
        ("add_note_to_incident", {"incident_id": ids.incident, "note": "Rolled back"}),
        (
            "add_responders",
            {
                "incident_id": ids.incident,
                "request": {
                    "message": "Please join the bridge",
                    "responder_request_targets": [
                        {
                            "responder_request_target": {
                                "id": ids.other_user,
                                "type": "user_reference",
                            }
                        }
                    ],
                },
            },
        ),
        (
            "create_service",
            {
                "service_data": {
                    "service": {
                        "name": "Ledger",
                        "description": "Double-entry ledger",
                        "escalation_policy": {"id": ids.policy},
                    }
                }
            },
        ),
        (
            "update_service",
            {
                "service_id": ids.other_service,
                "service_data": {
                    "service": {
                        "description": "Renamed by an agent",
                        "escalation_policy": {"id": ids.policy},
                    }
                },
            },
        ),
        (
            "create_alert_grouping_setting",
            {
                "create_model": {
                    "alert_grouping_setting": {
                        "name": "Checkout noise",
                        "type": "time",
                        "config": {"timeout": 900},
                        "services": [{"id": ids.ungrouped_service}],
                    }
                }
            },
        ),
        (
            "update_alert_grouping_setting",
            {
                "setting_id": ids.grouping_setting or "PNONE00",
                "update_model": {
                    "alert_grouping_setting": {
                        "name": "Content grouping",
                        "type": "content_based",
                        "config": {
                            "aggregate": "all",
                            "fields": ["summary"],
                            "time_window": 600,
                        },
                        "services": [{"id": ids.service}],
                    }
                },
            },
        ),
        (
            "create_team",
            {"create_model": {"team": {"name": "Data", "description": "Data team"}}},
        ),
        (
            "update_team",
            {"team_id": ids.team, "update_model": {"team": {"name": "Platform Ops"}}},
        ),
        (
            "add_team_member",
            {
                "team_id": ids.team,
                "member_data": {"user_id": ids.other_user, "role": "responder"},
            },
        ),
        (
            "create_schedule_override",
            {
                "schedule_id": ids.schedule,
                "override_request": {
                    "overrides": [
                        {
                            "start": iso(now + timedelta(days=1)),
                            "end": iso(now + timedelta(days=1, hours=8)),
                            "user_id": ids.user,
                        }
                    ]
                },
            },
        ),
        (
            "create_user",
            {
                "request": {
                    "name": "Zed Zimmer",
                    "email": f"zed@{subdomain}.example",
                    "role": "limited_user",
                    "time_zone": "Europe/Berlin",
                }
            },
        ),
        (
            "create_webhook_subscription",
            {
                "webhook_data": {
                    "delivery_method": {"url": "http://127.0.0.1:9/hook"},
                    "events": ["incident.triggered", "incident.resolved"],
                    "filter": {"type": "service_reference", "id": ids.service},
                    "description": "Agent-made",
                }
            },
        ),
        (
            "update_webhook_subscription",
            {
                "subscription_id": ids.subscription or "PNONE00",
                "webhook_data": {"events": ["incident.acknowledged"]},
            },
        ),
        # --- Deletes ---
        ("remove_team_member", {"team_id": ids.team, "user_id": ids.other_user}),
        (
            "delete_alert_grouping_setting",
            {"setting_id": ids.grouping_setting or "PNONE00"},
        ),
        (
            "delete_webhook_subscription",
            {"subscription_id": ids.subscription or "PNONE00"},
        ),
        ("delete_team", {"team_id": ids.other_team}),
    ]
    return [{"tool": name, "arguments": arguments} for name, arguments in calls]


def example_arguments(schema: dict) -> dict:
    """Return a minimal instance of a tool's input schema (required fields).

    Used for tools outside the 15 scopes, whose operations the sandbox does
    not serve: enough for the tool to make its first request.
    """
    definitions = schema.get("$defs", {})

    def build(node):
        if "$ref" in node:
            return build(definitions[node["$ref"].rsplit("/", 1)[1]])
        if "default" in node and node["default"] is not None:
            return node["default"]
        if "const" in node:
            return node["const"]
        if "enum" in node:
            return node["enum"][0]
        for key in ("anyOf", "oneOf"):
            if key in node:
                options = [o for o in node[key] if o.get("type") != "null"]
                return build(options[0]) if options else None
        kind = node.get("type")
        if kind == "object" or "properties" in node:
            return {
                name: build(node["properties"][name])
                for name in node.get("required", [])
            }
        if kind == "array":
            return [build(node.get("items", {}))]
        if kind == "integer":
            return max(1, node.get("minimum", 1))
        if kind == "number":
            return 1
        if kind == "boolean":
            return False
        if node.get("format") == "date-time":
            return "2026-01-01T00:00:00Z"
        return "PNONE00"

    return build(schema)
