"""Writes that span rows or record an audit event."""

from django.db import transaction

from integrations.models import AuditAction, AuditEvent, OAuthClient

# Fields whose changes are audited by name; values never enter the log.
AUDITED_CLIENT_FIELDS = ("client_id", "scopes", "enabled", "region", "subdomain")


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


@transaction.atomic
def oauth_client_save(
    *,
    client: OAuthClient,
    actor,
    new_secret: str = "",
    changed_fields: list[str] | tuple[str, ...] = (),
) -> OAuthClient:
    """Validate and save an app's settings; audit which fields changed.

    `client` carries the new field values; `new_secret`, when given,
    replaces the stored client secret (an empty string keeps it).
    """
    creating = client.pk is None
    if new_secret:
        client.set_client_secret(new_secret)
    if actor is not None and actor.is_authenticated:
        client.updated_by = actor
    client.full_clean()
    client.save()

    changed = sorted(f for f in changed_fields if f in AUDITED_CLIENT_FIELDS)
    target = str(client)
    if creating:
        audit_record(
            actor=actor,
            action=AuditAction.CONFIG_CREATED,
            target=target,
            environment=client.environment,
            tenant=client.tenant,
            details={"fields": changed},
        )
    elif changed:
        audit_record(
            actor=actor,
            action=AuditAction.CONFIG_UPDATED,
            target=target,
            environment=client.environment,
            tenant=client.tenant,
            details={"fields": changed},
        )
    if new_secret and not creating:
        audit_record(
            actor=actor,
            action=AuditAction.CONFIG_SECRET_REPLACED,
            target=target,
            environment=client.environment,
            tenant=client.tenant,
        )
    return client
