"""Tenant settings a tenant admin controls."""

from django.db import transaction

from integrations.models import AuditAction, Tenant
from integrations.services.audit import audit_record


@transaction.atomic
def tenant_set_member_reads(*, tenant: Tenant, allowed: bool, actor) -> Tenant:
    """Let members without a link read through the tenant connection, or not.

    Writes never go through it, whatever this says. Audited when it changes.
    """
    locked = Tenant.objects.select_for_update().get(pk=tenant.pk)
    if locked.members_read_through_tenant == allowed:
        return locked
    locked.members_read_through_tenant = allowed
    locked.save(update_fields=["members_read_through_tenant"])
    audit_record(
        actor=actor,
        action=AuditAction.TENANT_READ_SETTING,
        target=str(locked),
        environment=locked.environment,
        tenant=locked,
        details={"members_read_through_tenant": allowed},
    )
    return locked
