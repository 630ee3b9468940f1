"""Environment settings staff change in the portal."""

from django.db import transaction

from integrations.models import AuditAction, Environment
from integrations.services.audit import audit_record


@transaction.atomic
def environment_set_gateway_url(
    *, environment: Environment, gateway_url: str, actor
) -> Environment:
    """Set the environment's gateway base URL (its redirect URL's base).

    Empty means the portal's own PORTAL_BASE_URL. Audited when it changes,
    naming the field and whether the default is used, not the address.
    """
    locked = Environment.objects.select_for_update().get(pk=environment.pk)
    if locked.gateway_url == gateway_url:
        return locked
    locked.gateway_url = gateway_url
    locked.full_clean()
    locked.save(update_fields=["gateway_url"])
    audit_record(
        actor=actor,
        action=AuditAction.ENVIRONMENT_GATEWAY_CHANGED,
        target=str(locked),
        environment=locked,
        details={"field": "gateway_url", "uses_portal_base_url": not gateway_url},
    )
    return locked
