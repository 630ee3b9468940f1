"""Build, sign and post PagerDuty V3 webhook deliveries in tests."""

import hashlib
import hmac
import json
import time

from django.urls import reverse
from django.utils import timezone

from integrations.models import WebhookSubscription

SECRET = "CANARY-WHSEC-a1b2-tenant-a-signing-secret"
OTHER_SECRET = "CANARY-WHSEC-b2c3-tenant-b-signing-secret"
_UNSET = object()


def sign(body: bytes, secret: str = SECRET) -> str:
    return "v1=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def envelope(
    event_type: str = "incident.acknowledged",
    *,
    event_id: str = "evt-0001",
    incident_id: str = "PINC001",
    status: str = "acknowledged",
    title: str = "Disk full on db-1",
    occurred_at=None,
    resource_type: str = "incident",
) -> bytes:
    occurred = (occurred_at or timezone.now()).isoformat().replace("+00:00", "Z")
    if event_type == "pagey.ping":
        data = {"message": "Hello from your friend Pagey!", "type": "ping"}
        resource_type = "pagey"
    else:
        data = {
            "id": incident_id,
            "type": "incident",
            "number": 42,
            "status": status,
            "title": title,
            "service": {"id": "PSVC001", "type": "service_reference"},
        }
    event = {
        "id": event_id,
        "event_type": event_type,
        "resource_type": resource_type,
        "occurred_at": occurred,
        "agent": None,
        "client": None,
        "data": data,
    }
    return json.dumps({"event": event}, ensure_ascii=False).encode()


def deliver(
    client,
    subscription,
    body: bytes,
    *,
    signature=_UNSET,
    webhook_id="wh-0001",
    content_type="application/json",
    receiver_id=None,
):
    """POST a delivery as PagerDuty would; `None` leaves a header out."""
    headers = {}
    signature = sign(body) if signature is _UNSET else signature
    if signature is not None:
        headers["X-PagerDuty-Signature"] = signature
    if webhook_id is not None:
        headers["X-Webhook-Id"] = webhook_id
    url = reverse("pagerduty_webhook", args=[receiver_id or subscription.receiver_id])
    # CONTENT_TYPE again in extra: the test client drops it for an empty body.
    return client.post(
        url,
        data=body,
        content_type=content_type,
        headers=headers,
        CONTENT_TYPE=content_type,
    )


def make_subscription(connection, *, secret=SECRET, pd_id="PWHSUB1", **fields):
    return WebhookSubscription.objects.create(
        connection=connection,
        pd_subscription_id=pd_id,
        signing_secret=secret,
        events=["incident.acknowledged"],
        **fields,
    )


def wait_for(query, seconds=5.0):
    """Return `query()` once it is truthy, or its last value after `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = query()
        if found:
            return found
        time.sleep(0.05)
    return query()


def triggered_incident(sandbox, account_id):
    """Return one of the sandbox account's triggered incidents."""
    with sandbox.state.lock:
        return next(
            i
            for i in sandbox.state.incidents.values()
            if i.account_id == account_id and i.status == "triggered"
        )
