"""PagerDuty Webhooks V3: subscribe a connection, receive and record deliveries.

PagerDuty signs the raw body only, with no timestamp (NOTES §6), so replays
are stopped by deduplication on `X-Webhook-Id` and `event.id`, kept for
`RETENTION`. It drops a delivery answered 4xx (except 429) and disables the
subscription for 24 h after 3 drops, so only bad signatures and bodies get
a 4xx; the portal's own failures raise `WebhookUnavailable` (answered 503).
"""

import hashlib
import hmac
import json
import logging
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.cache import cache
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from integrations.exceptions import (
    PagerDutyAuthError,
    PagerDutyError,
    PagerDutyUnavailable,
)
from integrations.models import (
    AuditAction,
    Connection,
    WebhookDelivery,
    WebhookSubscription,
)
from integrations.pagerduty.client import PagerDutyClient
from integrations.pagerduty.scopes import Scope
from integrations.pagerduty.workspace.cache import cache_invalidate
from integrations.ratelimit import rate_limit_allows
from integrations.services.audit import audit_record
from integrations.services.tokens import connection_client

logger = logging.getLogger(__name__)

# PagerDuty drops bodies over 256 KB itself (NOTES §6).
MAX_BODY_BYTES = 256 * 1024
# Two during a secret rotation; more is junk, so the work stays bounded.
MAX_SIGNATURES = 10
# PagerDuty retries for up to 48 h; dedupe keys must outlive every retry.
RETENTION = timedelta(hours=72)
REFUSALS_BEFORE_DISABLE = 3
# Bad signatures one source address may send a minute before the rest are
# answered 429 (T83). A valid delivery is verified and accepted whatever
# the count, so a flood from a shared address cannot block PagerDuty.
INVALID_SIGNATURE_LIMIT = (20, 60)
SIGNATURE_REFUSALS = frozenset(
    {"missing_signature", "malformed_signature", "signature_mismatch"}
)
PING = "pagey.ping"
INCIDENT_EVENTS = (
    "incident.acknowledged",
    "incident.annotated",
    "incident.delegated",
    "incident.escalated",
    "incident.priority_updated",
    "incident.reassigned",
    "incident.reopened",
    "incident.resolved",
    "incident.responder.added",
    "incident.responder.replied",
    "incident.service_updated",
    "incident.status_update_published",
    "incident.triggered",
    "incident.unacknowledged",
)
_SIGNATURE = re.compile(r"v1=([0-9a-f]{64})")
_PRINTABLE = re.compile(r"[!-~]{1,100}")


