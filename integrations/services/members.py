"""A tenant's people: invitations by email, roles, removal.

Tenant admins invite by email; the link carries a 256-bit token of which
only the SHA-256 is stored. A tenant always keeps at least one admin.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from integrations.models import AuditAction, Connection, Invitation, Membership, Tenant
from integrations.services.audit import audit_record
from integrations.services.connections import link_remove

INVITATION_LIFETIME = timedelta(days=7)


def token_hash(token: str) -> str:
    """Return the stored form of an invitation link's token."""
    return hashlib.sha256(token.encode()).hexdigest()


def _audit(action, *, actor, tenant: Tenant, target: str, details: dict) -> None:
    audit_record(
        actor=actor,
        action=action,
        target=target,
        environment=tenant.environment,
        tenant=tenant,
        details=details,
    )


@transaction.atomic
def invitation_create(
    *, tenant: Tenant, email: str, role: str, actor, accept_url
) -> Invitation:
    """Invite `email` to the tenant with `role` and email them the link.

    `accept_url(token)` returns the absolute link. A new invitation to the
    same address replaces the open one. Raise ValidationError when the
    address already belongs to a member.
    """
    email = email.strip()
    if Membership.objects.filter(tenant=tenant, user__email__iexact=email).exists():
        raise ValidationError(
            _("%(email)s is already a member of %(tenant)s.")
            % {"email": email, "tenant": tenant.name},
            code="already_member",
        )
    if role not in Membership.Role.values:
        raise ValidationError(_("Choose a role."), code="role")
    now = timezone.now()
    Invitation.objects.filter(
        tenant=tenant,
        email__iexact=email,
        accepted_at__isnull=True,
        revoked_at__isnull=True,
    ).update(revoked_at=now)
    token = secrets.token_urlsafe(32)
    invitation = Invitation(
        tenant=tenant,
        email=email,
        role=role,
        token_hash=token_hash(token),
        invited_by=actor,
        created_at=now,
        expires_at=now + INVITATION_LIFETIME,
    )
    invitation.full_clean()
    invitation.save()
    _audit(
        AuditAction.MEMBER_INVITED,
        actor=actor,
        tenant=tenant,
        target=str(tenant),
        details={"invitation_id": invitation.pk, "role": role},
    )
    context = {
        "tenant": tenant,
        "role": invitation.get_role_display(),
        "inviter": actor.get_username(),
        "url": accept_url(token),
        "expires_at": invitation.expires_at,
    }
    send_mail(
        render_to_string("integrations/email/invitation_subject.txt", context).strip(),
        render_to_string("integrations/email/invitation_body.txt", context),
        settings.DEFAULT_FROM_EMAIL,
        [email],
    )
    return invitation


def invitation_get_pending(*, token: str) -> Invitation | None:
    """Return the open, unexpired invitation a link's token names, if any."""
    if not isinstance(token, str) or not 20 <= len(token) <= 100:
        return None
    invitation = (
        Invitation.objects.select_related("tenant__environment")
        .filter(token_hash=token_hash(token))
        .first()
    )
    return invitation if invitation is not None and invitation.is_pending else None


@transaction.atomic
def invitation_accept(*, invitation: Invitation, user) -> Membership:
    """Make `user` a member with the invitation's role; the link is spent.

    The signed-in person's email must be the invited address: a forwarded
    link does not let someone else in.
    """
    locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if not locked.is_pending:
        raise ValidationError(_("This invitation is no longer valid."), code="spent")
    if (user.email or "").casefold() != locked.email.casefold():
        raise ValidationError(
            _("This invitation is for %(email)s; you are signed in as %(other)s.")
            % {"email": locked.email, "other": user.email or user.get_username()},
            code="other_email",
        )
    membership, created = Membership.objects.get_or_create(
        user=user, tenant=locked.tenant, defaults={"role": locked.role}
    )
    locked.accepted_at = timezone.now()
    locked.accepted_by = user
    locked.save(update_fields=["accepted_at", "accepted_by"])
    _audit(
        AuditAction.MEMBER_JOINED,
        actor=user,
        tenant=locked.tenant,
        target=str(locked.tenant),
        details={
            "invitation_id": locked.pk,
            "role": membership.role,
            "new_member": created,
        },
    )
    return membership


