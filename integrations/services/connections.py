"""A tenant's PagerDuty connection: connect, disconnect, keep alive.

Tokens are only ever written here and in `tokens.py` (refresh), encrypted,
into `Connection`; audit events name the connection and a reason code,
never a token.
"""

import logging
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from integrations.exceptions import PagerDutyUnavailable
from integrations.models import (
    AuditAction,
    Connection,
    OAuthClient,
    Provider,
    Tenant,
)
from integrations.pagerduty import scopes as pd_scopes
from integrations.pagerduty.flow import ConnectError, Reason
from integrations.services.audit import audit_record
from integrations.services.tokens import (
    REFRESH_TOKEN_LIFETIME,
    ConnectionNeedsReconnect,
    connection_refresh_tokens,
    known_scopes,
)

logger = logging.getLogger(__name__)

# Refresh idle connections well before their refresh token's 30 days run out.
KEEP_ALIVE_AFTER = timedelta(days=7)


def _live_or_latest(tenant: Tenant) -> Connection | None:
    """Return the tenant's live connection, else its most recent revoked one."""
    rows = Connection.objects.select_for_update().filter(
        tenant=tenant, provider=Provider.PAGERDUTY
    )
    live = rows.exclude(status=Connection.Status.REVOKED).first()
    if live is not None:
        return live
    return rows.order_by("-updated_at", "-pk").first()


@transaction.atomic
def connection_save_from_connect(
    *,
    tenant: Tenant,
    oauth_client: OAuthClient,
    actor,
    access_token: str,
    refresh_token: str,
    expires_at,
    connect_data: dict,
) -> Connection:
    """Store a completed connect in the tenant's one connection record.

    Reconnecting updates the same record. Raise `ConnectError` (and write
    nothing) when the PagerDuty account is not the app's or differs from
    the one already connected.
    """
    found = connect_data["identity"]
    user = connect_data["user"]
    if oauth_client.subdomain and found["subdomain"] != oauth_client.subdomain:
        raise ConnectError(
            Reason.OTHER_ACCOUNT,
            subdomain=found["subdomain"],
            expected=oauth_client.subdomain,
        )
    connection = _live_or_latest(tenant)
    is_live = connection is not None and connection.status != (
        Connection.Status.REVOKED
    )
    if is_live and connection.account_id not in ("", found["account_id"]):
        raise ConnectError(
            Reason.ACCOUNT_CHANGED,
            subdomain=found["subdomain"],
            current=connection.subdomain or connection.account_id,
        )
    creating = not is_live
    if connection is None:
        connection = Connection(tenant=tenant, provider=Provider.PAGERDUTY)
    now = timezone.now()
    connection.oauth_client = oauth_client
    connection.account_id = found["account_id"]
    connection.subdomain = found["subdomain"]
    connection.region = found["region"]
    connection.api_url = found["api_url"]
    connection.delegation_id = found["delegation_id"]
    connection.pd_user_id = str(user["id"])[:40]
    connection.pd_user_name = str(user.get("name") or "")[:200]
    connection.pd_user_email = _valid_email(user.get("email"))
    connection.access_token = access_token
    connection.refresh_token = refresh_token
    connection.access_expires_at = expires_at
    connection.refresh_expires_at = now + REFRESH_TOKEN_LIFETIME
    connection.granted_scopes = known_scopes(connect_data["granted_scope"])
    connection.requested_scopes = pd_scopes.canonical(
        pd_scopes.split(connect_data["requested_scope"])
    )
    connection.status = Connection.Status.ACTIVE
    connection.last_error = ""
    connection.connected_by = actor
    connection.connected_at = now
    connection.refreshed_at = now
    connection.full_clean()
    connection.save()
    audit_record(
        actor=actor,
        action=(
            AuditAction.CONNECTION_CREATED
            if creating
            else AuditAction.CONNECTION_RECONNECTED
        ),
        target=str(connection),
        environment=tenant.environment,
        tenant=tenant,
        details={
            "connection_id": connection.pk,
            "account_id": connection.account_id,
            "subdomain": connection.subdomain,
            "pd_user_id": connection.pd_user_id,
        },
    )
    # After commit: a PagerDuty call must not hold the row lock, and a
    # subscription must not outlive a connect that rolled back. Failures
    # are recorded on the subscription; the connect itself stands.
    transaction.on_commit(
        partial(_subscribe_webhooks, connection_id=connection.pk, actor=actor),
        robust=True,
    )
    return connection


def _subscribe_webhooks(*, connection_id: int, actor) -> None:
    from integrations.services.webhooks import webhook_subscription_ensure

    connection = Connection.objects.select_related("tenant__environment").get(
        pk=connection_id
    )
    webhook_subscription_ensure(connection=connection, actor=actor)


def _valid_email(value) -> str:
    if not isinstance(value, str) or len(value) > 254:
        return ""
    try:
        validate_email(value)
    except ValidationError:
        return ""
    return value


def connection_disconnect(*, connection: Connection, actor) -> Connection:
    """Delete the connection's tokens and mark it revoked; audit it.

    Its webhook subscription is deleted first, while the token still works.
    PagerDuty documents no token revocation endpoint (NOTES §1
    "Revocation"), so the tenant page tells admins what to do in PagerDuty.
    """
    from integrations.services.webhooks import webhook_subscription_remove

    webhook_subscription_remove(connection=connection, actor=actor)
    return _disconnect(connection=connection, actor=actor)


@transaction.atomic
def _disconnect(*, connection: Connection, actor) -> Connection:
    locked = Connection.objects.select_for_update().get(pk=connection.pk)
    locked.access_token = ""
    locked.refresh_token = ""
    locked.access_expires_at = None
    locked.refresh_expires_at = None
    locked.status = Connection.Status.REVOKED
    locked.last_error = ""
    locked.save()
    audit_record(
        actor=actor,
        action=AuditAction.CONNECTION_DISCONNECTED,
        target=str(locked),
        environment=locked.tenant.environment,
        tenant=locked.tenant,
        details={"connection_id": locked.pk, "subdomain": locked.subdomain},
    )
    return locked


@dataclass
class KeepAliveResult:
    refreshed: int = 0
    needs_reconnect: int = 0
    unavailable: int = 0


def connection_keep_alive(*, idle_for: timedelta = KEEP_ALIVE_AFTER) -> KeepAliveResult:
    """Refresh active connections whose tokens were not refreshed lately.

    PagerDuty drops a Scoped refresh token unused for 30 days (NOTES §0.4),
    so an idle tenant would silently need a reconnect; run this daily.
    """
    result = KeepAliveResult()
    cutoff = timezone.now() - idle_for
    due = (
        Connection.objects.filter(
            provider=Provider.PAGERDUTY, status=Connection.Status.ACTIVE
        )
        .filter(Q(refreshed_at__lt=cutoff) | Q(refreshed_at__isnull=True))
        .order_by("refreshed_at", "pk")
    )
    for connection in due:
        try:
            connection_refresh_tokens(connection=connection, force=True)
        except ConnectionNeedsReconnect:
            result.needs_reconnect += 1
        except PagerDutyUnavailable:
            result.unavailable += 1
        else:
            result.refreshed += 1
    return result