class WebhookRefused(Exception):
    """A delivery that is not PagerDuty's or not an event: answer 4xx."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status
        self.reason = reason


class WebhookUnavailable(Exception):
    """The portal cannot handle a delivery now: answer 5xx so it is retried."""


@dataclass(frozen=True)
class Event:
    """The fields of a V3 envelope the portal keeps."""

    id: str
    event_type: str
    resource_type: str
    occurred_at: datetime | None
    data: dict


# --- Receiving -----------------------------------------------------------


def signature_verify(*, body: bytes, header: str | None, secrets: list[str]) -> None:
    """Accept when any `v1=` signature is the HMAC-SHA256 of `body` by a secret.

    Raise `WebhookRefused` with 400 for a missing or malformed header and
    403 when no signature matches. Every candidate is compared with
    `hmac.compare_digest`, never `==`.
    """
    if not header:
        raise WebhookRefused(400, "missing_signature")
    entries = header.split(",")
    if len(entries) > MAX_SIGNATURES:
        raise WebhookRefused(400, "malformed_signature")
    candidates = []
    for entry in entries:
        match = _SIGNATURE.fullmatch(entry.strip(" "))
        if match:
            candidates.append(match.group(1))
    if not candidates:
        raise WebhookRefused(400, "malformed_signature")
    expected = [
        hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        for secret in secrets
        if secret
    ]
    matched = False
    for digest in expected:
        for candidate in candidates:
            matched |= hmac.compare_digest(digest, candidate)
    if not matched:
        raise WebhookRefused(403, "signature_mismatch")


def _parse(body: bytes) -> Event:
    try:
        envelope = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise WebhookRefused(400, "malformed_json") from None
    event = envelope.get("event") if isinstance(envelope, dict) else None
    if not isinstance(event, dict):
        raise WebhookRefused(400, "no_event")
    event_type = event.get("event_type")
    event_id = event.get("id", "")
    resource_type = event.get("resource_type", "")
    data = event.get("data") or {}
    occurred = event.get("occurred_at")
    if (
        not isinstance(event_type, str)
        or not _PRINTABLE.fullmatch(event_type)
        or not isinstance(event_id, str)
        or len(event_id) > 100
        or not isinstance(resource_type, str)
        or not isinstance(data, dict)
        or not (occurred is None or isinstance(occurred, str))
    ):
        raise WebhookRefused(400, "malformed_event")
    occurred_at = None
    if occurred:
        try:
            occurred_at = parse_datetime(occurred)
        except ValueError:
            occurred_at = None
        if occurred_at is None or occurred_at.tzinfo is None:
            raise WebhookRefused(400, "malformed_event")
    return Event(event_id, event_type, resource_type[:40], occurred_at, data)


# A row needs a few assignees and teams; an event may list many.
SUMMARY_ITEMS = 10


def _ref(value) -> dict | None:
    if not isinstance(value, dict) or not isinstance(value.get("id"), str):
        return None
    name = value.get("summary") or value.get("name") or value["id"]
    return {"id": value["id"][:40], "name": str(name)[:255]}


def incident_summary(data: dict) -> dict:
    """Return what an incident event tells of the incident's row, trimmed.

    Only strings of bounded length and known shapes are kept: the event is
    signed by PagerDuty, but its content is still input.
    """
    urgency = data.get("urgency")
    created = data.get("created_at")
    assignees = data.get("assignees") if isinstance(data.get("assignees"), list) else []
    teams = data.get("teams") if isinstance(data.get("teams"), list) else []
    return {
        "urgency": urgency if urgency in ("high", "low") else "",
        "created_at": created[:40] if isinstance(created, str) else "",
        "service": _ref(data.get("service")),
        "assignees": [
            ref for ref in map(_ref, assignees[:SUMMARY_ITEMS]) if ref is not None
        ],
        "teams": [
            ref["id"] for ref in map(_ref, teams[:SUMMARY_ITEMS]) if ref is not None
        ],
    }


def _delivery_for(subscription, event: Event, webhook_id: str) -> WebhookDelivery:
    now = timezone.now()
    delivery = WebhookDelivery(
        subscription=subscription,
        webhook_id=webhook_id,
        event_id=event.id,
        event_type=event.event_type,
        resource_type=event.resource_type,
        occurred_at=event.occurred_at,
        received_at=now,
    )
    if event.event_type == PING:
        delivery.outcome = WebhookDelivery.Outcome.PING
    elif event.occurred_at and event.occurred_at < now - RETENTION:
        # Older than the dedupe window: a replay could not be told apart.
        delivery.outcome = WebhookDelivery.Outcome.STALE
    elif event.resource_type == "incident" and event.event_type.startswith("incident."):
        delivery.outcome = WebhookDelivery.Outcome.PROCESSED
        data = event.data
        number = data.get("number")
        delivery.resource_id = str(data.get("id") or "")[:40]
        delivery.incident_number = (
            number if isinstance(number, int) and 0 < number < 2**31 else None
        )
        delivery.incident_status = str(data.get("status") or "")[:20]
        delivery.incident_title = str(data.get("title") or "")[:255]
        delivery.incident_summary = incident_summary(data)
    else:
        delivery.outcome = WebhookDelivery.Outcome.IGNORED
    return delivery


def webhook_receive(
    *,
    subscription: WebhookSubscription,
    body: bytes,
    signature: str | None,
    webhook_id: str | None,
    source: str = "unknown",
) -> WebhookDelivery | None:
    """Verify, deduplicate and record one delivery; return None for a duplicate.

    Raise `WebhookRefused` (4xx; the refusal is counted on the subscription)
    or `WebhookUnavailable` / `DatabaseError` (5xx). An accepted incident
    event invalidates the connection's cached workspace reads. Past
    INVALID_SIGNATURE_LIMIT bad signatures from `source` (the sender's
    address), the refusal is a 429 and nothing is written or logged.
    """
    secret = subscription.signing_secret
    if not secret:
        # Undecryptable (key changed) or lost: PagerDuty should retry
        # while an admin re-creates the subscription.
        logger.error("Webhook receiver %s has no usable secret", subscription.pk)
        raise WebhookUnavailable("no usable signing secret")
    try:
        signature_verify(body=body, header=signature, secrets=[secret])
        event = _parse(body)
        if webhook_id is not None and not _PRINTABLE.fullmatch(webhook_id):
            raise WebhookRefused(400, "malformed_webhook_id")
        key = webhook_id or (f"event:{event.id}" if event.id else "")
        if not key:
            raise WebhookRefused(400, "missing_webhook_id")
    except WebhookRefused as exc:
        if exc.reason in SIGNATURE_REFUSALS and not _invalid_signature_allowed(source):
            raise WebhookRefused(429, "too_many_invalid_signatures") from None
        _record_refusal(subscription, exc.reason)
        raise
    duplicate = Q(webhook_id=key)
    if event.id:
        duplicate |= Q(event_id=event.id)
    if subscription.deliveries.filter(duplicate).exists():
        return None
    delivery = _delivery_for(subscription, event, key)
    try:
        with transaction.atomic():
            # No full_clean(): values are trimmed above and the unique
            # constraints are what make concurrent copies safe.
            delivery.save()
            _record_delivery(subscription, delivery)
    except IntegrityError:
        return None
    if delivery.outcome == WebhookDelivery.Outcome.STALE:
        logger.info(
            "Webhook %s on receiver %s ignored as stale",
            key,
            subscription.pk,
        )
    elif delivery.outcome == WebhookDelivery.Outcome.IGNORED:
        logger.info("Webhook event type %s not handled", event.event_type[:100])
    elif delivery.outcome == WebhookDelivery.Outcome.PROCESSED:
        cache_invalidate(subscription.connection_id)
    return delivery


def _record_delivery(subscription, delivery: WebhookDelivery) -> None:
    changes = {
        "status": WebhookSubscription.Status.ACTIVE,
        "last_delivery_at": delivery.received_at,
        "consecutive_refusals": 0,
        "last_error": "",
        "updated_at": delivery.received_at,
    }
    if delivery.outcome == WebhookDelivery.Outcome.PING:
        changes["last_ping_at"] = delivery.received_at
    WebhookSubscription.objects.filter(pk=subscription.pk).update(**changes)


REFUSAL_TEXT = {
    "missing_signature": "a delivery had no X-PagerDuty-Signature header",
    "malformed_signature": "a delivery had a malformed signature header",
    "signature_mismatch": "a delivery's signature did not match the secret",
    "malformed_json": "a signed delivery was not JSON",
    "no_event": "a signed delivery held no event",
    "malformed_event": "a signed delivery held a malformed event",
    "malformed_webhook_id": "a delivery had a malformed X-Webhook-Id",
    "missing_webhook_id": "a delivery had no X-Webhook-Id nor event id",
}


def _invalid_signature_allowed(source: str) -> bool:
    limit, window = INVALID_SIGNATURE_LIMIT
    if rate_limit_allows(key=f"pdwh-invalid:{source}", limit=limit, window=window):
        return True
    if cache.add(f"pdwh:flood:{source}", 1, timeout=window):
        logger.warning("Webhook bad-signature flood from %s: answering 429", source)
    return False


def _record_refusal(subscription, reason: str) -> None:
    """Count a refused delivery; log it at most once a minute per reason."""
    now = timezone.now()
    text = _("Refused (%(when)s UTC): %(what)s.") % {
        "when": now.strftime("%Y-%m-%d %H:%M"),
        "what": REFUSAL_TEXT.get(reason, reason),
    }
    try:
        WebhookSubscription.objects.filter(pk=subscription.pk).update(
            consecutive_refusals=F("consecutive_refusals") + 1,
            last_refusal_at=now,
            last_error=text,
        )
    except DatabaseError:
        logger.warning("Could not count a refused webhook on %s", subscription.pk)
    if cache.add(f"pdwh:refused:{subscription.pk}:{reason}", 1, timeout=60):
        logger.warning("Webhook refused on receiver %s: %s", subscription.pk, reason)


def webhook_delivery_prune(*, older_than: timedelta = RETENTION) -> int:
    """Delete deliveries received longer ago than `older_than`; return how many."""
    if older_than < RETENTION:
        raise ValueError("deliveries must be kept at least 72 hours")
    cutoff = timezone.now() - older_than
    deleted, _by_model = WebhookDelivery.objects.filter(received_at__lt=cutoff).delete()
    return deleted


# --- Subscribing ---------------------------------------------------------


def receiver_url(subscription: WebhookSubscription) -> str:
    """Return the absolute URL PagerDuty delivers this subscription's events to."""
    environment = subscription.connection.tenant.environment
    path = reverse("pagerduty_webhook", args=[subscription.receiver_id])
    return f"{environment.base_url}{path}"


