"""Tenants' own PagerDuty apps: the environment's switch, a tenant admin's
app, and staff turning one off. Every change is audited.

Tokens belong to the app that issued them, so whenever the app a tenant
connects through changes, its connections made through another app are
flagged *Needs reconnect* (they would keep refreshing with an app the
tenant or staff no longer want used).
"""

import logging

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from integrations import validators
from integrations.models import (
    AuditAction,
    Connection,
    Environment,
    OAuthClient,
    Tenant,
)
from integrations.pagerduty import scopes as pd_scopes
from integrations.selectors import oauth_client_get_for_tenant
from integrations.services.audit import audit_record
from integrations.services.oauth_clients import oauth_client_save

logger = logging.getLogger(__name__)


@transaction.atomic
def environment_set_tenant_apps(
    *, environment: Environment, allowed: bool, scopes: list[str], actor
) -> Environment:
    """Allow tenants' own apps in an environment or not, and their scopes.

    Raise ValidationError (nothing saved) for scopes outside PagerDuty's
    table or without the minimum.
    """
    validators.validate_scopes(scopes)
    wanted = pd_scopes.canonical(scopes)
    locked = Environment.objects.select_for_update().get(pk=environment.pk)
    before = set(locked.tenant_app_scope_list)
    allowed_changed = locked.tenant_apps_allowed != allowed
    scopes_changed = locked.tenant_app_scopes != wanted
    if not allowed_changed and not scopes_changed:
        return locked
    locked.tenant_apps_allowed = allowed
    locked.tenant_app_scopes = wanted
    locked.full_clean()
    locked.save(update_fields=["tenant_apps_allowed", "tenant_app_scopes"])
    flagged = _reconnect_off_app_connections(
        tenants=Tenant.objects.filter(
            environment=locked, oauth_clients__isnull=False
        ).distinct(),
    )
    if allowed_changed:
        audit_record(
            actor=actor,
            action=AuditAction.TENANT_APPS_ALLOWED
            if allowed
            else AuditAction.TENANT_APPS_FORBIDDEN,
            target=str(locked),
            environment=locked,
            details={"connections_to_reconnect": flagged},
        )
    if scopes_changed:
        after = set(locked.tenant_app_scope_list)
        audit_record(
            actor=actor,
            action=AuditAction.TENANT_APPS_SCOPES,
            target=str(locked),
            environment=locked,
            details={
                "added": pd_scopes.split(pd_scopes.canonical(after - before)),
                "removed": pd_scopes.split(pd_scopes.canonical(before - after)),
                "connections_to_reconnect": 0 if allowed_changed else flagged,
            },
        )
    return locked


def _check_allowance(client: OAuthClient) -> None:
    environment = client.environment
    if not environment.tenant_apps_allowed:
        raise ValidationError(
            _(
                "Your portal administrator has not allowed tenants' own "
                "PagerDuty apps in this environment."
            ),
            code="tenant_apps_off",
        )
    if client.staff_disabled:
        raise ValidationError(
            _(
                "A portal administrator turned this tenant's own PagerDuty app "
                "off; ask them to allow it again."
            ),
            code="tenant_app_blocked",
        )
    if not client.within_allowance:
        if client.is_classic:
            message = _(
                "This environment allows tenants' apps fewer scopes than a "
                "Classic app's %(scope)s covers: register a Scoped app instead."
            ) % {"scope": client.scopes}
        else:
            extra = set(client.scope_list) - set(environment.tenant_app_scope_list)
            message = _(
                "This environment does not allow tenants' apps these scopes: "
                "%(scopes)s."
            ) % {"scopes": " ".join(pd_scopes.split(pd_scopes.canonical(extra)))}
        raise ValidationError(
            {"scopes": ValidationError(message, code="scope_not_allowed")}
        )


