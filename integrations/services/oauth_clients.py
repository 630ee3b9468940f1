"""Writes to OAuth app settings; each change is audited by field name."""

from django.db import transaction

from integrations.models import AuditAction, OAuthClient
from integrations.services.audit import audit_record

# Fields whose changes are audited by name; values never enter the log.
AUDITED_CLIENT_FIELDS = ("client_id", "scopes", "enabled", "region", "subdomain")


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