def can_subscribe(connection: Connection) -> bool:
    """Return whether the connection was granted the scope to subscribe."""
    return connection.has_scope(Scope.WEBHOOK_SUBSCRIPTIONS_WRITE)


def _failure_text(exc: PagerDutyError) -> str:
    if isinstance(exc, PagerDutyAuthError):
        return _(
            "PagerDuty refused to create the webhook subscription: the "
            "connection lacks webhook_subscriptions.write or the PagerDuty user "
            "may not manage webhooks. Reconnect with that permission."
        )
    if isinstance(exc, PagerDutyUnavailable) or exc.status == 429:
        return _(
            "PagerDuty did not answer while subscribing; re-create the "
            "subscription from the tenants page."
        )
    return _(
        "PagerDuty rejected the webhook subscription (status %(status)s); "
        "check that the environment's public base URL is an https URL "
        "PagerDuty can reach, then re-create it."
    ) % {"status": exc.status or "unknown"}


def _audit(connection: Connection, action: str, actor, details: dict) -> None:
    audit_record(
        actor=actor,
        action=action,
        target=str(connection.tenant),
        environment=connection.tenant.environment,
        tenant=connection.tenant,
        details={"connection_id": connection.pk, **details},
    )


def webhook_subscription_ensure(
    *, connection: Connection, actor=None, force: bool = False
) -> WebhookSubscription | None:
    """Subscribe the connection to its account's incident events at PagerDuty.

    Return None without the `webhook_subscriptions.write` scope. A healthy
    subscription is kept unless `force`; otherwise any old one is deleted
    at PagerDuty and a new one created under a new receiver URL, and its
    one-time secret is stored encrypted in the same save. A PagerDuty
    failure is recorded on the subscription (status failed), never raised.
    """
    if connection.status != Connection.Status.ACTIVE or not can_subscribe(connection):
        return None
    subscription = WebhookSubscription.objects.filter(connection=connection).first()
    if subscription and subscription.is_receiving and not force:
        return subscription
    if subscription is None:
        subscription = WebhookSubscription(connection=connection)
    old_id = subscription.pd_subscription_id
    subscription.receiver_id = uuid.uuid4()
    data = {
        "type": "webhook_subscription",
        "delivery_method": {
            "type": "http_delivery_method",
            "url": receiver_url(subscription),
        },
        "description": f"Portal live updates: {connection.tenant.name}"[:200],
        "events": list(INCIDENT_EVENTS),
        "filter": {"type": "account_reference"},
        "active": True,
    }
    try:
        with connection_client(connection=connection) as client:
            if old_id:
                _delete_remote(client, old_id)
            created = client.create_entity(
                "/webhook_subscriptions",
                "webhook_subscription",
                data,
                required_scope=Scope.WEBHOOK_SUBSCRIPTIONS_WRITE,
            )
        pd_id, secret = _created_id_and_secret(created)
    except PagerDutyError as exc:
        logger.warning(
            "Webhook subscription for connection %s failed: %s",
            connection.pk,
            type(exc).__name__,
        )
        subscription.pd_subscription_id = ""
        subscription.signing_secret = ""
        subscription.status = WebhookSubscription.Status.FAILED
        subscription.last_error = _failure_text(exc)
        subscription.save()
        _audit(
            connection,
            AuditAction.WEBHOOK_SUBSCRIBE_FAILED,
            actor,
            {"status": exc.status},
        )
        return subscription
    subscription.pd_subscription_id = pd_id
    subscription.signing_secret = secret
    subscription.events = list(INCIDENT_EVENTS)
    subscription.status = WebhookSubscription.Status.CREATED
    subscription.last_error = ""
    subscription.consecutive_refusals = 0
    subscription.full_clean()
    subscription.save()
    _audit(
        connection,
        AuditAction.WEBHOOK_SUBSCRIBED,
        actor,
        {"subscription_id": pd_id, "replaced": old_id},
    )
    return subscription


