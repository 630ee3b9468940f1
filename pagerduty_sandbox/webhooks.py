"""Webhooks V3 delivery: envelope, signature, retries, temporary disable.

Per NOTES §6: one event per POST, `X-PagerDuty-Signature: v1=<hex
HMAC-SHA256 of the raw body keyed with the subscription secret>`,
`X-Webhook-Id` for deduplication, a 5 s answer window, retries on timeouts,
5xx and 429, no retry on other 4xx, and the subscription temporarily
disabled after 3 consecutive drops. Retry delays are seconds here, not
PagerDuty's 48 hours, so tests and demos see them (`Config.webhook_retry_delays`).
"""

import hashlib
import hmac
import json
import logging
import threading
import time
import uuid

import requests

from pagerduty_sandbox.state import Incident, State, WebhookSubscription, iso

logger = logging.getLogger(__name__)
DELIVERY_TIMEOUT = 5
DROPS_BEFORE_DISABLE = 3
EVENT_TYPES = (
    "incident.acknowledged",
    "incident.annotated",
    "incident.conference_bridge.updated",
    "incident.custom_field_values.updated",
    "incident.delegated",
    "incident.escalated",
    "incident.incident_type.changed",
    "incident.priority_updated",
    "incident.reassigned",
    "incident.reopened",
    "incident.resolved",
    "incident.responder.added",
    "incident.responder.replied",
    "incident.role.assigned",
    "incident.service_updated",
    "incident.status_update_published",
    "incident.triggered",
    "incident.unacknowledged",
    "incident.workflow.completed",
    "incident.workflow.started",
    "service.created",
    "service.custom_field_values.updated",
    "service.deleted",
    "service.updated",
    "pagey.ping",
)


def signature(secret: str, body: bytes) -> str:
    return "v1=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def ping_event(state: State) -> dict:
    return {
        "id": str(uuid.uuid4()),
        "event_type": "pagey.ping",
        "resource_type": "pagey",
        "occurred_at": iso(state.now()),
        "agent": None,
        "client": None,
        "data": {"message": "Hello from your friend Pagey!", "type": "ping"},
    }


def incident_event(app, incident: Incident, event_type: str, agent) -> dict:
    """Return the V3 envelope for an incident change."""
    state = app.state
    api = app.api_url(state.accounts[incident.account_id].region)
    subdomain = state.accounts[incident.account_id].subdomain

    def ref(kind, obj_id, summary, segment):
        return {
            "id": obj_id,
            "type": f"{kind}_reference",
            "summary": summary,
            "self": f"{api}/{segment}/{obj_id}",
            "html_url": f"https://{subdomain}.pagerduty.com/{segment}/{obj_id}",
        }

    def user_ref(user_id):
        user = state.users.get(user_id)
        return ref("user", user_id, user.name if user else None, "users")

    service = state.services.get(incident.service_id)
    policy = state.escalation_policies.get(incident.escalation_policy_id)
    agent_ref = user_ref(agent[1]) if agent and agent[0] == "user" else None
    return {
        "id": str(uuid.uuid4()),
        "event_type": event_type,
        "resource_type": "incident",
        "occurred_at": iso(state.now()),
        "agent": agent_ref,
        "client": None,
        "data": {
            "id": incident.id,
            "type": "incident",
            "self": f"{api}/incidents/{incident.id}",
            "html_url": f"https://{subdomain}.pagerduty.com/incidents/{incident.id}",
            "number": incident.number,
            "status": incident.status,
            "incident_key": incident.incident_key,
            "created_at": iso(incident.created_at),
            "title": incident.title,
            "service": ref(
                "service",
                incident.service_id,
                service.name if service else None,
                "services",
            ),
            "assignees": [user_ref(u) for u in incident.assignee_ids],
            "escalation_policy": ref(
                "escalation_policy",
                incident.escalation_policy_id,
                policy.name if policy else None,
                "escalation_policies",
            ),
            "teams": [
                ref("team", t, state.teams[t].name, "teams")
                for t in incident.team_ids
                if t in state.teams
            ],
            "priority": None,
            "urgency": incident.urgency,
            "conference_bridge": None,
            "resolve_reason": None,
            "incident_type": {"name": "incident_default"},
        },
    }


def matches(sub: WebhookSubscription, incident: Incident, event_type: str) -> bool:
    if not sub.active or sub.temporarily_disabled or event_type not in sub.events:
        return False
    if sub.account_id != incident.account_id:
        return False
    if sub.filter_type == "service_reference":
        return sub.filter_id == incident.service_id
    if sub.filter_type == "team_reference":
        return sub.filter_id in incident.team_ids
    return True


def emit_incident(app, incident: Incident, event_type: str, agent) -> int:
    """Send an incident event to every matching subscription; return how many."""
    subs = [
        s
        for s in app.state.webhook_subscriptions.values()
        if matches(s, incident, event_type)
    ]
    for sub in subs:
        send(app, sub, incident_event(app, incident, event_type, agent))
    return len(subs)


def send(app, sub: WebhookSubscription, event: dict) -> threading.Thread:
    """Deliver one event in the background, retrying as PagerDuty does."""
    body = json.dumps({"event": event}).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "PagerDuty-Webhook/V3.0",
        "X-Webhook-Id": str(uuid.uuid4()),
        "X-Webhook-Subscription": sub.id,
        "X-PagerDuty-Signature": signature(sub.secret, body),
    }
    for header in sub.custom_headers:
        headers[header["name"]] = header["value"]
    state = app.state
    record = {
        "subscription_id": sub.id,
        "webhook_id": headers["X-Webhook-Id"],
        "event_type": event["event_type"],
        "attempts": 0,
        "outcome": "pending",
        "last_status": None,
    }
    state.webhook_deliveries.append(record)
    thread = threading.Thread(
        target=_deliver,
        args=(state, sub, body, headers, record),
        name="pagerduty-sandbox-webhook",
        daemon=True,
    )
    thread.start()
    return thread


def _deliver(state: State, sub, body: bytes, headers: dict, record: dict) -> None:
    delays = [0, *state.config.webhook_retry_delays]
    for delay in delays:
        time.sleep(delay)
        try:
            response = requests.post(
                sub.url,
                data=body,
                headers=headers,
                timeout=DELIVERY_TIMEOUT,
                allow_redirects=False,
            )
            status = response.status_code
        except requests.RequestException as exc:
            logger.info(
                "Webhook %s to %s failed: %s", sub.id, sub.url, type(exc).__name__
            )
            status = None
        with state.lock:
            record["attempts"] += 1
            record["last_status"] = status
            if status is not None and 200 <= status < 300:
                record["outcome"] = "delivered"
                sub.consecutive_drops = 0
                return
            if status is not None and 400 <= status < 500 and status != 429:
                break
    with state.lock:
        record["outcome"] = "dropped"
        sub.consecutive_drops += 1
        if sub.consecutive_drops >= DROPS_BEFORE_DISABLE:
            sub.temporarily_disabled = True