@transaction.atomic
def tenant_app_save(
    *,
    tenant: Tenant,
    client: OAuthClient,
    actor,
    new_secret: str = "",
    changed_fields: list[str] | tuple[str, ...] = (),
) -> OAuthClient:
    """Validate and save a tenant admin's own app; audit which fields changed.

    A new app is used for the tenant's connects at once. Raise
    ValidationError (nothing saved) when the environment does not allow
    own apps, staff turned this one off, or it asks for scopes the
    environment does not allow.
    """
    if client.tenant_id != tenant.pk or client.environment_id != tenant.environment_id:
        raise ValidationError(_("This app belongs to another tenant."), code="tenant")
    creating = client.pk is None
    if creating:
        client.enabled = True
    _check_allowance(client)
    oauth_client_save(
        client=client, actor=actor, new_secret=new_secret, changed_fields=changed_fields
    )
    if creating:
        _reconnect_off_app_connections(tenants=[tenant])
    return client


@transaction.atomic
def tenant_app_set_used(*, client: OAuthClient, used: bool, actor) -> OAuthClient:
    """Connect the tenant through its own app, or back through the environment's.

    Raise ValidationError when the own app may not be used now.
    """
    locked = OAuthClient.objects.select_for_update().get(pk=client.pk)
    if locked.enabled == used:
        return locked
    if used:
        _check_allowance(locked)
        if not locked.has_secret:
            raise ValidationError(
                _("Enter the app's Client Secret first."), code="secret_required"
            )
    locked.enabled = used
    if actor is not None and actor.is_authenticated:
        locked.updated_by = actor
    locked.save(update_fields=["enabled", "updated_by", "updated_at"])
    flagged = _reconnect_off_app_connections(tenants=[locked.tenant])
    audit_record(
        actor=actor,
        action=AuditAction.TENANT_APP_USED if used else AuditAction.TENANT_APP_UNUSED,
        target=str(locked),
        environment=locked.environment,
        tenant=locked.tenant,
        details={"connections_to_reconnect": flagged},
    )
    return locked


@transaction.atomic
def tenant_app_set_blocked(*, client: OAuthClient, blocked: bool, actor) -> OAuthClient:
    """Let staff turn a tenant's own app off (or allow it again); audit it."""
    locked = OAuthClient.objects.select_for_update().get(pk=client.pk)
    if locked.tenant_id is None:
        raise ValidationError(
            _("Only a tenant's own app can be turned off here."), code="not_tenant_app"
        )
    if locked.staff_disabled == blocked:
        return locked
    locked.staff_disabled = blocked
    if actor is not None and actor.is_authenticated:
        locked.updated_by = actor
    locked.full_clean()
    locked.save(update_fields=["staff_disabled", "updated_by", "updated_at"])
    flagged = _reconnect_off_app_connections(tenants=[locked.tenant])
    audit_record(
        actor=actor,
        action=AuditAction.TENANT_APP_BLOCKED
        if blocked
        else AuditAction.TENANT_APP_UNBLOCKED,
        target=str(locked),
        environment=locked.environment,
        tenant=locked.tenant,
        details={"connections_to_reconnect": flagged},
    )
    return locked


def _reconnect_off_app_connections(*, tenants) -> int:
    """Flag live connections made through an app the tenant no longer uses.

    Return how many were flagged. Connections whose app was deleted are
    left alone: refreshing already tells them to reconnect.
    """
    flagged = 0
    for tenant in tenants:
        current = oauth_client_get_for_tenant(tenant=tenant)
        stale = (
            Connection.objects.select_for_update()
            .filter(tenant=tenant, status=Connection.Status.ACTIVE)
            .exclude(oauth_client__isnull=True)
        )
        if current is not None:
            stale = stale.exclude(oauth_client=current)
        count = stale.update(
            status=Connection.Status.NEEDS_RECONNECT,
            last_error=_(
                "This tenant now connects through another PagerDuty app; "
                "reconnect PagerDuty to use it."
            ),
        )
        if count:
            logger.info("Flagged %s connections of tenant %s", count, tenant.pk)
        flagged += count
    return flagged