def _created_id_and_secret(created: dict) -> tuple[str, str]:
    pd_id = created.get("id")
    method = created.get("delivery_method") or {}
    secret = method.get("secret") if isinstance(method, dict) else None
    if not isinstance(pd_id, str) or not _PRINTABLE.fullmatch(pd_id):
        raise PagerDutyError("PagerDuty answered without a subscription id")
    if not isinstance(secret, str) or not secret or len(secret) > 500:
        raise PagerDutyError("PagerDuty answered without the signing secret")
    return pd_id[:40], secret


def _delete_remote(client: PagerDutyClient, pd_id: str) -> None:
    """Delete a subscription at PagerDuty; one already gone counts as deleted."""
    try:
        client.delete(
            f"/webhook_subscriptions/{pd_id}",
            required_scope=Scope.WEBHOOK_SUBSCRIPTIONS_WRITE,
        )
    except PagerDutyError as exc:
        if exc.status != 404:
            raise


def webhook_subscription_remove(*, connection: Connection, actor=None) -> None:
    """Delete the connection's subscription at PagerDuty and locally.

    When PagerDuty cannot be reached, the local row stays disabled, with
    no secret and the PagerDuty id, so the next connect deletes it there.
    """
    subscription = WebhookSubscription.objects.filter(connection=connection).first()
    if subscription is None:
        return
    pd_id = subscription.pd_subscription_id
    failed = False
    if pd_id:
        try:
            with connection_client(connection=connection) as client:
                _delete_remote(client, pd_id)
        except PagerDutyError as exc:
            logger.warning(
                "Could not delete webhook subscription %s: %s",
                pd_id,
                type(exc).__name__,
            )
            failed = True
    if failed:
        subscription.status = WebhookSubscription.Status.DISABLED
        subscription.signing_secret = ""
        subscription.last_error = _(
            "The subscription could not be deleted at PagerDuty; it is "
            "deleted at the next connect, or delete it in PagerDuty."
        )
        subscription.save()
    else:
        subscription.delete()
    _audit(
        connection,
        AuditAction.WEBHOOK_UNSUBSCRIBED,
        actor,
        {"subscription_id": pd_id, "cleanup_pending": failed},
    )


