"""Asking tenants to reconnect when their app asks for scopes they lack.

Staff press **Ask to reconnect** on the Tenants page: each chosen tenant
whose live connection misses scopes of its app gets a `ReconsentRequest`,
and each of its admins one email with a link to the tenant page, which
shows a banner until the tenant reconnects. Every address's outcome is
recorded and shown; nothing fails silently.
"""

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from integrations.models import (
    AuditAction,
    Connection,
    Environment,
    Membership,
    ReconsentRequest,
    Tenant,
)
from integrations.pagerduty import scopes as pd_scopes
from integrations.ratelimit import rate_limit_allows
from integrations.selectors import TenantConnectionRow, tenant_connection_list
from integrations.services.audit import audit_record

logger = logging.getLogger(__name__)

# A tenant is asked at most once a day; staff press the button at most
# RECONSENT_LIMIT[0] times per RECONSENT_LIMIT[1] seconds per environment.
RECONSENT_COOLDOWN = timedelta(hours=24)
RECONSENT_LIMIT = (5, 3600)
MAX_TENANTS_PER_ASK = 200


@dataclass
class ReconsentOutcome:
    """What one press of Ask to reconnect did, for the page to report."""

    asked: list[ReconsentRequest] = field(default_factory=list)
    recently_asked: list[Tenant] = field(default_factory=list)
    not_lacking: list[int] = field(default_factory=list)
    rate_limited: bool = False

    @property
    def failed_recipients(self) -> list[tuple[Tenant, dict]]:
        return [(r.tenant, item) for r in self.asked for item in r.failed_recipients]


def reconsent_request_send(
    *, environment: Environment, tenant_ids: list[int], actor
) -> ReconsentOutcome:
    """Ask the chosen tenants' admins to reconnect; return what happened.

    Only tenants of `environment` whose live connection lacks scopes are
    asked, each at most once per RECONSENT_COOLDOWN.
    """
    outcome = ReconsentOutcome()
    if not rate_limit_allows(
        key=f"pagerduty-reconsent:{environment.pk}",
        limit=RECONSENT_LIMIT[0],
        window=RECONSENT_LIMIT[1],
    ):
        outcome.rate_limited = True
        return outcome
    wanted = set(tenant_ids[:MAX_TENANTS_PER_ASK])
    rows = {
        row.tenant.pk: row
        for row in tenant_connection_list(environment=environment)
        if row.tenant.pk in wanted
    }
    since = timezone.now() - RECONSENT_COOLDOWN
    for tenant_id in sorted(wanted):
        row = rows.get(tenant_id)
        if row is None or not row.lacks_scopes:
            outcome.not_lacking.append(tenant_id)
        elif row.reconsent is not None and row.reconsent.requested_at >= since:
            outcome.recently_asked.append(row.tenant)
        else:
            outcome.asked.append(_ask(row=row, actor=actor))
    return outcome


def _ask(*, row: TenantConnectionRow, actor) -> ReconsentRequest:
    """Record the ask first, then email each admin and record each outcome."""
    tenant = row.tenant
    request = ReconsentRequest(
        tenant=tenant,
        oauth_client=row.connection.oauth_client or row.app,
        scopes=" ".join(row.missing_scopes),
        status=ReconsentRequest.Status.FAILED,
        requested_by=actor if actor is not None and actor.is_authenticated else None,
    )
    request.full_clean()
    request.save()
    admins = (
        Membership.objects.filter(tenant=tenant, role=Membership.Role.ADMIN)
        .select_related("user")
        .order_by("user__username")
    )
    recipients = [_send(request=request, user=m.user) for m in admins]
    sent = sum(1 for r in recipients if r["outcome"] == "sent")
    if sent and sent == len(recipients):
        request.status = ReconsentRequest.Status.SENT
    elif sent:
        request.status = ReconsentRequest.Status.PARTIAL
    request.recipients = recipients
    request.save(update_fields=["status", "recipients"])
    audit_record(
        actor=actor,
        action=AuditAction.RECONSENT_REQUESTED,
        target=str(tenant),
        environment=tenant.environment,
        tenant=tenant,
        details={
            "request_id": request.pk,
            "scopes": request.scope_list,
            "sent": [r["username"] for r in recipients if r["outcome"] == "sent"],
            "not_sent": [r["username"] for r in recipients if r["outcome"] != "sent"],
        },
    )
    return request


def _send(*, request: ReconsentRequest, user) -> dict:
    """Email one admin; return the recipient's record (never raises)."""
    record = {"username": user.get_username(), "email": user.email or ""}
    if not user.email:
        return {**record, "outcome": "no_address", "error": "no email address"}
    tenant = request.tenant
    context = {
        "tenant": tenant,
        "user": user,
        "scopes": request.scope_list,
        "url": tenant.environment.base_url
        + reverse("integrations:tenant_home", args=[tenant.pk]),
    }
    subject = render_to_string("integrations/email/reconsent_subject.txt", context)
    body = render_to_string("integrations/email/reconsent_body.txt", context)
    message = EmailMessage(
        subject=" ".join(subject.split()),
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[user.email],
    )
    try:
        delivered = message.send(fail_silently=False)
    except Exception as exc:  # noqa: BLE001 - any backend error is reported
        logger.warning(
            "Re-consent email %s to user %s failed: %s",
            request.pk,
            user.pk,
            type(exc).__name__,
        )
        return {**record, "outcome": "failed", "error": type(exc).__name__}
    if not delivered:
        return {**record, "outcome": "failed", "error": "not accepted"}
    return {**record, "outcome": "sent", "error": ""}


@transaction.atomic
def reconsent_mark_reconnected(*, tenant: Tenant, connection: Connection, actor) -> int:
    """Close the tenant's open asks after it connected again; return how many.

    Each ask records the scopes still missing, if PagerDuty granted fewer.
    """
    granted = connection.granted_scope_list
    now = timezone.now()
    closed = 0
    for ask in ReconsentRequest.objects.select_for_update().filter(
        tenant=tenant, reconnected_at__isnull=True
    ):
        ask.reconnected_at = now
        ask.reconnected_by = (
            actor if getattr(actor, "is_authenticated", False) else None
        )
        ask.still_missing = " ".join(
            s for s in ask.scope_list if not pd_scopes.is_granted(s, granted)
        )
        ask.save(update_fields=["reconnected_at", "reconnected_by", "still_missing"])
        closed += 1
    return closed