@transaction.atomic
def invitation_accept_with_new_account(
    *, invitation: Invitation, username: str, password: str
):
    """Create the invited person's account (email from the invitation), join.

    Raise ValidationError when the username is taken or the password weak.
    """
    from allauth.account.models import EmailAddress
    from django.contrib.auth.password_validation import validate_password

    users = get_user_model()
    if users.objects.filter(email__iexact=invitation.email).exists():
        raise ValidationError(
            _("An account with this email exists: sign in to accept."),
            code="has_account",
        )
    if users.objects.filter(username__iexact=username).exists():
        raise ValidationError(_("That username is taken."), code="username_taken")
    user = users(username=username, email=invitation.email)
    validate_password(password, user)
    user.set_password(password)
    user.full_clean()
    user.save()
    # The link reached this address, so it is verified.
    EmailAddress.objects.create(
        user=user, email=invitation.email, verified=True, primary=True
    )
    invitation_accept(invitation=invitation, user=user)
    return user


@transaction.atomic
def invitation_revoke(*, invitation: Invitation, actor) -> Invitation:
    """Withdraw an open invitation; its link stops working."""
    locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if locked.accepted_at is None and locked.revoked_at is None:
        locked.revoked_at = timezone.now()
        locked.save(update_fields=["revoked_at"])
        _audit(
            AuditAction.INVITATION_REVOKED,
            actor=actor,
            tenant=locked.tenant,
            target=str(locked.tenant),
            details={"invitation_id": locked.pk},
        )
    return locked


def _other_admins(membership: Membership) -> bool:
    return (
        Membership.objects.filter(
            tenant_id=membership.tenant_id, role=Membership.Role.ADMIN
        )
        .exclude(pk=membership.pk)
        .exists()
    )


@transaction.atomic
def membership_set_role(*, membership: Membership, role: str, actor) -> Membership:
    """Make a member an admin or a member; the last admin stays one."""
    locked = (
        Membership.objects.select_for_update()
        .select_related("tenant__environment", "user")
        .get(pk=membership.pk)
    )
    if role not in Membership.Role.values:
        raise ValidationError(_("Choose a role."), code="role")
    if locked.role == role:
        return locked
    if locked.is_admin and not _other_admins(locked):
        raise ValidationError(
            _("%(tenant)s needs at least one admin: make someone else admin first.")
            % {"tenant": locked.tenant.name},
            code="last_admin",
        )
    before = locked.role
    locked.role = role
    locked.full_clean()
    locked.save(update_fields=["role"])
    _audit(
        AuditAction.MEMBER_ROLE_CHANGED,
        actor=actor,
        tenant=locked.tenant,
        target=locked.user.get_username(),
        details={"membership_id": locked.pk, "from": before, "to": role},
    )
    return locked


@transaction.atomic
def membership_remove(*, membership: Membership, actor) -> None:
    """Take someone out of the tenant; their PagerDuty link ends with it."""
    locked = (
        Membership.objects.select_for_update()
        .select_related("tenant__environment", "user")
        .get(pk=membership.pk)
    )
    if locked.is_admin and not _other_admins(locked):
        raise ValidationError(
            _("%(tenant)s needs at least one admin: make someone else admin first.")
            % {"tenant": locked.tenant.name},
            code="last_admin",
        )
    links = Connection.objects.filter(tenant=locked.tenant, user=locked.user).exclude(
        status=Connection.Status.REVOKED
    )
    for link in links:
        link_remove(link=link, actor=actor)
    username = locked.user.get_username()
    locked.delete()
    _audit(
        AuditAction.MEMBER_REMOVED,
        actor=actor,
        tenant=membership.tenant,
        target=username,
        details={"membership_id": membership.pk},
    )