def webhook_subscription_sync(
    *, subscription: WebhookSubscription
) -> WebhookSubscription:
    """Read the subscription's state at PagerDuty into its status.

    PagerDuty reports its 24-hour disable after 3 dropped deliveries as
    `delivery_method.temporarily_disabled`; a subscription deleted there
    becomes disabled here. A failed read changes only `last_error`.
    """
    connection = subscription.connection
    path = f"/webhook_subscriptions/{subscription.pd_subscription_id}"
    try:
        # Runs from the hourly command: sleeping out a 429 beats a missed check.
        with connection_client(connection=connection, background=True) as client:
            remote = client.get_entity(
                path,
                "webhook_subscription",
                required_scope=Scope.WEBHOOK_SUBSCRIPTIONS_READ,
            )
    except PagerDutyError as exc:
        if exc.status == 404:
            subscription.status = WebhookSubscription.Status.DISABLED
            subscription.last_error = _(
                "The subscription no longer exists at PagerDuty; re-create it."
            )
        else:
            subscription.last_error = _(
                "The subscription's state could not be read from PagerDuty (%(error)s)."
            ) % {"error": type(exc).__name__}
        subscription.save(update_fields=["status", "last_error", "updated_at"])
        return subscription
    method = remote.get("delivery_method") or {}
    if remote.get("active") is False:
        subscription.status = WebhookSubscription.Status.DISABLED
        subscription.last_error = _("The subscription is switched off in PagerDuty.")
    elif isinstance(method, dict) and method.get("temporarily_disabled") is True:
        subscription.status = WebhookSubscription.Status.TEMPORARILY_DISABLED
        subscription.last_error = _(
            "PagerDuty disabled deliveries after 3 were dropped; re-create the "
            "subscription (or enable it in PagerDuty)."
        )
    elif subscription.status != WebhookSubscription.Status.ACTIVE:
        subscription.status = WebhookSubscription.Status.CREATED
    subscription.save(update_fields=["status", "last_error", "updated_at"])
    return subscription
