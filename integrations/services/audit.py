"""The audit trail: who changed what, and when."""

from integrations.models import AuditAction, AuditEvent


def audit_record(
    *,
    actor,
    action: str,
    target: str = "",
    environment=None,
    tenant=None,
    details: dict | None = None,
) -> AuditEvent:
    """Record who did what; `details` must hold names and ids, not secrets."""
    user = actor if actor is not None and actor.is_authenticated else None
    event = AuditEvent(
        actor=user,
        actor_label=user.get_username() if user else "system",
        action=action,
        target=target[:200],
        environment=environment,
        tenant=tenant,
        details=details or {},
    )
    event.full_clean()
    event.save()
    return event


def audit_connect_state_invalid(
    *, actor, tenant=None, state_sent: bool, provider_error: bool
) -> AuditEvent:
    """Record a PagerDuty callback whose state matched no connect in progress.

    Only safe facts are kept; the state, the code and any other parameter
    stay out of the trail.
    """
    return audit_record(
        actor=actor,
        action=AuditAction.CONNECT_STATE_INVALID,
        target=str(tenant) if tenant is not None else "",
        environment=tenant.environment if tenant is not None else None,
        tenant=tenant,
        details={
            "state": "sent" if state_sent else "missing",
            "provider_error": provider_error,
        },
    )
