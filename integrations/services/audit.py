"""The audit trail: who changed what, and when."""

from integrations.models import AuditEvent


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
