"""Held tool calls: create, decide, redeem once (MCP-GATEWAY.md M22, M28).

A held call makes no PagerDuty call. It becomes an Approval bound to the
tenant, the person, the agent, the tool and the canonical arguments; the
tenant's admins are emailed and decide in the portal. The agent's retry
with the approval id runs the call only if everything matches, before
expiry, once: `approval_redeem` flips approved → used in one conditional
UPDATE, so two concurrent retries cannot both win.
"""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q, QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from integrations.gateway.models import AgentAuthorization, Approval
from integrations.gateway.policies import arguments_hash
from integrations.models import AuditAction, Membership, Tenant
from integrations.services.audit import audit_record

logger = logging.getLogger(__name__)

Status = Approval.Status


class ApprovalRefused(Exception):
    """The retry's approval id does not let this call run; `code` says why."""

    def __init__(self, message: str, code: str):
        super().__init__(message)
        self.code = code


def approval_url(approval: Approval) -> str:
    path = reverse(
        "gateway:approval_detail",
        kwargs={"tenant_id": approval.tenant_id, "approval_id": approval.public_id},
    )
    return f"{approval.tenant.environment.base_url.rstrip('/')}{path}"


def approval_create(
    *,
    authorization: AgentAuthorization,
    tool: str,
    arguments: dict,
    reason: str,
    self_approval: bool = False,
) -> Approval:
    """Hold a call for a tenant admin's decision and email the admins."""
    now = timezone.now()
    approval = Approval(
        public_id=f"apr_{secrets.token_urlsafe(18)}",
        tenant=authorization.tenant,
        user=authorization.user,
        client=authorization.client,
        authorization=authorization,
        tool=tool,
        arguments=arguments,
        arguments_hash=arguments_hash(arguments),
        reason=reason[:500],
        self_approval=self_approval,
        created_at=now,
        expires_at=now + timedelta(seconds=settings.MCP_APPROVAL_SECONDS),
    )
    approval.full_clean()
    approval.save()
    _notify_admins(approval)
    return approval


def _notify_admins(approval: Approval) -> None:
    emails = list(
        Membership.objects.filter(tenant=approval.tenant, role=Membership.Role.ADMIN)
        .exclude(user__email="")
        .values_list("user__email", flat=True)
    )
    if not emails:
        return
    context = {"approval": approval, "url": approval_url(approval)}
    try:
        send_mail(
            render_to_string("gateway/email/approval_subject.txt", context).strip(),
            render_to_string("gateway/email/approval_body.txt", context),
            settings.DEFAULT_FROM_EMAIL,
            emails,
        )
    except Exception:
        # The call stays held and visible in the portal; the mail is a nudge.
        logger.exception("Could not email the admins about approval %s", approval.pk)


def approval_list(*, tenant: Tenant) -> QuerySet[Approval]:
    return Approval.objects.filter(tenant=tenant).select_related("user", "client")


def approval_pending_list(*, tenant: Tenant) -> QuerySet[Approval]:
    """Return the held calls still waiting for a decision."""
    return approval_list(tenant=tenant).filter(
        status=Status.PENDING, expires_at__gt=timezone.now()
    )


def approval_pending_subquery():
    """Return a subquery counting a membership's tenant's pending approvals."""
    from django.db.models import Count, IntegerField, OuterRef, Subquery
    from django.db.models.functions import Coalesce

    pending = (
        Approval.objects.filter(
            tenant_id=OuterRef("tenant_id"),
            status=Status.PENDING,
            expires_at__gt=timezone.now(),
        )
        .order_by()
        .values("tenant_id")
        .annotate(n=Count("id"))
        .values("n")
    )
    return Coalesce(Subquery(pending, output_field=IntegerField()), 0)


def approval_get(*, tenant: Tenant, public_id: str) -> Approval | None:
    if not isinstance(public_id, str) or len(public_id) > 40:
        return None
    return approval_list(tenant=tenant).filter(public_id=public_id).first()


def may_decide(*, approval: Approval, membership: Membership) -> bool:
    """Whether this member may approve or reject (M28)."""
    if not membership.is_admin or membership.tenant_id != approval.tenant_id:
        return False
    return approval.user_id != membership.user_id or approval.self_approval


@transaction.atomic
def approval_decide(
    *, approval: Approval, actor, approve: bool, reason: str
) -> Approval:
    """Approve or reject a pending call; refuse anything but pending, in time."""
    now = timezone.now()
    updated = Approval.objects.filter(
        pk=approval.pk, status=Status.PENDING, expires_at__gt=now
    ).update(
        status=Status.APPROVED if approve else Status.REJECTED,
        decided_at=now,
        decided_by=actor,
        decision_reason=reason[:500],
    )
    approval.refresh_from_db()
    if updated != 1:
        raise ApprovalRefused(
            _("This call is no longer waiting for a decision."), code="not_pending"
        )
    audit_record(
        actor=actor,
        action=AuditAction.AGENT_CALL_APPROVED
        if approve
        else AuditAction.AGENT_CALL_REJECTED,
        target=approval.tool,
        environment=approval.tenant.environment,
        tenant=approval.tenant,
        details={
            "approval": approval.public_id,
            "tool": approval.tool,
            "requested_by": approval.user.get_username(),
            "client_id": approval.client.client_id,
        },
    )
    return approval


def approval_redeem(
    *, public_id, authorization: AgentAuthorization, tool: str, arguments: dict
) -> Approval:
    """Spend an approval on this exact call, once; raise ApprovalRefused if not."""
    approval = (
        Approval.objects.filter(
            public_id=public_id, tenant=authorization.tenant_id
        ).first()
        if isinstance(public_id, str) and len(public_id) <= 40
        else None
    )
    if approval is None or not (
        approval.user_id == authorization.user_id
        and approval.client_id == authorization.client_id
        and approval.tool == tool
        and approval.arguments_hash == arguments_hash(arguments)
    ):
        # Another person's, agent's, tool's or argument set's id: one answer.
        raise ApprovalRefused(
            _(
                "This approval id does not match this call: an approval runs "
                "only the same tool with the same arguments, for the same "
                "person and agent."
            ),
            code="approval_mismatch",
        )
    status = approval.effective_status
    if status == Status.PENDING:
        raise ApprovalRefused(
            _("A tenant admin has not approved this call yet; try again later."),
            code="approval_pending",
        )
    if status != Status.APPROVED:
        messages = {
            Status.REJECTED: _("A tenant admin rejected this call: %(reason)s"),
            Status.USED: _("This approval was already used; it runs a call once."),
            Status.EXPIRED: _(
                "This approval expired; call the tool again to ask anew."
            ),
        }
        raise ApprovalRefused(
            messages[status] % {"reason": approval.decision_reason or "-"}
            if status == Status.REJECTED
            else messages[status],
            code=f"approval_{status}",
        )
    now = timezone.now()
    spent = Approval.objects.filter(
        Q(pk=approval.pk, status=Status.APPROVED, expires_at__gt=now)
    ).update(status=Status.USED, used_at=now)
    if spent != 1:
        raise ApprovalRefused(
            _("This approval was already used; it runs a call once."),
            code="approval_used",
        )
    return approval


def held_result(approval: Approval) -> dict:
    """Return what the agent reads for a held call: what runs and how to retry."""
    return {
        "status": "held",
        "reason": approval.reason,
        "approval": {
            "id": approval.public_id,
            "tool": approval.tool,
            "arguments": approval.arguments,
            "expires_at": approval.expires_at.isoformat(),
            "url": approval_url(approval),
        },
        "retry": _(
            "A tenant admin must approve this call in the portal. Then call "
            "%(tool)s again with the same arguments plus "
            '"approval_id": "%(id)s"; it runs once, before %(when)s.'
        )
        % {
            "tool": approval.tool,
            "id": approval.public_id,
            "when": approval.expires_at.strftime("%Y-%m-%d %H:%M UTC"),
        },
    }
